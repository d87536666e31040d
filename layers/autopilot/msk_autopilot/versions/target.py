"""A cluster's version target, from its `msk-autopilot:kafka-version` tag.

"recommended" (the default without the tag) follows the catalogue's recommended version in the
cluster's metadata mode and never moves a cluster already past it; "pinned" never upgrades; any
other value must be a version MSK offers. Anything else is a reported skip, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import msgspec

from msk_autopilot.versions.catalogue import Catalogue, is_kraft, version_key

__all__ = [
    "CANARY_TAG",
    "TARGET_TAG",
    "WINDOW_TAG",
    "Target",
    "TargetKind",
    "is_canary",
    "resolve_target",
]

TARGET_TAG = "msk-autopilot:kafka-version"
WINDOW_TAG = "msk-autopilot:maintenance-window"
CANARY_TAG = "msk-autopilot:canary"
RECOMMENDED = "recommended"
PINNED = "pinned"


class TargetKind(StrEnum):
    EXPLICIT = "explicit"
    RECOMMENDED = "recommended"
    PINNED = "pinned"
    INVALID = "invalid"


class Target(msgspec.Struct, frozen=True):
    """What the tag asks for: `version` for EXPLICIT and RECOMMENDED, `problem` for INVALID."""

    kind: TargetKind
    version: str | None = None
    problem: str | None = None


def is_canary(tags: Mapping[str, str]) -> bool:
    return tags.get(CANARY_TAG, "").strip().lower() == "true"


def resolve_target(tags: Mapping[str, str], current: str, catalogue: Catalogue) -> Target:
    """The target the tag asks for on a cluster at `current`."""
    value = tags.get(TARGET_TAG, RECOMMENDED).strip()
    if value.lower() == PINNED:
        return Target(TargetKind.PINNED)
    if value.lower() == RECOMMENDED:
        recommended = catalogue.recommended_for(current)
        newest = max(recommended, current, key=version_key)
        return Target(TargetKind.RECOMMENDED, newest)
    if value not in catalogue.versions and value not in (catalogue.listed or {}):
        return Target(
            TargetKind.INVALID,
            problem=(
                f"tag {TARGET_TAG}={value!r} is neither a known version nor "
                f"{RECOMMENDED!r} or {PINNED!r}"
            ),
        )
    if value != current and not catalogue.offered(value):
        return Target(TargetKind.INVALID, problem=f"MSK does not offer {value} as a target")
    if version_key(value) < version_key(current) or (is_kraft(current) and not is_kraft(value)):
        return Target(
            TargetKind.INVALID, problem=f"MSK does not downgrade: {current} cannot move to {value}"
        )
    return Target(TargetKind.EXPLICIT, value)
