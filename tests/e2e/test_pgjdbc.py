"""pgjdbc (the driver of DBeaver, Metabase, Tableau …): extended protocol everywhere, binary after the
prepare threshold, fetch-size portals, query timeouts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.conftest import Target, require_program

JAR = Path("/usr/share/java/postgresql.jar")
PROGRAM = Path(__file__).parent / "java" / "JdbcCheck.java"


async def test_pgjdbc_session(target: Target) -> None:
    java = require_program("java")
    if not JAR.exists():
        pytest.skip("pgjdbc is not installed (Debian package libpostgresql-jdbc-java)")
    url = f"jdbc:postgresql://{target.host}:{target.port}/{target.database}?sslmode=disable"
    process = await asyncio.create_subprocess_exec(
        java, "-cp", str(JAR), str(PROGRAM), url, target.user, target.password,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    checks = dict(line.split("=", 1) for line in out.decode().splitlines() if "=" in line)
    assert checks == {
        "major": "15",
        "product": "PostgreSQL",
        "select1": "1",
        "prepared_sum": str(2 * sum(range(1, 9))),
        "isolation": "2",  # Connection.TRANSACTION_READ_COMMITTED
        "fetched": "35",
        "error": "22012",
        "timeout": "57014",
        "timestamptz": "2024-01-01T10:00:00Z",
        "text": "x",
        "done": "true",
    }
