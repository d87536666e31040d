"""The simulator's trace format: what it accepts, and a clear error for what it does not."""

import pytest

from msk_autopilot_local.simulate.trace import TraceError, load_trace, parse_trace, shipped_traces

VALID = """\
# description: two brokers, a burst
# volume_gib: 500
# duration_hours: 48
# history_hours: 12
hour,retention_hours,broker_1,broker_2
0,72,2.0,2.5
10.5,24,20,25
"""


def test_a_trace_parses_into_segments_in_minutes():
    trace = parse_trace(VALID, name="demo")
    assert trace.name == "demo"
    assert trace.description == "two brokers, a burst"
    assert trace.volume_gib == 500
    assert trace.duration_minutes == 48 * 60
    assert trace.history_minutes == 12 * 60
    assert trace.broker_ids == ("1", "2")
    assert [(s.start_minute, s.retention_minutes) for s in trace.segments] == [
        (0, 72 * 60),
        (630, 24 * 60),
    ]
    assert trace.segments[1].ingest_gib_per_hour == (20.0, 25.0)


def test_history_defaults_to_the_first_rows_retention():
    trace = parse_trace(VALID.replace("# history_hours: 12\n", ""), name="steady")
    assert trace.history_minutes == 72 * 60


def test_load_trace_names_the_trace_after_its_file(tmp_path):
    path = tmp_path / "my_cluster.csv"
    path.write_text(VALID, encoding="utf-8")
    assert load_trace(path).name == "my_cluster"
    with pytest.raises(TraceError, match="cannot read trace"):
        load_trace(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("# volume_gib: 500\n", ""), "volume_gib is missing"),
        (("# volume_gib: 500", "# volume_gib: 20000"), "volume_gib must be between"),
        (("# volume_gib: 500", "# volume_gib: 500.5"), "volume_gib must be a whole number"),
        (("# duration_hours: 48\n", ""), "duration_hours is missing"),
        (("# duration_hours: 48", "# duration_hours: 10"), "before duration_hours"),
        (("hour,retention_hours", "time,retention_hours"), "columns must be hour,retention"),
        (("broker_2\n", "b2\n"), "named broker_<id>"),
        (("10.5,24", "0,24"), "hours must start at 0 and increase"),
        (("0,72,2.0", "1,72,2.0"), "hours must start at 0 and increase"),
        (("0,72,2.0,2.5", "0,0,2.0,2.5"), "retention_hours must be > 0"),
        (("20,25\n", "-20,25\n"), "negative ingest rate"),
        (("20,25\n", "20\n"), "row 3 has 3 values, expected 4"),
        (("20,25\n", "twenty,25\n"), "must be a number"),
    ],
)
def test_malformed_traces_are_rejected_with_the_reason(change, message):
    old, new = change
    assert old in VALID
    with pytest.raises(TraceError, match=message):
        parse_trace(VALID.replace(old, new), name="bad")


def test_a_trace_needs_rows():
    with pytest.raises(TraceError, match="at least one data row"):
        parse_trace("# volume_gib: 1\nhour,retention_hours,broker_1\n", name="empty")


def test_the_shipped_suite_covers_the_required_load_shapes():
    names = [trace.name for trace in shipped_traces()]
    for shape in ("steady_growth", "daily_cycles", "burst_10x", "ramp_to_cap", "plateau"):
        assert any(shape in name for name in names), shape
    assert all(trace.description for trace in shipped_traces())
