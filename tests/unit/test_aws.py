"""The client factory: retry policy, endpoint from the environment, cached clients, roles."""

import boto3
import pytest
from moto import mock_aws

from msk_autopilot.aws import AssumedRole, ClientFactory, PaginationError, pages


@pytest.fixture(autouse=True)
def _credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_clients_carry_the_retry_policy_and_user_agent():
    factory = ClientFactory(region="eu-west-1", retry_mode="adaptive", max_attempts=7)
    client = factory.client("kafka")
    config = client.meta.config
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 7}
    assert "msk-autopilot/" in config.user_agent_extra
    assert client.meta.region_name == "eu-west-1"


def test_a_client_can_have_its_own_attempt_budget():
    factory = ClientFactory(region="eu-west-1", retry_mode="standard", max_attempts=5)
    single = factory.client("events", max_attempts=1)
    assert single.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert factory.client("events").meta.config.retries["total_max_attempts"] == 5
    assert factory.client("events", max_attempts=1) is single


def test_clients_are_cached_per_service_and_region():
    factory = ClientFactory(region="us-east-1")
    assert factory.client("kafka") is factory.client("kafka")
    assert factory.client("kafka") is not factory.client("kafka", region="eu-west-1")


def test_endpoint_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5055")
    assert ClientFactory(region="us-east-1").client("kafka").meta.endpoint_url == (
        "http://127.0.0.1:5055"
    )


def test_service_specific_endpoint_wins(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5055")
    monkeypatch.setenv("AWS_ENDPOINT_URL_KAFKA", "http://127.0.0.1:6000")
    factory = ClientFactory(region="us-east-1")
    assert factory.client("kafka").meta.endpoint_url == "http://127.0.0.1:6000"
    assert factory.client("sns").meta.endpoint_url == "http://127.0.0.1:5055"


@mock_aws
def test_assumed_role_clients_act_in_the_member_account():
    role = AssumedRole(role_arn="arn:aws:iam::210987654321:role/msk-autopilot-audit")
    member = ClientFactory(region="us-east-1").assume(role, region="eu-west-1")
    identity = member.client("sts").get_caller_identity()
    assert identity["Account"] == "210987654321"
    assert "assumed-role/msk-autopilot-audit/msk-autopilot" in identity["Arn"]
    assert member.client("kafka").meta.region_name == "eu-west-1"
    # the home account is unaffected
    assert boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"] == (
        "123456789012"
    )


@mock_aws
def test_assumed_credentials_are_refreshed_before_they_expire():
    role = AssumedRole(role_arn="arn:aws:iam::210987654321:role/audit", duration_seconds=900)
    member = ClientFactory(region="us-east-1").assume(role)
    first = member.client("sts")
    assert member.client("sts") is first  # valid credentials: cached
    member._expires = member._expires.replace(year=2000)  # pretend they lapsed
    assert member.client("sts") is not first


@mock_aws
def test_pages_follows_next_token_to_the_last_page():
    ssm = boto3.client("ssm", region_name="us-east-1")
    for index in range(25):
        ssm.put_parameter(Name=f"/pages/p{index:02d}", Value="v", Type="String")

    listing = list(pages(ssm.get_parameters_by_path, Path="/pages", MaxResults=10))

    assert [len(page["Parameters"]) for page in listing] == [10, 10, 5]
    names = [p["Name"] for page in listing for p in page["Parameters"]]
    assert sorted(names) == [f"/pages/p{index:02d}" for index in range(25)]


def test_pages_stops_on_a_repeated_token_instead_of_looping():
    answers = iter([{"NextToken": "a"}, {"NextToken": "b"}, {"NextToken": "a"}])
    requests = []

    def list_things(**parameters):
        requests.append(parameters)
        return next(answers)

    with pytest.raises(PaginationError, match="list_things repeated NextToken 'a'"):
        list(pages(list_things, Filter="x"))
    assert requests == [
        {"Filter": "x"},
        {"Filter": "x", "NextToken": "a"},
        {"Filter": "x", "NextToken": "b"},
    ]


def test_pages_follows_a_token_spelled_otherwise():
    answers = iter([{"items": [1], "nextToken": "a"}, {"items": [2]}])
    requests = []

    def list_connectors(**parameters):
        requests.append(parameters)
        return next(answers)

    listing = list(pages(list_connectors, cursor="nextToken", maxResults=100))

    assert [page["items"] for page in listing] == [[1], [2]]
    assert requests == [{"maxResults": 100}, {"maxResults": 100, "nextToken": "a"}]
