"""Settings are read from the environment and fail the cold start with one clear message."""

import pytest

from msk_autopilot.settings import (
    CommonSettings,
    HealthMonitorSettings,
    SecurityAuditorSettings,
    SettingsError,
    StorageScalerSettings,
    VersionUpgraderSettings,
    load,
)

TOPIC = "arn:aws:sns:us-east-1:123456789012:msk-autopilot-notifications"
BASE = {"AWS_REGION": "us-east-1", "NOTIFICATION_TOPIC_ARN": TOPIC}


def test_defaults_apply_when_only_required_variables_are_set():
    settings = load(CommonSettings, BASE)
    assert settings.region == "us-east-1"
    assert settings.dry_run is False
    assert settings.opt_in_tag_key == "msk-autopilot:managed"
    assert settings.retry_mode == "standard"
    assert settings.max_attempts == 5
    assert settings.tracing_enabled is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False)],
)
def test_booleans_are_parsed(raw, expected):
    assert load(CommonSettings, {**BASE, "DRY_RUN": raw}).dry_run is expected


def test_every_bad_variable_is_named_in_one_error():
    env = {"AWS_REGION": "us-east-1", "DRY_RUN": "maybe", "RETRY_MODE": "legacy"}
    with pytest.raises(SettingsError) as caught:
        load(StorageScalerSettings, env)
    message = str(caught.value)
    assert "DRY_RUN='maybe' must be true or false" in message
    assert "RETRY_MODE='legacy' must be one of standard, adaptive" in message
    assert "NOTIFICATION_TOPIC_ARN is required" in message
    assert "IDEMPOTENCY_TABLE_NAME is required" in message
    assert len(caught.value.problems) == 4


def test_an_arn_of_the_wrong_service_is_refused():
    env = {**BASE, "NOTIFICATION_TOPIC_ARN": "arn:aws:sqs:us-east-1:123456789012:queue"}
    with pytest.raises(SettingsError, match=r"NOTIFICATION_TOPIC_ARN=.* must be an arn:aws:sns"):
        load(CommonSettings, env)


def test_integer_ranges_are_enforced():
    with pytest.raises(SettingsError, match="RETRY_MAX_ATTEMPTS='50' must be between 1 and 20"):
        load(CommonSettings, {**BASE, "RETRY_MAX_ATTEMPTS": "50"})
    with pytest.raises(SettingsError, match="must be a whole number"):
        load(CommonSettings, {**BASE, "RETRY_MAX_ATTEMPTS": "five"})


def test_lists_are_split_on_commas_and_empty_means_default():
    env = {
        **BASE,
        "REPORT_BUCKET": "reports",
        "IDEMPOTENCY_TABLE_NAME": "table",
        "AUDIT_REGIONS": " eu-west-1, us-east-1 ,",
    }
    settings = load(SecurityAuditorSettings, {**env, "MEMBER_ACCOUNT_IDS": ""})
    assert settings.audit_regions == ("eu-west-1", "us-east-1")
    assert settings.member_accounts == ()


def test_settings_are_immutable():
    settings = load(CommonSettings, BASE)
    with pytest.raises(AttributeError):
        settings.dry_run = True  # type: ignore[misc]


def test_a_storage_target_at_or_above_the_alarm_threshold_names_both_variables():
    storage = {**BASE, "IDEMPOTENCY_TABLE_NAME": "decisions"}
    with pytest.raises(SettingsError) as caught:
        load(
            StorageScalerSettings,
            {**storage, "STORAGE_TARGET_PERCENT": "90", "DISK_ALARM_THRESHOLD_PERCENT": "75"},
        )
    assert caught.value.problems == [
        "STORAGE_TARGET_PERCENT (90) must be below DISK_ALARM_THRESHOLD_PERCENT (75)"
    ]
    assert load(StorageScalerSettings, storage).target_percent == 60.0


def test_the_disk_backstop_must_sit_above_the_scalers_trigger():
    monitor = {**BASE, "IDEMPOTENCY_TABLE_NAME": "notices"}
    with pytest.raises(SettingsError) as caught:
        load(
            HealthMonitorSettings,
            {**monitor, "DISK_BACKSTOP_ALARM_PERCENT": "75", "DISK_ALARM_THRESHOLD_PERCENT": "80"},
        )
    assert caught.value.problems == [
        "DISK_BACKSTOP_ALARM_PERCENT (75) must be above DISK_ALARM_THRESHOLD_PERCENT (80)"
    ]
    defaults = load(HealthMonitorSettings, monitor)
    assert (defaults.cpu_alarm_percent, defaults.disk_backstop_percent) == (60.0, 85.0)
    assert defaults.connection_alarm_count == 2700


def test_the_function_name_comes_from_lambda():
    named = load(CommonSettings, {**BASE, "AWS_LAMBDA_FUNCTION_NAME": "msk-autopilot-scaler"})
    assert named.function_name == "msk-autopilot-scaler"
    assert load(CommonSettings, BASE).function_name == ""


def test_the_version_catalogue_override_is_validated_at_load_naming_the_field():
    upgrader = {**BASE, "IDEMPOTENCY_TABLE_NAME": "table"}
    assert load(VersionUpgraderSettings, upgrader).catalogue.recommended == "3.8.x"
    override = '{"recommended": "3.9.x", "versions": {"3.8.x": {"end_of_support": "2027-06-01"}}}'
    settings = load(VersionUpgraderSettings, {**upgrader, "VERSION_CATALOGUE_OVERRIDE": override})
    assert settings.catalogue.recommended == "3.9.x"
    assert str(settings.catalogue.versions["3.8.x"].end_of_support) == "2027-06-01"
    bad = '{"versions": {"3.8.x": {"end_of_support": "soon"}}}'
    with pytest.raises(SettingsError) as raised:
        load(VersionUpgraderSettings, {**upgrader, "VERSION_CATALOGUE_OVERRIDE": bad})
    (problem,) = raised.value.problems
    assert problem.startswith("VERSION_CATALOGUE_OVERRIDE=")
    assert "`$.versions['3.8.x'].end_of_support`" in problem
