"""Storage scaler: grows MSK broker storage before disks fill (alarm, sweep or on-demand)."""

from msk_autopilot.events import AlarmStateChange, EventParser, ScaleRequest, ScheduledEvent
from msk_autopilot.outcome import Outcome, Status
from msk_autopilot.runtime import LambdaContext, lambda_entry
from msk_autopilot.settings import StorageScalerSettings, load

SETTINGS = load(StorageScalerSettings)
parse = EventParser(AlarmStateChange, ScheduledEvent, ScaleRequest)


@lambda_entry(parse, settings=SETTINGS, correlation_id_path="id")
def lambda_handler(
    event: AlarmStateChange | ScheduledEvent | ScaleRequest, context: LambdaContext
) -> Outcome:
    return Outcome(Status.SKIPPED, "storage scaling lands with issue #4", {"event": event.KIND})
