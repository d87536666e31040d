"""API calls per cluster when auditing 1,000 clusters, half of them on SASL/SCRAM."""

import pytest
from audit_world import REGION, TAG, scheduled_event

from msk_autopilot.audit.collect import AuditTarget
from msk_autopilot.audit.runner import audit
from msk_autopilot.aws import ClientFactory
from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT

CLUSTERS = 1000
BUDGET_PER_CLUSTER = 2.0


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
def test_auditing_1000_clusters_takes_at_most_2_calls_per_cluster(large_fleet, invoke):
    run = audit(
        [AuditTarget(LOCAL_ACCOUNT, REGION, ClientFactory(REGION))],
        opt_in_tag_key=TAG,
    )
    report = run.report
    assert len(report.clusters) == CLUSTERS
    per_cluster = report.api_calls / CLUSTERS
    print(f"\naudit: {report.api_calls} calls, {per_cluster:.3f} per cluster:")
    print(dict(sorted(report.api_calls_by_operation.items())))
    assert per_cluster <= BUDGET_PER_CLUSTER
    calls = report.api_calls_by_operation
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
    print(f"function run: {total} calls, {total / CLUSTERS:.3f} per cluster")
    assert total / CLUSTERS <= BUDGET_PER_CLUSTER
