"""psql, the reference libpq client, run as a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from tests.e2e.conftest import Target, require_program
from tests.support.gateways import running_gateway
from tests.support.tls import make_certificate


async def start_psql(
    target: Target, *args: str, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    program = require_program("psql")
    return await asyncio.create_subprocess_exec(
        program,
        "-X",
        "-h", target.host, "-p", str(target.port), "-U", target.user, "-d", target.database,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PGPASSWORD": target.password, "PGSSLMODE": "disable", "PGCONNECT_TIMEOUT": "10",
             **(env or {})},
    )  # fmt: skip


async def psql(target: Target, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await start_psql(target, *args, env=env)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_psql_queries(target: Target) -> None:
    code, out, err = await psql(
        target, "-A", "-t", "-c", "SELECT 1, 'two'; SELECT current_user", "-c", "SHOW server_version"
    )
    assert code == 0, err
    assert out.splitlines() == ["1|two", "alice", "15.0 (sqlgate)"]
    assert "WARNING" not in err  # psql did not complain about the server version


async def test_psql_reports_errors_and_warnings(target: Target) -> None:
    code, _, err = await psql(target, "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1/0")
    assert code != 0 and "division by zero" in err
    code, _, err = await psql(target, "-c", "COMMIT")
    assert code == 0 and "WARNING:  there is no transaction in progress" in err


async def test_psql_wrong_password(target: Target) -> None:
    code, _, err = await psql(target, "-c", "SELECT 1", env={"PGPASSWORD": "nope"})
    assert code != 0 and 'password authentication failed for user "alice"' in err


async def test_psql_script_with_a_transaction_block(target: Target, tmp_path: Path) -> None:
    script = tmp_path / "script.sql"
    script.write_text(
        "\\set ON_ERROR_STOP on\n"
        "BEGIN;\nSET LOCAL TIME ZONE 'Asia/Tokyo';\nSHOW TimeZone;\nCOMMIT;\nSHOW TimeZone;\n"
    )
    code, out, err = await psql(target, "-q", "-A", "-t", "-f", str(script))
    assert code == 0, err
    assert out.splitlines() == ["Asia/Tokyo", "UTC"]


async def test_psql_streams_a_large_result(target: Target) -> None:
    code, out, err = await psql(target, "-A", "-t", "-c", "SELECT n FROM numbers LIMIT 3000")
    assert code == 0, err
    assert len(out.splitlines()) == 3000 and out.splitlines()[-1] == "3000"


async def test_psql_ctrl_c_cancels_the_running_query(target: Target) -> None:
    process = await start_psql(target, "-c", "SELECT pg_sleep(30)")
    await asyncio.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(process.communicate(), 15)
    assert "canceling statement due to user request" in err.decode()


async def test_psql_over_tls(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    async with running_gateway(tls_cert=str(cert), tls_key=str(key)) as gw:
        target = Target(gw.port, host="localhost")
        code, out, err = await psql(
            target,
            "-A",
            "-t",
            "-c",
            "SELECT 'tls'",
            env={"PGSSLMODE": "verify-full", "PGSSLROOTCERT": str(cert), "PGCHANNELBINDING": "require"},
        )
        assert code == 0, err
        assert out.strip() == "tls"


@pytest.mark.parametrize("user", ["bob", "legacy"])
async def test_psql_cleartext_and_legacy_users(target: Target, user: str) -> None:
    code, out, err = await psql(target.as_user(user), "-A", "-t", "-c", "SELECT session_user")
    assert code == 0, err
    assert out.strip() == user
