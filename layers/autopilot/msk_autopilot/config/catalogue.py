"""The broker properties MSK lets customers set, with each value's type and range where known.

The names are the "Custom Amazon MSK configurations" table of the MSK developer guide
(msk-configuration-properties.html); CreateConfiguration refuses any other key. Types and ranges
come from Apache Kafka's broker configuration reference, narrowed where the MSK guide states its
own limits (replica.lag.time.max.ms, the ZooKeeper timeouts, the socket buffers' -1). Kafka 3.6
added log.message.timestamp.before.max.ms and .after.max.ms as the successors of
log.message.timestamp.difference.max.ms; the guide names them in that row, so they are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import StrEnum

import msgspec

__all__ = ["CUSTOMER_SETTABLE", "PropertySpec", "ValueKind"]

_INT_MAX = 2**31 - 1
_LONG_MAX = 2**63 - 1
_SHORT_MAX = 2**15 - 1
_JAVA_CLASS = re.compile(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+")
_NUMBER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class ValueKind(StrEnum):
    BOOLEAN = "boolean"
    SHORT = "short"
    INT = "int"
    LONG = "long"
    DOUBLE = "double"
    CHOICE = "one of"
    CHOICE_LIST = "comma-separated list of"
    CLASS = "Java class name"


_KIND_LIMIT = {ValueKind.SHORT: _SHORT_MAX, ValueKind.INT: _INT_MAX, ValueKind.LONG: _LONG_MAX}


class PropertySpec(msgspec.Struct, frozen=True):
    """One settable property: what kind of value it takes and, where known, its range."""

    kind: ValueKind
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def problem(self, raw: str) -> str | None:
        """Why `raw` is not a valid value (Kafka trims values before parsing), or None."""
        value = raw.strip()
        if not value:
            return "has an empty value"
        return _CHECKS[self.kind](self, value)

    def range_problem(self, number: float) -> str | None:
        low, high = self.minimum, self.maximum
        if low is not None and number < low:
            return f"must be at least {_show(low)}, not {_show(number)}"
        if high is not None and number > high:
            return f"must be at most {_show(high)}, not {_show(number)}"
        return None


def _boolean_problem(_: PropertySpec, value: str) -> str | None:
    return None if value.lower() in {"true", "false"} else f"must be true or false, not {value!r}"


def _whole_problem(spec: PropertySpec, value: str) -> str | None:
    if not _NUMBER.fullmatch(value):
        return f"must be a whole number ({spec.kind.value}), not {value!r}"
    limit = _KIND_LIMIT[spec.kind]
    if not -limit - 1 <= int(value) <= limit:
        return f"{value} does not fit in a Java {spec.kind.value}"
    return spec.range_problem(int(value))


def _double_problem(spec: PropertySpec, value: str) -> str | None:
    if not _DECIMAL.fullmatch(value):
        return f"must be a number, not {value!r}"
    return spec.range_problem(float(value))


def _choice_problem(spec: PropertySpec, value: str) -> str | None:
    if value in spec.choices:
        return None
    return f"must be one of {', '.join(spec.choices)}, not {value!r}"


def _choice_list_problem(spec: PropertySpec, value: str) -> str | None:
    unknown = [item.strip() for item in value.split(",") if item.strip() not in spec.choices]
    if not unknown:
        return None
    return (
        f"must be a comma-separated list of {', '.join(spec.choices)}; "
        f"{', '.join(repr(item) for item in unknown)} is not"
    )


def _class_problem(_: PropertySpec, value: str) -> str | None:
    if _JAVA_CLASS.fullmatch(value):
        return None
    return f"must be a fully qualified Java class name, not {value!r}"


_CHECKS: dict[ValueKind, Callable[[PropertySpec, str], str | None]] = {
    ValueKind.BOOLEAN: _boolean_problem,
    ValueKind.SHORT: _whole_problem,
    ValueKind.INT: _whole_problem,
    ValueKind.LONG: _whole_problem,
    ValueKind.DOUBLE: _double_problem,
    ValueKind.CHOICE: _choice_problem,
    ValueKind.CHOICE_LIST: _choice_list_problem,
    ValueKind.CLASS: _class_problem,
}


def _show(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _boolean() -> PropertySpec:
    return PropertySpec(ValueKind.BOOLEAN)


def _int(minimum: float | None = None, maximum: float | None = None) -> PropertySpec:
    return PropertySpec(ValueKind.INT, minimum, maximum)


def _long(minimum: float | None = None, maximum: float | None = None) -> PropertySpec:
    return PropertySpec(ValueKind.LONG, minimum, maximum)


def _short(minimum: float | None = None) -> PropertySpec:
    return PropertySpec(ValueKind.SHORT, minimum)


CUSTOMER_SETTABLE: Mapping[str, PropertySpec] = {
    "allow.everyone.if.no.acl.found": _boolean(),
    "auto.create.topics.enable": _boolean(),
    "compression.type": PropertySpec(
        ValueKind.CHOICE,
        choices=("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
    ),
    "connections.max.idle.ms": _long(0),
    "default.replication.factor": _int(1),
    "delete.topic.enable": _boolean(),
    "group.initial.rebalance.delay.ms": _int(0),
    "group.max.session.timeout.ms": _int(0),
    "group.min.session.timeout.ms": _int(0),
    "leader.imbalance.per.broker.percentage": _int(0, 100),
    "log.cleaner.delete.retention.ms": _long(0),
    "log.cleaner.min.cleanable.ratio": PropertySpec(ValueKind.DOUBLE, 0, 1),
    "log.cleanup.policy": PropertySpec(ValueKind.CHOICE_LIST, choices=("compact", "delete")),
    "log.flush.interval.messages": _long(1),
    "log.flush.interval.ms": _long(0),
    "log.message.timestamp.after.max.ms": _long(0),
    "log.message.timestamp.before.max.ms": _long(0),
    "log.message.timestamp.difference.max.ms": _long(0),
    "log.message.timestamp.type": PropertySpec(
        ValueKind.CHOICE, choices=("CreateTime", "LogAppendTime")
    ),
    "log.retention.bytes": _long(-1),  # -1: no size limit
    "log.retention.hours": _int(-1),
    "log.retention.minutes": _int(-1),
    "log.retention.ms": _long(-1),  # -1: no time limit
    "log.roll.ms": _long(1),
    "log.segment.bytes": _int(14),  # Kafka's floor: one record's overhead
    "max.incremental.fetch.session.cache.slots": _int(0),
    "message.max.bytes": _int(0),
    "min.insync.replicas": _int(1),
    "num.io.threads": _int(1),
    "num.network.threads": _int(1),
    "num.partitions": _int(1),
    "num.recovery.threads.per.data.dir": _int(1),
    "num.replica.fetchers": _int(1),
    "offsets.retention.minutes": _int(1),
    "offsets.topic.replication.factor": _short(1),
    "replica.fetch.max.bytes": _int(0),
    "replica.fetch.response.max.bytes": _int(0),
    "replica.lag.time.max.ms": _long(10_000, 30_000),  # MSK's own bounds
    "replica.selector.class": PropertySpec(ValueKind.CLASS),
    "replica.socket.receive.buffer.bytes": _int(-1),
    "socket.receive.buffer.bytes": _int(-1),  # -1: the OS default
    "socket.request.max.bytes": _int(1),
    "socket.send.buffer.bytes": _int(-1),  # -1: the OS default
    "transaction.max.timeout.ms": _int(1),
    "transaction.state.log.min.isr": _int(1),
    "transaction.state.log.replication.factor": _short(1),
    "transactional.id.expiration.ms": _int(1),
    "unclean.leader.election.enable": _boolean(),
    "zookeeper.connection.timeout.ms": _int(6_000, 18_000),  # MSK's own bounds
    "zookeeper.session.timeout.ms": _int(6_000, 18_000),  # MSK's own bounds
}
