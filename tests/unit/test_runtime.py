"""The entry wrapper: typed rejections, outcome logging and metrics, errors re-raised."""

import pytest

from msk_autopilot.events import EventParser, ScaleRequest
from msk_autopilot.outcome import Outcome, Status
from msk_autopilot.runtime import lambda_entry, load_callable
from msk_autopilot.scram import handshake
from msk_autopilot.settings import CommonSettings, SettingsError
from msk_autopilot_local.local_lambda import LocalContext

SETTINGS = CommonSettings(
    region="us-east-1", notification_topic_arn="arn:aws:sns:us-east-1:123456789012:t"
)
REQUEST = {"action": "scale", "clusterArn": "arn:aws:kafka:us-east-1:123456789012:cluster/a/b"}


def handler(behaviour):
    @lambda_entry(EventParser(ScaleRequest), settings=SETTINGS)
    def handle(event: ScaleRequest, context):
        return behaviour(event)

    return handle


def test_outcome_is_returned_logged_and_counted(emitted):
    handle = handler(lambda event: Outcome(Status.DRY_RUN, "would grow", {"to": 110}))
    result = handle(REQUEST, LocalContext("fn"))
    assert result == {"status": "dry_run", "reason": "would grow", "details": {"to": 110}}
    lines = emitted()
    log = next(line for line in lines if line.get("message") == "outcome")
    assert log["status"] == "dry_run"
    assert "function_request_id" in log
    emf = next(line for line in lines if "Outcome.dry_run" in line)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "MskAutopilot"
    assert emf["Outcome.dry_run"] == [1.0]


def test_invalid_events_are_rejected_not_raised(emitted):
    handle = handler(lambda event: pytest.fail("must not be called"))
    result = handle({"action": "scale"}, LocalContext("fn"))
    assert result["status"] == "rejected"
    assert "clusterArn" in result["reason"]
    lines = emitted()
    assert any(line.get("message") == "event rejected" for line in lines)
    assert any("EventsRejected" in line for line in lines)


def test_handler_errors_are_logged_counted_and_reraised(emitted):
    def explode(event):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        handler(explode)(REQUEST, LocalContext("fn"))
    lines = emitted()
    failure = next(line for line in lines if line.get("level") == "ERROR")
    assert "Lambda retries" in failure["message"]
    assert any("HandlerErrors" in line for line in lines)


def test_correlation_id_comes_from_the_event(emitted):
    @lambda_entry(EventParser(ScaleRequest), settings=SETTINGS, correlation_id_path="requestId")
    def handle(event, context):
        return Outcome(Status.UNCHANGED, "nothing to do")

    handle({**REQUEST, "requestId": "corr-42"}, LocalContext("fn"))
    log = next(line for line in emitted() if line.get("message") == "outcome")
    assert log["correlation_id"] == "corr-42"


def test_module_function_settings_load_the_function_or_name_the_variable():
    spec = "msk_autopilot.scram.handshake:authenticate"
    assert load_callable(spec, "SCRAM_AUTHENTICATOR") is handshake.authenticate
    with pytest.raises(SettingsError) as not_a_function:
        load_callable("msk_autopilot.scram.handshake:MECHANISM", "SCRAM_AUTHENTICATOR")
    assert not_a_function.value.problems == [
        "SCRAM_AUTHENTICATOR='msk_autopilot.scram.handshake:MECHANISM' does not name a function"
    ]
    with pytest.raises(SettingsError) as no_module:
        load_callable("no_such_module:check", "RECORD_HOOK")
    assert no_module.value.problems == [
        "RECORD_HOOK='no_such_module:check' cannot be loaded: No module named 'no_such_module'"
    ]
