"""Security auditor: audits every MSK cluster and fixes what is safe to fix.

A schedule audits every cluster of the configured accounts and Regions; a CloudTrail event for a
kafka call that changes security re-audits just the cluster it names.
"""

from msk_autopilot import coldstart

coldstart.begin()  # no cyclic collection until the first invocation ends

from msk_autopilot.audit.runner import build_security_auditor
from msk_autopilot.aws import ClientFactory
from msk_autopilot.events import CloudTrailApiCall, EventParser, ScheduledEvent
from msk_autopilot.outcome import Outcome
from msk_autopilot.runtime import LambdaContext, lambda_entry
from msk_autopilot.settings import SecurityAuditorSettings, load

SETTINGS = load(SecurityAuditorSettings)
AUDITOR = build_security_auditor(SETTINGS, ClientFactory.for_settings(SETTINGS))
parse = EventParser(ScheduledEvent, CloudTrailApiCall)


@lambda_entry(parse, settings=SETTINGS, correlation_id_path="id")
def lambda_handler(event: ScheduledEvent | CloudTrailApiCall, context: LambdaContext) -> Outcome:
    return AUDITOR.handle(event, context)
