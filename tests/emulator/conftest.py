"""Fixtures for the emulator's contract tests.

The emulator's pytest plugin is loaded in ``pytest_configure`` (``pytest_plugins`` only works
in the root conftest). Test modules are named ``test_emulator_*`` so that they never collide with
same-named modules elsewhere in ``tests/`` (this directory is not a package).
"""

from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

REGION = "eu-west-1"
SUBNETS = ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("msk_autopilot_local.emulator.testing")


class Kit:
    """A kafka client plus the few steps almost every test repeats."""

    def __init__(self, session: boto3.session.Session, **client_options: Any) -> None:
        self.session = session
        self.client_options = {"region_name": REGION, **client_options}
        self.kafka = self.client("kafka")

    def client(self, service: str) -> Any:
        return self.session.client(service, **self.client_options)

    @staticmethod
    def provisioned(**overrides: Any) -> dict[str, Any]:
        """A valid ProvisionedRequest; ``overrides`` replace top-level members."""
        request: dict[str, Any] = {
            "BrokerNodeGroupInfo": {
                "ClientSubnets": list(SUBNETS),
                "InstanceType": overrides.pop("InstanceType", "kafka.m5.large"),
                "StorageInfo": {"EbsStorageInfo": {"VolumeSize": overrides.pop("VolumeSize", 100)}},
            },
            "KafkaVersion": "3.8.x",
            "NumberOfBrokerNodes": 3,
        }
        request.update(overrides)
        return request

    def create(self, name: str = "orders", **overrides: Any) -> str:
        response = self.kafka.create_cluster_v2(
            ClusterName=name, Provisioned=self.provisioned(**overrides)
        )
        return str(response["ClusterArn"])

    def info(self, arn: str) -> dict[str, Any]:
        return dict(self.kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"])

    def version(self, arn: str) -> str:
        return str(self.info(arn)["CurrentVersion"])

    def volume(self, arn: str) -> int:
        group = self.info(arn)["Provisioned"]["BrokerNodeGroupInfo"]
        return int(group["StorageInfo"]["EbsStorageInfo"]["VolumeSize"])

    def grow_storage(self, arn: str, size: int) -> str:
        response = self.kafka.update_broker_storage(
            ClusterArn=arn,
            CurrentVersion=self.version(arn),
            TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "ALL", "VolumeSizeGB": size}],
        )
        return str(response["ClusterOperationArn"])

    def operation(self, operation_arn: str) -> dict[str, Any]:
        response = self.kafka.describe_cluster_operation_v2(ClusterOperationArn=operation_arn)
        return dict(response["ClusterOperationInfo"])


def error_of(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """Call, expect a ClientError, return code, status, message and invalid parameter."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return {
        "code": response["Error"]["Code"],
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
        "message": response["Error"]["Message"],
        "parameter": response.get("InvalidParameter"),
    }


@pytest.fixture(scope="session")
def aws_session() -> boto3.session.Session:
    # One session for the run: botocore then loads each service model once, which makes a
    # client cost milliseconds instead of tens of them.
    return boto3.session.Session(region_name=REGION)


@pytest.fixture
def kit(msk_emulator: Any, aws_session: boto3.session.Session) -> Kit:
    return Kit(aws_session)


@pytest.fixture
def expect_error() -> Callable[..., dict[str, Any]]:
    return error_of


class HttpKit(Kit):
    """A Kit against the emulator server, plus raw (unsigned-body) HTTP for malformed input."""

    def __init__(self, session: boto3.session.Session, endpoint_url: str) -> None:
        super().__init__(
            session,
            endpoint_url=endpoint_url,
            aws_access_key_id="AKIAEMULATOR00000000",
            aws_secret_access_key="emulator",
        )
        self.endpoint_url = endpoint_url

    def raw(
        self, method: str, path: str, body: bytes | None = None, service: str = "kafka"
    ) -> requests.Response:
        # The server finds the service from the SigV4 credential scope; the signature itself
        # is not checked.
        authorization = (
            "AWS4-HMAC-SHA256 Credential=AKIAEMULATOR00000000/20260101/"
            f"{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0"
        )
        return requests.request(
            method,
            self.endpoint_url + path,
            data=body,
            headers={"Authorization": authorization, "Content-Type": "application/json"},
            timeout=10,
        )

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(
            method, f"{self.endpoint_url}/_msk_emulator{path}", json=body, timeout=10
        )


@pytest.fixture
def http_kit(msk_emulator_http: Any, aws_session: boto3.session.Session) -> HttpKit:
    return HttpKit(aws_session, msk_emulator_http.endpoint_url)
