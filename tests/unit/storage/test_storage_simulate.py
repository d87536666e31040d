"""The storage simulator: its world model, both policies, the shipped suite and the command."""

import dataclasses
import json
from datetime import timedelta
from statistics import fmean

import msgspec
import pytest

from msk_autopilot.storage import policy
from msk_autopilot_local.cli import main
from msk_autopilot_local.simulate import simulator
from msk_autopilot_local.simulate.simulator import (
    SimulationResult,
    comparison_table,
    efficiency,
    efficiency_table,
    run_suite,
    simulate,
)
from msk_autopilot_local.simulate.trace import (
    TraceError,
    load_trace,
    parse_trace,
    shipped_traces,
)


def one_broker_trace(volume_gib, rate, *, hours, retention=100, history=0):
    return parse_trace(
        f"# volume_gib: {volume_gib}\n# duration_hours: {hours}\n# history_hours: {history}\n"
        f"hour,retention_hours,broker_1\n0,{retention},{rate}\n",
        name="test",
    )


# --- the world --------------------------------------------------------------------------------


def test_usage_is_the_ingest_of_the_last_retention_window():
    trace = one_broker_trace(1000, 6, hours=24, retention=10)  # plateau: 6 GiB/h * 10 h
    result = simulate(trace, "msk-native")  # 6 % never reaches the target
    assert result.peak_percent == pytest.approx(6.0)
    assert result.operations == 0
    assert result.gib_hours == pytest.approx(24 * 1000)


def test_history_replays_the_first_rows_ingest_before_hour_zero():
    trace = one_broker_trace(1000, 6, hours=1, retention=10, history=10)
    assert simulate(trace, "msk-native").peak_percent == pytest.approx(6.0)
    with pytest.raises(TraceError, match="history overfills"):
        simulate(one_broker_trace(50, 6, hours=1, retention=10, history=10), "msk-native")


def test_msk_native_steps_once_per_cool_down_after_the_operation_and_the_disk_fills():
    # 1 GiB a minute into 100 GiB. At 60 % (minute 59) MSK adds max(10 GiB, 10 %); the new size
    # lands 30 minutes later (minute 89); the cool-down allows nothing more, and from minute 110
    # the 110 GiB disk is full until the end (minute 239).
    result = simulate(one_broker_trace(100, 60, hours=4), "msk-native")
    assert result.operations == 1
    assert result.final_gib == 110
    assert result.minutes_full == 130
    assert result.peak_percent == 100.0
    assert result.minutes_above_85 == 4 + 147  # minutes 85-88 at 100 GiB, 93-239 at 110 GiB
    assert result.gib_hours == pytest.approx((89 * 100 + 151 * 110) / 60, abs=0.05)


def test_autopilot_sizes_for_the_growth_until_its_next_step():
    result = simulate(one_broker_trace(100, 60, hours=4), "autopilot")
    assert result.operations == 1
    assert result.minutes_full == 0
    assert result.peak_percent < 60


@pytest.mark.parametrize("policy_name", ["autopilot", "msk-native"])
@pytest.mark.parametrize(("cooldown_hours", "operations"), [(6, 2), (8, 1)])
def test_the_cool_down_binds_both_policies(policy_name, cooldown_hours, operations):
    result = simulate(
        one_broker_trace(100, 60, hours=8), policy_name, cooldown_hours=cooldown_hours
    )
    assert result.operations == operations


# --- how the autopilot is run -----------------------------------------------------------------


def test_the_autopilot_runs_the_real_policy_on_schedule_and_on_alarm(monkeypatch):
    assert simulator.decide is policy.decide  # the simulator has no policy of its own
    calls = []

    def holding_spy(observation, settings):
        decision = policy.decide(observation, settings)
        calls.append(observation)
        return msgspec.structs.replace(decision, new_gib=decision.current_gib)

    monkeypatch.setattr(simulator, "decide", holding_spy)
    # 80 GiB of history in 100 GiB, +8 GiB/h: crosses the 85 % alarm threshold at minute 37.
    simulate(one_broker_trace(100, 8, hours=1, history=10), "autopilot")
    minutes = [(o.now - calls[0].now) // timedelta(minutes=1) for o in calls]
    assert minutes == [0, 15, 30, 37, 45]
    first = calls[0].usage["1"]
    assert len(first) == 37  # 6 h look-back at a 10-minute period, history included
    assert first[-1].at == calls[0].now


def test_after_a_resize_the_autopilot_is_told_when_and_how_long_it_took(monkeypatch):
    calls = []

    def spy(observation, settings):
        calls.append(observation)
        return policy.decide(observation, settings)

    monkeypatch.setattr(simulator, "decide", spy)
    simulate(one_broker_trace(100, 60, hours=8), "autopilot")
    start = calls[0].now
    grown = [o for o in calls if o.volume_gib > 100]
    assert calls[0].resized_at is None
    assert calls[0].previous_operation_hours is None
    # The first step starts at minute 15 and lands at 45; the next call waits out the cool-down.
    assert (grown[0].now - start) // timedelta(minutes=1) == 45 + 6 * 60
    assert (grown[0].resized_at - start) // timedelta(minutes=1) == 45
    assert grown[0].previous_operation_hours == 0.5


# --- the shipped suite: the acceptance criteria ---------------------------------------


@pytest.fixture(scope="module")
def runs():
    return run_suite()


@pytest.fixture(scope="module")
def suite(runs):
    return efficiency(runs)


@pytest.mark.slow
def test_the_suite_runs_every_trace_with_both_cool_downs_some_held_out(suite):
    assert {(pair.trace, pair.cooldown_hours) for pair in suite} == {
        (trace.name, cooldown) for trace in shipped_traces() for cooldown in (6.0, 24.0)
    }
    assert sum(trace.held_out for trace in shipped_traces()) >= 3
    assert any(pair.msk_fills for pair in suite if pair.cooldown_hours == 24)


@pytest.mark.slow
def test_the_autopilot_never_fills_a_disk(suite):
    assert [pair for pair in suite if pair.minutes_full[0]] == []


@pytest.mark.slow
def test_the_autopilot_never_makes_more_operations_than_msk(suite):
    assert [pair for pair in suite if pair.operations[0] > pair.operations[1]] == []


@pytest.mark.slow
def test_where_msk_copes_the_autopilot_wastes_at_most_5_percent_on_average_20_at_most(suite):
    coping = [pair for pair in suite if not pair.msk_fills]
    assert len(coping) >= 10
    assert fmean(pair.gib_hours_ratio for pair in coping) <= 1.05
    assert [pair for pair in coping if pair.gib_hours_ratio > 1.20] == []


def test_the_efficiency_table_gives_ratios_to_msk():
    results = [
        SimulationResult(
            "t", "autopilot", 10, 0, 59.0, 0, 1100.0, 2, 110, cooldown_hours=24.0, held_out=True
        ),
        SimulationResult(
            "t", "msk-native", 10, 5, 100.0, 30, 1000.0, 3, 100, cooldown_hours=24.0, held_out=True
        ),
        SimulationResult("u", "autopilot", 10, 0, 59.0, 0, 900.0, 1, 110, cooldown_hours=6.0),
        SimulationResult("u", "msk-native", 10, 0, 60.0, 0, 1000.0, 3, 100, cooldown_hours=6.0),
    ]
    lines = efficiency_table(efficiency(results)).splitlines()
    assert lines[2] == "| t (held out) | 24 h | 1.100x | 2 / 3 | 0 / 5 |"
    assert lines[3] == "| u | 6 h | 0.900x | 1 / 3 | 0 / 0 |"
    assert lines[-1].startswith("Where MSK's policy never fills (1 run): GiB-hours 0.900x")


def test_the_comparison_table_is_markdown_with_the_cost_difference():
    results = [
        SimulationResult("t", "autopilot", 10, 0, 59.0, 0, 1100.0, 2, 110, storage_cost=1.51),
        SimulationResult("t", "msk-native", 10, 5, 100.0, 30, 1000.0, 3, 100),
    ]
    lines = comparison_table(results).splitlines()
    assert lines[0].startswith("| trace | policy | min at 100 %")
    assert lines[2] == "| t | autopilot | 0 | 59.0 | 0 | 1,100 | 1.51 | +10.0 % | 2 | 110 |"
    assert lines[3] == "| t | msk-native | 5 | 100.0 | 30 | 1,000 | unknown |  | 3 | 100 |"


@pytest.mark.slow
def test_storage_cost_is_the_gib_hours_at_the_tables_storage_price(runs):
    # us-east-1: $0.10 per GiB-month of 730 hours (capacity/prices.json)
    assert runs
    for run in runs:
        assert run.storage_cost == pytest.approx(run.gib_hours * 0.10 / 730, abs=0.01)


# --- the command ------------------------------------------------------------------------------


def run_command(*argv):
    return main(["simulate", *argv])


@pytest.fixture
def trace_file(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text(
        "# volume_gib: 100\n# duration_hours: 4\n# history_hours: 0\n"
        "hour,retention_hours,broker_1\n0,100,60\n",
        encoding="utf-8",
    )
    return path


def test_command_replays_a_trace_under_both_policies_as_json(trace_file, capsys):
    assert run_command("--trace", str(trace_file), "--json") == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["policy"] for r in results] == ["autopilot", "msk-native"]
    assert results[1]["minutes_full"] == 130
    assert results[0]["trace"] == "small"


def test_command_runs_one_policy_with_its_options(trace_file, capsys):
    assert run_command("--trace", str(trace_file), "--policy", "msk-native", "--target", "50") == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 3  # header, rule, one row
    assert "| small | msk-native |" in table[2]


def test_command_suite_prints_every_shipped_trace(monkeypatch, trace_file, capsys):
    small = load_trace(trace_file)
    other = dataclasses.replace(small, name="other")
    monkeypatch.setattr(simulator, "shipped_traces", lambda: [small, other])
    assert run_command("--suite") == 0
    table = capsys.readouterr().out
    for trace in ("small", "other"):  # one row per cool-down
        assert [line.split(" | ")[1] for line in table.splitlines() if f"| {trace} |" in line] == [
            "6 h",
            "24 h",
        ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--target", "90"], "--target (90) must be below the disk alarm threshold (85)"),
        (["--cooldown-hours", "2"], "--cooldown-hours must be at least 6"),
    ],
)
def test_command_rejects_settings_msk_cannot_honour(trace_file, capsys, argv, message):
    assert run_command("--trace", str(trace_file), *argv) == 2
    assert message in capsys.readouterr().err


def test_command_reports_a_bad_trace(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("hour,retention_hours,broker_1\n0,10,1\n", encoding="utf-8")
    assert run_command("--trace", str(bad)) == 2
    assert "volume_gib is missing" in capsys.readouterr().err
