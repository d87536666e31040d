"""Security Hub's finding workflow, which moto 5.2 lacks, added to moto for these tests.

moto's Security Hub has no BatchUpdateFindings and lets BatchImportFindings overwrite every field
of an existing finding. Security Hub itself (API reference: BatchImportFindings, WorkflowUpdate):

- BatchImportFindings cannot change Note, UserDefinedFields, VerificationState or Workflow of an
  existing finding; a new finding's Workflow starts NEW;
- Workflow.Status goes back from NOTIFIED or RESOLVED to NEW when Compliance.Status changes from
  PASSED to WARNING, FAILED or NOT_AVAILABLE, or RecordState from ARCHIVED to ACTIVE;
- BatchUpdateFindings (PATCH /findings/batchupdate) sets Workflow for up to 100 findings, each
  named by Id and ProductArn, and reports the ones it did not find as UnprocessedFindings.
"""

import json
from typing import Any

import pytest
from moto.securityhub import urls
from moto.securityhub.models import SecurityHubBackend
from moto.securityhub.responses import SecurityHubResponse

_CUSTOMER_FIELDS = ("Note", "UserDefinedFields", "VerificationState", "Workflow")
_REOPENED = ("NOTIFIED", "RESOLVED")


def _import_keeping_workflow(original: Any) -> Any:
    def batch_import_findings(self: SecurityHubBackend, findings: list[dict[str, Any]]) -> Any:
        existing = {f.id: f.data for f in self.findings}
        for finding in findings:
            old = existing.get(finding.get("Id"))
            if old is None:
                finding.setdefault("Workflow", {"Status": "NEW"})
                continue
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
        return original(self, findings)

    return batch_import_findings


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


def install_workflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Add the workflow to moto's Security Hub for the rest of the test."""
    monkeypatch.setitem(urls.url_paths, "{0}/findings/batchupdate$", SecurityHubResponse.dispatch)
    monkeypatch.setattr(
        SecurityHubResponse, "batch_update_findings", _batch_update_findings, raising=False
    )
    monkeypatch.setattr(
        SecurityHubBackend,
        "batch_import_findings",
        _import_keeping_workflow(SecurityHubBackend.batch_import_findings),
    )
