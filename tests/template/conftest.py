"""The SAM template, transformed offline to the CloudFormation that would be deployed."""

import json
import os
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _OfflinePolicyLoader:
    """The template names managed policies by ARN only, so no IAM look-up is needed."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    """The template as `sam package` leaves it: code locations are S3 objects."""
    result = json.loads(json.dumps(template))
    for logical_id, resource in result["Resources"].items():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = f"s3://msk-autopilot-artifacts/{logical_id}.zip"
    return result


@pytest.fixture(scope="session")
def transformed(sam_template) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(packaged(sam_template), {}, _OfflinePolicyLoader())


@pytest.fixture(scope="session")
def transformed_file(transformed, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cfn") / "template.json"
    path.write_text(json.dumps(transformed, indent=1))
    return path
