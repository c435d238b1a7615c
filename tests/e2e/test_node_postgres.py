"""node-postgres: text results, named statements, pg-cursor paging (Execute with a row limit + Flush)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Target, require_program

NODE_DIR = Path(__file__).parent / "node"


async def test_node_postgres_session(target: Target) -> None:
    node = require_program("node")
    if (
        not (NODE_DIR / "node_modules" / "pg").exists()
        or not (NODE_DIR / "node_modules" / "pg-cursor").exists()
    ):
        pytest.skip("node-postgres is not installed (scripts/install-test-clients runs npm install)")
    process = await asyncio.create_subprocess_exec(
        node, str(NODE_DIR / "check.js"), str(target.port), target.user, target.password,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert json.loads(out) == {
        "simple": {"one": 1, "s": "x"},
        "params": {"n": 42, "t": "hi"},
        "named": {"v": "9007199254740993"},
        "pages": [[1, 2, 3], [4, 5, 6], [7]],
        "error": "22012",
        "after": "alive",
    }
