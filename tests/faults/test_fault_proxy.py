"""The fault proxy: identification per protocol, fault shapes botocore classifies right, drops,
delays, determinism, rules, counters, the HTTP control endpoints and the command line."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError
from botocore.retries.standard import (
    RetryContext,
    RetryEventAdapter,
    StandardRetryConditions,
    ThrottlingErrorDetector,
)
from botocore.serialize import create_serializer
from fault_world import ROOT, FaultWorld

from msk_autopilot_local.faults import (
    FaultKind,
    FaultPlan,
    FaultPlanError,
    FaultProxy,
    FaultRule,
    RequestIdentifier,
    fault_proxy,
)

CLUSTER_ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/5c9a6e0a-1c2d-4f7e-9a31-2-1"


def authorization(service: str, region: str = "us-east-1") -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261124/{region}/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0000"
    )


class Upstream:
    """A stand-in AWS endpoint: answers 200 with what it received, and counts requests."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream.requests.append((self.command, self.path, body))
                reply = json.dumps({"path": self.path, "bytes": len(body)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_PUT = do_DELETE = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    try:
        yield server
    finally:
        server.stop()


def send(
    proxy: FaultProxy,
    method: str = "GET",
    path: str = "/api/v2/clusters",
    *,
    service: str = "kafka",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        all_headers = {"Authorization": authorization(service), **(headers or {})}
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# --- identifying requests -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def identifier() -> RequestIdentifier:
    return RequestIdentifier()


def _rest_request(identifier: RequestIdentifier, service: str, operation: str) -> dict[str, Any]:
    model = identifier.model(service)
    op = model.operation_model(operation)
    params: dict[str, Any] = {}
    values = {"string": CLUSTER_ARN, "integer": 1, "long": 1, "boolean": True, "list": ["x"]}
    if op.input_shape is not None:
        for name, shape in op.input_shape.members.items():
            location = shape.serialization.get("location")
            if location == "uri" or (
                location in {"querystring", "header"} and name in op.input_shape.required_members
            ):
                host_label = shape.serialization.get("hostLabel")
                params[name] = "route-1" if host_label else values.get(shape.type_name, "x")
    serializer = create_serializer(model.metadata["protocol"], include_validation=False)
    return serializer.serialize_to_request(params, op)


@pytest.mark.parametrize("service", ["kafka", "securityhub", "lambda", "s3"])
def test_every_rest_operation_is_named_from_method_and_path(identifier, service):
    """Every operation of these REST services, as botocore serializes it, is recognised."""
    model = identifier.model(service)
    wrong = {}
    for operation in model.operation_names:
        request = _rest_request(identifier, service, operation)
        query = urlencode(request["query_string"], doseq=True)
        separator = "&" if "?" in request["url_path"] else "?"
        target = request["url_path"] + (f"{separator}{query}" if query else "")
        signing = model.signing_name
        headers = {"Authorization": authorization(signing)}
        headers.update(request["headers"])
        identity = identifier.identify(request["method"], target, headers, b"")
        if (identity.service, identity.operation) != (service, operation):
            wrong[operation] = (identity.service, identity.operation)
    # Only operations that look the same on the wire may be confused: deprecated ones yield to
    # their successors (S3's GetBucketLifecycle), and S3's ListDirectoryBuckets differs from
    # ListBuckets in the host alone.
    routes = {route.operation: route.wire for route in identifier.rest_routes(service)}
    assert {op: routes[op] for op in wrong} == {
        op: routes[found] for op, (_, found) in wrong.items()
    }
    assert len([op for op in wrong if not model.operation_model(op).deprecated]) <= 1
    assert len(model.operation_names) > 20


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
GRANITE = "GraniteServiceVersion20100801"
ENCODED_ARN = CLUSTER_ARN.replace(":", "%3A").replace("/", "%2F")


@pytest.mark.parametrize(
    ("service", "headers", "body", "target", "expected"),
    [
        pytest.param(
            "dynamodb",
            {"X-Amz-Target": "DynamoDB_20120810.PutItem"},
            b"{}",
            "/",
            ("dynamodb", "PutItem", "json"),
            id="json",
        ),
        pytest.param(
            "dynamodb",
            {"X-Amz-Target": "DynamoDBStreams_20120810.GetRecords"},
            b"{}",
            "/",
            ("dynamodbstreams", "GetRecords", "json"),
            id="json-shared-signing-name",
        ),
        pytest.param(
            "monitoring",
            {"X-Amz-Target": f"{GRANITE}.PutMetricAlarm", "x-amzn-query-mode": "true"},
            b"{}",
            "/",
            ("cloudwatch", "PutMetricAlarm", "json"),
            id="json-query-compatible",
        ),
        pytest.param(
            "sns",
            FORM,
            b"Action=Publish&Version=2010-03-31",
            "/",
            ("sns", "Publish", "query"),
            id="query-body",
        ),
        pytest.param(
            "sts",
            {},
            b"",
            "/?Action=GetCallerIdentity&Version=2011-06-15",
            ("sts", "GetCallerIdentity", "query"),
            id="query-string",
        ),
        pytest.param(
            "monitoring",
            {"smithy-protocol": "rpc-v2-cbor"},
            b"",
            f"/service/{GRANITE}/operation/GetMetricData",
            ("cloudwatch", "GetMetricData", "smithy-rpc-v2-cbor"),
            id="cbor",
        ),
        pytest.param(
            "s3",
            {},
            b"",
            "/my-bucket/some/key.json",
            ("s3", "GetObject", "rest-xml"),
            id="rest-xml-greedy",
        ),
        pytest.param(
            "kafka",
            {},
            b"",
            f"/api/v2/clusters/{ENCODED_ARN}",
            ("kafka", "DescribeClusterV2", "rest-json"),
            id="rest-json",
        ),
        pytest.param(
            "nosuchservice",
            {},
            b"",
            "/x",
            ("nosuchservice", "unknown", "rest-json"),
            id="unknown",
        ),
    ],
)
def test_json_query_cbor_and_rest_requests_are_named(
    identifier, service, headers, body, target, expected
):
    method = "GET" if expected[2] in {"rest-xml", "rest-json"} else "POST"
    identity = identifier.identify(
        method, target, {"Authorization": authorization(service), **headers}, body
    )
    assert (identity.service, identity.operation, identity.protocol) == expected
    assert identity.region == "us-east-1"


def test_a_request_without_credentials_is_unknown(identifier):
    identity = identifier.identify("GET", "/", {}, b"")
    assert (identity.service, identity.operation) == ("unknown", "unknown")


# --- the faults, as botocore sees them ---------------------------------------------------------

# One call per protocol the project's functions speak.
CALLS = [
    ("kafka", "list_clusters_v2", {}),  # rest-json
    ("cloudwatch", "describe_alarms", {}),  # json, query-compatible
    ("sqs", "list_queues", {}),  # json, query-compatible
    ("dynamodb", "list_tables", {}),  # json
    ("secretsmanager", "list_secrets", {}),  # json
    ("sns", "list_topics", {}),  # query
    ("sts", "get_caller_identity", {}),  # query
    ("s3", "list_buckets", {}),  # rest-xml
    ("securityhub", "get_findings", {}),  # rest-json
    ("ec2", "describe_regions", {}),  # ec2
]


@pytest.fixture(scope="module")
def shared_world(template) -> Iterator[FaultWorld]:
    from fault_world import fault_world  # noqa: PLC0415

    with fault_world(template) as world:
        yield world


def _client(world: FaultWorld, service: str, attempts: int = 1) -> Any:
    session = boto3.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )
    config = Config(retries={"mode": "standard", "total_max_attempts": attempts})
    return session.client(service, endpoint_url=world.proxy.endpoint_url, config=config)


def _context(client: Any, operation: str, error: Exception) -> RetryContext:
    model = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[operation])
    if isinstance(error, ClientError):
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        return RetryContext(
            attempt_number=1,
            operation_model=model,
            parsed_response=error.response,
            http_response=SimpleNamespace(status_code=status),
            request_context={},
        )
    return RetryContext(
        attempt_number=1, operation_model=model, caught_exception=error, request_context={}
    )


@pytest.mark.parametrize("kind", list(FaultKind)[:5])
@pytest.mark.parametrize(("service", "operation", "params"), CALLS)
def test_every_fault_is_one_botocore_retries_and_throttling_is_throttling(
    shared_world, kind, service, operation, params
):
    shared_world.proxy.plan = FaultPlan((FaultRule(1.0, {kind: 1}, limit=1),))
    client = _client(shared_world, service)
    with pytest.raises((ClientError, ConnectionClosedError)) as caught:
        getattr(client, operation)(**params)
    context = _context(client, operation, caught.value)
    assert StandardRetryConditions(max_attempts=3).is_retryable(context)
    throttling = ThrottlingErrorDetector(RetryEventAdapter()).is_throttling_error_from_context(
        context
    )
    assert throttling is (kind is FaultKind.THROTTLE)
    if kind in {FaultKind.DROP_BEFORE, FaultKind.DROP_AFTER}:
        assert isinstance(caught.value, ConnectionClosedError)
    if service == "kafka" and kind is FaultKind.THROTTLE:
        response = caught.value.response  # type: ignore[union-attr]
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == (
            "TooManyRequestsException"
        )
    # The rule's limit is used up: botocore's retry gets through.
    getattr(_client(shared_world, service, attempts=2), operation)(**params)


def test_botocore_retries_through_faults_and_the_proxy_counts_each_attempt(shared_world):
    shared_world.proxy.reset_stats()
    shared_world.proxy.plan = FaultPlan(
        (FaultRule(1.0, {FaultKind.THROTTLE: 1, FaultKind.ERROR_503: 1}, service="kafka", limit=3),)
    )
    clusters = _client(shared_world, "kafka", attempts=4).list_clusters_v2()
    assert clusters["ClusterInfoList"] == []
    stats = shared_world.proxy.stats()
    assert stats.requests_for("kafka", "ListClustersV2") == 4
    assert stats.faults_for("kafka", "ListClustersV2") == 3
    assert stats.operations["kafka", "ListClustersV2"].forwarded == 1


def test_the_emulator_control_endpoints_are_never_faulted(shared_world):
    shared_world.proxy.reset_stats()
    shared_world.proxy.plan = FaultPlan.mixed(1.0, kinds=[FaultKind.DROP_BEFORE])
    for _ in range(5):
        status, _, body = send(shared_world.proxy, "GET", "/_msk_emulator/clock")
        assert status == 200
        assert "now" in json.loads(body)
    stats = shared_world.proxy.stats()
    assert stats.passthrough == 5
    assert stats.requests == 0
    assert stats.faults == 0


# --- drops, delays, determinism and rules (against a stand-in upstream) ------------------------


def test_drop_before_never_reaches_the_service_and_drop_after_does(upstream):
    for kind, reached in ((FaultKind.DROP_BEFORE, 0), (FaultKind.DROP_AFTER, 1)):
        upstream.requests.clear()
        with fault_proxy(upstream.url, FaultPlan.mixed(1.0, kinds=[kind])) as proxy:
            with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
                send(proxy, "GET", "/v1/clusters/x/nodes")
            assert len(upstream.requests) == reached
            assert proxy.stats().faults_by_kind()[kind.value] == 1
            assert proxy.stats().operations["kafka", "ListNodes"].forwarded == reached


def test_a_delay_holds_the_request_then_forwards_it(upstream):
    plan = FaultPlan.mixed(1.0, kinds=[FaultKind.DELAY], delay_seconds=(0.3, 0.3))
    with fault_proxy(upstream.url, plan) as proxy:
        started = time.monotonic()
        status, _, _ = send(proxy)
        assert time.monotonic() - started >= 0.3
    assert status == 200
    assert len(upstream.requests) == 1


def test_bodies_paths_and_statuses_pass_through_unchanged(upstream):
    body = json.dumps({"x": "y" * 100_000}).encode()
    with fault_proxy(upstream.url) as proxy:
        status, headers, reply = send(proxy, "PUT", "/v1/clusters/a%2Fb/storage?x=1", body=body)
    assert status == 200
    assert json.loads(reply) == {"path": "/v1/clusters/a%2Fb/storage?x=1", "bytes": len(body)}
    assert upstream.requests == [("PUT", "/v1/clusters/a%2Fb/storage?x=1", body)]
    assert headers["Content-Type"] == "application/json"


def test_a_chunked_body_is_forwarded_whole_and_a_bad_length_is_refused(upstream):
    with fault_proxy(upstream.url) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        connection.request(
            "PUT",
            "/bucket/key",
            body=iter([b"hello ", b"chunked ", b"world"]),
            headers={"Authorization": authorization("s3"), "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        assert connection.getresponse().status == 200
        connection.close()
        assert upstream.requests[-1] == ("PUT", "/bucket/key", b"hello chunked world")
        assert proxy.stats().requests_for("s3", "PutObject") == 1
        status, _, _ = send(proxy, "POST", "/", headers={"Content-Length": "lots"})
        assert status == 400


def _fault_sequence(upstream: Upstream, plan: FaultPlan, requests: int) -> list[tuple]:
    with fault_proxy(upstream.url, plan) as proxy:
        for _ in range(requests):
            try:
                send(proxy, "GET", "/api/v2/clusters")
                send(
                    proxy,
                    "POST",
                    "/",
                    service="dynamodb",
                    headers={"X-Amz-Target": "DynamoDB_20120810.PutItem"},
                )
            except (http.client.RemoteDisconnected, ConnectionResetError):
                pass
        return [
            (f.service, f.operation, f.kind, f.ordinal, f.delay_seconds) for f in proxy.injected()
        ]


def test_the_same_seed_injects_the_same_faults(upstream):
    plan = FaultPlan.mixed(0.5, seed=7, delay_seconds=(0.0, 0.01))
    first = _fault_sequence(upstream, plan, 40)
    assert first == _fault_sequence(upstream, plan, 40)
    other_seed = FaultPlan.mixed(0.5, seed=8, delay_seconds=(0.0, 0.01))
    assert first != _fault_sequence(upstream, other_seed, 40)
    # about half of the 80 requests, every kind
    assert 25 <= len(first) <= 55
    assert {kind for _, _, kind, _, _ in first} == set(FaultKind)


def test_the_rate_holds_over_many_requests(upstream):
    plan = FaultPlan.mixed(0.2, seed=3, kinds=[FaultKind.ERROR_500, FaultKind.THROTTLE])
    with fault_proxy(upstream.url, plan) as proxy:
        statuses = [send(proxy)[0] for _ in range(400)]
        stats = proxy.stats()
    assert stats.requests == 400
    assert 50 <= stats.faults <= 110
    assert statuses.count(200) == 400 - stats.faults
    assert stats.faults_by_kind()["error_500"] + stats.faults_by_kind()["throttle"] == stats.faults


def test_the_first_matching_rule_decides_with_skip_and_limit(upstream):
    plan = FaultPlan(
        (
            # the 2nd and 3rd UpdateBrokerStorage get a 503, then no more faults for it
            FaultRule(1.0, {FaultKind.ERROR_503: 1}, "kafka", "UpdateBroker*", skip=1, limit=2),
            FaultRule(1.0, {FaultKind.THROTTLE: 1}, "kafka", "ListClustersV2"),
        )
    )
    with fault_proxy(upstream.url, plan) as proxy:
        updates = [send(proxy, "PUT", "/v1/clusters/c/nodes/storage")[0] for _ in range(5)]
        lists = [send(proxy, "GET", "/api/v2/clusters")[0] for _ in range(3)]
        others = [send(proxy, "GET", "/v1/clusters")[0] for _ in range(3)]
        stats = proxy.stats()
    assert updates == [200, 503, 503, 200, 200]
    assert lists == [429, 429, 429]
    assert others == [200, 200, 200]
    assert stats.faults_for("kafka", "UpdateBrokerStorage", FaultKind.ERROR_503) == 2
    assert stats.faults_for("kafka") == 5
    assert stats.requests_for("kafka") == 11


def test_plans_are_validated_and_round_trip_through_json():
    kinds = {FaultKind.DROP_AFTER: 2.0, FaultKind.DELAY: 1.0}
    rule = FaultRule(0.25, kinds, "kafka", "Update*", (0.1, 0.2), skip=1, limit=3)
    plan = FaultPlan((rule,), seed=42)
    assert FaultPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert FaultPlan.from_dict({"rules": [{"rate": 0.1, "kinds": ["throttle"]}]}).rules[
        0
    ].kinds == {FaultKind.THROTTLE: 1.0}
    for bad, reason in (
        ({"rules": [{"rate": 1.5}]}, "<= 1.0 - at `$.rules[0].rate`"),
        (
            {"rules": [{"rate": 0.1, "kinds": ["meltdown"]}]},
            "'meltdown' - at `$.rules[0].kinds[0]`",
        ),
        ({"rules": [{"rate": 0.1, "kinds": {"throttle": -1}}]}, ">= 0.0 - at `$.rules[0].kinds"),
        ({"rules": [{"rate": 0.1, "kinds": {"throttle": 0}}]}, "positive weight - at `$.rules[0]`"),
        ({"rules": [{"rate": 0.1, "delaySeconds": [2, 1]}]}, "min <= max, not [2.0, 1.0] - at"),
        ({"rules": [{"rate": 0.1, "delaySeconds": [-1, 1]}]}, ">= 0.0 - at `$.rules[0].delaySec"),
        ({"rules": [{"rate": 0.1, "limit": -1}]}, ">= 0 - at `$.rules[0].limit`"),
        ({"rules": [{"rate": 0.1, "service": ""}]}, "length >= 1 - at `$.rules[0].service`"),
        ({"rules": [{"kinds": ["throttle"]}]}, "missing required field `rate` - at `$.rules[0]`"),
        ({"rules": [{"rate": 0.1, "colour": "red"}]}, "unknown field `colour` - at `$.rules[0]`"),
        ({"rules": [], "owner": "me"}, "unknown field `owner`"),
        ({"seed": "x"}, "Expected `int`, got `str` - at `$.seed`"),
        ([], "Expected `object`, got `array`"),
    ):
        with pytest.raises(FaultPlanError) as caught:
            FaultPlan.from_dict(bad)
        assert reason in str(caught.value), bad


# --- HTTP control and command line --------------------------------------------------------------


def test_stats_and_plan_over_http_match_the_python_api(upstream):
    with fault_proxy(upstream.url, FaultPlan.mixed(1.0, kinds=[FaultKind.ERROR_500])) as proxy:
        assert send(proxy)[0] == 500
        status, _, body = send(proxy, "GET", "/_fault_proxy/stats")
        assert status == 200
        assert json.loads(body) == proxy.stats().to_dict()
        assert json.loads(body)["operations"] == [
            {
                "service": "kafka",
                "operation": "ListClustersV2",
                "requests": 1,
                "forwarded": 0,
                "faults": {"error_500": 1},
            }
        ]
        faults = json.loads(send(proxy, "GET", "/_fault_proxy/faults")[2])["faults"]
        assert faults == [
            {
                "service": "kafka",
                "operation": "ListClustersV2",
                "kind": "error_500",
                "ordinal": 0,
                "delaySeconds": 0.0,
            }
        ]
        new_plan = {"seed": 1, "rules": [{"rate": 0, "kinds": ["throttle"]}]}
        status, _, body = send(
            proxy, "PUT", "/_fault_proxy/plan", body=json.dumps(new_plan).encode()
        )
        assert status == 200
        assert proxy.plan == FaultPlan.from_dict(new_plan)
        assert json.loads(send(proxy, "GET", "/_fault_proxy/plan")[2]) == proxy.plan.to_dict()
        assert send(proxy)[0] == 200
        status, _, body = send(proxy, "PUT", "/_fault_proxy/plan", body=b'{"rules": 3}')
        assert status == 400
        assert json.loads(body)["message"].endswith("got `int` - at `$.rules`")
        assert send(proxy, "PUT", "/_fault_proxy/plan", body=b"{")[0] == 400
        assert proxy.plan == FaultPlan.from_dict(new_plan)
        assert send(proxy, "POST", "/_fault_proxy/stats/reset")[0] == 200
        assert proxy.stats().requests == 0
        assert send(proxy, "DELETE", "/_fault_proxy/stats")[0] == 405
        assert send(proxy, "GET", "/_fault_proxy/nothing")[0] == 404


def test_an_unreachable_upstream_is_a_502(upstream):
    url = upstream.url
    upstream.stop()
    with fault_proxy(url) as proxy:
        status, _, body = send(proxy)
        assert status == 502
        assert "upstream" in json.loads(body)["message"]
        assert proxy.stats().upstream_errors == 1


def test_stopping_closes_idle_keep_alive_connections_and_the_port(upstream):
    proxy = FaultProxy(upstream.url).start()
    port = proxy.port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/api/v2/clusters", headers={"Authorization": authorization("kafka")})
    assert connection.getresponse().read()
    assert connection.sock is not None  # kept alive
    proxy.stop()
    assert connection.sock.recv(1) == b""  # the proxy closed its side
    connection.close()
    assert [t for t in threading.enumerate() if t.name == f"fault-proxy-{port}"] == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


_CLI = "import sys\nfrom msk_autopilot_local.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def test_the_command_line_serves_until_sigterm_and_prints_its_counts(upstream):
    process = subprocess.Popen(
        [sys.executable, "-c", _CLI, "fault-proxy", "--upstream", upstream.url, "--port", "0",
         "--rate", "1", "--kinds", "throttle", "--service", "kafka", "--seed", "5"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.strip())
            if line.startswith("ready") or len(lines) > 10:
                break
        assert lines[-1].startswith("ready http://127.0.0.1:"), lines
        port = int(lines[-1].rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "GET", "/api/v2/clusters", headers={"Authorization": authorization("kafka")}
        )
        assert connection.getresponse().status == 429
        connection.close()
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
        assert process.returncode == 0
        assert out.strip().endswith("stopped")
        stats = json.loads(out[: out.rindex("stopped")])
        assert stats["faultsByKind"]["throttle"] == 1
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _command_line(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CLI, "fault-proxy", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param('{"rules": [{"rate": 7}]}', "<= 1.0 - at `$.rules[0].rate`", id="range"),
        pytest.param(
            '{"rules": [{"rate": 0.1, "colour": "red"}]}',
            "unknown field `colour` - at `$.rules[0]`",
            id="unknown-field",
        ),
        pytest.param('{"rules": x}', "JSON is malformed", id="not-json"),
    ],
)
def test_the_command_line_rejects_a_bad_plan(tmp_path, document, expected):
    plan = tmp_path / "plan.json"
    plan.write_text(document)
    line = _one_error_line(_command_line("--plan", str(plan), "--port", "0"))
    assert str(plan) in line
    assert expected in line


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--rate", "1.5", "--rate '1.5': Expected `float` <= 1.0"),
        ("--kinds", "throttle,meltdown", "--kinds 'throttle,meltdown': Invalid enum value"),
        ("--delay", "2:1", "--delay '2:1': delaySeconds must be [min, max] with min <= max"),
        ("--upstream", "ftp://x", "upstream must be an http://host:port URL"),
    ],
)
def test_the_command_line_names_a_bad_option_value(option, value, expected):
    assert expected in _one_error_line(_command_line(option, value, "--port", "0"))


def test_the_command_line_refuses_a_port_already_taken():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        line = _one_error_line(_command_line("--port", str(port)))
    assert f"cannot serve on 127.0.0.1:{port}" in line
    assert "choose another port" in line
