"""psql's meta-commands against the shadow catalog: what a user browsing the model sees."""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.e2e.conftest import require_program
from tests.support.catalog import CatalogEnv, Login

pytestmark = pytest.mark.e2e


async def psql(env: CatalogEnv, *commands: str, login: Login | None = None) -> str:
    """Output of ``psql -c`` for each command (unaligned, no psqlrc); fails the test on an error."""
    program = require_program("psql")
    args = [arg for command in commands for arg in ("-c", command)]
    process = await asyncio.create_subprocess_exec(
        program, "-X", "-v", "ON_ERROR_STOP=1", "-A", "-F", "|", env.dsn(login), *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "ERROR" not in err.decode() and "WARNING" not in err.decode(), err.decode()
    return out.decode()


async def test_list_databases_schemas_and_tables(catalog_env: CatalogEnv) -> None:
    owner = catalog_env.owner.username
    out = await psql(catalog_env, r"\l", r"\dn", r"\dt")
    lines = out.splitlines()
    assert f"db|{owner}|UTF8|C|C||libc|" in lines  # one database, named as the client connected
    assert f"public|{owner}" in lines
    assert [line for line in lines if line.startswith("public|") and "|table|" in line] == [
        f"public|{name}|table|{owner}" for name in ("line_items", "orders", "products", "users")
    ]
    assert "sqlgate" not in out.replace(owner, "")  # no trace of the catalog server's own names


async def test_describe_a_cube(catalog_env: CatalogEnv) -> None:
    out = await psql(catalog_env, r"\d orders")
    assert 'Table "public.orders"' in out
    columns = [line.split("|")[:2] for line in out.splitlines()[2:] if "|" in line]
    assert columns == [
        ["count", "bigint"], ["total_amount", "numeric"], ["id", "numeric"], ["status", "text"],
        ["created_at", "timestamp without time zone"], ["completed_at", "timestamp without time zone"],
        ["amount", "numeric"], ["user_id", "numeric"], ["product_id", "numeric"], ["is_completed", "boolean"],
        ["__user", "text"], ["__cubeJoinField", "text"],
    ]  # fmt: skip
    verbose = await psql(catalog_env, r"\d+ orders", r"\dt+ orders")
    assert "|Number of orders" in verbose and "|Order status" in verbose
    assert verbose.splitlines()[-2].endswith("|Orders")  # the table description (\dt+)


async def test_list_functions_does_not_crash(catalog_env: CatalogEnv) -> None:
    out = await psql(catalog_env, r"\df", r"\df pg_catalog.pg_get_keyw*", r"\dv", r"\di")
    assert "pg_get_keywords" in out and "(0 rows)" in out


async def test_a_member_sees_only_what_the_access_list_allows(catalog_env: CatalogEnv) -> None:
    member = catalog_env.member
    out = await psql(catalog_env, r"\dt", r"\d orders", login=member)
    tables = [line.split("|")[1] for line in out.splitlines() if line.startswith("public|")]
    assert tables == ["orders"]
    described = [line for line in out[out.index('Table "public.orders"') :].splitlines()[2:] if "|" in line]
    assert [line.split("|")[0] for line in described] == [
        "count", "status", "created_at", "__user", "__cubeJoinField",
    ]  # fmt: skip
    assert f"|{member.username}" in out
