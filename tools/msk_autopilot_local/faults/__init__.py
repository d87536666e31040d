"""The fault proxy: an HTTP proxy between boto3 and local AWS that injects AWS faults.

`msk-autopilot fault-proxy --help` (msk_autopilot_local.cli.fault_proxy) describes the fault
kinds, the plan and the control endpoints. The parts: `plan` (FaultKind, FaultRule, FaultPlan,
validated by msgspec), `identify` (naming a raw request's service and operation), `error_replies`
(the fault replies per protocol), `stats` (counters and the seeded decisions) and `proxy` (the
server).

    with fault_proxy(account.endpoint_url, FaultPlan.mixed(0.2, seed=7)) as proxy:
        ...  # AWS_ENDPOINT_URL=proxy.endpoint_url
        proxy.stats().faults_by_kind()
"""

from msk_autopilot_local.faults.identify import RequestIdentifier, RequestIdentity
from msk_autopilot_local.faults.plan import FaultKind, FaultPlan, FaultPlanError, FaultRule
from msk_autopilot_local.faults.proxy import FaultProxy, FaultProxyError, fault_proxy
from msk_autopilot_local.faults.stats import InjectedFault, OperationStats, ProxyStats

__all__ = [
    "FaultKind",
    "FaultPlan",
    "FaultPlanError",
    "FaultProxy",
    "FaultProxyError",
    "FaultRule",
    "InjectedFault",
    "OperationStats",
    "ProxyStats",
    "RequestIdentifier",
    "RequestIdentity",
    "fault_proxy",
]
