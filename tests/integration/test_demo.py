"""`msk-autopilot demo` end to end: every step's numbers add up, the output is the demo's own, it
is quick, and nothing it started is left running (broker process, server thread, port, socket)."""

import contextlib
import gc
import io
import os
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from msk_autopilot_local.cli import main
from msk_autopilot_local.demo import runner
from msk_autopilot_local.demo.progress import STEPS, Progress
from msk_autopilot_local.demo.records import POISON_EVERY
from msk_autopilot_local.demo.session import DemoFailure, DemoResult

ROOT = Path(__file__).resolve().parents[2]
RECORDS = 10_000
TIME_LIMIT = 120.0  # seconds; the issue allows 3 minutes


def _children() -> set[int]:
    """PIDs of this process's child processes."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid():
                found.add(int(entry.name))
    return found


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if text in command:
                    found.append(f"{entry.name}: {command}")
    return found


def _sockets() -> set[str]:
    links = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:"):
                links.add(target)
    return links


def _answers(host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


@pytest.fixture(scope="module")
def run() -> SimpleNamespace:
    """The demo, run once in this process with every check's before and after."""
    gc.collect()
    threads, children, sockets = set(threading.enumerate()), _children(), _sockets()
    out, stray_out, stray_err = io.StringIO(), io.StringIO(), io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(stray_out), contextlib.redirect_stderr(stray_err):
        result = runner.run_demo(ROOT / "template.yaml", out=out, records=RECORDS)
    elapsed = time.monotonic() - started
    gc.collect()
    return SimpleNamespace(
        result=result,
        output=out.getvalue(),
        stray_output=stray_out.getvalue() + stray_err.getvalue(),
        elapsed=elapsed,
        new_threads=[t.name for t in set(threading.enumerate()) - threads],
        new_children=_children() - children,
        new_sockets=_sockets() - sockets,
    )


@pytest.mark.slow
def test_the_demo_passes_well_within_its_time(run):
    assert run.result.ok, run.result.failures
    assert run.elapsed < TIME_LIMIT
    assert f"demo passed in {run.result.elapsed:.0f} s" in run.output


@pytest.mark.slow
def test_records_add_up_from_what_s3_holds(run):
    records = run.result.numbers["records"]
    assert records["produced"] == RECORDS
    assert records["poison"] == RECORDS // POISON_EVERY
    assert records["archived"] + records["quarantined"] == records["produced"]
    assert records["quarantined"] == records["poison"]
    assert records["esm_succeeded"] == RECORDS
    consumer = run.result.functions["record_consumer"]
    assert consumer.invocations == records["batches"] >= RECORDS // 1000
    assert consumer.statuses == {"ok": records["batches"]}


@pytest.mark.slow
def test_storage_grew_once_then_held_in_the_cool_down(run):
    storage = run.result.numbers["storage"]
    assert storage["after_gib"] > storage["before_gib"] == 1000
    scaler = run.result.functions["storage_scaler"]
    # the sweep, the first alarm, the alarm going back to OK, the alarm within the cool-down
    assert scaler.invocations == 4
    assert scaler.statuses == {"unchanged": 1, "acted": 1, "skipped": 2}
    assert "storage_scaler (alarm): skipped: no storage change allowed" in run.output


@pytest.mark.slow
def test_configuration_went_canary_first_and_the_bad_file_was_refused(run):
    config = run.result.numbers["config"]
    assert config["order"] == ["orders", "clickstream", "legacy"]  # the canary, then by name
    assert config["revision"] == 1
    assert config["bad_problems"] == 4
    assert "bad-configurations/orders.properties:2: min.insync.replicas" in run.output
    # the canary, clickstream deferred twice (the event and the retry), clickstream, legacy, done
    assert run.result.functions["config_rotator"].invocations == 6
    assert "waiting: clickstream: deferred by gate under-replicated" in run.output
    assert run.output.count("SNS [WARNING] configuration of clickstream deferred by gate") == 1


@pytest.mark.slow
def test_the_monitor_kept_alarms_fired_one_muted_maintenance_and_published_events(run):
    assert run.result.numbers["health"] == {"operation_events": 10}
    assert (
        "SNS ALARM: msk-autopilot-health-clickstream-broker-2-cpu: Threshold Crossed" in run.output
    )
    assert "SNS [INFO] Alarms of legacy muted: MSK is maintaining the cluster" in run.output
    assert "SNS [INFO] Alarms of legacy unmuted: MSK's maintenance ended" in run.output
    monitor = run.result.functions["health_monitor"]
    # the storage step's first sweep, then the health step's: before, during, after maintenance
    assert monitor.invocations == 4


@pytest.mark.slow
def test_the_secret_rotated_across_both_clusters(run):
    assert run.result.numbers["scram"] == {"clusters": ["clickstream", "orders"], "rotated": True}
    rotator = run.result.functions["scram_rotator"]
    assert rotator.statuses == {"acted": 3, "unchanged": 1}
    assert "no broker runs SASL/SCRAM here" in run.output


@pytest.mark.slow
def test_remediation_fixed_what_it_may_and_the_tables_agree(run):
    audit = run.result.numbers["audit"]
    assert set(audit["fixed"]) == {"legacy MSK.4", "legacy AUTOPILOT.3", "legacy MSK.2"}
    # left: legacy's open security group, AWS managed key and two zones, and AUTOPILOT.4 on all
    # three clusters (Kafka 3.6.0 is past its end of support by the version catalogue)
    # and 5 from issue 18's controls, which no remediation fixes: the demo's account records no
    # CloudTrail trail (AUTOPILOT.11, and AUTOPILOT.13 on its IAM clusters)
    assert audit["failed_after"] == audit["failed_before"] - len(audit["fixed"]) == 8
    auditor = run.result.functions["security_auditor"]
    assert auditor.invocations == len(audit["fixed"]) + 1  # until a run starts nothing


@pytest.mark.slow
def test_the_summary_accounts_for_every_invocation(run):
    assert "What each function did" in run.output
    for name, tally in run.result.functions.items():
        assert tally.invocations > 0, name
        assert sum(tally.statuses.values()) == tally.invocations, name
        assert f"{name:<17} {tally.invocations:>3} invocations" in run.output
    for number in range(1, STEPS + 1):
        assert f"] {number}/{STEPS}  " in run.output


@pytest.mark.slow
def test_the_functions_logs_and_metrics_stay_off_the_output(run):
    assert run.stray_output == ""
    json_lines = [line for line in run.output.splitlines() if line.lstrip().startswith("{")]
    assert json_lines == []
    assert "HTTP/1.1" not in run.output  # the server's access log


@pytest.mark.slow
def test_nothing_is_left_running(run):
    endpoints = run.result.endpoints
    assert run.new_threads == []
    assert run.new_children == set()
    assert not Path(f"/proc/{endpoints['broker_pid']}").exists()
    broker_port = endpoints["broker"].rpartition(":")[2]
    assert _processes_mentioning(f"--kafka-port {broker_port}") == []
    assert not _answers(endpoints["broker"])
    assert not _answers(endpoints["aws"].removeprefix("http://"))
    assert run.new_sockets == set()


def test_a_failed_step_is_reported_and_the_demo_carries_on():
    result, out = DemoResult(), io.StringIO()
    progress = Progress(out)

    def broken() -> None:
        raise DemoFailure("counts do not add up: 9,899 archived + 100 quarantined != 10,000")

    runner._attempt("Records", broken, result, progress)
    runner._attempt("Audit", lambda: None, result, progress)

    assert result.failures == [
        "Records: counts do not add up: 9,899 archived + 100 quarantined != 10,000"
    ]
    assert "FAILED counts do not add up" in out.getvalue()


def test_the_command_exits_1_with_the_reason_when_the_demo_fails(monkeypatch, capsys):
    def cannot_start(*_args, **_kwargs):
        raise RuntimeError("noida-db did not serve Kafka within 20 s")

    monkeypatch.setattr(runner, "_run_steps", cannot_start)

    assert main(["demo", "--template", str(ROOT / "template.yaml")]) == 1
    out = capsys.readouterr().out
    assert "demo FAILED (1 expectation(s)):" in out
    assert "start: RuntimeError: noida-db did not serve Kafka within 20 s" in out


def test_the_record_count_must_be_positive(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--records", "0"])
    assert exit_info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_the_record_count_must_be_a_number(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--records", "abc"])
    assert exit_info.value.code == 2
    assert "argument --records: 'abc' is not a whole number" in capsys.readouterr().err
