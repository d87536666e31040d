"""The broker scaler in process, where a test needs to stand between it and AWS: concurrent
deliveries, and MSK refusing a change the policy thought allowed."""

import threading
from typing import Any

from botocore.awsrequest import AWSResponse
from broker_world import capacity_operations, scale_request, spec

from msk_autopilot.aws import ClientFactory
from msk_autopilot.capacity.scaler import build_broker_scaler
from msk_autopilot.events import EventParser, ScaleRequest
from msk_autopilot.observability import metrics
from msk_autopilot.outcome import Outcome, Status
from msk_autopilot.settings import BrokerScalerSettings, load
from msk_autopilot_local.local_lambda import LocalContext

SETTINGS = {
    "AWS_REGION": "us-east-1",
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:msk-autopilot-notifications",
    "IDEMPOTENCY_TABLE_NAME": "msk-autopilot-idempotency",
}
MUTATING = ("UpdateBrokerType", "UpdateBrokerCount")


def test_concurrent_deliveries_make_exactly_one_change_and_one_notice(
    aws, fleet, hot, notifications
):
    """Five deliveries at once. Whichever takes the cluster's lease (its PutItem succeeds)
    holds it until the four others have answered, so each of them meets the lease taken: the
    interleaving the race makes likely, made certain."""
    arn = fleet(spec("orders"))["orders"]
    hot(arn, cpu_user=60.0, cpu_system=15.0)
    event = EventParser(ScaleRequest)(scale_request(arn))
    settings = load(BrokerScalerSettings, SETTINGS)
    deliveries = 5
    start = threading.Barrier(deliveries)
    answered = threading.Condition()
    outcomes: list[Outcome] = []
    calls: list[str] = []  # every capacity change asked of MSK, accepted or refused
    # DynamoDB applies a conditional write atomically; moto, called from threads, can let two
    # conditional PutItems both pass. Writes are serialized here as DynamoDB does.
    one_write_at_a_time = threading.Lock()
    metrics.clear_metrics()

    def deliver() -> None:
        clients = ClientFactory.for_settings(settings)  # one Lambda invocation's own clients
        leased = threading.Event()

        def wait_to_write(**_: Any) -> None:
            one_write_at_a_time.acquire()

        def note_lease(http_response: Any, **_: Any) -> None:
            one_write_at_a_time.release()
            if http_response.status_code == 200:
                leased.set()

        def hold_the_lease(**_: Any) -> None:
            if leased.is_set():
                with answered:
                    answered.wait_for(lambda: len(outcomes) == deliveries - 1, timeout=30)

        kafka = clients.client("kafka")
        dynamodb = clients.client("dynamodb")
        dynamodb.meta.events.register("before-call.dynamodb.PutItem", wait_to_write)
        dynamodb.meta.events.register("after-call.dynamodb.PutItem", note_lease)
        kafka.meta.events.register("before-call.kafka.DescribeClusterV2", hold_the_lease)
        for operation in MUTATING:
            kafka.meta.events.register(
                f"before-call.kafka.{operation}",
                lambda operation=operation, **_: calls.append(operation),
            )
        scaler = build_broker_scaler(settings, clients)
        start.wait()
        result = scaler.handle(event, LocalContext(function_name="broker-scaler"))
        with answered:
            outcomes.append(result)
            answered.notify_all()

    threads = [threading.Thread(target=deliver) for _ in range(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert calls == ["UpdateBrokerType"]
    (acted,) = [o for o in outcomes if o.status is Status.ACTED]
    others = [o for o in outcomes if o is not acted]
    assert [o.status for o in others] == [Status.SKIPPED] * (deliveries - 1)
    assert all("another delivery is deciding" in o.reason for o in others), others
    assert len(notifications()) == 1
    assert metrics.metric_set["BrokerChange.broker_type_larger"]["Value"] == [1.0]
    assert len(capacity_operations(aws, arn)) == 1
    metrics.clear_metrics()


def test_a_change_msk_refuses_anyway_is_reported_and_told_once(aws, fleet, hot, notifications):
    arn = fleet(spec("orders"))["orders"]
    hot(arn, cpu_user=60.0, cpu_system=15.0)
    settings = load(BrokerScalerSettings, SETTINGS)
    clients = ClientFactory.for_settings(settings)
    kafka = clients.client("kafka")

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        # what MSK answers a broker type change it does not allow; botocore raises it
        response = AWSResponse("https://kafka", 400, {}, None)
        message = "The target broker type is not supported for this cluster."
        return response, {
            "Error": {"Code": "BadRequestException", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    kafka.meta.events.register("before-call.kafka.UpdateBrokerType", refuse)
    scaler = build_broker_scaler(settings, clients)
    event = EventParser(ScaleRequest)(scale_request(arn))
    context = LocalContext(function_name="broker-scaler")
    first = scaler.handle(event, context)
    again = scaler.handle(event, context)
    assert first.status is Status.SKIPPED
    assert first.reason == (
        "update not started: BadRequestException: "
        "The target broker type is not supported for this cluster."
    )
    assert again.status is Status.SKIPPED
    assert capacity_operations(aws, arn) == []
    (notice,) = notifications()  # told once a day, not once a run
    assert notice["subject"] == "MSK refused type_larger of orders"
    assert "not supported" in notice["refusal"]
    metrics.clear_metrics()
