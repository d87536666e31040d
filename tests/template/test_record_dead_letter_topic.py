"""The record consumer's event source sends failed records to S3 or to a Kafka dead-letter topic
(RecordsOnFailure), with IAM to write to that topic only."""

from pathlib import Path

import pytest

from msk_autopilot_local.template.resolve import ResolvedTemplate

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
CLUSTER = (
    "arn:aws:kafka:us-east-1:123456789012:cluster/orders/5c9a6e0a-1c2d-4f7e-9a31-2b8f0d4e6a11-2"
)


def stack(**parameters: str) -> ResolvedTemplate:
    return ResolvedTemplate(
        TEMPLATE, parameter_overrides={"RecordsClusterArn": CLUSTER, **parameters}
    )


def statements(resolved: ResolvedTemplate) -> dict[str, dict]:
    policy = resolved.template["Resources"]["RecordConsumerSourcePolicy"]["Properties"]
    listed = resolved.resolve(policy["PolicyDocument"]["Statement"])
    return {s["Sid"]: s for s in listed if isinstance(s, dict) and "Sid" in s}


def destination(resolved: ResolvedTemplate) -> str:
    mapping = resolved.template["Resources"]["RecordConsumerEventSource"]["Properties"]
    return resolved.resolve(mapping["DestinationConfig"]["OnFailure"]["Destination"])


def test_by_default_failed_batches_go_to_the_failure_bucket():
    resolved = stack()
    assert destination(resolved) == resolved.get_att("RecordFailureBucket", "Arn")
    granted = statements(resolved)
    assert "FailedBatchesToS3" in granted
    assert "FailedRecordsToDeadLetterTopic" not in granted


@pytest.mark.parametrize("topic", ["orders-dead-letters", "payments.dlt"])
def test_kafka_sends_failed_records_to_the_dead_letter_topic_with_write_access_to_it_only(topic):
    resolved = stack(RecordsOnFailure="kafka", RecordsDeadLetterTopic=topic)
    assert destination(resolved) == f"kafka://{topic}"
    granted = statements(resolved)
    assert "FailedBatchesToS3" not in granted
    write = granted["FailedRecordsToDeadLetterTopic"]
    assert sorted(write["Action"]) == ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
    resource = resolved.template["Resources"]["RecordConsumerSourcePolicy"]["Properties"][
        "PolicyDocument"
    ]["Statement"]
    (raw,) = [
        s["Fn::If"][1]
        for s in resource
        if isinstance(s, dict) and "Fn::If" in s and s["Fn::If"][0] == "RecordsFailuresToKafka"
    ]
    assert raw["Resource"]["Fn::Sub"][0] == "${Prefix}:topic/${Cluster}/${RecordsDeadLetterTopic}"
    assert "kafka-cluster:ReadData" not in write["Action"]  # it reads only the source topic


def test_a_topic_cannot_be_its_own_dead_letter_topic():
    rule = stack().template["Rules"]["DeadLetterTopicIsNotTheSource"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "RecordsOnFailure"}, "kafka"]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "RecordsDeadLetterTopic"}, {"Ref": "RecordsTopic"}]}]
    }
