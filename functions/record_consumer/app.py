"""Record consumer: decodes, validates and archives MSK records without losing any.

Good records go to the sink (S3 archive, EventBridge or nowhere), poison records to the
failure bucket's quarantine, and a partial batch response names, per partition, the first
offset Lambda must redeliver.
"""

from msk_autopilot import coldstart

coldstart.begin()  # no cyclic collection until the first invocation ends

from msk_autopilot.aws import ClientFactory
from msk_autopilot.consume import BatchResult, KafkaBatch, build_pipeline, parse_kafka_event
from msk_autopilot.runtime import LambdaContext, lambda_entry
from msk_autopilot.settings import RecordConsumerSettings, load

SETTINGS = load(RecordConsumerSettings)
CLIENTS = ClientFactory(
    region=SETTINGS.region, retry_mode=SETTINGS.retry_mode, max_attempts=SETTINGS.max_attempts
)
PIPELINE = build_pipeline(SETTINGS, CLIENTS)


@lambda_entry(parse_kafka_event, settings=SETTINGS)
def lambda_handler(event: KafkaBatch, context: LambdaContext) -> BatchResult:
    return PIPELINE.process(event)
