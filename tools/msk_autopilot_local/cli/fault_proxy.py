"""`msk-autopilot fault-proxy`: an HTTP proxy that injects AWS faults between boto3 and local-aws.

Put it in front of `msk-autopilot local-aws` (or any AWS-compatible endpoint) and point clients at
the proxy instead: it forwards every request and, at a configured rate per service and operation,
answers with a fault instead (or as well). Deterministic for a seed: whether the n-th request of
an operation gets a fault, which one, and how long a delay lasts depend only on the seed, the
service, the operation and n.

Fault kinds
-----------
  throttle      the service's throttling error in its protocol's shape, which botocore
                classifies as throttling (kafka: 429, x-amzn-ErrorType TooManyRequestsException)
  error_500     500 InternalFailure (or the service's modelled internal-error shape)
  error_503     503 ServiceUnavailable (or the service's modelled shape)
  drop_before   close the connection without forwarding: the service never sees the request
  drop_after    forward, then close the connection without answering: the service acted but
                the caller cannot know (the dangerous case for non-idempotent calls)
  delay         wait (a seeded time within the rule's delay range), then forward normally

Requests are identified by the credential scope of the SigV4 Authorization header (the service)
and the protocol: `X-Amz-Target` (JSON), `Action=` (query), `/service/S/operation/O` (RPC v2
CBOR) or method + path matched against botocore's model (REST). The emulator's control endpoints
(`/_msk_emulator/...`) and moto's (`/moto-api/...`) are forwarded untouched and never faulted.

The plan (--plan FILE, or PUT /_fault_proxy/plan)
-------------------------------------------------
  {"seed": 7, "rules": [{"rate": 0.2, "kinds": {"throttle": 1, "drop_after": 1},
   "service": "kafka", "operation": "Update*", "delaySeconds": [0.05, 0.5],
   "skip": 0, "limit": null}]}

Only `rate` (0 to 1) is required. `kinds` is kind -> relative weight, or a list of equally likely
kinds (default: all). The first rule whose service and operation patterns (shell-style, `*` by
default) match a request and whose `limit` (faults, default none) is not used up decides: with
probability `rate` the request gets a fault whose kind is drawn by the weights. `skip` lets the
first N matching requests through untouched. Unknown fields are refused. Without --plan, the
options make one rule.

HTTP control (JSON), on the proxy itself
----------------------------------------
  GET  /_fault_proxy/stats         requests, forwarded requests and faults per service/operation
  POST /_fault_proxy/stats/reset   zero the counters and the fault log
  GET  /_fault_proxy/faults        the most recent injected faults, oldest first
  GET  /_fault_proxy/plan          the fault plan
  PUT  /_fault_proxy/plan          replace it (400 with the reason when it is invalid)
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
from pathlib import Path

import msgspec

from msk_autopilot_local.cli.options import Subparsers, add_command
from msk_autopilot_local.faults import FaultKind, FaultPlan, FaultPlanError, FaultProxy
from msk_autopilot_local.faults.plan import DEFAULT_DELAY_SECONDS
from msk_autopilot_local.local_aws import DEFAULT_PORT as LOCAL_AWS_PORT

__all__ = ["register"]

DEFAULT_PORT = 5056
DEFAULT_UPSTREAM = f"http://127.0.0.1:{LOCAL_AWS_PORT}"
# The plan field (as msgspec's error path names it) each rule option sets.
_OPTION_OF_FIELD = {
    "seed": "--seed",
    "rate": "--rate",
    "kinds": "--kinds",
    "service": "--service",
    "operation": "--operation",
    "delaySeconds": "--delay",
}
_ERROR_PATH = re.compile(r" - at `\$(?:\.rules\[0\])?(?:\.(\w+))?")


def _plan_from_args(args: argparse.Namespace) -> FaultPlan:
    """The plan of --plan, or the one rule the options make. The options stay text until msgspec
    reads them as the plan's types, so they are checked exactly like a plan file."""
    if args.plan is not None:
        return FaultPlan.read(args.plan)
    low, _, high = args.delay.partition(":")
    document = {
        "seed": args.seed,
        "rules": [
            {
                "rate": args.rate,
                "kinds": [name.strip() for name in args.kinds.split(",") if name.strip()],
                "service": args.service,
                "operation": args.operation,
                "delaySeconds": [low, high or low],
            }
        ],
    }
    try:
        return msgspec.convert(document, FaultPlan, strict=False)
    except msgspec.ValidationError as error:
        where = _ERROR_PATH.search(str(error))
        message = str(error)[: where.start()] if where else str(error)
        # A check across a rule's fields has the rule's path, and its message starts with the
        # field it is about.
        field = (where.group(1) if where else None) or message.partition(" ")[0]
        option = _OPTION_OF_FIELD.get(field)
        if option is None:
            raise FaultPlanError(f"the rule options make no valid rule: {message}") from None
        value = getattr(args, option.removeprefix("--"))
        raise FaultPlanError(f"{option} {value!r}: {message}") from None


def _run(args: argparse.Namespace) -> int:
    plan = _plan_from_args(args)
    proxy = FaultProxy(args.upstream, plan, port=args.port).start()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        print(f"upstream {proxy.upstream}", flush=True)
        print(f"plan {json.dumps(plan.to_dict())}", flush=True)
        print(f"ready {proxy.endpoint_url}", flush=True)
        stop.wait()
    finally:
        stats = proxy.stats()
        proxy.stop()
    print(json.dumps(stats.to_dict(), indent=2), flush=True)
    print("stopped", flush=True)
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "fault-proxy",
        help="serve a proxy on 127.0.0.1 that injects AWS faults in front of local-aws",
        description=__doc__,
        run=_run,
    )
    parser.add_argument("--upstream", default=DEFAULT_UPSTREAM, help="default %(default)s")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    parser.add_argument("--plan", type=Path, help="JSON plan file (instead of the rule options)")
    rule = parser.add_argument_group("one rule, without --plan")
    rule.add_argument("--rate", default="0.2", help="fault rate 0-1 (default %(default)s)")
    rule.add_argument(
        "--kinds",
        default=",".join(FaultKind),
        help="comma-separated fault kinds, equally likely (default: all)",
    )
    rule.add_argument("--service", default="*", help="service pattern, e.g. kafka (default *)")
    rule.add_argument("--operation", default="*", help="operation pattern, e.g. 'Update*'")
    rule.add_argument("--seed", default="0", help="default %(default)s")
    rule.add_argument(
        "--delay",
        default=":".join(str(seconds) for seconds in DEFAULT_DELAY_SECONDS),
        help="delay SECONDS or MIN:MAX (default %(default)s)",
    )
