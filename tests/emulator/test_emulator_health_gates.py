"""The core's health gates read the emulator's health metrics and maintenance as they read
MSK's: healthy clusters are admitted, each unhealthy profile holds the changes its gate holds."""

import pytest

from msk_autopilot.health.change import ChangeKind
from msk_autopilot.health.gates import GATES, GateState, evaluate
from msk_autopilot.health.reading import HealthReader
from msk_autopilot.msk import MskReader


@pytest.fixture
def judge(kit, msk_emulator):
    reader = HealthReader(kit.client("cloudwatch"))
    msk = MskReader(kit.kafka)

    def judge(arn, change=ChangeKind.CONFIGURATION):
        reading = reader.read(
            msk.cluster(arn), msk.operations(arn), GATES, now=msk_emulator.clock.now()
        )
        return evaluate(reading, change)

    return judge


@pytest.fixture
def orders(kit, msk_emulator):
    arn = kit.create("orders")
    msk_emulator.complete_operations()
    return arn


def test_a_healthy_profile_admits_a_rolling_change(judge, orders, msk_emulator):
    msk_emulator.set_cluster_health(orders)

    verdict = judge(orders)

    assert verdict.admitted, verdict.held_by


def test_without_metrics_the_rolling_change_is_held_as_unknown(judge, orders):
    verdict = judge(orders)

    assert not verdict.admitted
    assert {r.state for r in verdict.held_by} == {GateState.UNKNOWN}


@pytest.mark.parametrize(
    ("values", "gate"),
    [
        ({"broker": 2, "under_replicated_partitions": 3}, "under-replicated"),
        ({"offline_partitions": 1}, "offline-partitions"),
        ({"broker": 1, "under_min_isr_partitions": 1}, "under-min-isr"),
        ({"active_controllers": 0}, "active-controller"),
        ({"cpu_user": 55, "cpu_system": 10}, "cpu"),
        ({"partition_count": 1600}, "partition-limit"),
    ],
)
def test_each_unhealthy_profile_holds_a_configuration_change_at_its_gate(
    judge, orders, msk_emulator, values, gate
):
    msk_emulator.set_cluster_health(orders, **values)

    verdict = judge(orders)

    assert [r.gate for r in verdict.held_by] == [gate]


def test_msk_maintenance_holds_changes(judge, orders, msk_emulator):
    msk_emulator.set_cluster_health(orders)
    msk_emulator.start_maintenance(orders)

    held = {r.gate for r in judge(orders, ChangeKind.STORAGE_GROWTH).held_by}

    assert "msk-maintenance" in held
