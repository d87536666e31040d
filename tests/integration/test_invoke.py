"""`msk-autopilot invoke` runs each function's handler on its sample event, like Lambda."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from msk_autopilot_local.cli import main
from msk_autopilot_local.deploy import deploy_to_empty_account
from msk_autopilot_local.local_lambda import InvokeError, emulated_now, invoke_function
from msk_autopilot_local.stack import DeployedStack

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {
    "storage_scaler": ["alarm_state_change", "scheduled_event", "scheduler_event", "scale_request"],
    "broker_scaler": [
        "load_alarm_state_change",
        "scheduled_event",
        "scheduler_event",
        "scale_request",
    ],
    "config_rotator": ["scheduled_event", "parameter_store_change", "cloudtrail_update_monitoring"],
    "scram_rotator": ["secret_rotation_create"],
    "security_auditor": ["scheduled_event", "cloudtrail_update_monitoring"],
    "record_consumer": ["msk_records"],
    "health_monitor": [
        "scheduled_event",
        "cloudtrail_tag_resource",
        "cloudtrail_delete_cluster",
    ],
    "version_upgrader": ["scheduled_event", "cloudtrail_update_kafka_version"],
}


@pytest.fixture(autouse=True)
def _local_account(monkeypatch, msk_emulator):
    """Every invocation runs against the emulator: a handler must never reach real AWS."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    session = boto3.Session()
    deploy_to_empty_account(ROOT / "template.yaml", session)


def event(name: str) -> dict:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


@pytest.mark.parametrize(
    ("function", "sample"), [(f, s) for f, samples in SAMPLES.items() for s in samples]
)
def test_each_function_accepts_its_sample_events(function, sample):
    result = invoke_function(function, event(sample))
    if function == "record_consumer":  # answers Lambda's partial batch response
        assert result == {"batchItemFailures": []}
    else:
        assert result["status"] != "rejected", result


def test_environment_comes_from_the_deployed_function():
    stack = DeployedStack.from_environment(ROOT / "template.yaml")
    env = stack.function_environment("StorageScalerFunction")
    assert env["NOTIFICATION_TOPIC_ARN"] == (
        "arn:aws:sns:us-east-1:123456789012:msk-autopilot-notifications"
    )
    assert env["IDEMPOTENCY_TABLE_NAME"] == "msk-autopilot-idempotency"
    assert env["OPT_IN_TAG_KEY"] == "msk-autopilot:managed"
    assert env["POWERTOOLS_SERVICE_NAME"] == "storage-scaler"
    assert env["DRY_RUN"] == "false"


def test_logical_ids_work_as_function_names():
    result = invoke_function("StorageScalerFunction", event("scheduled_event"))
    assert result["reason"] == "swept 0 opted-in of 0 clusters, grew 0"


def test_a_bad_setting_fails_the_cold_start_with_the_variable_named():
    with pytest.raises(InvokeError, match="RETRY_MODE='sometimes'"):
        invoke_function(
            "storage_scaler", event("scale_request"), env_overrides={"RETRY_MODE": "sometimes"}
        )


def test_unknown_function_lists_the_known_ones():
    with pytest.raises(InvokeError, match=r"unknown function 'nope'.*storage_scaler"):
        invoke_function("nope", {})


def test_cli_prints_the_handler_result(tmp_path, capsys):
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"Parameters": {"DRY_RUN": "true"}}))
    code = main(
        ["invoke", "storage_scaler", "-e", "events/scale_request.json", "--env-vars", str(env_vars)]
    )
    assert code == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.rindex("\n{\n") :])  # the pretty-printed result comes last
    assert result["status"] == "skipped"  # the sample's cluster does not exist here
    assert result["reason"] == "cluster not found (deleted?)"


def test_cli_reports_usage_errors_with_exit_2(tmp_path, capsys):
    assert main(["invoke", "storage_scaler", "--event", str(tmp_path / "missing.json")]) == 2
    assert "cannot read event file" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["invoke", "storage_scaler", "--event", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["invoke", "ghost", "--event", "events/scale_request.json"]) == 2
    assert "unknown function 'ghost'" in capsys.readouterr().err


def test_console_script_help_works():
    out = subprocess.run(
        [sys.executable, "-m", "msk_autopilot_local.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert "invoke" in out


@pytest.mark.parametrize("section", ["Parameters", "StorageScalerFunction"])
def test_env_vars_file_sections_reach_the_function(tmp_path, capsys, section):
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({section: {"RETRY_MODE": "bogus"}}))
    code = main(
        ["invoke", "storage_scaler", "--event", "events/scale_request.json", "-n", str(env_vars)]
    )
    assert code == 2
    assert "RETRY_MODE='bogus'" in capsys.readouterr().err


def test_env_vars_of_other_functions_do_not_apply(tmp_path):
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"ConfigRotatorFunction": {"RETRY_MODE": "bogus"}}))
    code = main(
        ["invoke", "storage_scaler", "--event", "events/scale_request.json", "-n", str(env_vars)]
    )
    assert code == 0


def test_local_commands_act_on_the_emulated_clock(msk_emulator, monkeypatch):
    """A function invoked here, and the plan commands, see the emulator's time, not this
    machine's: a day advanced is a day later for them."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # the emulator in this process
    before = emulated_now()
    msk_emulator.clock.advance(86400)
    after = emulated_now()
    assert timedelta(days=1) <= after - before < timedelta(days=1, minutes=1)
    assert abs(after - msk_emulator.clock.now()) < timedelta(seconds=5)
