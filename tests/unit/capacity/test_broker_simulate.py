"""The broker simulator: its world, both policies on the shipped traces, the command and --plot."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from msk_autopilot_local.cli import main
from msk_autopilot_local.simulate.broker_simulator import (
    OPERATION_MINUTES,
    broker_comparison_table,
    run_broker_suite,
    simulate_brokers,
)
from msk_autopilot_local.simulate.broker_trace import (
    BrokerTraceError,
    parse_broker_trace,
    shipped_broker_traces,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def broker_trace(rows, *, hours=24, instance_type="kafka.m5.xlarge", count=3, extra=""):
    return parse_broker_trace(
        f"# instance_type: {instance_type}\n# broker_count: {count}\n# duration_hours: {hours}\n"
        f"{extra}hour,cpu_vcpus,mb_in,mb_out\n" + "".join(f"{row}\n" for row in rows),
        name="t",
    )


@pytest.fixture(scope="module")
def suite():
    return {(run.trace, run.policy): run for run in run_broker_suite()}


# --- the world -----------------------------------------------------------------------------------


def test_cpu_is_demand_over_provisioned_vcpus_and_cost_is_broker_hours_at_list_price():
    run = simulate_brokers(broker_trace(["0,6,1,1"]), "autopilot")  # 6 of 12 vCPUs
    assert run.peak_cpu_percent == 50.0
    assert run.actions == ()
    assert run.broker_hours == 72
    # three xlarge brokers for 24 hours at us-east-1's $0.42 (capacity/prices.json)
    assert run.cost == pytest.approx(72 * 0.42, abs=0.05)
    assert run.final_shape == "kafka.m5.xlarge x 3"


def test_demand_is_linear_between_rows_and_capped_at_the_vcpus():
    trace = broker_trace(["0,0,0,0", "10,24,0,0"], hours=12)
    assert trace.demand(300).cpu_vcpus == pytest.approx(12)
    run = simulate_brokers(trace, "autopilot", cooldown_hours=1000)
    assert run.peak_cpu_percent == 100.0
    assert run.minutes_saturated > 0


def test_a_price_function_replaces_the_list_price():
    run = simulate_brokers(broker_trace(["0,6,1,1"]), "autopilot", price=lambda _: 0.5)
    assert run.cost == 36


def test_changes_wait_for_the_operation_and_the_cool_down():
    # Demand far above anything: the rule climbs one size per operation + cool-down.
    run = simulate_brokers(broker_trace(["0,200,1,1"], hours=30), "threshold-rule")
    starts = [int(action.split(":")[0][1:]) for action in run.actions]
    assert starts == [0, 7, 14, 21, 28]  # 15 min, then every 60 min operation + 6 h cool-down
    assert OPERATION_MINUTES == 60


def test_the_autopilot_acts_hourly_on_sustained_load():
    # 75 % CPU: three full hourly samples, the first at minute 180.
    run = simulate_brokers(broker_trace(["0,9,1,1"]), "autopilot")
    assert run.actions == ("h3: kafka.m5.xlarge x 3 -> kafka.m5.2xlarge x 3",)


def test_standard_scale_out_is_counted_as_a_recommendation_unless_opted_in():
    rows = ["0,2,1,1"]
    crowded = "# partitions: 4500\n"  # 1500 per broker: above the 1000 recommended
    recommended = simulate_brokers(broker_trace(rows, extra=crowded), "autopilot")
    assert recommended.actions == ()
    assert recommended.recommendations > 0
    opted_in = simulate_brokers(
        broker_trace(rows, extra=crowded + "# scale_out_opt_in: true\n"), "autopilot"
    )
    assert opted_in.actions[0].endswith("kafka.m5.xlarge x 3 -> kafka.m5.xlarge x 6")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "# broker_count: 3\n# duration_hours: 1\nhour,cpu_vcpus,mb_in,mb_out\n0,1,1,1\n",
            "is unknown",
        ),
        (
            "# instance_type: kafka.m5.large\n# broker_count: 4\n# duration_hours: 1\n"
            "hour,cpu_vcpus,mb_in,mb_out\n0,1,1,1\n",
            "multiple of zone_count",
        ),
        (
            "# instance_type: kafka.m5.large\n# broker_count: 3\n# duration_hours: 1\n"
            "# rebalancing: ACTIVE\nhour,cpu_vcpus,mb_in,mb_out\n0,1,1,1\n",
            "Express only",
        ),
        (
            "# instance_type: kafka.m5.large\n# broker_count: 3\n# duration_hours: 1\n"
            "hour,cpu\n0,1\n",
            "needs the header row",
        ),
        (
            "# instance_type: kafka.m5.large\n# broker_count: 3\n# duration_hours: 1\n"
            "hour,cpu_vcpus,mb_in,mb_out\n1,1,1,1\n",
            "start at 0",
        ),
    ],
)
def test_bad_broker_traces_are_refused(text, message):
    with pytest.raises(BrokerTraceError, match=message):
        parse_broker_trace(text, name="bad")


# --- the shipped traces --------------------------------------------------------------------------


def test_the_suite_holds_the_documented_shapes():
    assert [trace.name for trace in shipped_broker_traces()] == [
        "daily_cycle",
        "express_growth",
        "idle_oversized",
        "short_spike",
        "steady_growth",
    ]


def test_the_autopilot_never_saturates_a_broker(suite):
    for (trace, policy), run in suite.items():
        if policy == "autopilot":
            assert run.minutes_saturated == 0, trace
            assert run.minutes_saturated <= suite[trace, "threshold-rule"].minutes_saturated


def test_a_daily_cycle_is_sized_once_while_the_rule_flaps(suite):
    autopilot, rule = suite["daily_cycle", "autopilot"], suite["daily_cycle", "threshold-rule"]
    assert len(autopilot.actions) == 1
    assert len(rule.actions) >= 20
    assert autopilot.minutes_over_threshold * 10 < rule.minutes_over_threshold
    assert rule.minutes_saturated > 0


def test_a_short_spike_moves_nothing(suite):
    autopilot, rule = suite["short_spike", "autopilot"], suite["short_spike", "threshold-rule"]
    assert autopilot.actions == ()
    assert len(rule.actions) == 2  # up after the spike has passed, down after the cool-down
    assert autopilot.minutes_over_threshold == rule.minutes_over_threshold
    assert autopilot.cost < rule.cost


def test_steady_growth_gets_the_same_steps_a_few_hours_after_the_rule(suite):
    autopilot = suite["steady_growth", "autopilot"]
    rule = suite["steady_growth", "threshold-rule"]
    assert autopilot.final_shape == rule.final_shape == "kafka.m5.4xlarge x 3"
    for ours, theirs in zip(autopilot.actions, rule.actions, strict=True):
        hour, change = ours.split(": ")
        rule_hour, rule_change = theirs.split(": ")
        assert change == rule_change
        assert 0 <= int(hour[1:]) - int(rule_hour[1:]) <= 3  # hourly, 2 of 3 hours sustained
    assert autopilot.peak_cpu_percent < 65


def test_an_idle_oversized_cluster_shrinks_after_each_quiet_fortnight(suite):
    autopilot = suite["idle_oversized", "autopilot"]
    assert autopilot.actions == (
        "h336: kafka.m5.4xlarge x 6 -> kafka.m5.2xlarge x 6",
        "h673: kafka.m5.2xlarge x 6 -> kafka.m5.xlarge x 6",
    )
    standing_still = 6 * 16 * autopilot.hours
    assert autopilot.cost < 0.66 * standing_still  # a third saved over five weeks
    assert autopilot.minutes_over_threshold == 0


def test_express_growth_scales_out_with_rebalancing_while_the_cpu_rule_throttles(suite):
    autopilot = suite["express_growth", "autopilot"]
    rule = suite["express_growth", "threshold-rule"]
    assert autopilot.final_shape == "express.m7g.large x 9"
    assert all("express.m7g.large x" in action.split("->")[1] for action in autopilot.actions)
    assert autopilot.minutes_over_threshold == 0
    assert rule.minutes_saturated > 1000


def test_the_table_compares_cost_with_the_rule(suite):
    table = broker_comparison_table(list(suite.values())).splitlines()
    assert table[0].startswith("| trace | policy | actions | recommended | min > threshold")
    assert "| cost USD |" in table[0]
    short = [line for line in table if line.startswith("| short_spike | autopilot")]
    assert short == [
        "| short_spike | autopilot | 0 | 0 | 53 | 0 | 91.7 | 288 | 242 | -6.8 % "
        "| kafka.m5.2xlarge x 3 |"
    ]


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture
def broker_file(tmp_path):
    path = tmp_path / "hot.csv"
    path.write_text(
        "# instance_type: kafka.m5.large\n# broker_count: 3\n# duration_hours: 12\n"
        "hour,cpu_vcpus,mb_in,mb_out\n0,5,1,1\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def storage_file(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text(
        "# volume_gib: 100\n# duration_hours: 4\n# history_hours: 0\n"
        "hour,retention_hours,broker_1\n0,100,60\n",
        encoding="utf-8",
    )
    return path


def test_command_replays_a_broker_trace_as_json(broker_file, capsys):
    assert main(["simulate", "--broker-trace", str(broker_file), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [run["policy"] for run in runs] == ["autopilot", "threshold-rule"]
    assert runs[0]["actions"] == ["h3: kafka.m5.large x 3 -> kafka.m5.xlarge x 3"]
    assert "cpu_percent" not in runs[0]


def test_plot_writes_a_png_with_both_policies(broker_file, tmp_path, capsys):
    chart = tmp_path / "chart.png"
    assert main(["simulate", "--broker-trace", str(broker_file), "--plot", str(chart)]) == 0
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
    assert "| hot | threshold-rule |" in capsys.readouterr().out


def test_plot_of_a_storage_trace_is_an_svg_marking_full_disks(storage_file, tmp_path):
    chart = tmp_path / "chart.svg"
    assert main(["simulate", "--trace", str(storage_file), "--plot", str(chart)]) == 0
    root = ET.parse(chart).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "msk-native: disk full (130 min)" in chart.read_text(encoding="utf-8")


def test_plot_refuses_other_formats(broker_file, tmp_path, capsys):
    chart = tmp_path / "chart.pdf"
    assert main(["simulate", "--broker-trace", str(broker_file), "--plot", str(chart)]) == 2
    output = capsys.readouterr()
    assert "must end in .png or .svg" in output.err
    assert output.out == ""  # refused before any simulation
    assert not chart.exists()


def test_policy_is_a_storage_option(broker_file, capsys):
    argv = ["simulate", "--broker-trace", str(broker_file), "--policy", "autopilot"]
    assert main(argv) == 2
    assert "--policy chooses a storage policy" in capsys.readouterr().err


def test_command_reports_a_bad_broker_trace(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("hour,cpu_vcpus,mb_in,mb_out\n0,1,1,1\n", encoding="utf-8")
    assert main(["simulate", "--broker-trace", str(bad)]) == 2
    assert "instance_type '' is unknown" in capsys.readouterr().err


def test_the_readme_shows_the_suite_as_it_runs(suite):
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Simulated against a threshold rule") :]
    table = broker_comparison_table(list(suite.values()))
    assert table in section[: section.index("\n## ")]
