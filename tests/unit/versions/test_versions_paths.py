"""Paths through MSK's compatibility graph, ZooKeeper to KRaft, and configuration coupling."""

import pytest

from msk_autopilot.versions.paths import (
    KRAFT_MIGRATION_PREREQUISITES,
    PrerequisiteCheck,
    kraft_migration_hop,
    missing_path_reason,
    needs_compatible_configuration,
    unmet,
    upgrade_path,
)

# Shaped like GetCompatibleKafkaVersions without a ClusterArn.
GRAPH = {
    "3.4.0": ["3.5.1"],
    "3.5.1": ["3.6.0", "3.7.x"],
    "3.6.0": ["3.7.x", "3.8.x", "3.9.x"],
    "3.7.x": ["3.8.x", "3.9.x"],
    "3.8.x": ["3.9.x"],
    "3.9.x": ["3.9.x.kraft"],
    "3.7.x.kraft": ["3.8.x.kraft", "3.9.x.kraft"],
    "3.8.x.kraft": ["3.9.x.kraft"],
    "3.9.x.kraft": ["4.0.x.kraft"],
}


def test_a_direct_hop_is_one_step() -> None:
    assert upgrade_path(GRAPH, "3.6.0", "3.8.x") == ("3.8.x",)
    assert upgrade_path(GRAPH, "3.8.x", "3.8.x") == ()


def test_several_hops_take_the_fewest_then_the_newest_intermediate() -> None:
    # 3.5.1 -> 3.6.0 -> 3.8.x and 3.5.1 -> 3.7.x -> 3.8.x are both two hops: 3.7.x is newer.
    assert upgrade_path(GRAPH, "3.4.0", "3.8.x") == ("3.5.1", "3.7.x", "3.8.x")
    # Fewest hops beats newer intermediates: 3.6.0 -> 3.9.x directly, not via 3.7.x or 3.8.x.
    assert upgrade_path(GRAPH, "3.6.0", "3.9.x") == ("3.9.x",)


def test_no_path_is_none_with_a_reason() -> None:
    assert upgrade_path(GRAPH, "3.9.x", "3.6.0") is None
    assert "does not downgrade" in missing_path_reason(GRAPH, "3.9.x", "3.6.0")
    assert upgrade_path(GRAPH, "2.8.2.tiered", "3.8.x") is None
    assert missing_path_reason(GRAPH, "2.8.2.tiered", "3.8.x") == (
        "MSK lists no upgrade from 2.8.2.tiered"
    )
    assert "does not downgrade" in missing_path_reason(GRAPH, "3.8.x.kraft", "3.9.x")


def test_zookeeper_to_kraft_goes_through_the_kraft_target_msk_lists() -> None:
    path = upgrade_path(GRAPH, "3.6.0", "4.0.x.kraft")
    assert path == ("3.9.x", "3.9.x.kraft", "4.0.x.kraft")
    assert kraft_migration_hop("3.6.0", path) == "3.9.x.kraft"
    assert kraft_migration_hop("3.9.x", path[1:]) == "3.9.x.kraft"
    assert kraft_migration_hop("3.6.0", ("3.8.x",)) is None
    assert kraft_migration_hop("3.9.x.kraft", ("4.0.x.kraft",)) is None


def test_without_a_kraft_target_listed_the_reason_says_what_is_missing() -> None:
    no_migration = {source: targets for source, targets in GRAPH.items() if source != "3.9.x"}
    assert upgrade_path(no_migration, "3.6.0", "4.0.x.kraft") is None
    assert missing_path_reason(no_migration, "3.6.0", "4.0.x.kraft") == (
        "MSK offers no in-place ZooKeeper to KRaft migration from any version; "
        "4.0.x.kraft needs a new KRaft cluster"
    )
    stranded = {**GRAPH, "3.3.2": ["3.4.0"], "3.4.0": []}
    assert missing_path_reason(stranded, "3.3.2", "4.0.x.kraft") == (
        "MSK lists no path from 3.3.2 to 4.0.x.kraft: "
        "ZooKeeper to KRaft in place is offered only from 3.9.x"
    )


def test_kraft_prerequisites_are_the_documented_checklist_and_unknowns_block() -> None:
    keys = [item.key for item in KRAFT_MIGRATION_PREREQUISITES]
    assert keys == [
        "three_zones",
        "on_3_9_zookeeper",
        "active_no_pending",
        "zookeeper_access_disabled",
        "no_zookeeper_tools",
        "bootstrap_clients",
        "not_public_and_open_monitoring",
        "not_t3_small",
        "no_dynamic_advertised_listeners",
    ]
    checks = [
        PrerequisiteCheck("three_zones", True),
        PrerequisiteCheck("not_t3_small", False, "brokers are kafka.t3.small"),
        PrerequisiteCheck("bootstrap_clients", None, "confirm no client uses --zookeeper"),
    ]
    assert [check.key for check in unmet(checks)] == ["not_t3_small", "bootstrap_clients"]


@pytest.mark.parametrize(
    ("listed", "hop", "needed"),
    [
        ((), "3.8.x", False),  # no list: usable with every version
        (("3.6.0", "3.8.x"), "3.8.x", False),
        (("3.6.0",), "3.8.x", True),
        (("3.9.x",), "3.9.x.kraft", True),
    ],
)
def test_a_configuration_must_list_the_next_hop(
    listed: tuple[str, ...], hop: str, needed: bool
) -> None:
    assert needs_compatible_configuration(listed, hop) is needed
