"""The correctness corpus through the whole gateway (issue 4 item 4).

The e-commerce dataset is loaded into PostgreSQL, MariaDB and DuckDB; one metadata database holds a
datasource for each with the same models, and a credential per datasource. Every corpus query is
sent with psycopg — once over the simple protocol (text results) and once over the extended
protocol with binary results — and compared with the hand-written oracle run directly on the raw
tables of the same database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sqlgate.gateway import Gateway
from sqlgate.metastore import admin
from sqlgate.metastore.engine import create_metadata_engine
from tests.support.corpus import CORPUS, CorpusQuery
from tests.support.databases import PgServer, drop_pg_database, find_mysql_url, unique_name
from tests.support.dataset import drop_mysql, load_duckdb, load_mysql
from tests.support.gateways import make_settings
from tests.support.metadata import copy_database
from tests.support.semantic_harness import assert_same_rows, model_files

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

DIALECT_OF = {"POSTGRES": "postgres", "MYSQL": "mysql", "DUCKDB": "duckdb"}


@pytest.fixture(scope="module")
def duckdb_file(tmp_path_factory: pytest.TempPathFactory, dataset: Any) -> Iterator[Path]:
    import duckdb

    path = tmp_path_factory.mktemp("corpus") / "shop.duckdb"
    connection = duckdb.connect(str(path))
    load_duckdb(connection, dataset)
    connection.close()
    yield path


@pytest.fixture(scope="module")
async def mysql_database(dataset: Any) -> AsyncIterator[tuple[str, str] | None]:
    """(admin URL, database) of the dataset in MariaDB, or None when no server answers."""
    url = find_mysql_url()
    if url is None:
        yield None
        return
    name = unique_name("sqlgate_corpus")
    await load_mysql(url, name, dataset)
    try:
        yield url, name
    finally:
        await drop_mysql(url, name)


@pytest.fixture(scope="module")
async def corpus_gateway(
    pg_server: PgServer,
    metadata_template: str,
    postgres_source: Any,
    mysql_database: tuple[str, str] | None,
    duckdb_file: Path,
) -> AsyncIterator[dict[str, str]]:
    """A gateway over a metadata database with one datasource per type; yields db_type -> DSN."""
    name = await copy_database(pg_server, metadata_template)
    metadata_url = pg_server.url_for(name)
    engine = create_metadata_engine(metadata_url)
    targets: dict[str, str] = {}
    gateway: Gateway | None = None
    try:
        await admin.create_user(engine, email="analyst@example.com")
        team = await admin.create_team(engine, name="Corpus", owner="analyst@example.com")
        urls = {"POSTGRES": postgres_source.url, "DUCKDB": f"duckdb:///{duckdb_file}"}
        if mysql_database is not None:
            urls["MYSQL"] = mysql_database[0].rstrip("/") + "/" + mysql_database[1]
        sources = [admin.ModelSource(name=n, path=n, code=c) for n, c in model_files()]
        credentials = {}
        for db_type, url in urls.items():
            kind, params = admin.db_params_from_url(url)
            assert kind == db_type
            ds = await admin.create_datasource(
                engine, team=team["id"], name=db_type.lower(), db_type=db_type, params=params
            )
            await admin.push_model_sources(engine, team=team["id"], datasource=ds["id"], sources=sources)
            credentials[db_type] = await admin.create_credential(
                engine, team=team["id"], datasource=ds["id"], user="analyst@example.com"
            )
        gateway = Gateway(make_settings(metadata_url=metadata_url, log_queries=False))
        await gateway.start()
        for db_type, issued in credentials.items():
            targets[db_type] = (
                f"host=127.0.0.1 port={gateway.port} dbname=db user={issued['username']} "
                f"password={issued['password']} sslmode=disable"
            )
        yield targets
    finally:
        if gateway is not None:
            await gateway.stop(timeout=5)
        await engine.dispose()
        await drop_pg_database(pg_server, name)


@pytest.fixture(scope="module")
async def connections(corpus_gateway: dict[str, str]) -> AsyncIterator[dict[str, psycopg.AsyncConnection]]:
    conns = {
        db_type: await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        for db_type, dsn in corpus_gateway.items()
    }
    try:
        yield conns
    finally:
        for conn in conns.values():
            await conn.close()


@pytest.fixture(scope="module")
def oracles(
    postgres_source: Any, duckdb_source: Any, mysql_database: tuple[str, str] | None
) -> dict[str, Any]:
    found: dict[str, Any] = {"POSTGRES": postgres_source, "DUCKDB": duckdb_source}
    if mysql_database is not None:
        from tests.support.dataset import mysql_connect_args
        from tests.support.direct_sources import MySQLDirect

        found["MYSQL"] = MySQLDirect(mysql_connect_args(mysql_database[0]), mysql_database[1])
    return found


async def _through_gateway(conn: psycopg.AsyncConnection, query: CorpusQuery, binary: bool) -> list[tuple]:
    text, params = query.psycopg()
    if binary:
        # psycopg's binary cursors use the extended protocol with binary results for every column.
        async with conn.cursor(binary=True) as cur:
            await cur.execute(text, params or None)
            return list(await cur.fetchall())
    if params:
        cur = await conn.execute(text, params)
    else:
        cur = await conn.execute(text)
    return list(await cur.fetchall())


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
@pytest.mark.parametrize("db_type", ["POSTGRES", "MYSQL", "DUCKDB"])
@pytest.mark.parametrize("query", CORPUS, ids=lambda q: q.name)
async def test_corpus_through_gateway(
    query: CorpusQuery,
    db_type: str,
    binary: bool,
    connections: dict[str, psycopg.AsyncConnection],
    oracles: dict[str, Any],
) -> None:
    if db_type not in connections:
        pytest.skip("no MariaDB/MySQL server answers on 127.0.0.1:3306 (CI always has one)")
    rows = await _through_gateway(connections[db_type], query, binary)
    oracle = oracles[db_type]
    expected = await oracle.fetch(query.oracle_for(DIALECT_OF[db_type]))
    assert_same_rows(
        rows,
        expected,
        ordered=query.ordered,
        tolerance=query.tolerance,
        label=f"{query.name} on {db_type} ({'binary' if binary else 'text'})",
    )
