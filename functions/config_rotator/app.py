"""Configuration rotator: reconciles MSK configurations with the desired server.properties."""

from msk_autopilot import coldstart

coldstart.begin()  # no cyclic collection until the first invocation ends

from msk_autopilot.aws import ClientFactory
from msk_autopilot.config.rollout import RotatorEvent, build_config_rotator
from msk_autopilot.events import (
    CloudTrailApiCall,
    EventParser,
    ParameterStoreChange,
    ScheduledEvent,
)
from msk_autopilot.outcome import Outcome
from msk_autopilot.runtime import LambdaContext, lambda_entry
from msk_autopilot.settings import ConfigRotatorSettings, load

SETTINGS = load(ConfigRotatorSettings)
ROTATOR = build_config_rotator(SETTINGS, ClientFactory.for_settings(SETTINGS))
parse = EventParser(ScheduledEvent, ParameterStoreChange, CloudTrailApiCall)


@lambda_entry(parse, settings=SETTINGS, correlation_id_path="id")
def lambda_handler(event: RotatorEvent, context: LambdaContext) -> Outcome:
    return ROTATOR.handle(event, context)
