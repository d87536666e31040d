"""The trail collector against moto's CloudTrail: shadow trails, status and selectors read in
each trail's home Region, and a refusal as DataUnavailable."""

import boto3
import pytest

from msk_autopilot.audit.collect import AuditTarget, counting_api_calls, read_trails
from msk_autopilot.audit.controls import DataUnavailable, Status
from msk_autopilot.audit.trails import EventSelector, audit_logging
from msk_autopilot.aws import ClientFactory

HOME, AUDITED = "us-east-1", "eu-west-1"
BUCKET = "trail-logs"


@pytest.fixture
def cloudtrail(msk_emulator):
    boto3.client("s3", region_name=HOME).create_bucket(Bucket=BUCKET)
    return boto3.client("cloudtrail", region_name=HOME)


def target(region: str = AUDITED) -> AuditTarget:
    return AuditTarget("123456789012", region, ClientFactory(region))


def test_a_multi_region_trail_homed_elsewhere_is_read_in_its_home_region(cloudtrail):
    cloudtrail.create_trail(Name="org", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="org")
    cloudtrail.create_trail(Name="local", S3BucketName=BUCKET)  # us-east-1 only: not listed

    with counting_api_calls() as calls:
        trails = read_trails(target())

    assert [(t.name, t.home_region, t.multi_region, t.logging) for t in trails] == [
        ("org", HOME, True, True)
    ]
    assert dict(calls) == {
        "cloudtrail.DescribeTrails": 1,
        "cloudtrail.GetTrailStatus": 1,
        "cloudtrail.GetEventSelectors": 1,
    }
    assert audit_logging(AUDITED, trails).status is Status.PASSED


def test_selectors_and_status_decide(cloudtrail):
    cloudtrail.create_trail(Name="reads", S3BucketName=BUCKET)
    cloudtrail.start_logging(Name="reads")
    cloudtrail.put_event_selectors(
        TrailName="reads",
        EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}],
    )
    cloudtrail.create_trail(Name="stopped", S3BucketName=BUCKET)

    trails = read_trails(target(HOME))

    assert [t.selectors for t in trails] == [[EventSelector(read_write_type="ReadOnly")], []]
    assert audit_logging(HOME, trails).detail == (
        "no trail records MSK's API calls in us-east-1: reads does not record write management "
        "events from kafka.amazonaws.com; stopped is not logging"
    )


def test_advanced_selectors_are_read(cloudtrail):
    cloudtrail.create_trail(Name="adv", S3BucketName=BUCKET)
    cloudtrail.start_logging(Name="adv")
    cloudtrail.put_event_selectors(
        TrailName="adv",
        AdvancedEventSelectors=[
            {
                "Name": "management writes",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {"Field": "readOnly", "Equals": ["false"]},
                ],
            }
        ],
    )

    trails = read_trails(target(HOME))

    assert trails[0].advanced_selectors[0].name == "management writes"
    assert audit_logging(HOME, trails).status is Status.PASSED


def test_a_failed_call_is_data_unavailable(cloudtrail, monkeypatch):
    audited = target(HOME)
    client = audited.client("cloudtrail")

    def refuse(**_):
        raise client.exceptions.ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeTrails"
        )

    monkeypatch.setattr(client, "describe_trails", refuse)
    with pytest.raises(DataUnavailable, match="DescribeTrails failed: AccessDeniedException"):
        read_trails(audited)
