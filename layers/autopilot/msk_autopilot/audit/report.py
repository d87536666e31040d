"""The audit report: its JSON form, what changed since the previous one, and where it is kept.

One JSON shape serves the command line's `--format json` and the report in S3::

    {"generated_at": ISO-8601, "api_calls": N,
     "resources": [{"subject", "arn", "name", "region", "account",
                    "findings": [{"control", "category", "status", "severity", "title",
                                  "detail", "remediation"}]}],
     "controls": [{"id", "subject", "category", "severity", "title", "kinds"}],
     "summary": {"clusters", "resources": {subject: n}, "findings": {status: n},
                 "failed": {severity: n}, "failed_by_category": {category: {severity: n}},
                 "api_calls_by_operation": {...}, "errors": [{"account", "region", "error"}]}}

A resource entry's subject is "cluster", "connector" or "account-region" (whose arn is
"AWS::::Account:<id>", one per Region). Documents written before subjects and categories
existed (a "clusters" list, findings without a category) still read: their entries are
clusters, their findings SECURITY, as those reports said.

The S3 object `latest.json` holds the newest known state of every audited resource: a full run
replaces the resources of each account and Region it listed, an event run replaces one cluster.
`latest.html` beside it is the same report as a page for people (html_report.py). The bucket
is versioned, so older reports stay available as object versions.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

import msgspec
from botocore.exceptions import ClientError

from msk_autopilot.audit.controls import CONTROLS, Category, FindingSeverity, Status, Subject
from msk_autopilot.audit.html_report import render_html
from msk_autopilot.aws import error_code
from msk_autopilot.observability import logger

__all__ = [
    "AuditReport",
    "Change",
    "Finding",
    "ReportConflict",
    "ReportStore",
    "ResourceAudit",
    "Scope",
    "TargetError",
    "changes_between",
]


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    control: str
    category: Category = Category.SECURITY
    status: Status
    severity: FindingSeverity
    title: str
    detail: str
    remediation: str


class ResourceAudit(msgspec.Struct, frozen=True, kw_only=True):
    """The findings of one audited resource: a cluster, a connector, an account and Region."""

    subject: Subject = Subject.CLUSTER
    arn: str
    name: str
    region: str
    account: str
    findings: list[Finding]

    def finding(self, control: str) -> Finding | None:
        return next((f for f in self.findings if f.control == control), None)


class TargetError(msgspec.Struct, frozen=True, kw_only=True):
    """An account and Region whose clusters could not be listed."""

    account: str
    region: str
    error: str


class _Summary(msgspec.Struct, kw_only=True):
    errors: list[TargetError] = []


class _Document(msgspec.Struct, kw_only=True):
    generated_at: str
    api_calls: int = 0
    resources: list[ResourceAudit] = []
    clusters: list[ResourceAudit] = []  # how reports before subjects listed their entries
    summary: _Summary = msgspec.field(default_factory=_Summary)


class Scope(msgspec.Struct, frozen=True):
    """What a run looked at: every resource of some accounts and Regions, or one cluster."""

    targets: frozenset[tuple[str, str]] = frozenset()  # (account, Region) listed completely
    cluster_arn: str | None = None
    # (account, Region) whose connectors could not be listed: their entries stay as they were.
    connectors_unlisted: frozenset[tuple[str, str]] = frozenset()

    def covers(self, resource: ResourceAudit) -> bool:
        if self.cluster_arn is not None:
            return resource.arn == self.cluster_arn
        where = (resource.account, resource.region)
        if resource.subject is Subject.CONNECTOR and where in self.connectors_unlisted:
            return False
        return where in self.targets


class AuditReport(msgspec.Struct):
    generated_at: str
    api_calls: int
    resources: list[ResourceAudit]
    errors: list[TargetError]
    api_calls_by_operation: Mapping[str, int]

    @property
    def clusters(self) -> list[ResourceAudit]:
        return [r for r in self.resources if r.subject is Subject.CLUSTER]

    def findings(self) -> Iterable[tuple[ResourceAudit, Finding]]:
        return ((resource, f) for resource in self.resources for f in resource.findings)

    def failed_by_severity(self, category: Category | None = None) -> dict[str, int]:
        failed = Counter(
            f.severity
            for _, f in self.findings()
            if f.status is Status.FAILED and category in (None, f.category)
        )
        return {severity.value: failed[severity] for severity in FindingSeverity}

    def summary(self) -> dict[str, Any]:
        statuses = Counter(f.status for _, f in self.findings())
        subjects = Counter(r.subject for r in self.resources)
        return {
            "clusters": subjects[Subject.CLUSTER],
            "resources": {subject.value: subjects[subject] for subject in Subject},
            "findings": {status.value: statuses[status] for status in Status},
            "failed": self.failed_by_severity(),
            "failed_by_category": {
                category.value: self.failed_by_severity(category) for category in Category
            },
            "api_calls_by_operation": dict(sorted(self.api_calls_by_operation.items())),
            "errors": msgspec.to_builtins(self.errors),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at,
            "api_calls": self.api_calls,
            "resources": msgspec.to_builtins(self.resources),
            "controls": [
                {
                    "id": control.id,
                    "subject": control.subject.value,
                    "category": control.category.value,
                    "severity": control.severity.value,
                    "title": control.title,
                    "kinds": list(control.kinds),
                }
                for control in CONTROLS.values()
            ],
            "summary": self.summary(),
        }

    @classmethod
    def from_dict(cls, document: object) -> AuditReport:
        """Raises `ValueError` when `document` is not a report."""
        try:
            parsed = msgspec.convert(document, type=_Document)
        except msgspec.ValidationError as error:
            raise ValueError(f"not an audit report: {error}") from None
        return cls(
            parsed.generated_at,
            parsed.api_calls,
            [*parsed.resources, *parsed.clusters],
            parsed.summary.errors,
            {},
        )

    def merged_into(self, previous: AuditReport | None, scope: Scope) -> AuditReport:
        """The newest state of every resource: this run's, and the previous report's outside
        this run's scope (accounts and Regions it could not list stay as last seen)."""
        if previous is None:
            return self
        kept = [resource for resource in previous.resources if not scope.covers(resource)]
        errors = self.errors if scope.cluster_arn is None else previous.errors
        return AuditReport(
            self.generated_at,
            self.api_calls,
            sorted([*kept, *self.resources], key=lambda r: (r.account, r.region, r.arn)),
            errors,
            self.api_calls_by_operation,
        )


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """A finding whose status differs from the previous report (None: absent there/here)."""

    subject: Subject
    arn: str
    name: str
    account: str
    region: str
    control: str
    severity: FindingSeverity
    before: Status | None
    after: Status | None


def changes_between(
    previous: AuditReport | None, current: AuditReport, scope: Scope
) -> list[Change]:
    """Findings within `scope` whose status changed, appeared or disappeared."""
    # An account's resource Id is the same in every Region: a finding is keyed by Region too.
    before = {
        (resource.region, resource.arn, f.control): (resource, f)
        for resource, f in (previous.findings() if previous else ())
        if scope.covers(resource)
    }
    after = {
        (resource.region, resource.arn, f.control): (resource, f)
        for resource, f in current.findings()
    }
    found: list[Change] = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        resource, finding = new or before[key]
        old_status = old[1].status if old else None
        new_status = new[1].status if new else None
        if old_status != new_status:
            found.append(
                Change(
                    subject=resource.subject,
                    arn=resource.arn,
                    name=resource.name,
                    account=resource.account,
                    region=resource.region,
                    control=finding.control,
                    severity=finding.severity,
                    before=old_status,
                    after=new_status,
                )
            )
    return found


class ReportConflict(Exception):
    """Another run wrote the report since it was read."""


class ReportStore(msgspec.Struct):
    """The latest report in S3, written only if nobody else wrote it since it was read."""

    s3: Any
    bucket: str
    key: str = "latest.json"

    def load(self) -> tuple[AuditReport | None, str | None]:
        """The stored report and its ETag; (None, None) when there is none (or it is unusable,
        which is logged: the next write replaces it)."""
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404"):
                return None, None
            raise
        etag = str(response["ETag"])
        try:
            return AuditReport.from_dict(json.loads(response["Body"].read())), etag
        except ValueError as error:
            logger.warning("previous audit report unusable", extra={"reason": str(error)})
            return None, etag

    @property
    def html_key(self) -> str:
        """The page's key: the report's, ending in .html."""
        return str(PurePosixPath(self.key).with_suffix(".html"))

    def save(self, report: AuditReport, etag: str | None) -> None:
        # The page goes first: a run whose JSON write then loses the race writes both again, so
        # a page left from a report that lost is overwritten and the last page matches the JSON.
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self.html_key,
            Body=render_html(report).encode(),
            ContentType="text/html; charset=utf-8",
        )
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=json.dumps(report.to_dict(), indent=1).encode(),
                ContentType="application/json",
                **condition,
            )
        except ClientError as error:
            if error_code(error) in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
            ):
                raise ReportConflict(self.key) from None
            raise
