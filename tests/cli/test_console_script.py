"""The installed ``sqlgate`` console script, and --help of every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import run_cli

COMMANDS = [
    ["migrate"],
    ["users", "create"],
    ["users", "list"],
    ["teams", "create"],
    ["teams", "list"],
    ["members", "add"],
    ["members", "update"],
    ["members", "remove"],
    ["members", "list"],
    ["access-lists", "create"],
    ["access-lists", "list"],
    ["datasources", "create"],
    ["datasources", "list"],
    ["datasources", "test"],
    ["models", "push"],
    ["credentials", "create"],
    ["credentials", "list"],
    ["credentials", "revoke"],
    ["credentials", "rotate"],
]


def sqlgate_script() -> str:
    script = Path(sys.executable).with_name("sqlgate")
    assert script.exists(), f"the sqlgate console script is not installed next to {sys.executable}"
    return str(script)


def run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SQLGATE_")}
    environment["SQLGATE_BCRYPT_COST"] = "4"
    environment.update(env or {})
    return subprocess.run(
        [sqlgate_script(), *args], capture_output=True, text=True, env=environment, timeout=120, check=False
    )


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_listing_the_common_options(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, [*command, "--help"])
    assert result.code == 0
    assert result.out.startswith(f"usage: sqlgate {' '.join(command)}")
    assert "--metadata-url URL" in result.out and "--json" in result.out
    # the common options come after the command's own arguments
    usage = result.out.split("\n\n")[0]
    flat = " ".join(usage.split()).replace(" PATH [PATH ...]", "")  # argparse lists positionals last
    assert flat.endswith("[--metadata-url URL] [--json]")


@pytest.mark.parametrize(
    "group", ["users", "teams", "members", "access-lists", "datasources", "models", "credentials"]
)
def test_a_group_without_action_says_what_is_missing(group: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, [group])
    assert result.code == 2
    assert "the following arguments are required: ACTION" in result.err


def test_top_level_help_and_version() -> None:
    help_text = run_script("--help")
    assert help_text.returncode == 0
    for command in (
        "migrate",
        "users",
        "teams",
        "members",
        "access-lists",
        "datasources",
        "models",
        "credentials",
    ):
        assert command in help_text.stdout
    assert "getting started" in help_text.stdout
    version = run_script("--version")
    assert version.returncode == 0 and version.stdout.startswith("sqlgate ")
    as_module = subprocess.run(
        [sys.executable, "-m", "sqlgate", "--version"], capture_output=True, text=True, check=False
    )
    assert as_module.stdout == version.stdout


def test_a_session_through_the_console_script(pg_database: str) -> None:
    env = {"SQLGATE_METADATA_URL": pg_database}
    migrated = run_script("migrate", "--json", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert json.loads(migrated.stdout)["to"] == "0002"

    user = run_script("users", "create", "--email", "ann@example.com", "--json", env=env)
    assert user.returncode == 0, user.stderr
    assert set(json.loads(user.stdout)) == {"id", "email", "display_name"}

    duplicate = run_script("users", "create", "--email", "ann@example.com", "--metadata-url", pg_database)
    assert duplicate.returncode == 1
    assert duplicate.stdout == ""
    assert duplicate.stderr.count("\n") == 1 and duplicate.stderr.startswith("error: a user with e-mail")


def test_unreachable_database_through_the_console_script() -> None:
    result = run_script("teams", "list", "--metadata-url", "postgresql://admin:p4ss-w0rd@127.0.0.1:1/meta")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: cannot connect to the metadata database at postgresql://admin:***@127.0.0.1:1/meta: "
        "connection refused (is PostgreSQL running there?)\n"
    )
