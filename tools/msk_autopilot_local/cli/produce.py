"""`msk-autopilot produce`: write test records to a Kafka topic (the local broker or any other).

The topic is created with --partitions partitions when it does not exist. Record n (from 0) has
the key <--key-prefix>n (null keys with --key-prefix '') and as its value, with {n} replaced
by n, one of:
  --json TEMPLATE   a JSON template (repeat to cycle through several); default {"id": {n}}
  --value-file FILE a line of FILE, cycling through its lines
Prints how many records Kafka acknowledged; exit 2 when Kafka cannot be reached within
--timeout seconds or a record is not delivered.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

from msk_autopilot_local.cli.options import Subparsers, add_command, positive_int
from msk_autopilot_local.errors import LocalToolError
from msk_autopilot_local.produce import KeyValue, produce

__all__ = ["register"]

DEFAULT_TEMPLATE = '{"id": {n}}'


def _json_values(templates: list[str] | None) -> list[str]:
    templates = templates or [DEFAULT_TEMPLATE]
    for template in templates:
        try:
            json.loads(template.replace("{n}", "0"))
        except json.JSONDecodeError as error:
            raise LocalToolError(
                f"--json {template!r} is not JSON with {{n}} replaced by a number: {error}"
            ) from None
    return templates


def _file_values(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise LocalToolError(f"cannot read --value-file {path}: {error.strerror}") from None
    if not lines:
        raise LocalToolError(f"--value-file {path} is empty: give one value per line")
    return lines


def _records(args: argparse.Namespace) -> Iterator[KeyValue]:
    lines = _file_values(args.value_file) if args.value_file else _json_values(args.json)
    for n, line in zip(range(args.count), itertools.cycle(lines), strict=False):
        key = f"{args.key_prefix}{n}".encode() if args.key_prefix else None
        yield key, line.replace("{n}", str(n)).encode()


def _run(args: argparse.Namespace) -> int:
    records = list(_records(args))  # a bad template or file is refused before Kafka is asked
    delivered = produce(
        args.bootstrap_servers,
        args.topic,
        records,
        partitions=args.partitions,
        timeout=args.timeout,
    )
    print(f"delivered {delivered} records to {args.topic}", flush=True)
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "produce",
        help="produce test records to a Kafka topic",
        description=__doc__,
        run=_run,
    )
    parser.add_argument("--bootstrap-servers", "-b", required=True, metavar="HOST:PORT[,...]")
    parser.add_argument("--topic", required=True)
    parser.add_argument(
        "--count", type=positive_int, default=100, help="records to produce (default: %(default)s)"
    )
    parser.add_argument(
        "--partitions",
        type=positive_int,
        default=1,
        help="partitions of the topic when it is created (default: %(default)s)",
    )
    parser.add_argument(
        "--key-prefix",
        default="key-",
        help="keys are PREFIXn; '' for null keys (default: %(default)s)",
    )
    values = parser.add_mutually_exclusive_group()
    values.add_argument(
        "--json",
        action="append",
        metavar="TEMPLATE",
        help="JSON value with {n} for the record number; repeat to cycle "
        f"(default: {DEFAULT_TEMPLATE})",
    )
    values.add_argument("--value-file", type=Path, metavar="FILE", help="one value per line")
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="give up when Kafka does not answer this long (default: %(default)s)",
    )
