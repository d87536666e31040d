"""Step 5, health: what the health monitor keeps for a cluster (its recommended alarms, a
dashboard, the broker-log filters and saved queries); an alarm firing on the emulator's
evaluation with its SNS notification; alarms muted while MSK maintains a cluster and unmuted
after; and the operation state events the monitor's sweeps put on the default bus."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from msk_autopilot_local.demo.fleet import BROKER_LOG_GROUP
from msk_autopilot_local.demo.session import COMPLIANT, FILLING, INSECURE, DemoSession

__all__ = ["health"]

HOT_CPU = {"cpu_user": 60.0, "cpu_system": 15.0}  # 75 %, over the CPU alarm's 60 %
CALM_CPU = {"cpu_user": 15.0, "cpu_system": 5.0}  # the emulator's healthy defaults
# The transitions the sweeps publish: the storage update and the configuration rollout (all
# after the monitor's first sweep, in the storage step), then legacy's maintenance.
EXPECTED_EVENTS = Counter(
    {
        (FILLING, "UPDATE_BROKER_STORAGE", "started"): 1,
        (FILLING, "UPDATE_BROKER_STORAGE", "completed"): 1,
        **{(name, "UPDATE_CLUSTER_CONFIGURATION", "started"): 1 for name in (COMPLIANT, FILLING)},
        **{(name, "UPDATE_CLUSTER_CONFIGURATION", "completed"): 1 for name in (COMPLIANT, FILLING)},
        (INSECURE, "UPDATE_CLUSTER_CONFIGURATION", "started"): 1,
        (INSECURE, "UPDATE_CLUSTER_CONFIGURATION", "completed"): 1,
        (INSECURE, "SECURITY_PATCHING", "started"): 1,
        (INSECURE, "SECURITY_PATCHING", "completed"): 1,
    }
)


def health(session: DemoSession) -> None:
    tally = session.result.functions["health_monitor"]
    environment = session.stack.function_environment("HealthMonitorFunction")
    prefix = environment["HEALTH_NAME_PREFIX"]
    published: list[dict[str, Any]] = []
    published += _sweep(session, "")["events"]
    families = _show_kept(session, prefix)
    tally.did.append(
        f"kept {sum(families.values())} alarms in {len(families)} families for {FILLING}, "
        "a dashboard per cluster, broker-log filters and queries"
    )
    _alarm_fires(session, prefix)
    published += _maintenance(session, prefix)
    _show_events(session, published)
    tally.did.append(f"muted {INSECURE}'s alarms during MSK maintenance, then unmuted them")
    tally.did.append(f"published {len(published)} operation state events")


def _sweep(session: DemoSession, why: str) -> dict[str, Any]:
    """A scheduled sweep of the monitor; what it did, and the events the bus delivered."""
    answer = session.invoke("health_monitor", session.scheduled_event())
    session.progress.say(f"health_monitor (Scheduled Event{why}): {answer['status']}")
    return {**answer["details"], "events": session.operation_events()}


def _show_kept(session: DemoSession, prefix: str) -> Counter[str]:
    """The alarm set, dashboard, log filters and saved queries kept; the alarm families of
    clickstream."""
    say = session.progress.say
    cloudwatch, logs = session.cloudwatch, session.account.client("logs")
    alarms = [
        alarm["AlarmName"]
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=f"{prefix}{FILLING}-"
        )
        for alarm in page["MetricAlarms"]
    ]
    families = Counter(
        re.sub(r"^broker-\d+-", "", name.removeprefix(f"{prefix}{FILLING}-")) for name in alarms
    )
    say(
        f"{FILLING}: {len(alarms)} alarms: "
        + ", ".join(f"{family} x{count}" for family, count in sorted(families.items()))
    )
    for name in sorted(alarms)[:3]:
        say(f"  {name}")
    dashboards = sorted(
        d["DashboardName"]
        for d in cloudwatch.list_dashboards(DashboardNamePrefix=prefix)["DashboardEntries"]
    )
    say(f"dashboards: {', '.join(dashboards)}")
    filters = logs.describe_metric_filters(logGroupName=BROKER_LOG_GROUP, filterNamePrefix=prefix)[
        "metricFilters"
    ]
    queries = logs.describe_query_definitions(queryDefinitionNamePrefix=prefix)["queryDefinitions"]
    for name in (COMPLIANT, FILLING):
        own = f"{prefix}{name}-"
        say(
            f"{name} delivers broker logs to {BROKER_LOG_GROUP}: "
            f"{sum(f['filterName'].startswith(own) for f in filters)} metric filters, "
            f"saved queries "
            + ", ".join(
                q["name"].removeprefix(f"{prefix}{name}/")
                for q in queries
                if q["name"].startswith(f"{prefix}{name}/")
            )
        )
    session.expect(
        {"cpu", "under-replicated", "offline-partitions", "active-controller"} <= set(families)
        and families["cpu"] == 3,
        f"{FILLING} should have the recommended alarms, one CPU alarm per broker: {families}",
    )
    session.expect(
        dashboards == sorted(f"{prefix}{name}" for name in session.clusters),
        f"expected one dashboard per cluster, got {dashboards}",
    )
    session.expect(
        not any(f["filterName"].startswith(f"{prefix}{INSECURE}-") for f in filters)
        and all(
            any(f["filterName"].startswith(f"{prefix}{name}-") for f in filters)
            and any(q["name"].startswith(f"{prefix}{name}/") for q in queries)
            for name in (COMPLIANT, FILLING)
        ),
        "broker-log filters and queries should exist for exactly the clusters delivering logs",
    )
    return families


def _alarm_fires(session: DemoSession, prefix: str) -> None:
    """Clickstream's broker 2 runs hot: the emulator's evaluation (what local-aws's ticker does)
    moves its CPU alarm to ALARM and CloudWatch's notification reaches the SNS topic."""
    say, control = session.progress.say, session.control
    arn = session.clusters[FILLING]
    control.set_cluster_health(arn, broker=2, **HOT_CPU)
    say(f"{FILLING} broker 2 has run hot for 15 minutes: CpuUser 60 % + CpuSystem 15 %")
    control.tick()
    say("CloudWatch (the emulator's evaluation, as local-aws runs it) evaluates every alarm:")
    fired = [n for n in session.notifications() if "AlarmName" in n]
    for notice in fired:
        say(f"SNS {notice['NewStateValue']}: {notice['AlarmName']}: {notice['NewStateReason']}")
    cpu_alarm = f"{prefix}{FILLING}-broker-2-cpu"
    changes = [(n["AlarmName"], n["NewStateValue"]) for n in fired]
    session.expect(
        changes == [(cpu_alarm, "ALARM")], f"only {cpu_alarm} should fire, got {changes}"
    )
    control.set_cluster_health(arn, broker=2, **CALM_CPU)
    control.tick()
    calm = [n for n in session.notifications() if "AlarmName" in n]
    session.expect(
        [(n["AlarmName"], n["NewStateValue"]) for n in calm] == [(cpu_alarm, "OK")],
        f"{cpu_alarm} should return to OK once the broker cools down, got {calm}",
    )
    say(f"{FILLING} broker 2 cools down: SNS OK: {cpu_alarm}")


def _maintenance(session: DemoSession, prefix: str) -> list[dict[str, Any]]:
    """MSK patches legacy: the next sweep mutes its alarms, the one after the patch unmutes
    them, each with one notice. Returns the events those sweeps published."""
    say, control = session.progress.say, session.control
    arn = session.clusters[INSECURE]
    control.start_maintenance(arn)
    say(f"MSK starts SECURITY_PATCHING on {INSECURE} ({session.cluster_info(INSECURE)['State']})")
    during = _sweep(session, f", {INSECURE} in maintenance")
    muted = _actions_enabled(session, f"{prefix}{INSECURE}-")
    notices = _say_notices(session)
    session.expect(
        bool(during["muted"]) and not any(muted.values()),
        f"every alarm of {INSECURE} should be muted during maintenance: {muted}",
    )
    control.complete_operations()
    say(f"MSK finishes the patch: {INSECURE} {session.cluster_info(INSECURE)['State']}")
    after = _sweep(session, ", maintenance over")
    unmuted = _actions_enabled(session, f"{prefix}{INSECURE}-")
    notices += _say_notices(session)
    session.expect(
        sorted(after["unmuted"]) == sorted(muted) and all(unmuted.values()),
        f"every alarm of {INSECURE} should be unmuted after maintenance: {unmuted}",
    )
    session.expect(
        [n.get("subject") for n in notices]
        == [
            f"Alarms of {INSECURE} muted: MSK is maintaining the cluster",
            f"Alarms of {INSECURE} unmuted: MSK's maintenance ended",
        ],
        f"expected one notice each way, got {[n.get('subject') for n in notices]}",
    )
    return [*during["events"], *after["events"]]


def _say_notices(session: DemoSession) -> list[dict[str, Any]]:
    notices = session.notifications()
    for notice in notices:
        session.progress.say(f"SNS [{notice.get('severity', '?')}] {notice.get('subject', '')}")
    return notices


def _actions_enabled(session: DemoSession, name_prefix: str) -> dict[str, bool]:
    return {
        alarm["AlarmName"]: bool(alarm["ActionsEnabled"])
        for page in session.cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=name_prefix
        )
        for alarm in page["MetricAlarms"]
    }


def _show_events(session: DemoSession, events: list[dict[str, Any]]) -> None:
    """The operation state events a rule on the default bus delivered to the demo's queue."""
    say = session.progress.say
    say(
        f'EventBridge: {len(events)} "MSK Cluster Operation State Change" events '
        "(source msk-autopilot) reached the demo's rule:"
    )
    seen = Counter(
        (e["detail"]["clusterName"], e["detail"]["operationType"], e["detail"]["transition"])
        for e in events
    )
    for (cluster, operation, transition), count in seen.items():
        say(f"  {cluster:<12} {operation:<29} {transition}" + (f" x{count}" if count > 1 else ""))
    ids = [e["detail"]["eventId"] for e in events]
    session.expect(
        seen == EXPECTED_EVENTS and len(set(ids)) == len(ids),
        f"expected each transition once, got {dict(seen)}",
    )
    session.result.numbers["health"] = {"operation_events": len(events)}
