"""Settings of the configuration rotator and the SCRAM rotator."""

import pytest

from msk_autopilot.settings import (
    ConfigRotatorSettings,
    ScramRotatorSettings,
    SettingsError,
    load,
)

COMMON = {
    "AWS_REGION": "eu-west-1",
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:msk-autopilot-notifications",
}
SCRAM = {**COMMON, "IDEMPOTENCY_TABLE_NAME": "table"}


def test_config_rotator_defaults():
    settings = load(ConfigRotatorSettings, {**COMMON, "IDEMPOTENCY_TABLE_NAME": "table"})
    assert settings.parameter_prefix == "/msk-autopilot/configurations/"
    assert settings.configuration_tag_key == "msk-autopilot:configuration"
    assert settings.drift_action == "repair"


def test_config_rotator_reports_every_bad_variable():
    with pytest.raises(SettingsError) as error:
        load(
            ConfigRotatorSettings,
            {**COMMON, "CONFIG_PARAMETER_PREFIX": "msk/configs", "CONFIG_DRIFT_ACTION": "ignore"},
        )
    assert error.value.problems == [
        "IDEMPOTENCY_TABLE_NAME is required",
        "CONFIG_PARAMETER_PREFIX='msk/configs' must be a Parameter Store path that starts and "
        "ends with '/'",
        "CONFIG_DRIFT_ACTION='ignore' must be one of repair, report",
    ]


def test_scram_rotator_authenticator():
    assert load(ScramRotatorSettings, SCRAM).authenticator == (
        "msk_autopilot.scram.handshake:authenticate"
    )
    custom = load(ScramRotatorSettings, {**SCRAM, "SCRAM_AUTHENTICATOR": "tests.fake:check"})
    assert custom.authenticator == "tests.fake:check"
    with pytest.raises(SettingsError, match="must be module:function"):
        load(ScramRotatorSettings, {**SCRAM, "SCRAM_AUTHENTICATOR": "not a path"})
