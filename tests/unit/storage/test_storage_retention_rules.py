"""Kafka's precedence among the broker's retention settings, as the retention bound reads them."""

import pytest

from msk_autopilot.storage.retention import broker_retention_ms


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({}, 168 * 3_600_000),
        ({"log.retention.hours": "24"}, 24 * 3_600_000),
        ({"log.retention.hours": "24", "log.retention.minutes": "30"}, 30 * 60_000),
        ({"log.retention.minutes": "30", "log.retention.ms": "5000"}, 5000),
        ({"log.retention.ms": "-1", "log.retention.hours": "1"}, -1),
    ],
)
def test_ms_overrides_minutes_overrides_hours_over_kafkas_default(properties, expected):
    assert broker_retention_ms(properties) == expected
