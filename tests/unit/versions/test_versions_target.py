"""Targets from the `msk-autopilot:kafka-version` tag, and the canary tag."""

import pytest

from msk_autopilot.versions.catalogue import Catalogue
from msk_autopilot.versions.target import (
    CANARY_TAG,
    TARGET_TAG,
    Target,
    TargetKind,
    is_canary,
    resolve_target,
)

CATALOGUE = Catalogue.built_in().reconciled(
    {
        "3.6.0": "ACTIVE",
        "3.7.x": "DEPRECATED",
        "3.8.x": "ACTIVE",
        "3.8.x.kraft": "ACTIVE",
        "3.9.x": "ACTIVE",
        "3.9.x.kraft": "ACTIVE",
        "4.0.x.kraft": "ACTIVE",
    }
)


@pytest.mark.parametrize(
    ("tags", "current", "expected"),
    [
        ({}, "3.6.0", Target(TargetKind.RECOMMENDED, "3.8.x")),
        ({TARGET_TAG: "recommended"}, "3.6.0", Target(TargetKind.RECOMMENDED, "3.8.x")),
        (
            {TARGET_TAG: " Recommended "},
            "3.7.x.kraft",
            Target(TargetKind.RECOMMENDED, "3.8.x.kraft"),
        ),
        # Already past the recommended version: recommended never moves it back.
        ({}, "3.9.x", Target(TargetKind.RECOMMENDED, "3.9.x")),
        ({}, "4.0.x.kraft", Target(TargetKind.RECOMMENDED, "4.0.x.kraft")),
        ({TARGET_TAG: "pinned"}, "3.6.0", Target(TargetKind.PINNED)),
        ({TARGET_TAG: "PINNED"}, "3.6.0", Target(TargetKind.PINNED)),
        ({TARGET_TAG: "3.9.x"}, "3.6.0", Target(TargetKind.EXPLICIT, "3.9.x")),
        ({TARGET_TAG: "4.0.x.kraft"}, "3.6.0", Target(TargetKind.EXPLICIT, "4.0.x.kraft")),
        ({TARGET_TAG: "3.6.0"}, "3.6.0", Target(TargetKind.EXPLICIT, "3.6.0")),
    ],
)
def test_each_tag_value_resolves_to_its_target(
    tags: dict[str, str], current: str, expected: Target
) -> None:
    assert resolve_target(tags, current, CATALOGUE) == expected


@pytest.mark.parametrize(
    ("value", "current", "problem"),
    [
        ("latest", "3.6.0", "tag msk-autopilot:kafka-version='latest' is neither a known version"),
        ("", "3.6.0", "tag msk-autopilot:kafka-version='' is neither"),
        ("3.7.x", "3.6.0", "MSK does not offer 3.7.x as a target"),  # DEPRECATED
        ("4.1.x.kraft", "3.6.0", "MSK does not offer 4.1.x.kraft"),  # not listed here
        ("3.8.x", "3.9.x", "MSK does not downgrade: 3.9.x cannot move to 3.8.x"),
        ("3.9.x", "3.8.x.kraft", "MSK does not downgrade: 3.8.x.kraft cannot move to 3.9.x"),
    ],
)
def test_bad_tag_values_are_invalid_with_the_reason(value: str, current: str, problem: str) -> None:
    target = resolve_target({TARGET_TAG: value}, current, CATALOGUE)
    assert target.kind is TargetKind.INVALID
    assert target.version is None
    assert target.problem is not None
    assert target.problem.startswith(problem)


@pytest.mark.parametrize(
    ("tags", "canary"),
    [
        ({CANARY_TAG: "true"}, True),
        ({CANARY_TAG: "True "}, True),
        ({CANARY_TAG: "yes"}, False),
        ({}, False),
    ],
)
def test_only_canary_true_marks_a_canary(tags: dict[str, str], canary: bool) -> None:
    assert is_canary(tags) is canary
