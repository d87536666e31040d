"""The retention bound end to end: the storage scaler's handler reads topic retention through the
emulator's topic APIs and the brokers' writes from its CloudWatch, and sizes no further than
retention lets a broker hold."""

import base64
import json
from datetime import timedelta

import pytest

from msk_autopilot.observability import logger

GIB = 1024**3
DAY_MS = 86_400_000
SEGMENT = 100 * 1024**2
LEADER, FOLLOWER = 600_000, 1_200_000  # bytes per second on every broker
# 6 partitions x 3 replicas on 3 brokers: 6 replicas per broker.
# Per broker: 1.8 MB/s over 24 h + one 5-minute retention check, plus the indexes, plus a segment
# per replica.
BOUND_GIB = ((LEADER + FOLLOWER) * (86_400 + 300) * (1 + 20 / 4096) + 6 * SEGMENT) / GIB


def encoded(configs: dict[str, str]) -> str:
    return base64.b64encode(json.dumps(configs).encode()).decode()


@pytest.fixture
def filling(aws, cluster_spec, fleet, disk, msk_emulator):
    """An opted-in cluster of 200 GiB brokers whose disks went from 50 % to 70 % in 6 hours (a
    new topic filling up: 160 GiB, 80 %, three hours on), with a day and more of steady writes."""

    def create(name: str, topic_configs: dict[str, str] | None, **spec: str) -> str:
        arn = fleet({**cluster_spec(name, volume=200), "enhancedMonitoring": "PER_BROKER", **spec})[
            name
        ]
        if topic_configs is not None:
            aws.client("kafka").create_topic(
                ClusterArn=arn,
                TopicName="events",
                PartitionCount=6,
                ReplicationFactor=3,
                Configs=encoded({"segment.bytes": str(SEGMENT), **topic_configs}),
            )
        msk_emulator.set_broker_load(
            arn, since=timedelta(hours=30), bytes_in=LEADER, replication_bytes_in=FOLLOWER
        )
        disk(name, 50, 70)
        return arn

    return create


@pytest.fixture
def logged(monkeypatch):
    """What the handler logs at info level: (message, extra) pairs."""
    lines: list[tuple[str, dict]] = []
    original = logger.info

    def record(message, *args, **kwargs):
        lines.append((str(message), kwargs.get("extra", {})))
        return original(message, *args, **kwargs)

    monkeypatch.setattr(logger, "info", record)
    return lines


def test_the_retention_bound_holds_a_growth_the_trend_alone_would_make(filling, invoke):
    bounded = filling("bounded", {"retention.ms": str(DAY_MS)})
    unbounded = filling("unbounded", {"cleanup.policy": "compact"})

    held = invoke({"action": "scale", "clusterArn": bounded})
    grown = invoke({"action": "scale", "clusterArn": unbounded, "dryRun": True})

    assert grown["status"] == "dry_run", grown
    assert grown["details"]["decision"]["action"] == "grow"
    assert held["status"] == "unchanged", held
    decision = held["details"]["decision"]
    assert decision["action"] == "hold"
    assert held["details"]["retention_bound"]["gib"] == pytest.approx(BOUND_GIB, abs=0.1)
    assert decision["forecast_percent"] == pytest.approx(100 * BOUND_GIB / 200, abs=0.1)
    assert f"retention bound {BOUND_GIB:.1f} GiB per broker" in held["reason"]
    assert "1.80 MB/s written at peak x 24 h retention + 6 partition replicas" in held["reason"]


def test_the_cluster_configuration_gives_the_retention_topics_do_not_set(
    aws, filling, invoke, msk_emulator
):
    kafka = aws.client("kafka")
    configuration = kafka.create_configuration(
        Name="short-retention",
        KafkaVersions=["3.8.x"],
        ServerProperties=b"log.retention.minutes=1440\nlog.retention.hours=999\n",
    )
    arn = filling("configured", {})
    version = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
    kafka.update_cluster_configuration(
        ClusterArn=arn,
        ConfigurationInfo={"Arn": configuration["Arn"], "Revision": 1},
        CurrentVersion=version,
    )
    msk_emulator.complete_operations()
    # The emulator's DescribeTopic reports the broker default as the topic's retention.ms, as
    # Kafka's DescribeConfigs does; the scaler reads the same 24 h either way.
    result = invoke({"action": "scale", "clusterArn": arn})

    assert result["details"]["retention_bound"]["gib"] == pytest.approx(BOUND_GIB, abs=0.1)


@pytest.mark.parametrize(
    ("configs", "reason"),
    [
        ({"cleanup.policy": "compact"}, "keep data without a time limit"),
        ({"cleanup.policy": "compact,delete", "retention.ms": str(DAY_MS)}, "without a time"),
        ({"retention.ms": "-1"}, "keep data without a time limit"),
    ],
)
def test_topics_kept_for_ever_leave_no_bound(filling, invoke, logged, configs, reason):
    arn = filling("forever", configs)

    result = invoke({"action": "scale", "clusterArn": arn, "dryRun": True})

    assert result["details"]["decision"]["action"] == "grow", result
    assert result["details"]["retention_bound"]["gib"] is None
    assert reason in result["details"]["retention_bound"]["reason"]
    assert "retention bound" not in result["reason"]
    assert any(
        message == "no retention bound" and reason in extra["reason"] for message, extra in logged
    )


def test_a_kafka_3_5_cluster_has_no_topic_apis_and_no_bound(filling, invoke, logged):
    arn = filling("older", None, kafkaVersion="3.5.1")

    result = invoke({"action": "scale", "clusterArn": arn, "dryRun": True})

    assert result["details"]["decision"]["action"] == "grow", result
    bound = result["details"]["retention_bound"]
    assert bound["gib"] is None
    assert "the topic APIs are not available" in bound["reason"]
    assert "3.6.0" in bound["reason"]
    assert any(message == "no retention bound" for message, _ in logged)


def test_without_follower_metrics_there_is_no_bound(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator
):
    # DEFAULT monitoring: MSK publishes no ReplicationBytesInPerSec.
    arn = fleet(cluster_spec("plain", volume=200))["plain"]
    aws.client("kafka").create_topic(
        ClusterArn=arn,
        TopicName="events",
        PartitionCount=6,
        ReplicationFactor=3,
        Configs=encoded({"retention.ms": str(DAY_MS)}),
    )
    msk_emulator.set_broker_load(arn, since=timedelta(hours=30), bytes_in=LEADER)
    disk("plain", 50, 70)

    result = invoke({"action": "scale", "clusterArn": arn, "dryRun": True})

    assert result["details"]["decision"]["action"] == "grow", result
    reason = result["details"]["retention_bound"]["reason"]
    assert "ReplicationBytesInPerSec needs PER_BROKER monitoring" in reason
    assert "this cluster has DEFAULT" in reason


def test_a_quiet_hold_reads_no_topics(aws, cluster_spec, fleet, disk, invoke):
    arn = fleet(cluster_spec("calm"))["calm"]
    disk("calm", 30, 31)

    result = invoke({"action": "scale", "clusterArn": arn})

    assert result["status"] == "unchanged", result
    assert "retention_bound" not in result["details"]


def test_kafkas_compacted_internal_topics_do_not_void_the_bound(aws, filling, invoke):
    arn = filling("with-offsets", {"retention.ms": str(DAY_MS)})
    aws.client("kafka").create_topic(
        ClusterArn=arn,
        TopicName="__consumer_offsets",
        PartitionCount=3,
        ReplicationFactor=3,
        Configs=encoded({"cleanup.policy": "compact", "segment.bytes": str(SEGMENT)}),
    )

    result = invoke({"action": "scale", "clusterArn": arn})

    bound = result["details"]["retention_bound"]
    assert bound["gib"] is not None, bound
    assert "24 h retention" in bound["reason"]
