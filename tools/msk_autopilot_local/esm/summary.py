"""What a run of the poller did, as a status line, a final line or JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["PollerSummary"]


@dataclass
class PollerSummary:
    """What a run did. `exit_code` is what the command line exits with."""

    invocations: int = 0  # "batches": every invocation, retries and bisected halves included
    records_received: int = 0  # fetched from Kafka
    records_invoked: int = 0  # handed to the handler, counting each retry again
    records_succeeded: int = 0
    records_to_destination: int = 0
    records_discarded: int = 0  # retries exhausted and no destination: lost, like Lambda
    function_errors: int = 0  # invocations that raised or answered malformed
    partial_failures: int = 0  # invocations that answered with batchItemFailures
    retries: int = 0
    bisections: int = 0
    max_event_bytes: int = 0
    destination_locations: list[str] = field(default_factory=list)
    committed: dict[str, int] = field(default_factory=dict)  # "topic-partition" -> next offset
    uncommitted_handled: int = 0  # handled, but the commit did not happen: will be redelivered
    lag: int | None = None
    elapsed: float = 0.0
    stop_reason: str = ""
    exit_code: int = 0
    error: str | None = None

    @property
    def records_per_second(self) -> float:
        handled = self.records_succeeded + self.records_to_destination + self.records_discarded
        return handled / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def failures(self) -> int:
        return self.function_errors + self.partial_failures

    def status_line(self) -> str:
        lag = "?" if self.lag is None else f"{self.lag:,}"
        return (
            f"esm: {self.invocations:,} batches | {self.records_succeeded:,} records ok "
            f"({self.records_per_second:,.0f}/s) | lag {lag} | failures {self.failures:,} "
            f"({self.retries:,} retries, {self.records_to_destination:,} to destination, "
            f"{self.records_discarded:,} discarded)"
        )

    def final_line(self) -> str:
        committed = " ".join(f"{key}={offset}" for key, offset in sorted(self.committed.items()))
        return (
            f"{self.status_line()} | {self.elapsed:.1f} s | stopped: {self.stop_reason}"
            f" | committed {committed or 'nothing'}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "records_per_second": round(self.records_per_second, 1)}
