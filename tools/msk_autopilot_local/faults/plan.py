"""The fault plan: which requests get faults, how often, and which kinds.

A plan is JSON on the wire (a `--plan` file, `PUT /_fault_proxy/plan`) and msgspec validates it
there: unknown fields, out-of-range numbers and unknown kinds are refused with the field's path
(`$.rules[0].rate`) and what is allowed. Plans built in Python are trusted as written.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec.structs import force_setattr

from msk_autopilot_local.errors import LocalToolError

__all__ = ["DEFAULT_DELAY_SECONDS", "FaultKind", "FaultPlan", "FaultPlanError", "FaultRule"]

DEFAULT_DELAY_SECONDS = (0.05, 0.25)


class FaultKind(StrEnum):
    THROTTLE = "throttle"
    ERROR_500 = "error_500"
    ERROR_503 = "error_503"
    DROP_BEFORE = "drop_before"
    DROP_AFTER = "drop_after"
    DELAY = "delay"


class FaultPlanError(LocalToolError, ValueError):
    """A fault plan that cannot be used; the message names the field and what is allowed."""


Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Weight = Annotated[float, msgspec.Meta(ge=0.0)]
Seconds = Annotated[float, msgspec.Meta(ge=0.0)]
Count = Annotated[int, msgspec.Meta(ge=0)]
Pattern = Annotated[str, msgspec.Meta(min_length=1)]  # shell-style, for fnmatch


class FaultRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    """Which requests get faults (service and operation patterns), how often (`rate`), and which
    kinds: kind -> relative weight, or a list of equally likely kinds (made weights on creation).
    `skip` lets the first N matching requests through; after `limit` faults the rule is done."""

    rate: Probability
    kinds: dict[FaultKind, Weight] | list[FaultKind] = msgspec.field(
        default_factory=lambda: list(FaultKind)
    )
    service: Pattern = "*"
    operation: Pattern = "*"
    delay_seconds: tuple[Seconds, Seconds] = DEFAULT_DELAY_SECONDS
    skip: Count = 0
    limit: Count | None = None

    def __post_init__(self) -> None:
        # msgspec reports a ValueError raised here with the rule's path.
        if isinstance(self.kinds, list):
            force_setattr(self, "kinds", dict.fromkeys(self.kinds, 1.0))
        if not any(self.weights.values()):
            raise ValueError("kinds needs at least one kind with a positive weight")
        low, high = self.delay_seconds
        if low > high:
            raise ValueError(f"delaySeconds must be [min, max] with min <= max, not {[low, high]}")

    @property
    def weights(self) -> dict[FaultKind, float]:
        """`kinds` as kind -> weight, which `__post_init__` made it."""
        kinds = self.kinds
        return kinds if isinstance(kinds, dict) else dict.fromkeys(kinds, 1.0)

    def matches(self, service: str, operation: str) -> bool:
        return fnmatch.fnmatchcase(service, self.service) and fnmatch.fnmatchcase(
            operation, self.operation
        )


class FaultPlan(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The rules (the first that matches a request decides) and the seed that makes the
    decisions reproducible."""

    rules: tuple[FaultRule, ...] = ()
    seed: int = 0

    @classmethod
    def none(cls) -> FaultPlan:
        return cls()

    @classmethod
    def mixed(
        cls,
        rate: float,
        *,
        seed: int = 0,
        kinds: Mapping[FaultKind, float] | Iterable[FaultKind] = tuple(FaultKind),
        service: str = "*",
        operation: str = "*",
        delay_seconds: tuple[float, float] = DEFAULT_DELAY_SECONDS,
    ) -> FaultPlan:
        """One rule: `rate` of the matching requests get a fault, of `kinds` (by weight)."""
        weights = dict(kinds) if isinstance(kinds, Mapping) else list(kinds)
        return cls((FaultRule(rate, weights, service, operation, delay_seconds),), seed)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready builtins, in the shape `from_dict` and `--plan` read."""
        document: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(self))
        return document

    @classmethod
    def from_dict(cls, document: Any) -> FaultPlan:
        try:
            return msgspec.convert(document, cls)
        except msgspec.ValidationError as error:
            raise FaultPlanError(f"invalid fault plan: {error}") from None

    @classmethod
    def from_json(cls, data: bytes | str, source: str = "fault plan") -> FaultPlan:
        """Decode and validate a JSON plan; `source` names it in the error."""
        try:
            return msgspec.json.decode(data, type=cls)
        except msgspec.DecodeError as error:  # includes ValidationError
            raise FaultPlanError(f"invalid {source}: {error}") from None

    @classmethod
    def read(cls, path: Path) -> FaultPlan:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise FaultPlanError(
                f"cannot read plan file {path}: {error.strerror or error}"
            ) from None
        return cls.from_json(data, f"plan file {path}")
