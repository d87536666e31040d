"""The rotator's run lease and notice ledger, against moto's DynamoDB."""

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from msk_autopilot.config.coordination import RunLease
from msk_autopilot.ledger import NoticeLedger

TABLE = "msk-autopilot-idempotency"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def dynamodb(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def lease(dynamodb, clock: Clock, owner: str, **options) -> RunLease:
    return RunLease(dynamodb, TABLE, owner=owner, clock=clock, sleep=clock.sleep, **options)


def test_one_run_at_a_time(dynamodb):
    clock = Clock()
    first, second = lease(dynamodb, clock, "first"), lease(dynamodb, clock, "second")
    assert first.acquire()
    assert not second.acquire()  # waited its 60 s, in vain
    assert clock.now == START + timedelta(seconds=60)
    second.release()  # not its lease: nothing happens
    assert not lease(dynamodb, clock, "third", wait=timedelta(0)).acquire()
    first.release()
    assert second.acquire()


def test_a_waiting_run_gets_the_lease_when_it_is_released(dynamodb):
    clock = Clock()
    holder = lease(dynamodb, clock, "holder")
    assert holder.acquire()

    def sleep_then_release(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now >= START + timedelta(seconds=5):
            holder.release()

    waiter = RunLease(dynamodb, TABLE, owner="waiter", clock=clock, sleep=sleep_then_release)
    assert waiter.acquire()
    assert clock.now == START + timedelta(seconds=5)


def test_a_crashed_runs_lease_expires(dynamodb):
    clock = Clock()
    assert lease(dynamodb, clock, "crashed").acquire()  # never released
    clock.now += timedelta(seconds=151)
    assert lease(dynamodb, clock, "next", wait=timedelta(0)).acquire()


def test_a_notice_is_sent_once_per_window(dynamodb):
    ledger = NoticeLedger(dynamodb, TABLE, "config-rotator")
    day = timedelta(hours=24)
    assert ledger.first("invalid:base", now=START, window=day)
    assert not ledger.first("invalid:base", now=START + timedelta(hours=23), window=day)
    assert ledger.first("invalid:other", now=START, window=day)
    assert ledger.first("invalid:base", now=START + timedelta(hours=25), window=day)


def test_each_namespace_has_its_own_lease(dynamodb):
    clock = Clock()
    rotator = lease(dynamodb, clock, "rotator", wait=timedelta(0))
    upgrader = lease(dynamodb, clock, "upgrader", wait=timedelta(0), namespace="version-upgrader")
    assert rotator.acquire()
    assert upgrader.acquire()  # another function's run does not hold it back
    assert not lease(
        dynamodb, clock, "second", wait=timedelta(0), namespace="version-upgrader"
    ).acquire()
