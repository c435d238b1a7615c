"""A real Synmetrix metadata database for the benchmark's gateway.

Created fresh for each run and dropped afterwards: migrated to head, then (through the same admin
operations the ``sqlgate`` CLI uses) one user, a team they own, a PostgreSQL datasource pointing at the
benchmark database, the model pushed as its active version, and a SQL credential with a SCRAM
verifier for the owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.dataset import model_yaml
from bench.servers import Postgres
from sqlgate.metastore import admin
from sqlgate.metastore.admin.datasources import db_params_from_url
from sqlgate.metastore.engine import create_metadata_engine
from sqlgate.metastore.migrate import upgrade


@dataclass(frozen=True)
class Login:
    """The metadata database and the credential clients of the gateway log in with."""

    metadata_db: str
    metadata_url: str = field(repr=False)
    username: str
    password: str = field(repr=False)


async def create_metadata(pg: Postgres, data_db: str, cleanups: list[Callable[[], Any]]) -> Login:
    """A new migrated metadata database with a datasource on ``data_db`` and one credential; its
    drop is appended to ``cleanups`` as soon as it exists."""
    from bench.dataset import create_database, drop_database

    name = f"sqlgate_bench_meta_{uuid.uuid4().hex[:10]}"
    await create_database(pg, name)
    cleanups.append(lambda: drop_database(pg, name))
    url = pg.url_for(name)
    await upgrade(url)
    engine = create_metadata_engine(url)
    try:
        email = "bench@example.com"
        await admin.create_user(engine, email=email)
        team = await admin.create_team(engine, name="Bench", owner=email)
        db_type, params = db_params_from_url(pg.url_for(data_db))
        ds = await admin.create_datasource(
            engine, team=team["id"], name="bench", db_type=db_type, params=params
        )
        await admin.push_model_sources(
            engine,
            team=team["id"],
            datasource=ds["id"],
            sources=[admin.ModelSource(name="facts.yml", path="facts.yml", code=model_yaml())],
        )
        issued = await admin.create_credential(engine, team=team["id"], datasource=ds["id"], user=email)
    finally:
        await engine.dispose()
    return Login(name, url, issued["username"], issued["password"])


async def generated_sql_log(metadata_url: str) -> list[str]:
    """The datasource SQL the gateway logged (``request_event_logs.query_sql``), newest first."""
    import asyncpg

    conn = await asyncpg.connect(metadata_url)
    try:
        rows = await conn.fetch(
            "SELECT query_sql FROM request_event_logs WHERE query_sql IS NOT NULL ORDER BY timestamp DESC"
        )
    finally:
        await conn.close()
    return [r["query_sql"] for r in rows]
