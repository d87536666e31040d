"""Arrows point down: functions and the core never import the local tools, and no module of the
tools imports a command module (commands are thin; what they share lives in a library module)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools" / "msk_autopilot_local"
COMMANDS = "msk_autopilot_local.cli"
SHARED_BY_COMMANDS = {"msk_autopilot_local.cli.options"}


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT / "tools").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize(
    "path",
    sorted([*(ROOT / "layers").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]),
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_lambda_code_never_imports_the_local_tools(path):
    assert not [name for name in _imports(path) if name.startswith("msk_autopilot_local")]


@pytest.mark.parametrize(
    "path", sorted(TOOLS.rglob("*.py")), ids=lambda path: str(path.relative_to(ROOT))
)
def test_no_module_imports_a_command_module(path):
    module = _module(path)
    if module in (COMMANDS, f"{COMMANDS}.__main__"):
        return  # the entry point registers the commands
    imported = {
        name
        for name in _imports(path)
        if (name == COMMANDS or name.startswith(f"{COMMANDS}."))
        and name not in SHARED_BY_COMMANDS
        and not name.startswith(f"{COMMANDS}.options.")
    }
    if module.startswith(f"{COMMANDS}."):
        imported.discard(COMMANDS)  # `from msk_autopilot_local.cli.options import ...`
    assert not imported, f"{module} imports {sorted(imported)}"
