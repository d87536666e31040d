"""checkov finds nothing to fix in the deployed CloudFormation; every skip says why."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIN_JUSTIFICATION = 30  # characters: a reason, not a placeholder


@pytest.mark.slow
def test_checkov_passes_the_transformed_template(transformed_file):
    checkov = os.environ.get("CHECKOV_CLI") or str(ROOT / ".tools/checkov/bin/checkov")
    assert Path(checkov).exists(), "make test installs checkov into .tools/checkov"
    result = subprocess.run(
        [
            checkov,
            "--file",
            str(transformed_file),
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] >= 100  # the scan really ran over the resources


def test_every_skip_carries_a_justification(transformed):
    skips = [
        (logical_id, skip)
        for logical_id, resource in transformed["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips  # the check below is not vacuous
    for logical_id, skip in skips:
        assert len(skip.get("comment", "")) >= MIN_JUSTIFICATION, (logical_id, skip["id"])
