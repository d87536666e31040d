"""`msk-autopilot esm`: a local poller that behaves like Lambda's Kafka event source mapping.

Reads one or more topics of any Kafka reachable from this machine as a consumer group, builds
events exactly as Lambda does (records grouped by "topic-partition", base64 key and value, null
keys, headers as byte arrays, the MSK shape with --cluster-arn, else the self-managed one), and
invokes a function's handler in this process: a template function (default record_consumer,
cold-started with its template environment like `msk-autopilot invoke`) or, for tests and
experiments, any `module:function` or `path/to/file.py:function`.

Like Lambda it cuts a batch at --batch-size records, at the end of the batching window or at
6 MB of payload; commits offsets only after the handler succeeded; honours a partial batch
response (`{"batchItemFailures": [{"itemIdentifier": {"partition": "t-0", "offset": 15}}]}`)
by committing what came before each partition's first failed offset and retrying from there;
retries up to --max-retries (default: forever); bisects failing batches with --bisect; sends
what still fails to the --on-failure destination (S3: the whole invocation record, SQS/SNS:
metadata only, kafka://TOPIC: each failed record with its key, its invocation record as the
value) and then commits past it. One poller invokes one batch at a time, so a failing
batch holds up every partition, where Lambda holds up only its own.

Stops after --until-idle SECONDS without progress (no new record, nothing committed), after
--max-batches invocations, or on Ctrl-C (after the current invocation). Exit status: 0 done;
1 the run ended with records not handled (discarded, still failing, Kafka lost, commit or
destination failed); 2 it could not start (bad option, unknown function, Kafka unreachable,
missing topic, destination unusable, the function's cold start failed); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import msgspec

from msk_autopilot_local.cli.options import (
    Subparsers,
    add_command,
    add_template_option,
)
from msk_autopilot_local.esm import EsmError, PollerConfig, run_poller
from msk_autopilot_local.local_lambda import read_env_vars_file
from msk_autopilot_local.template.resolve import StackError, find_template, function_in_template

__all__ = ["register"]

# Each option's default is PollerConfig's, so the command and Python callers share one.
_DEFAULTS = {field.name: field.default for field in msgspec.structs.fields(PollerConfig)}


def _kafka_setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def _env_vars(args: argparse.Namespace) -> dict[str, str]:
    """The --env-vars file's overrides for the function: its section is the logical ID."""
    if not args.env_vars:
        return {}
    function: str = args.function
    logical_id = function.rsplit(":", 1)[-1]
    if ":" not in function:
        try:
            logical_id = function_in_template(args.template or find_template(), function)
        except StackError as error:
            raise EsmError(f"--function: {error}") from None
    return read_env_vars_file(args.env_vars, logical_id)


def _config_from_args(args: argparse.Namespace) -> PollerConfig:
    return PollerConfig.checked(
        {
            "bootstrap_servers": args.bootstrap_servers,
            "topics": tuple(args.topic),
            "function": args.function,
            "group_id": args.group,
            "template": args.template,
            "env_vars": _env_vars(args),
            "batch_size": args.batch_size,
            "batching_window": args.batching_window,
            "starting_position": args.starting_position,
            "max_retries": args.max_retries,
            "bisect": args.bisect,
            "report_batch_item_failures": not args.no_partial_batch_response,
            "on_failure": args.on_failure,
            "cluster_arn": args.cluster_arn,
            "until_idle": args.until_idle,
            "max_batches": args.max_batches,
            "kafka_config": dict(args.kafka_config or []),
            "broker_timeout": args.broker_timeout,
            "status_interval": args.status_interval,
        }
    )


def _run(args: argparse.Namespace) -> int:
    config = _config_from_args(args)
    stop = threading.Event()
    interrupted = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():

        def on_sigint(_signum: int, _frame: Any) -> None:
            interrupted.set()
            stop.set()
            print("stopping after the current invocation (Ctrl-C again to abort)", file=sys.stderr)
            signal.signal(signal.SIGINT, signal.default_int_handler)

        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        summary = run_poller(config, stop=stop)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(summary.final_line())
    if interrupted.is_set() and summary.exit_code == 0:
        return 130
    return summary.exit_code


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "esm",
        help="poll Kafka and invoke a function like Lambda's event source mapping",
        description=__doc__,
        run=_run,
    )
    parser.add_argument("--bootstrap-servers", "-b", required=True, metavar="HOST:PORT[,...]")
    parser.add_argument("--topic", action="append", required=True, help="repeat for more topics")
    parser.add_argument("--group", help="consumer group (default: msk-autopilot-esm-FUNCTION)")
    parser.add_argument(
        "--function",
        "-f",
        default=_DEFAULTS["function"],
        help="template function (folder or logical ID), module:function or file.py:function "
        "(default: %(default)s)",
    )
    add_template_option(parser)
    parser.add_argument(
        "--env-vars", "-n", type=Path, help="JSON overrides, sam local invoke's format"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=_DEFAULTS["batch_size"],
        help="1-10000 (default: %(default)s)",
    )
    parser.add_argument(
        "--batching-window",
        type=float,
        default=_DEFAULTS["batching_window"],
        metavar="SECONDS",
        help="0-300 (default: %(default)s)",
    )
    parser.add_argument(
        "--starting-position",
        choices=("TRIM_HORIZON", "LATEST"),
        default=_DEFAULTS["starting_position"],
        help="(default: %(default)s)",
    )
    parser.add_argument(
        "--max-retries",
        type=int,
        default=_DEFAULTS["max_retries"],
        help="-1: until it succeeds, or 10 with --on-failure (default: %(default)s)",
    )
    parser.add_argument("--bisect", action="store_true", help="split a failing batch in two")
    parser.add_argument(
        "--no-partial-batch-response",
        action="store_true",
        help="ignore batchItemFailures (ReportBatchItemFailures not enabled)",
    )
    parser.add_argument(
        "--on-failure",
        metavar="DEST",
        help="s3://bucket/prefix, SQS queue URL/ARN, SNS ARN, or kafka://TOPIC on the same Kafka",
    )
    parser.add_argument("--cluster-arn", help="send the MSK event shape with this ARN")
    stop_group = parser.add_mutually_exclusive_group()
    stop_group.add_argument(
        "--until-idle", type=float, metavar="SECONDS", help="stop after this long without progress"
    )
    stop_group.add_argument("--max-batches", type=int, metavar="N", help="stop after N batches")
    parser.add_argument(
        "--kafka-config",
        action="append",
        type=_kafka_setting,
        metavar="NAME=VALUE",
        help="librdkafka property, e.g. security.protocol=SSL (repeat)",
    )
    parser.add_argument(
        "--broker-timeout",
        type=float,
        default=_DEFAULTS["broker_timeout"],
        metavar="SECONDS",
        help="give up when Kafka does not answer this long (default: %(default)s)",
    )
    parser.add_argument(
        "--status-interval",
        type=float,
        default=_DEFAULTS["status_interval"],
        metavar="SECONDS",
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--json", action="store_true", help="print the final summary as JSON")
