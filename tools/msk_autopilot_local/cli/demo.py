"""`msk-autopilot demo`: the whole autopilot end to end on this machine, no AWS account, no Docker.

It starts a local AWS account (`local-aws`: moto and the MSK emulator, in this process, with the
stack deployed into it through CloudFormation) and a
local Kafka broker (noida-db), both on free ports of 127.0.0.1, seeds `examples/fleet.yaml`
(a compliant cluster, an insecure one, one whose disks fill fast), then invokes the real
handlers with the events AWS would deliver, in eight steps:

1. local AWS and the broker;  2. the fleet;
3. storage: the sweep creates the disk alarms, the disks of clickstream rise, CloudWatch's
   alarm fires (the MSK emulator evaluates it: moto does not), the scaler grows the
   volume; a second alarm within the 6-hour cool-down changes nothing;
4. configuration: `config push` uploads examples/configurations, clusters are tagged to follow
   `orders` (one canary), the rotator rolls it out one cluster at a time, canary first, and
   holds clickstream while it is under-replicated (a health gate, one WARNING) until it heals;
   a bad file is refused with its file:line problems and nothing uploaded;
5. health: the alarms, dashboard, broker-log filters and queries the monitor keeps; a CPU alarm
   fires on the emulator's evaluation and notifies the topic; MSK maintenance on legacy mutes
   its alarms until it ends; the operation state events the sweeps put on the default bus;
6. SCRAM: the four rotation steps on AmazonMSK_orders_app, shared by two clusters;
7. audit: the `audit` table, remediation runs, the table again;
8. records: 10,000 orders (1 % poison) through the local event source mapping into the
   record consumer, the S3 archive and quarantine read back and counted.

Each step checks what it shows; a failed check is reported and the exit status is 1. Whatever
happens, the broker is stopped, the server shut down and the temporary files removed.
"""

from __future__ import annotations

import argparse

from msk_autopilot_local.cli.options import (
    Subparsers,
    add_command,
    add_template_option,
    positive_int,
)
from msk_autopilot_local.demo.runner import DEFAULT_RECORDS, run_demo

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from msk_autopilot_local.template.resolve import find_template  # noqa: PLC0415

    result = run_demo(args.template or find_template(), records=args.records)
    return 0 if result.ok else 1


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "demo",
        help="run the autopilot end to end on this machine",
        description=__doc__,
        run=_run,
    )
    add_template_option(parser)
    parser.add_argument(
        "--records",
        type=positive_int,
        default=DEFAULT_RECORDS,
        help="records to produce and consume (default %(default)s)",
    )
