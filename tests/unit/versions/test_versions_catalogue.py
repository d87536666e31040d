"""The version catalogue: AWS's published dates, overrides, ListKafkaVersions, support windows."""

from datetime import date

import pytest

from msk_autopilot.versions.catalogue import (
    Catalogue,
    CatalogueError,
    SupportState,
    is_kraft,
    version_key,
)

CATALOGUE = Catalogue.built_in()


def test_the_built_in_table_carries_aws_published_dates_and_no_invented_ones() -> None:
    versions = CATALOGUE.versions
    assert versions["2.8.2.tiered"].end_of_support == date(2025, 1, 14)
    assert versions["3.4.0"].end_of_support == date(2025, 8, 4)
    assert versions["3.5.1"].end_of_support == date(2025, 10, 23)
    assert versions["3.6.0"].end_of_support == date(2026, 6, 1)
    assert versions["3.7.x"].end_of_support == date(2026, 9, 1)
    assert versions["3.7.x.kraft"].end_of_support == date(2026, 9, 1)
    assert versions["3.8.x"].released == date(2025, 2, 20)
    assert versions["4.0.x.kraft"].released == date(2025, 5, 16)
    for unpublished in ("3.8.x", "3.9.x", "3.9.x.kraft", "4.0.x.kraft", "4.1.x.kraft"):
        assert versions[unpublished].end_of_support is None
    assert versions["4.1.x.kraft"].released is None
    assert versions["1.1.1"].released is None
    assert CATALOGUE.recommended == "3.8.x"


def test_version_names_sort_as_msk_numbers_them_and_kraft_is_in_the_name() -> None:
    names = ["3.10.0", "3.9.x", "2.4.1.1", "2.4.1", "3.8.1", "3.8.x", "2.8.2.tiered"]
    assert sorted(names, key=version_key) == [
        "2.4.1",
        "2.4.1.1",
        "2.8.2.tiered",
        "3.8.1",
        "3.8.x",
        "3.9.x",
        "3.10.0",
    ]
    assert is_kraft("4.0.x.kraft")
    assert not is_kraft("3.9.x")
    assert not is_kraft("2.8.2.tiered")


@pytest.mark.parametrize(
    ("today", "state", "days_left"),
    [
        (date(2026, 3, 2), SupportState.SUPPORTED, 91),
        (date(2026, 3, 3), SupportState.ENDING_SOON, 90),
        (date(2026, 5, 31), SupportState.ENDING_SOON, 1),
        (date(2026, 6, 1), SupportState.PAST_END_OF_SUPPORT, 0),
        (date(2026, 7, 1), SupportState.PAST_END_OF_SUPPORT, -30),
    ],
)
def test_support_changes_at_90_days_and_ends_on_the_date_itself(
    today: date, state: SupportState, days_left: int
) -> None:
    status = CATALOGUE.support("3.6.0", today)
    assert (status.state, status.days_left, status.end_of_support) == (
        state,
        days_left,
        date(2026, 6, 1),
    )


def test_ending_soon_horizon_is_a_parameter() -> None:
    assert CATALOGUE.support("3.6.0", date(2026, 4, 1), ending_soon_days=30).state is (
        SupportState.SUPPORTED
    )
    assert CATALOGUE.support("3.6.0", date(2026, 5, 2), ending_soon_days=30).state is (
        SupportState.ENDING_SOON
    )


def test_versions_without_a_published_end_are_supported_and_unknown_ones_unknown() -> None:
    today = date(2026, 12, 5)
    recommended = CATALOGUE.support("3.8.x", today)
    assert (recommended.state, recommended.end_of_support, recommended.days_left) == (
        SupportState.SUPPORTED,
        None,
        None,
    )
    assert CATALOGUE.support("9.9.x", today).state is SupportState.UNKNOWN
    assert "not in the version catalogue" in CATALOGUE.support("9.9.x", today).describe()
    assert "reached end of support on 2025-10-23" in CATALOGUE.support("3.5.1", today).describe()


def test_reconciling_with_list_kafka_versions_deprecates_and_reports_unknown_versions() -> None:
    listed = {
        "3.6.0": "ACTIVE",
        "3.7.x": "DEPRECATED",
        "3.8.x": "ACTIVE",
        "4.2.x.kraft": "ACTIVE",
        "3.10.x": "ACTIVE",
    }
    catalogue = CATALOGUE.reconciled(listed)
    # The table gives 3.7.x until 2026-09-01; MSK listing it DEPRECATED wins.
    early = catalogue.support("3.7.x", date(2026, 1, 1))
    assert early.state is SupportState.PAST_END_OF_SUPPORT
    assert early.deprecated_by_msk
    assert catalogue.unknown == ("3.10.x", "4.2.x.kraft")
    assert catalogue.support("4.2.x.kraft", date(2026, 1, 1)).state is SupportState.UNKNOWN
    assert catalogue.offered("3.8.x")
    assert not catalogue.offered("3.7.x")
    assert not catalogue.offered("3.9.x")  # in the table, but this region does not list it
    assert CATALOGUE.offered("3.9.x")  # before reconciling, the table is all there is


def test_overrides_merge_over_the_table_field_by_field() -> None:
    catalogue = Catalogue.with_overrides(
        '{"recommended": "3.9.x", "versions": {'
        '"3.8.x": {"end_of_support": "2027-02-01"},'
        '"4.2.x.kraft": {"released": "2026-10-01"},'
        '"3.6.0": {"end_of_support": null}}}'
    )
    assert catalogue.recommended == "3.9.x"
    assert catalogue.versions["3.8.x"].end_of_support == date(2027, 2, 1)
    assert catalogue.versions["3.8.x"].released == date(2025, 2, 20)
    assert catalogue.versions["4.2.x.kraft"].released == date(2026, 10, 1)
    assert catalogue.versions["3.6.0"].end_of_support is None
    assert catalogue.versions["3.7.x"] == CATALOGUE.versions["3.7.x"]
    assert Catalogue.with_overrides("  ") == CATALOGUE


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            '{"versions": {"3.8.x": {"end_of_support": "soon"}}}',
            "$.versions['3.8.x'].end_of_support",
        ),
        ('{"versions": {"3.8.x": {"eos": "2027-01-01"}}}', "`eos` in `$.versions['3.8.x']`"),
        ('{"recomended": "3.9.x"}', "recomended"),
        ('{"recommended": "5.0.x"}', "$.recommended"),
        ('{"versions": {"latest": {}}}', "$.versions['latest']"),
        (
            '{"versions": {"3.8.x": {"end_of_support": "2020-01-01"}}}',
            "$.versions['3.8.x'].end_of_support",
        ),
        ("{not json", "invalid version catalogue override"),
    ],
)
def test_a_bad_override_is_one_error_naming_the_field(text: str, names: str) -> None:
    with pytest.raises(CatalogueError) as raised:
        Catalogue.with_overrides(text)
    message = str(raised.value)
    assert message.startswith("invalid version catalogue override")
    assert names in message
    assert "\n" not in message


def test_kraft_clusters_are_recommended_the_kraft_line() -> None:
    assert CATALOGUE.recommended_for("3.6.0") == "3.8.x"
    assert CATALOGUE.recommended_for("3.7.x.kraft") == "3.8.x.kraft"
