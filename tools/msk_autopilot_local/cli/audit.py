"""`msk-autopilot audit`: audit MSK clusters with the security auditor's own engine and controls.

Read-only: it changes nothing, imports nothing into Security Hub and writes no report to S3. It
audits every cluster of each --region (default: the profile's Region) in the current
credentials' account and in each --account-role's account (assumed through STS), or only
--cluster. The storage-protection control reads the opt-in tag key from OPT_IN_TAG_KEY
(default msk-autopilot:managed), like the functions.

Exit status: 0 audited; 1 a FAILED finding is at least as severe as --fail-on; 2 bad arguments,
no credentials, or an account or Region that could not be listed (the audit is incomplete).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from msk_autopilot.audit.report import AuditReport

__all__ = ["register"]

SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
DEFAULT_OPT_IN_TAG_KEY = "msk-autopilot:managed"


class AuditCliError(Exception):
    """The audit cannot run as asked (exit status 2)."""


class _ProgressBar:
    """A one-line progress bar on a terminal's stderr."""

    width = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __call__(self, done: int, total: int) -> None:
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if done >= total else ""
        self._stream.write(f"\rauditing [{bar}] {done}/{total} clusters{end}")
        self._stream.flush()


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit():
        raise AuditCliError(f"not an ARN with an account: {arn}")
    return parts[4]


def _targets(args: argparse.Namespace) -> list[Any]:
    import boto3  # noqa: PLC0415  heavy imports stay out of `--help`
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from msk_autopilot.audit.collect import AuditTarget  # noqa: PLC0415
    from msk_autopilot.aws import AssumedRole, ClientFactory  # noqa: PLC0415

    if args.cluster:
        regions = [args.cluster.split(":")[3]]
    else:
        regions = args.region or [r for r in [boto3.Session().region_name] if r]
    if not regions:
        raise AuditCliError("no Region: pass --region or configure a default Region")
    home = ClientFactory(region=regions[0])
    try:
        account = str(home.client("sts").get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as error:
        raise AuditCliError(f"cannot use the current credentials: {error}") from None
    accounts = [(account, home)] + [
        (
            _account_of(role),
            home.assume(AssumedRole(role, session_name="msk-autopilot-audit")),
        )
        for role in args.account_role or []
    ]
    if args.cluster:
        owner = _account_of(args.cluster)
        accounts = [(a, clients) for a, clients in accounts if a == owner]
        if not accounts:
            raise AuditCliError(f"{args.cluster} is in account {owner}: pass its --account-role")
    return [AuditTarget(a, region, clients) for a, clients in accounts for region in regions]


def _table(report: AuditReport) -> str:
    from msk_autopilot.audit.controls import FindingSeverity, Status  # noqa: PLC0415

    rows = [
        (c.name, c.account, c.region, f.control, f.severity.value, f.status.value, f.detail)
        for c, f in report.findings()
        if f.status in (Status.FAILED, Status.NOT_AVAILABLE)
    ]
    rows.sort(key=lambda row: (-FindingSeverity(row[4]).rank, row[0], row[3]))
    header = ("CLUSTER", "ACCOUNT", "REGION", "CONTROL", "SEVERITY", "STATUS", "DETAIL")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in [header, *rows]
    ]
    summary = report.summary()
    counts = ", ".join(f"{n} {status.lower()}" for status, n in summary["findings"].items())
    failed = ", ".join(f"{n} {severity}" for severity, n in summary["failed"].items() if n)
    lines.append("")
    lines.append(f"{summary['clusters']} clusters: {counts}" + (f" ({failed})" if failed else ""))
    lines.append(f"{report.api_calls} AWS API calls")
    return "\n".join(lines) + "\n"


def _asff(report: AuditReport) -> str:
    from msk_autopilot.audit.findings import asff_finding  # noqa: PLC0415

    findings = [asff_finding(c, f, observed_at=report.generated_at) for c, f in report.findings()]
    return json.dumps([f for f in findings if f is not None], indent=1) + "\n"


def _render(report: AuditReport, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(report.to_dict(), indent=1) + "\n"
    if output_format == "asff":
        return _asff(report)
    return _table(report)


def _run(args: argparse.Namespace) -> int:
    from msk_autopilot.audit.controls import FindingSeverity, Status  # noqa: PLC0415
    from msk_autopilot.audit.runner import audit  # noqa: PLC0415

    try:
        targets = _targets(args)
    except AuditCliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    run = audit(
        targets,
        opt_in_tag_key=os.environ.get("OPT_IN_TAG_KEY") or DEFAULT_OPT_IN_TAG_KEY,
        cluster_arn=args.cluster,
        progress=_ProgressBar(sys.stderr) if sys.stderr.isatty() else None,
    )
    report = run.report
    text = _render(report, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for failure in report.errors:
        print(f"error: {failure.account}/{failure.region}: {failure.error}", file=sys.stderr)
    if args.cluster and not report.clusters:
        print(f"error: cluster {args.cluster} not found", file=sys.stderr)
        return 2
    if report.errors:
        return 2
    if args.fail_on:
        threshold = FindingSeverity(args.fail_on).rank
        if any(
            f.status is Status.FAILED and f.severity.rank >= threshold for _, f in report.findings()
        ):
            return 1
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="audit MSK clusters' security settings (the security auditor's controls)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--region", action="append", metavar="R", help="Region to audit (repeatable)"
    )
    parser.add_argument(
        "--account-role",
        action="append",
        metavar="ARN",
        help="role to assume to audit another account too (repeatable)",
    )
    parser.add_argument("--cluster", metavar="ARN", help="audit only this cluster")
    parser.add_argument(
        "--format", choices=("table", "json", "asff"), default="table", help="output format"
    )
    parser.add_argument("--output", metavar="FILE", help="write the output to FILE")
    parser.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        metavar="SEVERITY",
        help=f"exit 1 when a finding of this severity or worse fails ({', '.join(SEVERITIES)})",
    )
    parser.set_defaults(func=_run)
