"""Guardrails: each refuses its weakening, is satisfied by its override tag, and leaves safe
values alone (pure)."""

import pytest

from msk_autopilot.config.catalogue import CUSTOMER_SETTABLE
from msk_autopilot.config.guardrails import GUARDRAILS, judge, weakenings
from msk_autopilot.config.properties import validate


def found(text: str, zones: int | None = None) -> list[tuple[str, str, int]]:
    checked = validate(text)
    assert checked.valid, checked.problems
    return [
        (weakening.key, weakening.value, weakening.line)
        for weakening in weakenings(checked.properties, availability_zones=zones)
    ]


# (the text, the Availability Zones the followers span, the property it weakens)
WEAK = [
    ("unclean.leader.election.enable=true\n", None, "unclean.leader.election.enable"),
    ("unclean.leader.election.enable=TRUE\n", 3, "unclean.leader.election.enable"),
    ("allow.everyone.if.no.acl.found=true\n", None, "allow.everyone.if.no.acl.found"),
    ("min.insync.replicas=1\n", None, "min.insync.replicas"),  # MSK's RF 3 is assumed
    ("min.insync.replicas=1\n", 3, "min.insync.replicas"),
    ("default.replication.factor=3\nmin.insync.replicas=1\n", 2, "min.insync.replicas"),
    ("default.replication.factor=5\nmin.insync.replicas=1\n", None, "min.insync.replicas"),
    ("default.replication.factor=1\n", None, "default.replication.factor"),
    ("default.replication.factor=2\n", 3, "default.replication.factor"),
    ("log.retention.ms=1\n", None, "log.retention.ms"),
    ("log.retention.ms=0\n", None, "log.retention.ms"),
    ("log.retention.ms=3599999\n", None, "log.retention.ms"),
    ("log.retention.minutes=59\n", None, "log.retention.minutes"),
    ("log.retention.hours=0\n", None, "log.retention.hours"),
    ("log.retention.bytes=1073741823\n", None, "log.retention.bytes"),
    ("log.retention.bytes=1\n", None, "log.retention.bytes"),
]

SAFE = [
    ("unclean.leader.election.enable=false\n", None),
    ("allow.everyone.if.no.acl.found=false\n", None),
    ("auto.create.topics.enable=true\n", None),  # a nuisance, not a durability or security loss
    ("min.insync.replicas=2\n", 3),
    ("min.insync.replicas=1\n", 2),  # MSK's own default on two Availability Zones
    ("default.replication.factor=2\nmin.insync.replicas=1\n", None),
    ("default.replication.factor=2\n", None),
    ("default.replication.factor=2\n", 2),
    ("default.replication.factor=3\n", 3),
    ("log.retention.ms=3600000\n", None),
    ("log.retention.ms=-1\n", None),
    ("log.retention.minutes=60\n", None),
    ("log.retention.minutes=-1\n", None),
    ("log.retention.hours=1\n", None),
    ("log.retention.hours=-1\n", None),
    ("log.retention.bytes=1073741824\n", None),
    ("log.retention.bytes=-1\n", None),
]


@pytest.mark.parametrize(("text", "zones", "key"), WEAK)
def test_a_weakening_is_refused_without_an_override(text, zones, key):
    checked = validate(text)
    [weakening] = weakenings(checked.properties, availability_zones=zones)
    assert weakening.key == key
    refused, overridden = judge([weakening], {})
    assert refused == [weakening]
    assert overridden == []
    assert weakening.reason in weakening.refusal()
    assert f"tag the parameter msk-autopilot:allow:{key}={weakening.value}" in weakening.refusal()


@pytest.mark.parametrize(("text", "zones", "key"), WEAK)
def test_a_weakening_is_accepted_with_its_override(text, zones, key):
    [weakening] = weakenings(validate(text).properties, availability_zones=zones)
    refused, overridden = judge([weakening], {key: weakening.value})
    assert refused == []
    assert overridden == [weakening]


@pytest.mark.parametrize(("text", "zones"), SAFE)
def test_a_safe_value_trips_no_guardrail(text, zones):
    assert found(text, zones) == []


def test_an_override_allows_only_the_value_it_names():
    """An approved 30-minute retention does not let the next writer set 1 ms."""
    [weakening] = weakenings(validate("log.retention.ms=1\n").properties, availability_zones=None)
    refused, overridden = judge([weakening], {"log.retention.ms": "1800000"})
    assert (refused, overridden) == ([weakening], [])
    other_property = judge([weakening], {"unclean.leader.election.enable": "1"})
    assert other_property == ([weakening], [])


def test_the_ssm_only_writers_four_properties_are_each_refused_with_their_line():
    text = (
        "allow.everyone.if.no.acl.found=true\n"
        "unclean.leader.election.enable=true\n"
        "log.retention.ms=1\n"
        "min.insync.replicas=1\n"
    )
    assert found(text, 3) == [
        ("allow.everyone.if.no.acl.found", "true", 1),
        ("unclean.leader.election.enable", "true", 2),
        ("log.retention.ms", "1", 3),
        ("min.insync.replicas", "1", 4),
    ]


def test_a_shadowed_retention_is_still_judged():
    assert found("log.retention.ms=-1\nlog.retention.hours=0\n") == [
        ("log.retention.hours", "0", 2)
    ]


def test_every_guardrail_names_a_settable_property_once_with_a_reason():
    keys = [guardrail.key for guardrail in GUARDRAILS]
    assert len(keys) == len(set(keys))
    assert set(keys) <= set(CUSTOMER_SETTABLE)
    assert all(guardrail.reason and guardrail.rule for guardrail in GUARDRAILS)
