"""The consumer group's lag as Lambda's OffsetLag metric counts it: records not yet committed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from msk_autopilot_local.esm.config import StartingPosition

__all__ = ["LagGauge"]

_ASK_TIMEOUT = 2.0  # seconds to wait for Kafka's answer about one partition

type PartitionKey = tuple[str, int]


class LagGauge:
    """Each assigned partition's high watermark minus the group's committed offset, summed."""

    def __init__(self, consumer: Any, starting_position: StartingPosition) -> None:
        self.consumer = consumer
        self.starting_position = starting_position
        self.earlier_commits: dict[PartitionKey, int | None] = {}

    def forget(self, partitions: Iterable[PartitionKey]) -> None:
        """Partitions this consumer no longer holds: another may commit there meanwhile."""
        for key in partitions:
            self.earlier_commits.pop(key, None)

    def measure(self, committed: Mapping[PartitionKey, int], *, fresh: bool) -> int | None:
        """The lag given this run's `committed` offsets, or None before any partition is known.

        `fresh` asks Kafka for the watermarks; otherwise they are those the last fetch brought,
        which cost nothing."""
        from confluent_kafka import TopicPartition  # noqa: PLC0415

        total, known = 0, False
        for assigned in self.consumer.assignment():
            key = (assigned.topic, assigned.partition)
            partition = TopicPartition(*key)
            if fresh:
                low, high = self.consumer.get_watermark_offsets(partition, timeout=_ASK_TIMEOUT)
            else:
                low, high = self.consumer.get_watermark_offsets(partition, cached=True)
            if high < 0:
                continue
            position = committed.get(key)
            if position is None:
                position = self._earlier_commit(key)
            if position is None:  # the group never committed here: where it starts reading
                position = low if self.starting_position == "TRIM_HORIZON" else high
            total += max(0, high - max(position, low, 0))
            known = True
        return total if known else None

    def _earlier_commit(self, key: PartitionKey) -> int | None:
        """The group's offset from before this run (asked once per partition), so a partition
        with nothing new counts as caught up, not as lagging from its first offset."""
        from confluent_kafka import TopicPartition  # noqa: PLC0415

        if key not in self.earlier_commits:
            [answer] = self.consumer.committed([TopicPartition(*key)], timeout=_ASK_TIMEOUT)
            self.earlier_commits[key] = answer.offset if answer.offset >= 0 else None
        return self.earlier_commits[key]
