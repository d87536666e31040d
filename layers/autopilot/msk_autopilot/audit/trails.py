"""Audit logging of an account and Region: is a CloudTrail trail recording MSK's API calls?

Changes to clusters (CreateClusterV2, UpdateSecurity, DeleteCluster...) are CloudTrail
management events from kafka.amazonaws.com. A Region is covered when at least one trail

- is logging (GetTrailStatus IsLogging),
- records write management events (reads alone miss every change) without excluding MSK's
  event source, by basic or advanced event selectors, and
- is multi-Region or homed in the audited Region.

On clusters with IAM access control MSK also records Kafka actions (CreateTopic, AlterTopic,
DeleteTopic, the dynamic configuration calls) as events from kafka-cluster.amazonaws.com, and
only there (logging-API-using-cloudtrail.html); they are management events (Event history shows
them). Reading and writing data (ReadData, WriteData) is never recorded. `kafka_actions_note`
says, for such a cluster, when no covering trail records that source.

Calls (`collect.read_trails`, once per run and Region): DescribeTrails (includeShadowTrails, so
multi-Region and organization trails homed elsewhere are seen), then per trail GetTrailStatus
and GetEventSelectors, asked in the trail's home Region, which always answers for its trails.

Controls: AUTOPILOT.11 judges the account and Region (full runs only); AUTOPILOT.13 carries the
note on each cluster with IAM access control (serverless clusters included: IAM only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec

from msk_autopilot.audit.controls import (
    AccountRegion,
    Category,
    ClusterKind,
    Control,
    DataSource,
    Evidence,
    FindingSeverity,
    Status,
    Subject,
    Verdict,
    cluster_control,
    declare_control,
)
from msk_autopilot.msk import ClusterSnapshot

__all__ = [
    "KAFKA_ACTIONS_SOURCE",
    "MSK_SOURCE",
    "TRAILS",
    "AdvancedEventSelector",
    "EventSelector",
    "Trail",
    "audit_logging",
    "kafka_actions_note",
]

TRAILS = DataSource(
    "trails",
    ("cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"),
)
MSK_SOURCE = "kafka.amazonaws.com"
KAFKA_ACTIONS_SOURCE = "kafka-cluster.amazonaws.com"


class EventSelector(msgspec.Struct, frozen=True, rename="pascal"):
    """A basic event selector (GetEventSelectors EventSelectors)."""

    read_write_type: Literal["ReadOnly", "WriteOnly", "All"] = "All"
    include_management_events: bool = True
    exclude_management_event_sources: list[str] = []


class FieldSelector(msgspec.Struct, frozen=True, rename="pascal"):
    field: str
    equals: list[str] = []
    not_equals: list[str] = []
    starts_with: list[str] = []
    not_starts_with: list[str] = []


class AdvancedEventSelector(msgspec.Struct, frozen=True, rename="pascal"):
    field_selectors: list[FieldSelector]
    name: str = ""


class Trail(msgspec.Struct, frozen=True):
    """A trail as the audit judges it: DescribeTrails' entry with its status and selectors."""

    name: str
    arn: str
    home_region: str
    multi_region: bool
    logging: bool
    selectors: list[EventSelector] = []
    advanced_selectors: list[AdvancedEventSelector] = []


def _basic_records_writes(selector: EventSelector, source: str) -> bool:
    return (
        selector.include_management_events
        and selector.read_write_type in ("All", "WriteOnly")
        and source not in selector.exclude_management_event_sources
    )


def _matches(field: FieldSelector, value: str) -> bool:
    """Whether a field selector lets `value` through (its conditions are ANDed)."""
    return (
        (not field.equals or value in field.equals)
        and value not in field.not_equals
        and (not field.starts_with or value.startswith(tuple(field.starts_with)))
        and not (field.not_starts_with and value.startswith(tuple(field.not_starts_with)))
    )


def _advanced_records_writes(selector: AdvancedEventSelector, source: str) -> bool:
    # The event an advanced selector must let through: a write management event from source.
    event = {"eventCategory": "Management", "readOnly": "false", "eventSource": source}
    fields = {field.field: field for field in selector.field_selectors}
    if "eventCategory" not in fields:
        return False  # CloudTrail requires it; without it the selector records nothing known
    # A field beyond these (eventName, for one) narrows it to some calls: not all of MSK's.
    return set(fields) <= set(event) and all(
        _matches(field, event[name]) for name, field in fields.items()
    )


def _records_writes_from(trail: Trail, source: str) -> bool:
    if not trail.selectors and not trail.advanced_selectors:
        return True  # CloudTrail's default: a trail records every management event
    return any(_basic_records_writes(s, source) for s in trail.selectors) or any(
        _advanced_records_writes(s, source) for s in trail.advanced_selectors
    )


def _covers(trail: Trail, region: str) -> bool:
    return trail.multi_region or trail.home_region == region


def _why_not(trail: Trail, region: str) -> str:
    if not _covers(trail, region):
        return f"{trail.name} records {trail.home_region} only"
    if not trail.logging:
        return f"{trail.name} is not logging"
    return f"{trail.name} does not record write management events from {MSK_SOURCE}"


def _recording(trails: Sequence[Trail], region: str, source: str) -> list[Trail]:
    return [
        trail
        for trail in trails
        if trail.logging and _covers(trail, region) and _records_writes_from(trail, source)
    ]


def audit_logging(region: str, trails: Sequence[Trail]) -> Verdict:
    """The account and Region's verdict: some trail records MSK's management write events."""
    recording = _recording(trails, region, MSK_SOURCE)
    if recording:
        return Verdict(
            Status.PASSED,
            f"MSK's API calls in {region} are recorded by "
            + ", ".join(trail.name for trail in recording),
        )
    if not trails:
        return Verdict(Status.FAILED, f"no CloudTrail trail records {region}")
    return Verdict(
        Status.FAILED,
        f"no trail records MSK's API calls in {region}: "
        + "; ".join(_why_not(trail, region) for trail in trails),
    )


def kafka_actions_note(
    cluster: ClusterSnapshot, region: str, trails: Sequence[Trail]
) -> str | None:
    """For a cluster with IAM access control, a note when its Kafka actions (topic and
    configuration changes) are recorded by no trail; None when they are, or cannot be."""
    if cluster.provisioned is not None:
        iam = cluster.provisioned.client_authentication.sasl.iam.enabled
    else:
        iam = True  # serverless clusters use IAM access control only
    if not iam or _recording(trails, region, KAFKA_ACTIONS_SOURCE):
        return None
    return (
        f"no trail records {KAFKA_ACTIONS_SOURCE} in {region}: the Kafka actions IAM "
        "authorizes on this cluster (topic and configuration changes) leave no record"
    )


def _audit_logging(scope: AccountRegion, evidence: Evidence) -> Verdict:
    return audit_logging(scope.region, evidence.trails())


declare_control(
    Control(
        id="AUTOPILOT.11",
        severity=FindingSeverity.MEDIUM,
        category=Category.SECURITY,
        title="A CloudTrail trail should record MSK's API calls in every audited Region",
        remediation=(
            "Create a multi-Region trail (or one in this Region) that records write management "
            "events without excluding kafka.amazonaws.com, and start it (CreateTrail "
            "IsMultiRegionTrail, StartLogging); fix the selectors or start the trails named."
        ),
        subject=Subject.ACCOUNT_REGION,
        sources=(TRAILS,),
        check=_audit_logging,
    )
)


@cluster_control(
    "AUTOPILOT.13",
    FindingSeverity.LOW,
    "Kafka actions on MSK clusters with IAM access control should be recorded by CloudTrail",
    remediation=(
        "Record management events from kafka-cluster.amazonaws.com with a trail covering the "
        "cluster's Region: CloudTrail's default selectors do, so remove an exclusion of that "
        "source or add it to the trail's advanced event selectors."
    ),
    kinds=tuple(ClusterKind),
    sources=(TRAILS,),
)
def _kafka_actions_recorded(cluster: ClusterSnapshot, evidence: Evidence) -> Verdict:
    if (
        cluster.provisioned is not None
        and not cluster.provisioned.client_authentication.sasl.iam.enabled
    ):
        return Verdict(
            Status.NOT_APPLICABLE,
            "IAM access control is off: MSK records Kafka actions in CloudTrail only for clients "
            "IAM authorizes",
        )
    region = cluster.cluster_arn.split(":")[3]
    note = kafka_actions_note(cluster, region, evidence.trails())
    if note is not None:
        return Verdict(Status.FAILED, note)
    return Verdict(
        Status.PASSED,
        f"a trail records {KAFKA_ACTIONS_SOURCE} in {region}: topic and configuration changes "
        "IAM authorizes are recorded",
    )
