"""Security Hub's finding workflow, which moto lacks, added to moto's Security Hub.

moto has no BatchUpdateFindings and lets BatchImportFindings overwrite every field of an existing
finding. Security Hub itself (API reference: BatchImportFindings, WorkflowUpdate):

- BatchImportFindings cannot change Note, UserDefinedFields, VerificationState or Workflow of an
  existing finding; a new finding's Workflow starts NEW;
- Workflow.Status goes back from NOTIFIED or RESOLVED to NEW when Compliance.Status changes from
  PASSED to WARNING, FAILED or NOT_AVAILABLE, or RecordState from ARCHIVED to ACTIVE;
- BatchUpdateFindings (PATCH /findings/batchupdate) sets Workflow for up to 100 findings, each
  named by Id and ProductArn, and reports the ones it did not find as UnprocessedFindings.

Without it the security auditor's resolve step failed against `local-aws` and in the demo.
"""

import json
from typing import Any

from moto.securityhub import urls
from moto.securityhub.models import Finding, SecurityHubBackend
from moto.securityhub.responses import SecurityHubResponse

__all__ = ["install_finding_workflow"]

_CUSTOMER_FIELDS = ("Note", "UserDefinedFields", "VerificationState", "Workflow")
_REOPENED = ("NOTIFIED", "RESOLVED")
_BATCH_UPDATE_PATH = "{0}/findings/batchupdate$"


def _batch_import_findings(
    self: SecurityHubBackend, findings: list[dict[str, Any]]
) -> tuple[int, int, list[dict[str, Any]]]:
    """moto's BatchImportFindings with the workflow rules above, and findings looked up by Id
    in a dict: moto scans its whole list for each finding, which made a 1,000-cluster audit's
    import quadratic."""
    existing = {f.id: f for f in self.findings}
    success_count = 0
    failed: list[dict[str, Any]] = []
    for finding in findings:
        if not isinstance(finding.get("Resources"), list) or not finding["Resources"]:
            failed.append(
                {
                    "Id": finding.get("Id", ""),
                    "ErrorCode": "InvalidInput",
                    "ErrorMessage": "Finding must contain at least one resource in the "
                    "Resources array",
                }
            )
            continue
        finding_id = str(finding.get("Id"))
        known = existing.get(finding_id)
        if known is None:
            finding.setdefault("Workflow", {"Status": "NEW"})
            existing[finding_id] = Finding(finding_id, finding)
            self.findings.append(existing[finding_id])
            success_count += 1
            continue
        old = known.data
        for name in _CUSTOMER_FIELDS:
            finding.pop(name, None)
            if name in old:
                finding[name] = old[name]
        left_passed = old.get("Compliance", {}).get("Status") == "PASSED" and finding.get(
            "Compliance", {}
        ).get("Status") in ("WARNING", "FAILED", "NOT_AVAILABLE")
        reactivated = old.get("RecordState") == "ARCHIVED" and finding.get("RecordState") == (
            "ACTIVE"
        )
        if (left_passed or reactivated) and old.get("Workflow", {}).get("Status") in _REOPENED:
            finding["Workflow"] = {"Status": "NEW"}
        old.update(finding)
        success_count += 1
    return len(failed), success_count, failed


def _batch_update_findings(self: SecurityHubResponse) -> str:
    params = json.loads(self.body)
    by_key = {(f.id, f.data.get("ProductArn")): f for f in self.securityhub_backend.findings}
    processed, unprocessed = [], []
    for identifier in params["FindingIdentifiers"]:
        finding = by_key.get((identifier["Id"], identifier["ProductArn"]))
        if finding is None:
            unprocessed.append(
                {
                    "FindingIdentifier": identifier,
                    "ErrorCode": "FindingNotFound",
                    "ErrorMessage": "Finding Not Found",
                }
            )
            continue
        if "Workflow" in params:
            finding.data["Workflow"] = {"Status": params["Workflow"]["Status"]}
        processed.append(identifier)
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


def install_finding_workflow() -> None:
    """Give moto's Security Hub the finding workflow, in this process, from now on. Idempotent;
    the server must not have answered a Security Hub request before (it builds its routes then)."""
    urls.url_paths[_BATCH_UPDATE_PATH] = SecurityHubResponse.dispatch
    SecurityHubResponse.batch_update_findings = _batch_update_findings  # type: ignore[attr-defined]
    SecurityHubBackend.batch_import_findings = _batch_import_findings  # type: ignore[method-assign]
