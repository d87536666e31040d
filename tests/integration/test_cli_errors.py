"""When a command cannot run, it says so in one line and exits 2; no traceback reaches a user.

Each case runs the command line as a user would, in a subprocess with its own environment: no
credentials, local AWS not started, a malformed option, an unwritable output, an unknown Region.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from msk_autopilot_local.broker import free_port

ROOT = Path(__file__).resolve().parents[2]
NOT_AN_ARN = "not-an-arn"


def _environment(**extra: str) -> dict[str, str]:
    """No AWS settings from the machine: no credentials, no profile, no instance metadata."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment |= {
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "us-east-1",
    }
    return environment | extra


def _local_aws_not_started() -> dict[str, str]:
    return _environment(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
    )


def _run(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "msk_autopilot_local.cli", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


CASES = {
    "plan-storage without credentials": (
        ["plan-storage"],
        _environment,
        "no AWS credentials",
    ),
    "audit without credentials": (["audit"], _environment, "no AWS credentials"),
    "plan-storage with local AWS not started": (
        ["plan-storage"],
        _local_aws_not_started,
        "is `msk-autopilot local-aws` running",
    ),
    "audit with local AWS not started": (
        ["audit"],
        _local_aws_not_started,
        "is `msk-autopilot local-aws` running",
    ),
    "audit of a malformed cluster": (
        ["audit", "--cluster", NOT_AN_ARN],
        _environment,
        f"argument --cluster: '{NOT_AN_ARN}' is not an MSK cluster ARN",
    ),
    "invoke with local AWS not started": (
        ["invoke", "storage_scaler", "-e", "events/scale_request.json"],
        _local_aws_not_started,
        "cannot read stack msk-autopilot: cannot reach http://127.0.0.1:",
    ),
    "invoke without credentials": (
        ["invoke", "storage_scaler", "-e", "events/scale_request.json"],
        _environment,
        "cannot read stack msk-autopilot: no AWS credentials",
    ),
    "plan-upgrades with local AWS not started": (
        ["plan-upgrades"],
        _local_aws_not_started,
        "is `msk-autopilot local-aws` running",
    ),
    "plan-storage of a malformed cluster": (
        ["plan-storage", "--cluster", NOT_AN_ARN],
        _environment,
        f"argument --cluster: '{NOT_AN_ARN}' is not an MSK cluster ARN",
    ),
    "audit into a missing folder": (
        ["audit", "--output", "/missing/dir/x.json"],
        _local_aws_not_started,
        "cannot write --output /missing/dir/x.json: /missing/dir is not a folder",
    ),
    "audit --html into a missing folder": (
        ["audit", "--html", "/missing/dir/x.html"],
        _local_aws_not_started,
        "cannot write --html /missing/dir/x.html: /missing/dir is not a folder",
    ),
    "audit of an unknown Region": (
        ["audit", "--region", "mars-1"],
        _local_aws_not_started,
        "argument --region: 'mars-1' is not a Region where MSK is offered",
    ),
    "deploy without local AWS": (
        ["deploy"],
        _environment,
        "AWS_ENDPOINT_URL is not set: deploy runs against local AWS only",
    ),
    "deploy to an AWS endpoint": (
        ["deploy"],
        lambda: _environment(AWS_ENDPOINT_URL="https://cloudformation.us-east-1.amazonaws.com"),
        "is not on this machine: deploy runs against local AWS only",
    ),
    "deploy with a malformed parameter override": (
        ["deploy", "--parameter-overrides", "DryRun"],
        _local_aws_not_started,
        "--parameter-overrides: 'DryRun' is not Key=Value",
    ),
    "demo with a bad record count": (
        ["demo", "--records", "abc"],
        _environment,
        "argument --records: 'abc' is not a whole number",
    ),
    "simulate with a bad target": (
        ["simulate", "--suite", "--target", "abc"],
        _environment,
        "argument --target: invalid float value: 'abc'",
    ),
    "simulate with a target MSK cannot honour": (
        ["simulate", "--suite", "--target", "90"],
        _environment,
        "--target (90) must be below the disk alarm threshold",
    ),
    "local-aws with a missing fleet file": (
        ["local-aws", "--port", "0", "--seed", "missing.yaml"],
        _environment,
        "cannot read fleet file missing.yaml",
    ),
    "invoke of an unknown function": (
        ["invoke", "ghost", "-e", "events/scale_request.json"],
        _environment,
        "ghost",
    ),
    "invoke of a missing event file": (
        ["invoke", "storage_scaler", "-e", "events/missing.json"],
        _environment,
        "cannot read event file events/missing.json",
    ),
    "esm with a bad batch size": (
        ["esm", "-b", "127.0.0.1:9", "--topic", "t", "--batch-size", "0"],
        _environment,
        "--batch-size",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_command_that_cannot_run_says_why_in_one_line_and_exits_2(case):
    arguments, environment, message = CASES[case]
    done = _run(arguments, environment())
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in _one_line(done)


def test_local_aws_on_a_taken_port_says_so():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _run(["local-aws", "--port", str(port)], _environment())
    assert done.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in _one_line(done)
