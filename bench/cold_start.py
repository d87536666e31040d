"""Cold starts: each function's import plus one invocation, in fresh processes, against a baseline.

Lambda bills the INIT phase, so a function should cost little more than the AWS SDK it needs.
For every function this runs, in fresh Python processes (median of --runs, default 11):
- baseline: `import boto3` and create the clients that function uses;
- function: import its handler module (settings, clients, powertools, the core) and invoke it
  once on its sample event against `local-aws` (the MSK emulator), started by this script.
  Before each run the account is reset and set up so that the event does the function's work
  (a filling disk, a pushed configuration, a started rotation, a cluster to audit): the sample is
  aimed at that account, never answered with a cheap skip. The table shows what each run did.
  The core is imported from a copy compiled the way the layer's build compiles it (bytecode
  Lambda uses from its read-only /opt), not from the source tree, whose bytecode cache depends
  on this machine (PYTHONDONTWRITEBYTECODE, a writable checkout). The baseline's clients are
  checked against the ones the function really created.
Both sides are measured in CPU time of the process: the work a cold start does (importing,
building clients, the SDK's first calls, the function's code), without the time spent waiting for
local AWS's answers, which stands in for AWS's own latency and is not the function's. The ratio
is the median of each run's ratio to the baseline measured just before it (target at most 1.25;
the exit status is 1 when a function misses it). Wall-clock times, the AWS calls made and local
AWS's answering time are shown beside it.

    .venv/bin/python bench/cold_start.py [--runs 11] [--json] [function ...]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from msk_autopilot_local.emulator import control, put_linear_series, start_rotation
from msk_autopilot_local.local_aws import LocalAws, local_aws, read_fleet
from msk_autopilot_local.stack import DeployedStack

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.25

SAMPLE_CLUSTER_ARN = (
    "arn:aws:kafka:us-east-1:123456789012:cluster/orders/5c9a6e0a-1c2d-4f7e-9a31-2b8f0d4e6a11-2"
)
SAMPLE_SECRET_ARN = (
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_orders_app-Ab12Cd"  # noqa: S105
)
SAMPLE_TOKEN = "3b6f2a1e-8c4d-4e5f-9a0b-1c2d3e4f5a6b"  # noqa: S105
SAMPLE_TIME = "2026-11-24T10:15:00Z"
FLEET = ROOT / "examples" / "fleet.yaml"
CONFIGURATION_TEXT = ROOT / "examples" / "configurations" / "orders.properties"

type Prepare = Callable[[LocalAws, DeployedStack], dict[str, str]]


@dataclass(frozen=True)
class Scenario:
    """A function's sample event, the clients its baseline creates, and what the account needs
    for the event to do the function's work rather than be skipped: `prepare` sets the (freshly
    reset) account up and returns what to replace in the sample to aim it at that account."""

    sample: str
    clients: tuple[str, ...]
    prepare: Prepare


def _filling_disks(account: LocalAws, stack: DeployedStack) -> dict[str, str]:
    """orders' disks went from 40 % to 75 % in six hours: the alarm is real and growth is due."""
    now = control.clock.now()
    put_linear_series(
        account.client("cloudwatch"),
        "orders",
        broker_ids=[1, 2, 3],
        start=now - timedelta(hours=6),
        end=now,
        start_value=40,
        end_value=75,
        period_seconds=300,
    )
    return {SAMPLE_CLUSTER_ARN: account.clusters["orders"], SAMPLE_TIME: _iso(now)}


def _pushed_configuration(account: LocalAws, stack: DeployedStack) -> dict[str, str]:
    """orders-standard was pushed and orders follows it: the run creates it and rolls it out."""
    environment = stack.function_environment(stack.function_logical_id("config_rotator"))
    account.client("ssm").put_parameter(
        Name=environment["CONFIG_PARAMETER_PREFIX"] + "orders-standard",
        Value=CONFIGURATION_TEXT.read_text(),
        Type="String",
    )
    account.client("kafka").tag_resource(
        ResourceArn=account.clusters["orders"],
        Tags={environment["CONFIG_TAG_KEY"]: "orders-standard"},
    )
    return {}


def _rotation_started(account: LocalAws, stack: DeployedStack) -> dict[str, str]:
    """Secrets Manager started rotating orders' SCRAM secret: createSecret makes the new one."""
    secret = account.client("secretsmanager").describe_secret(SecretId="AmazonMSK_orders_app")
    return {SAMPLE_SECRET_ARN: secret["ARN"], SAMPLE_TOKEN: start_rotation(secret["ARN"])}


def _aimed_at_orders(account: LocalAws, stack: DeployedStack) -> dict[str, str]:
    """The event names orders: someone changed its monitoring (the auditor audits it and files
    findings), or its records arrive (the consumer archives them)."""
    return {SAMPLE_CLUSTER_ARN: account.clusters["orders"]}


FUNCTIONS: dict[str, Scenario] = {
    "storage_scaler": Scenario(
        "alarm_state_change", ("kafka", "cloudwatch", "sns", "dynamodb"), _filling_disks
    ),
    "config_rotator": Scenario(
        "parameter_store_change",
        ("kafka", "ssm", "sns", "dynamodb", "cloudwatch"),
        _pushed_configuration,
    ),
    "scram_rotator": Scenario(
        "secret_rotation_create",
        ("kafka", "secretsmanager", "sns", "kms", "cloudwatch", "dynamodb"),
        _rotation_started,
    ),
    "security_auditor": Scenario(
        "cloudtrail_update_monitoring",
        ("kafka", "kms", "secretsmanager", "securityhub", "s3", "sns", "ec2", "cloudtrail"),
        _aimed_at_orders,
    ),
    "record_consumer": Scenario("msk_records", ("s3",), _aimed_at_orders),
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aimed(sample: str, replacements: dict[str, str]) -> str:
    """The sample event's text with its identifiers replaced, URL-encoded ones too (CloudTrail)."""
    for old, new in replacements.items():
        sample = sample.replace(old, new).replace(quote(old, safe=""), quote(new, safe=""))
    return sample


_BASELINE = """
import json, sys, time
start, cpu = time.perf_counter(), time.process_time()
import boto3
session = boto3.Session()
for service in sys.argv[1:]:
    session.client(service)
print(json.dumps({"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu}))
"""

_FUNCTION = """
import json, sys, time
from pathlib import Path
from msk_autopilot_local.local_lambda import LocalContext, load_handler_module  # no boto3 inside
folder, event_file, result_file = sys.argv[1:4]
event = json.loads(Path(event_file).read_text())
start, cpu = time.perf_counter(), time.process_time()
module = load_handler_module(Path("functions") / folder, folder)
arn = "arn:aws:lambda:us-east-1:123456789012:function:" + folder
result = module.lambda_handler(event, LocalContext(function_name=folder, invoked_function_arn=arn))
wall, cpu = time.perf_counter() - start, time.process_time() - cpu
import gc, botocore.client, msk_autopilot  # after the clock stopped: what the run created
gc.unfreeze()  # frozen objects are not listed
clients = sorted({
    o.meta.service_model.service_name
    for o in gc.get_objects() if isinstance(o, botocore.client.BaseClient)
})
Path(result_file).write_text(json.dumps(
    {"wall": wall, "cpu": cpu, "result": result, "core": msk_autopilot.__file__, "clients": clients}
))
"""


def _timed(code: str, args: list[str], environment: dict[str, str]) -> str:
    process = subprocess.run(  # noqa: S603  our own interpreter running our own code
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode != 0:
        raise RuntimeError(f"{args[0]}: the measured process failed:\n{process.stderr[-2000:]}")
    return process.stdout


def _layer_copy(scratch: Path) -> Path:
    """The core as layers/autopilot/Makefile ships it: sources and unchecked-hash bytecode."""
    layer = scratch / "python"
    shutil.copytree(
        ROOT / "layers" / "autopilot" / "msk_autopilot",
        layer / "msk_autopilot",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    compileall.compile_dir(
        layer, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )
    return layer


def measure(runs: int, only: list[str]) -> list[dict[str, object]]:
    rows = []
    with (
        local_aws(ROOT / "template.yaml", fleet=read_fleet(FLEET)) as account,
        tempfile.TemporaryDirectory() as scratch,
    ):
        stack = account.stack
        layer = _layer_copy(Path(scratch))
        for folder, scenario in FUNCTIONS.items():
            if only and folder not in only:
                continue
            logical_id = stack.function_logical_id(folder)
            environment = {
                **os.environ,
                **stack.function_environment(logical_id),
                **account.environment,
                "AWS_LAMBDA_FUNCTION_NAME": stack.physical_name(logical_id),
                "POWERTOOLS_LOG_LEVEL": "ERROR",
                "PYTHONPATH": str(layer),  # like /opt/python: ahead of the checkout's core
                # What Lambda tells its processes; the cold start freezes what it built then
                # (msk_autopilot.coldstart).
                "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            }
            sample = (ROOT / "events" / f"{scenario.sample}.json").read_text()
            baseline: list[dict[str, float]] = []
            function: list[dict[str, float]] = []
            calls: list[int] = []
            answering_time: list[float] = []
            outcomes: set[str] = set()
            for run in range(runs):
                baseline.append(json.loads(_timed(_BASELINE, list(scenario.clients), environment)))
                account.reset()  # every run finds the same account
                event_file = Path(scratch) / f"{folder}-{run}-event.json"
                event_file.write_text(_aimed(sample, scenario.prepare(account, stack)))
                result_file = Path(scratch) / f"{folder}-{run}.json"
                requests, answering = account.answered()
                _timed(_FUNCTION, [folder, str(event_file), str(result_file)], environment)
                after_requests, after_answering = account.answered()
                calls.append(after_requests - requests)
                answering_time.append(after_answering - answering)
                measured = json.loads(result_file.read_text())
                if not measured["core"].startswith(str(layer)):
                    raise RuntimeError(f"{folder} imported the core from {measured['core']}")
                if set(measured["clients"]) != set(scenario.clients):
                    raise RuntimeError(
                        f"{folder} created clients for {measured['clients']}: its baseline "
                        f"must create the same ones, not {sorted(scenario.clients)}"
                    )
                function.append(measured)
                outcomes.add(_outcome(measured["result"]))
            rows.append(
                {
                    "function": folder,
                    "outcome": ", ".join(sorted(outcomes)),
                    "aws_calls": statistics.median(calls),
                    "baseline_cpu_ms": _median_ms(run["cpu"] for run in baseline),
                    "function_cpu_ms": _median_ms(run["cpu"] for run in function),
                    "ratio": _paired_ratio(function, baseline, "cpu"),
                    "baseline_wall_ms": _median_ms(run["wall"] for run in baseline),
                    "function_wall_ms": _median_ms(run["wall"] for run in function),
                    "local_aws_ms": _median_ms(answering_time),
                    "wall_ratio": _paired_ratio(function, baseline, "wall"),
                }
            )
    return rows


def _median_ms(seconds: Iterable[float]) -> float:
    return round(statistics.median(seconds) * 1000, 1)


def _paired_ratio(
    function: list[dict[str, float]], baseline: list[dict[str, float]], clock: str
) -> float:
    """The median of each run's ratio to the baseline measured just before it: a machine that
    slows down for a while slows both sides of a pair, not one side of the comparison."""
    return round(
        statistics.median(f[clock] / b[clock] for f, b in zip(function, baseline, strict=True)), 2
    )


def _outcome(result: dict[str, Any]) -> str:
    """What the invocation did: the handler's status, or the consumer's partial-batch answer."""
    if "status" in result:
        return str(result["status"])
    return f"{len(result.get('batchItemFailures', []))} failed records"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("functions", nargs="*", help="default: every function")
    args = parser.parse_args()
    rows = measure(args.runs, args.functions)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(
            f"Cold start, median of {args.runs} fresh processes (target ratio <= {TARGET_RATIO})\n"
        )
        print(
            "| function | the invocation | AWS calls | baseline CPU (ms) "
            "| import + invoke CPU (ms) | ratio | wall: baseline (ms) | wall: import + invoke (ms) "
            "| of which local AWS answering (ms) | wall ratio |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            print(
                f"| {row['function']} | {row['outcome']} | {row['aws_calls']:g} "
                f"| {row['baseline_cpu_ms']} | {row['function_cpu_ms']} | {row['ratio']} "
                f"| {row['baseline_wall_ms']} | {row['function_wall_ms']} "
                f"| {row['local_aws_ms']} | {row['wall_ratio']} |"
            )
    over = [str(row["function"]) for row in rows if float(str(row["ratio"])) > TARGET_RATIO]
    if over:
        print(f"\nabove {TARGET_RATIO}: {', '.join(over)}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
