"""The security auditor's role grants what its controls, remediations and outputs declare."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from msk_autopilot.audit import CONTROLS, OUTPUT_PERMISSIONS, REMEDIATIONS, required_permissions
from msk_autopilot_local.template.cfn import possible_values
from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT, ResolvedTemplate

FUNCTION = "SecurityAuditorFunction"
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
SHARED_POLICIES = {"AutopilotKeyUsePolicy"}  # the stack's KMS key, used by every function


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: Any, parameters: dict[str, str]) -> list[dict[str, Any]]:
    if isinstance(document, dict) and "Fn::Sub" in document:  # a !Sub JSON string
        template = document["Fn::Sub"]
        text = re.sub(
            r"\$\{([\w:.]+)\}",
            lambda m: parameters.get(m.group(1), "X"),
            template if isinstance(template, str) else template[0],
        )
        document = json.loads(text)
    return [each for listed in _as_list(document["Statement"]) for each in possible_values(listed)]


def _role_statements(
    template: dict[str, Any], *, shared: bool, effect: str = "Allow"
) -> list[dict[str, Any]]:
    parameters = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    resources = template["Resources"]
    role = resources[resources[FUNCTION]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
    statements = [
        s
        for policy in role.get("Policies", [])
        for s in _statements(policy["PolicyDocument"], parameters)
    ]
    for arn in role.get("ManagedPolicyArns", []):
        name = arn.get("Ref") if isinstance(arn, dict) else None
        if name in resources and (shared or name not in SHARED_POLICIES):
            statements += _statements(resources[name]["Properties"]["PolicyDocument"], parameters)
    return [s for s in statements if s.get("Effect") == effect]


def _granted(template: dict[str, Any]) -> set[str]:
    return {a for s in _role_statements(template, shared=True) for a in _as_list(s["Action"])}


@pytest.mark.parametrize("control", sorted(CONTROLS))
def test_each_control_s_permissions_are_granted(transformed, control):
    missing = set(CONTROLS[control].permissions) - _granted(transformed)
    assert not missing, (control, missing)


@pytest.mark.parametrize("control", sorted(REMEDIATIONS))
def test_each_remediation_s_permissions_are_granted(transformed, control):
    missing = set(REMEDIATIONS[control].permissions) - _granted(transformed)
    assert not missing, (control, missing)


def test_the_outputs_permissions_are_granted(transformed):
    assert set(OUTPUT_PERMISSIONS) <= _granted(transformed)


def test_the_role_grants_nothing_the_audit_does_not_declare(transformed):
    own = {
        action
        for statement in _role_statements(transformed, shared=False)
        for action in _as_list(statement["Action"])
    }
    # Besides: assuming member accounts' roles (AuditMemberAccountIds), and the dead-letter
    # queue SAM lets Lambda write failed invocations to.
    assert own - set(required_permissions()) == {"sts:AssumeRole", "sqs:SendMessage"}


def test_member_roles_are_assumed_by_name_only(transformed):
    # The Allow names the member accounts (test_template checks which); the Deny the role.
    (statement,) = _role_statements(transformed, shared=False, effect="Deny")
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["NotResource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${AuditMemberRoleName}"
    }


def _remediation_statement(**parameters: str) -> dict[str, Any]:
    """The auditor's remediation grant as CloudFormation would resolve it in us-east-1."""
    template = ResolvedTemplate(TEMPLATE, parameter_overrides=parameters)
    policy = template.resources["SecurityAuditorOptedInClustersPolicy"]["Properties"]
    (statement,) = json.loads(template.resolve(policy["PolicyDocument"]))["Statement"]
    return statement


def test_remediation_is_granted_in_the_stack_s_region_when_it_audits_only_that():
    statement = _remediation_statement()
    assert statement["Resource"] == f"arn:aws:kafka:us-east-1:{LOCAL_ACCOUNT}:cluster/*"
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/msk-autopilot:managed": "true",
            "aws:RequestedRegion": ["us-east-1"],
        }
    }


def test_remediation_is_granted_in_the_audited_regions_only():
    statement = _remediation_statement(AuditRegions="eu-west-1,ap-southeast-2")
    assert statement["Resource"] == f"arn:aws:kafka:*:{LOCAL_ACCOUNT}:cluster/*"
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/msk-autopilot:managed": "true",
            "aws:RequestedRegion": ["eu-west-1", "ap-southeast-2"],
        }
    }
