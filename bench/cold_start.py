"""Cold starts: each function's import plus one invocation, in fresh processes, against a baseline.

Lambda bills the INIT phase, so a function should cost little more than the AWS SDK it needs.
For every function this runs, in fresh Python processes (median of --runs, default 5):
- baseline: `import boto3` and create the clients that function uses;
- function: import its handler module (settings, clients, powertools, the core) and invoke it
  once on its sample event against `local-aws` (the MSK emulator), started by this script.
  The core is imported from a copy compiled the way the layer's build compiles it (bytecode
  Lambda uses from its read-only /opt), not from the source tree, whose bytecode cache depends
  on this machine (PYTHONDONTWRITEBYTECODE, a writable checkout).
It prints a Markdown table of both medians and their ratio; the target is at most 1.25.

    .venv/bin/python bench/cold_start.py [--runs 5] [--json]
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
from datetime import timedelta
from pathlib import Path

from msk_autopilot_local.emulator import control, put_linear_series
from msk_autopilot_local.local_aws import local_aws
from msk_autopilot_local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.25

# function folder -> (sample event, the AWS clients the function creates)
FUNCTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "storage_scaler": ("alarm_state_change", ("kafka", "cloudwatch", "sns", "dynamodb")),
    "config_rotator": ("parameter_store_change", ("kafka", "ssm", "sns", "dynamodb")),
    "scram_rotator": ("secret_rotation_create", ("kafka", "secretsmanager", "sns", "kms")),
    "security_auditor": ("cloudtrail_update_monitoring", ("kafka", "securityhub", "s3", "sns")),
    "record_consumer": ("msk_records", ("s3",)),
}

_BASELINE = """
import sys, time
start = time.perf_counter()
import boto3
session = boto3.Session()
for service in sys.argv[1:]:
    session.client(service)
print(time.perf_counter() - start)
"""

_FUNCTION = """
import json, sys, time
from pathlib import Path
from msk_autopilot_local.invoke import LocalContext, _load_handler_module  # no boto3 inside
folder, event_file, result_file = sys.argv[1:4]
event = json.loads(Path(event_file).read_text())
start = time.perf_counter()
module = _load_handler_module(Path("functions") / folder, folder)
arn = "arn:aws:lambda:us-east-1:123456789012:function:" + folder
result = module.lambda_handler(event, LocalContext(function_name=folder, invoked_function_arn=arn))
elapsed = time.perf_counter() - start
import msk_autopilot
Path(result_file).write_text(json.dumps(
    {"seconds": elapsed, "status": result.get("status"), "core": msk_autopilot.__file__}
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
    stack = LocalStack(ROOT / "template.yaml")
    fleet = {
        "clusters": [
            {
                "name": "orders",
                "brokers": 3,
                "subnets": ["subnet-a", "subnet-b", "subnet-c"],
                "tags": {"msk-autopilot:managed": "true"},
            }
        ]
    }
    rows = []
    with local_aws(stack, fleet=fleet) as account, tempfile.TemporaryDirectory() as scratch:
        layer = _layer_copy(Path(scratch))
        now = control.clock.now()
        put_linear_series(
            account.client("cloudwatch"),
            "orders",
            broker_ids=[1, 2, 3],
            start=now - timedelta(hours=6),
            end=now,
            start_value=40,
            end_value=55,
            period_seconds=300,
        )
        for folder, (sample, services) in FUNCTIONS.items():
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
            }
            baseline, function = [], []
            for run in range(runs):
                baseline.append(float(_timed(_BASELINE, list(services), environment).strip()))
                result_file = Path(scratch) / f"{folder}-{run}.json"
                event_file = str(ROOT / "events" / f"{sample}.json")
                _timed(_FUNCTION, [folder, event_file, str(result_file)], environment)
                measured = json.loads(result_file.read_text())
                if not measured["core"].startswith(str(layer)):
                    raise RuntimeError(f"{folder} imported the core from {measured['core']}")
                function.append(measured["seconds"])
            base, total = statistics.median(baseline), statistics.median(function)
            rows.append(
                {
                    "function": folder,
                    "baseline_ms": round(base * 1000, 1),
                    "function_ms": round(total * 1000, 1),
                    "ratio": round(total / base, 2),
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
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
        print("| function | baseline: boto3 + clients (ms) | import + invoke (ms) | ratio |")
        print("|---|---:|---:|---:|")
        for row in rows:
            print(
                f"| {row['function']} | {row['baseline_ms']} | {row['function_ms']} | "
                f"{row['ratio']} |"
            )
    return 0 if all(float(str(row["ratio"])) <= TARGET_RATIO for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
