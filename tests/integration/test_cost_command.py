"""`msk-autopilot cost` on the demo fleet (examples/fleet.yaml) in the emulated account."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from msk_autopilot_local.cli import main
from msk_autopilot_local.emulator import seed_fleet
from msk_autopilot_local.local_aws import read_fleet

ROOT = Path(__file__).resolve().parents[2]
M5_LARGE_AT_19_CENTS = '{"regions": {"us-east-1": {"broker_hour": {"kafka.m5.large": 0.19}}}}'
M5_LARGE_UNKNOWN = '{"regions": {"us-east-1": {"broker_hour": {"kafka.m5.large": null}}}}'


@pytest.fixture
def demo_fleet(aws) -> dict[str, str]:
    return seed_fleet(aws, read_fleet(ROOT / "examples" / "fleet.yaml")).clusters


def cost(capsys, *arguments: str) -> list[dict]:
    assert main(["cost", "--json", *arguments]) == 0
    return json.loads(capsys.readouterr().out)


def test_every_cluster_is_priced_part_by_part_from_the_built_in_table(demo_fleet, capsys):
    rows = {row["cluster"]: row for row in cost(capsys)}
    assert set(rows) == {"orders", "clickstream", "legacy"}
    legacy = rows["legacy"]
    assert legacy["opted_in"] is True
    assert (legacy["instance_type"], legacy["broker_count"]) == ("kafka.m5.large", 2)
    assert legacy["cost"]["storage"] == 100.0  # 2 brokers x 500 GiB x $0.10
    assert legacy["cost"]["throughput"] == 0.0
    assert legacy["cost"]["brokers"] == pytest.approx(2 * 730 * 0.21)
    assert legacy["cost"]["total"] == pytest.approx(306.6 + 100.0)
    assert legacy["cost"]["unknown"] == []
    assert rows["orders"]["cost"]["total"] == pytest.approx(459.9 + 300.0)


def test_a_price_file_replaces_the_tables_prices(demo_fleet, capsys, tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(M5_LARGE_AT_19_CENTS)
    rows = {row["cluster"]: row for row in cost(capsys, "--prices", str(prices))}
    assert rows["orders"]["cost"]["brokers"] == pytest.approx(3 * 730 * 0.19)
    assert rows["orders"]["cost"]["total"] == pytest.approx(416.1 + 300.0)
    assert rows["legacy"]["cost"]["total"] == pytest.approx(277.4 + 100.0)
    # the demo fleet has no load history, so the broker policy keeps every size: nothing saved
    assert rows["orders"]["right_sized"] == {"instance_type": "kafka.m5.large", "broker_count": 3}
    assert rows["orders"]["savings"] == 0.0


def test_one_cluster_as_a_table(demo_fleet, capsys):
    assert main(["cost", "--cluster", demo_fleet["legacy"]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["cluster", "opted", "in"]
    (row,) = [line for line in lines if line.startswith("legacy")]
    assert row.split() == [
        "legacy", "yes", "2", "x", "kafka.m5.large", "306.60", "100.00", "0.00", "0.00", "0.00",
        "406.60", "2", "x", "kafka.m5.large", "0.00",
    ]  # fmt: skip
    assert "Amounts in USD per month of 730 hours." in lines
    assert not any(line.startswith("Unknown:") for line in lines)


def test_the_table_says_which_prices_are_unknown(demo_fleet, capsys, tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(M5_LARGE_UNKNOWN)
    assert main(["cost", "--prices", str(prices)]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("legacy")]
    assert rows[0].split()[5:7] == ["unknown", "100.00"]
    assert "Unknown: kafka.m5.large hour price in us-east-1 (give them with --prices FILE)." in out


def test_a_bad_price_file_is_one_line_naming_the_file_and_the_key(demo_fleet, capsys, tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text('{"regions": {"us-east-1": {"broker_hour": {"kafka.m9.large": 1}}}}')
    assert main(["cost", "--prices", str(prices)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: invalid price file {prices}: ")
    assert "broker_hour['kafka.m9.large']` is not an MSK broker instance type" in err


def test_an_unknown_cluster_is_one_line(demo_fleet, capsys):
    missing = (
        "arn:aws:kafka:us-east-1:123456789012:cluster/gone/00000000-0000-0000-0000-000000000000-1"
    )
    assert main(["cost", "--cluster", missing]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"error: no cluster {missing} in us-east-1 (`msk-autopilot cost` lists every cluster)\n"
    )


def test_help_describes_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "msk_autopilot_local.cli", "cost", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--prices FILE" in done.stdout
    assert "730 hours" in done.stdout


def test_the_readme_shows_the_demo_fleets_figures_as_the_command_prints_them(
    demo_fleet, capsys, tmp_path
):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert main(["cost"]) == 0
    assert f"```\n{capsys.readouterr().out}```" in readme
    prices = tmp_path / "prices.json"
    prices.write_text(M5_LARGE_AT_19_CENTS)
    assert main(["cost", "--prices", str(prices)]) == 0
    assert f"```\n{capsys.readouterr().out}```" in readme


def test_right_sizing_is_the_broker_policys_decision_on_the_clusters_load(
    aws, msk_emulator, capsys, tmp_path
):
    prices = tmp_path / "prices.json"
    prices.write_text(
        '{"regions": {"us-east-1": {"broker_hour": '
        '{"kafka.m7g.large": 0.2, "kafka.m7g.xlarge": 0.4}}}}'
    )
    idle = {"name": "idle", "brokers": 3, "instanceType": "kafka.m7g.xlarge"}
    idle |= {"volumeSizeGiB": 100, "subnets": ["a", "b", "c"]}  # not opted in: priced all the same
    arn = seed_fleet(aws, {"clusters": [idle]}).clusters["idle"]
    msk_emulator.set_broker_load(arn, cpu_user=6.0, cpu_system=3.0, bytes_in=50_000.0)
    (row,) = cost(capsys, "--prices", str(prices))
    assert row["right_sized"] == {"instance_type": "kafka.m7g.large", "broker_count": 3}
    assert row["savings"] == pytest.approx(3 * 730 * (0.4 - 0.2))
