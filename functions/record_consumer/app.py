"""Record consumer: decodes, validates and archives MSK records without losing any.

Good records go to the sink (S3 archive, EventBridge or nowhere), poison records to the
failure bucket's quarantine, and a partial batch response names, per partition, the first
offset Lambda must redeliver.
"""

from msk_autopilot import coldstart

coldstart.begin()  # no cyclic collection until the first invocation ends

from msk_autopilot.aws import ClientFactory
from msk_autopilot.consume import (
    BatchResult,
    KafkaBatch,
    build_record_consumer,
    parse_kafka_event,
)
from msk_autopilot.runtime import LambdaContext, lambda_entry
from msk_autopilot.settings import RecordConsumerSettings, load

SETTINGS = load(RecordConsumerSettings)
CONSUMER = build_record_consumer(SETTINGS, ClientFactory.for_settings(SETTINGS))


@lambda_entry(parse_kafka_event, settings=SETTINGS)
def lambda_handler(event: KafkaBatch, context: LambdaContext) -> BatchResult:
    return CONSUMER.handle(event, context)
