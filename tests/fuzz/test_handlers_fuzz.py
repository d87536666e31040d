"""Every handler, fed valid and mutated events: a typed result or a typed error, never a crash.

Events are the samples under events/ with their values varied within their domain, and
mutations of them: keys removed, values replaced by other JSON types, empty and huge values,
wrong detail-type or source, unknown clusters. Each handler runs against the MSK emulator, its
module loaded once (a warm container), as Lambda would run it. `make test` runs a short profile;
`make fuzz` runs at least 10,000 cases per handler (HYPOTHESIS_PROFILE=fuzz).
"""

import copy
import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msk_autopilot_local.local_lambda import LocalContext, load_handler_module
from msk_autopilot_local.template.resolve import ResolvedTemplate
from msk_autopilot_local.template.resources import create_app_resources

ROOT = Path(__file__).resolve().parents[2]
STACK = ResolvedTemplate(ROOT / "template.yaml")

settings.register_profile(
    "short",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "short"))

SAMPLES = {
    "storage_scaler": ["alarm_state_change", "scheduled_event", "scheduler_event", "scale_request"],
    "config_rotator": ["parameter_store_change", "cloudtrail_update_monitoring", "scheduled_event"],
    "scram_rotator": ["secret_rotation_create"],
    "security_auditor": ["scheduled_event", "cloudtrail_update_monitoring"],
    "record_consumer": ["msk_records"],
}
STATUSES = {"acted", "dry_run", "unchanged", "skipped", "rejected"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
odd_values = st.sampled_from(["", "x" * 100_000, -1, 2**63, [], {}, None, "arn:aws:kafka:::"])
cluster_arns = st.builds(
    "arn:aws:kafka:us-east-1:123456789012:cluster/{}/{}-1".format,
    st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    st.uuids().map(str),
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def apply(event: Any, path: tuple, action: str, value: Any) -> Any:
    if not path:
        return value
    parent = event
    for step in path[:-1]:
        parent = parent[step]
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return event


@st.composite
def events(draw, function: str) -> Any:
    name = draw(st.sampled_from(SAMPLES[function]))
    event = json.loads((ROOT / "events" / f"{name}.json").read_text())
    if "clusterArn" in event:
        event["clusterArn"] = draw(cluster_arns)
    if draw(st.booleans()):  # a valid event, varied in its values
        return event
    for _ in range(draw(st.integers(1, 3))):
        candidates = paths(event)
        if not candidates or not isinstance(event, dict):
            break
        path = draw(st.sampled_from(candidates))
        action = draw(st.sampled_from(["delete", "replace", "odd"]))
        value = draw(odd_values if action == "odd" else json_values)
        event = apply(event, path, action, value)
    return draw(st.sampled_from([event, event, event, [event], "not json", None]))


@pytest.fixture
def handler(request, monkeypatch, msk_emulator):
    function = request.param
    logical_id = STACK.function_logical_id(function)
    environment = {
        **STACK.function_environment(logical_id),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": STACK.physical_name(logical_id),
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    }
    monkeypatch.chdir(ROOT)
    for name, value in environment.items():
        if name != "AWS_LAMBDA_FUNCTION_NAME":
            monkeypatch.setenv(name, value)
    create_app_resources(STACK, boto3.Session())  # set-up, not the function's own calls
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", environment["AWS_LAMBDA_FUNCTION_NAME"])
    module = load_handler_module(STACK.function_code_dir(logical_id), f"fuzz_{function}")
    context = LocalContext(
        function_name=environment["AWS_LAMBDA_FUNCTION_NAME"],
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:"
        + environment["AWS_LAMBDA_FUNCTION_NAME"],
    )
    return function, module.lambda_handler, context


def check(lambda_handler, context: LocalContext, event: Any) -> None:
    try:
        result = lambda_handler(copy.deepcopy(event), context)
    except Exception as error:
        # A typed error of the project is an answer (a rotation step must raise to fail);
        # anything else escaping a handler is a crash.
        assert type(error).__module__.startswith("msk_autopilot"), repr(error)  # noqa: PT017
        return
    assert isinstance(result, dict)
    if "batchItemFailures" in result:
        assert isinstance(result["batchItemFailures"], list)
    else:
        assert result["status"] in STATUSES, result


@pytest.mark.parametrize("handler", list(SAMPLES), indirect=True)
@given(data=st.data())
def test_handlers_answer_every_event(handler, data):
    function, lambda_handler, context = handler
    check(lambda_handler, context, data.draw(events(function)))
