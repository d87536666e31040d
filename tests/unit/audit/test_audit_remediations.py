"""The remediation registry: requests MSK's model accepts, and agreement with the settings."""

import botocore.session
import pytest
from botocore.validate import ParamValidator

from msk_autopilot.audit import CONTROLS, REMEDIATIONS, required_permissions
from msk_autopilot.audit.remediate import RemediationContext
from msk_autopilot.msk import ClusterSnapshot
from msk_autopilot.settings import SecurityAuditorSettings, SettingsError, load

KAFKA = botocore.session.get_session().get_service_model("kafka")
CLUSTER = ClusterSnapshot.from_api(
    {
        "ClusterArn": "arn:aws:kafka:us-east-1:123456789012:cluster/orders/uuid-1",
        "ClusterName": "orders",
        "State": "ACTIVE",
        "Provisioned": {
            "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large"},
            "NumberOfBrokerNodes": 3,
            "EnhancedMonitoring": "PER_BROKER",
        },
    }
)
ENV = {
    "AWS_REGION": "us-east-1",
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:topic",
    "REPORT_BUCKET": "reports",
    "IDEMPOTENCY_TABLE_NAME": "table",
}


def test_the_settings_accept_exactly_the_remediable_controls():
    assert set(SecurityAuditorSettings.REMEDIABLE_CONTROLS) == set(REMEDIATIONS)
    assert set(REMEDIATIONS) <= set(CONTROLS)


def test_in_cluster_encryption_is_not_remediable_msk_cannot_change_it():
    assert "MSK.1" not in REMEDIATIONS
    with pytest.raises(SettingsError, match=r"REMEDIATE_CONTROLS='MSK\.1,MSK\.2'"):
        load(SecurityAuditorSettings, {**ENV, "REMEDIATE_CONTROLS": "MSK.1,MSK.2"})


def test_broker_log_remediation_needs_a_log_group():
    with pytest.raises(SettingsError, match="BROKER_LOG_GROUP is required"):
        load(SecurityAuditorSettings, {**ENV, "REMEDIATE_CONTROLS": "AUTOPILOT.3"})
    settings = load(
        SecurityAuditorSettings,
        {**ENV, "REMEDIATE_CONTROLS": "AUTOPILOT.3, MSK.2", "BROKER_LOG_GROUP": "/msk"},
    )
    assert settings.remediate_controls == ("AUTOPILOT.3", "MSK.2")


def test_member_accounts_are_account_ids():
    with pytest.raises(SettingsError, match="MEMBER_ACCOUNT_IDS"):
        load(SecurityAuditorSettings, {**ENV, "MEMBER_ACCOUNT_IDS": "prod"})


@pytest.mark.parametrize("control", sorted(REMEDIATIONS))
def test_each_request_is_valid_for_its_msk_action(control):
    remediation = REMEDIATIONS[control]
    request = remediation.request(CLUSTER, RemediationContext(broker_log_group="/msk/brokers"))
    shape = KAFKA.operation_model(remediation.action).input_shape
    params = {"ClusterArn": CLUSTER.cluster_arn, "CurrentVersion": "K1", **request}
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()
    assert f"kafka:{remediation.action}" in remediation.permissions


def test_broker_log_remediation_keeps_the_monitoring_level():
    request = REMEDIATIONS["AUTOPILOT.3"].request(CLUSTER, RemediationContext("/msk/brokers"))
    assert request["EnhancedMonitoring"] == "PER_BROKER"


def test_required_permissions_cover_controls_remediations_and_outputs():
    permissions = set(required_permissions())
    assert {"kafka:GetClusterPolicy", "kafka:UpdateConnectivity", "s3:PutObject"} <= permissions
    assert "kafka:UpdateSecurity" in permissions
