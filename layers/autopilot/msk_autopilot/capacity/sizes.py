"""The broker sizes MSK offers and the size changes it allows (pure).

Sources: broker sizes from broker-instance-sizes.html; allowed changes from
msk-update-broker-type.html ("For Standard brokers, you can update your cluster broker size from
M5 or T3 to M7g, T3 to M5, or from M7g to M5. You can't migrate from a larger broker size to a
smaller broker size. For example, M7g.large to T3.small. For Express brokers, you can use only
M7g broker sizes.") and broker-instance-types.html (no switch between Standard and Express).
Within a family every size may follow every other; a move to a smaller size is refused above
the partition maximum of the smaller size (health.limits), which callers check with the
cluster's partition count.
"""

from __future__ import annotations

from msk_autopilot.health.limits import is_express

__all__ = [
    "EXPRESS_INSTANCE_TYPES",
    "INSTANCE_TYPES",
    "STANDARD_INSTANCE_TYPES",
    "family",
    "is_express",
    "larger",
    "size_rank",
    "smaller",
    "type_change_refusal",
    "vcpus",
]

_SIZES = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_M5_SIZES = (*_SIZES, "24xlarge")
T3_SMALL = "kafka.t3.small"

_LADDERS: dict[str, tuple[str, ...]] = {
    "kafka.t3": (T3_SMALL,),
    "kafka.m5": tuple(f"kafka.m5.{size}" for size in _M5_SIZES),
    "kafka.m7g": tuple(f"kafka.m7g.{size}" for size in _SIZES),
    "express.m7g": tuple(f"express.m7g.{size}" for size in _SIZES),
}
STANDARD_INSTANCE_TYPES: tuple[str, ...] = (
    *_LADDERS["kafka.t3"],
    *_LADDERS["kafka.m5"],
    *_LADDERS["kafka.m7g"],
)
EXPRESS_INSTANCE_TYPES: tuple[str, ...] = _LADDERS["express.m7g"]
INSTANCE_TYPES = STANDARD_INSTANCE_TYPES + EXPRESS_INSTANCE_TYPES

# Standard families a cluster may move to, by the family it is on (msk-update-broker-type.html).
_STANDARD_MOVES = {
    "kafka.t3": {"kafka.t3", "kafka.m5", "kafka.m7g"},
    "kafka.m5": {"kafka.m5", "kafka.m7g"},
    "kafka.m7g": {"kafka.m7g", "kafka.m5"},
}
_VCPUS = {
    "small": 2,
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "4xlarge": 16,
    "8xlarge": 32,
    "12xlarge": 48,
    "16xlarge": 64,
    "24xlarge": 96,
}
# Where a cluster on the one T3 size grows to: M7g, the better price-performance (broker sizes).
_T3_NEXT = "kafka.m7g.large"


def family(instance_type: str) -> str:
    """``kafka.m5``, ``kafka.m7g``, ``kafka.t3`` or ``express.m7g``."""
    return instance_type.rsplit(".", 1)[0]


def _size(instance_type: str) -> str:
    return instance_type.rsplit(".", 1)[1]


def vcpus(instance_type: str) -> int:
    return _VCPUS[_size(instance_type)]


def size_rank(instance_type: str) -> int:
    """Position by compute: equal ranks are equal sizes across families."""
    return _M5_SIZES.index(_size(instance_type)) + 1 if instance_type != T3_SMALL else 0


def larger(instance_type: str) -> str | None:
    """The next size up in the same family (from T3, M7g's smallest), or None at the top."""
    if instance_type == T3_SMALL:
        return _T3_NEXT
    ladder = _LADDERS.get(family(instance_type), ())
    if instance_type not in ladder:
        return None
    index = ladder.index(instance_type)
    return ladder[index + 1] if index + 1 < len(ladder) else None


def smaller(instance_type: str) -> str | None:
    """The next size down in the same family, or None at the bottom (M5 and M7g never move
    down to T3)."""
    ladder = _LADDERS.get(family(instance_type), ())
    if instance_type not in ladder:
        return None
    index = ladder.index(instance_type)
    return ladder[index - 1] if index > 0 else None


def type_change_refusal(source: str, target: str) -> str | None:
    """Why MSK refuses UpdateBrokerType from ``source`` to ``target``, or None when it allows
    it (partition limits aside)."""
    if target not in INSTANCE_TYPES:
        return f"Unsupported instance type {target}."
    if target == source:
        return "The request does not include any updates to the broker type."
    if is_express(source) != is_express(target):
        return "You can't change brokers between the Standard and Express broker types."
    if is_express(source):
        return None
    if family(target) not in _STANDARD_MOVES.get(family(source), set()):
        return (
            f"You can't update the broker size from {source} to {target}: Standard brokers move "
            "from M5 or T3 to M7g, from T3 to M5, or from M7g to M5."
        )
    return None
