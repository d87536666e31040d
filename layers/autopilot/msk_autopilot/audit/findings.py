"""Audit findings in the AWS Security Finding Format (ASFF), and their lifecycle in Security Hub.

One finding per resource and control, with the stable Id "<resource ARN>/<control ID>", so every
run updates the same finding (BatchImportFindings, at most 100 per call, in the resource's own
account and Region: Security Hub accepts a finding only from the account it names).

- Resources[].Type by subject: AwsMskCluster; Other for an MSK Connect connector (ASFF has no
  type for it: Other, with its CloudFormation type in Details.Other, as asff-resourcedetails-
  other.html prescribes); AwsAccount for an account and Region (Id "AWS::::Account:<id>").
- Types by category (ASFF Types taxonomy, securityhub-findings-format-type-taxonomy.html):
  SECURITY is "Software and Configuration Checks/AWS Security Best Practices"; RESILIENCE is
  the namespace "Software and Configuration Checks" alone (the taxonomy allows a partial path,
  and none of its categories fits: not a vulnerability, a security practice or a regulatory
  standard) with "Effects/Denial of Service", the effect such a failure has: the cluster stops
  serving (a full disk, a lost zone).

- PASSED and FAILED are the finding's Compliance.Status.
- NOT_AVAILABLE (the check could not run) is Compliance.Status NOT_AVAILABLE with a StatusReason.
- NOT_APPLICABLE is not imported. ASFF has no such status; Security Hub itself turns a not
  applicable evaluation into NOT_AVAILABLE and archives the finding within days, so importing it
  would only add findings to archive. The report keeps it.
- A finding that passes after anything else (or is new and passing) gets Workflow RESOLVED with
  BatchUpdateFindings: BatchImportFindings cannot change the workflow of an existing finding.
  One that fails again needs nothing: Security Hub resets RESOLVED to NEW when Compliance.Status
  changes from PASSED.
- The findings of a cluster that no longer exists are imported once more, ARCHIVED.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import msgspec

from msk_autopilot.audit.controls import Category, Status, Subject
from msk_autopilot.audit.report import Finding, ResourceAudit

__all__ = [
    "BATCH_LIMIT",
    "FINDING_TYPES",
    "PublishResult",
    "SecurityHubPublisher",
    "asff_finding",
    "finding_id",
    "product_arn",
]

BATCH_LIMIT = 100  # findings per BatchImportFindings / BatchUpdateFindings call
FINDING_TYPES: dict[Category, tuple[str, ...]] = {
    Category.SECURITY: ("Software and Configuration Checks/AWS Security Best Practices",),
    Category.RESILIENCE: ("Software and Configuration Checks", "Effects/Denial of Service"),
}
_CONNECTOR_TYPE = "AWS::KafkaConnect::Connector"
SCHEMA_VERSION = "2018-10-08"
_TITLE_LIMIT, _DESCRIPTION_LIMIT, _RECOMMENDATION_LIMIT = 256, 1024, 512


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def finding_id(resource_arn: str, control: str) -> str:
    return f"{resource_arn}/{control}"


def _partition(resource: ResourceAudit) -> str:
    # An account's Id ("AWS::::Account:<id>") names no partition; the commercial one is assumed.
    fields = resource.arn.split(":")
    return fields[1] if resource.arn.startswith("arn:") else "aws"


def product_arn(resource: ResourceAudit) -> str:
    """The account's own "default" product, the one custom findings are imported under."""
    return (
        f"arn:{_partition(resource)}:securityhub:{resource.region}:{resource.account}:"
        f"product/{resource.account}/default"
    )


def _resource(resource: ResourceAudit) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Id": resource.arn,
        "Partition": _partition(resource),
        "Region": resource.region,
    }
    if resource.subject is Subject.CONNECTOR:
        return {"Type": "Other", **entry, "Details": {"Other": {"Type": _CONNECTOR_TYPE}}}
    if resource.subject is Subject.ACCOUNT_REGION:
        return {"Type": "AwsAccount", **entry}
    return {"Type": "AwsMskCluster", **entry}


def asff_finding(
    resource: ResourceAudit, finding: Finding, *, observed_at: str, archived: bool = False
) -> dict[str, Any] | None:
    """The ASFF form of a finding, or None for a NOT_APPLICABLE one (never imported)."""
    if finding.status is Status.NOT_APPLICABLE:
        return None
    compliance: dict[str, Any] = {"Status": finding.status.value}
    if finding.status is Status.NOT_AVAILABLE:
        compliance["StatusReasons"] = [
            {"ReasonCode": "DATA_UNAVAILABLE", "Description": _clip(finding.detail, 2048)}
        ]
    severity = {"Label": finding.severity.value, "Original": finding.severity.value}
    types = list(FINDING_TYPES[finding.category])
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(resource.arn, finding.control),
        "ProductArn": product_arn(resource),
        "GeneratorId": f"msk-autopilot/{finding.control}",
        "AwsAccountId": resource.account,
        "Types": types,
        "CreatedAt": observed_at,
        "UpdatedAt": observed_at,
        "Severity": {"Label": finding.severity.value},
        "FindingProviderFields": {"Severity": severity, "Types": types},
        "Title": _clip(f"{finding.control} {finding.title}", _TITLE_LIMIT),
        "Description": _clip(f"{resource.name}: {finding.detail}", _DESCRIPTION_LIMIT),
        "Remediation": {
            "Recommendation": {"Text": _clip(finding.remediation, _RECOMMENDATION_LIMIT)}
        },
        "ProductFields": {
            "msk-autopilot/ControlId": finding.control,
            "msk-autopilot/Category": finding.category.value,
            "msk-autopilot/ResourceName": resource.name,
        },
        "Resources": [_resource(resource)],
        "Compliance": compliance,
        "RecordState": "ARCHIVED" if archived else "ACTIVE",
    }


def _batches[T](items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), BATCH_LIMIT):
        yield items[start : start + BATCH_LIMIT]


class PublishResult(msgspec.Struct):
    imported: int = 0
    resolved: int = 0
    failed: list[str] = msgspec.field(default_factory=list)  # "<finding id>: <error>"


class SecurityHubPublisher(msgspec.Struct):
    """Imports the findings of one account and Region through that account's client."""

    securityhub: Any

    def publish(
        self, findings: Sequence[dict[str, Any]], resolve: Sequence[dict[str, Any]]
    ) -> PublishResult:
        """Import `findings`, then set Workflow RESOLVED on the `resolve` ones (ASFF dicts)."""
        result = PublishResult()
        refused: set[str] = set()
        for batch in _batches(findings):
            response = self.securityhub.batch_import_findings(Findings=list(batch))
            result.imported += response.get("SuccessCount", 0)
            for failure in response.get("FailedFindings", []):
                refused.add(failure["Id"])
                result.failed.append(f"{failure['Id']}: {failure.get('ErrorMessage', '')}")
        identifiers = [
            {"Id": f["Id"], "ProductArn": f["ProductArn"]}
            for f in resolve
            if f["Id"] not in refused
        ]
        for batch in _batches(identifiers):
            response = self.securityhub.batch_update_findings(
                FindingIdentifiers=list(batch), Workflow={"Status": "RESOLVED"}
            )
            result.resolved += len(response.get("ProcessedFindings", []))
            for failure in response.get("UnprocessedFindings", []):
                identifier = failure.get("FindingIdentifier", {}).get("Id", "")
                result.failed.append(f"{identifier}: {failure.get('ErrorMessage', '')}")
        return result
