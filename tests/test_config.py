"""Settings: environment, command line, validation, and the documentation table."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from sqlgate.config import Settings, SettingsError, settings_reference


def test_defaults_environment_and_overrides() -> None:
    assert Settings().port == 15432 and Settings().metrics_port == 9187
    settings = Settings.from_env(
        {"SQLGATE_PORT": "6000", "SQLGATE_ALLOW_CLEARTEXT": "yes", "SQLGATE_METRICS_PORT": "off",
         "SQLGATE_STARTUP_TIMEOUT": "2.5"},
        host="0.0.0.0",
    )  # fmt: skip
    assert (settings.port, settings.allow_cleartext, settings.metrics_port, settings.startup_timeout) == (
        6000, True, None, 2.5,
    )  # fmt: skip
    assert settings.host == "0.0.0.0"


@pytest.mark.parametrize(
    "environ",
    [{"SQLGATE_PORT": "abc"}, {"SQLGATE_TLS_CERT": "x.pem"}, {"SQLGATE_PASSWORD_METHOD": "md5"},
     {"SQLGATE_MAX_CONNECTIONS": "0"}],
)  # fmt: skip
def test_bad_values_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(environ)


def test_command_line_wins_over_environment() -> None:
    parser = argparse.ArgumentParser()
    Settings.add_arguments(parser)
    args = parser.parse_args(
        ["--port", "7000", "--no-log-queries", "--tls-cert", "c.pem", "--tls-key", "k.pem"]
    )
    settings = Settings.from_args(args, {"SQLGATE_PORT": "6000", "SQLGATE_LOG_QUERIES": "on"})
    assert settings.port == 7000 and settings.log_queries is False and settings.tls_key == "k.pem"


def test_every_setting_is_documented_in_docs_server_md() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "server.md").read_text()
    assert settings_reference() in docs


def test_limit_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="require-tls"):
        Settings.from_env({"SQLGATE_REQUIRE_TLS": "on"})
    with pytest.raises(SettingsError, match="must not be negative"):
        Settings.from_env({"SQLGATE_MAX_RESULT_ROWS": "-1"})
    settings = Settings.from_env({"SQLGATE_STATEMENT_TIMEOUT": "2.5", "SQLGATE_MAX_RESULT_ROWS": "0"})
    assert settings.statement_timeout == 2.5 and settings.max_result_rows == 0
