"""The local event source mapping: a poller that behaves like Lambda's Kafka event source mapping
(`msk-autopilot esm`, in cli/esm.py, describes it for users).

config: the settings and their limits; records: Kafka records in Lambda's event shape and the
6 MB sizer; function: what gets invoked; batch: a batch in flight and the handler's answer;
destinations: where failed batches go; poller: the poll / invoke / commit loop; lag: what is
left to commit; summary: what a run did.
"""

from __future__ import annotations

from msk_autopilot_local.esm.config import PollerConfig
from msk_autopilot_local.esm.errors import EsmError
from msk_autopilot_local.esm.poller import run_poller
from msk_autopilot_local.esm.records import (
    MAX_PAYLOAD_BYTES,
    EventSizer,
    KafkaRecord,
    build_event,
    failure_record,
    kafka_record,
)
from msk_autopilot_local.esm.summary import PollerSummary

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "EsmError",
    "EventSizer",
    "KafkaRecord",
    "PollerConfig",
    "PollerSummary",
    "build_event",
    "failure_record",
    "kafka_record",
    "run_poller",
]
