"""The SAM template, transformed offline to the CloudFormation that would be deployed."""

import json
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from msk_autopilot_local.template.cfn import transform_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


@pytest.fixture(scope="session")
def transformed() -> dict[str, Any]:
    return transform_template(TEMPLATE)


@pytest.fixture(scope="session")
def transformed_file(transformed, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cfn") / "template.json"
    path.write_text(json.dumps(transformed, indent=1))
    return path
