"""The demo's run: local AWS and the broker started, the fleet seeded, each step attempted in
turn (a failed one is reported and the next runs), the summary, and everything stopped."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from msk_autopilot_local.demo.audit import audit
from msk_autopilot_local.demo.configuration import configuration
from msk_autopilot_local.demo.fleet import account_resources, describe_fleet
from msk_autopilot_local.demo.health import health
from msk_autopilot_local.demo.progress import Progress
from msk_autopilot_local.demo.records import records as records_step
from msk_autopilot_local.demo.scram import scram
from msk_autopilot_local.demo.session import QUIET, DemoFailure, DemoResult, DemoSession
from msk_autopilot_local.demo.storage import storage
from msk_autopilot_local.local_aws import local_aws, pointed_at, read_fleet

__all__ = ["DEFAULT_RECORDS", "run_demo"]

DEFAULT_FLEET = Path("examples/fleet.yaml")  # relative to the template's folder
DEFAULT_RECORDS = 10_000


def run_demo(
    template_path: Path,
    *,
    out: TextIO | None = None,
    records: int = DEFAULT_RECORDS,
    fleet_path: Path | None = None,
) -> DemoResult:
    """Run every step and return what happened; prints the story to `out` (default stdout)."""
    progress = Progress(out or sys.stdout)
    result = DemoResult()
    progress.write(
        "msk-autopilot demo: the autopilot end to end on this machine (no AWS account, no Docker)\n"
    )
    with contextlib.ExitStack() as cleanup:
        cleanup.enter_context(_functions_quiet())
        cleanup.enter_context(_level(logging.getLogger("werkzeug"), logging.ERROR))  # access log
        workdir = Path(tempfile.mkdtemp(prefix="msk-autopilot-demo-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        try:
            _run_steps(
                template_path,
                progress=progress,
                result=result,
                workdir=workdir,
                records=records,
                fleet_path=fleet_path,
            )
        except Exception as error:  # noqa: BLE001  the start failed: say why, exit 1
            progress.bad(f"{type(error).__name__}: {error}")
            result.failures.append(f"start: {type(error).__name__}: {error}")
    result.elapsed = progress.elapsed
    _print_summary(progress, result)
    return result


@contextlib.contextmanager
def _level(logger: logging.Logger, level: int) -> Iterator[None]:
    saved = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(saved)


@contextlib.contextmanager
def _functions_quiet() -> Iterator[None]:
    """The functions' logger at ERROR for the demo's duration, whenever it was created: it is
    created once per process, at the first cold start, with the level of that moment."""
    saved = {name: os.environ.get(name) for name in QUIET}
    os.environ.update(QUIET)
    try:
        from msk_autopilot.observability import logger  # noqa: PLC0415
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    level = logger.log_level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _run_steps(
    template_path: Path,
    *,
    progress: Progress,
    result: DemoResult,
    workdir: Path,
    records: int,
    fleet_path: Path | None,
) -> None:
    from msk_autopilot_local.broker import local_broker  # noqa: PLC0415
    from msk_autopilot_local.emulator import control, scram_brokers, seed_fleet  # noqa: PLC0415

    root = template_path.parent
    fleet_path = fleet_path or root / DEFAULT_FLEET
    fleet = read_fleet(fleet_path)
    progress.step("Local AWS and a Kafka broker")
    with contextlib.ExitStack() as running:
        with progress.activity("starting local-aws (deploying the stack) and noida-db"):
            # The demo plays the clock step by step and has the emulator evaluate the alarms
            # when it needs them (control.tick()).
            account = running.enter_context(local_aws(template_path, tick_seconds=None))
            running.callback(scram_brokers.forget)  # passwords
            broker = running.enter_context(local_broker())
        running.enter_context(pointed_at(account))
        result.endpoints = {
            "aws": account.endpoint_url,
            "broker": broker.bootstrap_servers,
            "broker_pid": broker.pid,
        }
        progress.say(
            f"local-aws  {account.endpoint_url}  (moto + the MSK emulator, in this process; "
            f"stack {account.stack.stack_name} deployed through CloudFormation)"
        )
        progress.say(f"broker     {broker.bootstrap_servers}  (noida-db, pid {broker.pid})")

        progress.step(f"Fleet ({_shown(fleet_path, root)})")
        with progress.activity("seeding"):
            seeded = seed_fleet(
                {name: account.client(name) for name in ("kafka", "kms", "secretsmanager")},
                account_resources(account, fleet),
            )
        account.clusters = seeded.clusters
        session = DemoSession(
            account=account,
            broker=broker,
            progress=progress,
            result=result,
            workdir=workdir,
            records=records,
        )
        _attempt("Fleet", functools.partial(describe_fleet, session), result, progress)
        steps: list[tuple[str, Callable[[DemoSession], None]]] = [
            ("Storage autopilot: a disk filling fast", storage),
            (
                "Configuration as code: canary first, held by a health gate, bad files refused",
                configuration,
            ),
            (
                "Health monitor: alarms kept, an alarm fired, maintenance muted, operation events",
                health,
            ),
            ("SCRAM secret rotation across two clusters", scram),
            ("Security audit and auto-remediation", audit),
            (f"{records:,} records through the event source mapping", records_step),
        ]
        for title, step in steps:
            progress.step(title)
            control.complete_operations()  # a failed step may have left one running
            _attempt(title, functools.partial(step, session), result, progress)


def _attempt(title: str, run: Callable[[], None], result: DemoResult, progress: Progress) -> None:
    """Run one step; a failed expectation or an error is reported and the demo carries on."""
    try:
        run()
    except DemoFailure as failure:
        progress.bad(str(failure))
        result.failures.append(f"{title}: {failure}")
    except Exception as error:  # noqa: BLE001  report it, carry on with the next step
        progress.bad(f"{type(error).__name__}: {error}")
        progress.write(traceback.format_exc())
        result.failures.append(f"{title}: {type(error).__name__}: {error}")


def _shown(path: Path, root: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(root.resolve()))
    return str(path)


def _print_summary(progress: Progress, result: DemoResult) -> None:
    progress.write(f"\n[{result.elapsed:5.1f}s] What each function did\n")
    for name, tally in result.functions.items():
        statuses = ", ".join(
            f"{count} {status}" for status, count in sorted(tally.statuses.items()) if count
        )
        progress.say(f"{name:<17} {tally.invocations:>3} invocations ({statuses or 'none'})")
        for line in tally.did:
            progress.say(f"{'':<17} - {line}")
    if "notifications" in result.numbers:
        progress.say(f"{result.numbers['notifications']} notifications published to the SNS topic")
    if result.ok:
        progress.write(
            f"\ndemo passed in {result.elapsed:.0f} s; local-aws and the broker are stopped.\n"
        )
        return
    progress.write(f"\ndemo FAILED ({len(result.failures)} expectation(s)):\n")
    for failure in result.failures:
        progress.write(f"  - {failure}\n")
