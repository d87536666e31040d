"""The layer sam build ships: the core and its pinned dependencies, built for arm64, with bytecode
Lambda can use from its read-only /opt without recompiling the sources at every cold start."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER_SOURCE = ROOT / "layers" / "autopilot"
ELF_MACHINE_AARCH64 = 0xB7
# PEP 552 flags: hash-based bytecode (bit 0) whose source the importer never checks (bit 1 unset).
UNCHECKED_HASH = 0b01


@pytest.fixture(scope="module")
def layer(tmp_path_factory) -> Path:
    artifacts = tmp_path_factory.mktemp("layer")
    subprocess.run(  # the layer's own build recipe, as sam build runs it
        [
            "make",
            "--no-print-directory",
            "-C",
            str(LAYER_SOURCE),
            "build-AutopilotLayer",
            f"ARTIFACTS_DIR={artifacts}",
            f"PYTHON={sys.executable}",
        ],
        check=True,
        capture_output=True,
    )
    return artifacts / "python"


def _pinned_distributions() -> dict[str, str]:
    pins = {}
    for line in (LAYER_SOURCE / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line)
        if match:
            pins[match[1].replace("-", "_").lower()] = match[2]
    return pins


def test_the_layer_holds_the_core_and_every_pinned_dependency(layer):
    installed = dict(
        path.name.removesuffix(".dist-info").lower().rsplit("-", 1)
        for path in layer.glob("*.dist-info")
    )
    for name, version in _pinned_distributions().items():
        assert installed.get(name) == version, name
    core = sorted(
        p.relative_to(LAYER_SOURCE) for p in (LAYER_SOURCE / "msk_autopilot").rglob("*.py")
    )
    shipped = sorted(p.relative_to(layer) for p in (layer / "msk_autopilot").rglob("*.py"))
    assert shipped == core
    # the data the core reads at run time, such as the price table
    assert (layer / "msk_autopilot" / "capacity" / "prices.json").read_bytes() == (
        LAYER_SOURCE / "msk_autopilot" / "capacity" / "prices.json"
    ).read_bytes()
    assert not (layer / "bin").exists()
    assert not (layer / "boto3").exists(), "boto3 comes with the Lambda runtime"


def test_every_module_has_bytecode_used_without_a_source_check(layer):
    sources = list(layer.rglob("*.py"))
    assert len(sources) > 300
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        assert cached.exists(), source
        header = cached.read_bytes()[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, source
        flags = int.from_bytes(header[4:8], "little")
        assert flags == UNCHECKED_HASH, source
        assert header[8:16] == importlib.util.source_hash(source.read_bytes()), source


def test_compiled_extensions_are_built_for_arm64(layer):
    extensions = list(layer.rglob("*.so"))
    assert {path.parts[len(layer.parts)] for path in extensions} >= {"msgspec", "fastavro"}
    for extension in extensions:
        header = extension.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", extension
        assert int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64, extension
