"""The storage scaler's fault scenario: one fleet, its disk alarms kept by the health monitor, a
sweep, alarms, and a sweep after the cool-down.

`run_storage_scenario(world)` plays the scenario against a `FaultWorld` (faults or none) and
returns what can be compared between runs: the end state (volumes, alarms, operations), the
outcome of every delivered event, the notifications and the emulator's count of MSK calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fault_world import ROOT, TAG, FaultWorld, Invocation

from msk_autopilot_local.emulator import control, put_linear_series
from msk_autopilot_local.emulator.events import disk_alarm_state_change

ALARM_PREFIX = "msk-autopilot-disk-"
SCHEDULE = json.loads((ROOT / "events/scheduled_event.json").read_text())
STORAGE_CALLS = "Update*Storage"  # UpdateBrokerStorage and UpdateStorage
STORAGE_OPERATION_TYPES = {"UPDATE_BROKER_STORAGE", "UPDATE_STORAGE"}
BROKERS = ("1", "2", "3")
OPERATION_SECONDS = 1800  # long enough that the alarms arrive while the resize runs


@dataclass(frozen=True)
class Disk:
    """A cluster of the scenario: its size and how fast its brokers' disks fill (GiB/h)."""

    name: str
    volume_gib: int
    used_gib: float  # at the start of the scenario
    growth_gib_per_hour: float

    def spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "brokers": len(BROKERS),
            "volumeSizeGiB": self.volume_gib,
            "subnets": ["subnet-a", "subnet-b", "subnet-c"],
            "tags": {TAG: "true"},
        }


DISKS = (
    Disk("orders", 1000, used_gib=700, growth_gib_per_hour=50),  # fills within the cool-down
    Disk("payments", 2000, used_gib=1450, growth_gib_per_hour=25),  # near the alarm, slower
    Disk("logs", 500, used_gib=110, growth_gib_per_hour=1),  # quiet
)
FLEET = {"clusters": [disk.spec() for disk in DISKS]}


@dataclass
class ScenarioResult:
    end_state: dict[str, Any]
    outcomes: list[tuple[str, str | None]]  # (step, status) of every delivered event
    notifications: list[str]  # subjects, in publication order (duplicates kept)
    storage_calls: dict[str, int]  # MSK storage updates the emulator accepted / refused
    operations_started: int
    invocations: list[Invocation] = field(default_factory=list)
    proxy: dict[str, Any] = field(default_factory=dict)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def schedule_event(now: datetime) -> dict[str, Any]:
    return {**SCHEDULE, "time": _stamp(now)}


def alarm_event(cluster_arn: str, cluster_name: str, broker: str, now: datetime) -> dict[str, Any]:
    return disk_alarm_state_change(
        cluster_arn=cluster_arn, cluster_name=cluster_name, broker=broker, time=now
    )


def volume(world: FaultWorld, arn: str) -> int:
    info = world.client("kafka").describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
    ebs = info["Provisioned"]["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]
    return int(ebs["VolumeSize"])


def write_disk_usage(world: FaultWorld, start: datetime, now: datetime) -> None:
    """Six hours of KafkaDataLogsDiskUsed up to `now`, at each cluster's current size."""
    cloudwatch = world.client("cloudwatch")
    for disk in DISKS:
        size = volume(world, world.account.clusters[disk.name])

        def percent(at: datetime, disk: Disk = disk, size: int = size) -> float:
            hours = (at - start).total_seconds() / 3600
            return 100 * (disk.used_gib + disk.growth_gib_per_hour * hours) / size

        begin = now - timedelta(hours=6)
        put_linear_series(
            cloudwatch,
            disk.name,
            broker_ids=[int(b) for b in BROKERS],
            start=begin,
            end=now,
            start_value=percent(begin),
            end_value=percent(now),
            period_seconds=300,
        )


def subscribe_notifications(world: FaultWorld) -> str:
    sns, sqs = world.client("sns"), world.client("sqs")
    topic = next(
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(":msk-autopilot-notifications")
    )
    queue = sqs.create_queue(QueueName="notifications-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
    return str(queue)


def read_notifications(world: FaultWorld, queue: str) -> list[str]:
    """The autopilot's own notices. CloudWatch's notifications of the health monitor's alarms
    (the disk backstop fires as the disks fill) reach the same topic and are left out: they are
    CloudWatch's, not the scaler's, and the emulator sends them as the clock advances."""
    sqs = world.client("sqs")
    subjects: list[str] = []
    for _ in range(1000):  # bounded: the scenario publishes a handful
        batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        for message in batch:
            subject = json.loads(message["Body"])["Subject"]
            if subject.startswith("[msk-autopilot "):
                subjects.append(subject)
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return subjects


def end_state(world: FaultWorld) -> dict[str, Any]:
    """Volumes, our alarms and the storage operations, by cluster name (ARNs differ per run)."""
    kafka, cloudwatch = world.client("kafka"), world.client("cloudwatch")
    clusters: dict[str, Any] = {}
    for disk in DISKS:
        arn = world.account.clusters[disk.name]
        operations = []
        summaries = kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
        for summary in sorted(summaries, key=lambda op: op["StartTime"]):
            info = kafka.describe_cluster_operation_v2(ClusterOperationArn=summary["OperationArn"])
            target = info["ClusterOperationInfo"]["Provisioned"]["TargetClusterInfo"]
            operations.append(
                (
                    summary["OperationType"],
                    summary["OperationState"],
                    json.dumps(target, sort_keys=True),
                )
            )
        clusters[disk.name] = {"volume": volume(world, arn), "operations": operations}
    alarms = {
        alarm["AlarmName"]: (
            alarm["MetricName"],
            alarm["Threshold"],
            alarm["EvaluationPeriods"],
            tuple(sorted((d["Name"], d["Value"]) for d in alarm["Dimensions"])),
        )
        for alarm in cloudwatch.describe_alarms(AlarmNamePrefix=ALARM_PREFIX)["MetricAlarms"]
    }
    return {"clusters": clusters, "alarms": alarms}


def run_storage_scenario(world: FaultWorld, *, env: dict[str, str] | None = None) -> ScenarioResult:
    control.configure(operation_seconds=OPERATION_SECONDS)
    inbox = subscribe_notifications(world)
    outcomes: list[tuple[str, str | None]] = []

    def deliver(step: str, event: dict[str, Any]) -> Invocation:
        invocation = world.invoke("storage_scaler", event, env=env)
        outcomes.append((step, invocation.status))
        return invocation

    # 1. The health monitor keeps a disk alarm for every broker (its outcome is not compared: a
    # run that raised and was retried finds them made); the first sweep grows where the
    # forecast needs it.
    start = control.clock.now()
    world.invoke("health_monitor", schedule_event(start), env=env)
    write_disk_usage(world, start, start)
    deliver("sweep-1", schedule_event(start))

    # 2. Ten minutes later the disk alarms of the busy clusters fire (the resizes still run).
    alarms_at = control.clock.advance(600)
    for disk in DISKS[:2]:
        arn = world.account.clusters[disk.name]
        for broker in BROKERS[:2]:
            deliver(f"alarm-{disk.name}-{broker}", alarm_event(arn, disk.name, broker, alarms_at))

    # 3. The resizes end, the cool-down passes, the disks keep filling: the second sweep.
    control.complete_operations()
    control.clock.advance(12 * 3600)
    later = control.clock.now()
    write_disk_usage(world, start, later)
    deliver("sweep-2", schedule_event(later))
    control.complete_operations()

    state = end_state(world)
    accepted = world.emulator.count(STORAGE_CALLS, accepted=True)
    refused = world.emulator.count(STORAGE_CALLS, accepted=False)
    started = sum(
        1
        for cluster in state["clusters"].values()
        for operation in cluster["operations"]
        if operation[0] in STORAGE_OPERATION_TYPES
    )
    return ScenarioResult(
        end_state=state,
        outcomes=outcomes,
        notifications=read_notifications(world, inbox),
        storage_calls={"accepted": accepted, "refused": refused},
        operations_started=started,
        invocations=list(world.invocations),
        proxy=world.proxy.stats().to_dict(),
    )
