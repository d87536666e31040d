"""The connector collector against the emulator's MSK Connect: every page followed, each call
counted, and a refusal as DataUnavailable."""

import pytest
from audit_world import REGION, Forbidden

from msk_autopilot.audit.collect import AuditTarget, counting_api_calls, list_connectors
from msk_autopilot.audit.controls import DataUnavailable
from msk_autopilot.aws import ClientFactory
from msk_autopilot_local.emulator import seed_fleet
from msk_autopilot_local.emulator.kafkaconnect import KafkaConnectBackend
from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT


@pytest.fixture
def target(aws) -> AuditTarget:
    return AuditTarget(LOCAL_ACCOUNT, REGION, ClientFactory(REGION))


def test_the_collector_follows_every_page(aws, target):
    connectors = [
        {"name": f"sink-{n:03d}", "cluster": "source", "encryptionInTransit": "TLS"}
        for n in range(101)
    ]
    seed_fleet(aws, {"clusters": [{"name": "source"}], "connectors": connectors})

    with counting_api_calls() as calls:
        found = list_connectors(target)

    assert sorted(c.connector_name for c in found) == [c["name"] for c in connectors]
    assert dict(calls) == {"kafkaconnect.ListConnectors": 2}  # 100 a page


def test_a_refused_listing_is_data_unavailable(target, monkeypatch):
    def denied(self, *args, **kwargs):
        raise Forbidden("User is not authorized to perform: kafkaconnect:ListConnectors")

    monkeypatch.setattr(KafkaConnectBackend, "list_connectors", denied)

    with pytest.raises(DataUnavailable, match="ListConnectors failed: ForbiddenException"):
        list_connectors(target)
