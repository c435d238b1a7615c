"""node-postgres (``pg`` and ``pg-cursor`` from npm) browsing the catalog and paging through results."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.e2e.conftest import require_program
from tests.support.catalog import CatalogEnv

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).parent / "node"
TIMESTAMP = "timestamp without time zone"


async def test_node_postgres_browses_and_pages(catalog_env: CatalogEnv) -> None:
    node = require_program("node")
    if not (NODE_DIR / "node_modules" / "pg-cursor").exists():
        pytest.skip("node-postgres is not installed (scripts/install-test-clients runs npm install)")
    login = catalog_env.owner
    process = await asyncio.create_subprocess_exec(
        node, str(NODE_DIR / "catalog_check.js"), str(catalog_env.port), login.username, login.password,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert json.loads(out) == {
        "tables": ["line_items", "orders", "products", "users"],
        "columns": [
            ["count:bigint", "total_amount:numeric", "id:numeric", "status:text", f"created_at:{TIMESTAMP}"],
            [f"completed_at:{TIMESTAMP}", "amount:numeric", "user_id:numeric", "product_id:numeric",
             "is_completed:boolean"],
            ["__user:text", "__cubeJoinField:text"],
        ],
        "cube": [["1:new", "2:shipped"], ["3:shipped"]],
        "app": [{"application_name": "node-check"}],
    }  # fmt: skip
