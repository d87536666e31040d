"""API calls per cluster when auditing 1,000 clusters, half of them on SASL/SCRAM.

The topic checks (AUTOPILOT.12) cost calls per cluster by nature: MSK's topic APIs answer for
one cluster at a time, at least one ListTopics each (ceil(N/100), and a DescribeTopic per topic
of RF >= 3; test_audit_topic_durability.py measures them at 100 and 1,000 topics). The budget
of 2 calls per cluster holds for everything else; the topic calls are asserted exactly."""

import pytest
from audit_world import REGION, TAG, scheduled_event

from msk_autopilot.audit.collect import AuditTarget
from msk_autopilot.audit.runner import audit
from msk_autopilot.aws import ClientFactory
from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT

CLUSTERS = 1000
PROVISIONED = 900  # on 3.6.0, ACTIVE, without topics: one ListTopics page each
BUDGET_PER_CLUSTER = 2.0
TOPIC_CALLS = ("kafka.ListTopics", "kafka.DescribeTopic")


def beyond_topics(calls: dict[str, int], total: int) -> int:
    return total - sum(calls.get(operation, 0) for operation in TOPIC_CALLS)


@pytest.fixture
def large_fleet(world):
    """900 provisioned clusters (500 on SCRAM) and 100 serverless ones, sharing 4 security groups
    and 3 customer managed keys; one SCRAM secret has drifted to the AWS managed key, which is
    the expensive case: it makes every SCRAM cluster's secrets worth listing."""
    groups = [world.security_group() for _ in range(4)]
    keys = [world.customer_key() for _ in range(3)]
    clusters = []
    for n in range(CLUSTERS):
        name = f"c{n:04d}"
        if n >= 900:
            clusters.append({"name": name, "serverless": True, "securityGroups": [groups[n % 4]]})
            continue
        cluster = {
            "name": name,
            "securityGroups": [groups[n % 4]],
            "encryption": {"kmsKeyId": keys[n % 3]},
            "tags": {TAG: "true"} if n % 2 else {},
        }
        if n < 500:
            cluster["authentication"] = {"scram": True}
            cluster["scramUsers"] = ["app"]
        else:
            cluster["authentication"] = {"iam": True}
        clusters.append(cluster)
    arns = world.seed(*clusters)
    world.cluster_policy(
        arns["c0001"], {"Effect": "Allow", "Principal": "*", "Action": "kafka:*", "Resource": "*"}
    )
    drifted = world.kafka.list_scram_secrets(ClusterArn=arns["c0007"])["SecretArnList"][0]
    world.rekey_to_default(drifted)
    return arns


@pytest.mark.slow
def test_auditing_1000_clusters_takes_at_most_2_calls_per_cluster_beyond_the_topic_apis(
    large_fleet, invoke
):
    run = audit(
        [AuditTarget(LOCAL_ACCOUNT, REGION, ClientFactory(REGION))],
        opt_in_tag_key=TAG,
    )
    report = run.report
    assert len(report.clusters) == CLUSTERS
    calls = report.api_calls_by_operation
    per_cluster = report.api_calls / CLUSTERS
    others = beyond_topics(dict(calls), report.api_calls) / CLUSTERS
    print(
        f"\naudit: {report.api_calls} calls, {per_cluster:.3f} per cluster, {others:.3f} "
        "beyond the topic APIs:"
    )
    print(dict(sorted(calls.items())))
    assert others <= BUDGET_PER_CLUSTER
    assert calls["kafka.ListTopics"] == PROVISIONED
    assert "kafka.DescribeTopic" not in calls
    assert calls["kafkaconnect.ListConnectors"] == 1
    assert calls["cloudtrail.DescribeTrails"] == 1
    assert calls["kafka.ListScramSecrets"] == 500  # only SCRAM clusters, once each
    assert calls["kms.DescribeKey"] == 4  # 3 data keys and the SCRAM secrets' key
    assert calls["ec2.DescribeSecurityGroups"] == 1
    assert calls["secrets-manager.ListSecrets"] == 5  # 100 secrets a page
    leaky = next(c for c in report.clusters if c.name == "c0007").finding("AUTOPILOT.7")
    assert leaky is not None
    assert leaky.status == "FAILED"

    # The whole function run, outputs included (Security Hub, S3, SNS), stays within it too.
    result = invoke(scheduled_event())
    total = result["details"]["api_calls_total"]
    others = total - PROVISIONED  # the topic calls, as asserted above
    print(
        f"function run: {total} calls, {total / CLUSTERS:.3f} per cluster, "
        f"{others / CLUSTERS:.3f} beyond the topic APIs"
    )
    assert others / CLUSTERS <= BUDGET_PER_CLUSTER
