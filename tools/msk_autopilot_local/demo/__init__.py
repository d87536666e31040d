"""`msk-autopilot demo`: the whole autopilot end to end on this machine, no AWS account, no Docker.

It starts a local AWS account (`local-aws`: moto and the MSK emulator, in this process) and a
local Kafka broker (noida-db), both on free ports of 127.0.0.1, seeds `examples/fleet.yaml`
(a compliant cluster, an insecure one, one whose disks fill fast), then invokes the real
handlers with the events AWS would deliver, in seven steps:

1. local AWS and the broker;  2. the fleet;
3. storage: the sweep creates the disk alarms, the disks of clickstream rise, CloudWatch's
   alarm fires (evaluated here, since moto does not evaluate alarms), the scaler grows the
   volume; a second alarm within the 6-hour cool-down changes nothing;
4. configuration: `config push` uploads examples/configurations, clusters are tagged to follow
   `orders` (one canary), the rotator rolls it out one cluster at a time, canary first; a bad
   file is refused with its file:line problems and nothing uploaded;
5. SCRAM: the four rotation steps on AmazonMSK_orders_app, shared by two clusters;
6. audit: the `audit` table, remediation runs, the table again;
7. records: 10,000 orders (1 % poison) through the local event source mapping into the
   record consumer, the S3 archive and quarantine read back and counted.

Each step checks what it shows; a failed check is reported and the exit status is 1. Whatever
happens, the broker is stopped, the server shut down and the temporary files removed.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gzip
import hmac
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import textwrap
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from msk_autopilot_local.local_aws import LocalAws, local_aws, pointed_at, read_fleet
from msk_autopilot_local.local_lambda import invoke_function
from msk_autopilot_local.template.resolve import ResolvedTemplate, StackError, find_template

__all__ = ["DemoResult", "local_scram_authenticator", "register", "run_demo"]

DEFAULT_FLEET = Path("examples/fleet.yaml")  # relative to the template's folder
DEFAULT_RECORDS = 10_000
COMPLIANT, FILLING, INSECURE = "orders", "clickstream", "legacy"
CONFIGURATION = "orders"  # examples/configurations/orders.properties
SECRET = "AmazonMSK_orders_app"  # noqa: S105  the name orders' scramUsers seeds
TOPIC = "orders"
BROKER_LOG_GROUP = "/msk/broker-logs"
REMEDIATE = "MSK.2,MSK.4,AUTOPILOT.1,AUTOPILOT.3"
AUTHENTICATOR = "msk_autopilot_local.demo:local_scram_authenticator"
# The demo prints its own story; the functions' JSON logs and EMF lines would drown it.
QUIET = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}
FUNCTIONS = ("storage_scaler", "config_rotator", "scram_rotator", "security_auditor")
STEPS = 7
POISON_EVERY = 100  # 1 % of the records
_WIDTH = 110  # columns of wrapped text, after the indent
ORDER_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Order",
    "type": "object",
    "required": ["orderId", "customer", "amount", "currency"],
    "properties": {
        "orderId": {"type": "string"},
        "customer": {"type": "string"},
        "amount": {"type": "number", "minimum": 0},
        "currency": {"enum": ["EUR", "USD", "GBP"]},
        "items": {"type": "integer", "minimum": 1},
    },
}
# A configuration with a problem on most lines, as `config push` prints them.
BAD_CONFIGURATION = """\
# msk-autopilot:kafka-versions = 3.6.0
min.insync.replicas=two
log.retention.hours=168
log.retention.hours=72
broker.id=7
num.partitions=0
"""


class DemoFailure(Exception):
    """A step's expectation did not hold."""


# --- what the run found ------------------------------------------------------------------------


@dataclass
class FunctionTally:
    invocations: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    did: list[str] = field(default_factory=list)


@dataclass
class DemoResult:
    """What the demo did and measured; `failures` is empty when every expectation held."""

    failures: list[str] = field(default_factory=list)
    functions: dict[str, FunctionTally] = field(
        default_factory=lambda: {name: FunctionTally() for name in (*FUNCTIONS, "record_consumer")}
    )
    numbers: dict[str, Any] = field(default_factory=dict)
    endpoints: dict[str, Any] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures


# --- progress display --------------------------------------------------------------------------


class Progress:
    """Step headers with the elapsed time; on a terminal, a spinner while something runs."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.number = 0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def step(self, title: str) -> None:
        self.number += 1
        self.write(f"\n[{self.elapsed:5.1f}s] {self.number}/{STEPS}  {title}\n")

    def say(self, text: str = "", *, wrap: bool = True) -> None:
        """An indented line; a long one is wrapped, its continuation indented further."""
        for line in text.splitlines() or [""]:
            if not wrap or len(line) <= _WIDTH:
                self.write(f"         {line}".rstrip() + "\n")
                continue
            lead = " " * (len(line) - len(line.lstrip()))
            wrapped = textwrap.wrap(
                line,
                _WIDTH,
                subsequent_indent=lead + "    ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            self.write("".join(f"         {part}\n" for part in wrapped))

    def bad(self, text: str) -> None:
        self.write(f"  FAILED {text}\n")

    @contextlib.contextmanager
    def activity(self, label: str) -> Iterator[Callable[[str], None]]:
        """A spinner with `label` on a terminal (the yielded function changes it); nothing
        elsewhere."""
        if not self.tty:
            yield lambda _text: None
            return
        spinner = _Spinner(self, label)
        try:
            yield spinner.relabel
        finally:
            spinner.close()


class _Spinner:
    frames = "|/-\\"

    def __init__(self, progress: Progress, label: str) -> None:
        self.progress, self.label = progress, label
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, name="demo-spinner", daemon=True)
        self._thread.start()

    def relabel(self, label: str) -> None:
        self.label = label

    def _spin(self) -> None:
        frame = 0
        while not self._stop.wait(0.1):
            seconds = time.monotonic() - self.started
            self.progress.write(
                f"\r         {self.frames[frame % 4]} {self.label} ({seconds:.0f}s)\x1b[K"
            )
            frame += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.progress.write("\r\x1b[K")


# --- the local SASL/SCRAM brokers --------------------------------------------------------------


class _ScramBrokers:
    """What MSK does with associated secrets: at each sync, the brokers of every SASL/SCRAM
    cluster learn the AWSCURRENT credentials of the secrets associated with it. No broker runs
    SASL/SCRAM here, so `local_scram_authenticator` checks credentials against that."""

    def __init__(self) -> None:
        self.users_by_host: dict[str, dict[str, str]] = {}

    def sync(self, kafka: Any, secretsmanager: Any) -> None:
        self.users_by_host.clear()
        for info in kafka.list_clusters_v2()["ClusterInfoList"]:
            sasl = info.get("Provisioned", {}).get("ClientAuthentication", {}).get("Sasl", {})
            if not sasl.get("Scram", {}).get("Enabled"):
                continue
            arn = info["ClusterArn"]
            users: dict[str, str] = {}
            for secret_arn in kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"]:
                credentials = _current_value(secretsmanager, secret_arn)
                users[credentials["username"]] = credentials["password"]
            hosts = kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerStringSaslScram"]
            for endpoint in hosts.split(","):
                self.users_by_host[endpoint.rpartition(":")[0]] = users

    def accepts(self, bootstrap_brokers: str, username: str, password: str) -> bool:
        try:
            local_scram_authenticator(bootstrap_brokers, username, password)
        except (ConnectionError, PermissionError):
            return False
        return True


_SCRAM_BROKERS = _ScramBrokers()


def _current_value(secretsmanager: Any, secret_arn: str) -> dict[str, Any]:
    # The stage explicitly: moto's default version does not follow UpdateSecretVersionStage.
    value = secretsmanager.get_secret_value(SecretId=secret_arn, VersionStage="AWSCURRENT")
    document: dict[str, Any] = json.loads(value["SecretString"])
    return document


def local_scram_authenticator(bootstrap_brokers: str, username: str, password: str) -> None:
    """SCRAM_AUTHENTICATOR of the demo: every broker must know `username` with `password`, as
    of MSK's last sync. Raises like a refused handshake; never echoes the password."""
    for endpoint in bootstrap_brokers.split(","):
        users = _SCRAM_BROKERS.users_by_host.get(endpoint.rpartition(":")[0])
        if users is None:
            raise ConnectionError(f"{endpoint}: no broker answers")
        known = users.get(username)
        if known is None or not hmac.compare_digest(known.encode(), password.encode()):
            raise PermissionError(f"{endpoint}: authentication failed for user {username}")


# --- the demo ----------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _alarm_timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class Demo:
    """The steps, sharing the account, the broker, the display and the result."""

    def __init__(
        self,
        *,
        stack: ResolvedTemplate,
        account: LocalAws,
        broker: Any,
        progress: Progress,
        result: DemoResult,
        workdir: Path,
        records: int,
    ) -> None:
        from msk_autopilot_local.emulator import control  # noqa: PLC0415  moto is heavy

        self.stack, self.account, self.broker = stack, account, broker
        self.progress, self.result, self.workdir = progress, result, workdir
        self.record_count = records
        self.control = control
        self.region = stack.region
        self.kafka = account.client("kafka")
        self.cloudwatch = account.client("cloudwatch")
        self.clusters = dict(account.clusters)
        self.sample_events: dict[str, dict[str, Any]] = {
            name: json.loads((stack.root / "events" / f"{name}.json").read_text(encoding="utf-8"))
            for name in ("scheduled_event", "parameter_store_change")
        }
        self._inbox = self._subscribe_to_notifications()

    # --- helpers ---------------------------------------------------------------------------

    def expect(self, condition: bool, message: str) -> None:
        if not condition:
            raise DemoFailure(message)

    def invoke(self, function: str, event: Any, **environment: str) -> dict[str, Any]:
        """Cold-start `function` on `event` like Lambda; its stdout (EMF) is kept off screen."""
        tally = self.result.functions[function]
        tally.invocations += 1
        with contextlib.redirect_stdout(io.StringIO()):
            answer = invoke_function(
                function, event, stack=self.stack, env_overrides={**QUIET, **environment}
            )
        result: dict[str, Any] = answer
        tally.statuses[str(result.get("status", "?"))] += 1
        return result

    def now(self) -> datetime:
        return self.control.clock.now()

    def scheduled_event(self) -> dict[str, Any]:
        event = copy.deepcopy(self.sample_events["scheduled_event"])
        event.update(id=str(uuid.uuid4()), time=_iso(self.now()))
        return event

    def cluster_info(self, name: str) -> dict[str, Any]:
        info: dict[str, Any] = self.kafka.describe_cluster_v2(ClusterArn=self.clusters[name])[
            "ClusterInfo"
        ]
        return info

    def volume(self, name: str) -> int:
        group = self.cluster_info(name)["Provisioned"]["BrokerNodeGroupInfo"]
        return int(group["StorageInfo"]["EbsStorageInfo"]["VolumeSize"])

    def operations(self, name: str, kind: str | None = None) -> list[dict[str, Any]]:
        listed = self.kafka.list_cluster_operations_v2(ClusterArn=self.clusters[name])
        operations: list[dict[str, Any]] = listed["ClusterOperationInfoList"]
        return [op for op in operations if kind is None or op["OperationType"] == kind]

    def _subscribe_to_notifications(self) -> str:
        sns, sqs = self.account.client("sns"), self.account.client("sqs")
        environment = self.stack.function_environment("StorageScalerFunction")
        queue = sqs.create_queue(QueueName="msk-autopilot-demo-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=environment["NOTIFICATION_TOPIC_ARN"],
            Protocol="sqs",
            Endpoint=queue_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        return str(queue)

    def notifications(self) -> list[dict[str, Any]]:
        """What the functions published to the notification topic since the last call."""
        sqs = self.account.client("sqs")
        found: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self._inbox, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                self.result.numbers["notifications"] = self.result.numbers.get(
                    "notifications", 0
                ) + len(found)
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self._inbox, ReceiptHandle=message["ReceiptHandle"])

    def say_notifications(self, *, compact: bool = False) -> None:
        notices = [
            f"[{n.get('severity', '?')}] {n.get('subject', '')}" for n in self.notifications()
        ]
        if compact and notices:
            self.progress.say(f"SNS: {len(notices)} notifications: " + "; ".join(notices))
            return
        for notice in notices:
            self.progress.say(f"SNS {notice}")

    # --- 2. the fleet ----------------------------------------------------------------------

    def describe_fleet(self) -> None:
        say = self.progress.say
        for name, role in (
            (COMPLIANT, "compliant"),
            (FILLING, "disk filling"),
            (INSECURE, "insecure"),
        ):
            info = self.cluster_info(name)["Provisioned"]
            group = info["BrokerNodeGroupInfo"]
            volume = group["StorageInfo"]["EbsStorageInfo"]["VolumeSize"]
            public = group.get("ConnectivityInfo", {}).get("PublicAccess", {}).get("Type")
            logs = info.get("LoggingInfo", {}).get("BrokerLogs", {})
            sasl = info["ClientAuthentication"]["Sasl"]
            traits = [
                f"{info['NumberOfBrokerNodes']} brokers x {volume} GiB",
                "+".join(k.upper() for k in ("Iam", "Scram") if sasl.get(k, {}).get("Enabled")),
                str(info["EnhancedMonitoring"]),
                "broker logs" if logs.get("CloudWatchLogs", {}).get("Enabled") else "no logs",
                "PUBLIC access" if public not in (None, "DISABLED") else "private",
            ]
            say(f"{name:<12} {role:<13} {', '.join(traits)}")
        self.expect(len(self.clusters) == 3, f"expected 3 clusters, seeded {sorted(self.clusters)}")

    # --- 3. storage ------------------------------------------------------------------------

    def storage(self) -> None:  # noqa: PLR0915  one story, told in order
        from msk_autopilot_local.emulator import put_linear_series  # noqa: PLC0415

        say, tally = self.progress.say, self.result.functions["storage_scaler"]
        environment = self.stack.function_environment("StorageScalerFunction")
        prefix = environment["DISK_ALARM_PREFIX"]
        threshold = float(environment["DISK_ALARM_THRESHOLD_PERCENT"])
        # Datapoints end just before the events' time (whole seconds), so every read sees them.
        now = self.now() - timedelta(seconds=2)

        def series(
            name: str, brokers: list[int], start: datetime, end: datetime, *, a: float, b: float
        ) -> None:
            put_linear_series(
                self.cloudwatch,
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
        sweep = self.invoke("storage_scaler", self.scheduled_event())
        created = sweep["details"]["alarms"]["created"]
        say(f"sweep (Scheduled Event): {sweep['status']}: {sweep['reason']}")
        say(
            f"  created {len(created)} disk alarms {prefix}<cluster>-broker-<id>, "
            f"at {threshold:g} %"
        )
        self.expect(len(created) == 8, f"the sweep should create 8 disk alarms, created {created}")
        self.expect(
            not self.operations(FILLING), "the sweep should not grow clickstream before the burst"
        )
        tally.did.append(f"sweep created {len(created)} disk alarms")

        # A burst: clickstream's broker 2 goes from 33 % to 78 % in three hours.
        start = now
        self.control.clock.advance(3 * 3600)
        now = self.now() - timedelta(seconds=2)
        series(COMPLIANT, [1, 2, 3], start, now, a=36, b=36)
        series(INSECURE, [1, 2], start, now, a=22, b=22)
        series(FILLING, [1, 3], start, now, a=33, b=52)
        series(FILLING, [2], start, now, a=33, b=78)
        hourly = [33 + (78 - 33) * hour / 3 for hour in range(4)]
        say("(moto keeps alarms but does not evaluate them: the demo plays CloudWatch's part)")
        say(
            f"{FILLING} broker 2 disk used, hourly: "
            + " -> ".join(f"{value:.0f} %" for value in hourly)
        )
        changes = self.evaluate_alarms(FILLING)
        self.expect(
            [name for name, _ in changes] == [f"{prefix}{FILLING}-broker-2"],
            f"only broker 2's alarm should fire, got {[name for name, _ in changes]}",
        )
        before = self.volume(FILLING)
        grown = self.invoke("storage_scaler", changes[0][1])
        decision = grown["details"].get("decision", {})
        say(f"storage_scaler (alarm): {grown['status']}: {grown['reason']}")
        self.expect(grown["status"] == "acted", f"the alarm should grow clickstream: {grown}")
        new_gib = int(decision["new_gib"])
        state = self.cluster_info(FILLING)["State"]
        finished = self.control.complete_operations()
        after = self.volume(FILLING)
        say(
            f"MSK: {FILLING} {state} ({grown['details']['update']['action']}), then ACTIVE: "
            f"{after} GiB per broker"
        )
        self.expect(after == new_gib > before, f"volume {after} GiB, expected {new_gib} > {before}")
        self.say_notifications()
        tally.did.append(f"alarm grew {FILLING} {before} -> {after} GiB")

        # After the resize the disk is far below the threshold: the alarm returns to OK...
        # (the same GiB used, now a smaller share of the volume)
        series(FILLING, [1, 3], finished, finished, a=52 * before / after, b=52 * before / after)
        series(FILLING, [2], finished, finished, a=78 * before / after, b=78 * before / after)
        recovered = self.evaluate_alarms(FILLING)
        for name, event in recovered:
            answer = self.invoke("storage_scaler", event)
            say(
                f"CloudWatch: {name} ALARM -> OK; storage_scaler: {answer['status']}: "
                f"{answer['reason']}"
            )
        # ...until, four hours later, a bigger burst has filled the new volume past it too.
        self.control.clock.advance(4 * 3600)
        now = self.now() - timedelta(seconds=2)
        series(FILLING, [1, 3], finished, now, a=52 * before / after, b=55)
        series(FILLING, [2], finished, now, a=78 * before / after, b=80)
        say(
            f"4 h later, still within the 6 h cool-down, a bigger burst has {FILLING} broker 2 "
            f"at 80 % of {after} GiB"
        )
        again = self.evaluate_alarms(FILLING)
        self.expect(len(again) == 1, f"broker 2's alarm should fire again, got {again}")
        held = self.invoke("storage_scaler", again[0][1])
        say(f"storage_scaler (alarm): {held['status']}: {held['reason']}")
        self.expect(
            held["status"] == "skipped" and "cool-down" in held["reason"],
            f"within the cool-down the alarm should change nothing: {held}",
        )
        self.expect(
            self.volume(FILLING) == after
            and len(self.operations(FILLING, "UPDATE_BROKER_STORAGE")) == 1,
            "a second storage update was started during the cool-down",
        )
        self.say_notifications()
        tally.did.append("repeat alarm held (cool-down)")
        self.result.numbers["storage"] = {"before_gib": before, "after_gib": after}

    def evaluate_alarms(self, cluster: str) -> list[tuple[str, dict[str, Any]]]:
        """CloudWatch's part, which moto does not play: evaluate the cluster's disk alarms on
        the latest datapoint at the emulator's time, set their state, and return the
        EventBridge events of the alarms whose state changed."""
        environment = self.stack.function_environment("StorageScalerFunction")
        prefix = f"{environment['DISK_ALARM_PREFIX']}{cluster}-broker-"
        now = self.now()
        changed = []
        for alarm in self.cloudwatch.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]:
            points = self.cloudwatch.get_metric_statistics(
                Namespace=alarm["Namespace"],
                MetricName=alarm["MetricName"],
                Dimensions=alarm["Dimensions"],
                StartTime=now
                - timedelta(seconds=alarm["Period"] * alarm["EvaluationPeriods"] + 60),
                EndTime=now + timedelta(seconds=1),
                Period=alarm["Period"],
                Statistics=[alarm["Statistic"]],
            )["Datapoints"]
            if not points:
                continue
            latest = max(points, key=lambda point: point["Timestamp"])[alarm["Statistic"]]
            breaching = latest >= alarm["Threshold"]
            state = "ALARM" if breaching else "OK"
            if state == alarm["StateValue"]:
                continue
            relation = "greater than or equal to" if breaching else "not greater than or equal to"
            reason = (
                f"Threshold Crossed: 1 out of the last 1 datapoints [{latest:.1f}] was {relation} "
                f"the threshold ({alarm['Threshold']:.1f})"
            )
            reason_data = {
                "version": "1.0",
                "queryDate": _alarm_timestamp(now),
                "statistic": alarm["Statistic"],
                "period": alarm["Period"],
                "recentDatapoints": [round(latest, 2)],
                "threshold": alarm["Threshold"],
            }
            self.cloudwatch.set_alarm_state(
                AlarmName=alarm["AlarmName"],
                StateValue=state,
                StateReason=reason,
                StateReasonData=json.dumps(reason_data),
            )
            if breaching:
                self.progress.say(
                    f"CloudWatch: {alarm['AlarmName']} {alarm['StateValue']} -> ALARM "
                    f"({latest:.1f} % >= {alarm['Threshold']:g} %)"
                )
            event = _alarm_event(
                alarm,
                state=state,
                reason=reason,
                reason_data=reason_data,
                now=now,
                stack=self.stack,
            )
            changed.append((str(alarm["AlarmName"]), event))
        return changed

    # --- 4. configuration ------------------------------------------------------------------

    def configuration(self) -> None:
        from msk_autopilot_local.cli import main  # noqa: PLC0415  (cli imports this module)

        say, tally = self.progress.say, self.result.functions["config_rotator"]
        ssm = self.account.client("ssm")
        prefix = self.stack.function_environment("ConfigRotatorFunction")["CONFIG_PARAMETER_PREFIX"]
        folder = self.stack.root / "examples" / "configurations"
        code, out, err = _run_cli(main, ["config", "push", str(folder), "--region", self.region])
        say(f"$ msk-autopilot config push examples/configurations  (exit {code})")
        for line in out.splitlines():
            say("  " + line.replace(str(self.stack.root) + os.sep, ""))
        self.expect(code == 0, f"config push failed: {err.strip()}")

        tags = self.stack.function_environment("ConfigRotatorFunction")["CONFIG_TAG_KEY"]
        followers = (FILLING, INSECURE, COMPLIANT)
        for name in followers:
            extra = {"msk-autopilot:canary": "true"} if name == COMPLIANT else {}
            self.kafka.tag_resource(
                ResourceArn=self.clusters[name], Tags={tags: CONFIGURATION, **extra}
            )
        say(
            f"tagged {', '.join(followers)} {tags}={CONFIGURATION}; "
            f"{COMPLIANT} also msk-autopilot:canary=true"
        )

        started: list[str] = []
        report: dict[str, Any] = {}
        for run in range(1, 8):
            answer = self.invoke("config_rotator", self.parameter_event(prefix + CONFIGURATION))
            report = answer["details"]["configurations"][CONFIGURATION]
            actions = [
                a
                for c in answer["details"]["configurations"].values()
                for a in c.get("actions", [])
            ]
            say(
                f"run {run} (Parameter Store Change): {report['state']}"
                + (f": {'; '.join(actions)}" if actions else f": {report.get('reason', '')}")
            )
            started += [a.split()[3] for a in actions if a.startswith("started update of ")]
            if report["state"] not in ("updating", "waiting"):
                break
            self.control.complete_operations()
        order = report.get("order", [])
        self.expect(report.get("state") == "complete", f"the rollout did not complete: {report}")
        self.expect(
            started == order and order[:1] == [COMPLIANT],
            f"expected the canary {COMPLIANT} first, one at a time; updates went {started}",
        )
        revision = report.get("revision")
        for name in followers:
            software = self.cluster_info(name)["Provisioned"]["CurrentBrokerSoftwareInfo"]
            self.expect(
                f"msk-autopilot-{CONFIGURATION}/" in software.get("ConfigurationArn", "")
                and software.get("ConfigurationRevision") == revision,
                f"{name} does not run msk-autopilot-orders revision {revision}",
            )
        say(
            f"every follower runs msk-autopilot-{CONFIGURATION} revision {revision}, "
            f"updated in order {' -> '.join(order)}"
        )
        self.say_notifications(compact=True)
        tally.did.append(f"rolled {CONFIGURATION} out to {len(order)} clusters, canary first")

        # A bad file: every problem as file:line, nothing uploaded.
        bad = self.workdir / "bad-configurations"
        bad.mkdir()
        (bad / f"{CONFIGURATION}.properties").write_text(BAD_CONFIGURATION, encoding="utf-8")
        parameter = prefix + CONFIGURATION
        version = ssm.get_parameter(Name=parameter)["Parameter"]["Version"]
        revisions = self.revisions(f"msk-autopilot-{CONFIGURATION}")
        code, out, err = _run_cli(main, ["config", "push", str(bad), "--region", self.region])
        say(f"$ msk-autopilot config push bad-configurations  (exit {code})")
        problems = [line for line in err.splitlines() if line.strip()]
        for line in problems:
            say("  " + line.replace(str(self.workdir) + os.sep, ""))
        self.expect(code == 1 and len(problems) > 1, f"the bad file was not refused: {out}{err}")
        unchanged = (
            ssm.get_parameter(Name=parameter)["Parameter"]["Version"] == version
            and self.revisions(f"msk-autopilot-{CONFIGURATION}") == revisions
        )
        self.expect(unchanged, "the refused configuration changed Parameter Store or MSK")
        say(
            f"nothing uploaded: {parameter} still version {version}, MSK still revision {revisions}"
        )
        self.result.numbers["config"] = {
            "order": order,
            "revision": revision,
            "bad_problems": len(problems) - 1,
        }

    def parameter_event(self, name: str) -> dict[str, Any]:
        event = copy.deepcopy(self.sample_events["parameter_store_change"])
        event.update(
            id=str(uuid.uuid4()),
            time=_iso(self.now()),
            resources=[f"arn:aws:ssm:{self.region}:{self.stack.account}:parameter{name}"],
        )
        event["detail"].update(name=name, operation="Update", description="")
        return event

    def revisions(self, configuration: str) -> int:
        for item in self.kafka.list_configurations()["Configurations"]:
            if item["Name"] == configuration:
                return int(item["LatestRevision"]["Revision"])
        return 0

    # --- 5. SCRAM --------------------------------------------------------------------------

    def scram(self) -> None:
        from msk_autopilot_local.emulator import start_rotation  # noqa: PLC0415  moto is heavy

        say, tally = self.progress.say, self.result.functions["scram_rotator"]
        secrets = self.account.client("secretsmanager")
        secret_arn = secrets.describe_secret(SecretId=SECRET)["ARN"]
        self.kafka.tag_resource(
            ResourceArn=self.clusters[FILLING], Tags={"msk-autopilot:scram-secrets": SECRET}
        )
        say(
            f"{SECRET} is associated with {COMPLIANT}; {FILLING} is tagged "
            f"msk-autopilot:scram-secrets={SECRET}"
        )
        say(
            "no broker runs SASL/SCRAM here, so testSecret's handshake goes to a local "
            f"authenticator (SCRAM_AUTHENTICATOR={AUTHENTICATOR}) that checks the credentials "
            "MSK last synced to each cluster's brokers (the AWSCURRENT value of its associated "
            "secrets)"
        )
        _SCRAM_BROKERS.sync(self.kafka, secrets)
        current = _current_value(secrets, secret_arn)
        token = start_rotation(secret_arn)
        say(
            f"Secrets Manager starts a rotation (played by the demo): version {token[:8]}... is "
            "AWSPENDING; then it invokes the four steps:"
        )
        outcomes: dict[str, dict[str, Any]] = {}
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            event = {"Step": step, "SecretId": secret_arn, "ClientRequestToken": token}
            answer = self.invoke("scram_rotator", event, SCRAM_AUTHENTICATOR=AUTHENTICATOR)
            outcomes[step] = answer
            say(f"{step:<13} {answer['status']}: {answer['reason']}")
            if step == "setSecret":
                _SCRAM_BROKERS.sync(self.kafka, secrets)
                say("MSK syncs the associated secrets to the brokers")
        self.expect(
            [outcomes[s]["status"] for s in outcomes] == ["acted", "acted", "unchanged", "acted"],
            f"unexpected rotation outcomes: { {s: o['status'] for s, o in outcomes.items()} }",
        )
        clusters = sorted(outcomes["testSecret"]["details"]["clusters"])
        self.expect(clusters == sorted([COMPLIANT, FILLING]), f"tested on {clusters}")
        rotated = _current_value(secrets, secret_arn)
        self.expect(
            rotated["username"] == current["username"]
            and rotated["password"] != current["password"],
            "AWSCURRENT should keep the username with a new password",
        )
        _SCRAM_BROKERS.sync(self.kafka, secrets)
        brokers = {
            name: self.kafka.get_bootstrap_brokers(ClusterArn=self.clusters[name])[
                "BootstrapBrokerStringSaslScram"
            ]
            for name in clusters
        }
        new_ok = all(
            _SCRAM_BROKERS.accepts(hosts, rotated["username"], rotated["password"])
            for hosts in brokers.values()
        )
        old_refused = not any(
            _SCRAM_BROKERS.accepts(hosts, current["username"], current["password"])
            for hosts in brokers.values()
        )
        self.expect(
            new_ok and old_refused, "after the sync the brokers should take only the new password"
        )
        say(
            f"after MSK's next sync, {' and '.join(clusters)} accept user {rotated['username']} "
            "with the new password only"
        )
        self.say_notifications()
        tally.did.append(f"rotated {SECRET} on {len(clusters)} clusters")
        self.result.numbers["scram"] = {"clusters": clusters, "rotated": True}

    # --- 6. audit --------------------------------------------------------------------------

    def audit(self) -> None:
        from msk_autopilot_local.cli import main  # noqa: PLC0415

        say, tally = self.progress.say, self.result.functions["security_auditor"]
        self.account.client("logs").create_log_group(logGroupName=BROKER_LOG_GROUP)
        code, table, _ = _run_cli(main, ["audit", "--region", self.region])
        say(f"$ msk-autopilot audit  (before; exit {code})")
        for line in table.rstrip().splitlines():
            say("  " + line, wrap=False)
        failed_before = _failed_findings(table)
        say(
            f"security_auditor runs with REMEDIATE_CONTROLS={REMEDIATE}, "
            f"BROKER_LOG_GROUP={BROKER_LOG_GROUP}:"
        )
        fixed: list[str] = []
        for run in range(1, 8):
            answer = self.invoke(
                "security_auditor",
                self.scheduled_event(),
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
            self.control.complete_operations()
        code, table, _ = _run_cli(main, ["audit", "--region", self.region])
        say(f"$ msk-autopilot audit  (after; exit {code})")
        for line in table.rstrip().splitlines():
            say("  " + line, wrap=False)
        failed_after = _failed_findings(table)
        self.expect(
            {f"{INSECURE} MSK.4", f"{INSECURE} MSK.2", f"{INSECURE} AUTOPILOT.3"} <= set(fixed),
            f"expected MSK.4, AUTOPILOT.3 and MSK.2 fixed on {INSECURE}, fixed {fixed}",
        )
        self.expect(
            failed_after == failed_before - len(fixed),
            f"failed findings went {failed_before} -> {failed_after} with {len(fixed)} fixes",
        )
        self.say_notifications()
        tally.did.append(
            f"failed findings {failed_before} -> {failed_after}; fixed {', '.join(fixed)}"
        )
        self.result.numbers["audit"] = {
            "failed_before": failed_before,
            "failed_after": failed_after,
            "fixed": fixed,
        }

    # --- 7. records ------------------------------------------------------------------------

    def records(self) -> None:
        from msk_autopilot_local.esm import PollerConfig, run_poller  # noqa: PLC0415

        say, tally = self.progress.say, self.result.functions["record_consumer"]
        environment = self.stack.function_environment("RecordConsumerFunction")
        archive, failures = environment["ARCHIVE_BUCKET"], environment["FAILURE_BUCKET"]
        schema = self.workdir / "order.schema.json"
        schema.write_text(json.dumps(ORDER_SCHEMA, indent=1), encoding="utf-8")
        poison = _produce(self.broker.bootstrap_servers, self.record_count, self.progress)
        say(
            f"produced {self.record_count:,} orders to topic {TOPIC} (3 partitions) on the local "
            f"broker, {poison} of them poison (half not JSON, half against the JSON Schema)"
        )
        config = PollerConfig(
            bootstrap_servers=self.broker.bootstrap_servers,
            topics=(TOPIC,),
            function="record_consumer",
            template=self.stack.template_path,
            env_vars={
                **QUIET,
                "VALUE_FORMAT": "json",
                "VALUE_SCHEMA": str(schema),
            },
            group_id="msk-autopilot-record-consumer",
            cluster_arn=self.clusters[COMPLIANT],
            batch_size=1000,
            batching_window=0.2,
            until_idle=1.5,
            max_retries=2,
            on_failure=f"s3://{failures}/esm-on-failure",
            kafka_config={"session.timeout.ms": 6000},
        )
        say(
            "the local event source mapping (msk-autopilot esm) invokes record_consumer with "
            "VALUE_FORMAT=json and a JSON Schema, up to 1,000 records a batch"
        )
        status: TextIO = self.progress.out if self.progress.tty else io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()):
            summary = run_poller(config, status_stream=status)
        tally.invocations += summary.invocations
        tally.statuses.update(ok=summary.invocations - summary.failures, failed=summary.failures)
        tally.statuses = +tally.statuses  # no zero counts
        say(f"esm: {summary.status_line().removeprefix('esm: ')}")
        archived, quarantined, reasons = _read_back(self.account.client("s3"), archive, failures)
        say(
            f"read back from S3: {archived:,} lines in s3://{archive}/ + {quarantined:,} in "
            f"s3://{failures}/quarantine/ = {archived + quarantined:,} "
            f"(produced {self.record_count:,})"
        )
        for reason, count in reasons.most_common(2):
            say(f"  quarantined x{count}: {reason[:100]}")
        self.expect(summary.exit_code == 0, f"the event source mapping failed: {summary.error}")
        self.expect(
            summary.records_succeeded == self.record_count and summary.records_to_destination == 0,
            f"esm handled {summary.records_succeeded:,} of {self.record_count:,} records, "
            f"{summary.records_to_destination} sent to the on-failure destination",
        )
        self.expect(
            archived + quarantined == self.record_count and quarantined == poison,
            f"counts do not add up: {archived:,} archived + {quarantined:,} quarantined != "
            f"{self.record_count:,} produced (poison {poison})",
        )
        tally.did.append(f"{archived:,} records archived, {quarantined} quarantined as poison")
        self.result.numbers["records"] = {
            "produced": self.record_count,
            "poison": poison,
            "archived": archived,
            "quarantined": quarantined,
            "esm_succeeded": summary.records_succeeded,
            "batches": summary.invocations,
        }


def _alarm_event(
    alarm: Mapping[str, Any],
    *,
    state: str,
    reason: str,
    reason_data: Mapping[str, Any],
    now: datetime,
    stack: ResolvedTemplate,
) -> dict[str, Any]:
    """The EventBridge event CloudWatch sends when `alarm` changes state."""
    previous = str(alarm["StateValue"])
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": stack.account,
        "time": _iso(now),
        "region": stack.region,
        "resources": [alarm["AlarmArn"]],
        "detail": {
            "alarmName": alarm["AlarmName"],
            "state": {
                "value": state,
                "reason": reason,
                "reasonData": json.dumps(reason_data),
                "timestamp": _alarm_timestamp(now),
            },
            "previousState": {
                "value": previous,
                "reason": alarm.get("StateReason", ""),
                "timestamp": _alarm_timestamp(alarm["StateUpdatedTimestamp"]),
            },
            "configuration": {
                "description": alarm.get("AlarmDescription", ""),
                "metrics": [
                    {
                        "id": uuid.uuid4().hex[:12],
                        "metricStat": {
                            "metric": {
                                "namespace": alarm["Namespace"],
                                "name": alarm["MetricName"],
                                "dimensions": {d["Name"]: d["Value"] for d in alarm["Dimensions"]},
                            },
                            "period": alarm["Period"],
                            "stat": alarm["Statistic"],
                        },
                        "returnData": True,
                    }
                ],
            },
        },
    }


def _run_cli(main: Callable[[list[str]], int], argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _failed_findings(table: str) -> int:
    """The number of FAILED findings in the `audit` table."""
    return sum(" FAILED " in line for line in table.splitlines())


def _order_value(index: int) -> bytes:
    if index % POISON_EVERY == POISON_EVERY // 2:
        if (index // POISON_EVERY) % 2:
            return b'{"orderId": "o-%d", "amount": ' % index  # cut short: not JSON
        wrong = {"orderId": f"o-{index}", "customer": "c-1", "amount": -5, "currency": "DOGE"}
        return json.dumps(wrong).encode()  # JSON, but against the schema
    order = {
        "orderId": f"o-{index}",
        "customer": f"c-{index % 97}",
        "amount": round(5 + (index % 500) * 1.37, 2),
        "currency": ("EUR", "USD", "GBP")[index % 3],
        "items": 1 + index % 4,
    }
    return json.dumps(order).encode()


def _produce(bootstrap: str, count: int, progress: Progress) -> int:
    """Create the topic and produce `count` orders; returns how many are poison."""
    from confluent_kafka import Producer  # noqa: PLC0415
    from confluent_kafka.admin import AdminClient  # noqa: PLC0415
    from confluent_kafka.cimpl import NewTopic  # noqa: PLC0415

    quiet: dict[str, str | int | float | bool] = {"bootstrap.servers": bootstrap, "log_level": 0}
    admin = AdminClient(quiet)
    admin.create_topics([NewTopic(TOPIC, 3, 1)])[TOPIC].result(timeout=15)
    producer = Producer({**quiet, "linger.ms": 20, "enable.idempotence": False})
    errors: list[str] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            errors.append(str(error))

    poison = 0
    with progress.activity("producing") as relabel:
        for index in range(count):
            value = _order_value(index)
            poison += index % POISON_EVERY == POISON_EVERY // 2
            producer.produce(
                TOPIC, key=f"c-{index % 97}".encode(), value=value, on_delivery=delivered
            )
            if index % 1000 == 0:
                producer.poll(0)
                relabel(f"producing {index:,}/{count:,}")
        left = producer.flush(30)
    if left or errors:
        raise DemoFailure(f"{left} records not delivered to the broker; errors: {errors[:3]}")
    return poison


def _read_back(s3: Any, archive: str, failures: str) -> tuple[int, int, Counter[str]]:
    """Lines archived, lines quarantined, and the quarantine reasons, read from S3."""

    def lines(bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                for line in gzip.decompress(body).splitlines():
                    yield json.loads(line)

    archived = sum(1 for _ in lines(archive, f"topic={TOPIC}/"))
    reasons: Counter[str] = Counter()
    for line in lines(failures, "quarantine/"):
        reasons[str(line.get("reason", "?"))] += 1
    return archived, sum(reasons.values()), reasons


# --- running it --------------------------------------------------------------------------------


def _account_resources(account: LocalAws, fleet: Mapping[str, Any]) -> dict[str, Any]:
    """The fleet with what only exists once an account does: a customer managed key for the
    compliant clusters' data at rest, a closed security group for them and an open one for the
    insecure cluster."""
    kms, ec2 = account.client("kms"), account.client("ec2")
    key = kms.create_key(Description="msk-autopilot demo: MSK data at rest")["KeyMetadata"]["Arn"]
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]

    def group(name: str, cidr: str) -> str:
        group_id = str(
            ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        )
        ec2.authorize_security_group_ingress(
            GroupId=group_id,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 9092,
                    "ToPort": 9098,
                    "IpRanges": [{"CidrIp": cidr}],
                }
            ],
        )
        return group_id

    closed, open_ = group("msk-private", "10.0.0.0/8"), group("msk-public", "0.0.0.0/0")
    clusters = []
    for original in fleet.get("clusters", []):
        spec = copy.deepcopy(dict(original))
        if spec["name"] == INSECURE:
            spec["securityGroups"] = [open_]
        elif not spec.get("serverless"):
            spec["securityGroups"] = [closed]
            spec.setdefault("encryption", {})["kmsKeyId"] = key
        clusters.append(spec)
    return {**fleet, "clusters": clusters}


def run_demo(
    stack: ResolvedTemplate,
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
                stack,
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
    stack: ResolvedTemplate,
    *,
    progress: Progress,
    result: DemoResult,
    workdir: Path,
    records: int,
    fleet_path: Path | None,
) -> None:
    from msk_autopilot_local.broker import local_broker  # noqa: PLC0415
    from msk_autopilot_local.emulator import control  # noqa: PLC0415

    fleet_path = fleet_path or stack.root / DEFAULT_FLEET
    fleet = read_fleet(fleet_path)
    progress.step("Local AWS and a Kafka broker")
    with contextlib.ExitStack() as stack_of_things:
        with progress.activity("starting local-aws and noida-db"):
            account = stack_of_things.enter_context(local_aws(stack))
            stack_of_things.callback(_SCRAM_BROKERS.users_by_host.clear)  # passwords
            broker = stack_of_things.enter_context(local_broker())
        stack_of_things.enter_context(pointed_at(account))
        result.endpoints = {
            "aws": account.endpoint_url,
            "broker": broker.bootstrap_servers,
            "broker_pid": broker.pid,
        }
        progress.say(
            f"local-aws  {account.endpoint_url}  (moto + the MSK emulator, in this process)"
        )
        progress.say(f"broker     {broker.bootstrap_servers}  (noida-db, pid {broker.pid})")

        progress.step(f"Fleet ({_shown(fleet_path, stack.root)})")
        with progress.activity("seeding"):
            from msk_autopilot_local.emulator import seed_fleet  # noqa: PLC0415

            seeded = seed_fleet(
                {name: account.client(name) for name in ("kafka", "kms", "secretsmanager")},
                _account_resources(account, fleet),
            )
        account.clusters = seeded.clusters
        demo = Demo(
            stack=stack,
            account=account,
            broker=broker,
            progress=progress,
            result=result,
            workdir=workdir,
            records=records,
        )
        _attempt("Fleet", demo.describe_fleet, result, progress)
        steps: list[tuple[str, Callable[[], None]]] = [
            ("Storage autopilot: a disk filling fast", demo.storage),
            ("Configuration as code: canary first, bad files refused", demo.configuration),
            ("SCRAM secret rotation across two clusters", demo.scram),
            ("Security audit and auto-remediation", demo.audit),
            (f"{records:,} records through the event source mapping", demo.records),
        ]
        for title, run in steps:
            progress.step(title)
            control.complete_operations()  # a failed step may have left one running
            _attempt(title, run, result, progress)


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


def _run(args: argparse.Namespace) -> int:
    try:
        stack = ResolvedTemplate(Path(args.template) if args.template else find_template())
        result = run_demo(stack, records=args.records)
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0 if result.ok else 1


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the autopilot end to end on this machine",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--template", "-t", help="SAM template (default: nearest template.yaml)")
    parser.add_argument(
        "--records",
        type=_positive,
        default=DEFAULT_RECORDS,
        help="records to produce and consume (default %(default)s)",
    )
    parser.set_defaults(func=_run)
