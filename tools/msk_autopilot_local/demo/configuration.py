"""Step 4, configuration as code: examples/configurations is pushed to Parameter Store (as
`config push` does), clusters are tagged to follow `orders` (one canary), the rotator rolls it
out one cluster at a time, canary first, and holds clickstream while it is under-replicated (the
under-replicated health gate) until it heals; a bad file is refused with its file:line problems and
nothing is uploaded."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from msk_autopilot_local.configurations import check_push, refusal, upload
from msk_autopilot_local.demo.session import COMPLIANT, FILLING, INSECURE, DemoSession

__all__ = ["configuration"]

CONFIGURATION = "orders"  # examples/configurations/orders.properties
UNDER_REPLICATED = 4  # partitions, on clickstream's broker 2 when its turn comes
# A configuration with a problem on most lines, as `config push` prints them.
BAD_CONFIGURATION = """\
# msk-autopilot:kafka-versions = 3.6.0
min.insync.replicas=two
log.retention.hours=168
log.retention.hours=72
broker.id=7
num.partitions=0
"""


def configuration(session: DemoSession) -> None:
    say, tally = session.progress.say, session.result.functions["config_rotator"]
    ssm = session.account.client("ssm")
    environment = session.stack.function_environment("ConfigRotatorFunction")
    prefix = environment["CONFIG_PARAMETER_PREFIX"]
    folder = session.stack.root / "examples" / "configurations"
    files, problems, _ = check_push(folder, prefix, lambda: ssm)
    pushed = [] if problems else upload(files, prefix, ssm)
    say(f"$ msk-autopilot config push examples/configurations  (exit {1 if problems else 0})")
    for item in pushed:
        say("  " + str(item).replace(str(session.stack.root) + os.sep, ""))
    session.expect(not problems, f"config push failed: {'; '.join(problems)}")

    tags = environment["CONFIG_TAG_KEY"]
    followers = (FILLING, INSECURE, COMPLIANT)
    for name in followers:
        extra = {"msk-autopilot:canary": "true"} if name == COMPLIANT else {}
        session.kafka.tag_resource(
            ResourceArn=session.clusters[name], Tags={tags: CONFIGURATION, **extra}
        )
    say(
        f"tagged {', '.join(followers)} {tags}={CONFIGURATION}; "
        f"{COMPLIANT} also msk-autopilot:canary=true"
    )

    started: list[str] = []

    def run_rotator() -> dict[str, Any]:
        answer = session.invoke("config_rotator", _parameter_event(session, prefix + CONFIGURATION))
        report: dict[str, Any] = answer["details"]["configurations"][CONFIGURATION]
        actions = [
            a for c in answer["details"]["configurations"].values() for a in c.get("actions", [])
        ]
        say(
            f"run {tally.invocations} (Parameter Store Change): {report['state']}"
            + (f": {'; '.join(actions)}" if actions else f": {report.get('reason', '')}")
        )
        started.extend(a.split()[3] for a in actions if a.startswith("started update of "))
        return report

    run_rotator()
    session.expect(started == [COMPLIANT], f"expected the canary {COMPLIANT} first: {started}")
    session.control.complete_operations()
    _deferred_while_under_replicated(session, run_rotator)
    report = run_rotator()
    for _ in range(5):
        if report["state"] not in ("updating", "waiting"):
            break
        session.control.complete_operations()
        report = run_rotator()
    order = report.get("order", [])
    session.expect(report.get("state") == "complete", f"the rollout did not complete: {report}")
    session.expect(
        started == order and order[:1] == [COMPLIANT],
        f"expected the canary {COMPLIANT} first, one at a time; updates went {started}",
    )
    revision = report.get("revision")
    for name in followers:
        software = session.cluster_info(name)["Provisioned"]["CurrentBrokerSoftwareInfo"]
        session.expect(
            f"msk-autopilot-{CONFIGURATION}/" in software.get("ConfigurationArn", "")
            and software.get("ConfigurationRevision") == revision,
            f"{name} does not run msk-autopilot-orders revision {revision}",
        )
    say(
        f"every follower runs msk-autopilot-{CONFIGURATION} revision {revision}, "
        f"updated in order {' -> '.join(order)}"
    )
    session.say_notifications(compact=True)
    tally.did.append(
        f"rolled {CONFIGURATION} out to {len(order)} clusters, canary first; "
        f"{FILLING} deferred while under-replicated"
    )
    bad_problems = _refuse_a_bad_file(session, prefix)
    session.result.numbers["config"] = {
        "order": order,
        "revision": revision,
        "bad_problems": bad_problems,
    }


def _deferred_while_under_replicated(
    session: DemoSession, run_rotator: Callable[[], dict[str, Any]]
) -> None:
    """Clickstream's turn comes while its broker 2 is under-replicated: the under-replicated gate
    defers the update, run after run, with one WARNING notice; once the cluster has healed, the
    next run goes on."""
    say, arn = session.progress.say, session.clusters[FILLING]
    session.control.set_cluster_health(arn, broker=2, under_replicated_partitions=UNDER_REPLICATED)
    say(
        f"{FILLING} broker 2 reports {UNDER_REPLICATED} under-replicated partitions "
        "(the emulator's health profile, for the last 15 minutes)"
    )
    for _ in range(2):  # the event, and the next run's retry
        report = run_rotator()
        session.expect(
            report["state"] == "waiting"
            and report.get("reason", "").startswith(
                f"{FILLING}: deferred by gate under-replicated"
            ),
            f"the under-replicated gate should hold {FILLING}'s update: {report}",
        )
    notices = session.notifications()
    warnings = [n for n in notices if n.get("severity") == "WARNING"]
    for notice in notices:
        say(f"SNS [{notice.get('severity', '?')}] {notice.get('subject', '')}")
    session.expect(
        [n["subject"] for n in warnings]
        == [f"configuration of {FILLING} deferred by gate under-replicated"],
        f"expected one WARNING for the deferral over two runs, got {warnings}",
    )
    session.control.set_cluster_health(arn, broker=2, under_replicated_partitions=0)
    # The gate reads the last 15 minutes; a quarter of an hour later none of them is the
    # under-replicated profile's, wherever the machine's seconds fall against the minute.
    session.control.clock.advance(15 * 60)
    say(f"{FILLING} heals: every partition in sync again, for the whole 15-minute window")


def _refuse_a_bad_file(session: DemoSession, prefix: str) -> int:
    """A bad file: every problem as file:line, nothing uploaded; returns how many problems."""
    say, ssm = session.progress.say, session.account.client("ssm")
    bad = session.workdir / "bad-configurations"
    bad.mkdir()
    (bad / f"{CONFIGURATION}.properties").write_text(BAD_CONFIGURATION, encoding="utf-8")
    parameter = prefix + CONFIGURATION
    version = ssm.get_parameter(Name=parameter)["Parameter"]["Version"]
    revisions = _revisions(session, f"msk-autopilot-{CONFIGURATION}")
    files, problems, _ = check_push(bad, prefix, lambda: ssm)
    if not problems:
        upload(files, prefix, ssm)
    say(f"$ msk-autopilot config push bad-configurations  (exit {1 if problems else 0})")
    session.expect(len(problems) > 1, f"the bad file was not refused: {problems}")
    for line in [*problems, f"error: {refusal(problems)}"]:
        say("  " + line.replace(str(session.workdir) + os.sep, ""))
    unchanged = (
        ssm.get_parameter(Name=parameter)["Parameter"]["Version"] == version
        and _revisions(session, f"msk-autopilot-{CONFIGURATION}") == revisions
    )
    session.expect(unchanged, "the refused configuration changed Parameter Store or MSK")
    say(f"nothing uploaded: {parameter} still version {version}, MSK still revision {revisions}")
    return len(problems)


def _parameter_event(session: DemoSession, name: str) -> dict[str, Any]:
    from msk_autopilot_local.emulator.events import parameter_store_change  # noqa: PLC0415

    return parameter_store_change(
        name=name, time=session.now(), account=session.stack.account, region=session.region
    )


def _revisions(session: DemoSession, configuration: str) -> int:
    for item in session.kafka.list_configurations()["Configurations"]:
        if item["Name"] == configuration:
            return int(item["LatestRevision"]["Revision"])
    return 0
