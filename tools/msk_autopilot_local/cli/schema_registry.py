"""`msk-autopilot schema-registry`: a local Confluent-compatible schema registry on 127.0.0.1.

Prints `ready http://127.0.0.1:PORT` once it serves and runs until SIGINT/SIGTERM, then prints
`stopped`. Point confluent-kafka's serializers (`schema.registry.url`) and the record consumer
(`SCHEMA_REGISTRY_URL`, with `VALUE_FORMAT=confluent-avro|confluent-json|confluent-protobuf`)
at it. Schemas live in memory: they are gone when it stops.
"""

from __future__ import annotations

import argparse
import signal
import threading

from msk_autopilot_local.cli.options import Subparsers, add_command
from msk_autopilot_local.errors import LocalToolError

__all__ = ["register"]


def _serve(args: argparse.Namespace) -> int:
    from msk_autopilot_local.schema_registry import LocalSchemaRegistry  # noqa: PLC0415

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        registry = LocalSchemaRegistry(port=args.port)
    except OSError as error:
        raise LocalToolError(
            f"cannot listen on 127.0.0.1:{args.port}: {error.strerror}; pick another --port"
        ) from None
    with registry:
        print(f"ready {registry.url}", flush=True)
        stop.wait()
    print("stopped", flush=True)
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "schema-registry",
        help="run a local Confluent-compatible schema registry on 127.0.0.1",
        description=__doc__,
        run=_serve,
    )
    parser.add_argument(
        "--port", type=int, default=0, help="HTTP port on 127.0.0.1 (default: a free one)"
    )
