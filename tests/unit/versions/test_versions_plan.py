"""The fleet plan: targets, deadlines against windows, rollout order, soak, halts, JSON shape."""

import json
from datetime import UTC, date, datetime, timedelta

import msgspec

from msk_autopilot.versions.catalogue import Catalogue, SupportState
from msk_autopilot.versions.plan import (
    Action,
    ClusterFacts,
    FleetPlan,
    RolloutPolicy,
    UpgradeOperation,
    plan_fleet,
)
from msk_autopilot.versions.target import CANARY_TAG, TARGET_TAG, WINDOW_TAG

# Saturday 2026-04-04 12:00 UTC: 3.6.0 ends on 2026-06-01 (58 days), so its deadline with the
# default 30-day margin is 2026-05-02.
NOW = datetime(2026, 4, 4, 12, tzinfo=UTC)
LISTED = {
    "3.6.0": "ACTIVE",
    "3.7.x": "ACTIVE",
    "3.8.x": "ACTIVE",
    "3.9.x": "ACTIVE",
    "3.9.x.kraft": "ACTIVE",
    "4.0.x.kraft": "ACTIVE",
}
CATALOGUE = Catalogue.built_in().reconciled(LISTED)
GRAPH = {
    "3.6.0": ["3.7.x", "3.8.x", "3.9.x"],
    "3.7.x": ["3.8.x", "3.9.x"],
    "3.8.x": ["3.9.x"],
    "3.9.x": ["3.9.x.kraft"],
    "3.9.x.kraft": ["4.0.x.kraft"],
}
POLICY = RolloutPolicy(soak=timedelta(hours=2))


def cluster(name: str, version: str = "3.6.0", **changes: object) -> ClusterFacts:
    facts = ClusterFacts(
        arn=f"arn:aws:kafka:eu-west-1:123456789012:cluster/{name}/uuid",
        name=name,
        current_version=version,
        state="ACTIVE",
        opted_in=True,
    )
    return msgspec.structs.replace(facts, **changes)


def plan(*clusters: ClusterFacts, policy: RolloutPolicy = POLICY, now: datetime = NOW) -> FleetPlan:
    return plan_fleet(clusters, CATALOGUE, GRAPH, policy, now)


def test_a_cluster_on_an_ending_version_upgrades_to_the_recommended_one() -> None:
    result = plan(cluster("orders"))
    orders = result.by_name("orders")
    assert orders.action is Action.UPGRADE_NOW
    assert (orders.target, orders.path, orders.next_hop) == ("3.8.x", ("3.8.x",), "3.8.x")
    assert orders.support.state is SupportState.ENDING_SOON
    assert orders.act_by == date(2026, 5, 2)
    assert orders.position == 1
    assert not orders.forced_by_deadline
    assert result.halted is None


def test_settled_clusters_say_why_and_take_no_position() -> None:
    result = plan(
        cluster("fresh", "3.8.x"),
        cluster("manual", opted_in=False),
        cluster("frozen", tags={TARGET_TAG: "pinned"}),
        cluster("typo", tags={TARGET_TAG: "newest"}),
        cluster("badwindow", tags={WINDOW_TAG: "weekends"}),
        cluster("stuck", "3.9.x", tags={TARGET_TAG: "3.8.x"}),
    )
    actions = {item.name: (item.action, item.position) for item in result.clusters}
    assert actions == {
        "fresh": (Action.UP_TO_DATE, None),
        "manual": (Action.NOT_OPTED_IN, None),
        "frozen": (Action.PINNED, None),
        "typo": (Action.SKIPPED, None),
        "badwindow": (Action.SKIPPED, None),
        "stuck": (Action.SKIPPED, None),
    }
    assert "'newest'" in result.by_name("typo").reason
    assert 'e.g. "sat,sun 02:00-06:00"' in result.by_name("badwindow").reason
    assert "does not downgrade" in result.by_name("stuck").reason


def test_a_pinned_cluster_is_reported_at_risk_as_end_of_support_nears() -> None:
    pinned = {TARGET_TAG: "pinned"}
    near = plan(cluster("frozen", tags=pinned)).by_name("frozen")
    assert near.action is Action.PINNED
    assert "at risk" in near.reason
    assert "2026-06-01" in near.reason
    calm = plan(cluster("frozen", tags=pinned), now=datetime(2025, 12, 1, tzinfo=UTC))
    assert "at risk" not in calm.by_name("frozen").reason


def test_a_path_msk_does_not_list_is_a_skip_saying_what_is_missing() -> None:
    kraft = plan(cluster("meta", "3.6.0", tags={TARGET_TAG: "4.0.x.kraft"}))
    assert kraft.by_name("meta").action is Action.UPGRADE_NOW
    assert kraft.by_name("meta").path == ("3.9.x", "3.9.x.kraft", "4.0.x.kraft")
    assert kraft.by_name("meta").kraft_prerequisites == ()  # the first hop is not the migration
    migrating = plan(cluster("meta", "3.9.x", tags={TARGET_TAG: "4.0.x.kraft"})).by_name("meta")
    assert migrating.next_hop == "3.9.x.kraft"
    assert "zookeeper_access_disabled" in migrating.kraft_prerequisites
    no_graph = plan_fleet(
        [cluster("meta", "3.9.x", tags={TARGET_TAG: "4.0.x.kraft"})],
        CATALOGUE,
        {"3.6.0": ["3.9.x"]},
        POLICY,
        NOW,
    ).by_name("meta")
    assert no_graph.action is Action.SKIPPED
    assert "ZooKeeper to KRaft" in no_graph.reason


def test_outside_its_window_a_cluster_waits_while_the_deadline_allows() -> None:
    # Saturday 12:00, window on Mondays 01:00-03:00: next opening 2026-04-06 01:00.
    waiting = plan(cluster("orders", tags={WINDOW_TAG: "mon 01:00-03:00"})).by_name("orders")
    assert waiting.action is Action.WAIT_WINDOW
    assert "next opening 2026-04-06 01:00 UTC" in waiting.reason
    assert waiting.position == 1


def test_outside_its_window_a_cluster_goes_when_waiting_would_miss_the_deadline() -> None:
    # Friday 2026-05-01 12:00; the deadline is 2026-05-02 00:00, the next Monday opening after it.
    friday = datetime(2026, 5, 1, 12, tzinfo=UTC)
    forced = plan(cluster("orders", tags={WINDOW_TAG: "mon 01:00-03:00"}), now=friday)
    orders = forced.by_name("orders")
    assert orders.action is Action.UPGRADE_NOW
    assert orders.forced_by_deadline
    assert "outside its window" in orders.reason
    assert "deadline 2026-05-02" in orders.reason
    # A wider margin moves the deadline earlier: the same Saturday is already forced.
    early = plan(
        cluster("orders", tags={WINDOW_TAG: "mon 01:00-03:00"}),
        policy=RolloutPolicy(deadline_margin_days=60),
    ).by_name("orders")
    assert early.forced_by_deadline


def test_in_its_window_a_cluster_goes_and_no_deadline_means_waiting() -> None:
    inside = plan(cluster("orders", tags={WINDOW_TAG: "sat 11:00-13:00"})).by_name("orders")
    assert inside.action is Action.UPGRADE_NOW
    assert not inside.forced_by_deadline
    undated = plan(
        cluster("orders", "3.8.x", tags={TARGET_TAG: "3.9.x", WINDOW_TAG: "mon 01:00-03:00"}),
        now=datetime(2030, 1, 1, tzinfo=UTC),
    ).by_name("orders")
    assert undated.act_by is None
    assert undated.action is Action.WAIT_WINDOW


def test_canaries_go_first_and_the_rest_wait_for_them() -> None:
    result = plan(cluster("alpha"), cluster("zeta", tags={CANARY_TAG: "true"}))
    assert [item.name for item in result.clusters] == ["zeta", "alpha"]
    assert result.by_name("zeta").action is Action.UPGRADE_NOW
    assert result.by_name("alpha").action is Action.WAIT_TURN
    assert "canaries go first: zeta" in result.by_name("alpha").reason
    # A canary waiting for its window still holds the rest back.
    held = plan(
        cluster("alpha"), cluster("zeta", tags={CANARY_TAG: "true", WINDOW_TAG: "mon 01:00-02:00"})
    )
    assert held.by_name("zeta").action is Action.WAIT_WINDOW
    assert held.by_name("alpha").action is Action.WAIT_TURN


def test_the_nearest_deadline_goes_first_and_max_concurrent_caps_the_starts() -> None:
    clusters = (
        cluster("b-late", "3.7.x"),
        cluster("a-soon", "3.6.0"),
        cluster("c-none", "3.8.x", tags={TARGET_TAG: "3.9.x"}),
    )
    one = plan(*clusters)
    assert [(item.name, item.action) for item in one.clusters] == [
        ("a-soon", Action.UPGRADE_NOW),
        ("b-late", Action.WAIT_TURN),
        ("c-none", Action.WAIT_TURN),
    ]
    assert [item.position for item in one.clusters] == [1, 2, 3]
    two = plan(*clusters, policy=RolloutPolicy(max_concurrent=2))
    assert [item.action for item in two.clusters] == [
        Action.UPGRADE_NOW,
        Action.UPGRADE_NOW,
        Action.WAIT_TURN,
    ]


def test_never_two_clusters_sharing_a_configuration_start_together() -> None:
    shared = "arn:aws:kafka:eu-west-1:123456789012:configuration/common/uuid"
    result = plan(
        cluster("a", configuration_arn=shared),
        cluster("b", configuration_arn=shared),
        cluster("c", configuration_arn="arn:aws:kafka:eu-west-1:123456789012:configuration/own/x"),
        policy=RolloutPolicy(max_concurrent=3),
    )
    assert [item.action for item in result.clusters] == [
        Action.UPGRADE_NOW,
        Action.WAIT_TURN,
        Action.UPGRADE_NOW,
    ]
    assert "shares its configuration with a" in result.by_name("b").reason


def test_a_soak_follows_every_completed_upgrade() -> None:
    done = UpgradeOperation("UPDATE_COMPLETE", NOW - timedelta(hours=3), NOW - timedelta(hours=1))
    soaking = plan(cluster("canary", "3.8.x", upgrades=(done,)), cluster("orders"))
    assert soaking.by_name("orders").action is Action.WAIT_SOAK
    assert (
        "soaking after canary's upgrade until 2026-04-04 13:00 UTC"
        in soaking.by_name("orders").reason
    )
    assert soaking.by_name("canary").action is Action.UP_TO_DATE
    after = plan(
        cluster("canary", "3.8.x", upgrades=(done,)),
        cluster("orders"),
        now=NOW + timedelta(hours=1),
    )
    assert after.by_name("orders").action is Action.UPGRADE_NOW


def test_a_running_or_failed_upgrade_halts_the_rollout() -> None:
    running = UpgradeOperation("UPDATE_IN_PROGRESS", NOW - timedelta(minutes=20))
    halted = plan(
        cluster("busy", upgrades=(running,)), cluster("orders"), cluster("fresh", "3.8.x")
    )
    assert halted.halted == "the version upgrade of busy is running (since 2026-04-04 11:40 UTC)"
    assert halted.by_name("orders").action is Action.HALTED
    assert halted.by_name("busy").action is Action.HALTED
    assert halted.by_name("fresh").action is Action.UP_TO_DATE
    failed = UpgradeOperation("UPDATE_FAILED", NOW - timedelta(hours=5), NOW - timedelta(hours=4))
    broken = plan(cluster("broken", upgrades=(failed,)), cluster("orders"))
    assert broken.halted is not None
    assert "latest version upgrade of broken failed" in broken.halted
    assert all(item.action is Action.HALTED for item in broken.clusters)
    # A later success clears it; a failure on a cluster the autopilot does not manage does not halt.
    retried = UpgradeOperation(
        "UPDATE_COMPLETE", NOW - timedelta(hours=4), NOW - timedelta(hours=3)
    )
    assert (
        plan(cluster("broken", "3.8.x", upgrades=(failed, retried)), cluster("orders")).halted
        is None
    )
    assert (
        plan(cluster("manual", opted_in=False, upgrades=(failed,)), cluster("orders")).halted
        is None
    )


def test_a_cluster_not_active_waits_its_turn() -> None:
    result = plan(cluster("maint", state="MAINTENANCE"), cluster("orders"))
    assert result.by_name("maint").action is Action.WAIT_TURN
    assert "MAINTENANCE, not ACTIVE" in result.by_name("maint").reason
    assert result.by_name("orders").action is Action.UPGRADE_NOW


def test_configuration_coupling_is_planned_from_the_configuration_versions() -> None:
    result = plan(
        cluster("listed", configuration_kafka_versions=("3.6.0",)),
        cluster("open", configuration_kafka_versions=()),
        cluster("default"),
        policy=RolloutPolicy(max_concurrent=3),
    )
    assert result.by_name("listed").needs_compatible_configuration
    assert not result.by_name("open").needs_compatible_configuration
    assert not result.by_name("default").needs_compatible_configuration


def test_the_plan_serialises_to_plain_json() -> None:
    result = plan(
        cluster("orders", tags={WINDOW_TAG: "mon 01:00-03:00", CANARY_TAG: "true"}),
        cluster("frozen", tags={TARGET_TAG: "pinned"}),
    )
    shape = json.loads(json.dumps(result.to_dict()))
    assert shape["now"] == "2026-04-04T12:00:00Z"
    assert shape["halted"] is None
    assert shape["unknown_versions"] == []
    orders = shape["clusters"][0]
    assert orders == {
        "arn": "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/uuid",
        "name": "orders",
        "current": "3.6.0",
        "target": "3.8.x",
        "path": ["3.8.x"],
        "next_hop": "3.8.x",
        "support": {
            "version": "3.6.0",
            "state": "ending_soon",
            "end_of_support": "2026-06-01",
            "days_left": 58,
            "deprecated_by_msk": False,
        },
        "window": "mon 01:00-03:00",
        "canary": True,
        "action": "wait_window",
        "reason": orders["reason"],
        "position": 1,
        "act_by": "2026-05-02",
        "forced_by_deadline": False,
        "needs_compatible_configuration": False,
        "kraft_prerequisites": [],
    }
    assert shape["clusters"][1]["action"] == "pinned"
    assert shape["clusters"][1]["position"] is None


def test_versions_msk_lists_that_the_catalogue_lacks_are_reported() -> None:
    catalogue = Catalogue.built_in().reconciled({**LISTED, "4.2.x.kraft": "ACTIVE"})
    result = plan_fleet([cluster("odd", "4.2.x.kraft")], catalogue, GRAPH, POLICY, NOW)
    assert result.unknown_versions == ("4.2.x.kraft",)
    odd = result.by_name("odd")
    assert odd.support.state is SupportState.UNKNOWN
    assert odd.action is Action.UP_TO_DATE
