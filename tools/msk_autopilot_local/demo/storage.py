"""Step 3, storage: the health monitor creates the disk alarms, clickstream's disks rise,
CloudWatch's alarm fires (evaluated by the emulator, since moto does not evaluate alarms), the
scaler grows the volume; a second alarm within the 6-hour cool-down changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from msk_autopilot_local.demo.session import COMPLIANT, FILLING, INSECURE, DemoSession

if TYPE_CHECKING:
    from msk_autopilot_local.emulator import AlarmTransition

__all__ = ["storage"]


def storage(session: DemoSession) -> None:  # noqa: PLR0915  one story, told in order
    from msk_autopilot_local.emulator import put_linear_series  # noqa: PLC0415  moto is heavy

    say, tally = session.progress.say, session.result.functions["storage_scaler"]
    environment = session.stack.function_environment("HealthMonitorFunction")
    prefix = environment["DISK_ALARM_PREFIX"]
    threshold = float(environment["DISK_ALARM_THRESHOLD_PERCENT"])
    # Datapoints end just before the events' time (whole seconds), so every read sees them.
    now = session.now() - timedelta(seconds=2)

    def series(
        name: str, brokers: list[int], start: datetime, end: datetime, *, a: float, b: float
    ) -> None:
        put_linear_series(
            session.cloudwatch,
            name,
            broker_ids=brokers,
            start=start,
            end=end,
            start_value=a,
            end_value=b,
            period_seconds=300,
        )

    # Six quiet hours: every disk steady, clickstream's growing slowly.
    quiet_start = now - timedelta(hours=6)
    series(COMPLIANT, [1, 2, 3], quiet_start, now, a=35, b=36)
    series(INSECURE, [1, 2], quiet_start, now, a=22, b=22)
    series(FILLING, [1, 2, 3], quiet_start, now, a=30, b=33)
    kept = session.invoke("health_monitor", session.scheduled_event())
    created = kept["details"]["disk_alarms"]["created"]
    say(f"health_monitor (Scheduled Event): {kept['status']}")
    say(f"  created {len(created)} disk alarms {prefix}<cluster>-broker-<id>, at {threshold:g} %")
    session.expect(len(created) == 8, f"the monitor should create 8 disk alarms, created {created}")
    session.result.functions["health_monitor"].did.append(
        f"kept {len(created)} disk alarms for the storage scaler"
    )
    sweep = session.invoke("storage_scaler", session.scheduled_event())
    say(f"storage_scaler (Scheduled Event): {sweep['status']}: {sweep['reason']}")
    session.expect(
        not session.operations(FILLING), "the sweep should not grow clickstream before the burst"
    )

    # A burst: clickstream's broker 2 goes from 33 % to 78 % in three hours.
    start = now
    session.control.clock.advance(3 * 3600)
    now = session.now() - timedelta(seconds=2)
    series(COMPLIANT, [1, 2, 3], start, now, a=36, b=36)
    series(INSECURE, [1, 2], start, now, a=22, b=22)
    series(FILLING, [1, 3], start, now, a=33, b=52)
    series(FILLING, [2], start, now, a=33, b=78)
    hourly = [33 + (78 - 33) * hour / 3 for hour in range(4)]
    say("(moto keeps alarms but does not evaluate them: the MSK emulator plays CloudWatch's part)")
    say(
        f"{FILLING} broker 2 disk used, hourly: "
        + " -> ".join(f"{value:.0f} %" for value in hourly)
    )
    changes = _evaluate_alarms(session, FILLING)
    session.expect(
        [change.alarm_name for change in changes] == [f"{prefix}{FILLING}-broker-2"],
        f"only broker 2's alarm should fire, got {[change.alarm_name for change in changes]}",
    )
    before = session.volume(FILLING)
    grown = session.invoke("storage_scaler", changes[0].event())
    decision = grown["details"].get("decision", {})
    say(f"storage_scaler (alarm): {grown['status']}: {grown['reason']}")
    session.expect(grown["status"] == "acted", f"the alarm should grow clickstream: {grown}")
    new_gib = int(decision["new_gib"])
    state = session.cluster_info(FILLING)["State"]
    finished = session.control.complete_operations()
    after = session.volume(FILLING)
    say(
        f"MSK: {FILLING} {state} ({grown['details']['update']['action']}), then ACTIVE: "
        f"{after} GiB per broker"
    )
    session.expect(after == new_gib > before, f"volume {after} GiB, expected {new_gib} > {before}")
    session.say_notifications()
    tally.did.append(f"alarm grew {FILLING} {before} -> {after} GiB")

    # After the resize the disk is far below the threshold: the alarm returns to OK...
    # (the same GiB used, now a smaller share of the volume)
    series(FILLING, [1, 3], finished, finished, a=52 * before / after, b=52 * before / after)
    series(FILLING, [2], finished, finished, a=78 * before / after, b=78 * before / after)
    for change in _evaluate_alarms(session, FILLING):
        answer = session.invoke("storage_scaler", change.event())
        say(
            f"CloudWatch: {change.alarm_name} ALARM -> OK; storage_scaler: {answer['status']}: "
            f"{answer['reason']}"
        )
    # ...until, four hours later, a bigger burst has filled the new volume past it too.
    session.control.clock.advance(4 * 3600)
    now = session.now() - timedelta(seconds=2)
    series(FILLING, [1, 3], finished, now, a=52 * before / after, b=55)
    series(FILLING, [2], finished, now, a=78 * before / after, b=80)
    say(
        f"4 h later, still within the 6 h cool-down, a bigger burst has {FILLING} broker 2 "
        f"at 80 % of {after} GiB"
    )
    again = _evaluate_alarms(session, FILLING)
    session.expect(len(again) == 1, f"broker 2's alarm should fire again, got {again}")
    held = session.invoke("storage_scaler", again[0].event())
    say(f"storage_scaler (alarm): {held['status']}: {held['reason']}")
    session.expect(
        held["status"] == "skipped" and "cool-down" in held["reason"],
        f"within the cool-down the alarm should change nothing: {held}",
    )
    session.expect(
        session.volume(FILLING) == after
        and len(session.operations(FILLING, "UPDATE_BROKER_STORAGE")) == 1,
        "a second storage update was started during the cool-down",
    )
    session.say_notifications()
    tally.did.append("repeat alarm held (cool-down)")
    session.result.numbers["storage"] = {"before_gib": before, "after_gib": after}


def _evaluate_alarms(session: DemoSession, cluster: str) -> list[AlarmTransition]:
    """CloudWatch's evaluation of the cluster's disk alarms at the emulator's time; says each
    alarm that fires."""
    from msk_autopilot_local.emulator import evaluate_alarms  # noqa: PLC0415

    environment = session.stack.function_environment("HealthMonitorFunction")
    changes = evaluate_alarms(
        region=session.region,
        account_id=session.stack.account,
        name_prefix=f"{environment['DISK_ALARM_PREFIX']}{cluster}-broker-",
    )
    for change in changes:
        if change.state == "ALARM":
            session.progress.say(
                f"CloudWatch: {change.alarm_name} {change.previous_state} -> ALARM "
                f"({change.datapoints[-1]:.1f} % >= {change.threshold:g} %)"
            )
    return changes
