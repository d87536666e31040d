"""Storage growth is urgent: no metric gate holds it, however sick the cluster looks, because
growing a volume restarts no broker and may be the cure (the gates' own tests show which gates
hold it: only a cluster MSK would refuse anyway)."""

from datetime import UTC, datetime, timedelta

from test_storage_scaler import alarm_event, storage_operations

from msk_autopilot_local.emulator.metrics import put_broker_metrics, put_cluster_metric

SICK = {
    "UnderReplicatedPartitions": 12,
    "UnderMinIsrPartitionCount": 3,
    "PartitionCount": 2000,  # over kafka.m5.large's maximum of 1500
    "CpuUser": 90,
    "CpuSystem": 9,
}


def test_a_sick_cluster_still_grows_its_storage(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator, emitted
):
    arn = fleet(cluster_spec("orders"))["orders"]
    disk("orders", 60, 78)
    cloudwatch = aws.client("cloudwatch")
    when = datetime.now(UTC) - timedelta(minutes=1)
    for broker in (1, 2, 3):
        put_broker_metrics(cloudwatch, "orders", broker, SICK, when)
    put_cluster_metric(cloudwatch, "orders", "OfflinePartitionsCount", [2], when)
    put_cluster_metric(cloudwatch, "orders", "ActiveControllerCount", [0, 0, 0], when)

    result = invoke(alarm_event(arn, "orders", msk_emulator.clock.now()))

    assert result["status"] == "acted", result
    assert len(storage_operations(aws.client("kafka"), arn)) == 1
    assert not any(key.startswith("Deferred.") for line in emitted() for key in line)
