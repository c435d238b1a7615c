"""Run the ``sqlgate`` command in-process against a fresh metadata database."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from sqlgate.cli.main import main


@dataclass
class CliResult:
    """Exit status and output of one ``sqlgate`` run."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout as the one JSON object it must be."""
        return json.loads(self.out)

    def error(self) -> str:
        """The one error line on stderr."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        assert "Traceback" not in self.err
        return lines[0]


Sqlgate = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def cli_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast bcrypt; no metadata URL or public address leaking in from the environment."""
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
    for name in ("SQLGATE_METADATA_URL", "SQLGATE_PUBLIC_HOST", "SQLGATE_PUBLIC_PORT"):
        monkeypatch.delenv(name, raising=False)


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> CliResult:
    """``sqlgate argv…`` in this process; argparse exits become exit codes."""
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors and --help
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


@pytest.fixture
def sqlgate(metadata_url: str, capsys: pytest.CaptureFixture[str]) -> Sqlgate:
    """``sqlgate(*args, json=True)`` runs a command on this test's metadata database.

    ``--metadata-url`` and ``--json`` are appended after the command's own arguments, as users write
    them; ``url=None`` leaves the URL out, ``json=False`` asks for text.
    """

    def run(*args: str, json: bool = True, url: str | None = metadata_url) -> CliResult:
        argv = list(args)
        if url is not None:
            argv += ["--metadata-url", url]
        if json:
            argv.append("--json")
        return run_cli(capsys, argv)

    return run


@pytest.fixture
def team(sqlgate: Sqlgate) -> dict[str, Any]:
    """A user ann@example.com owning team Analytics; returns the team as ``teams create`` printed it."""
    assert sqlgate("users", "create", "--email", "ann@example.com").code == 0
    result = sqlgate("teams", "create", "--name", "Analytics", "--owner", "ann@example.com")
    assert result.code == 0, result.err
    return result.json()


@pytest.fixture
def datasource(sqlgate: Sqlgate, team: dict[str, Any]) -> dict[str, Any]:
    """A POSTGRES datasource "shop" in team Analytics."""
    result = sqlgate(
        "datasources", "create", "--team", "Analytics", "--name", "shop",
        "--url", "postgresql://reader:s3cr%40t@db.internal:5433/shop?sslmode=require",
    )  # fmt: skip
    assert result.code == 0, result.err
    return result.json()
