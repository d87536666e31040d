"""ASFF findings, checked against botocore's own model of BatchImportFindings."""

import botocore.session
import pytest
from botocore.validate import ParamValidator

from msk_autopilot.audit.controls import Category, FindingSeverity, Status, Subject
from msk_autopilot.audit.findings import asff_finding, finding_id, product_arn
from msk_autopilot.audit.report import Finding, ResourceAudit

ARN = "arn:aws:kafka:eu-west-1:222222222222:cluster/orders/5c9a6e0a-1c2d-4f7e-9a31-2b8f0d4e6a11-2"
CLUSTER = ResourceAudit(
    arn=ARN, name="orders", region="eu-west-1", account="222222222222", findings=[]
)
IMPORT = (
    botocore.session.get_session()
    .get_service_model("securityhub")
    .operation_model("BatchImportFindings")
    .input_shape
)


def finding(
    status: Status,
    detail: str = "enhanced monitoring is DEFAULT",
    category: Category = Category.SECURITY,
) -> Finding:
    return Finding(
        control="MSK.2",
        category=category,
        status=status,
        severity=FindingSeverity.LOW,
        title="MSK clusters should have enhanced monitoring configured",
        detail=detail,
        remediation="Set enhanced monitoring to PER_TOPIC_PER_BROKER.",
    )


def asff(status: Status, resource: ResourceAudit = CLUSTER, **options) -> dict:
    result = asff_finding(resource, finding(status, **options), observed_at="2026-11-24T10:00:00Z")
    assert result is not None
    return result


@pytest.mark.parametrize("status", [Status.PASSED, Status.FAILED, Status.NOT_AVAILABLE])
def test_findings_are_valid_asff(status):
    report = ParamValidator().validate({"Findings": [asff(status)]}, IMPORT)
    assert not report.has_errors(), report.generate_report()


def test_a_finding_names_its_account_region_and_resource():
    document = asff(Status.FAILED)
    assert document["Id"] == finding_id(ARN, "MSK.2") == f"{ARN}/MSK.2"
    assert document["AwsAccountId"] == "222222222222"
    assert (
        document["ProductArn"]
        == product_arn(CLUSTER)
        == ("arn:aws:securityhub:eu-west-1:222222222222:product/222222222222/default")
    )
    assert document["GeneratorId"] == "msk-autopilot/MSK.2"
    assert document["Compliance"] == {"Status": "FAILED"}
    assert document["FindingProviderFields"]["Severity"]["Label"] == "LOW"
    assert document["Resources"][0]["Type"] == "AwsMskCluster"
    assert document["RecordState"] == "ACTIVE"


def test_not_available_carries_its_reason():
    document = asff(Status.NOT_AVAILABLE, detail="DescribeKey failed: AccessDenied")
    assert document["Compliance"] == {
        "Status": "NOT_AVAILABLE",
        "StatusReasons": [
            {"ReasonCode": "DATA_UNAVAILABLE", "Description": "DescribeKey failed: AccessDenied"}
        ],
    }


def test_not_applicable_is_not_imported():
    assert asff_finding(CLUSTER, finding(Status.NOT_APPLICABLE), observed_at="now") is None


def test_archived_findings_say_so():
    document = asff_finding(CLUSTER, finding(Status.FAILED), observed_at="now", archived=True)
    assert document is not None
    assert document["RecordState"] == "ARCHIVED"


def test_long_details_are_clipped_to_asff_limits():
    document = asff(Status.FAILED, detail="x" * 5000)
    assert len(document["Description"]) == 1024
    assert document["Description"].endswith("...")


CONNECTOR = ResourceAudit(
    subject=Subject.CONNECTOR,
    arn="arn:aws:kafkaconnect:eu-west-1:222222222222:connector/sink/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-3",
    name="sink",
    region="eu-west-1",
    account="222222222222",
    findings=[],
)
ACCOUNT = ResourceAudit(
    subject=Subject.ACCOUNT_REGION,
    arn="AWS::::Account:222222222222",
    name="222222222222/eu-west-1",
    region="eu-west-1",
    account="222222222222",
    findings=[],
)


@pytest.mark.parametrize(
    ("resource", "resource_type"),
    [(CLUSTER, "AwsMskCluster"), (CONNECTOR, "Other"), (ACCOUNT, "AwsAccount")],
)
def test_each_subject_has_its_resource_type_and_is_valid_asff(resource, resource_type):
    document = asff(Status.FAILED, resource)
    assert ParamValidator().validate({"Findings": [document]}, IMPORT).has_errors() is False
    (entry,) = document["Resources"]
    assert (entry["Type"], entry["Id"], entry["Region"]) == (
        resource_type,
        resource.arn,
        "eu-west-1",
    )
    assert document["ProductArn"] == (
        "arn:aws:securityhub:eu-west-1:222222222222:product/222222222222/default"
    )


def test_a_connectors_cloudformation_type_is_in_its_details():
    (entry,) = asff(Status.FAILED, CONNECTOR)["Resources"]
    assert entry["Details"] == {"Other": {"Type": "AWS::KafkaConnect::Connector"}}


@pytest.mark.parametrize(
    ("category", "types"),
    [
        (Category.SECURITY, ["Software and Configuration Checks/AWS Security Best Practices"]),
        (
            Category.RESILIENCE,
            ["Software and Configuration Checks", "Effects/Denial of Service"],
        ),
    ],
)
def test_the_category_sets_the_finding_types(category, types):
    document = asff(Status.FAILED, category=category)
    assert document["Types"] == document["FindingProviderFields"]["Types"] == types
    assert document["ProductFields"]["msk-autopilot/Category"] == category.value
