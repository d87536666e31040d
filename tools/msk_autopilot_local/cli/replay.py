"""`msk-autopilot replay`: put records the record consumer archived or quarantined back onto a
Kafka topic.

Reads the gzip JSON Lines objects under s3://--bucket/--prefix (the archive bucket's objects
begin topic=..., the failure bucket's quarantine is under quarantine/) and produces each
selected record to --topic with its key, headers and timestamp, into the partition it came
from when the topic has that many partitions. Each source record is sent once, in offset order
per partition. Select with --source-topic, --partition, --from-offset/--to-offset (inclusive)
and --since/--until (the records' timestamps, ISO 8601, UTC unless an offset is given).

Archive lines keep what the consumer decoded: with the consumer's KEY_FORMAT / VALUE_FORMAT raw
(the default) the bytes themselves; with json, pass --key-format/--value-format json to send
the JSON text as archived. Quarantined records are always sent as they were delivered.

What was sent is recorded, after Kafka acknowledged it, in a checkpoint file (default
.msk-autopilot/replay/<bucket>[-<prefix>]-to-<topic>.json under the working directory): a
second run sends nothing twice and an interrupted one (Ctrl-C, --max-records, Kafka gone)
resumes where it stopped. Delete the file to send everything again. --dry-run counts what would
be sent per source topic-partition and contacts no broker.

Exit status: 0 done; 1 some archive lines could not be read (named, the rest was sent);
2 it could not run (missing bucket, nothing under the prefix, missing topic, Kafka unreachable).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from msk_autopilot_local.cli.options import Subparsers, add_command, positive_int
from msk_autopilot_local.console import ProgressBar, table
from msk_autopilot_local.replay import (
    ReplayFilter,
    ReplayOptions,
    ReplaySummary,
    default_checkpoint,
    replay,
)

__all__ = ["register"]

LOCAL_BROKER = "127.0.0.1:9092"  # `msk-autopilot broker start --port 9092`, as in the README


def _epoch_ms(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2026-11-25T14:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _offset(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected an offset (0 or more), got {text!r}")
    return int(text)


def _options(args: argparse.Namespace) -> ReplayOptions:
    prefix: str = args.prefix
    return ReplayOptions(
        bucket=args.bucket,
        prefix=prefix,
        topic=args.topic,
        bootstrap_servers=args.bootstrap_servers,
        checkpoint=args.checkpoint or default_checkpoint(args.bucket, prefix, args.topic),
        filter=ReplayFilter(
            topics=frozenset(args.source_topic) if args.source_topic else None,
            partitions=frozenset(args.partition) if args.partition else None,
            from_offset=args.from_offset,
            to_offset=args.to_offset,
            since_ms=args.since,
            until_ms=args.until,
        ),
        key_format=args.key_format,
        value_format=args.value_format,
        dry_run=args.dry_run,
        create_topic=args.create_topic,
        max_records=args.max_records,
        broker_timeout=args.broker_timeout,
    )


def _report(options: ReplayOptions, summary: ReplaySummary) -> None:
    rows = [[key, str(count)] for key, count in sorted(summary.per_partition.items())]
    if rows:
        table(sys.stdout, ["source partition", "would send" if options.dry_run else "sent"], rows)
    skipped = f", {summary.already_sent} sent before (checkpoint)" if summary.already_sent else ""
    verb = "would send" if options.dry_run else "sent"
    print(f"{verb} {summary.sent} records to {options.topic}{skipped}")
    if summary.stopped_early:
        print(f"stopped at --max-records {options.max_records}: run again to send the rest")
    if not options.dry_run:
        print(f"checkpoint: {options.checkpoint}")
    for problem in summary.unreadable[:10]:
        print(f"unreadable: {problem}", file=sys.stderr)
    if len(summary.unreadable) > 10:
        print(f"... and {len(summary.unreadable) - 10} more unreadable lines", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    options = _options(args)
    bar = ProgressBar(sys.stderr, "replaying objects")
    try:
        summary = replay(options, progress=bar)
    finally:
        bar.close()
    _report(options, summary)
    return 1 if summary.unreadable else 0


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "replay",
        help="put archived or quarantined records back onto a Kafka topic",
        description=__doc__,
        run=_run,
    )
    parser.add_argument("--bucket", required=True, help="the archive or failure bucket")
    parser.add_argument(
        "--prefix",
        default="",
        help="where the objects are: '' for the archive, quarantine/ for poison (default: '')",
    )
    parser.add_argument("--topic", required=True, help="the topic to send the records to")
    parser.add_argument(
        "--bootstrap-servers",
        "-b",
        default=LOCAL_BROKER,
        metavar="HOST:PORT[,...]",
        help="(default: the local broker, %(default)s)",
    )
    parser.add_argument(
        "--create-topic",
        action="store_true",
        help="create --topic when missing, with as many partitions as the source",
    )
    parser.add_argument(
        "--source-topic", action="append", help="only records of this topic (repeat)"
    )
    parser.add_argument(
        "--partition", action="append", type=_offset, help="only this partition (repeat)"
    )
    parser.add_argument("--from-offset", type=_offset, metavar="N", help="first offset to send")
    parser.add_argument("--to-offset", type=_offset, metavar="N", help="last offset to send")
    parser.add_argument("--since", type=_epoch_ms, metavar="TIME", help="records stamped from")
    parser.add_argument("--until", type=_epoch_ms, metavar="TIME", help="records stamped before")
    for part in ("key", "value"):
        parser.add_argument(
            f"--{part}-format",
            choices=("raw", "json"),
            default="raw",
            help=f"the consumer's {part.upper()}_FORMAT when it archived (default: raw)",
        )
    parser.add_argument("--dry-run", action="store_true", help="count, send nothing")
    parser.add_argument(
        "--max-records", type=positive_int, metavar="N", help="stop after sending N records"
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        metavar="FILE",
        help="what was sent (default: .msk-autopilot/replay/<bucket>[-<prefix>]-to-<topic>.json)",
    )
    parser.add_argument(
        "--broker-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="give up when Kafka does not answer this long (default: %(default)s)",
    )
