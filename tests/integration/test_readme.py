"""The README is the user's manual: its commands run as written on a fresh clone.

Every `.venv/bin/msk-autopilot` command in a bash block parses and names files that exist; the
walkthrough of "Running locally" runs command by command, in subprocesses, against a fresh local
AWS account and a fresh Kafka broker, as a user would type it, and each command shows what the
README says it shows. A command added to or removed from the walkthrough without its expectation
here fails the test, so the README cannot drift from the code.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from msk_autopilot.health.change import ChangeKind
from msk_autopilot.health.gates import GATES
from msk_autopilot_local.broker import free_port
from msk_autopilot_local.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent  # the .venv/bin the README names
WALKTHROUGH = README[README.index("## Running locally") : README.index("### A local AWS account")]
SERVERS = ("local-aws", "broker start")  # they serve until stopped: a terminal of their own
PATH_ARGUMENT = re.compile(r"^(?:events|examples|tools)/")


def _commands(text: str) -> Iterator[str]:
    """The command lines of the bash blocks of `text`: continuations joined, comments dropped."""
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
            if command:
                yield command


def _cli_arguments(command: str) -> list[str] | None:
    words = shlex.split(command)
    return words[1:] if words[0] == ".venv/bin/msk-autopilot" else None


@pytest.mark.parametrize(
    "command", [c for c in dict.fromkeys(_commands(README)) if _cli_arguments(c)]
)
def test_every_command_in_the_readme_parses_and_names_files_that_exist(command):
    arguments = _cli_arguments(command)
    assert arguments is not None
    build_parser().parse_args(arguments)  # argparse exits 2 on anything it cannot parse
    for argument in arguments:
        if PATH_ARGUMENT.match(argument):
            assert (ROOT / argument).exists(), f"{command}: {argument} does not exist"


def test_every_make_target_in_the_readme_exists():
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", (ROOT / "Makefile").read_text(), re.M))
    named = {c.split()[1] for c in _commands(README) if c.startswith("make ")}
    assert named, "the README names its make targets in bash blocks"
    assert named <= targets


def test_the_health_gates_table_lists_every_gate_with_what_it_blocks_and_why():
    start = README.index("## Health gates")
    section = README[start : README.index("\n## ", start + 1)]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]
    assert [row[0].strip("`") for row in rows] == [gate.id for gate in GATES]
    for gate, (_, summary, blocks, _, why) in zip(GATES, rows, strict=True):
        assert summary == gate.summary
        assert why == gate.why
        named = set(re.findall(r"`(\w+)`", blocks))
        expected = {kind.value for kind in gate.blocks}
        assert named == expected or (blocks == "every kind" and gate.blocks == set(ChangeKind))


# --- the walkthrough ------------------------------------------------------------------------


@dataclass
class Shown:
    code: int
    out: str
    err: str

    def result(self) -> dict:
        """The handler's result: the last JSON document `invoke` printed (logs come first)."""
        start = self.out.rindex("\n{\n") + 1 if "\n{\n" in self.out else self.out.index("{")
        return json.loads(self.out[start:])

    def row(self, cluster: str) -> str:
        return next(line for line in self.out.splitlines() if line.startswith(f"{cluster} "))


def _plan_shows_clickstream_growing(shown: Shown) -> None:
    assert shown.code == 0, shown.err
    assert re.match(r"clickstream\s+grow\s+1000\s+3342\s", shown.row("clickstream"))
    assert re.match(r"orders\s+hold\s", shown.row("orders"))
    assert re.match(r"legacy\s+hold\s", shown.row("legacy"))


def _sweep_in_dry_run(shown: Shown) -> None:
    assert shown.code == 0, shown.err
    result = shown.result()
    assert result["status"] == "unchanged"
    assert sorted(result["details"]["clusters"].values()) == ["dry_run", "unchanged", "unchanged"]


def _scale_request_in_dry_run(shown: Shown) -> None:
    assert shown.code == 0, shown.err
    result = shown.result()
    assert result["status"] == "dry_run"
    assert "growing to 3342 GiB" in result["reason"]


def _alarm_grows_clickstream(shown: Shown) -> None:
    assert shown.code == 0, shown.err
    result = shown.result()
    assert result["status"] == "acted"
    assert "growing to 3342 GiB" in result["reason"]


def _plan_while_clickstream_grows(shown: Shown) -> None:
    assert shown.code == 0, shown.err
    assert re.match(r"clickstream\s+skip\s+cluster is UPDATING", shown.row("clickstream"))


def _configurations_pushed(shown: Shown) -> None:
    assert shown.code == 0, shown.err
    assert "-> /msk-autopilot/configurations/orders (version 1)" in shown.out
    assert "-> /msk-autopilot/configurations/analytics (version 1)" in shown.out


def _configuration_rolled_out_canary_first(shown: Shown) -> None:
    assert shown.code == 0, shown.err
    result = shown.result()
    assert result["status"] in {"acted", "updating"}, result
    assert "msk-autopilot-orders" in json.dumps(result)


def _audit_fails_on_critical(shown: Shown) -> None:
    assert shown.code == 1, shown.err
    assert re.search(r"^legacy\s.*\sMSK\.4\s+SECURITY\s+CRITICAL\s+FAILED\s", shown.out, re.M)
    assert re.search(r"^3 clusters: \d+ passed", shown.out, re.M)


def _cluster_reaudited(shown: Shown) -> None:
    assert shown.code == 0, shown.err
    result = shown.result()
    assert result["status"] in {"acted", "unchanged"}, result
    assert result["details"]["clusters"] == 1, "only the cluster the call changed is audited"


def _records_produced(shown: Shown) -> None:
    assert shown.code == 0, shown.err
    assert "100" in shown.out


def _records_consumed(shown: Shown) -> None:
    assert shown.code == 0, shown.err
    assert re.search(r"100 records ok", shown.out + shown.err)
    assert re.search(r"\blag 0\b", shown.out + shown.err)


EXPECTED: dict[str, Callable[[Shown], None]] = {
    ".venv/bin/msk-autopilot plan-storage": _plan_shows_clickstream_growing,
    ".venv/bin/msk-autopilot invoke storage_scaler -e events/scheduled_event.json --now "
    "--env-vars examples/env.json": _sweep_in_dry_run,
    ".venv/bin/msk-autopilot invoke storage_scaler -e events/scale_request.json": (
        _scale_request_in_dry_run
    ),
    ".venv/bin/msk-autopilot invoke storage_scaler -e events/alarm_state_change.json --now": (
        _alarm_grows_clickstream
    ),
    ".venv/bin/msk-autopilot config push examples/configurations": _configurations_pushed,
    ".venv/bin/msk-autopilot invoke config_rotator -e events/parameter_store_change.json --now": (
        _configuration_rolled_out_canary_first
    ),
    ".venv/bin/msk-autopilot audit --fail-on CRITICAL": _audit_fails_on_critical,
    ".venv/bin/msk-autopilot invoke security_auditor "
    "-e events/cloudtrail_update_monitoring.json --now": _cluster_reaudited,
    ".venv/bin/msk-autopilot produce --bootstrap-servers 127.0.0.1:9092 --topic orders "
    "--partitions 3": _records_produced,
    ".venv/bin/msk-autopilot esm --bootstrap-servers 127.0.0.1:9092 --topic orders "
    "--until-idle 2": _records_consumed,
}
# plan-storage runs twice: before and while clickstream grows
SECOND_PLAN = _plan_while_clickstream_grows


class Terminal:
    """What a user's shell holds: the variables exported so far, and the servers started."""

    def __init__(self, ports: dict[str, str]) -> None:
        self.ports = ports
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env |= {"AWS_EC2_METADATA_DISABLED": "true", "PYTHONUNBUFFERED": "1"}
        self.servers: list[subprocess.Popen[str]] = []

    def words(self, command: str) -> list[str]:
        for written, free in self.ports.items():
            command = command.replace(written, free)
        words = shlex.split(command)
        if words[0].startswith(".venv/bin/"):
            words[0] = str(BIN / words[0].removeprefix(".venv/bin/"))
        return words

    def export(self, command: str) -> None:
        for assignment in self.words(command)[1:]:
            name, _, value = assignment.partition("=")
            self.env[name] = value

    def serve(self, command: str) -> list[str]:
        server = subprocess.Popen(
            self.words(command),
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.servers.append(server)
        assert server.stdout is not None
        lines = []
        for line in server.stdout:  # the server prints "ready ..." once it serves
            lines.append(line.rstrip("\n"))
            if line.startswith("ready "):
                return lines
        pytest.fail(f"{command} ended before it was ready: {lines}")

    def run(self, command: str) -> Shown:
        done = subprocess.run(
            self.words(command),
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return Shown(done.returncode, done.stdout, done.stderr)

    def close(self) -> None:
        for server in self.servers:
            server.terminate()
        for server in self.servers:
            server.wait(timeout=30)


@pytest.mark.slow
def test_the_walkthrough_runs_as_written():
    commands = list(_commands(WALKTHROUGH))
    checked = {c for c in commands if not c.startswith("export ") and not _serves(c)}
    assert checked == set(EXPECTED), "the walkthrough and its expectations differ"
    terminal = Terminal({"5055": str(free_port()), "9092": str(free_port())})
    plans = 0
    try:
        for command in commands:
            if command.startswith("export "):
                terminal.export(command)
            elif _serves(command):
                _check_server(command, terminal.serve(command))
            else:
                shown = terminal.run(command)
                check = EXPECTED[command]
                if command.endswith(" plan-storage"):
                    plans += 1
                    check = SECOND_PLAN if plans == 2 else check
                check(shown)
    finally:
        terminal.close()
    assert plans == 2


def _serves(command: str) -> bool:
    arguments = _cli_arguments(command) or []
    return " ".join(arguments).startswith(SERVERS)


def _check_server(command: str, lines: list[str]) -> None:
    if "local-aws" not in command:
        return
    clusters = dict(line.split()[1:3] for line in lines if line.startswith("cluster "))
    assert set(clusters) == {"orders", "clickstream", "legacy"}
    for event in ("alarm_state_change.json", "scale_request.json"):
        assert clusters["clickstream"] in (ROOT / "events" / event).read_text()
    assert clusters["orders"] in (ROOT / "events/msk_records.json").read_text()
