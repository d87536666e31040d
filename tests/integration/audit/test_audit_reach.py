"""Several accounts and Regions, and what goes wrong in them: access denied, throttling, a
cluster deleted mid-run, an unreadable description. The run always completes for the rest."""

import msgspec
import pytest
from audit_world import (
    MEMBER_ACCOUNT,
    REGION,
    TAG,
    Forbidden,
    Throttled,
    World,
    api_call_event,
    clusters_of,
    member_session,
    scheduled_event,
    verdicts,
)
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import EC2Backend
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend

from msk_autopilot.audit import CONTROLS
from msk_autopilot_local.emulator.models import MskBackend
from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT

OTHER_REGION = "eu-west-1"


def seed_one(session, name, **settings):
    world = World(session)
    return world.seed({"name": name, "securityGroups": [world.security_group()], **settings})[name]


def test_every_configured_region_is_audited_and_reported_in_its_own_security_hub(
    aws, invoke, stored_report, findings
):
    home = seed_one(aws, "orders")
    away = seed_one(aws.__class__(region_name=OTHER_REGION), "payments")

    result = invoke(scheduled_event(), AUDIT_REGIONS=f"{REGION},{OTHER_REGION}")

    assert result["details"]["clusters"] == 2
    regions = {c["name"]: c["region"] for c in clusters_of(stored_report())}
    assert regions == {"orders": REGION, "payments": OTHER_REGION}
    assert f"{home}/MSK.2" in findings()
    assert f"{away}/MSK.2" in findings(region=OTHER_REGION)
    assert f"{away}/MSK.2" not in findings()


def test_member_accounts_are_audited_through_their_role(aws, invoke, stored_report, findings):
    seed_one(aws, "orders")
    member = member_session(MEMBER_ACCOUNT)
    theirs = seed_one(member, "ledger")

    result = invoke(scheduled_event(), MEMBER_ACCOUNT_IDS=MEMBER_ACCOUNT)

    assert result["details"]["errors"] == []
    accounts = {c["name"]: c["account"] for c in clusters_of(stored_report())}
    assert accounts == {"orders": LOCAL_ACCOUNT, "ledger": MEMBER_ACCOUNT}
    # Security Hub takes a finding only from the account it names: the member imports its own.
    imported = findings(member)[f"{theirs}/MSK.2"]
    assert imported["AwsAccountId"] == MEMBER_ACCOUNT
    assert f"{theirs}/MSK.2" not in findings()


def test_an_event_in_a_member_account_audits_that_cluster(aws, invoke, findings):
    member = member_session(MEMBER_ACCOUNT)
    theirs = seed_one(member, "ledger")

    result = invoke(api_call_event(theirs), MEMBER_ACCOUNT_IDS=MEMBER_ACCOUNT)

    assert result["details"]["clusters"] == 1
    assert f"{theirs}/MSK.2" in findings(member)


def test_an_event_for_an_account_not_audited_is_skipped(aws, invoke):
    stranger = "arn:aws:kafka:us-east-1:999999999999:cluster/x/5c9a6e0a-1c2d-4f7e-9a31-1"

    result = invoke(api_call_event(stranger))

    assert result["status"] == "skipped"
    assert "999999999999" in result["reason"]


@pytest.mark.parametrize("account", ["home", "member"])
def test_an_event_for_a_cluster_outside_the_audited_regions_is_skipped(
    aws, invoke, report_bucket, account
):
    """A confused deputy: an event delivered here that names a cluster of another Region, with
    public access the auditor may fix. It is neither changed, nor read, nor reported."""
    session = (
        member_session(MEMBER_ACCOUNT, OTHER_REGION)
        if account == "member"
        else aws.__class__(region_name=OTHER_REGION)
    )
    public = {"publicAccess": True, "authentication": {"iam": True}, "tags": {TAG: "true"}}
    away = seed_one(session, "payments", **public)
    kafka = session.client("kafka")
    before = kafka.describe_cluster_v2(ClusterArn=away)["ClusterInfo"]
    operations = kafka.list_cluster_operations_v2(ClusterArn=away)["ClusterOperationInfoList"]

    result = invoke(
        api_call_event(away, "UpdateConnectivity"),
        REMEDIATE_CONTROLS="MSK.4",
        MEMBER_ACCOUNT_IDS=MEMBER_ACCOUNT,
    )

    assert result["status"] == "skipped"
    assert result["reason"] == f"Region {OTHER_REGION} is not audited (audited: {REGION})"
    assert kafka.describe_cluster_v2(ClusterArn=away)["ClusterInfo"] == before
    after = kafka.list_cluster_operations_v2(ClusterArn=away)["ClusterOperationInfoList"]
    assert after == operations
    assert aws.client("s3").list_objects_v2(Bucket=report_bucket)["KeyCount"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("source", "my.custom"), ("eventSource", "kafka.example.com")],
)
def test_only_the_documented_event_sources_are_accepted(aws, invoke, report_bucket, field, value):
    orders = seed_one(aws, "orders")
    event = api_call_event(orders)
    if field == "source":
        event["source"] = value
    else:
        event["detail"]["eventSource"] = value

    result = invoke(event)

    assert result["status"] == "rejected"
    assert value in result["reason"]
    assert aws.client("s3").list_objects_v2(Bucket=report_bucket)["KeyCount"] == 0


def test_access_denied_in_one_account_spares_the_others(aws, invoke, stored_report, monkeypatch):
    seed_one(aws, "orders")
    member = member_session(MEMBER_ACCOUNT)
    seed_one(member, "ledger")
    invoke(scheduled_event(), MEMBER_ACCOUNT_IDS=MEMBER_ACCOUNT)
    original = MskBackend.list_cluster_infos_v2

    def denied_to_member(self, *args, **kwargs):
        if self.account_id == MEMBER_ACCOUNT:
            raise Forbidden("User is not authorized to perform: kafka:ListClustersV2")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MskBackend, "list_cluster_infos_v2", denied_to_member)

    result = invoke(scheduled_event(), MEMBER_ACCOUNT_IDS=MEMBER_ACCOUNT)

    (error,) = result["details"]["errors"]
    assert error.startswith(f"{MEMBER_ACCOUNT}/{REGION}: ListClustersV2 failed: ForbiddenException")
    report = stored_report()
    assert report["summary"]["errors"][0]["account"] == MEMBER_ACCOUNT
    # what could not be listed stays as last seen, neither dropped nor archived
    assert {c["name"] for c in clusters_of(report)} == {"orders", "ledger"}


def test_a_denied_data_source_makes_only_its_controls_not_available(
    fleet, invoke, stored_report, monkeypatch
):
    def denied(self, *args, **kwargs):
        raise EC2ClientError("UnauthorizedOperation", "You are not authorized to perform this.")

    monkeypatch.setattr(EC2Backend, "describe_security_groups", denied)

    invoke(scheduled_event())

    report = stored_report()
    for cluster in clusters_of(report):
        finding = next(f for f in cluster["findings"] if f["control"] == "AUTOPILOT.5")
        assert finding["status"] == "NOT_AVAILABLE", cluster["name"]
        assert "DescribeSecurityGroups failed: UnauthorizedOperation" in finding["detail"]
    assert verdicts(report)["legacy"]["MSK.1"] == "FAILED"
    assert verdicts(report)["hardened"]["MSK.1"] == "PASSED"


def test_throttling_beyond_retries_is_reported_not_raised(
    fleet, invoke, stored_report, monkeypatch
):
    def throttled(self, *args, **kwargs):
        raise Throttled("Too many requests")

    monkeypatch.setattr(MskBackend, "get_cluster_policy", throttled)

    result = invoke(scheduled_event(), RETRY_MAX_ATTEMPTS="2")

    assert result["details"]["clusters"] == 6
    details = {
        c["name"]: next(f for f in c["findings"] if f["control"] == "AUTOPILOT.6")
        for c in clusters_of(stored_report())
    }
    assert details["legacy"]["status"] == "NOT_AVAILABLE"
    assert "GetClusterPolicy failed: TooManyRequestsException" in details["legacy"]["detail"]


def test_a_cluster_deleted_mid_run_is_reported_not_available(
    fleet, invoke, stored_report, monkeypatch
):
    original = MskBackend.list_cluster_infos_v2

    def list_then_delete(self, *args, **kwargs):
        listed = original(self, *args, **kwargs)
        self.delete_cluster(fleet["leaky-scram"], None)  # gone from the next call on
        return listed

    monkeypatch.setattr(MskBackend, "list_cluster_infos_v2", list_then_delete)

    result = invoke(scheduled_event())

    assert result["details"]["clusters"] == 6
    leaky = verdicts(stored_report())["leaky-scram"]
    assert leaky["AUTOPILOT.7"] == "NOT_AVAILABLE"
    assert leaky["MSK.1"] == "PASSED"  # settings from the listing still count
    detail = next(
        f["detail"]
        for c in clusters_of(stored_report())
        if c["name"] == "leaky-scram"
        for f in c["findings"]
        if f["control"] == "AUTOPILOT.7"
    )
    assert "ListScramSecrets failed: NotFoundException" in detail


def test_an_unreadable_cluster_description_is_not_available_throughout(
    aws, invoke, stored_report, monkeypatch
):
    seed_one(aws, "orders", tags={TAG: "true"})
    seed_one(aws, "odd")
    original = MskBackend.list_cluster_infos_v2

    def without_instance_type(self, *args, **kwargs):
        listed = original(self, *args, **kwargs)
        for info in listed:
            if info["ClusterName"] == "odd":
                del info["Provisioned"]["BrokerNodeGroupInfo"]["InstanceType"]
        return listed

    monkeypatch.setattr(MskBackend, "list_cluster_infos_v2", without_instance_type)

    invoke(scheduled_event())

    statuses = verdicts(stored_report())
    assert set(statuses["odd"].values()) == {"NOT_AVAILABLE"}
    assert statuses["orders"]["MSK.1"] == "PASSED"


# AccessDenied is STS's answer when the member role does not trust the auditor; botocore's STS
# model does not list it as an error shape, which moto warns about.
@pytest.mark.filterwarnings("ignore:Exception\\(STSClientError\\)")
def test_a_member_role_that_cannot_be_assumed_is_an_error_of_that_account(aws, invoke, monkeypatch):
    seed_one(aws, "orders")

    def refuse(self, *args, **kwargs):
        raise STSClientError("AccessDenied", "Not authorized to perform sts:AssumeRole")

    monkeypatch.setattr(STSBackend, "assume_role", refuse)

    result = invoke(scheduled_event(), MEMBER_ACCOUNT_IDS=MEMBER_ACCOUNT)

    assert result["details"]["clusters"] == 1
    (error,) = result["details"]["errors"]
    assert error.startswith(f"{MEMBER_ACCOUNT}/{REGION}: AssumeRole failed: AccessDenied")


def test_a_check_that_breaks_is_not_available_and_the_rest_still_run(
    fleet, invoke, stored_report, monkeypatch
):
    def broken(cluster, evidence):
        raise KeyError("Zones")

    monkeypatch.setitem(
        CONTROLS, "AUTOPILOT.10", msgspec.structs.replace(CONTROLS["AUTOPILOT.10"], check=broken)
    )

    invoke(scheduled_event())

    for cluster in clusters_of(stored_report()):
        statuses = {f["control"]: (f["status"], f["detail"]) for f in cluster["findings"]}
        assert statuses["AUTOPILOT.10"] == ("NOT_AVAILABLE", "the check failed: KeyError: 'Zones'")
    assert verdicts(stored_report())["legacy"]["MSK.1"] == "FAILED"
