"""SCRAM rotator: the Secrets Manager rotation function for AmazonMSK_ secrets."""

from msk_autopilot.events import EventParser, SecretRotationStep
from msk_autopilot.outcome import Outcome, Status
from msk_autopilot.runtime import LambdaContext, lambda_entry
from msk_autopilot.settings import ScramRotatorSettings, load

SETTINGS = load(ScramRotatorSettings)
parse = EventParser(SecretRotationStep)


@lambda_entry(parse, settings=SETTINGS, correlation_id_path="ClientRequestToken")
def lambda_handler(event: SecretRotationStep, context: LambdaContext) -> Outcome:
    return Outcome(Status.SKIPPED, "SCRAM rotation lands with issue #5", {"step": event.step})
