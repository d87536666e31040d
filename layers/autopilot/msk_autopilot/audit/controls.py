"""The security controls an MSK cluster is audited against: one declared unit per control.

A control has an ID, a severity, a title, a remediation text, the data it reads beyond the
cluster listing (`DataSource`s, each naming the IAM permissions collecting it takes) and a pure
check: a function of the cluster snapshot and an `Evidence` view of that data. Adding a control
is adding one decorated function to this module. Where Security Hub has a control (MSK.1, MSK.2,
MSK.4, MSK.6) it keeps Security Hub's ID and semantics; the rest are AUTOPILOT.n.

A check that cannot get its data raises `DataUnavailable` (or returns NOT_AVAILABLE): a control
never passes on data it could not read. A control that does not apply to a cluster (most do not
apply to serverless clusters, whose settings MSK fixes) reports NOT_APPLICABLE, never PASSED.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

import msgspec

from msk_autopilot.msk import ClusterSnapshot, Provisioned
from msk_autopilot.versions.catalogue import Catalogue, SupportState

__all__ = [
    "BROKER_PORTS",
    "CLUSTERS",
    "CLUSTER_POLICY",
    "CONTROLS",
    "DATA_SOURCES",
    "KAFKA_VERSIONS",
    "KMS_KEYS",
    "SCALING_POLICIES",
    "SCRAM_SECRETS",
    "SECURITY_GROUPS",
    "Control",
    "DataSource",
    "DataUnavailable",
    "Evidence",
    "FindingSeverity",
    "IpPermission",
    "Status",
    "Verdict",
    "security_group_ids",
]


class FindingSeverity(StrEnum):
    """Security Hub's severity labels, least to most severe."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return list(FindingSeverity).index(self)


class Status(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    NOT_APPLICABLE = "NOT_APPLICABLE"  # the control does not concern this kind of cluster
    NOT_AVAILABLE = "NOT_AVAILABLE"  # the control could not be checked; the detail says why


class Verdict(msgspec.Struct, frozen=True):
    status: Status
    detail: str


class DataUnavailable(Exception):
    """Data a check needs could not be read (access denied, throttled, deleted mid-run...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DataSource(msgspec.Struct, frozen=True):
    """A kind of data the audit collects, and the IAM actions collecting it calls."""

    name: str
    permissions: tuple[str, ...]


# DescribeClusterV2 reads the one cluster a CloudTrail event names; ListClustersV2 everything else.
CLUSTERS = DataSource("clusters", ("kafka:ListClustersV2", "kafka:DescribeClusterV2"))
KMS_KEYS = DataSource("kms-keys", ("kms:DescribeKey",))
SECURITY_GROUPS = DataSource("security-groups", ("ec2:DescribeSecurityGroups",))
CLUSTER_POLICY = DataSource("cluster-policy", ("kafka:GetClusterPolicy",))
SCRAM_SECRETS = DataSource(
    "scram-secrets",
    ("secretsmanager:ListSecrets", "kms:DescribeKey", "kafka:ListScramSecrets"),
)
KAFKA_VERSIONS = DataSource("kafka-versions", ("kafka:ListKafkaVersions",))
# AWS's published end-of-support dates (msk_autopilot.versions.catalogue), which AUTOPILOT.4 uses.
_CATALOGUE = Catalogue.built_in()
SCALING_POLICIES = DataSource(
    "scaling-policies", ("application-autoscaling:DescribeScalingPolicies",)
)
DATA_SOURCES = (
    CLUSTERS,
    KMS_KEYS,
    SECURITY_GROUPS,
    CLUSTER_POLICY,
    SCRAM_SECRETS,
    KAFKA_VERSIONS,
    SCALING_POLICIES,
)


class IpRange(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    cidr_ip: str = ""


class Ipv6Range(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    cidr_ipv6: str = ""


class IpPermission(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    """One inbound rule of a security group, as ec2:DescribeSecurityGroups reports it."""

    ip_protocol: str
    from_port: int | None = None
    to_port: int | None = None
    ip_ranges: list[IpRange] = []
    ipv6_ranges: list[Ipv6Range] = []


class Evidence(Protocol):
    """What checks may ask beyond the cluster snapshot; each method belongs to one DataSource.

    Every method raises `DataUnavailable` when its data could not be read.
    """

    @property
    def opt_in_tag_key(self) -> str: ...

    @property
    def today(self) -> date:
        """The audit's day (UTC), which end-of-support dates are judged against."""

    def key_manager(self, key_id: str) -> str:
        """KMS's KeyManager of a key: "CUSTOMER" or "AWS" (KMS_KEYS)."""

    def security_group_rules(
        self, group_ids: Sequence[str]
    ) -> Mapping[str, Sequence[IpPermission] | None]:
        """Inbound rules per group; None for a group that does not exist (SECURITY_GROUPS)."""

    def cluster_policy(self, cluster_arn: str) -> Mapping[str, Any] | None:
        """The cluster's resource policy document, or None without one (CLUSTER_POLICY)."""

    def scram_secrets_without_customer_key(self, cluster_arn: str) -> Sequence[str]:
        """Names of the cluster's associated SCRAM secrets that are not encrypted with a
        customer managed KMS key (SCRAM_SECRETS)."""

    def kafka_version_status(self, version: str) -> str | None:
        """MSK's status of an Apache Kafka version (ACTIVE, DEPRECATED), None if MSK does not
        list it (KAFKA_VERSIONS)."""

    def has_storage_scaling_policy(self, cluster_arn: str) -> bool:
        """Whether MSK storage auto scaling has a policy for the cluster (SCALING_POLICIES)."""


type Check = Callable[[ClusterSnapshot, Evidence], Verdict]
type ProvisionedCheck = Callable[[ClusterSnapshot, Provisioned, Evidence], Verdict]


class Control(msgspec.Struct, frozen=True):
    id: str
    severity: FindingSeverity
    title: str
    remediation: str
    sources: tuple[DataSource, ...]
    check: Check

    @property
    def permissions(self) -> tuple[str, ...]:
        """IAM actions auditing this control calls: the listing's and its sources'."""
        return tuple(
            sorted(
                {action for source in (CLUSTERS, *self.sources) for action in source.permissions}
            )
        )

    def evaluate(self, cluster: ClusterSnapshot, evidence: Evidence) -> Verdict:
        try:
            return self.check(cluster, evidence)
        except DataUnavailable as unavailable:
            return Verdict(Status.NOT_AVAILABLE, unavailable.reason)


CONTROLS: dict[str, Control] = {}


def _register(control: Control) -> None:
    if control.id in CONTROLS:
        raise ValueError(f"control {control.id} is declared twice")
    CONTROLS[control.id] = control


def _cluster_control(
    control_id: str,
    severity: FindingSeverity,
    title: str,
    *,
    remediation: str,
    sources: tuple[DataSource, ...] = (),
) -> Callable[[Check], Check]:
    """Declare a control that applies to provisioned and serverless clusters alike."""

    def declare(check: Check) -> Check:
        _register(Control(control_id, severity, title, remediation, sources, check))
        return check

    return declare


def _provisioned_control(
    control_id: str,
    severity: FindingSeverity,
    title: str,
    *,
    remediation: str,
    sources: tuple[DataSource, ...] = (),
) -> Callable[[ProvisionedCheck], ProvisionedCheck]:
    """Declare a control about a setting only provisioned clusters have."""

    def declare(check: ProvisionedCheck) -> ProvisionedCheck:
        def on_any_cluster(cluster: ClusterSnapshot, evidence: Evidence) -> Verdict:
            if cluster.provisioned is None:
                return _not_applicable(
                    f"{cluster.cluster_type.lower()} clusters have no such setting: MSK manages it"
                )
            return check(cluster, cluster.provisioned, evidence)

        _cluster_control(control_id, severity, title, remediation=remediation, sources=sources)(
            on_any_cluster
        )
        return check

    return declare


def _passed(detail: str) -> Verdict:
    return Verdict(Status.PASSED, detail)


def _failed(detail: str) -> Verdict:
    return Verdict(Status.FAILED, detail)


def _not_applicable(detail: str) -> Verdict:
    return Verdict(Status.NOT_APPLICABLE, detail)


# --- Security Hub's MSK controls ------------------------------------------------------------


@_provisioned_control(
    "MSK.1",
    FindingSeverity.MEDIUM,
    "MSK clusters should be encrypted in transit among broker nodes",
    remediation=(
        "MSK cannot turn on in-cluster encryption for an existing cluster: create a new cluster "
        "with EncryptionInTransit.InCluster set to true and move clients and data to it."
    ),
)
def _in_cluster_encryption(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    # Absent means MSK's default, which is on.
    if provisioned.encryption_info.encryption_in_transit.in_cluster is False:
        return _failed("traffic between brokers is not encrypted (InCluster is false)")
    return _passed("traffic between brokers is encrypted")


_FINE_MONITORING = ("PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION")


@_provisioned_control(
    "MSK.2",
    FindingSeverity.LOW,
    "MSK clusters should have enhanced monitoring configured",
    remediation=(
        "Set the cluster's enhanced monitoring to PER_TOPIC_PER_BROKER or "
        "PER_TOPIC_PER_PARTITION (UpdateMonitoring)."
    ),
)
def _enhanced_monitoring(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    level = provisioned.enhanced_monitoring
    if level in _FINE_MONITORING:
        return _passed(f"enhanced monitoring is {level}")
    return _failed(f"enhanced monitoring is {level}, coarser than PER_TOPIC_PER_BROKER")


@_provisioned_control(
    "MSK.4",
    FindingSeverity.CRITICAL,
    "MSK clusters should have public access disabled",
    remediation="Turn public access off: UpdateConnectivity with PublicAccess.Type DISABLED.",
)
def _public_access(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    access = provisioned.broker_node_group_info.connectivity_info.public_access.type
    if access in (None, "DISABLED"):
        return _passed("public access is disabled")
    return _failed(f"public access is on ({access})")


@_provisioned_control(
    "MSK.6",
    FindingSeverity.MEDIUM,
    "MSK clusters should disable unauthenticated access",
    remediation="Turn unauthenticated access off (UpdateSecurity, ClientAuthentication).",
)
def _unauthenticated_access(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    if provisioned.client_authentication.unauthenticated.enabled:
        return _failed("unauthenticated clients may connect")
    return _passed("unauthenticated access is disabled")


# --- What the other tools miss --------------------------------------------------------------


@_provisioned_control(
    "AUTOPILOT.1",
    FindingSeverity.HIGH,
    "MSK clusters should accept TLS-encrypted client traffic only",
    remediation="Set EncryptionInTransit.ClientBroker to TLS (UpdateSecurity).",
)
def _client_tls_only(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    client_broker = provisioned.encryption_info.encryption_in_transit.client_broker
    if client_broker in (None, "TLS"):  # absent means MSK's default, TLS
        return _passed("clients must use TLS")
    return _failed(f"client-broker encryption is {client_broker}: plaintext clients are accepted")


@_provisioned_control(
    "AUTOPILOT.2",
    FindingSeverity.MEDIUM,
    "MSK clusters should encrypt data at rest with a customer managed KMS key",
    remediation=(
        "MSK cannot change the at-rest key of an existing cluster: create a new cluster with a "
        "customer managed key (EncryptionAtRest.DataVolumeKMSKeyId) and migrate to it."
    ),
    sources=(KMS_KEYS,),
)
def _customer_managed_data_key(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    key = provisioned.encryption_info.encryption_at_rest.data_volume_kms_key_id
    if key is None:
        return _failed("data at rest is encrypted with the AWS managed key aws/kafka")
    manager = evidence.key_manager(key)
    if manager == "CUSTOMER":
        return _passed(f"data at rest is encrypted with customer managed key {key}")
    return _failed(f"data at rest is encrypted with an AWS managed key ({key})")


@_provisioned_control(
    "AUTOPILOT.3",
    FindingSeverity.MEDIUM,
    "MSK clusters should deliver broker logs",
    remediation=(
        "Deliver broker logs to CloudWatch Logs, Firehose or S3 "
        "(UpdateMonitoring, LoggingInfo.BrokerLogs)."
    ),
)
def _broker_logs(cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence) -> Verdict:
    logs = provisioned.logging_info.broker_logs
    destinations = [
        name
        for name, destination in (
            ("CloudWatch Logs", logs.cloud_watch_logs),
            ("Firehose", logs.firehose),
            ("S3", logs.s3),
        )
        if destination.enabled
    ]
    if destinations:
        return _passed(f"broker logs go to {', '.join(destinations)}")
    return _failed("broker logs are not delivered anywhere")


@_provisioned_control(
    "AUTOPILOT.4",
    FindingSeverity.MEDIUM,
    "MSK clusters should run an Apache Kafka version MSK still supports",
    remediation=(
        "Upgrade to a supported version (UpdateClusterKafkaVersion; the version upgrader does it "
        "for opted-in clusters) before MSK upgrades the cluster itself."
    ),
    sources=(KAFKA_VERSIONS,),
)
def _supported_kafka_version(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    """Judged by the version catalogue's end-of-support dates, not only by MSK's listing: MSK
    keeps listing versions ACTIVE after their published end of support (2.8.2.tiered, 3.5.1).
    A version still supported but within 90 days of its end passes with a warning in the detail
    (it is compliant today; the finding says by when it stops being)."""
    version = provisioned.current_broker_software_info.kafka_version
    if version is None:
        return Verdict(Status.NOT_AVAILABLE, "the cluster does not report its Kafka version")
    status = evidence.kafka_version_status(version)
    if status is None:
        return _failed(f"Apache Kafka {version} is not among the versions MSK offers")
    return _support_verdict(version, status, evidence.today)


def _support_verdict(version: str, status: str, today: date) -> Verdict:
    support = _CATALOGUE.reconciled({version: status}).support(version, today)
    if support.state is SupportState.PAST_END_OF_SUPPORT:
        if status == "ACTIVE":
            return _failed(f"Apache Kafka {support.describe()}, though MSK still lists it ACTIVE")
        return _failed(f"Apache Kafka {version} is {status}: {support.describe()}")
    if support.state is SupportState.UNKNOWN:
        return Verdict(Status.NOT_AVAILABLE, f"MSK lists it {status}, but {support.describe()}")
    if support.state is SupportState.ENDING_SOON:
        return _passed(
            f"warning: Apache Kafka {support.describe()}; MSK upgrades it itself at any time "
            "after that"
        )
    return _passed(f"Apache Kafka {support.describe()}")


# Every port MSK brokers and ZooKeeper nodes listen on (plaintext, TLS, SCRAM, IAM, public
# listeners 9192-9198, ZooKeeper 2181/2182).
BROKER_PORTS: tuple[int, ...] = (9092, 9094, 9096, 9098, *range(9192, 9199), 2181, 2182)
_TCP_PROTOCOLS = ("-1", "tcp", "6")


def _ports_open_to_world(rule: IpPermission) -> list[int]:
    if rule.ip_protocol not in _TCP_PROTOCOLS:
        return []
    world = any(r.cidr_ip == "0.0.0.0/0" for r in rule.ip_ranges) or any(
        r.cidr_ipv6 == "::/0" for r in rule.ipv6_ranges
    )
    if not world:
        return []
    if rule.ip_protocol == "-1" or rule.from_port is None:
        return list(BROKER_PORTS)
    last = rule.to_port if rule.to_port is not None else rule.from_port
    return [port for port in BROKER_PORTS if rule.from_port <= port <= last]


def security_group_ids(cluster: ClusterSnapshot) -> list[str]:
    """The security groups of a cluster's brokers (provisioned) or VPC endpoints (serverless)."""
    if cluster.provisioned is not None:
        return list(cluster.provisioned.broker_node_group_info.security_groups)
    if cluster.serverless is not None:
        return [g for vpc in cluster.serverless.vpc_configs for g in vpc.security_group_ids]
    return []


@_cluster_control(
    "AUTOPILOT.5",
    FindingSeverity.HIGH,
    "MSK brokers should not be reachable from the internet on Kafka ports",
    remediation=(
        "Remove inbound rules from 0.0.0.0/0 and ::/0 on broker ports from the cluster's "
        "security groups; allow only the clients' CIDRs or security groups."
    ),
    sources=(SECURITY_GROUPS,),
)
def _security_groups_closed(cluster: ClusterSnapshot, evidence: Evidence) -> Verdict:
    group_ids = security_group_ids(cluster)
    if not group_ids:
        return Verdict(Status.NOT_AVAILABLE, "the cluster reports no security groups")
    rules = evidence.security_group_rules(group_ids)
    open_groups = {
        group: sorted({port for rule in group_rules for port in _ports_open_to_world(rule)})
        for group, group_rules in rules.items()
        if group_rules is not None
    }
    exposed = {group: ports for group, ports in open_groups.items() if ports}
    if exposed:
        return _failed(
            "open to the internet: "
            + "; ".join(f"{group} ports {_port_list(ports)}" for group, ports in exposed.items())
        )
    missing = [group for group in group_ids if rules.get(group) is None]
    if missing:
        return Verdict(Status.NOT_AVAILABLE, f"security groups not found: {', '.join(missing)}")
    return _passed(f"no rule of {', '.join(group_ids)} opens a broker port to the internet")


def _port_list(ports: Sequence[int]) -> str:
    return ", ".join(str(port) for port in ports)


def _wildcard_principal(principal: object) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


@_cluster_control(
    "AUTOPILOT.6",
    FindingSeverity.HIGH,
    "MSK cluster policies should not grant access to every principal",
    remediation=(
        "Name the accounts or roles in the cluster policy's Principal, or add a Condition "
        '(aws:PrincipalOrgID, aws:SourceVpce...) to every statement with Principal "*" '
        "(PutClusterPolicy)."
    ),
    sources=(CLUSTER_POLICY,),
)
def _no_wildcard_cluster_policy(cluster: ClusterSnapshot, evidence: Evidence) -> Verdict:
    policy = evidence.cluster_policy(cluster.cluster_arn)
    if policy is None:
        return _passed("the cluster has no cluster policy")
    statements = policy.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    open_statements = [
        str(statement.get("Sid") or f"statement {index}")
        for index, statement in enumerate(statements, start=1)
        if isinstance(statement, Mapping)
        and statement.get("Effect") == "Allow"
        and not statement.get("Condition")
        # NotPrincipal with Allow grants to everyone but the principals it names.
        and ("NotPrincipal" in statement or _wildcard_principal(statement.get("Principal")))
    ]
    if open_statements:
        return _failed("grants to any principal without a condition: " + ", ".join(open_statements))
    return _passed("every statement names its principals or has a condition")


@_provisioned_control(
    "AUTOPILOT.7",
    FindingSeverity.MEDIUM,
    "SCRAM secrets of MSK clusters should be encrypted with a customer managed KMS key",
    remediation=(
        "Re-encrypt each listed secret with a customer managed KMS key (Secrets Manager "
        "UpdateSecret KmsKeyId) whose key policy lets MSK decrypt it."
    ),
    sources=(SCRAM_SECRETS,),
)
def _scram_secret_keys(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    if not provisioned.client_authentication.sasl.scram.enabled:
        return _not_applicable("SASL/SCRAM authentication is off")
    weak = evidence.scram_secrets_without_customer_key(cluster.cluster_arn)
    if weak:
        return _failed("not encrypted with a customer managed key: " + ", ".join(weak))
    return _passed("every associated SCRAM secret uses a customer managed key")


@_provisioned_control(
    "AUTOPILOT.8",
    FindingSeverity.HIGH,
    "MSK clusters should authenticate clients",
    remediation="Turn on IAM, SASL/SCRAM or mutual TLS client authentication (UpdateSecurity).",
)
def _client_authentication(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    auth = provisioned.client_authentication
    methods = [
        name
        for name, enabled in (
            ("IAM", auth.sasl.iam.enabled),
            ("SASL/SCRAM", auth.sasl.scram.enabled),
            ("mutual TLS", auth.tls.enabled),
        )
        if enabled
    ]
    if methods:
        return _passed(f"clients authenticate with {', '.join(methods)}")
    return _failed("no client authentication method is on")


@_provisioned_control(
    "AUTOPILOT.9",
    FindingSeverity.MEDIUM,
    "MSK broker storage should be protected from filling up",
    remediation=(
        "Opt the cluster in to msk-autopilot's storage scaler (tag <OptInTagKey>=true) or add an "
        "MSK storage auto scaling policy (Application Auto Scaling, "
        "kafka:broker-storage:VolumeSize)."
    ),
    sources=(SCALING_POLICIES,),
)
def _storage_protected(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    if provisioned.broker_node_group_info.instance_type.startswith("express."):
        return _not_applicable("Express brokers manage their own storage")
    if cluster.opted_in(evidence.opt_in_tag_key):
        return _passed("msk-autopilot's storage scaler manages the cluster's storage")
    if evidence.has_storage_scaling_policy(cluster.cluster_arn):
        return _passed("an MSK storage auto scaling policy grows the cluster's storage")
    return _failed("neither msk-autopilot nor MSK storage auto scaling grows the storage")


@_provisioned_control(
    "AUTOPILOT.10",
    FindingSeverity.LOW,
    "MSK brokers should span at least three Availability Zones",
    remediation=(
        "Brokers are placed in the client subnets' zones at creation: create a cluster with "
        "client subnets in three Availability Zones and migrate to it."
    ),
)
def _three_zones(cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence) -> Verdict:
    # MSK accepts client subnets only in distinct Availability Zones: one subnet, one zone.
    zones = len(set(provisioned.broker_node_group_info.client_subnets))
    if zones >= 3:
        return _passed(f"brokers span {zones} Availability Zones")
    return _failed(f"brokers span {zones} Availability Zones")
