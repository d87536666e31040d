"""Broker scaler: sizes MSK brokers up, down, out and in (schedule, load alarm or on-demand)."""

from msk_autopilot import coldstart

coldstart.begin()  # no cyclic collection until the first invocation ends

from msk_autopilot.aws import ClientFactory
from msk_autopilot.capacity.scaler import BrokerEvent, build_broker_scaler
from msk_autopilot.events import AlarmStateChange, EventParser, ScaleRequest, ScheduledEvent
from msk_autopilot.outcome import Outcome
from msk_autopilot.runtime import LambdaContext, lambda_entry
from msk_autopilot.settings import BrokerScalerSettings, load

SETTINGS = load(BrokerScalerSettings)
SCALER = build_broker_scaler(SETTINGS, ClientFactory.for_settings(SETTINGS))
parse = EventParser(AlarmStateChange, ScheduledEvent, ScaleRequest, acts_at_event_time=True)


@lambda_entry(parse, settings=SETTINGS, correlation_id_path="id")
def lambda_handler(event: BrokerEvent, context: LambdaContext) -> Outcome:
    return SCALER.handle(event, context)
