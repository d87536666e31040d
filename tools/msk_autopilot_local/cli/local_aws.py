"""`msk-autopilot local-aws`: a local AWS account with a faithful MSK, for functions and people.

Starts moto's server with the MSK emulator on 127.0.0.1, deploys the stack (msk-autopilot) into
it through CloudFormation from the working tree (no sam build), seeds clusters from a fleet file,
prints `ready http://127.0.0.1:PORT` and serves until SIGINT/SIGTERM.
While it serves, clusters with a health profile publish their metrics and CloudWatch alarms are
evaluated, notifying their SNS topics and putting their events on the default event bus.

Point anything at it with AWS_ENDPOINT_URL=http://127.0.0.1:PORT (and any non-empty credentials).
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from msk_autopilot_local.cli.options import (
    Subparsers,
    add_command,
    add_template_option,
    positive_int,
)
from msk_autopilot_local.errors import LocalToolError
from msk_autopilot_local.local_aws import DEFAULT_PORT, DEFAULT_TICK_SECONDS, local_aws, read_fleet

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from msk_autopilot_local.template.resolve import find_template  # noqa: PLC0415

    template = args.template or find_template()
    fleet = read_fleet(args.seed) if args.seed else None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        with local_aws(
            template, port=args.port, fleet=fleet, tick_seconds=args.tick_seconds
        ) as account:
            for name, arn in account.clusters.items():
                print(f"cluster {name} {arn}", flush=True)
            print(f"ready {account.endpoint_url}", flush=True)
            stop.wait()
    except OSError as error:  # the port is taken, most often
        raise LocalToolError(
            f"cannot serve on 127.0.0.1:{args.port}: {error.strerror or error}; "
            "choose another --port"
        ) from None
    print("stopped", flush=True)
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "local-aws",
        help="serve a local AWS account with a faithful MSK on 127.0.0.1",
        description=__doc__,
        run=_run,
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    parser.add_argument("--seed", type=Path, help="fleet file (JSON or YAML) of clusters to create")
    parser.add_argument(
        "--tick-seconds",
        type=positive_int,
        default=int(DEFAULT_TICK_SECONDS),
        help="how often to publish health metrics and evaluate alarms (every clock advance "
        "does too); default %(default)s",
    )
    add_template_option(parser)
