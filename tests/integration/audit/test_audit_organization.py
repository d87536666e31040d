"""An AWS Organization: org/member-account.yaml rolled out by a service-managed StackSet to an
organizational unit, then one audit across the member accounts it reached.

moto's StackSets create a SERVICE_MANAGED instance's stack in each account of the targeted OU,
so the audit role really is created by CloudFormation in each member account.
"""

from pathlib import Path
from typing import Any

import boto3
import pytest
from audit_world import REGION, World, member_session, scheduled_event
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend

from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT

MEMBER_TEMPLATE = Path(__file__).resolve().parents[3] / "org" / "member-account.yaml"
STACK_SET = "msk-autopilot-member"
ROLE = "msk-autopilot-audit"


def _member_accounts(aws: boto3.Session, ou: str, count: int) -> list[str]:
    organizations = aws.client("organizations")
    root = organizations.list_roots()["Roots"][0]["Id"]
    accounts = []
    for n in range(count):
        account = organizations.create_account(
            AccountName=f"team-{n}", Email=f"team-{n}@example.com"
        )["CreateAccountStatus"]["AccountId"]
        organizations.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
        accounts.append(account)
    return accounts


@pytest.fixture
def organization(aws: boto3.Session) -> dict[str, Any]:
    """This account as the organization's management and delegated administrator account, two
    member accounts in an OU the StackSet targets, and one outside it."""
    organizations = aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    ou = organizations.create_organizational_unit(ParentId=root, Name="msk")["OrganizationalUnit"][
        "Id"
    ]
    members = _member_accounts(aws, ou, 2)
    (outsider,) = _member_accounts(aws, root, 1)
    cloudformation = aws.client("cloudformation")
    cloudformation.create_stack_set(
        StackSetName=STACK_SET,
        TemplateBody=MEMBER_TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": "AuditorAccountId", "ParameterValue": LOCAL_ACCOUNT}],
        Capabilities=["CAPABILITY_NAMED_IAM"],
        PermissionModel="SERVICE_MANAGED",
        AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
    )
    cloudformation.create_stack_instances(
        StackSetName=STACK_SET,
        DeploymentTargets={"OrganizationalUnitIds": [ou]},
        Regions=[REGION],
    )
    return {"members": members, "outsider": outsider}


@pytest.fixture
def assume_role_needs_the_role(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS refuses to assume a role that does not exist; moto's STS hands out credentials for
    any ARN (its docstring says so), which would hide a member account without the stack."""
    original = STSBackend.assume_role

    def refuse_a_missing_role(self: STSBackend, **kwargs: Any) -> Any:
        role_arn = kwargs["role_arn"]
        account = role_arn.split(":")[4]
        try:
            iam_backends[account]["aws"].get_role_by_arn(role_arn)
        except NotFoundException:
            message = f"Not authorized to perform: sts:AssumeRole on resource: {role_arn}"
            raise STSClientError("AccessDenied", message) from None
        return original(self, **kwargs)

    monkeypatch.setattr(STSBackend, "assume_role", refuse_a_missing_role)


def in_account(account: str) -> boto3.Session:
    """A session in a member account through the role Organizations creates in each account."""
    return member_session(account, role="OrganizationAccountAccessRole")


def seed_one(session: boto3.Session, name: str) -> str:
    world = World(session)
    return world.seed({"name": name, "securityGroups": [world.security_group()]})[name]


def test_the_stack_set_creates_the_audit_role_in_each_account_of_the_ou(aws, organization):
    for account in organization["members"]:
        iam = in_account(account).client("iam")
        role = iam.get_role(RoleName=ROLE)["Role"]
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        # Only the auditor function's role of the administrator account's stack.
        assert statement["Principal"] == {"AWS": f"arn:aws:iam::{LOCAL_ACCOUNT}:root"}
        assert statement["Condition"] == {
            "ArnLike": {
                "aws:PrincipalArn": f"arn:aws:iam::{LOCAL_ACCOUNT}:role/"
                "msk-autopilot-SecurityAuditorFunctionRole-*"
            }
        }
        assert set(iam.list_role_policies(RoleName=ROLE)["PolicyNames"]) == {
            "audit",
            "remediate-opted-in-clusters",
        }
    outsider = in_account(organization["outsider"]).client("iam")
    assert ROLE not in {r["RoleName"] for r in outsider.list_roles()["Roles"]}
    instances = aws.client("cloudformation").list_stack_instances(StackSetName=STACK_SET)
    assert sorted(i["Account"] for i in instances["Summaries"]) == sorted(organization["members"])


# moto's STS model has no AccessDenied shape; AWS answers a refused AssumeRole with that code.
@pytest.mark.filterwarnings("ignore:Exception\\(STSClientError\\) with code AccessDenied")
def test_one_audit_reports_every_member_account_and_an_account_without_the_stack_as_its_error(
    aws, organization, assume_role_needs_the_role, invoke, stored_report, findings
):
    members, outsider = organization["members"], organization["outsider"]
    seed_one(aws, "home")
    theirs = {account: seed_one(in_account(account), f"team-{account}") for account in members}
    seed_one(in_account(outsider), "unmanaged")

    result = invoke(scheduled_event(), MEMBER_ACCOUNT_IDS=",".join([*members, outsider]))

    (error,) = result["details"]["errors"]
    assert error.startswith(f"{outsider}/{REGION}: ")
    assert "AccessDenied" in error
    accounts = {
        c["name"]: c["account"] for c in stored_report()["resources"] if c["subject"] == "cluster"
    }
    assert accounts == {"home": LOCAL_ACCOUNT} | {f"team-{a}": a for a in members}
    for account, cluster in theirs.items():
        assert findings(in_account(account))[f"{cluster}/MSK.2"]["AwsAccountId"] == account
