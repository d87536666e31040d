"""Step 4, configuration as code: examples/configurations is pushed to Parameter Store (as
`config push` does), clusters are tagged to follow `orders` (one canary), the rotator rolls it
out one cluster at a time, canary first; a bad file is refused with its file:line problems and
nothing is uploaded."""

from __future__ import annotations

import os
from typing import Any

from msk_autopilot_local.configurations import check_push, refusal, upload
from msk_autopilot_local.demo.session import COMPLIANT, FILLING, INSECURE, DemoSession

__all__ = ["configuration"]

CONFIGURATION = "orders"  # examples/configurations/orders.properties
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
    report: dict[str, Any] = {}
    for run in range(1, 8):
        answer = session.invoke("config_rotator", _parameter_event(session, prefix + CONFIGURATION))
        report = answer["details"]["configurations"][CONFIGURATION]
        actions = [
            a for c in answer["details"]["configurations"].values() for a in c.get("actions", [])
        ]
        say(
            f"run {run} (Parameter Store Change): {report['state']}"
            + (f": {'; '.join(actions)}" if actions else f": {report.get('reason', '')}")
        )
        started += [a.split()[3] for a in actions if a.startswith("started update of ")]
        if report["state"] not in ("updating", "waiting"):
            break
        session.control.complete_operations()
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
    tally.did.append(f"rolled {CONFIGURATION} out to {len(order)} clusters, canary first")
    bad_problems = _refuse_a_bad_file(session, prefix)
    session.result.numbers["config"] = {
        "order": order,
        "revision": revision,
        "bad_problems": bad_problems,
    }


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
