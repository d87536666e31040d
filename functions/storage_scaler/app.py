"""Storage scaler: grows MSK broker storage before disks fill (alarm, sweep or on-demand)."""

from msk_autopilot import coldstart

coldstart.begin()  # no cyclic collection until the first invocation ends

from msk_autopilot.aws import ClientFactory
from msk_autopilot.events import AlarmStateChange, EventParser, ScaleRequest, ScheduledEvent
from msk_autopilot.outcome import Outcome
from msk_autopilot.runtime import LambdaContext, lambda_entry
from msk_autopilot.settings import StorageScalerSettings, load
from msk_autopilot.storage.scaler import StorageEvent, build_storage_scaler

SETTINGS = load(StorageScalerSettings)
SCALER = build_storage_scaler(SETTINGS, ClientFactory.for_settings(SETTINGS))
parse = EventParser(AlarmStateChange, ScheduledEvent, ScaleRequest, acts_at_event_time=True)


@lambda_entry(parse, settings=SETTINGS, correlation_id_path="id")
def lambda_handler(event: StorageEvent, context: LambdaContext) -> Outcome:
    return SCALER.handle(event, context)
