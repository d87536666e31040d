"""Guardrails end to end: the configuration rotator, cold-started per run against the MSK
emulator, refuses what an SSM-only writer could use to weaken the clusters; an override needs a
tag on the parameter and is called out; SecureString parameters are read like String ones."""

from typing import Any

import botocore.client
import pytest
from config_account import PREFIX, Account

BASE = """\
# msk-autopilot:kafka-versions = 3.8.x
min.insync.replicas=2
log.retention.hours=168
"""
# What a writer with ssm:PutParameter alone put under the configuration path.
HOSTILE = """\
allow.everyone.if.no.acl.found=true
unclean.leader.election.enable=true
log.retention.ms=1
min.insync.replicas=1
"""
MUTATING = {
    "CreateConfiguration",
    "UpdateConfiguration",
    "UpdateClusterConfiguration",
}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the AWS operations made from here on."""
    made: list[str] = []
    real_call = botocore.client.BaseClient._make_api_call

    def recording_call(client: Any, operation_name: str, params: Any) -> Any:
        made.append(operation_name)
        return real_call(client, operation_name, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording_call)
    return made


def base_of(result: dict[str, Any]) -> dict[str, Any]:
    return result["details"]["configurations"]["base"]


def allow(account: Account, key: str, value: str) -> None:
    account.ssm.add_tags_to_resource(
        ResourceType="Parameter",
        ResourceId=PREFIX + "base",
        Tags=[{"Key": f"msk-autopilot:allow:{key}", "Value": value}],
    )


def test_the_ssm_only_writers_weakening_is_refused_and_nothing_changes(account, calls):
    clusters = [account.cluster("alpha"), account.cluster("beta", canary=True)]
    account.push("base", BASE)
    account.rotate_configurations()
    account.finish_operations()
    account.rotate_configurations()
    account.finish_operations()
    assert {account.position(arn) for arn in clusters} == {("msk-autopilot-base", 1)}
    account.notifications()

    account.push("base", HOSTILE)
    account.push("fresh", "unclean.leader.election.enable=true\n")
    calls.clear()
    result = account.rotate_configurations()

    assert base_of(result)["state"] == "refused"
    problems = base_of(result)["problems"]
    assert [problem.split(" is refused")[0] for problem in problems] == [
        f"{PREFIX}base:1: allow.everyone.if.no.acl.found=true",
        f"{PREFIX}base:2: unclean.leader.election.enable=true",
        f"{PREFIX}base:3: log.retention.ms=1",
        f"{PREFIX}base:4: min.insync.replicas=1",
    ]
    assert all("to allow it, tag the parameter msk-autopilot:allow:" in p for p in problems)
    assert result["details"]["configurations"]["fresh"]["state"] == "refused"
    assert not MUTATING & set(calls), calls
    assert account.revision_count("msk-autopilot-base") == 1
    assert "msk-autopilot-fresh" not in account.configurations()
    assert {account.position(arn) for arn in clusters} == {("msk-autopilot-base", 1)}
    warned = account.notifications()
    assert sorted(n["subject"] for n in warned) == [
        "configuration base weakens durability or security; nothing applied",
        "configuration fresh weakens durability or security; nothing applied",
    ]
    assert {n["severity"] for n in warned} == {"WARNING"}


def test_a_replication_factor_below_the_followers_zones_is_refused(account, calls):
    account.cluster("alpha")  # three client subnets: three Availability Zones
    account.push("base", "default.replication.factor=2\n")

    result = account.rotate_configurations()

    assert base_of(result)["state"] == "refused"
    assert "below 3 where a follower spans 3" in base_of(result)["problems"][0]
    assert not MUTATING & set(calls), calls


def test_an_override_tag_allows_exactly_its_value_and_is_called_out(account, calls):
    cluster = account.cluster("alpha")
    weak = BASE + "unclean.leader.election.enable=true\n"
    account.push("base", weak)
    allow(account, "unclean.leader.election.enable", "false")  # approves another value

    assert base_of(account.rotate_configurations())["state"] == "refused"
    assert not MUTATING & set(calls), calls
    account.notifications()

    allow(account, "unclean.leader.election.enable", "true")
    result = account.rotate_configurations()

    overrides = [
        "unclean.leader.election.enable=true allowed by tag "
        "msk-autopilot:allow:unclean.leader.election.enable=true"
    ]
    assert result["status"] == "acted"
    assert base_of(result)["guardrailOverrides"] == overrides
    assert base_of(result)["actions"] == [
        "created msk-autopilot-base revision 1",
        "started update of alpha to revision 1",
    ]
    [created] = [n for n in account.notifications() if "created" in n["subject"]]
    assert created["subject"] == "msk-autopilot-base revision 1 created WITH GUARDRAIL OVERRIDES"
    assert created["severity"] == "WARNING"
    assert created["guardrailOverrides"] == overrides
    account.finish_operations()
    assert account.position(cluster) == ("msk-autopilot-base", 1)


def test_a_securestring_parameter_is_rolled_out(account):
    cluster = account.cluster("alpha")
    key = account.kms.create_key(Description="configurations")["KeyMetadata"]["KeyId"]
    account.ssm.put_parameter(Name=PREFIX + "base", Value=BASE, Type="SecureString", KeyId=key)

    result = account.rotate_configurations()

    assert "unusableParameters" not in result["details"]
    assert base_of(result)["actions"] == [
        "created msk-autopilot-base revision 1",
        "started update of alpha to revision 1",
    ]
    arn = account.configurations()["msk-autopilot-base"]["Arn"]
    stored = account.kafka.describe_configuration_revision(Arn=arn, Revision=1)
    assert stored["ServerProperties"] == b"min.insync.replicas=2\nlog.retention.hours=168\n"
    account.finish_operations()
    assert account.position(cluster) == ("msk-autopilot-base", 1)
