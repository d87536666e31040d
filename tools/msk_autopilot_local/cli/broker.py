"""`msk-autopilot broker start`: a local Kafka-wire broker (noida-db) on 127.0.0.1, no JVM.

Prints `ready 127.0.0.1:PORT` once Kafka clients can connect and serves until SIGINT/SIGTERM,
then stops the broker and prints `stopped`. With --data-dir, topics, records and committed
offsets survive a restart; without, they live in a temporary directory removed on exit.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from msk_autopilot_local.broker import BrokerError, start_broker
from msk_autopilot_local.cli.options import Subparsers, add_command

__all__ = ["register"]


def _start(args: argparse.Namespace) -> int:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    broker = start_broker(port=args.port, data_dir=args.data_dir)
    try:
        print(f"ready {broker.bootstrap_servers}", flush=True)
        while not stop.wait(0.5):
            if not broker.running:
                raise BrokerError(f"the broker on {broker.bootstrap_servers} exited on its own")
    finally:
        broker.close()
    print("stopped", flush=True)
    return 0


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "broker",
        help="run a local Kafka broker (noida-db) on 127.0.0.1",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = add_command(
        actions,
        "start",
        help="start a broker and serve until Ctrl-C",
        description=__doc__,
        run=_start,
    )
    start.add_argument(
        "--port", type=int, default=0, help="Kafka port on 127.0.0.1 (default: a free one)"
    )
    start.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep the broker's data here (default: a temporary directory)",
    )
