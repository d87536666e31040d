"""SCRAM rotator: the Secrets Manager rotation function for AmazonMSK_ secrets."""

from msk_autopilot import coldstart

coldstart.begin()  # no cyclic collection until the first invocation ends

from msk_autopilot.aws import ClientFactory
from msk_autopilot.events import EventParser, SecretRotationStep
from msk_autopilot.outcome import Outcome
from msk_autopilot.runtime import LambdaContext, lambda_entry
from msk_autopilot.scram.rotation import build_scram_rotator
from msk_autopilot.settings import ScramRotatorSettings, load

SETTINGS = load(ScramRotatorSettings)
ROTATOR = build_scram_rotator(SETTINGS, ClientFactory.for_settings(SETTINGS))
parse = EventParser(SecretRotationStep)


@lambda_entry(parse, settings=SETTINGS, correlation_id_path="ClientRequestToken")
def lambda_handler(event: SecretRotationStep, context: LambdaContext) -> Outcome:
    return ROTATOR.handle(event, context)
