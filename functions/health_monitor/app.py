"""Health monitor: keeps every opted-in cluster's alarms, dashboard and broker-log watch."""

from msk_autopilot import coldstart

coldstart.begin()  # no cyclic collection until the first invocation ends

from msk_autopilot.aws import ClientFactory
from msk_autopilot.events import CloudTrailApiCall, EventParser, ScheduledEvent
from msk_autopilot.health.monitor import MonitorEvent, build_health_monitor
from msk_autopilot.outcome import Outcome
from msk_autopilot.runtime import LambdaContext, lambda_entry
from msk_autopilot.settings import HealthMonitorSettings, load

SETTINGS = load(HealthMonitorSettings)
MONITOR = build_health_monitor(SETTINGS, ClientFactory.for_settings(SETTINGS))
parse = EventParser(ScheduledEvent, CloudTrailApiCall)


@lambda_entry(parse, settings=SETTINGS, correlation_id_path="id")
def lambda_handler(event: MonitorEvent, context: LambdaContext) -> Outcome:
    return MONITOR.handle(event, context)
