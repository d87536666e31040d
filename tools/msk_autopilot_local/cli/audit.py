"""`msk-autopilot audit`: audit MSK clusters with the security auditor's own engine and controls.

Read-only: it changes nothing, imports nothing into Security Hub and writes no report to S3
(--html writes the report as one self-contained HTML page, beside the chosen --format). It
audits every cluster of each --region (default: the profile's Region) in the current
credentials' account and in each --account-role's account (assumed through STS), and each
account and Region itself, or only --cluster. Every finding has a category: SECURITY or
RESILIENCE. The storage-protection control reads the opt-in tag key from OPT_IN_TAG_KEY
(default msk-autopilot:managed), like the functions.

Exit status: 0 audited; 1 a FAILED finding matches a --fail-on threshold; 2 bad arguments, no
credentials, or an account or Region that could not be listed (the audit is incomplete).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from msk_autopilot_local.audit_table import findings_table
from msk_autopilot_local.cli.options import Subparsers, add_command, aws_region, cluster_arn
from msk_autopilot_local.console import ProgressBar
from msk_autopilot_local.errors import LocalToolError, unreachable_aws

if TYPE_CHECKING:
    from msk_autopilot.audit.report import AuditReport

__all__ = ["register"]

SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
CATEGORIES = ("SECURITY", "RESILIENCE")
DEFAULT_OPT_IN_TAG_KEY = "msk-autopilot:managed"


class FailOn(NamedTuple):
    """A --fail-on threshold: a severity, in one category or (None) in any."""

    category: str | None
    severity: str


def fail_on(text: str) -> FailOn:
    """[CATEGORY:]SEVERITY, case-insensitive: HIGH, security:HIGH, resilience:medium."""
    category, _, severity = text.upper().rpartition(":")
    if severity not in SEVERITIES or category not in ("", *CATEGORIES):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not [CATEGORY:]SEVERITY (categories {', '.join(CATEGORIES)}; "
            f"severities {', '.join(SEVERITIES)})"
        )
    return FailOn(category or None, severity)


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit():
        raise LocalToolError(f"not an ARN with an account: {arn}")
    return parts[4]


def _targets(args: argparse.Namespace) -> list[Any]:
    import boto3  # noqa: PLC0415  heavy imports stay out of `--help`
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from msk_autopilot.audit.collect import AuditTarget  # noqa: PLC0415
    from msk_autopilot.aws import AssumedRole, ClientFactory  # noqa: PLC0415

    if args.cluster:
        regions = [args.cluster.split(":")[3]]
    else:
        default = os.environ.get("AWS_REGION") or boto3.Session().region_name
        regions = args.region or ([default] if default else [])
    if not regions:
        raise LocalToolError("no Region: pass --region or set AWS_REGION")
    home = ClientFactory(region=regions[0])
    try:
        account = str(home.client("sts").get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as error:
        cause = unreachable_aws(error) or f"cannot use the current credentials: {error}"
        raise LocalToolError(cause) from None
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
            raise LocalToolError(f"{args.cluster} is in account {owner}: pass its --account-role")
    return [AuditTarget(a, region, clients) for a, clients in accounts for region in regions]


def _asff(report: AuditReport) -> str:
    from msk_autopilot.audit.findings import asff_finding  # noqa: PLC0415

    findings = [asff_finding(c, f, observed_at=report.generated_at) for c, f in report.findings()]
    return json.dumps([f for f in findings if f is not None], indent=1) + "\n"


def _render(report: AuditReport, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(report.to_dict(), indent=1) + "\n"
    if output_format == "asff":
        return _asff(report)
    return findings_table(report)


def _write(option: str, path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise LocalToolError(f"cannot write {option} {path}: {error.strerror}") from None


def _run(args: argparse.Namespace) -> int:
    from msk_autopilot.audit.controls import FindingSeverity, Status  # noqa: PLC0415
    from msk_autopilot.audit.html_report import render_html  # noqa: PLC0415
    from msk_autopilot.audit.runner import audit  # noqa: PLC0415

    for option, path in (("--output", args.output), ("--html", args.html)):
        if path and not path.parent.is_dir():
            raise LocalToolError(f"cannot write {option} {path}: {path.parent} is not a folder")
    targets = _targets(args)
    progress = ProgressBar(sys.stderr, "auditing")
    try:
        run = audit(
            targets,
            opt_in_tag_key=os.environ.get("OPT_IN_TAG_KEY") or DEFAULT_OPT_IN_TAG_KEY,
            cluster_arn=args.cluster,
            progress=progress,
        )
    finally:
        progress.close()
    report = run.report
    text = _render(report, args.format)
    if args.output:
        _write("--output", args.output, text)
    else:
        sys.stdout.write(text)
    if args.html:
        _write("--html", args.html, render_html(report))
    for failure in report.errors:
        print(f"error: {failure.account}/{failure.region}: {failure.error}", file=sys.stderr)
    if args.cluster and not report.clusters:
        raise LocalToolError(
            f"cluster {args.cluster} not found in account {_account_of(args.cluster)}"
        )
    if report.errors:
        return 2
    for threshold in args.fail_on or ():
        rank = FindingSeverity(threshold.severity).rank
        if any(
            f.status is Status.FAILED
            and f.severity.rank >= rank
            and threshold.category in (None, f.category)
            for _, f in report.findings()
        ):
            return 1
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "audit",
        help="audit MSK clusters' security settings (the security auditor's controls)",
        description=__doc__,
        run=_run,
    )
    parser.add_argument(
        "--region",
        action="append",
        type=aws_region,
        metavar="R",
        help="Region to audit (repeatable)",
    )
    parser.add_argument(
        "--account-role",
        action="append",
        metavar="ARN",
        help="role to assume to audit another account too (repeatable)",
    )
    parser.add_argument(
        "--cluster", type=cluster_arn, metavar="ARN", help="audit only this cluster"
    )
    parser.add_argument(
        "--format", choices=("table", "json", "asff"), default="table", help="output format"
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the output to FILE")
    parser.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write the report as one self-contained HTML page to FILE",
    )
    parser.add_argument(
        "--fail-on",
        action="append",
        type=fail_on,
        metavar="[CATEGORY:]SEVERITY",
        help=(
            "exit 1 when a finding of this severity or worse fails, in any category or only in "
            f"CATEGORY ({', '.join(CATEGORIES)}; severities {', '.join(SEVERITIES)}; "
            "case-insensitive); repeatable: --fail-on security:high --fail-on resilience:critical"
        ),
    )
