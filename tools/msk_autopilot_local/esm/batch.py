"""A batch in flight (the records invoked together) and how an invocation of it turned out,
including Lambda's reading of a partial batch response."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from msk_autopilot_local.esm.records import KafkaRecord

__all__ = ["Outcome", "Unit", "read_response"]


@dataclass
class Unit:
    """Records invoked together, and how often they have been."""

    records: list[KafkaRecord]
    invocations: int = 0
    after_failure: bool = False  # a bisected half of a batch that failed


@dataclass
class Outcome:
    kind: Literal["ok", "partial", "error"]
    detail: str = ""
    function_error: str | None = None  # "Unhandled" when the handler raised
    first_failed: dict[str, int] = field(default_factory=dict)
    event_body: str = ""
    request_id: str = ""


def read_response(response: Any, records: Sequence[KafkaRecord]) -> Outcome:
    """Lambda's reading of a handler's answer with ReportBatchItemFailures on."""
    if not isinstance(response, dict):
        return Outcome("ok")
    items = response.get("batchItemFailures")
    if items is None or items == []:
        return Outcome("ok")
    if not isinstance(items, list):
        return Outcome("error", f"batchItemFailures is not a list: {items!r}")
    present = {(r.partition_key, r.offset) for r in records}
    first_failed: dict[str, int] = {}
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        partition = identifier.get("partition") if isinstance(identifier, dict) else None
        offset = identifier.get("offset") if isinstance(identifier, dict) else None
        if isinstance(offset, str) and offset.isdigit():
            offset = int(offset)
        if (
            not isinstance(partition, str)
            or not isinstance(offset, int)
            or isinstance(offset, bool)
        ):
            return Outcome(
                "error",
                f"malformed batchItemFailures item {item!r}: Lambda expects "
                '{"itemIdentifier": {"partition": "<topic>-<partition>", "offset": <n>}}',
            )
        if (partition, offset) not in present:
            return Outcome(
                "error", f"batchItemFailures names {partition} offset {offset}, not in the batch"
            )
        first_failed[partition] = min(offset, first_failed.get(partition, offset))
    return Outcome("partial", first_failed=first_failed)
