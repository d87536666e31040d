"""`msk-autopilot audit`: the auditor's engine from the command line, against the emulator."""

import io
import json

import botocore.session
import pytest
from audit_world import MEMBER_ACCOUNT, REGION, Forbidden, World, member_session
from botocore.validate import ParamValidator

from msk_autopilot_local.cli import main
from msk_autopilot_local.emulator.models import MskBackend
from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT


def audit_json(tmp_path, *args: str) -> tuple[int, dict]:
    output = tmp_path / "audit.json"
    code = main(["audit", "--region", REGION, "--format", "json", "--output", str(output), *args])
    return code, json.loads(output.read_text())


def test_json_output_has_the_documented_shape(fleet, tmp_path):
    code, report = audit_json(tmp_path)

    assert code == 0
    assert set(report) == {"generated_at", "api_calls", "resources", "controls", "summary"}
    assert isinstance(report["api_calls"], int)
    assert report["api_calls"] > 0
    assert {c["name"] for c in report["resources"]} == {*fleet, f"{LOCAL_ACCOUNT}/{REGION}"}
    cluster = next(c for c in report["resources"] if c["name"] == "legacy")
    assert set(cluster) == {"subject", "arn", "name", "region", "account", "findings"}
    assert cluster["subject"] == "cluster"
    assert (cluster["arn"], cluster["region"], cluster["account"]) == (
        fleet["legacy"],
        REGION,
        LOCAL_ACCOUNT,
    )
    finding = next(f for f in cluster["findings"] if f["control"] == "MSK.4")
    assert finding == {
        "control": "MSK.4",
        "category": "SECURITY",
        "status": "PASSED",
        "severity": "CRITICAL",
        "title": "MSK clusters should have public access disabled",
        "detail": "public access is disabled",
        "remediation": (
            "Turn public access off: UpdateConnectivity with PublicAccess.Type DISABLED."
        ),
    }
    statuses = {f["status"] for c in report["resources"] for f in c["findings"]}
    # NOT_AVAILABLE: legacy's 3.3.1 has no topic APIs (AUTOPILOT.12)
    assert statuses == {"PASSED", "FAILED", "NOT_APPLICABLE", "NOT_AVAILABLE"}
    assert report["summary"]["clusters"] == 6
    assert report["summary"]["failed"]["CRITICAL"] == 1  # exposed: MSK.4


def test_fail_on_exits_1_when_a_failure_is_that_severe(fleet, tmp_path):
    assert audit_json(tmp_path)[0] == 0
    assert audit_json(tmp_path, "--fail-on", "CRITICAL")[0] == 1  # exposed: public access


def test_fail_on_ignores_milder_failures(world, tmp_path):
    world.seed(  # fails MSK.2 (LOW), AUTOPILOT.2 and .9 (MEDIUM) only
        {
            "name": "orders",
            "authentication": {"iam": True},
            "logging": {"s3Bucket": "logs"},
            "securityGroups": [world.security_group()],
        }
    )

    assert audit_json(tmp_path, "--fail-on", "HIGH")[0] == 0
    assert audit_json(tmp_path, "--fail-on", "MEDIUM")[0] == 1


def test_fail_on_can_select_a_category(world, tmp_path):
    world.seed(  # fails MSK.2 (LOW, security), AUTOPILOT.9 (MEDIUM) and .10 (LOW), resilience
        {
            "name": "orders",
            "kafkaVersion": "3.8.x",
            "subnets": ["subnet-a", "subnet-b"],
            "authentication": {"iam": True},
            "encryption": {"kmsKeyId": world.customer_key()},
            "logging": {"s3Bucket": "logs"},
            "securityGroups": [world.security_group()],
        }
    )

    assert audit_json(tmp_path, "--fail-on", "medium")[0] == 1
    assert audit_json(tmp_path, "--fail-on", "security:MEDIUM")[0] == 0
    assert audit_json(tmp_path, "--fail-on", "resilience:medium")[0] == 1
    assert audit_json(tmp_path, "--fail-on", "resilience:HIGH")[0] == 0
    assert audit_json(tmp_path, "--fail-on", "security:low")[0] == 1
    both = ("--fail-on", "security:high", "--fail-on", "resilience:medium")
    assert audit_json(tmp_path, *both)[0] == 1


def test_fail_on_rejects_an_unknown_category(aws, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "--region", REGION, "--fail-on", "availability:high"])
    assert exit_.value.code == 2
    assert "is not [CATEGORY:]SEVERITY" in capsys.readouterr().err


def test_one_cluster(fleet, tmp_path):
    code, report = audit_json(tmp_path, "--cluster", fleet["exposed"])

    assert code == 0
    assert [c["name"] for c in report["resources"]] == ["exposed"]


def test_an_unknown_cluster_exits_2(fleet, tmp_path, capsys):
    missing = fleet["exposed"].rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000-1"

    code = main(["audit", "--cluster", missing])

    assert code == 2
    assert "not found" in capsys.readouterr().err


def test_account_roles_add_accounts(aws, tmp_path):
    World(aws).seed({"name": "orders"})
    World(member_session(MEMBER_ACCOUNT)).seed({"name": "ledger"})
    role = f"arn:aws:iam::{MEMBER_ACCOUNT}:role/msk-autopilot-audit"

    code, report = audit_json(tmp_path, "--account-role", role)

    assert code == 0
    assert {(c["name"], c["account"]) for c in report["resources"]} == {
        ("orders", LOCAL_ACCOUNT),
        ("ledger", MEMBER_ACCOUNT),
        (f"{LOCAL_ACCOUNT}/{REGION}", LOCAL_ACCOUNT),
        (f"{MEMBER_ACCOUNT}/{REGION}", MEMBER_ACCOUNT),
    }


def test_an_account_region_that_cannot_be_listed_exits_2(aws, tmp_path, monkeypatch, capsys):
    World(aws).seed({"name": "orders"})

    def denied(self, *args, **kwargs):
        raise Forbidden("User is not authorized to perform: kafka:ListClustersV2")

    monkeypatch.setattr(MskBackend, "list_cluster_infos_v2", denied)

    code = main(["audit", "--region", REGION, "--format", "json"])

    assert code == 2
    assert "ListClustersV2 failed" in capsys.readouterr().err


def test_asff_output_is_valid_for_batch_import_findings(fleet, capsys):
    assert main(["audit", "--region", REGION, "--format", "asff"]) == 0

    findings = json.loads(capsys.readouterr().out)
    shape = (
        botocore.session.get_session()
        .get_service_model("securityhub")
        .operation_model("BatchImportFindings")
        .input_shape
    )
    assert not ParamValidator().validate({"Findings": findings}, shape).has_errors()
    assert all(f["Compliance"]["Status"] != "NOT_APPLICABLE" for f in findings)
    # 6 clusters x 16 cluster controls, less the 11 NOT_APPLICABLE ones (stream 6; AUTOPILOT.7 on
    # the 3 clusters without SCRAM; AUTOPILOT.13 on the 2 without IAM), and the account's
    # AUTOPILOT.11
    assert len(findings) == 6 * 16 - 11 + 1


def test_table_lists_what_failed_most_severe_first(fleet, capsys):
    assert main(["audit", "--region", REGION]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:7] == [
        "RESOURCE",
        "ACCOUNT",
        "REGION",
        "CONTROL",
        "CATEGORY",
        "SEVERITY",
        "STATUS",
    ]
    assert lines[1].split()[:7] == [
        "exposed",
        LOCAL_ACCOUNT,
        REGION,
        "MSK.4",
        "SECURITY",
        "CRITICAL",
        "FAILED",
    ]
    assert lines[-3].startswith("6 clusters: ")
    assert lines[-2].startswith("failed by category: security: ")
    assert "resilience: 1 LOW, 1 MEDIUM" in lines[-2]  # legacy: two zones, unprotected storage
    assert lines[-1].endswith("AWS API calls")


def test_progress_shows_on_a_terminal_only(fleet, monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    with monkeypatch.context() as patched:
        patched.setattr("sys.stderr", terminal)
        main(["audit", "--region", REGION, "--format", "json"])
    shown = terminal.getvalue()
    assert "auditing" in shown
    assert "7/7" in shown, "the bar counts every resource: 6 clusters and the account"
    assert "\x1b[" in shown, "a terminal's bar is redrawn in place"

    main(["audit", "--region", REGION, "--format", "json"])
    assert "auditing" not in capsys.readouterr().err


def test_no_region_exits_2(aws, monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))

    assert main(["audit"]) == 2
    assert "no Region" in capsys.readouterr().err
