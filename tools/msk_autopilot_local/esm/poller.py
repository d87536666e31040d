"""The poll / invoke / commit loop: batches cut like Lambda's, retries with backoff, bisection,
partial batch responses, on-failure destinations, and offsets committed only for handled records.

One cohesive unit: the loop's state (buffered, in flight, resolved, committed) is shared by
Kafka's callbacks, the batching, the retries and the commits.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Sequence
from typing import IO, Any

from msk_autopilot_local.console import StatusLine
from msk_autopilot_local.esm.batch import Outcome, Unit, read_response
from msk_autopilot_local.esm.config import PollerConfig
from msk_autopilot_local.esm.destinations import Destination, open_destination
from msk_autopilot_local.esm.errors import EsmError
from msk_autopilot_local.esm.function import ColdStartError, Function, resolve_function
from msk_autopilot_local.esm.lag import LagGauge
from msk_autopilot_local.esm.records import (
    MAX_PAYLOAD_BYTES,
    EventSizer,
    KafkaRecord,
    build_event,
    compact_json,
    describe,
    failure_record,
    record_from_message,
)
from msk_autopilot_local.esm.summary import PollerSummary

__all__ = ["run_poller"]


class _Fatal(Exception):
    """The run ends: the summary gets this message and exit status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Poller:
    def __init__(
        self,
        config: PollerConfig,
        function: Function,
        destination: Destination | None,
        *,
        stop: threading.Event,
        status: StatusLine,
    ) -> None:
        self.config = config
        self.function = function
        self.destination = destination
        self.stop = stop
        self.status = status
        self.summary = PollerSummary()
        self.esm_uuid = str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"msk-autopilot-esm/{config.consumer_group}")
        )
        self.buffer: deque[KafkaRecord] = deque()
        self.buffered_bytes = 0
        self.inflight: dict[tuple[str, int], set[int]] = {}
        self.resolved_upto: dict[tuple[str, int], int] = {}
        self.committed: dict[tuple[str, int], int] = {}
        self.revoked: set[tuple[str, int]] = set()
        self.handled_uncommitted = 0
        self.last_progress = time.monotonic()
        self.started = time.monotonic()
        self.stuck: str | None = None
        self.assigned = False
        self.down_since: float | None = None
        self.last_kafka_error = ""
        self.fatal_kafka_error: str | None = None
        self.commit_result: tuple[Any, list[Any]] | None = None
        self.first_traceback_shown = False
        self.consumer: Any = None
        self.lag: LagGauge

    # --- Kafka ---------------------------------------------------------------------------------

    def _on_error(self, error: Any) -> None:
        from confluent_kafka import KafkaError  # noqa: PLC0415

        self.last_kafka_error = error.str()
        if error.code() == KafkaError._ALL_BROKERS_DOWN and self.down_since is None:
            self.down_since = time.monotonic()
        if error.fatal():
            self.fatal_kafka_error = error.str()

    def _on_commit(self, error: Any, partitions: list[Any]) -> None:
        self.commit_result = (error, partitions)

    def _on_assign(self, _consumer: Any, partitions: list[Any]) -> None:
        self.last_progress = time.monotonic()  # joining the group is progress
        self.assigned = True
        for partition in partitions:
            self.revoked.discard((partition.topic, partition.partition))

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        gone = {(partition.topic, partition.partition) for partition in partitions}
        self.revoked |= gone
        kept = [r for r in self.buffer if (r.topic, r.partition) not in gone]
        self.buffer = deque(kept)
        self.buffered_bytes = sum(r.size for r in kept)
        self.lag.forget(gone)
        for key in gone:
            self.inflight.pop(key, None)
            self.resolved_upto.pop(key, None)

    def connect(self) -> None:
        from confluent_kafka import Consumer, KafkaException  # noqa: PLC0415

        config = self.config
        settings: dict[str, Any] = {
            "bootstrap.servers": config.bootstrap_servers,
            "group.id": config.consumer_group,
            "client.id": f"msk-autopilot-esm-{config.function_name}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest"
            if config.starting_position == "TRIM_HORIZON"
            else "latest",
            "session.timeout.ms": 10_000,  # also bounds how long close() waits for a lost broker
            "max.poll.interval.ms": 86_400_000,  # a handler or a retry loop may take long
            "log_level": 0,  # librdkafka's errors come through error_cb, reported once
            "error_cb": self._on_error,
            "on_commit": self._on_commit,
            **config.kafka_config,
        }
        try:
            self.consumer = Consumer(settings)
            self.lag = LagGauge(self.consumer, config.starting_position)
        except KafkaException as error:
            raise EsmError(f"--kafka-config: {error.args[0].str()}") from None
        try:
            metadata = self.consumer.list_topics(timeout=config.broker_timeout)
        except KafkaException as error:
            self.consumer.close()
            reason = self.last_kafka_error or error.args[0].str()
            raise EsmError(
                f"cannot reach Kafka at {config.bootstrap_servers} within "
                f"{config.broker_timeout:g} s: {reason}"
            ) from None
        missing = [
            topic
            for topic in config.topics
            if topic not in metadata.topics or metadata.topics[topic].error is not None
        ]
        if missing:
            self.consumer.close()
            existing = sorted(t for t in metadata.topics if not t.startswith("__"))
            raise EsmError(
                f"topic {', '.join(repr(t) for t in missing)} does not exist on "
                f"{config.bootstrap_servers} (topics there: {', '.join(existing) or 'none'})"
            )
        self.down_since = None
        self.consumer.subscribe(
            list(config.topics),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )

    def _fetch(self, timeout: float, max_messages: int) -> int:
        from confluent_kafka import KafkaError  # noqa: PLC0415

        messages = self.consumer.consume(num_messages=max(1, max_messages), timeout=timeout)
        now = time.monotonic()
        added = 0
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise _Fatal(f"{message.topic()}: {error.str()} (was the topic deleted?)", 2)
                if error.code() != KafkaError._PARTITION_EOF:
                    self.last_kafka_error = error.str()
                continue
            key = (message.topic(), message.partition())
            if key in self.revoked:
                continue
            record = record_from_message(message)
            record.arrived = now
            self.buffer.append(record)
            self.buffered_bytes += record.size
            added += 1
        if added:
            self.summary.records_received += added
            self.last_progress = now
            self.down_since = None
        self._check_kafka()
        self._tick()
        return added

    def _check_kafka(self) -> None:
        from confluent_kafka import KafkaException  # noqa: PLC0415

        if self.fatal_kafka_error:
            raise _Fatal(f"Kafka client failed: {self.fatal_kafka_error}")
        if self.down_since is None:
            return
        down_for = time.monotonic() - self.down_since
        if down_for < self.config.broker_timeout:
            return
        try:
            self.consumer.list_topics(timeout=min(2.0, self.config.broker_timeout))
        except KafkaException:
            raise _Fatal(
                f"lost Kafka at {self.config.bootstrap_servers}: no broker answered for "
                f"{down_for:.0f} s ({self.last_kafka_error or 'all brokers down'})"
            ) from None
        self.down_since = None

    def _commit(self) -> None:
        from confluent_kafka import TopicPartition  # noqa: PLC0415

        targets: dict[tuple[str, int], int] = {}
        for key, upto in self.resolved_upto.items():
            pending = self.inflight.get(key)
            position = min(upto, *pending) if pending else upto
            if position > self.committed.get(key, -1) and key not in self.revoked:
                targets[key] = position
        if not targets:
            return
        self.commit_result = None
        self.consumer.commit(
            offsets=[TopicPartition(t, p, offset) for (t, p), offset in targets.items()],
            asynchronous=True,
        )
        deadline = time.monotonic() + self.config.commit_timeout
        while self.commit_result is None:  # on_commit is served by consume()
            if time.monotonic() > deadline:
                raise _Fatal(
                    f"could not commit offsets to {self.config.bootstrap_servers} within "
                    f"{self.config.commit_timeout:g} s "
                    f"({self.last_kafka_error or 'no answer from the group coordinator'})"
                )
            self._fetch(timeout=0.05, max_messages=1)
        error, partitions = self.commit_result
        failed = [p for p in partitions if p.error is not None]
        if error is not None or failed:
            reason = error.str() if error is not None else failed[0].error.str()
            raise _Fatal(f"Kafka refused the offset commit: {reason}")
        for key, offset in targets.items():
            self.committed[key] = offset
        self.handled_uncommitted = 0

    # --- the loop ------------------------------------------------------------------------------

    def run(self) -> PollerSummary:
        self.started = self.last_progress = time.monotonic()
        try:
            self._loop()
        except _Fatal as fatal:
            self.summary.error = str(fatal)
            self.summary.exit_code = fatal.exit_code
            self.summary.stop_reason = "error"
            self.summary.uncommitted_handled = self.handled_uncommitted
            self.status.message(f"error: {fatal}")
            if self.handled_uncommitted:
                self.status.message(
                    f"  {self.handled_uncommitted} records were handled but not committed: "
                    "they will be delivered again"
                )
        finally:
            self._finish()
        return self.summary

    def _finish(self) -> None:
        summary = self.summary
        summary.elapsed = time.monotonic() - self.started
        summary.committed = {f"{t}-{p}": offset for (t, p), offset in self.committed.items()}
        with contextlib.suppress(Exception):  # Kafka gone: the lag stays what it last was
            summary.lag = self.lag.measure(self.committed, fresh=summary.error is None)
        if self.stuck and summary.exit_code == 0:
            summary.exit_code = 1
            summary.error = self.stuck
            self.status.message(f"error: {self.stuck}")
        elif summary.records_discarded and summary.exit_code == 0:
            summary.exit_code = 1
            summary.error = f"{summary.records_discarded} records were discarded"
        self.status.show(summary.status_line(), force=True)
        self.status.close()
        if self.consumer is not None:
            self.consumer.close()  # at most session.timeout.ms when Kafka is gone

    def _tick(self) -> None:
        if self.status.due():
            self.summary.elapsed = time.monotonic() - self.started
            with contextlib.suppress(Exception):
                self.summary.lag = self.lag.measure(self.committed, fresh=False)
            self.status.show(self.summary.status_line())

    def _should_stop(self) -> bool:
        if self.stop.is_set():
            self.summary.stop_reason = "stopped"
            return True
        limit = self.config.max_batches
        if limit is not None and self.summary.invocations >= limit:
            self.summary.stop_reason = "max-batches"
            return True
        return False

    def _idle(self) -> bool:
        idle = self.config.until_idle
        if idle is None:
            return False
        if not self.assigned:  # a group join can take seconds: idleness starts after it
            waited = time.monotonic() - self.started
            limit = max(idle, self.config.broker_timeout)
            if waited >= limit:
                raise _Fatal(
                    f"consumer group {self.config.consumer_group} was given no partition of "
                    f"{', '.join(self.config.topics)} within {limit:g} s (do other consumers "
                    "of the group hold them all?)"
                )
            return False
        if time.monotonic() - self.last_progress >= idle:
            self.summary.stop_reason = "idle"
            return True
        return False

    def _loop(self) -> None:
        batch_size = self.config.batch_size
        while not self._should_stop():
            if not self.buffer:
                if not self._fetch(timeout=0.1, max_messages=batch_size) and self._idle():
                    return
                continue
            deadline = self.buffer[0].arrived + self.config.batching_window
            while len(self.buffer) < batch_size and self.buffered_bytes < MAX_PAYLOAD_BYTES:
                remaining = deadline - time.monotonic()
                added = self._fetch(
                    timeout=max(0.0, min(remaining, 0.1)),
                    max_messages=batch_size - len(self.buffer),
                )
                if (remaining <= 0 and not added) or self.stop.is_set():
                    break
            if self.buffer:
                self._process(self._take_batch())
            if self.stuck:
                return

    def _take_batch(self) -> list[KafkaRecord]:
        sizer = EventSizer(self.config.bootstrap_servers, self.config.cluster_arn)
        batch: list[KafkaRecord] = []
        while self.buffer and len(batch) < self.config.batch_size:
            record = self.buffer[0]
            if sizer.size_with(record) > MAX_PAYLOAD_BYTES:
                if not batch:  # one record too large for any invocation
                    self.buffer.popleft()
                    self.buffered_bytes -= record.size
                    self._oversized(record)
                    continue
                break
            sizer.add(record)
            batch.append(self.buffer.popleft())
            self.buffered_bytes -= record.size
        return batch

    def _process(self, batch: list[KafkaRecord]) -> None:
        for record in batch:
            self.inflight.setdefault((record.topic, record.partition), set()).add(record.offset)
        units = deque([Unit(batch)])
        while units:
            unit = units[0]
            unit.records = [r for r in unit.records if (r.topic, r.partition) not in self.revoked]
            if not unit.records:
                units.popleft()
                continue
            if unit.invocations:  # a retry: wait, unless told to stop
                self._backoff(unit)
            if self._should_stop() or (unit.invocations and self._idle()):
                if unit.invocations or unit.after_failure:
                    self.stuck = (
                        f"stopped while records were still failing ({describe(unit.records)}"
                        f", invoked {unit.invocations} times as this batch): not committed, "
                        "they will be delivered again"
                    )
                return
            outcome = self._invoke(unit)
            if outcome.kind == "ok":
                self._resolve(unit.records, "succeeded")
                units.popleft()
                continue
            if outcome.kind == "partial":
                self.summary.partial_failures += 1
                done = [
                    r
                    for r in unit.records
                    if r.offset < outcome.first_failed.get(r.partition_key, r.offset + 1)
                ]
                failed = [
                    r
                    for r in unit.records
                    if r.offset >= outcome.first_failed.get(r.partition_key, r.offset + 1)
                ]
                self._resolve(done, "succeeded")
                self.status.message(
                    f"invocation {self.summary.invocations}: the handler reported failures "
                    f"from {', '.join(f'{k} offset {o}' for k, o in outcome.first_failed.items())}"
                    f"; committed {len(done)} records, retrying {len(failed)}"
                )
                unit.records = failed
            elif self.config.bisect and len(unit.records) > 1:
                half = len(unit.records) // 2
                units.popleft()
                units.appendleft(Unit(unit.records[half:], after_failure=True))
                units.appendleft(Unit(unit.records[:half], after_failure=True))
                self.summary.bisections += 1
                continue
            limit = self.config.effective_max_retries
            if limit != -1 and unit.invocations > limit:
                self._give_up(unit, outcome)
                units.popleft()
                continue
            self.summary.retries += 1

    def _backoff(self, unit: Unit) -> None:
        delay = min(
            self.config.retry_backoff_max, self.config.retry_backoff * 2 ** (unit.invocations - 1)
        )
        if self.config.until_idle is not None:
            delay = min(
                delay, max(0.0, self.last_progress + self.config.until_idle - time.monotonic())
            )
        if delay > 0:
            self.stop.wait(delay)

    def _invoke(self, unit: Unit) -> Outcome:
        event = build_event(
            unit.records,
            bootstrap_servers=self.config.bootstrap_servers,
            cluster_arn=self.config.cluster_arn,
        )
        body = compact_json(event)
        summary = self.summary
        summary.invocations += 1
        summary.records_invoked += len(unit.records)
        summary.max_event_bytes = max(summary.max_event_bytes, len(body))
        unit.invocations += 1
        request_id = str(uuid.uuid4())
        try:
            response = self.function.call(json.loads(body))  # a fresh copy, as Lambda sends
        except ColdStartError as error:
            raise _Fatal(f"{error}; nothing was committed for the batch it was given", 2) from None
        except (Exception, SystemExit) as error:  # noqa: BLE001  the handler failed, as in Lambda
            summary.function_errors += 1
            detail = f"{type(error).__name__}: {error}"
            self._report_failure(unit, detail, traceback.format_exc())
            return Outcome("error", detail, "Unhandled", event_body=body, request_id=request_id)
        finally:
            self._tick()
        outcome = (
            read_response(response, unit.records)
            if self.config.report_batch_item_failures
            else Outcome("ok")
        )
        outcome.event_body, outcome.request_id = body, request_id
        if outcome.kind == "error":
            summary.function_errors += 1
            self._report_failure(unit, outcome.detail, None)
        return outcome

    def _report_failure(self, unit: Unit, detail: str, trace: str | None) -> None:
        self.status.message(
            f"invocation {self.summary.invocations} failed (attempt {unit.invocations}, "
            f"{len(unit.records)} records: {describe(unit.records)}): {detail}"
        )
        if trace and not self.first_traceback_shown:
            self.first_traceback_shown = True
            self.status.message(trace)

    def _resolve(self, records: Sequence[KafkaRecord], how: str) -> None:
        if not records:
            return
        for record in records:
            key = (record.topic, record.partition)
            self.inflight.get(key, set()).discard(record.offset)
            self.resolved_upto[key] = max(self.resolved_upto.get(key, 0), record.offset + 1)
        count = len(records)
        if how == "succeeded":
            self.summary.records_succeeded += count
        elif how == "destination":
            self.summary.records_to_destination += count
        else:
            self.summary.records_discarded += count
        self.handled_uncommitted += count
        self.last_progress = time.monotonic()
        self._commit()

    def _give_up(self, unit: Unit, outcome: Outcome) -> None:
        self._dead_letter(
            unit.records,
            condition="RetryAttemptsExhausted",
            event_body=outcome.event_body,
            invoke_count=unit.invocations,
            function_error=outcome.function_error,
            request_id=outcome.request_id,
        )

    def _oversized(self, record: KafkaRecord) -> None:
        body = compact_json(
            build_event(
                [record],
                bootstrap_servers=self.config.bootstrap_servers,
                cluster_arn=self.config.cluster_arn,
            )
        )
        self.inflight.setdefault((record.topic, record.partition), set()).add(record.offset)
        self.status.message(
            f"{record.partition_key} offset {record.offset}: the record alone makes a "
            f"{len(body):,}-byte event, over Lambda's {MAX_PAYLOAD_BYTES:,}-byte limit"
        )
        self._dead_letter(
            [record],
            condition="MaximumPayloadSizeExceeded",
            event_body=body,
            invoke_count=0,
            function_error=None,
            request_id=str(uuid.uuid4()),
        )

    def _dead_letter(
        self,
        records: list[KafkaRecord],
        *,
        condition: str,
        event_body: str,
        invoke_count: int,
        function_error: str | None,
        request_id: str,
    ) -> None:
        what = f"{len(records)} records ({describe(records)})"
        if self.destination is None:
            self.status.message(f"discarded {what}: {condition} and no --on-failure destination")
            self._resolve(records, "discarded")
            return
        document = failure_record(
            records,
            event_body=event_body,
            condition=condition,
            invoke_count=invoke_count,
            function_arn=self.function.arn,
            function_error=function_error,
            bootstrap_servers=self.config.bootstrap_servers,
            cluster_arn=self.config.cluster_arn,
            with_payload=self.destination.with_payload,
            request_id=request_id,
        )
        try:
            location = self.destination.send(records, document, self.esm_uuid)
        except Exception as error:  # noqa: BLE001  any AWS error stops the run before a commit
            raise _Fatal(
                f"could not send {what} to {self.destination.description}: {error}; "
                "their offsets were not committed"
            ) from None
        self.summary.destination_locations.append(location)
        self.status.message(f"sent {what} to {location} ({condition})")
        self._resolve(records, "destination")


def run_poller(
    config: PollerConfig,
    *,
    stop: threading.Event | None = None,
    status_stream: IO[str] | None = None,
) -> PollerSummary:
    """Poll until `config` says to stop (or `stop` is set) and return what happened.

    Raises `EsmError` when the poller cannot start; problems during the run end it and are in
    the summary (`error`, `exit_code`), with offsets committed only for handled records.
    """
    config.validate()
    function = resolve_function(config)
    destination = open_destination(config.on_failure, config) if config.on_failure else None
    if destination is not None:
        destination.check()
    status = StatusLine(status_stream or sys.stderr, config.status_interval)
    poller = _Poller(config, function, destination, stop=stop or threading.Event(), status=status)
    poller.connect()
    return poller.run()
