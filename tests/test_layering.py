"""The package boundaries of docs/architecture.md, checked on the source.

Every ``import sqlgate.X`` / ``from sqlgate.X import …`` in a sub-package must be one that the
architecture allows (type-only imports under ``TYPE_CHECKING`` count too: they are still a
dependency of the code's meaning). A new edge is a design decision: add it here *and* to the table in
docs/architecture.md, with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sqlgate"

# Mirrors the "may import" column of docs/architecture.md. ``errors`` and ``config`` are leaves that
# any layer may use.
ALLOWED: dict[str, set[str]] = {
    "pgproto": set(),
    "upstream": {"pgproto"},
    "metastore": {"auth"},  # credential issuing hashes with auth's leaf modules (passwords, verifier)
    "semantic": set(),
    "sources": {"pgproto", "upstream", "auth"},  # auth: the DatasourceInfo type only
    "auth": {"metastore", "pgproto"},
    "observability": {"auth"},  # the SecurityContext type only
    "planner": {"semantic", "sources", "pgproto", "upstream", "auth", "observability"},
    "wire": {"pgproto", "auth", "planner", "observability"},
    "demo": {"metastore", "auth", "cli", "semantic", "sources"},
}
LEAVES = {"errors", "config"}
# Composition roots may import everything.
ROOTS = {"gateway", "cli", "__main__", "__init__"}


def imported_layers(path: Path) -> set[str]:
    """The sqlgate sub-packages (first component after ``sqlgate.``) that ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "sqlgate" and len(parts) > 1:
                found.add(parts[1])
    return found


def layer_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_allowed_layers(path: Path) -> None:
    layer = layer_of(path)
    if layer in ROOTS or layer in LEAVES:
        return
    assert layer in ALLOWED, f"new package sqlgate.{layer}: add it to ALLOWED and docs/architecture.md"
    extra = imported_layers(path) - ALLOWED[layer] - LEAVES - {layer}
    assert not extra, f"sqlgate.{layer} may not import {sorted(extra)} ({path.relative_to(PACKAGE)})"


def test_every_layer_in_the_table_exists() -> None:
    present = {layer_of(p) for p in MODULES}
    assert set(ALLOWED) <= present
