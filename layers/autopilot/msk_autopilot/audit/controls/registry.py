"""The registry every audit control is declared in, and the vocabulary of its verdicts.

A control has an ID, a severity, a category (security or resilience), a title, a remediation
text, the data it reads beyond the listing of its subjects (`DataSource`s, each naming the IAM
permissions collecting it takes) and a pure check: a function of one subject and an `Evidence`
view of that data.

Subjects: a control judges one kind of resource (`Subject`): an MSK cluster (Security Hub's
AwsMskCluster), an MSK Connect connector (AWS::KafkaConnect::Connector, Security Hub's MSK.3
and MSK.5), or an account and Region (controls on account-wide settings, such as a CloudTrail
trail recording MSK's management events). `declare_control` registers a control for any
subject; cluster controls use the decorators of `controls.cluster`, which add cluster kinds.

A check that cannot get its data raises `DataUnavailable` (or returns NOT_AVAILABLE): a control
never passes on data it could not read. A control reports NOT_APPLICABLE only where its subject
has no such setting at all, never where MSK fixes the setting: there it gives the fixed
setting's verdict and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

if TYPE_CHECKING:
    from msk_autopilot.audit.durability import ClusterTopics
    from msk_autopilot.audit.trails import Trail

__all__ = [
    "CLUSTERS",
    "CONTROLS",
    "AccountRegion",
    "AuditedResource",
    "Category",
    "Check",
    "Control",
    "DataSource",
    "DataUnavailable",
    "Evidence",
    "FindingSeverity",
    "IpPermission",
    "ScramSecrets",
    "Status",
    "Subject",
    "Verdict",
    "declare_control",
    "failed",
    "not_applicable",
    "not_available",
    "passed",
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


class Category(StrEnum):
    """What a failure puts at risk: confidentiality and integrity, or availability and data."""

    SECURITY = "SECURITY"
    RESILIENCE = "RESILIENCE"


class Subject(StrEnum):
    """The kind of resource a control judges; a report entry names its subject."""

    CLUSTER = "cluster"
    CONNECTOR = "connector"
    ACCOUNT_REGION = "account-region"


class Status(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    NOT_APPLICABLE = "NOT_APPLICABLE"  # the subject has no such setting
    NOT_AVAILABLE = "NOT_AVAILABLE"  # the control could not be checked; the detail says why


class Verdict(msgspec.Struct, frozen=True):
    status: Status
    detail: str


def passed(detail: str) -> Verdict:
    return Verdict(Status.PASSED, detail)


def failed(detail: str) -> Verdict:
    return Verdict(Status.FAILED, detail)


def not_applicable(detail: str) -> Verdict:
    return Verdict(Status.NOT_APPLICABLE, detail)


def not_available(detail: str) -> Verdict:
    return Verdict(Status.NOT_AVAILABLE, detail)


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
    """What checks may ask beyond their subject; each method belongs to one DataSource, and a
    new kind of data is a new method here, collected lazily by `collect.RegionEvidence`.

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

    def scram_secrets(self, cluster_arn: str) -> ScramSecrets:
        """The cluster's associated SCRAM secrets, as far as their keys matter
        (SCRAM_SECRETS)."""

    def kafka_version_status(self, version: str) -> str | None:
        """MSK's status of an Apache Kafka version (ACTIVE, DEPRECATED), None if MSK does not
        list it (KAFKA_VERSIONS)."""

    def has_storage_scaling_policy(self, cluster_arn: str) -> bool:
        """Whether MSK storage auto scaling has a policy for the cluster (SCALING_POLICIES)."""

    def cluster_topics(self, cluster_arn: str) -> ClusterTopics:
        """The cluster's topics and their durability settings, through MSK's topic APIs
        (durability.TOPICS)."""

    def trails(self) -> Sequence[Trail]:
        """The CloudTrail trails that may record the audited Region (trails.TRAILS)."""


class ScramSecrets(msgspec.Struct, frozen=True):
    """A cluster's associated SCRAM secrets: how many, and the names of those not encrypted
    with a customer managed KMS key."""

    associated: int
    without_customer_key: tuple[str, ...] = ()


class AccountRegion(msgspec.Struct, frozen=True):
    """The subject of an account and Region control."""

    account: str
    region: str

    @property
    def resource_id(self) -> str:
        """Security Hub's Id of an account resource (one per account; the Region is apart)."""
        return f"AWS::::Account:{self.account}"


class AuditedResource(msgspec.Struct, frozen=True):
    """One resource the runner evaluates its subject's controls on: what a report entry names,
    and the value checks receive (a ClusterSnapshot, a connector, an AccountRegion)."""

    subject: Subject
    arn: str
    name: str
    value: Any


type Check = Callable[[Any, Evidence], Verdict]


class Control(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    severity: FindingSeverity
    category: Category
    title: str
    remediation: str
    subject: Subject
    sources: tuple[DataSource, ...]
    check: Check
    # The cluster kinds it judges (checked or fixed by MSK); empty for other subjects.
    kinds: tuple[str, ...] = ()

    @property
    def permissions(self) -> tuple[str, ...]:
        """IAM actions auditing this control calls: the listing's and its sources'."""
        listing = (CLUSTERS,) if self.subject is Subject.CLUSTER else ()
        return tuple(
            sorted(
                {action for source in (*listing, *self.sources) for action in source.permissions}
            )
        )

    def evaluate(self, subject: Any, evidence: Evidence) -> Verdict:
        try:
            return self.check(subject, evidence)
        except DataUnavailable as unavailable:
            return not_available(unavailable.reason)


CONTROLS: dict[str, Control] = {}


def declare_control(control: Control) -> Control:
    """Register a control; an ID is declared once."""
    if control.id in CONTROLS:
        raise ValueError(f"control {control.id} is declared twice")
    CONTROLS[control.id] = control
    return control
