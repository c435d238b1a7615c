"""A gateway over a real metadata database with restricted users, and real PostgreSQL and MariaDB
datasources holding the e-commerce dataset, each reached through its own least-privileged login
whose statements the datasource logs (see :mod:`tests.support.statement_logs`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from sqlgate.gateway import Gateway
from sqlgate.metastore import admin
from sqlgate.metastore.engine import create_metadata_engine
from tests.support.databases import PgServer, drop_pg_database, find_mysql_url
from tests.support.gateways import make_settings
from tests.support.metadata import copy_database
from tests.support.security import (
    ACCESS_LISTS,
    EXTRA_MODEL,
    USERS,
    SecureSetup,
    mysql_datasource,
    postgres_datasource,
)
from tests.support.semantic_harness import model_files


@pytest.fixture(scope="module")
async def secure(pg_server: PgServer, metadata_template: str, dataset: Any) -> AsyncIterator[SecureSetup]:
    """The gateway, its metadata database and datasources, and a credential per (user, datasource)."""
    mysql_url = find_mysql_url()
    assert mysql_url is not None, "these tests need MariaDB on 127.0.0.1:3306 (SQLGATE_TEST_MYSQL_URL)"
    meta_name = await copy_database(pg_server, metadata_template)
    metadata_url = pg_server.url_for(meta_name)
    engine = create_metadata_engine(metadata_url)
    gateway: Gateway | None = None
    bcrypt = pytest.MonkeyPatch()
    bcrypt.setenv("SQLGATE_BCRYPT_COST", "4")  # fast hashes for the credentials issued here
    async with postgres_datasource(pg_server, dataset) as pg, mysql_datasource(mysql_url, dataset) as my:
        try:
            setup = SecureSetup(engine=engine, metadata_url=metadata_url, pg=pg, mysql=my)
            owner = USERS["owner"]
            await admin.create_user(engine, email=owner)
            team = await admin.create_team(engine, name="Security", owner=owner)
            setup.team_id = team["id"]
            sources = [admin.ModelSource(name=n, path=n, code=c) for n, c in [*model_files(), EXTRA_MODEL]]
            for db_type, source in (("POSTGRES", pg), ("MYSQL", my)):
                ds = await admin.create_datasource(
                    engine, team=team["id"], name=db_type.lower(), db_type=db_type, params=source.params
                )
                await admin.push_model_sources(engine, team=team["id"], datasource=ds["id"], sources=sources)
                setup.datasources[db_type] = ds["id"]
            for name, cubes in ACCESS_LISTS.items():
                config = {"datasources": {ds_id: {"cubes": cubes} for ds_id in setup.datasources.values()}}
                await admin.create_access_list(engine, team=team["id"], name=name, config=config)
            for user, email in USERS.items():
                if user != "owner":
                    await admin.create_user(engine, email=email)
                    role, access_list = _role_of(user)
                    await admin.add_member(
                        engine, team=team["id"], user=email, role=role, access_list=access_list
                    )
                for db_type, ds_id in setup.datasources.items():
                    issued = await admin.create_credential(
                        engine, team=team["id"], datasource=ds_id, user=email
                    )
                    setup.credentials[(user, db_type)] = (issued["username"], issued["password"])
            gateway = Gateway(
                make_settings(
                    metadata_url=metadata_url,
                    log_queries=False,
                    access_refresh_seconds=0.5,
                    catalog_statement_timeout=2.0,
                )
            )
            await gateway.start()
            setup.gateway = gateway
            yield setup
        finally:
            if gateway is not None:
                await gateway.stop(timeout=5)
            await engine.dispose()
            await drop_pg_database(pg_server, meta_name)
            bcrypt.undo()


def _role_of(user: str) -> tuple[str, str | None]:
    return {
        "admin": ("admin", None),
        "analyst": ("member", "limited"),
        "viewer": ("member", "views"),
        "stranger": ("member", None),
        "changer": ("member", "limited"),
    }[user]
