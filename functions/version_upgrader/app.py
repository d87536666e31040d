"""Version upgrader: keeps every opted-in cluster on a supported Kafka version, canary first."""

from msk_autopilot import coldstart

coldstart.begin()  # no cyclic collection until the first invocation ends

from msk_autopilot.aws import ClientFactory
from msk_autopilot.events import CloudTrailApiCall, EventParser, ScheduledEvent
from msk_autopilot.outcome import Outcome
from msk_autopilot.runtime import LambdaContext, lambda_entry
from msk_autopilot.settings import VersionUpgraderSettings, load
from msk_autopilot.versions.upgrader import UpgraderEvent, build_version_upgrader

SETTINGS = load(VersionUpgraderSettings)
UPGRADER = build_version_upgrader(SETTINGS, ClientFactory.for_settings(SETTINGS))
parse = EventParser(ScheduledEvent, CloudTrailApiCall, acts_at_event_time=True)


@lambda_entry(parse, settings=SETTINGS, correlation_id_path="id")
def lambda_handler(event: UpgraderEvent, context: LambdaContext) -> Outcome:
    return UPGRADER.handle(event, context)
