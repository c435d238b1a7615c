"""Freshly migrated Synmetrix metadata databases for tests.

The migrations run once per test session into a template database; each test then gets its own copy
(``CREATE DATABASE … TEMPLATE``, a file copy that takes milliseconds) and drops it afterwards.

Fixtures (registered in tests/conftest.py):
- ``metadata_url``: URL of a new metadata database at head, empty apart from the enum rows.
- ``metadata_engine``: an async engine (asyncpg) on ``metadata_url``, disposed after the test.
- ``metadata_login``: ``metadata_url`` seeded with one user/team/datasource/model/credential
  (a :class:`SeededLogin`; build others with :func:`seed_login`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.databases import PgServer, create_pg_database, drop_pg_database, unique_name


async def create_metadata_template(server: PgServer) -> str:
    """A new database migrated to head, to be used as a template; returns its name."""
    from sqlgate.metastore.migrate import upgrade

    name = await create_pg_database(server, prefix="sqlgate_meta_tpl")
    await upgrade(server.url_for(name))
    return name


async def copy_database(server: PgServer, template: str, prefix: str = "sqlgate_meta") -> str:
    """A new database copied from ``template``; returns its name."""
    import asyncpg

    name = unique_name(prefix)
    conn = await asyncpg.connect(server.url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return name


@pytest.fixture(scope="session")
async def metadata_template(pg_server: PgServer) -> AsyncIterator[str]:
    """Name of this session's migrated template database (never connect to it: copies would fail)."""
    name = await create_metadata_template(pg_server)
    try:
        yield name
    finally:
        await drop_pg_database(pg_server, name)


@pytest.fixture
async def metadata_url(pg_server: PgServer, metadata_template: str) -> AsyncIterator[str]:
    """URL of a new metadata database migrated to head (dropped after the test)."""
    name = await copy_database(pg_server, metadata_template)
    try:
        yield pg_server.url_for(name)
    finally:
        await drop_pg_database(pg_server, name)


@pytest.fixture
async def metadata_engine(metadata_url: str) -> AsyncIterator[object]:
    """An async SQLAlchemy engine on ``metadata_url``."""
    from sqlgate.metastore.engine import create_metadata_engine

    engine = create_metadata_engine(metadata_url)
    try:
        yield engine
    finally:
        await engine.dispose()


ORDERS_MODEL = """\
cubes:
  - name: Orders
    sql_table: public.orders
    measures:
      - name: count
        type: count
      - name: amount
        sql: amount
        type: sum
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: status
        sql: status
        type: string
      - name: created_at
        sql: created_at
        type: time
"""


@dataclass(frozen=True)
class SeededLogin:
    """What :func:`seed_login` created: a team, its owner, a datasource with a model, a credential."""

    team: str
    team_id: str
    owner_email: str
    owner_id: str
    datasource: str
    datasource_id: str
    version_id: str
    username: str
    password: str = field(repr=False)
    url: str = field(repr=False)  # postgresql://U:P@SQLGATE_PUBLIC_HOST:PORT/db


async def seed_login(
    engine: Any,
    *,
    team: str = "Analytics",
    owner_email: str = "owner@example.com",
    datasource: str = "warehouse",
    db_type: str = "POSTGRES",
    db_params: dict[str, Any] | None = None,
    models: dict[str, str] | None = None,
    username: str | None = None,
    password: str | None = None,
) -> SeededLogin:
    """Create (through the admin operations) a user, a team they own, a datasource with one model
    version (``models``: file name -> code; default an ``Orders`` cube) and a credential for the
    owner. Works on any migrated metadata database."""
    from sqlgate.metastore import admin

    owner = await admin.create_user(engine, email=owner_email)
    team_row = await admin.create_team(engine, name=team, owner=owner_email)
    ds = await admin.create_datasource(
        engine,
        team=team_row["id"],
        name=datasource,
        db_type=db_type,
        params=db_params if db_params is not None else {"host": "127.0.0.1", "port": "5432", "database": "x"},
    )
    files = models if models is not None else {"Orders.yml": ORDERS_MODEL}
    pushed = await admin.push_model_sources(
        engine,
        team=team_row["id"],
        datasource=ds["id"],
        sources=[admin.ModelSource(name=n, path=n, code=c) for n, c in files.items()],
    )
    issued = await admin.create_credential(
        engine,
        team=team_row["id"],
        datasource=ds["id"],
        user=owner["id"],
        username=username,
        password=password,
    )
    return SeededLogin(
        team=team,
        team_id=team_row["id"],
        owner_email=owner_email,
        owner_id=owner["id"],
        datasource=datasource,
        datasource_id=ds["id"],
        version_id=pushed["version_id"],
        username=issued["username"],
        password=issued["password"],
        url=issued["url"],
    )


@pytest.fixture
async def metadata_login(metadata_engine: Any, monkeypatch: pytest.MonkeyPatch) -> SeededLogin:
    """A migrated metadata database (``metadata_url``) holding one ready login: see :func:`seed_login`."""
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")  # fast hashes in tests
    return await seed_login(metadata_engine)
