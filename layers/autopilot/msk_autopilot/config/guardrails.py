"""Guardrails: broker properties that weaken durability or security, refused unless overridden.

Whoever can write a configuration's parameter would otherwise control every cluster that
follows it. Each `Guardrail` below is one rule: the property, the condition that makes its value
a weakening, and why. A configuration whose text trips one is refused, unless the parameter
carries the tag `msk-autopilot:allow:<property>` whose value is exactly the value the text sets.

The override is a tag, not a comment in the text, because the text is what an attacker who can
only write Parameter Store (`ssm:PutParameter`) controls: a comment there would let them approve
their own change. Tagging needs `ssm:AddTagsToResource`, a separate permission (also needed to
create a parameter with tags), which a configuration author need not have. Naming the value
means an existing override does not let the next writer weaken the property further.

Only explicit settings are judged: a property the text leaves out keeps MSK's default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec
from botocore.exceptions import ClientError

from msk_autopilot.aws import error_code
from msk_autopilot.config.properties import ServerProperties

__all__ = [
    "GUARDRAILS",
    "OVERRIDE_TAG_PREFIX",
    "RETENTION_FLOOR_BYTES",
    "RETENTION_FLOOR_MS",
    "Guardrail",
    "Setting",
    "Weakening",
    "judge",
    "read_overrides",
    "weakenings",
]

OVERRIDE_TAG_PREFIX = "msk-autopilot:allow:"
RETENTION_FLOOR_MS = 3_600_000  # one hour
RETENTION_FLOOR_BYTES = 1_073_741_824  # 1 GiB, Kafka's default log.segment.bytes


class Setting(msgspec.Struct, frozen=True):
    """What a condition sees: the value, the whole text, and the followers' Availability Zones
    (the most any follower spans; None when no follower is known)."""

    value: str
    properties: Mapping[str, str]
    availability_zones: int | None

    @property
    def number(self) -> int:
        return int(self.value)  # the text was validated: whole-number properties parse

    @property
    def replication_factor(self) -> int:
        """The text's default.replication.factor, else MSK's default: 2 on clusters in two
        Availability Zones, 3 otherwise (and when unknown, the stricter assumption)."""
        explicit = self.properties.get("default.replication.factor")
        if explicit is not None:
            return int(explicit)
        return 2 if self.availability_zones == 2 else 3


class Guardrail(msgspec.Struct, frozen=True):
    key: str  # the property
    rule: str  # when the value is refused, completing "refused because it ..."
    reason: str
    weakens: Callable[[Setting], bool]


class Weakening(msgspec.Struct, frozen=True):
    """A setting a guardrail refuses, and the tag that would allow it."""

    key: str  # the property
    value: str
    line: int
    rule: str
    reason: str

    @property
    def override_tag(self) -> str:
        return f"{OVERRIDE_TAG_PREFIX}{self.key}={self.value}"

    def refusal(self) -> str:
        return (
            f"{self.key}={self.value} is refused because it {self.rule}: {self.reason}; "
            f"to allow it, tag the parameter {self.override_tag}"
        )

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


def _true(setting: Setting) -> bool:
    return setting.value.lower() == "true"  # Kafka reads booleans case-insensitively


def _below(floor: int) -> Callable[[Setting], bool]:
    # Kafka treats any negative retention as unlimited.
    return lambda setting: 0 <= setting.number < floor


def _min_insync_below_two(setting: Setting) -> bool:
    return setting.number < 2 and setting.replication_factor >= 3


def _replication_below_zones(setting: Setting) -> bool:
    zones = setting.availability_zones
    return setting.number < (3 if zones is not None and zones >= 3 else 2)


_RETENTION = (
    "it deletes data before a consumer stopped by a routine event (a redeploy, a broker restart "
    "in a rolling update) catches up; a topic that needs less sets retention.ms itself"
)

GUARDRAILS: tuple[Guardrail, ...] = (
    Guardrail(
        "unclean.leader.election.enable",
        "is true",
        "an out-of-sync replica may become leader and silently drop acknowledged writes",
        _true,
    ),
    Guardrail(
        "allow.everyone.if.no.acl.found",
        "is true",
        "every authenticated (or, on an unauthenticated listener, anonymous) client may read and "
        "write any topic that has no ACL",
        _true,
    ),
    Guardrail(
        "min.insync.replicas",
        "is below 2 where the replication factor is 3 or more",
        "a write acknowledged by the leader alone is lost with that broker; 2 keeps every "
        "acknowledged write on two brokers and still lets acks=all producers write with one "
        "broker down",
        _min_insync_below_two,
    ),
    Guardrail(
        "default.replication.factor",
        "is below 3 where a follower spans 3 Availability Zones or more (else below 2)",
        "a topic created with the default keeps too few copies: at 1 a broker's loss loses data, "
        "at 2 on three zones a zone outage leaves partitions with a single copy",
        _replication_below_zones,
    ),
    Guardrail(
        "log.retention.ms",
        f"is under 1 hour (0 to {RETENTION_FLOOR_MS - 1}; -1 is unlimited)",
        _RETENTION,
        _below(RETENTION_FLOOR_MS),
    ),
    Guardrail(
        "log.retention.minutes",
        "is under 1 hour (0 to 59; -1 is unlimited)",
        _RETENTION,
        _below(RETENTION_FLOOR_MS // 60_000),
    ),
    Guardrail(
        "log.retention.hours",
        "is under 1 hour (0; -1 is unlimited)",
        _RETENTION,
        _below(RETENTION_FLOOR_MS // 3_600_000),
    ),
    Guardrail(
        "log.retention.bytes",
        f"is under 1 GiB per partition (0 to {RETENTION_FLOOR_BYTES - 1}; -1 is unlimited)",
        "below one default segment (1 GiB) each closed segment is deleted as soon as it rolls, "
        "so a partition keeps little more than the segment being written; a topic that needs "
        "less sets retention.bytes itself",
        _below(RETENTION_FLOOR_BYTES),
    ),
)


def weakenings(properties: ServerProperties, *, availability_zones: int | None) -> list[Weakening]:
    """Every setting of a validated text that a guardrail refuses, in file order.

    A retention property that another one shadows (ms over minutes over hours) is still judged:
    deleting the line that shadows it would make it take effect.
    """
    values = properties.as_dict()
    rules = {guardrail.key: guardrail for guardrail in GUARDRAILS}
    found: list[Weakening] = []
    for entry in properties.entries:
        guardrail = rules.get(entry.key)
        if guardrail is None:
            continue
        if guardrail.weakens(Setting(entry.value, values, availability_zones)):
            found.append(
                Weakening(entry.key, entry.value, entry.line, guardrail.rule, guardrail.reason)
            )
    return found


def judge(
    found: Iterable[Weakening], overrides: Mapping[str, str]
) -> tuple[list[Weakening], list[Weakening]]:
    """(refused, overridden): a weakening is overridden only by its property's tag naming its
    exact value."""
    refused: list[Weakening] = []
    overridden: list[Weakening] = []
    for weakening in found:
        allowed = overrides.get(weakening.key)
        (overridden if allowed == weakening.value else refused).append(weakening)
    return refused, overridden


def read_overrides(ssm: Any, parameter: str) -> dict[str, str]:
    """Property -> allowed value, from the parameter's `msk-autopilot:allow:<property>` tags;
    empty when the parameter does not exist yet."""
    try:
        listed = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=parameter)
    except ClientError as error:
        if error_code(error) == "InvalidResourceId":
            return {}
        raise
    overrides: dict[str, str] = {}
    for tag in listed.get("TagList", []):
        key: str = tag["Key"]
        if key.startswith(OVERRIDE_TAG_PREFIX):
            overrides[key.removeprefix(OVERRIDE_TAG_PREFIX)] = tag["Value"]
    return overrides
