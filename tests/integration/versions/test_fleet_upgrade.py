"""Issue 16's Done-when: the version upgrader, cold-started per run with the template's
environment against the in-process MSK emulator, rolls a mixed fleet to its targets: the canary
first, never two clusters of one configuration at once, the soak respected, gated clusters
deferred with their reasons, pinned and untagged clusters untouched, the incompatible
configuration fixed, every other cluster on its target (`upgrade_scenario` has the fleet)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from upgrade_scenario import BASE_PROPERTIES, SOAK_HOURS, UNTOUCHED, UPGRADED, ScenarioResult


@pytest.fixture
def rollout(rolled_out: tuple[Any, ScenarioResult]) -> ScenarioResult:
    return rolled_out[1]


@pytest.fixture
def world(rolled_out: tuple[Any, ScenarioResult]) -> Any:
    return rolled_out[0]


def test_the_canary_goes_first_and_the_soak_separates_every_later_start(rollout):
    started = [upgrade.cluster for upgrade in rollout.upgrades]
    assert started[0] == "canary"
    assert sorted(started) == sorted(UPGRADED)  # one upgrade each, nobody else
    assert {upgrade.state for upgrade in rollout.upgrades} == {"UPDATE_COMPLETE"}
    soak = timedelta(hours=SOAK_HOURS)
    for earlier in rollout.upgrades:
        for later in rollout.upgrades:
            assert earlier.ended is not None
            if later.started > earlier.started and later.started >= earlier.ended:
                assert later.started - earlier.ended >= soak, (earlier, later)
            elif later.started > earlier.started:
                # overlapping upgrades started in one run (VERSION_MAX_CONCURRENT=2)
                assert later.started - earlier.started < timedelta(minutes=1)


def test_never_two_clusters_of_one_configuration_upgrade_at_once(rollout):
    assert max(len(running) for running in rollout.running) == 2  # concurrency was used
    for running in rollout.running:
        configurations = [arn for _, arn in running if arn is not None]
        assert len(configurations) == len(set(configurations)), running


def test_every_cluster_ends_on_its_target_or_untouched(rollout):
    assert {name: rollout.versions[name] for name in UPGRADED} == dict.fromkeys(UPGRADED, "3.8.x")
    assert {name: rollout.versions[name] for name in UNTOUCHED} == UNTOUCHED


def test_the_incompatible_configuration_is_fixed_with_the_same_properties(rollout, world):
    kafka = world.client("kafka")
    (coupled_a, revision_a) = rollout.configurations["shared-a"]
    assert rollout.configurations["shared-b"] == (coupled_a, revision_a)  # made once, reused
    described = kafka.describe_configuration(Arn=coupled_a)
    assert described["Name"].startswith("msk-autopilot-upgrade-base-3-8-x-")
    # the hop, and the source's versions MSK still offers (3.6.0 until MSK lists it DEPRECATED)
    assert "3.8.x" in described["KafkaVersions"]
    assert set(described["KafkaVersions"]) <= {"3.6.0", "3.8.x"}
    stored = kafka.describe_configuration_revision(Arn=coupled_a, Revision=revision_a)
    assert stored["ServerProperties"].decode() == BASE_PROPERTIES
    base = next(c for c in kafka.list_configurations()["Configurations"] if c["Name"] == "base")
    assert base["KafkaVersions"] == ["3.6.0"]  # the source configuration is left as it was
    # each upgraded while still on `base`, one after the other
    on_base = [[name for name, arn in running if arn == base["Arn"]] for running in rollout.running]
    assert [names for names in on_base if names] == [["shared-a"], ["shared-b"]]


def test_held_and_waiting_clusters_say_why_and_the_rest_go_past_them(rollout):
    last = rollout.outcomes[-1]
    assert last is not None
    clusters = last["details"]["clusters"]
    assert clusters["crowded"]["action"] == "upgrade_now"
    assert clusters["crowded"]["result"]["status"] == "deferred"
    assert clusters["crowded"]["result"]["gate"] == "partition-limit"
    assert "3000 partitions, over the 1500" in clusters["crowded"]["result"]["reason"]
    assert clusters["nightly"]["action"] == "wait_window"
    assert clusters["nightly"]["reason"].startswith("waiting for its window (")
    assert clusters["pinned"]["action"] == "pinned"
    assert clusters["untagged"]["action"] == "not_opted_in"
    assert last["status"] == "deferred"
    assert "crowded (partition-limit)" in last["reason"]


def test_notices_say_each_start_once_and_the_pinned_risk_once(rollout, world):
    subjects = [notice["subject"] for notice in world.notices()]
    started = [s for s in subjects if s.startswith("Kafka version upgrade of")]
    assert sorted(started) == sorted(
        [
            "Kafka version upgrade of canary started: 3.6.0 -> 3.8.x",
            "Kafka version upgrade of legacy started: 2.8.2.tiered -> 3.8.x",
            "Kafka version upgrade of shared-a started: 3.6.0 -> 3.8.x",
            "Kafka version upgrade of shared-b started: 3.6.0 -> 3.8.x",
        ]
    )
    risks = [s for s in subjects if s.startswith("pinned cluster pinned at risk")]
    assert risks == ["pinned cluster pinned at risk: 3.6.0 reached end of support on 2026-06-01"]
    assert subjects.count("kafka_version of crowded deferred by gate partition-limit") == 1
