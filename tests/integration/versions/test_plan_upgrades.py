"""`msk-autopilot plan-upgrades`: the version upgrader's plan and the gates' verdicts per cluster,
as JSON and as a table, without changing anything; bad settings are one line and exit 2."""

from __future__ import annotations

import json

from msk_autopilot_local.cli import main


def _unchanged(world) -> None:
    kafka = world.client("kafka")
    assert [c["Name"] for c in kafka.list_configurations()["Configurations"]] == ["base"]
    for arn in world.clusters.values():
        operations = kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
        assert {op["OperationType"] for op in operations} <= {"CREATE_CLUSTER_V2"}


def test_the_json_plan_gives_order_paths_support_windows_and_gate_verdicts(world, capsys):
    assert main(["plan-upgrades", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    clusters = {cluster["name"]: cluster for cluster in plan["clusters"]}

    assert plan["halted"] is None
    assert [c["name"] for c in plan["clusters"] if c["position"] is not None][:2] == [
        "canary",
        "legacy",
    ]
    canary = clusters["canary"]
    assert (canary["position"], canary["action"], canary["path"]) == (1, "upgrade_now", ["3.8.x"])
    assert canary["gates_admit"] is True
    assert canary["support"]["state"] == "past_end_of_support"
    assert canary["support"]["end_of_support"] == "2026-06-01"
    assert clusters["legacy"]["reason"] == "waiting: the canaries go first: canary"
    assert clusters["shared-a"]["needs_compatible_configuration"] is True
    crowded = clusters["crowded"]
    assert crowded["gates_admit"] is False
    held = [gate for gate in crowded["gates"] if gate["state"] == "block"]
    assert [gate["gate"] for gate in held] == ["partition-limit"]
    assert clusters["nightly"]["window"].endswith("00:00-24:00")
    assert clusters["pinned"]["action"] == "pinned"
    assert clusters["pinned"]["gates"] is None  # no work left: the gates are not asked
    assert clusters["untagged"]["action"] == "not_opted_in"
    _unchanged(world)


def test_the_table_has_one_row_per_cluster_in_rollout_order(world, capsys):
    assert main(["plan-upgrades"]) == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[0].split()[:4] == ["#", "cluster", "version", "target"]
    assert "\x1b" not in "".join(lines)  # not a terminal: plain text
    rows = {line.split()[1] if line[0].isdigit() else line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {
        "canary",
        "legacy",
        "crowded",
        "shared-a",
        "shared-b",
        "nightly",
        "pinned",
        "untagged",
    }
    assert rows["canary"].startswith("1 ")
    assert "2026-06-01 (past end of support)" in rows["canary"]
    assert "held: partition-limit" in rows["crowded"]
    assert "clear" in rows["canary"]
    assert "upgrade_now" in rows["canary"]
    _unchanged(world)


def test_a_bad_catalogue_override_is_one_line_and_exit_2(world, tmp_path, capsys):
    overrides = tmp_path / "env.json"
    overrides.write_text(json.dumps({"Parameters": {"VERSION_CATALOGUE_OVERRIDE": '{"x": 1}'}}))

    assert main(["plan-upgrades", "--env-vars", str(overrides)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(
        "error: the version upgrader's settings are invalid: VERSION_CATALOGUE_OVERRIDE="
    )
    assert "Object contains unknown field `x`" in error
    assert len(error.splitlines()) == 1
