"""checkov, as `make test` installs it, over one CloudFormation file: its JSON report."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def checkov_report(template: Path) -> dict[str, Any]:
    checkov = os.environ.get("CHECKOV_CLI") or str(ROOT / ".tools/checkov/bin/checkov")
    assert Path(checkov).exists(), "make test installs checkov into .tools/checkov"
    result = subprocess.run(
        [
            checkov,
            "--file",
            str(template),
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
    report: dict[str, Any] = json.loads(result.stdout)
    return report
