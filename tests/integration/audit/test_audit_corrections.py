"""Issue 18's corrections on a fleet in the MSK emulator: one cluster per rule, each verdict
both ways, through the auditor's engine."""

import pytest
from audit_world import REGION, TAG, World

from msk_autopilot.audit.collect import AuditTarget
from msk_autopilot.audit.runner import audit
from msk_autopilot.aws import ClientFactory
from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT

P, F, NV = "PASSED", "FAILED", "NOT_AVAILABLE"
IAM_PORT = {"IpProtocol": "tcp", "FromPort": 9098, "ToPort": 9098}
PLAINTEXT_PORT = {"IpProtocol": "tcp", "FromPort": 9092, "ToPort": 9092}


def v4(cidr: str, ports: dict = IAM_PORT) -> dict:
    return {**ports, "IpRanges": [{"CidrIp": cidr}]}


def v6(cidr: str, ports: dict = IAM_PORT) -> dict:
    return {**ports, "Ipv6Ranges": [{"CidrIpv6": cidr}]}


BREADTH = {
    "slash-1": F,
    "slash-7": F,
    "express-slash-7": F,
    "global-unicast": F,
    "slash-16": P,
    "one-provider": P,
    "serverless-iam-world": F,
    "serverless-plaintext-world": P,
}
POLICIES = {"policy-source-ip": F, "policy-wildcard-org": F, "policy-principal-account": P}


def run_audit() -> dict[str, dict[str, tuple[str, str]]]:
    """{cluster name: {control: (status, detail)}}"""
    report = audit([AuditTarget(LOCAL_ACCOUNT, REGION, ClientFactory(REGION))], opt_in_tag_key=TAG)
    assert not report.report.errors
    return {
        c.name: {f.control: (f.status.value, f.detail) for f in c.findings}
        for c in report.report.clusters
    }


@pytest.fixture
def judged(world: World) -> dict[str, dict[str, tuple[str, str]]]:
    closed = world.security_group(v4("10.0.0.0/8"))
    groups = {
        name: world.security_group(rule)
        for name, rule in {
            "slash-1": v4("0.0.0.0/1"),
            "slash-7": v4("8.0.0.0/7"),
            "slash-16": v4("52.95.0.0/16"),
            "global-unicast": v6("2000::/3"),
            "one-provider": v6("2600:1f00::/32"),
            "plaintext-world": v4("0.0.0.0/0", PLAINTEXT_PORT),
            "iam-world": v4("0.0.0.0/0"),
        }.items()
    }
    key = world.customer_key()
    base = {"kafkaVersion": "3.8.x", "securityGroups": [closed], "encryption": {"kmsKeyId": key}}
    clusters = [
        # AUTOPILOT.8: mixed authentication
        {"name": "mixed-auth", **base, "authentication": {"iam": True, "unauthenticated": True}},
        {"name": "iam-only", **base, "authentication": {"iam": True}},
        # AUTOPILOT.7: a SCRAM cluster with no secret, and one with a secret under a CMK
        {"name": "scram-no-secret", **base, "authentication": {"scram": True}},
        {
            "name": "scram-with-secret",
            **base,
            "authentication": {"scram": True},
            "scramUsers": ["alice"],
        },
        # AUTOPILOT.4: published ends of support, though MSK lists the versions ACTIVE
        {**base, "name": "tiered", "kafkaVersion": "2.8.2.tiered"},
        {**base, "name": "three-five", "kafkaVersion": "3.5.1"},
        {**base, "name": "current", "kafkaVersion": "3.8.x"},
        # AUTOPILOT.5: breadth of public sources, ports of each kind
        *(
            {**base, "name": name, "securityGroups": [groups[name]]}
            for name in ("slash-1", "slash-7", "slash-16", "global-unicast", "one-provider")
        ),
        {
            **base,
            "name": "express-slash-7",
            "instanceType": "express.m7g.large",
            "securityGroups": [groups["slash-7"]],
        },
        {
            "name": "serverless-plaintext-world",
            "serverless": True,
            "securityGroups": [groups["plaintext-world"]],
        },
        {
            "name": "serverless-iam-world",
            "serverless": True,
            "securityGroups": [groups["iam-world"]],
        },
        # AUTOPILOT.6: conditions that do and do not constrain the principal
        {**base, "name": "policy-source-ip"},
        {**base, "name": "policy-wildcard-org"},
        {**base, "name": "policy-principal-account"},
    ]
    arns = world.seed(*clusters)
    open_to_all = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kafka-cluster:*"}
    for name, condition in {
        "policy-source-ip": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        "policy-wildcard-org": {"StringLike": {"aws:PrincipalOrgID": "*"}},
        "policy-principal-account": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}},
    }.items():
        world.cluster_policy(
            arns[name], {**open_to_all, "Sid": "Shared", "Resource": "*", "Condition": condition}
        )
    return run_audit()


def test_unauthenticated_access_fails_even_beside_iam(judged):
    status, detail = judged["mixed-auth"]["AUTOPILOT.8"]
    assert (status, detail) == (
        F,
        "IAM is on, but unauthenticated access is on too: unauthenticated clients are still "
        "accepted",
    )
    assert judged["iam-only"]["AUTOPILOT.8"] == (P, "clients authenticate with IAM")


def test_a_scram_cluster_without_a_secret_is_not_a_pass(judged):
    status, detail = judged["scram-no-secret"]["AUTOPILOT.7"]
    assert status == NV
    assert "no secret is associated" in detail
    assert judged["scram-with-secret"]["AUTOPILOT.7"][0] == P


def test_versions_past_their_published_end_fail_though_msk_lists_them_active(judged):
    for cluster, version, since in (
        ("tiered", "2.8.2.tiered", "2025-01-14"),
        ("three-five", "3.5.1", "2025-10-23"),
    ):
        # Judged by the catalogue's dates, whatever status MSK's listing gives the version.
        status, detail = judged[cluster]["AUTOPILOT.4"]
        assert status == F, cluster
        assert f"{version} reached end of support on {since}" in detail
    assert judged["current"]["AUTOPILOT.4"][0] == P


def test_public_sources_are_judged_by_breadth_on_the_ports_the_kind_uses(judged):
    assert {name: judged[name]["AUTOPILOT.5"][0] for name in BREADTH} == BREADTH
    # serverless clusters listen on 9098 only
    assert judged["serverless-iam-world"]["AUTOPILOT.5"][1].endswith("ports 9098")


def test_a_policy_condition_counts_only_when_it_constrains_the_principal(judged):
    assert {name: judged[name]["AUTOPILOT.6"][0] for name in POLICIES} == POLICIES
    assert judged["policy-source-ip"]["AUTOPILOT.6"][1].endswith("who the principal is: Shared")
