"""Counting and deciding: per-operation counters, the log of injected faults, and the state that
decides, under one lock, whether the n-th request of an operation gets a fault."""

from __future__ import annotations

import fnmatch
import random
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from msk_autopilot_local.faults.identify import RequestIdentity
from msk_autopilot_local.faults.plan import FaultKind, FaultPlan

__all__ = ["Decision", "FaultState", "InjectedFault", "OperationStats", "ProxyStats"]

FAULT_LOG_SIZE = 10_000


@dataclass
class OperationStats:
    service: str
    operation: str
    requests: int = 0
    forwarded: int = 0  # reached the upstream (including drop_after and delay)
    faults: Counter[FaultKind] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": self.operation,
            "requests": self.requests,
            "forwarded": self.forwarded,
            "faults": {kind.value: n for kind, n in sorted(self.faults.items()) if n},
        }


@dataclass(frozen=True)
class InjectedFault:
    service: str
    operation: str
    kind: FaultKind
    ordinal: int  # the n-th request (from 0) of this service/operation at the proxy
    delay_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": self.operation,
            "kind": self.kind.value,
            "ordinal": self.ordinal,
            "delaySeconds": self.delay_seconds,
        }


@dataclass(frozen=True)
class ProxyStats:
    """A snapshot of the proxy's counters."""

    operations: dict[tuple[str, str], OperationStats]
    passthrough: int = 0  # control requests (/_msk_emulator, /moto-api): never faulted
    upstream_errors: int = 0  # the upstream could not be reached: answered 502

    @property
    def requests(self) -> int:
        return sum(op.requests for op in self.operations.values())

    @property
    def faults(self) -> int:
        return sum(sum(op.faults.values()) for op in self.operations.values())

    def faults_by_kind(self) -> dict[str, int]:
        total: Counter[FaultKind] = Counter()
        for op in self.operations.values():
            total.update(op.faults)
        return {kind.value: total[kind] for kind in FaultKind}

    def requests_for(self, service: str, operation: str = "*") -> int:
        return sum(op.requests for op in self._matching(service, operation))

    def faults_for(self, service: str, operation: str = "*", kind: FaultKind | None = None) -> int:
        return sum(
            op.faults[kind] if kind is not None else sum(op.faults.values())
            for op in self._matching(service, operation)
        )

    def _matching(self, service: str, operation: str) -> list[OperationStats]:
        return [
            op
            for (s, o), op in self.operations.items()
            if fnmatch.fnmatchcase(s, service) and fnmatch.fnmatchcase(o, operation)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "faults": self.faults,
            "faultsByKind": self.faults_by_kind(),
            "passthrough": self.passthrough,
            "upstreamErrors": self.upstream_errors,
            "operations": [op.to_dict() for _, op in sorted(self.operations.items())],
        }


@dataclass(frozen=True)
class Decision:
    kind: FaultKind | None
    delay_seconds: float = 0.0


class FaultState:
    """Plan, counters and the fault log, behind one lock (the server answers on many threads)."""

    def __init__(self, plan: FaultPlan) -> None:
        self.lock = threading.Lock()
        self.plan = plan
        self._reset()

    def _reset(self) -> None:
        self.operations: dict[tuple[str, str], OperationStats] = {}
        self.rule_hits: Counter[int] = Counter()  # matching requests per rule
        self.rule_faults: Counter[int] = Counter()
        self.passthrough = 0
        self.upstream_errors = 0
        self.log: deque[InjectedFault] = deque(maxlen=FAULT_LOG_SIZE)

    def reset(self) -> None:
        with self.lock:
            self._reset()

    def set_plan(self, plan: FaultPlan) -> None:
        with self.lock:
            self.plan = plan
            self.rule_hits.clear()
            self.rule_faults.clear()

    def decide(self, identity: RequestIdentity) -> Decision:
        key = (identity.service, identity.operation)
        with self.lock:
            stats = self.operations.setdefault(key, OperationStats(*key))
            ordinal = stats.requests
            stats.requests += 1
            for index, rule in enumerate(self.plan.rules):
                if not rule.matches(*key):
                    continue
                if rule.limit is not None and self.rule_faults[index] >= rule.limit:
                    continue
                self.rule_hits[index] += 1
                if self.rule_hits[index] <= rule.skip:
                    return Decision(None)
                # One generator per request: the outcome depends on (seed, service, operation,
                # ordinal) only, not on the order in which threads reach this lock.
                rng = random.Random(f"{self.plan.seed}/{key[0]}/{key[1]}/{ordinal}")  # noqa: S311
                if rng.random() >= rule.rate:
                    return Decision(None)
                weights = {kind: weight for kind, weight in rule.weights.items() if weight > 0}
                kind = rng.choices(list(weights), list(weights.values()))[0]
                delay = rng.uniform(*rule.delay_seconds) if kind is FaultKind.DELAY else 0.0
                self.rule_faults[index] += 1
                stats.faults[kind] += 1
                self.log.append(InjectedFault(*key, kind, ordinal, round(delay, 6)))
                return Decision(kind, delay)
            return Decision(None)

    def forwarded(self, identity: RequestIdentity) -> None:
        with self.lock:
            self.operations[(identity.service, identity.operation)].forwarded += 1

    def count_passthrough(self) -> None:
        with self.lock:
            self.passthrough += 1

    def count_upstream_error(self) -> None:
        with self.lock:
            self.upstream_errors += 1

    def snapshot(self) -> ProxyStats:
        with self.lock:
            operations = {
                key: OperationStats(
                    op.service, op.operation, op.requests, op.forwarded, Counter(op.faults)
                )
                for key, op in self.operations.items()
            }
            return ProxyStats(operations, self.passthrough, self.upstream_errors)

    def injected(self) -> list[InjectedFault]:
        with self.lock:
            return list(self.log)
