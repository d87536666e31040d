"""The consumer: decode every record, hand the good ones to the sink, quarantine the poison,
and tell Lambda exactly which offsets to redeliver.

Every record of a batch ends in one of three places: the sink, the quarantine, or the batch
item failures (redelivered from the first offset not stored, per partition). A record whose
quarantine write failed is a batch item failure too; none is dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter
from typing import Annotated, Any

import msgspec

from msk_autopilot.consume.batch import KafkaBatch, split_partition_key
from msk_autopilot.consume.errors import PoisonRecordError
from msk_autopilot.consume.formats import PayloadDecoder
from msk_autopilot.consume.records import ConsumerRecord, Header, PoisonRecord, WireHeaders
from msk_autopilot.consume.sinks import Quarantine, Sink
from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.runtime import LambdaContext

__all__ = ["BatchResult", "Pipeline", "QuarantineError", "RecordHook"]

type RecordHook = Callable[[ConsumerRecord], ConsumerRecord | None]

_json = msgspec.json.Decoder()
_timestamp = attrgetter("timestamp")
_topic_partition = attrgetter("topic", "partition")
_key = attrgetter("key")
_value = attrgetter("value")
_NO_HEADERS: tuple[object, ...] = ((), [])  # absent, or delivered empty


# Milliseconds since the epoch up to the end of year 9999: a later one (a corrupt record) cannot
# name the archive's date partition, so the record is poison rather than the batch failing.
_EpochMillis = Annotated[int, msgspec.Meta(ge=0, le=253_402_300_799_999)]


class _Envelope(msgspec.Struct, rename="camel", gc=False):
    """A record's fields as Lambda delivers them, key and value still base64 text."""

    topic: str
    partition: int
    offset: int
    timestamp: _EpochMillis
    timestamp_type: str | None = None
    key: str | None = None  # absent or null: a null key
    value: str | None = None  # absent or null: a tombstone
    # As delivered, unchecked: checking every byte value costs as much as converting them, so
    # both wait until something reads the headers (WireHeaders).
    headers: Any = ()


class QuarantineError(RuntimeError):
    """A poison record without a readable offset could not be quarantined: it cannot be named
    in a partial batch response, so the whole batch fails and Lambda's retries take over."""


class BatchResult(msgspec.Struct, frozen=True):
    """Lambda's partial batch response: per partition, the first offset to redeliver."""

    redeliver_from: Mapping[str, int] = msgspec.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        # The identifier powertools' BatchProcessor(EventType.Kafka) reports.
        return {
            "batchItemFailures": [
                {"itemIdentifier": {"partition": partition, "offset": offset}}
                for partition, offset in sorted(self.redeliver_from.items())
            ]
        }


class _Tally(msgspec.Struct):
    records: int = 0
    payload_bytes: int = 0
    poison: int = 0
    dropped: int = 0
    oldest: int | None = None  # the earliest record timestamp, epoch milliseconds


class Pipeline:
    """Decodes keys and values, applies the hook, delivers, quarantines, and reports."""

    def __init__(
        self,
        *,
        key_decoder: PayloadDecoder,
        value_decoder: PayloadDecoder,
        sink: Sink,
        quarantine: Quarantine,
        hook: RecordHook | None = None,
    ) -> None:
        self._key_decoder = key_decoder
        self._value_decoder = value_decoder
        self._sink = sink
        self._quarantine = quarantine
        self._hook = hook
        self._tally = _Tally()

    def handle(self, batch: KafkaBatch, context: LambdaContext) -> BatchResult:
        """The record consumer function's entry, shaped like every function's."""
        return self.process(batch)

    def process(self, batch: KafkaBatch) -> BatchResult:
        self._tally = tally = _Tally()
        started = time.perf_counter()
        accepted: dict[str, list[ConsumerRecord]] = {}
        poison: dict[str, list[PoisonRecord]] = {}
        redeliver: dict[str, int] = {}
        for partition_key, items in batch.partitions.items():
            tally.records += len(items)
            records, bad = self._decode_partition(partition_key, items)
            accepted[partition_key] = records
            if bad:
                poison[partition_key] = bad
        decode_ms = (time.perf_counter() - started) * 1000

        delivery = self._sink.deliver(accepted)
        for partition_key, refusals in delivery.refused.items():
            items_by_offset = {
                item.get("offset"): item
                for item in batch.partitions[partition_key]
                if isinstance(item, dict)
            }
            poison.setdefault(partition_key, []).extend(
                _poison(partition_key, items_by_offset[offset], reason)
                for offset, reason in refusals
            )
        for partition_key, offset in delivery.unstored.items():
            _earliest(redeliver, partition_key, offset)

        unquarantined = self._quarantine.store(poison) if poison else {}
        for partition_key, offsets in unquarantined.items():
            known = [offset for offset in offsets if offset is not None]
            if len(known) < len(offsets):
                raise QuarantineError(f"{partition_key}: poison record without an offset unsaved")
            _earliest(redeliver, partition_key, min(known))

        tally.poison = sum(len(bad) for bad in poison.values())
        self._report(
            batch=batch,
            accepted=accepted,
            unstored=delivery.unstored,
            unquarantined=unquarantined,
            redeliver=redeliver,
            decode_ms=decode_ms,
        )
        return BatchResult(redeliver)

    # --- decoding (the hot loop) -----------------------------------------------------------

    def _decode_partition(
        self, partition_key: str, items: list[Any]
    ) -> tuple[list[ConsumerRecord], list[PoisonRecord]]:
        topic, partition = split_partition_key(partition_key)
        # One C call checks every envelope; only a malformed or inconsistent batch is sorted out.
        try:
            envelopes: list[_Envelope] = msgspec.convert(items, list[_Envelope])
            delivered: list[Any] = items
            bad: list[PoisonRecord] = []
        except msgspec.ValidationError:
            envelopes, delivered, bad = _sort_out(partition_key, items)
        else:
            # A C loop, not a generator: this check runs on every record of every batch.
            if set(map(_topic_partition, envelopes)) - {(topic, partition)}:
                envelopes, delivered, bad = _sort_out(partition_key, items)
        keys = list(map(_key, envelopes))
        values = list(map(_value, envelopes))
        tally = self._tally
        # Bytes from base64 length: exact but for padding (at most 2 per payload), and cheap.
        tally.payload_bytes += (
            (sum(map(len, filter(None, keys))) + sum(map(len, filter(None, values)))) * 3 // 4
        )
        if envelopes:
            oldest = min(map(_timestamp, envelopes))
            tally.oldest = oldest if tally.oldest is None else min(tally.oldest, oldest)
        if self._hook is None and not bad:
            try:  # the fast path: whole columns of payloads, then one record each
                decoded_keys = self._key_decoder.decode_all(keys)
                decoded_values = self._value_decoder.decode_all(values)
                if not self._sink.stores_records:
                    return [], bad
                records = [
                    ConsumerRecord(
                        topic=envelope.topic,
                        partition=envelope.partition,
                        offset=envelope.offset,
                        timestamp=envelope.timestamp,
                        timestamp_type=envelope.timestamp_type,
                        key=key,
                        value=value,
                        headers=_headers(envelope.headers),
                    )
                    for envelope, key, value in zip(
                        envelopes, decoded_keys, decoded_values, strict=True
                    )
                ]
            except Exception:  # noqa: BLE001, S110  any failure: some record is not good
                pass  # find which, one by one
            else:
                return records, bad
        return self._decode_one_by_one(partition_key, envelopes, delivered, bad)

    def _decode_one_by_one(
        self,
        partition_key: str,
        envelopes: list[_Envelope],
        delivered: list[Any],
        bad: list[PoisonRecord],
    ) -> tuple[list[ConsumerRecord], list[PoisonRecord]]:
        records: list[ConsumerRecord] = []
        hook = self._hook
        for envelope, item in zip(envelopes, delivered, strict=True):
            part = "key"
            try:
                key = None if envelope.key is None else self._key_decoder(envelope.key)
                part = "value"
                value = None if envelope.value is None else self._value_decoder(envelope.value)
                record = _record(envelope, key, value)
                if hook is not None:
                    part = "hook"
                    hooked = self._apply_hook(hook, record)
                    if hooked is None:
                        continue
                    record = hooked
            except PoisonRecordError as error:
                reason = f"{part} {error}" if part in {"key", "value"} else str(error)
                bad.append(_poison(partition_key, item, reason))
                continue
            except Exception as error:  # noqa: BLE001  no decoding failure may fail the batch
                reason = f"{part} could not be decoded: {type(error).__name__}: {error}"
                bad.append(_poison(partition_key, item, reason))
                continue
            records.append(record)
        if bad:
            logger.warning(
                "poison records found",
                extra={
                    "partition": partition_key,
                    "poison": len(bad),
                    "first_offset": bad[0].offset,
                    "first_reason": bad[0].reason[:200],  # an error, never the payload
                },
            )
        return records, bad

    def _apply_hook(self, hook: RecordHook, record: ConsumerRecord) -> ConsumerRecord | None:
        visible = msgspec.structs.replace(
            record, key=_materialized(record.key), value=_materialized(record.value)
        )
        try:
            result = hook(visible)
        except PoisonRecordError:  # the hook read a malformed header: that is the reason
            raise
        except Exception as error:  # noqa: BLE001  any hook failure makes the record poison
            raise PoisonRecordError(
                f"RECORD_HOOK failed: {type(error).__name__}: {error}"
            ) from None
        if result is None:
            self._tally.dropped += 1
            return None
        if not isinstance(result, ConsumerRecord) or (
            (result.topic, result.partition, result.offset)
            != (record.topic, record.partition, record.offset)
        ):
            raise PoisonRecordError(
                "RECORD_HOOK must return the record (topic, partition and offset unchanged) or None"
            )
        return result

    # --- reporting -------------------------------------------------------------------------

    def _report(
        self,
        *,
        batch: KafkaBatch,
        accepted: Mapping[str, list[ConsumerRecord]],
        unstored: Mapping[str, int],
        unquarantined: Mapping[str, list[int | None]],
        redeliver: Mapping[str, int],
        decode_ms: float,
    ) -> None:
        tally = self._tally
        sink_failures = sum(
            1
            for key, first in unstored.items()
            for record in accepted[key]
            if record.offset >= first
        )
        counts = {
            "Records": tally.records,
            "PoisonRecords": tally.poison,
            "DroppedRecords": tally.dropped,
            "SinkFailures": sink_failures,
            "QuarantineFailures": sum(len(offsets) for offsets in unquarantined.values()),
            "PartitionsRedelivered": len(redeliver),
        }
        for name, value in counts.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        metrics.add_metric(name="RecordBytes", unit=MetricUnit.Bytes, value=tally.payload_bytes)
        metrics.add_metric(name="DecodeTime", unit=MetricUnit.Milliseconds, value=decode_ms)
        if tally.oldest is not None:
            age_ms = max(0, int(time.time() * 1000) - tally.oldest)
            metrics.add_metric(name="MaxRecordAge", unit=MetricUnit.Milliseconds, value=age_ms)
        logger.info(
            "batch consumed",
            extra={
                "event_source_arn": batch.event_source_arn,
                **counts,
                "decode_ms": round(decode_ms, 2),
                "redeliver_from": dict(redeliver),
            },
        )


def _earliest(redeliver: dict[str, int], partition_key: str, offset: int) -> None:
    known = redeliver.get(partition_key)
    if known is None or offset < known:
        redeliver[partition_key] = offset


def _materialized(payload: Any) -> Any:
    """JSON kept as validated text is decoded for the hook, which expects Python values."""
    return _json.decode(payload) if isinstance(payload, msgspec.Raw) else payload


def _record(envelope: _Envelope, key: Any, value: Any) -> ConsumerRecord:
    return ConsumerRecord(
        topic=envelope.topic,
        partition=envelope.partition,
        offset=envelope.offset,
        timestamp=envelope.timestamp,
        timestamp_type=envelope.timestamp_type,
        key=key,
        value=value,
        headers=_headers(envelope.headers),
    )


def _headers(raw: Any) -> Sequence[Header]:
    return () if raw in _NO_HEADERS else WireHeaders(raw)


def _sort_out(
    partition_key: str, items: list[Any]
) -> tuple[list[_Envelope], list[Any], list[PoisonRecord]]:
    """Each record checked on its own: the well-formed ones, and the poison among them.

    A record naming another topic-partition than the one it was delivered under is poison:
    archive objects are named from the records' own fields, so it could overwrite the archive
    of the partition it names (Lambda's batches are consistent; nothing else may be lost).
    """
    topic, partition = split_partition_key(partition_key)
    envelopes: list[_Envelope] = []
    delivered: list[Any] = []
    bad: list[PoisonRecord] = []
    for item in items:
        try:
            envelope = msgspec.convert(item, _Envelope)
        except msgspec.ValidationError as error:
            bad.append(_poison(partition_key, item, f"malformed record: {error}"))
            continue
        if envelope.partition != partition or envelope.topic != topic:
            named = f"{envelope.topic}-{envelope.partition}"
            bad.append(_poison(partition_key, item, f"record of {named} under {partition_key}"))
            continue
        envelopes.append(envelope)
        delivered.append(item)
    return envelopes, delivered, bad


def _poison(partition_key: str, item: Any, reason: str) -> PoisonRecord:
    fields = item if isinstance(item, dict) else {}
    offset, timestamp = fields.get("offset"), fields.get("timestamp")
    return PoisonRecord(
        partition_key=partition_key,
        offset=offset if type(offset) is int else None,
        timestamp=timestamp if type(timestamp) is int else None,
        reason=reason,
        record=item,
    )
