"""What the demo's steps share: the local account, the broker, the display, the result, and the
few helpers every step uses (invoking a function, reading a cluster, the notifications)."""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from msk_autopilot_local.demo.progress import Progress
from msk_autopilot_local.local_aws import LocalAws
from msk_autopilot_local.local_lambda import invoke_function

__all__ = [
    "COMPLIANT",
    "FILLING",
    "FUNCTIONS",
    "INSECURE",
    "QUIET",
    "DemoFailure",
    "DemoResult",
    "DemoSession",
    "FunctionTally",
]

COMPLIANT, FILLING, INSECURE = "orders", "clickstream", "legacy"
# The demo prints its own story; the functions' JSON logs and EMF lines would drown it.
QUIET = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}
FUNCTIONS = (
    "storage_scaler",
    "config_rotator",
    "scram_rotator",
    "security_auditor",
    "health_monitor",
)


class DemoFailure(Exception):
    """A step's expectation did not hold."""


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


class DemoSession:
    """The account, broker, display and result the steps share, with the helpers they use."""

    def __init__(
        self,
        *,
        account: LocalAws,
        broker: Any,
        progress: Progress,
        result: DemoResult,
        workdir: Path,
        records: int,
    ) -> None:
        from msk_autopilot_local.emulator import control  # noqa: PLC0415  moto is heavy

        self.stack, self.account, self.broker = account.stack, account, broker
        self.progress, self.result, self.workdir = progress, result, workdir
        self.record_count = records
        self.control = control
        self.region = account.region
        self.kafka = account.client("kafka")
        self.cloudwatch = account.client("cloudwatch")
        self.clusters = dict(account.clusters)
        self._inbox = self._subscribe_to_notifications()
        self._event_inbox = self._subscribe_to_operation_events()

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
        from msk_autopilot_local.emulator.events import scheduled_event  # noqa: PLC0415

        rule = f"arn:aws:events:{self.region}:{self.stack.account}:rule/msk-autopilot-demo"
        return scheduled_event(rule_arn=rule, time=self.now())

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

    def _subscribe_to_operation_events(self) -> str:
        """A queue behind a rule on the default bus for the monitor's events (source
        msk-autopilot), made before its first sweep so none is missed."""
        from msk_autopilot.health.operation_events import SOURCE  # noqa: PLC0415

        events, sqs = self.account.client("events"), self.account.client("sqs")
        queue = sqs.create_queue(QueueName="msk-autopilot-demo-events")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        events.put_rule(
            Name="msk-autopilot-demo-operations", EventPattern=json.dumps({"source": [SOURCE]})
        )
        events.put_targets(
            Rule="msk-autopilot-demo-operations",
            Targets=[{"Id": "inbox", "Arn": queue_arn["Attributes"]["QueueArn"]}],
        )
        return str(queue)

    def operation_events(self) -> list[dict[str, Any]]:
        """The operation state events the bus delivered since the last call."""
        return self._drain(self._event_inbox)

    def notifications(self) -> list[dict[str, Any]]:
        """What was published to the notification topic since the last call."""
        found = self._drain(self._inbox)
        self.result.numbers["notifications"] = self.result.numbers.get("notifications", 0) + len(
            found
        )
        return found

    def _drain(self, queue: str) -> list[dict[str, Any]]:
        sqs = self.account.client("sqs")
        found: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    def say_notifications(self, *, compact: bool = False) -> None:
        notices = [
            f"[{n.get('severity', '?')}] {n.get('subject', '')}" for n in self.notifications()
        ]
        if compact and notices:
            self.progress.say(f"SNS: {len(notices)} notifications: " + "; ".join(notices))
            return
        for notice in notices:
            self.progress.say(f"SNS {notice}")
