"""Audit logging: which trails record MSK's API calls in a Region, and the note for IAM clusters
whose Kafka actions no trail records."""

from typing import Any

import msgspec
import pytest

from msk_autopilot.audit.controls import Status, Verdict
from msk_autopilot.audit.trails import (
    AdvancedEventSelector,
    EventSelector,
    Trail,
    audit_logging,
    kafka_actions_note,
)
from msk_autopilot.msk import ClusterSnapshot

REGION = "eu-west-1"
ARN = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/5c9a6e0a-1c2d-4f7e-9a31-2b8f0d4e6a11-2"


def trail(name: str = "main", **changes: Any) -> Trail:
    fields: dict[str, Any] = {
        "name": name,
        "arn": f"arn:aws:cloudtrail:{REGION}:123456789012:trail/{name}",
        "home_region": REGION,
        "multi_region": False,
        "logging": True,
        "selectors": [EventSelector()],
        **changes,
    }
    return Trail(**fields)


def advanced(*fields: dict[str, Any]) -> list[AdvancedEventSelector]:
    return msgspec.convert(
        [{"Name": "s", "FieldSelectors": list(fields)}], list[AdvancedEventSelector]
    )


MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}


def test_a_logging_trail_of_the_region_with_default_selectors_passes():
    assert audit_logging(REGION, [trail()]) == Verdict(
        Status.PASSED, "MSK's API calls in eu-west-1 are recorded by main"
    )


def test_no_selectors_reported_is_cloudtrails_default_of_all_management_events():
    assert audit_logging(REGION, [trail(selectors=[])]).status is Status.PASSED


def test_a_multi_region_trail_homed_elsewhere_covers_the_region():
    other = trail("org", home_region="us-east-1", multi_region=True)
    assert audit_logging(REGION, [other]).status is Status.PASSED


def test_no_trail_fails():
    assert audit_logging(REGION, []) == Verdict(
        Status.FAILED, "no CloudTrail trail records eu-west-1"
    )


@pytest.mark.parametrize(
    ("candidate", "why"),
    [
        (trail(logging=False), "main is not logging"),
        (trail(home_region="us-east-1"), "main records us-east-1 only"),
        (
            trail(selectors=[EventSelector(read_write_type="ReadOnly")]),
            "main does not record write management events from kafka.amazonaws.com",
        ),
        (
            trail(selectors=[EventSelector(include_management_events=False)]),
            "main does not record write management events from kafka.amazonaws.com",
        ),
        (
            trail(
                selectors=[EventSelector(exclude_management_event_sources=["kafka.amazonaws.com"])]
            ),
            "main does not record write management events from kafka.amazonaws.com",
        ),
        (
            trail(
                selectors=[],
                advanced_selectors=advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}),
            ),
            "main does not record write management events from kafka.amazonaws.com",
        ),
        (
            trail(
                selectors=[],
                advanced_selectors=advanced(
                    MANAGEMENT, {"Field": "eventSource", "NotEquals": ["kafka.amazonaws.com"]}
                ),
            ),
            "main does not record write management events from kafka.amazonaws.com",
        ),
        (
            trail(
                selectors=[],
                advanced_selectors=advanced(
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                ),
            ),
            "main does not record write management events from kafka.amazonaws.com",
        ),
    ],
)
def test_a_trail_that_misses_msks_writes_fails_and_says_why(candidate, why):
    assert audit_logging(REGION, [candidate]) == Verdict(
        Status.FAILED, f"no trail records MSK's API calls in eu-west-1: {why}"
    )


@pytest.mark.parametrize(
    "fields",
    [
        [MANAGEMENT],
        [MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}],
        [MANAGEMENT, {"Field": "eventSource", "Equals": ["kafka.amazonaws.com"]}],
        [MANAGEMENT, {"Field": "eventSource", "StartsWith": ["kafka"]}],
    ],
)
def test_advanced_selectors_that_let_msks_writes_through_pass(fields):
    assert (
        audit_logging(REGION, [trail(selectors=[], advanced_selectors=advanced(*fields))]).status
        is Status.PASSED
    )


def test_one_good_trail_is_enough():
    result = audit_logging(REGION, [trail("off", logging=False), trail("on")])
    assert result == Verdict(Status.PASSED, "MSK's API calls in eu-west-1 are recorded by on")


def iam_cluster(iam: bool) -> ClusterSnapshot:
    return ClusterSnapshot.from_api(
        {
            "ClusterArn": ARN,
            "ClusterName": "orders",
            "ClusterType": "PROVISIONED",
            "State": "ACTIVE",
            "Provisioned": {
                "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": ["a"]},
                "NumberOfBrokerNodes": 3,
                "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": iam}}},
            },
        }
    )


def test_an_iam_cluster_gets_a_note_when_no_trail_records_its_kafka_actions():
    msk_only = trail(
        selectors=[],
        advanced_selectors=advanced(
            MANAGEMENT, {"Field": "eventSource", "Equals": ["kafka.amazonaws.com"]}
        ),
    )
    assert kafka_actions_note(iam_cluster(True), REGION, [msk_only]) == (
        "no trail records kafka-cluster.amazonaws.com in eu-west-1: the Kafka actions IAM "
        "authorizes on this cluster (topic and configuration changes) leave no record"
    )
    assert kafka_actions_note(iam_cluster(True), REGION, [trail()]) is None
    assert kafka_actions_note(iam_cluster(False), REGION, [msk_only]) is None
