"""The control registry and each check's semantics, on cluster descriptions shaped like
ListClustersV2's, with the extra data given directly."""

import copy
import ipaddress
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from msk_autopilot.audit.controls import (
    CLUSTER_POLICY,
    CONTROLS,
    KAFKA_VERSIONS,
    KMS_KEYS,
    SCALING_POLICIES,
    SCRAM_SECRETS,
    SECURITY_GROUPS,
    Category,
    ClusterKind,
    DataUnavailable,
    FindingSeverity,
    IpPermission,
    ScramSecrets,
    Status,
    Subject,
)
from msk_autopilot.audit.controls.network import PROVISIONED_PORTS
from msk_autopilot.audit.durability import TOPICS, ClusterTopics
from msk_autopilot.audit.trails import TRAILS, Trail
from msk_autopilot.msk import ClusterSnapshot

ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/5c9a6e0a-1c2d-4f7e-9a31-2b8f0d4e6a11-2"
TAG = "msk-autopilot:managed"
# The audit's day: 3.6.0, the fixtures' version, is supported until 2026-06-01, 137 days on.
TODAY = date(2026, 1, 15)

# The issue's table: ID -> severity.
SPEC = {
    "MSK.1": "MEDIUM",
    "MSK.2": "LOW",
    "MSK.4": "CRITICAL",
    "MSK.6": "MEDIUM",
    "AUTOPILOT.1": "HIGH",
    "AUTOPILOT.2": "MEDIUM",
    "AUTOPILOT.3": "MEDIUM",
    "AUTOPILOT.4": "MEDIUM",
    "AUTOPILOT.5": "HIGH",
    "AUTOPILOT.6": "HIGH",
    "AUTOPILOT.7": "MEDIUM",
    "AUTOPILOT.8": "HIGH",
    "AUTOPILOT.9": "MEDIUM",
    "AUTOPILOT.10": "LOW",
    "MSK.3": "MEDIUM",
    "MSK.5": "MEDIUM",
    "AUTOPILOT.12": "MEDIUM",
    "AUTOPILOT.11": "MEDIUM",
    "AUTOPILOT.13": "LOW",
}
CLUSTER_CONTROLS = [c for c, control in CONTROLS.items() if control.subject is Subject.CLUSTER]
# A trail recording every management event of every Region: CloudTrail's defaults.
RECORDING = Trail(
    name="org",
    arn="arn:aws:cloudtrail:us-east-1:1:trail/org",
    home_region="us-east-1",
    multi_region=True,
    logging=True,
)

PROVISIONED: dict[str, Any] = {
    "ClusterArn": ARN,
    "ClusterName": "orders",
    "ClusterType": "PROVISIONED",
    "State": "ACTIVE",
    "Tags": {},
    "Provisioned": {
        "BrokerNodeGroupInfo": {
            "InstanceType": "kafka.m5.large",
            "ClientSubnets": ["subnet-a", "subnet-b", "subnet-c"],
            "SecurityGroups": ["sg-1"],
            "ConnectivityInfo": {"PublicAccess": {"Type": "DISABLED"}},
        },
        "NumberOfBrokerNodes": 3,
        "CurrentBrokerSoftwareInfo": {"KafkaVersion": "3.6.0"},
        "ClientAuthentication": {
            "Sasl": {"Scram": {"Enabled": True}, "Iam": {"Enabled": False}},
            "Tls": {"Enabled": False},
            "Unauthenticated": {"Enabled": False},
        },
        "EncryptionInfo": {
            "EncryptionAtRest": {"DataVolumeKMSKeyId": "arn:aws:kms:us-east-1:1:key/cmk"},
            "EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True},
        },
        "EnhancedMonitoring": "PER_TOPIC_PER_BROKER",
        "LoggingInfo": {"BrokerLogs": {"S3": {"Enabled": True, "Bucket": "logs"}}},
    },
}
SERVERLESS: dict[str, Any] = {
    "ClusterArn": ARN.replace("-2", "-s1"),
    "ClusterName": "stream",
    "ClusterType": "SERVERLESS",
    "State": "ACTIVE",
    "Serverless": {"VpcConfigs": [{"SubnetIds": ["s-a", "s-b"], "SecurityGroupIds": ["sg-1"]}]},
}


class Facts:
    """An `Evidence` over given data that records which kinds of data were asked for."""

    def __init__(self, **data: Any) -> None:
        self.data = {
            "keys": {"arn:aws:kms:us-east-1:1:key/cmk": "CUSTOMER"},
            "groups": {"sg-1": []},
            "policy": None,
            "scram": ScramSecrets(associated=1),
            "versions": {"3.6.0": "ACTIVE"},
            "scaled": set(),
            "topics": ClusterTopics(topics=[], settings={}),
            "trails": [RECORDING],
            **data,
        }
        self.asked: set[str] = set()

    @property
    def opt_in_tag_key(self) -> str:
        return TAG

    @property
    def today(self) -> date:
        return self.data.get("today", TODAY)

    def _get(self, name: str, source: str) -> Any:
        self.asked.add(source)
        value = self.data[name]
        if isinstance(value, DataUnavailable):
            raise value
        return value

    def key_manager(self, key_id: str) -> str:
        return self._get("keys", KMS_KEYS.name)[key_id]

    def security_group_rules(
        self, group_ids: Sequence[str]
    ) -> Mapping[str, Sequence[IpPermission] | None]:
        groups = self._get("groups", SECURITY_GROUPS.name)
        return {
            g: None if groups.get(g) is None else msgspec.convert(groups[g], list[IpPermission])
            for g in group_ids
        }

    def cluster_policy(self, cluster_arn: str) -> Mapping[str, Any] | None:
        return self._get("policy", CLUSTER_POLICY.name)

    def scram_secrets(self, cluster_arn: str) -> ScramSecrets:
        return self._get("scram", SCRAM_SECRETS.name)

    def kafka_version_status(self, version: str) -> str | None:
        return self._get("versions", KAFKA_VERSIONS.name).get(version)

    def has_storage_scaling_policy(self, cluster_arn: str) -> bool:
        return cluster_arn in self._get("scaled", SCALING_POLICIES.name)

    def cluster_topics(self, cluster_arn: str) -> ClusterTopics:
        return self._get("topics", TOPICS.name)

    def trails(self) -> Sequence[Trail]:
        return self._get("trails", TRAILS.name)


def cluster(base: dict[str, Any] = PROVISIONED, **changes: Any) -> ClusterSnapshot:
    """`base` with changes at "__"-separated paths (Provisioned__EnhancedMonitoring); None
    deletes the key."""
    info = copy.deepcopy(base)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = info
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return ClusterSnapshot.from_api(info)


def verdict(control: str, snapshot: ClusterSnapshot | None = None, **facts: Any):
    return CONTROLS[control].evaluate(snapshot or cluster(), Facts(**facts))


def test_the_registry_declares_the_issues_controls():
    assert {c: control.severity.value for c, control in CONTROLS.items()} == SPEC
    for control in CONTROLS.values():
        assert control.title
        assert control.remediation
        listed = "kafka:ListClustersV2" in control.permissions
        assert listed is (control.subject is Subject.CLUSTER), control.id


def test_a_well_configured_cluster_passes_everything():
    snapshot = cluster(Tags={TAG: "true"})
    assert {c: verdict(c, snapshot).status for c in CLUSTER_CONTROLS} == {
        **dict.fromkeys(CLUSTER_CONTROLS, Status.PASSED),
        "AUTOPILOT.13": Status.NOT_APPLICABLE,  # SCRAM only: IAM authorizes no Kafka action
    }


# Each control's category and the cluster kinds it judges (checked, or fixed by MSK).
ALL_KINDS = ("Standard", "Express", "Serverless")
PROVISIONED_KINDS = ("Standard", "Express")
DECLARED = {
    "MSK.1": ("SECURITY", PROVISIONED_KINDS),
    "MSK.2": ("SECURITY", PROVISIONED_KINDS),
    "MSK.4": ("SECURITY", ALL_KINDS),
    "MSK.6": ("SECURITY", ALL_KINDS),
    "AUTOPILOT.1": ("SECURITY", ALL_KINDS),
    "AUTOPILOT.2": ("SECURITY", ALL_KINDS),
    "AUTOPILOT.3": ("SECURITY", ALL_KINDS),
    "AUTOPILOT.4": ("SECURITY", PROVISIONED_KINDS),
    "AUTOPILOT.5": ("SECURITY", ALL_KINDS),
    "AUTOPILOT.6": ("SECURITY", ALL_KINDS),
    "AUTOPILOT.7": ("SECURITY", PROVISIONED_KINDS),
    "AUTOPILOT.8": ("SECURITY", ALL_KINDS),
    "AUTOPILOT.9": ("RESILIENCE", ALL_KINDS),
    "AUTOPILOT.10": ("RESILIENCE", PROVISIONED_KINDS),
    "MSK.3": ("SECURITY", ()),
    "MSK.5": ("SECURITY", ()),
    "AUTOPILOT.11": ("SECURITY", ()),
    "AUTOPILOT.12": ("RESILIENCE", PROVISIONED_KINDS),
    "AUTOPILOT.13": ("SECURITY", ALL_KINDS),
}
SUBJECTS = {
    **dict.fromkeys(DECLARED, Subject.CLUSTER),
    "MSK.3": Subject.CONNECTOR,
    "MSK.5": Subject.CONNECTOR,
    "AUTOPILOT.11": Subject.ACCOUNT_REGION,
}


def test_every_control_declares_its_category_subject_and_cluster_kinds():
    assert {
        c: (control.category.value, control.kinds) for c, control in CONTROLS.items()
    } == DECLARED
    assert {c: control.subject for c, control in CONTROLS.items()} == SUBJECTS


def test_a_clusters_kind_comes_from_its_snapshot():
    assert ClusterKind.of(cluster()) is ClusterKind.STANDARD
    express = cluster(Provisioned__BrokerNodeGroupInfo__InstanceType="express.m7g.large")
    assert ClusterKind.of(express) is ClusterKind.EXPRESS
    assert ClusterKind.of(ClusterSnapshot.from_api(SERVERLESS)) is ClusterKind.SERVERLESS


def test_serverless_clusters_get_the_verdict_of_what_msk_fixes():
    snapshot = ClusterSnapshot.from_api(SERVERLESS)
    results = {c: verdict(c, snapshot) for c in CLUSTER_CONTROLS}
    assert {c: r.status.value for c, r in results.items()} == {
        "MSK.1": "NOT_APPLICABLE",
        "MSK.2": "NOT_APPLICABLE",
        "MSK.4": "PASSED",
        "MSK.6": "PASSED",
        "AUTOPILOT.1": "PASSED",
        "AUTOPILOT.2": "FAILED",
        "AUTOPILOT.3": "FAILED",
        "AUTOPILOT.4": "NOT_APPLICABLE",
        "AUTOPILOT.5": "PASSED",
        "AUTOPILOT.6": "PASSED",
        "AUTOPILOT.7": "NOT_APPLICABLE",
        "AUTOPILOT.8": "PASSED",
        "AUTOPILOT.9": "PASSED",
        "AUTOPILOT.10": "NOT_APPLICABLE",
        "AUTOPILOT.12": "NOT_APPLICABLE",
        "AUTOPILOT.13": "PASSED",
    }
    assert "IAM" in results["MSK.6"].detail
    assert "MSK fixes it" in results["MSK.6"].detail
    assert "no customer managed key" in results["AUTOPILOT.2"].detail
    assert results["MSK.1"].detail == "Serverless clusters have no such setting"


@pytest.mark.parametrize(
    ("control", "path", "value", "status"),
    [
        ("MSK.1", "Provisioned__EncryptionInfo__EncryptionInTransit__InCluster", None, "PASSED"),
        ("MSK.1", "Provisioned__EncryptionInfo", None, "PASSED"),
        ("MSK.1", "Provisioned__EncryptionInfo__EncryptionInTransit__InCluster", False, "FAILED"),
        ("MSK.2", "Provisioned__EnhancedMonitoring", "PER_TOPIC_PER_PARTITION", "PASSED"),
        ("MSK.2", "Provisioned__EnhancedMonitoring", "PER_BROKER", "FAILED"),
        ("MSK.2", "Provisioned__EnhancedMonitoring", "DEFAULT", "FAILED"),
        ("MSK.4", "Provisioned__BrokerNodeGroupInfo__ConnectivityInfo", None, "PASSED"),
        (
            "MSK.4",
            "Provisioned__BrokerNodeGroupInfo__ConnectivityInfo__PublicAccess__Type",
            "SERVICE_PROVIDED_EIPS",
            "FAILED",
        ),
        (
            "MSK.6",
            "Provisioned__ClientAuthentication__Unauthenticated__Enabled",
            True,
            "FAILED",
        ),
        (
            "AUTOPILOT.1",
            "Provisioned__EncryptionInfo__EncryptionInTransit__ClientBroker",
            None,
            "PASSED",
        ),
        (
            "AUTOPILOT.1",
            "Provisioned__EncryptionInfo__EncryptionInTransit__ClientBroker",
            "TLS_PLAINTEXT",
            "FAILED",
        ),
        (
            "AUTOPILOT.1",
            "Provisioned__EncryptionInfo__EncryptionInTransit__ClientBroker",
            "PLAINTEXT",
            "FAILED",
        ),
        ("AUTOPILOT.2", "Provisioned__EncryptionInfo__EncryptionAtRest", None, "FAILED"),
        ("AUTOPILOT.3", "Provisioned__LoggingInfo", None, "FAILED"),
        ("AUTOPILOT.4", "Provisioned__CurrentBrokerSoftwareInfo__KafkaVersion", "9.9.9", "FAILED"),
        ("AUTOPILOT.4", "Provisioned__CurrentBrokerSoftwareInfo", None, "NOT_AVAILABLE"),
        (
            "AUTOPILOT.7",
            "Provisioned__ClientAuthentication__Sasl__Scram__Enabled",
            False,
            "NOT_APPLICABLE",
        ),
        ("AUTOPILOT.8", "Provisioned__ClientAuthentication__Sasl__Scram__Enabled", False, "FAILED"),
        (
            "AUTOPILOT.8",
            "Provisioned__ClientAuthentication__Unauthenticated__Enabled",
            True,
            "FAILED",
        ),
        (
            "AUTOPILOT.8",
            "Provisioned__ClientAuthentication__Tls",
            {"Enabled": True, "CertificateAuthorityArnList": ["arn:ca"]},
            "PASSED",
        ),
        (
            "AUTOPILOT.9",
            "Provisioned__BrokerNodeGroupInfo__InstanceType",
            "express.m7g.large",
            "PASSED",
        ),
        (
            "AUTOPILOT.10",
            "Provisioned__BrokerNodeGroupInfo__ClientSubnets",
            ["s-a", "s-b"],
            "FAILED",
        ),
        ("AUTOPILOT.5", "Provisioned__BrokerNodeGroupInfo__SecurityGroups", [], "NOT_AVAILABLE"),
    ],
)
def test_check_semantics(control, path, value, status):
    assert verdict(control, cluster(**{path: value})).status == status


def test_an_aws_managed_data_key_fails():
    result = verdict("AUTOPILOT.2", keys={"arn:aws:kms:us-east-1:1:key/cmk": "AWS"})
    assert result.status is Status.FAILED
    assert "AWS managed key" in result.detail


def test_a_deprecated_kafka_version_fails():
    result = verdict("AUTOPILOT.4", versions={"3.6.0": "DEPRECATED"})
    assert (result.status, result.detail) == (
        Status.FAILED,
        "Apache Kafka 3.6.0 is DEPRECATED: 3.6.0 is listed DEPRECATED by MSK: past end of support",
    )


@pytest.mark.parametrize(
    ("version", "since"), [("2.8.2.tiered", "2025-01-14"), ("3.5.1", "2025-10-23")]
)
def test_a_version_past_its_published_end_of_support_fails_though_msk_lists_it_active(
    version, since
):
    result = verdict(
        "AUTOPILOT.4",
        cluster(Provisioned__CurrentBrokerSoftwareInfo__KafkaVersion=version),
        versions={version: "ACTIVE"},
    )
    assert (result.status, result.detail) == (
        Status.FAILED,
        f"Apache Kafka {version} reached end of support on {since}, "
        "though MSK still lists it ACTIVE",
    )


def test_the_end_of_support_day_itself_fails():
    result = verdict("AUTOPILOT.4", today=date(2026, 6, 1))
    assert result.status is Status.FAILED
    assert "3.6.0 reached end of support on 2026-06-01" in result.detail


def test_a_version_within_90_days_of_its_end_passes_with_a_warning():
    result = verdict("AUTOPILOT.4", today=date(2026, 3, 3))  # 90 days before 2026-06-01
    assert (result.status, result.detail) == (
        Status.PASSED,
        "warning: Apache Kafka 3.6.0 reaches end of support on 2026-06-01 (in 90 days); "
        "MSK upgrades it itself at any time after that",
    )
    assert verdict("AUTOPILOT.4", today=date(2026, 3, 2)).detail == (
        "Apache Kafka 3.6.0 reaches end of support on 2026-06-01 (in 91 days)"
    )


def test_a_version_msk_lists_that_the_catalogue_lacks_is_not_available_with_the_reason():
    result = verdict(
        "AUTOPILOT.4",
        cluster(Provisioned__CurrentBrokerSoftwareInfo__KafkaVersion="4.2.x.kraft"),
        versions={"4.2.x.kraft": "ACTIVE"},
    )
    assert (result.status, result.detail) == (
        Status.NOT_AVAILABLE,
        "MSK lists it ACTIVE, but 4.2.x.kraft is not in the version catalogue: "
        "end of support unknown",
    )


def test_a_version_without_a_published_end_passes():
    result = verdict(
        "AUTOPILOT.4",
        cluster(Provisioned__CurrentBrokerSoftwareInfo__KafkaVersion="3.8.x"),
        versions={"3.8.x": "ACTIVE"},
        today=date(2030, 1, 1),
    )
    assert (result.status, result.detail) == (
        Status.PASSED,
        "Apache Kafka 3.8.x is supported (no end of support published)",
    )


def test_weak_scram_secrets_are_named():
    weak = ScramSecrets(associated=2, without_customer_key=("AmazonMSK_orders_alice",))
    result = verdict("AUTOPILOT.7", scram=weak)
    assert result.status is Status.FAILED
    assert result.detail.endswith("AmazonMSK_orders_alice")


def test_a_scram_cluster_without_a_secret_is_not_a_pass():
    result = verdict("AUTOPILOT.7", scram=ScramSecrets(associated=0))
    assert result.status is Status.NOT_AVAILABLE
    assert "no secret is associated" in result.detail


def test_mixed_authentication_with_unauthenticated_access_fails_and_says_why():
    mixed = cluster(
        Provisioned__ClientAuthentication__Unauthenticated__Enabled=True,
        Provisioned__ClientAuthentication__Sasl__Iam__Enabled=True,
    )
    result = verdict("AUTOPILOT.8", mixed)
    assert (result.status, result.detail) == (
        Status.FAILED,
        "IAM, SASL/SCRAM are on, but unauthenticated access is on too: "
        "unauthenticated clients are still accepted",
    )


def test_storage_is_protected_by_opt_in_or_by_a_scaling_policy():
    assert verdict("AUTOPILOT.9").status is Status.FAILED
    assert verdict("AUTOPILOT.9", scaled={ARN}).status is Status.PASSED
    assert verdict("AUTOPILOT.9", cluster(Tags={TAG: "true"})).status is Status.PASSED


def world(protocol="tcp", low=9092, high=9092, v6=False):
    rule: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":
        rule |= {"FromPort": low, "ToPort": high}
    if v6:
        rule["Ipv6Ranges"] = [{"CidrIpv6": "::/0"}]
    else:
        rule["IpRanges"] = [{"CidrIp": "0.0.0.0/0"}]
    return rule


@pytest.mark.parametrize(
    ("rules", "status"),
    [
        ([world()], "FAILED"),
        ([world(low=9000, high=9100)], "FAILED"),
        ([world(low=2181, high=2181)], "FAILED"),
        ([world(low=20098, high=20098)], "FAILED"),
        ([world(low=9194, high=9198)], "PASSED"),  # no public listener while public access is off
        ([world(protocol="-1", v6=True)], "FAILED"),
        ([world(protocol="6", low=9098, high=9098)], "FAILED"),
        ([world(low=443, high=443)], "PASSED"),
        ([world(protocol="udp", low=9092, high=9092)], "PASSED"),
        (
            [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 9092,
                    "ToPort": 9092,
                    "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
                }
            ],
            "PASSED",
        ),
        ([], "PASSED"),
    ],
)
def test_internet_exposure_of_broker_ports(rules, status):
    assert verdict("AUTOPILOT.5", groups={"sg-1": rules}).status == status


def test_a_missing_group_is_not_available_unless_another_is_open():
    two = cluster(**{"Provisioned__BrokerNodeGroupInfo__SecurityGroups": ["sg-1", "sg-gone"]})
    assert verdict("AUTOPILOT.5", two, groups={"sg-1": []}).status is Status.NOT_AVAILABLE
    open_one = verdict("AUTOPILOT.5", two, groups={"sg-1": [world()]})
    assert open_one.status is Status.FAILED


@given(low=st.integers(0, 65535), span=st.integers(0, 2000))
def test_a_tcp_rule_fails_exactly_when_its_range_holds_a_broker_port(low, span):
    high = min(low + span, 65535)
    result = verdict("AUTOPILOT.5", groups={"sg-1": [world(low=low, high=high)]})
    exposed = any(low <= port <= high for port in PROVISIONED_PORTS)
    assert result.status is (Status.FAILED if exposed else Status.PASSED)


@pytest.mark.parametrize(
    ("statement", "status"),
    [
        ({"Effect": "Allow", "Principal": "*", "Action": "kafka:*"}, "FAILED"),
        ({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kafka:*"}, "FAILED"),
        ({"Effect": "Allow", "Principal": {"AWS": ["111122223333", "*"]}}, "FAILED"),
        ({"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}}, "FAILED"),
        ({"Effect": "Allow", "Principal": {"AWS": "111122223333"}}, "PASSED"),
        ({"Effect": "Deny", "Principal": "*"}, "PASSED"),
        (
            {
                "Effect": "Allow",
                "Principal": "*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
            },
            "PASSED",
        ),
        *(
            (
                {"Effect": "Allow", "Principal": "*", "Condition": condition},
                status,
            )
            for condition, status in [
                ({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}, "PASSED"),
                ({"StringEquals": {"AWS:SourceAccount": ["111122223333"]}}, "PASSED"),
                ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}, "PASSED"),
                ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-1/r-1/*"}}, "PASSED"),
                ({"StringEquals": {"aws:PrincipalOrgID": "*"}}, "FAILED"),
                ({"StringLike": {"aws:PrincipalAccount": ["1111", "*"]}}, "FAILED"),
                ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app"}}, "FAILED"),
                ({"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}, "FAILED"),
                ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}, "FAILED"),
                ({"ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": "o-1/"}}, "FAILED"),
                ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, "FAILED"),
                ({"Bool": {"aws:SecureTransport": "true"}}, "FAILED"),
                ({"StringEquals": {"aws:SourceVpce": "vpce-1"}}, "FAILED"),
            ]
        ),
    ],
)
def test_wildcard_cluster_policies(statement, status):
    assert verdict("AUTOPILOT.6", policy={"Statement": statement}).status == status
    assert verdict("AUTOPILOT.6", policy={"Statement": [statement]}).status == status


def test_unreadable_data_makes_the_control_not_available():
    result = verdict("AUTOPILOT.2", keys=DataUnavailable("DescribeKey failed: AccessDenied"))
    assert (result.status, result.detail) == (
        Status.NOT_AVAILABLE,
        "DescribeKey failed: AccessDenied",
    )


@pytest.mark.parametrize("control", CLUSTER_CONTROLS)
@pytest.mark.parametrize(
    "snapshot",
    [
        cluster(Tags={}),
        cluster(**{"Provisioned__EncryptionInfo__EncryptionAtRest": None}),
        ClusterSnapshot.from_api(SERVERLESS),
    ],
)
def test_controls_read_only_the_data_they_declare(control, snapshot):
    facts = Facts()
    CONTROLS[control].evaluate(snapshot, facts)
    assert facts.asked <= {source.name for source in CONTROLS[control].sources}


def test_severity_ranks():
    assert [s.rank for s in FindingSeverity] == [0, 1, 2, 3]
    assert FindingSeverity.CRITICAL.rank > FindingSeverity.HIGH.rank


def group_from(cidr: str, low: int = 9098, high: int = 9098) -> dict[str, Any]:
    key, field = ("Ipv6Ranges", "CidrIpv6") if ":" in cidr else ("IpRanges", "CidrIp")
    return {"IpProtocol": "tcp", "FromPort": low, "ToPort": high, key: [{field: cidr}]}


@pytest.mark.parametrize(
    ("cidr", "status"),
    [
        ("0.0.0.0/0", "FAILED"),
        ("0.0.0.0/1", "FAILED"),
        ("128.0.0.0/1", "FAILED"),
        ("8.0.0.0/7", "FAILED"),
        ("8.8.8.8/7", "FAILED"),  # host bits set: EC2 keeps what the rule admits, a /7
        ("52.0.0.0/15", "FAILED"),
        ("52.0.0.0/16", "PASSED"),  # one organization's block
        ("203.0.113.0/24", "PASSED"),
        ("10.0.0.0/8", "PASSED"),
        ("172.16.0.0/12", "PASSED"),
        ("::/0", "FAILED"),
        ("2000::/3", "FAILED"),
        ("2600::/31", "FAILED"),
        ("2600::/32", "PASSED"),
        ("fc00::/7", "PASSED"),
        ("fe80::/10", "PASSED"),
    ],
)
def test_public_sources_are_judged_by_breadth(cidr, status):
    assert verdict("AUTOPILOT.5", groups={"sg-1": [group_from(cidr)]}).status == status


@given(prefix=st.integers(0, 32), address=st.integers(0, 2**32 - 1))
def test_an_ipv4_source_fails_when_it_admits_more_than_a_16_of_public_space(prefix, address):
    network = ipaddress.IPv4Network((address, prefix), strict=False)
    private = [ipaddress.IPv4Network(b) for b in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    result = verdict("AUTOPILOT.5", groups={"sg-1": [group_from(str(network))]}).status
    if prefix >= 16 or any(network.subnet_of(block) for block in private):
        assert result is Status.PASSED  # at most a /16, or no public address at all
    multicast_and_reserved = ipaddress.IPv4Network("224.0.0.0/3")
    if prefix <= 4 and not network.subnet_of(multicast_and_reserved):
        assert result is Status.FAILED  # any other /4 leaves far more than a /16 public


@given(prefix=st.integers(0, 32), address=st.integers(0, 2**32 - 1))
def test_widening_a_source_never_turns_a_failure_into_a_pass(prefix, address):
    network = ipaddress.IPv4Network((address, prefix), strict=False)
    wider = network.supernet() if prefix else network
    narrow = verdict("AUTOPILOT.5", groups={"sg-1": [group_from(str(network))]}).status
    wide = verdict("AUTOPILOT.5", groups={"sg-1": [group_from(str(wider))]}).status
    if narrow is Status.FAILED:
        assert wide is Status.FAILED


@given(prefix=st.integers(0, 128), address=st.integers(0, 2**128 - 1))
def test_an_ipv6_source_fails_when_it_admits_more_than_a_32_of_global_unicast(prefix, address):
    network = ipaddress.IPv6Network((address, prefix), strict=False)
    result = verdict("AUTOPILOT.5", groups={"sg-1": [group_from(str(network))]}).status
    global_unicast = ipaddress.IPv6Network("2000::/3")
    if prefix >= 32 or not network.overlaps(global_unicast):
        assert result is Status.PASSED
    if prefix <= 16 and network.overlaps(global_unicast):
        assert result is Status.FAILED  # a /16 of 2000::/3 is far more than a /32


def test_only_the_ports_the_clusters_kind_uses_count():
    serverless = ClusterSnapshot.from_api(SERVERLESS)
    plaintext = {"sg-1": [world(low=9092, high=9092)]}
    assert verdict("AUTOPILOT.5", serverless, groups=plaintext).status is Status.PASSED
    iam = verdict("AUTOPILOT.5", serverless, groups={"sg-1": [world(protocol="-1")]})
    assert (iam.status, iam.detail) == (Status.FAILED, "open to the internet: sg-1 ports 9098")
    public = cluster(
        Provisioned__BrokerNodeGroupInfo__ConnectivityInfo__PublicAccess__Type=(
            "SERVICE_PROVIDED_EIPS"
        )
    )
    listener = {"sg-1": [world(low=9196, high=9196)]}
    assert verdict("AUTOPILOT.5", public, groups=listener).status is Status.FAILED
    assert verdict("AUTOPILOT.5", groups=listener).status is Status.PASSED


def test_categories_are_security_or_resilience():
    assert {c.category for c in CONTROLS.values()} == set(Category)
