"""Step 7, security audit: the audit (the core's, as `msk-autopilot audit` runs it), the
security auditor's remediation runs until one starts nothing, and the audit again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from msk_autopilot_local.audit_table import findings_table
from msk_autopilot_local.demo.fleet import BROKER_LOG_GROUP
from msk_autopilot_local.demo.session import INSECURE, DemoSession

if TYPE_CHECKING:
    from msk_autopilot.audit.report import AuditReport

__all__ = ["audit"]

REMEDIATE = "MSK.2,MSK.4,AUTOPILOT.1,AUTOPILOT.3"


def audit(session: DemoSession) -> None:
    say, tally = session.progress.say, session.result.functions["security_auditor"]
    failed_before = _audit_and_show(session, "before")
    say(
        f"security_auditor runs with REMEDIATE_CONTROLS={REMEDIATE}, "
        f"BROKER_LOG_GROUP={BROKER_LOG_GROUP}:"
    )
    fixed: list[str] = []
    for run in range(1, 8):
        answer = session.invoke(
            "security_auditor",
            session.scheduled_event(),
            REMEDIATE_CONTROLS=REMEDIATE,
            BROKER_LOG_GROUP=BROKER_LOG_GROUP,
        )
        remediations = answer["details"]["remediations"]
        started = [r for r in remediations if r["status"] == "started"]
        listed = "; ".join(
            f"{r['cluster_name']} {r['control']} {r['status']}" for r in remediations
        )
        say(
            f"run {run}: {answer['status']}: {answer['reason']}"
            + (f" ({listed})" if listed else "")
        )
        fixed += [f"{r['cluster_name']} {r['control']}" for r in started]
        if not started:
            break
        session.control.complete_operations()
    failed_after = _audit_and_show(session, "after")
    session.expect(
        {f"{INSECURE} MSK.4", f"{INSECURE} MSK.2", f"{INSECURE} AUTOPILOT.3"} <= set(fixed),
        f"expected MSK.4, AUTOPILOT.3 and MSK.2 fixed on {INSECURE}, fixed {fixed}",
    )
    session.expect(
        failed_after == failed_before - len(fixed),
        f"failed findings went {failed_before} -> {failed_after} with {len(fixed)} fixes",
    )
    session.say_notifications()
    tally.did.append(f"failed findings {failed_before} -> {failed_after}; fixed {', '.join(fixed)}")
    session.result.numbers["audit"] = {
        "failed_before": failed_before,
        "failed_after": failed_after,
        "fixed": fixed,
    }


def _audit_and_show(session: DemoSession, when: str) -> int:
    """Audit the account, show the table `msk-autopilot audit` prints, and return the number of
    FAILED findings."""
    report = _audit(session)
    session.expect(not report.errors, f"the audit could not read the account: {report.errors}")
    session.progress.say(f"$ msk-autopilot audit  ({when}; exit 0)")
    for line in findings_table(report).rstrip().splitlines():
        session.progress.say("  " + line, wrap=False)
    failed: int = report.summary()["findings"]["FAILED"]
    return failed


def _audit(session: DemoSession) -> AuditReport:
    from msk_autopilot.audit.collect import AuditTarget  # noqa: PLC0415
    from msk_autopilot.audit.runner import audit as run_audit  # noqa: PLC0415
    from msk_autopilot.aws import ClientFactory  # noqa: PLC0415

    environment = session.stack.function_environment("SecurityAuditorFunction")
    target = AuditTarget(
        session.stack.account, session.region, ClientFactory(region=session.region)
    )
    return run_audit([target], opt_in_tag_key=environment["OPT_IN_TAG_KEY"]).report
