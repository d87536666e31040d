"""The one call every cluster change passes: `Gatekeeper.check(cluster, operations, change)`.

It reads what the kind's gates need, judges them, and on a deferral logs it, counts it (metric
`Deferred.<gate>`) and notifies once per cluster and gate: the notice is remembered in the
idempotency table for a day, and forgotten as soon as a change of a kind that gate blocks is
admitted, so the next time that gate holds the cluster is news again. A deferred change is
retried by the function's next sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from msk_autopilot.aws import ClientFactory
from msk_autopilot.clock import now as clock_now
from msk_autopilot.health.change import ChangeKind
from msk_autopilot.health.gates import GateVerdict, evaluate, gates_for
from msk_autopilot.health.reading import HealthReader
from msk_autopilot.ledger import NoticeLedger
from msk_autopilot.msk import ClusterSnapshot, MskPort, Operation
from msk_autopilot.notify import Notifier
from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.outcome import Severity

__all__ = ["NAMESPACE", "Gatekeeper", "guarded_msk"]

NAMESPACE = "health-gates"
_REMIND_AFTER = timedelta(days=1)  # a cluster held for longer than this is told again


class Gatekeeper:
    def __init__(
        self,
        reader: HealthReader,
        ledger: NoticeLedger,
        notifier: Notifier,
        *,
        clock: Callable[[], datetime] = clock_now,
    ) -> None:
        self.reader = reader
        self.ledger = ledger
        self.notifier = notifier
        self.clock = clock

    def check(
        self, cluster: ClusterSnapshot, operations: Sequence[Operation], change: ChangeKind
    ) -> GateVerdict:
        gates = gates_for(change)
        now = self.clock()
        verdict = evaluate(self.reader.read(cluster, operations, gates, now=now), change)
        deferral = verdict.deferral
        arn = cluster.cluster_arn
        if deferral is None:
            self.ledger.forget(_key(arn, gate.id) for gate in gates)
            return verdict
        logger.info(
            "change deferred",
            extra={
                "cluster": arn,
                "change": change.value,
                "gate": deferral.gate,
                "reason": deferral.reason,
                "gates": verdict.to_dict()["gates"],
            },
        )
        metrics.add_metric(name=f"Deferred.{deferral.gate}", unit=MetricUnit.Count, value=1)
        if self.ledger.first(_key(arn, deferral.gate), now=now, window=_REMIND_AFTER):
            self.notifier.publish(
                f"{change.value} of {cluster.cluster_name} deferred by gate {deferral.gate}",
                {
                    "cluster": arn,
                    "change": change.value,
                    "gate": deferral.gate,
                    "reason": deferral.reason,
                    "gates": verdict.to_dict()["gates"],
                    "retry": "the next sweep tries again",
                },
                Severity.WARNING,
            )
        return verdict


def _key(cluster_arn: str, gate: str) -> str:
    return f"{cluster_arn}#{gate}"


class ClusterClients(Protocol):
    """Where clusters live: a `ClientFactory`, or an audit target in another account or Region."""

    def client(self, service: str) -> Any: ...


def guarded_msk(
    clients: ClientFactory,
    *,
    idempotency_table: str,
    notifier: Notifier,
    clusters: ClusterClients | None = None,
    clock: Callable[[], datetime] = clock_now,
) -> MskPort:
    """The MSK port every mutating function uses: its changes pass these health gates.

    MSK and CloudWatch are called through `clusters` (default `clients`); the notice ledger is
    the stack's own table, so it is always reached through `clients`. `clock` is the gates'
    "now" (the metric window's end): a function that decides at its event's time passes it.
    """
    source = clusters or clients
    kafka = source.client("kafka")
    reader = HealthReader(source.client("cloudwatch"))
    ledger = NoticeLedger(clients.client("dynamodb"), idempotency_table, NAMESPACE)
    return MskPort(kafka, Gatekeeper(reader, ledger, notifier, clock=clock))
