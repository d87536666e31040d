"""Server mode: the emulator over HTTP, its control endpoints, and malformed raw requests."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import boto3
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msk_autopilot_local.emulator import put_broker_metrics, seed_fleet


def storage_path(arn):
    return f"/v1/clusters/{quote(arn, safe='')}/nodes/storage"


def test_server_binds_to_loopback(msk_emulator_server):
    assert msk_emulator_server.host == "127.0.0.1"
    assert msk_emulator_server.endpoint_url == f"http://127.0.0.1:{msk_emulator_server.port}"


def test_lifecycle_with_clock_advanced_over_http(http_kit):
    arn = http_kit.create()
    assert http_kit.info(arn)["State"] == "ACTIVE"
    operation_arn = http_kit.grow_storage(arn, 150)
    assert http_kit.info(arn)["State"] == "UPDATING"
    before = datetime.fromisoformat(http_kit.control("GET", "/clock").json()["now"])
    advanced = http_kit.control("POST", "/clock/advance", {"seconds": 300})
    assert advanced.status_code == 200
    after = datetime.fromisoformat(advanced.json()["now"])
    assert after - before >= timedelta(seconds=300)
    assert http_kit.info(arn)["State"] == "ACTIVE"
    assert http_kit.volume(arn) == 150
    assert http_kit.operation(operation_arn)["OperationState"] == "UPDATE_COMPLETE"


def test_fault_injection_over_http(http_kit):
    arn = http_kit.create()
    injected = http_kit.control(
        "POST", "/faults/next-operation", {"errorCode": "InternalFailure", "errorString": "disk"}
    )
    assert injected.status_code == 200
    operation_arn = http_kit.grow_storage(arn, 150)
    assert http_kit.control("POST", "/operations/complete").status_code == 200
    operation = http_kit.operation(operation_arn)
    assert operation["OperationState"] == "UPDATE_FAILED"
    assert operation["ErrorInfo"] == {"ErrorCode": "InternalFailure", "ErrorString": "disk"}
    assert (http_kit.info(arn)["State"], http_kit.volume(arn)) == ("ACTIVE", 100)


def test_settings_over_http(http_kit):
    defaults = http_kit.control("GET", "/settings").json()
    assert defaults == {
        "clusterCreateSeconds": 0.0,
        "connectorCreateSeconds": 0.0,
        "operationSeconds": 300.0,
        "storageCooldownSeconds": 21600.0,
    }
    changed = http_kit.control(
        "POST", "/settings", {"operationSeconds": 0, "clusterCreateSeconds": 60}
    )
    assert changed.json()["operationSeconds"] == 0.0
    arn = http_kit.create()
    assert http_kit.info(arn)["State"] == "CREATING"
    http_kit.control("POST", "/clock/advance", {"seconds": 60})
    http_kit.grow_storage(arn, 150)
    assert (http_kit.info(arn)["State"], http_kit.volume(arn)) == ("ACTIVE", 150)


def test_reset_over_http(http_kit):
    http_kit.create()
    http_kit.control("POST", "/settings", {"operationSeconds": 1})
    assert http_kit.control("POST", "/reset").status_code == 200
    assert http_kit.kafka.list_clusters_v2()["ClusterInfoList"] == []
    assert http_kit.control("GET", "/settings").json()["operationSeconds"] == 300.0


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/clock/advance", {"seconds": -5}, 400),
        ("POST", "/clock/advance", {"seconds": "5"}, 400),
        ("POST", "/clock/advance", {"seconds": True}, 400),
        ("POST", "/clock/advance", [1], 400),
        ("POST", "/settings", {"operationMinutes": 1}, 400),
        ("POST", "/settings", {"operationSeconds": -1}, 400),
        ("POST", "/settings", {"operationSeconds": "fast"}, 400),
        ("POST", "/faults/next-operation", {"errorCode": "X"}, 400),
        ("POST", "/faults/next-operation", {"errorCode": "", "errorString": "y"}, 400),
        ("GET", "/clock/advance", None, 405),
        ("POST", "/nothing", None, 404),
    ],
)
def test_control_endpoints_reject_bad_input(http_kit, method, path, body, status):
    response = http_kit.control(method, path, body)
    assert response.status_code == status
    assert response.json()["message"]
    assert http_kit.control("GET", "/settings").json()["operationSeconds"] == 300.0


def test_control_endpoint_rejects_invalid_json(http_kit):
    raw = requests.post(
        f"{http_kit.endpoint_url}/_msk_emulator/settings", data=b"{oops", timeout=10
    )
    assert (raw.status_code, raw.json()["message"]) == (400, "The request body is not valid JSON.")


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        (
            {
                "currentVersion": "K1",
                "targetBrokerEBSVolumeInfo": [{"kafkaBrokerNodeId": "ALL", "volumeSizeGB": 150.5}],
            },
            "targetBrokerEBSVolumeInfo[0].volumeSizeGB",
        ),
        (
            {
                "currentVersion": "K1",
                "targetBrokerEBSVolumeInfo": [{"kafkaBrokerNodeId": "ALL", "volumeSizeGB": "150"}],
            },
            "targetBrokerEBSVolumeInfo[0].volumeSizeGB",
        ),
        (
            {"currentVersion": "K1", "targetBrokerEBSVolumeInfo": [{"volumeSizeGB": 150}]},
            "targetBrokerEBSVolumeInfo[0].kafkaBrokerNodeId",
        ),
        (
            {"currentVersion": "K1", "targetBrokerEBSVolumeInfo": {"kafkaBrokerNodeId": "ALL"}},
            "targetBrokerEBSVolumeInfo",
        ),
        ({"targetBrokerEBSVolumeInfo": []}, "currentVersion"),
        ({"currentVersion": 7, "targetBrokerEBSVolumeInfo": []}, "currentVersion"),
    ],
)
def test_malformed_storage_requests_get_400_naming_the_parameter(http_kit, body, parameter):
    arn = http_kit.create()
    version = http_kit.version(arn)
    response = http_kit.raw("PUT", storage_path(arn), json.dumps(body).encode())
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert response.json()["invalidParameter"] == parameter
    assert response.json()["message"]
    assert (http_kit.version(arn), http_kit.volume(arn)) == (version, 100)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error_type"),
    [
        ("POST", "/v1/clusters", b"{not json", 400, "BadRequestException"),
        ("POST", "/v1/clusters", b"[1, 2]", 400, "BadRequestException"),
        ("POST", "/v1/clusters", b'{"clusterName": "x"}', 400, "BadRequestException"),
        (
            "POST",
            "/v1/configurations",
            b'{"name": "c", "serverProperties": "%%%"}',
            400,
            "BadRequestException",
        ),
        ("GET", "/v1/clusters?maxResults=lots", None, 400, "BadRequestException"),
        ("GET", "/v1/clusters?maxResults=0", None, 400, "BadRequestException"),
        ("GET", "/v1/no-such-resource", None, 404, "NotFoundException"),
        ("GET", "/replication/v1/replicators", None, 501, "NotImplementedException"),
    ],
)
def test_malformed_raw_requests_never_crash(http_kit, method, path, body, status, error_type):
    response = http_kit.raw(method, path, body)
    assert response.status_code == status
    assert response.headers["x-amzn-ErrorType"] == error_type
    assert response.json()["message"]
    assert http_kit.kafka.list_clusters_v2()["ClusterInfoList"] == []


def test_raw_valid_request_round_trips_base64_properties(http_kit):
    properties = base64.b64encode(b"num.partitions=3\n").decode()
    created = http_kit.raw(
        "POST",
        "/v1/configurations",
        json.dumps({"name": "raw", "serverProperties": properties}).encode(),
    )
    assert created.status_code == 200
    arn = created.json()["arn"]
    revision = http_kit.kafka.describe_configuration_revision(Arn=arn, Revision=1)
    assert revision["ServerProperties"] == b"num.partitions=3\n"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
storage_bodies = st.fixed_dictionaries(
    {},
    optional={
        "currentVersion": json_values,
        "targetBrokerEBSVolumeInfo": st.lists(
            st.fixed_dictionaries(
                {}, optional={"kafkaBrokerNodeId": json_values, "volumeSizeGB": json_values}
            ),
            max_size=2,
        )
        | json_values,
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=storage_bodies)
def test_fuzzed_storage_requests_get_4xx_and_leave_the_cluster_alone(http_kit, body):
    arns = [c["ClusterArn"] for c in http_kit.kafka.list_clusters_v2()["ClusterInfoList"]]
    arn = arns[0] if arns else http_kit.create()
    version = http_kit.version(arn)
    response = http_kit.raw("PUT", storage_path(arn), json.dumps(body).encode())
    assert 400 <= response.status_code < 500
    assert response.json()["message"]
    assert http_kit.version(arn) == version
    assert http_kit.info(arn)["State"] == "ACTIVE"


def test_seed_fleet_over_http(http_kit):
    session = boto3.session.Session(
        region_name="eu-west-1",
        aws_access_key_id="AKIAEMULATOR00000000",
        aws_secret_access_key="emulator",
    )
    clients = {
        name: session.client(name, endpoint_url=http_kit.endpoint_url)
        for name in ("kafka", "kms", "secretsmanager")
    }
    fleet = seed_fleet(
        clients,
        {
            "clusters": [
                {
                    "name": "orders",
                    "authentication": {"scram": True},
                    "scramUsers": ["alice"],
                    "publicAccess": True,
                }
            ]
        },
    )
    info = http_kit.info(fleet.clusters["orders"])
    assert info["State"] == "ACTIVE"
    public = info["Provisioned"]["BrokerNodeGroupInfo"]["ConnectivityInfo"]["PublicAccess"]
    assert public["Type"] == "SERVICE_PROVIDED_EIPS"
    assert http_kit.kafka.list_scram_secrets(ClusterArn=fleet.clusters["orders"])["SecretArnList"]


def test_metrics_through_the_server(http_kit):
    cloudwatch = http_kit.client("cloudwatch")
    when = datetime(2026, 3, 1, tzinfo=UTC)
    put_broker_metrics(cloudwatch, "orders", 3, {"KafkaDataLogsDiskUsed": 88.0}, when)
    result = cloudwatch.get_metric_statistics(
        Namespace="AWS/Kafka",
        MetricName="KafkaDataLogsDiskUsed",
        Dimensions=[
            {"Name": "Cluster Name", "Value": "orders"},
            {"Name": "Broker ID", "Value": "3"},
        ],
        StartTime=when - timedelta(minutes=1),
        EndTime=when + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )
    assert [point["Maximum"] for point in result["Datapoints"]] == [88.0]


def test_regions_are_isolated_over_http(http_kit):
    http_kit.create()
    other = http_kit.session.client(
        "kafka",
        region_name="ap-southeast-2",
        endpoint_url=http_kit.endpoint_url,
        aws_access_key_id="AKIAEMULATOR00000000",
        aws_secret_access_key="emulator",
    )
    assert other.list_clusters_v2()["ClusterInfoList"] == []


def test_security_hub_keeps_its_finding_workflow_over_http(msk_emulator_http):
    hub = boto3.client(
        "securityhub",
        endpoint_url=msk_emulator_http.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    product = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
    finding_id = f"orders-{uuid.uuid4()}/MSK.1"  # the session's server keeps other tests' findings
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id,
        "ProductArn": product,
        "GeneratorId": "msk-autopilot/MSK.1",
        "AwsAccountId": "123456789012",
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2026-11-25T00:00:00Z",
        "UpdatedAt": "2026-11-25T00:00:00Z",
        "Severity": {"Label": "MEDIUM"},
        "Title": "MSK.1",
        "Description": "orders",
        "Resources": [{"Type": "AwsMskCluster", "Id": "orders"}],
        "Compliance": {"Status": "PASSED"},
    }
    hub.batch_import_findings(Findings=[finding])
    answer = hub.batch_update_findings(
        FindingIdentifiers=[
            {"Id": finding_id, "ProductArn": product},
            {"Id": "payments/MSK.1", "ProductArn": product},
        ],
        Workflow={"Status": "RESOLVED"},
    )
    assert answer["ProcessedFindings"] == [{"Id": finding_id, "ProductArn": product}]
    assert [u["FindingIdentifier"]["Id"] for u in answer["UnprocessedFindings"]] == [
        "payments/MSK.1"
    ]

    def workflow() -> str:
        found = [f for f in hub.get_findings()["Findings"] if f["Id"] == finding_id]
        return str(found[0]["Workflow"]["Status"])

    hub.batch_import_findings(Findings=[{**finding, "Workflow": {"Status": "NEW"}}])
    assert workflow() == "RESOLVED", "a re-import keeps the customer's workflow"
    hub.batch_import_findings(Findings=[{**finding, "Compliance": {"Status": "FAILED"}}])
    assert workflow() == "NEW", "leaving PASSED reopens a resolved finding"
