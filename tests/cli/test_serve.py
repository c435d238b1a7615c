"""``sqlgate serve``: options, environment, and refusing to start without what it needs."""

from __future__ import annotations

import subprocess
import sys

from sqlgate.cli.main import build_parser, main


def test_serve_lists_every_option() -> None:
    help_text = build_parser()._subparsers._group_actions[0].choices["serve"].format_help()  # type: ignore[union-attr]
    for option in (
        "--host",
        "--port",
        "--metrics-port",
        "--tls-cert",
        "--tls-key",
        "--allow-cleartext",
        "--max-connections",
        "--startup-timeout",
        "--shutdown-timeout",
        "--metadata-url",
    ):
        assert option in help_text
    assert "SQLGATE_PORT" in help_text


def test_serve_without_a_metadata_database_fails_clearly(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SQLGATE_METADATA_URL", raising=False)
    assert main(["serve", "--port", "0", "--metrics-port", "off"]) == 1
    assert "no metadata database" in capsys.readouterr().err


def test_serve_rejects_half_a_tls_configuration(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["serve", "--tls-cert", "only-cert.pem"]) == 1
    assert "--tls-cert and --tls-key must be given together" in capsys.readouterr().err


def test_python_dash_m_runs_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sqlgate", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and "SIGTERM" in result.stdout


async def test_sigterm_drains_then_closes_with_57p01() -> None:
    import asyncio
    import os
    import signal
    from pathlib import Path

    from sqlgate.pgproto import backend as be
    from sqlgate.pgproto import frontend as fe
    from tests.support.gateways import password_of
    from tests.support.rawpg import RawPg, rows

    root = Path(__file__).resolve().parents[2]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.cli.serve_in_memory", "5",
        cwd=root, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    port = int(line.split()[1])
    idle = await RawPg.connect(port)
    busy = await RawPg.connect(port)
    for conn in (idle, busy):
        await conn.startup("alice", password_of("alice"))
    await busy.send(fe.Query("SELECT n FROM slow_numbers LIMIT 3"))
    await asyncio.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    first = await idle.recv()
    assert isinstance(first, be.ErrorResponse) and first.code == "57P01"
    assert rows(await busy.recv_until()) == [["1"], ["2"], ["3"]]
    last = await busy.recv()
    assert isinstance(last, be.ErrorResponse) and last.code == "57P01"
    assert await asyncio.wait_for(process.wait(), 15) == 0
