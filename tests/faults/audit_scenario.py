"""The security auditor's fault scenario: a small fleet with failing controls, remediation of
MSK.2, MSK.4, AUTOPILOT.1 and AUTOPILOT.3 allowed, audited on schedule (MSK finishing each fix
between runs) until a run has nothing left to fix.

`run_audit_scenario(world)` plays it against a `FaultWorld` (faults or none) and returns what can
be compared between runs: the stored report's finding statuses, the clusters' fixed settings and
operations, the remediations of every run and the emulator's count of mutating MSK calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fault_world import ROOT, TAG, FaultWorld, Invocation

from msk_autopilot_local.emulator import control

LOG_GROUP = "/msk/brokers"
ENV = {"REMEDIATE_CONTROLS": "MSK.2,MSK.4,AUTOPILOT.1,AUTOPILOT.3", "BROKER_LOG_GROUP": LOG_GROUP}
SCHEDULE = json.loads((ROOT / "events/scheduled_event.json").read_text())
PUBLIC = {"authentication": {"iam": True}, "publicAccess": True}  # MSK.4, MSK.2, AUTOPILOT.3
FLEET = {
    "clusters": [
        {"name": "public", **PUBLIC, "tags": {TAG: "true"}},
        {
            "name": "plaintext",  # AUTOPILOT.1, and nothing else to fix
            "encryption": {"clientBroker": "TLS_PLAINTEXT"},
            "enhancedMonitoring": "PER_TOPIC_PER_BROKER",
            "logging": {"firehoseDeliveryStream": "broker-logs"},
            "tags": {TAG: "true"},
        },
        {"name": "hands-off", **PUBLIC},  # not opted in: reported, never fixed
    ]
}
MAX_RUNS = 8  # the fault-free scenario needs 4


@dataclass
class AuditScenarioResult:
    end_state: dict[str, Any]
    remediations: list[dict[tuple[str, str], str]]  # per run: (cluster, control) -> status
    mutating: dict[str, dict[str, int]]  # mutating MSK calls: accepted / refused at the emulator
    invocations: list[Invocation] = field(default_factory=list)
    proxy: dict[str, Any] = field(default_factory=dict)


def remediations(invocation: Invocation) -> dict[tuple[str, str], str]:
    result = invocation.result if isinstance(invocation.result, dict) else {}
    return {
        (r["cluster_name"], r["control"]): r["status"]
        for r in result.get("details", {}).get("remediations", [])
    }


def stored_report(world: FaultWorld) -> dict[str, Any]:
    s3 = world.client("s3")
    bucket = world.account.resources["AuditReportBucket"]
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    (key,) = [k for k in keys if k.endswith(".json")]
    return dict(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))


def end_state(world: FaultWorld) -> dict[str, Any]:
    kafka = world.client("kafka")
    clusters = {}
    for name, arn in world.account.clusters.items():
        provisioned = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["Provisioned"]
        operations = kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
        clusters[name] = {
            "publicAccess": provisioned["BrokerNodeGroupInfo"]["ConnectivityInfo"]["PublicAccess"][
                "Type"
            ],
            "monitoring": provisioned["EnhancedMonitoring"],
            "logs": provisioned.get("LoggingInfo", {}).get("BrokerLogs", {}).get("CloudWatchLogs"),
            "clientBroker": provisioned["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"],
            "operations": sorted((op["OperationType"], op["OperationState"]) for op in operations),
        }
    findings = {
        f"{cluster['name']} {finding['control']}": finding["status"]
        for cluster in stored_report(world)["resources"]
        for finding in cluster["findings"]
    }
    return {"clusters": clusters, "findings": findings}


def run_audit_scenario(world: FaultWorld) -> AuditScenarioResult:
    runs: list[dict[tuple[str, str], str]] = []
    for _ in range(MAX_RUNS):
        invocation = world.invoke("security_auditor", SCHEDULE, env=ENV)
        runs.append(remediations(invocation))
        if not invocation.failed and not runs[-1]:
            break  # nothing left to fix
        control.complete_operations()  # MSK finishes the fixes the run started
    return AuditScenarioResult(
        end_state=end_state(world),
        remediations=runs,
        mutating=world.emulator.summary(),
        invocations=list(world.invocations),
        proxy=world.proxy.stats().to_dict(),
    )
