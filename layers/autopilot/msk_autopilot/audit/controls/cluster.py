"""The controls whose subject is an MSK cluster, and the kinds of cluster each judges.

Kinds (`ClusterKind`): Standard (provisioned, kafka.* brokers), Express (provisioned,
express.* brokers) and Serverless. A control declares the kinds it checks and, for kinds whose
setting MSK fixes, the fixed verdict with its reason; other kinds are NOT_APPLICABLE (the
cluster has no such setting). Where Security Hub has a control (MSK.1, MSK.2, MSK.4, MSK.6) it
keeps Security Hub's ID and semantics; the rest are AUTOPILOT.n. Per control:

| control | Standard | Express | Serverless |
|---|---|---|---|
| MSK.1 in-cluster encryption | checked | checked | not applicable (no such setting) |
| MSK.2 enhanced monitoring | checked | checked | not applicable (no monitoring level) |
| MSK.4 public access | checked | checked | PASSED: reachable through VPC endpoints only |
| MSK.6 unauthenticated access | checked | checked | PASSED: IAM only |
| AUTOPILOT.1 client TLS | checked | checked | PASSED: TLS only |
| AUTOPILOT.2 customer managed key | checked | checked | FAILED: no customer managed key |
| AUTOPILOT.3 broker logs | checked | checked | FAILED: no broker log delivery |
| AUTOPILOT.4 supported version | checked | checked | not applicable (no version) |
| AUTOPILOT.5 internet exposure | checked | checked | checked (port 9098) |
| AUTOPILOT.6 cluster policy | checked | checked | checked |
| AUTOPILOT.7 SCRAM secret keys | checked | checked | not applicable (no SCRAM) |
| AUTOPILOT.8 client authentication | checked | checked | PASSED: IAM only |
| AUTOPILOT.9 storage protection | checked | PASSED: nothing to fill | PASSED: nothing to fill |
| AUTOPILOT.10 three zones | checked | checked | not applicable (MSK places it) |
| AUTOPILOT.12 topic durability | checked | checked | not applicable (no topic APIs) |
| AUTOPILOT.13 Kafka actions recorded | checked (IAM on) | checked (IAM on) | checked |

AUTOPILOT.12 and AUTOPILOT.13 are declared with the evidence they read (`durability`,
`trails`), through `cluster_control` and `provisioned_control`, as are the connector and
account-and-Region controls (`connectors`, `trails`) through `declare_control`.

A fixed setting that falls short of a control is a FAILED finding, like any other: a
requirement for a customer managed key is not met by a serverless cluster, whoever chose that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from enum import StrEnum

from msk_autopilot.audit.controls.network import cluster_ports, exposed_ports
from msk_autopilot.audit.controls.policy import open_statements
from msk_autopilot.audit.controls.registry import (
    Category,
    Control,
    DataSource,
    Evidence,
    FindingSeverity,
    Subject,
    Verdict,
    declare_control,
    failed,
    not_applicable,
    not_available,
    passed,
)
from msk_autopilot.msk import ClusterSnapshot, Provisioned
from msk_autopilot.versions.catalogue import Catalogue, SupportState

__all__ = [
    "CLUSTER_POLICY",
    "KAFKA_VERSIONS",
    "KMS_KEYS",
    "PROVISIONED_KINDS",
    "SCALING_POLICIES",
    "SCRAM_SECRETS",
    "SECURITY_GROUPS",
    "ClusterKind",
    "cluster_control",
    "provisioned_control",
    "security_group_ids",
]


class ClusterKind(StrEnum):
    STANDARD = "Standard"
    EXPRESS = "Express"
    SERVERLESS = "Serverless"

    @classmethod
    def of(cls, cluster: ClusterSnapshot) -> ClusterKind:
        if cluster.provisioned is None:
            return cls.SERVERLESS
        if cluster.provisioned.broker_node_group_info.instance_type.startswith("express."):
            return cls.EXPRESS
        return cls.STANDARD


STANDARD, EXPRESS, SERVERLESS = ClusterKind
PROVISIONED_KINDS = (STANDARD, EXPRESS)

KMS_KEYS = DataSource("kms-keys", ("kms:DescribeKey",))
SECURITY_GROUPS = DataSource("security-groups", ("ec2:DescribeSecurityGroups",))
CLUSTER_POLICY = DataSource("cluster-policy", ("kafka:GetClusterPolicy",))
SCRAM_SECRETS = DataSource(
    "scram-secrets",
    ("secretsmanager:ListSecrets", "kms:DescribeKey", "kafka:ListScramSecrets"),
)
KAFKA_VERSIONS = DataSource("kafka-versions", ("kafka:ListKafkaVersions",))
SCALING_POLICIES = DataSource(
    "scaling-policies", ("application-autoscaling:DescribeScalingPolicies",)
)
# AWS's published end-of-support dates (msk_autopilot.versions.catalogue), which AUTOPILOT.4 uses.
_CATALOGUE = Catalogue.built_in()

type ClusterCheck = Callable[[ClusterSnapshot, Evidence], Verdict]
type ProvisionedCheck = Callable[[ClusterSnapshot, Provisioned, Evidence], Verdict]


def cluster_control(
    control_id: str,
    severity: FindingSeverity,
    title: str,
    *,
    remediation: str,
    kinds: Sequence[ClusterKind] = tuple(ClusterKind),
    fixed: Mapping[ClusterKind, Verdict] | None = None,
    category: Category = Category.SECURITY,
    sources: tuple[DataSource, ...] = (),
) -> Callable[[ClusterCheck], ClusterCheck]:
    """Declare a control on clusters: `check` judges the `kinds` it checks; `fixed` gives the
    verdict on kinds whose setting MSK fixes; any other kind is NOT_APPLICABLE."""
    fixed_verdicts = dict(fixed or {})

    def declare(check: ClusterCheck) -> ClusterCheck:
        def on_its_kinds(cluster: ClusterSnapshot, evidence: Evidence) -> Verdict:
            kind = ClusterKind.of(cluster)
            if kind in fixed_verdicts:
                return fixed_verdicts[kind]
            if kind in kinds:
                return check(cluster, evidence)
            return not_applicable(f"{kind} clusters have no such setting")

        declare_control(
            Control(
                id=control_id,
                severity=severity,
                category=category,
                title=title,
                remediation=remediation,
                subject=Subject.CLUSTER,
                sources=sources,
                check=on_its_kinds,
                kinds=tuple(
                    kind for kind in ClusterKind if kind in kinds or kind in fixed_verdicts
                ),
            )
        )
        return check

    return declare


def provisioned_control(
    control_id: str,
    severity: FindingSeverity,
    title: str,
    *,
    remediation: str,
    kinds: Sequence[ClusterKind] = PROVISIONED_KINDS,
    fixed: Mapping[ClusterKind, Verdict] | None = None,
    category: Category = Category.SECURITY,
    sources: tuple[DataSource, ...] = (),
) -> Callable[[ProvisionedCheck], ProvisionedCheck]:
    """Declare a control on a setting of provisioned clusters (Standard and Express)."""

    def declare(check: ProvisionedCheck) -> ProvisionedCheck:
        def on_provisioned(cluster: ClusterSnapshot, evidence: Evidence) -> Verdict:
            assert cluster.provisioned is not None
            return check(cluster, cluster.provisioned, evidence)

        cluster_control(
            control_id,
            severity,
            title,
            remediation=remediation,
            kinds=kinds,
            fixed=fixed,
            category=category,
            sources=sources,
        )(on_provisioned)
        return check

    return declare


_SERVERLESS_IAM_ONLY = (
    "serverless clusters accept only clients authenticated with IAM, over TLS (MSK fixes it)"
)


# --- Security Hub's MSK controls ------------------------------------------------------------


@provisioned_control(
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
        return failed("traffic between brokers is not encrypted (InCluster is false)")
    return passed("traffic between brokers is encrypted")


_FINE_MONITORING = ("PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION")


@provisioned_control(
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
        return passed(f"enhanced monitoring is {level}")
    return failed(f"enhanced monitoring is {level}, coarser than PER_TOPIC_PER_BROKER")


@provisioned_control(
    "MSK.4",
    FindingSeverity.CRITICAL,
    "MSK clusters should have public access disabled",
    remediation="Turn public access off: UpdateConnectivity with PublicAccess.Type DISABLED.",
    fixed={
        SERVERLESS: passed(
            "serverless clusters have no public access: clients connect through VPC endpoints "
            "only (MSK fixes it)"
        )
    },
)
def _public_access(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    access = provisioned.broker_node_group_info.connectivity_info.public_access.type
    if access in (None, "DISABLED"):
        return passed("public access is disabled")
    return failed(f"public access is on ({access})")


@provisioned_control(
    "MSK.6",
    FindingSeverity.MEDIUM,
    "MSK clusters should disable unauthenticated access",
    remediation="Turn unauthenticated access off (UpdateSecurity, ClientAuthentication).",
    fixed={SERVERLESS: passed(_SERVERLESS_IAM_ONLY)},
)
def _unauthenticated_access(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    if provisioned.client_authentication.unauthenticated.enabled:
        return failed("unauthenticated clients may connect")
    return passed("unauthenticated access is disabled")


# --- What the other tools miss --------------------------------------------------------------


@provisioned_control(
    "AUTOPILOT.1",
    FindingSeverity.HIGH,
    "MSK clusters should accept TLS-encrypted client traffic only",
    remediation="Set EncryptionInTransit.ClientBroker to TLS (UpdateSecurity).",
    fixed={SERVERLESS: passed(_SERVERLESS_IAM_ONLY)},
)
def _client_tls_only(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    client_broker = provisioned.encryption_info.encryption_in_transit.client_broker
    if client_broker in (None, "TLS"):  # absent means MSK's default, TLS
        return passed("clients must use TLS")
    return failed(f"client-broker encryption is {client_broker}: plaintext clients are accepted")


@provisioned_control(
    "AUTOPILOT.2",
    FindingSeverity.MEDIUM,
    "MSK clusters should encrypt data at rest with a customer managed KMS key",
    remediation=(
        "MSK cannot change the at-rest key of an existing cluster: create a new cluster with a "
        "customer managed key (EncryptionAtRest.DataVolumeKMSKeyId) and migrate to it; serverless "
        "clusters offer no customer managed key: use a provisioned cluster where one is required."
    ),
    fixed={
        SERVERLESS: failed(
            "serverless clusters encrypt data at rest with a key AWS manages: no customer "
            "managed key can be chosen (MSK fixes it)"
        )
    },
    sources=(KMS_KEYS,),
)
def _customer_managed_data_key(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    key = provisioned.encryption_info.encryption_at_rest.data_volume_kms_key_id
    if key is None:
        return failed("data at rest is encrypted with the AWS managed key aws/kafka")
    manager = evidence.key_manager(key)
    if manager == "CUSTOMER":
        return passed(f"data at rest is encrypted with customer managed key {key}")
    return failed(f"data at rest is encrypted with an AWS managed key ({key})")


@provisioned_control(
    "AUTOPILOT.3",
    FindingSeverity.MEDIUM,
    "MSK clusters should deliver broker logs",
    remediation=(
        "Deliver broker logs to CloudWatch Logs, Firehose or S3 "
        "(UpdateMonitoring, LoggingInfo.BrokerLogs); serverless clusters deliver none: use a "
        "provisioned cluster where broker logs are required."
    ),
    fixed={
        SERVERLESS: failed(
            "serverless clusters deliver no broker logs (MSK fixes it); only CloudTrail records "
            "their API calls"
        )
    },
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
        return passed(f"broker logs go to {', '.join(destinations)}")
    return failed("broker logs are not delivered anywhere")


@provisioned_control(
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
        return not_available("the cluster does not report its Kafka version")
    status = evidence.kafka_version_status(version)
    if status is None:
        return failed(f"Apache Kafka {version} is not among the versions MSK offers")
    return _support_verdict(version, status, evidence.today)


def _support_verdict(version: str, status: str, today: date) -> Verdict:
    support = _CATALOGUE.reconciled({version: status}).support(version, today)
    if support.state is SupportState.PAST_END_OF_SUPPORT:
        if status == "ACTIVE":
            return failed(f"Apache Kafka {support.describe()}, though MSK still lists it ACTIVE")
        return failed(f"Apache Kafka {version} is {status}: {support.describe()}")
    if support.state is SupportState.UNKNOWN:
        return not_available(f"MSK lists it {status}, but {support.describe()}")
    if support.state is SupportState.ENDING_SOON:
        return passed(
            f"warning: Apache Kafka {support.describe()}; MSK upgrades it itself at any time "
            "after that"
        )
    return passed(f"Apache Kafka {support.describe()}")


def security_group_ids(cluster: ClusterSnapshot) -> list[str]:
    """The security groups of a cluster's brokers (provisioned) or VPC endpoints (serverless)."""
    if cluster.provisioned is not None:
        return list(cluster.provisioned.broker_node_group_info.security_groups)
    if cluster.serverless is not None:
        return [g for vpc in cluster.serverless.vpc_configs for g in vpc.security_group_ids]
    return []


@cluster_control(
    "AUTOPILOT.5",
    FindingSeverity.HIGH,
    "MSK brokers should not be reachable from the internet on Kafka ports",
    remediation=(
        "Remove inbound rules on broker ports whose source is wider than a /16 of public IPv4 "
        "or a /32 of public IPv6 (0.0.0.0/0, ::/0...) from the cluster's security groups; allow "
        "only the clients' CIDRs or security groups."
    ),
    sources=(SECURITY_GROUPS,),
)
def _security_groups_closed(cluster: ClusterSnapshot, evidence: Evidence) -> Verdict:
    group_ids = security_group_ids(cluster)
    if not group_ids:
        return not_available("the cluster reports no security groups")
    rules = evidence.security_group_rules(group_ids)
    ports = cluster_ports(cluster)
    open_groups = {
        group: sorted({port for rule in group_rules for port in exposed_ports(rule, ports)})
        for group, group_rules in rules.items()
        if group_rules is not None
    }
    exposed = {group: found for group, found in open_groups.items() if found}
    if exposed:
        return failed(
            "open to the internet: "
            + "; ".join(f"{group} ports {_port_list(found)}" for group, found in exposed.items())
        )
    missing = [group for group in group_ids if rules.get(group) is None]
    if missing:
        return not_available(f"security groups not found: {', '.join(missing)}")
    return passed(
        f"no rule of {', '.join(group_ids)} opens a port the cluster uses "
        f"({_port_list(ports)}) to the internet"
    )


def _port_list(ports: Sequence[int]) -> str:
    return ", ".join(str(port) for port in ports)


@cluster_control(
    "AUTOPILOT.6",
    FindingSeverity.HIGH,
    "MSK cluster policies should not grant access to every principal",
    remediation=(
        "Name the accounts or roles in the cluster policy's Principal, or constrain every "
        'statement with Principal "*" by a condition on who the principal is '
        "(aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn...) (PutClusterPolicy)."
    ),
    sources=(CLUSTER_POLICY,),
)
def _no_wildcard_cluster_policy(cluster: ClusterSnapshot, evidence: Evidence) -> Verdict:
    policy = evidence.cluster_policy(cluster.cluster_arn)
    if policy is None:
        return passed("the cluster has no cluster policy")
    open_to_all = open_statements(policy)
    if open_to_all:
        return failed(
            "grants to any principal without a condition on who the principal is: "
            + ", ".join(open_to_all)
        )
    return passed("every statement names its principals or constrains them by a condition")


@provisioned_control(
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
    """No associated secret is NOT_AVAILABLE, not PASSED: the control judges secrets' keys, and
    with none there is nothing to judge either way (nor to re-key: FAILED would be a finding no
    fix of this control clears). It stays visible until a secret is associated."""
    if not provisioned.client_authentication.sasl.scram.enabled:
        return not_applicable("SASL/SCRAM authentication is off")
    secrets = evidence.scram_secrets(cluster.cluster_arn)
    if secrets.without_customer_key:
        return failed(
            "not encrypted with a customer managed key: " + ", ".join(secrets.without_customer_key)
        )
    if secrets.associated == 0:
        return not_available(
            "SASL/SCRAM is on but no secret is associated: there is no secret whose key could "
            "be checked"
        )
    return passed(
        f"each of the {secrets.associated} associated SCRAM secrets uses a customer managed key"
    )


@provisioned_control(
    "AUTOPILOT.8",
    FindingSeverity.HIGH,
    "MSK clusters should authenticate clients",
    remediation=(
        "Turn on IAM, SASL/SCRAM or mutual TLS client authentication and turn unauthenticated "
        "access off (UpdateSecurity)."
    ),
    fixed={SERVERLESS: passed(_SERVERLESS_IAM_ONLY)},
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
    if auth.unauthenticated.enabled:
        if methods:
            return failed(
                f"{', '.join(methods)} {'is' if len(methods) == 1 else 'are'} on, but "
                "unauthenticated access is on too: unauthenticated clients are still accepted"
            )
        return failed("no client authentication method is on: every client is accepted")
    if methods:
        return passed(f"clients authenticate with {', '.join(methods)}")
    return failed("no client authentication method is on")


@provisioned_control(
    "AUTOPILOT.9",
    FindingSeverity.MEDIUM,
    "MSK broker storage should be protected from filling up",
    remediation=(
        "Opt the cluster in to msk-autopilot's storage scaler (tag <OptInTagKey>=true) or add an "
        "MSK storage auto scaling policy (Application Auto Scaling, "
        "kafka:broker-storage:VolumeSize)."
    ),
    kinds=(STANDARD,),
    fixed={
        EXPRESS: passed("Express brokers have no provisioned storage to fill: MSK scales it"),
        SERVERLESS: passed(
            "serverless clusters have no provisioned storage to fill: MSK scales it"
        ),
    },
    category=Category.RESILIENCE,
    sources=(SCALING_POLICIES,),
)
def _storage_protected(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    if cluster.opted_in(evidence.opt_in_tag_key):
        return passed("msk-autopilot's storage scaler manages the cluster's storage")
    if evidence.has_storage_scaling_policy(cluster.cluster_arn):
        return passed("an MSK storage auto scaling policy grows the cluster's storage")
    return failed("neither msk-autopilot nor MSK storage auto scaling grows the storage")


@provisioned_control(
    "AUTOPILOT.10",
    FindingSeverity.LOW,
    "MSK brokers should span at least three Availability Zones",
    remediation=(
        "Brokers are placed in the client subnets' zones at creation: create a cluster with "
        "client subnets in three Availability Zones and migrate to it."
    ),
    category=Category.RESILIENCE,
)
def _three_zones(cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence) -> Verdict:
    # MSK accepts client subnets only in distinct Availability Zones: one subnet, one zone.
    zones = len(set(provisioned.broker_node_group_info.client_subnets))
    if zones >= 3:
        return passed(f"brokers span {zones} Availability Zones")
    return failed(f"brokers span {zones} Availability Zones")
