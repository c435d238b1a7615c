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
