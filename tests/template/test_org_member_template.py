"""org/member-account.yaml, what a StackSet deploys to member accounts: lint and checkov clean,
and its audit role grants what the auditor declares for a member account, nothing else."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

from msk_autopilot.audit import OUTPUT_PERMISSIONS, required_permissions
from tests.template.checkov_scan import checkov_report

ROOT = Path(__file__).resolve().parents[2]
MEMBER_TEMPLATE = ROOT / "org" / "member-account.yaml"
# What stays in the administrator account: the report bucket, health-gate notices, the topic.
ADMINISTRATOR_ONLY = {
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "sns:Publish",
}


def test_the_member_template_is_lint_clean():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "parseable", "--", str(MEMBER_TEMPLATE)],
        capture_output=True,
        text=True,
        check=False,
    )
    # cfn-lint exit bits: 1 a failure to run, 2 errors, 4 warnings, 8 informational
    assert result.returncode & 0b111 == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_checkov_passes_the_member_template():
    report = checkov_report(MEMBER_TEMPLATE)
    assert report["results"]["failed_checks"] == []
    assert report["summary"]["passed"] >= 1  # the scan really ran over the role


def test_the_audit_role_grants_what_the_auditor_needs_in_a_member_account():
    role = yaml_parse(MEMBER_TEMPLATE.read_text())["Resources"]["AuditRole"]["Properties"]
    granted: set[str] = set()
    for policy in role["Policies"]:
        document = policy["PolicyDocument"]
        if "Fn::Sub" in document:  # a JSON string, for the opt-in tag key in a map key
            document = json.loads(re.sub(r"\$\{[\w:]+\}", "x", document["Fn::Sub"]))
        for statement in document["Statement"]:
            actions = statement["Action"]
            granted |= {actions} if isinstance(actions, str) else set(actions)
    declared = set(required_permissions())
    assert declared >= ADMINISTRATOR_ONLY
    assert granted == declared - ADMINISTRATOR_ONLY
    assert "securityhub:BatchImportFindings" in set(OUTPUT_PERMISSIONS) & granted
