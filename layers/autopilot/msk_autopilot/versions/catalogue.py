"""MSK's Kafka versions: release and end-of-support dates, KRaft or not, the recommended one.

The built-in table is AWS's "Supported Apache Kafka versions" table (supported-kafka-versions.html)
and version-support.html, as checked in REFERENCE.md ("Kafka versions"): 3.6.0 ends 2026-06-01,
3.7.x 2026-09-01, 3.8.x is recommended; 4.x runs KRaft only. A date AWS has not published is None,
never guessed; 4.1.x.kraft is offered but its MSK release date is not in the table we checked.
Names are the API's ("2.8.2.tiered", the table's "2.8.2-tiered"); a ".kraft" version shares its
line's dates. After end of support MSK upgrades a cluster to the recommended version at any time,
without notice, which is why the planner acts before the date.

`Catalogue.with_overrides(text)` merges a JSON document (a stack parameter) over the table, so a
new date or version needs no release; `Catalogue.reconciled(listed)` folds in ListKafkaVersions:
a version MSK lists as DEPRECATED is past support whatever the table says, and a version MSK lists
that the table lacks is *unknown*: reported, never given dates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from enum import StrEnum

import msgspec

__all__ = [
    "BUILT_IN",
    "DEFAULT_ENDING_SOON_DAYS",
    "Catalogue",
    "CatalogueError",
    "KafkaVersion",
    "SupportState",
    "SupportStatus",
    "is_kraft",
    "version_key",
]

DEFAULT_ENDING_SOON_DAYS = 90
_NAME = re.compile(r"\d+\.\d+\.(\d+|x)(\.\d+)?(\.kraft|\.tiered)?")
# An "x" patch ("3.8.x": MSK applies patch releases itself) sorts above every numbered patch.
_X_PATCH = 1_000_000


def version_key(version: str) -> tuple[int, ...]:
    """Sortable numeric parts of an MSK version name ("2.4.1.1" > "2.4.1", "3.8.x" > "3.8.1")."""
    parts: list[int] = []
    for part in version.split("."):
        if part == "x":
            parts.append(_X_PATCH)
        elif part.isdigit():
            parts.append(int(part))
    return tuple(parts)


def is_kraft(version: str) -> bool:
    """Whether a version runs KRaft controllers instead of ZooKeeper (MSK names them ".kraft")."""
    return version.endswith(".kraft")


class KafkaVersion(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One version as AWS publishes it; None where AWS has published no date."""

    released: date | None = None
    end_of_support: date | None = None


class SupportState(StrEnum):
    SUPPORTED = "supported"
    ENDING_SOON = "ending_soon"
    PAST_END_OF_SUPPORT = "past_end_of_support"
    UNKNOWN = "unknown"


class SupportStatus(msgspec.Struct, frozen=True):
    """Where a version stands on a given day; `days_left` is negative once past the date."""

    version: str
    state: SupportState
    end_of_support: date | None = None
    days_left: int | None = None
    deprecated_by_msk: bool = False

    def describe(self) -> str:
        if self.state is SupportState.UNKNOWN:
            return f"{self.version} is not in the version catalogue: end of support unknown"
        past_date = self.days_left is not None and self.days_left <= 0
        if self.deprecated_by_msk and not past_date:  # MSK's word outranks a later date
            return f"{self.version} is listed DEPRECATED by MSK: past end of support"
        if self.end_of_support is None:
            return f"{self.version} is supported (no end of support published)"
        if past_date:
            return f"{self.version} reached end of support on {self.end_of_support}"
        return (
            f"{self.version} reaches end of support on {self.end_of_support} "
            f"(in {self.days_left} days)"
        )


class CatalogueError(ValueError):
    """A catalogue override is not valid; the message names the field."""


class _VersionOverride(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    released: date | msgspec.UnsetType | None = msgspec.UNSET
    end_of_support: date | msgspec.UnsetType | None = msgspec.UNSET


class _Overrides(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    recommended: str | msgspec.UnsetType = msgspec.UNSET
    # Raw, decoded one by one, so an error can name the version (msgspec elides dict keys).
    versions: dict[str, msgspec.Raw] = {}


def _line(released: str | None, end: str | None = None) -> KafkaVersion:
    return KafkaVersion(
        released=date.fromisoformat(released) if released else None,
        end_of_support=date.fromisoformat(end) if end else None,
    )


BUILT_IN: dict[str, KafkaVersion] = {
    "1.1.1": _line(None, "2024-06-05"),
    "2.1.0": _line(None, "2024-06-05"),
    "2.2.1": _line("2019-07-31", "2024-06-08"),
    "2.3.1": _line("2019-12-19", "2024-06-08"),
    "2.4.1": _line("2020-04-02", "2024-06-08"),
    "2.4.1.1": _line("2020-09-09", "2024-06-08"),
    "2.5.1": _line("2020-09-30", "2024-06-08"),
    "2.6.0": _line("2020-10-21", "2024-09-11"),
    "2.6.1": _line("2021-01-19", "2024-09-11"),
    "2.6.2": _line("2021-04-29", "2024-09-11"),
    "2.6.3": _line("2021-12-21", "2024-09-11"),
    "2.7.0": _line("2020-12-29", "2024-09-11"),
    "2.7.1": _line("2021-05-25", "2024-09-11"),
    "2.7.2": _line("2021-12-21", "2024-09-11"),
    "2.8.0": _line("2021-05-19", "2024-09-11"),
    "2.8.1": _line("2022-10-28", "2024-09-11"),
    "2.8.2.tiered": _line("2022-10-28", "2025-01-14"),
    "3.1.1": _line("2022-06-22", "2024-09-11"),
    "3.2.0": _line("2022-06-22", "2024-09-11"),
    "3.3.1": _line("2022-10-26", "2024-09-11"),
    "3.3.2": _line("2023-03-02", "2024-09-11"),
    "3.4.0": _line("2023-05-04", "2025-08-04"),
    "3.5.1": _line("2023-09-26", "2025-10-23"),
    "3.6.0": _line("2023-11-16", "2026-06-01"),
    "3.7.x": _line("2024-05-29", "2026-09-01"),
    "3.7.x.kraft": _line("2024-05-29", "2026-09-01"),
    "3.8.x": _line("2025-02-20"),
    "3.8.x.kraft": _line("2025-02-20"),
    "3.9.x": _line("2025-04-21"),
    "3.9.x.kraft": _line("2025-04-21"),
    "4.0.x.kraft": _line("2025-05-16"),
    "4.1.x.kraft": _line(None),
}
BUILT_IN_RECOMMENDED = "3.8.x"


class Catalogue(msgspec.Struct, frozen=True):
    """The versions the planner knows, optionally reconciled with what MSK lists.

    `listed` is ListKafkaVersions' {version: status} once `reconciled`, None before.
    """

    versions: dict[str, KafkaVersion]
    recommended: str
    listed: dict[str, str] | None = None

    @classmethod
    def built_in(cls) -> Catalogue:
        return cls(versions=dict(BUILT_IN), recommended=BUILT_IN_RECOMMENDED)

    @classmethod
    def with_overrides(cls, text: str) -> Catalogue:
        """The built-in table with a JSON document merged over it; an empty text changes nothing.

        Form: {"recommended": "3.9.x", "versions": {"3.8.x": {"end_of_support": "2027-01-01"},
        "4.2.x.kraft": {"released": "2026-06-01"}}}. Given fields replace the table's, others
        stay. Raises CatalogueError naming the offending field.
        """
        catalogue = cls.built_in()
        if not text.strip():
            return catalogue
        try:
            overrides = msgspec.json.decode(text, type=_Overrides)
        except msgspec.DecodeError as error:
            raise CatalogueError(f"invalid version catalogue override: {error}") from None
        versions = dict(catalogue.versions)
        for name, raw in overrides.versions.items():
            if not _NAME.fullmatch(name):
                raise CatalogueError(
                    f"invalid version catalogue override: `$.versions[{name!r}]` is not an MSK "
                    'version name (e.g. "3.9.x", "3.9.x.kraft", "2.8.2.tiered")'
                )
            versions[name] = _merged(versions.get(name, KafkaVersion()), _decoded(raw, name), name)
        recommended = (
            catalogue.recommended
            if isinstance(overrides.recommended, msgspec.UnsetType)
            else overrides.recommended
        )
        if recommended not in versions:
            raise CatalogueError(
                f"invalid version catalogue override: `$.recommended` names {recommended!r}, "
                "which is not in the catalogue"
            )
        return cls(versions=versions, recommended=recommended)

    def reconciled(self, listed: Mapping[str, str]) -> Catalogue:
        """This catalogue checked against ListKafkaVersions' {version: ACTIVE | DEPRECATED}."""
        return msgspec.structs.replace(self, listed=dict(listed))

    @property
    def unknown(self) -> tuple[str, ...]:
        """Versions MSK lists that the table lacks: reported, never given dates."""
        missing = [name for name in self.listed or {} if name not in self.versions]
        return tuple(sorted(missing, key=version_key))

    def offered(self, version: str) -> bool:
        """Whether MSK offers `version`: listed ACTIVE (before reconciling: in the table)."""
        if self.listed is None:
            return version in self.versions
        return self.listed.get(version) == "ACTIVE"

    def recommended_for(self, current: str) -> str:
        """The recommended version in `current`'s metadata mode (KRaft clusters cannot go back)."""
        if is_kraft(current) and not is_kraft(self.recommended):
            kraft = f"{self.recommended}.kraft"
            if kraft in self.versions:
                return kraft
        return self.recommended

    def support(
        self, version: str, today: date, *, ending_soon_days: int = DEFAULT_ENDING_SOON_DAYS
    ) -> SupportStatus:
        """`version`'s support on `today`: past it from the end-of-support date itself on."""
        deprecated = (self.listed or {}).get(version) == "DEPRECATED"
        entry = self.versions.get(version)
        end = entry.end_of_support if entry else None
        days_left = (end - today).days if end else None
        if deprecated or (days_left is not None and days_left <= 0):
            state = SupportState.PAST_END_OF_SUPPORT
        elif entry is None:
            state = SupportState.UNKNOWN
        elif days_left is not None and days_left <= ending_soon_days:
            state = SupportState.ENDING_SOON
        else:
            state = SupportState.SUPPORTED
        return SupportStatus(version, state, end, days_left, deprecated_by_msk=deprecated)


def _decoded(raw: msgspec.Raw, name: str) -> _VersionOverride:
    try:
        return msgspec.json.decode(raw, type=_VersionOverride)
    except msgspec.DecodeError as error:
        path = f"$.versions[{name!r}]"
        where = (
            str(error).replace("`$", f"`{path}") if "`$" in str(error) else f"{error} in `{path}`"
        )
        raise CatalogueError(f"invalid version catalogue override: {where}") from None


def _merged(entry: KafkaVersion, override: _VersionOverride, name: str) -> KafkaVersion:
    released = entry.released if override.released is msgspec.UNSET else override.released
    end = (
        entry.end_of_support
        if override.end_of_support is msgspec.UNSET
        else override.end_of_support
    )
    if released and end and end < released:
        raise CatalogueError(
            f"invalid version catalogue override: `$.versions[{name!r}].end_of_support` "
            f"({end}) is before its release ({released})"
        )
    return KafkaVersion(released=released, end_of_support=end)
