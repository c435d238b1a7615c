"""Open a datasource from Synmetrix ``db_type``/``db_params``, and keep one live source per datasource.

:func:`open_source` builds a driver (no connection is made until the first query).
:class:`SourceRegistry` is the gateway's :class:`~sqlgate.planner.api.SourceProvider`: one source
(one pool) per datasource id, replaced when the datasource's ``db_type``/``db_params`` change — the
old pool is then closed in the background once its running queries are done.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlgate.sources.options import SourceOptions
from sqlgate.sources.params import connection_settings, prepare_db_params

if TYPE_CHECKING:
    from sqlgate.auth.context import DatasourceInfo
    from sqlgate.sources.base import Source

log = logging.getLogger("sqlgate.sources")


# The sqlglot dialect SQL is generated in for each Synmetrix db_type (upper-case, as stored). Types
# without a driver here still map, so models for them can be validated and their SQL generated.
SQL_DIALECTS: dict[str, str] = {
    "POSTGRES": "postgres",
    "MYSQL": "mysql",
    "DUCKDB": "duckdb",
    "CLICKHOUSE": "clickhouse",
    "BIGQUERY": "bigquery",
    "SNOWFLAKE": "snowflake",
    "TRINO": "trino",
    "PRESTODB": "presto",
    "REDSHIFT": "redshift",
    "MSSQL": "tsql",
    "DATABRICKS-JDBC": "databricks",
    "ATHENA": "athena",
    "HIVE": "hive",
    "QUESTDB": "postgres",
    "MATERIALIZE": "postgres",
}


def sql_dialect(db_type: str) -> str | None:
    """The sqlglot dialect for a Synmetrix ``db_type`` (any case), or None when sqlgate knows none."""
    return SQL_DIALECTS.get(db_type.strip().upper())


def open_source(db_type: str, db_params: Mapping[str, Any] | str | None, **options: Any) -> Source:
    """A :class:`~sqlgate.sources.base.Source` for a Synmetrix datasource.

    ``options`` are :class:`~sqlgate.sources.options.SourceOptions` fields (``name``,
    ``pool_max_size``, ``queue_timeout`` …). Raises a PgError 0A000 naming ``db_type`` when there is
    no driver for it, 22023 when ``db_params`` is malformed. Connects lazily.
    """
    settings = connection_settings(db_type, db_params)
    opts = SourceOptions.from_kwargs(options)
    if settings.driver == "postgres":
        from sqlgate.sources.postgres import PostgresSource

        return PostgresSource(settings, opts)
    if settings.driver == "mysql":
        from sqlgate.sources.mysql import MySQLSource

        return MySQLSource(settings, opts)
    from sqlgate.sources.duckdb import DuckDBSource

    return DuckDBSource(settings, opts)


def params_digest(db_type: str, db_params: Mapping[str, Any] | str | None) -> str:
    """A digest of a datasource's connection settings: equal digests share a pool."""
    prepared = prepare_db_params(db_params, db_type)
    text = json.dumps([db_type.strip().upper(), prepared], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class SourceRegistry:
    """One live source per datasource id (implements ``planner.api.SourceProvider``).

    ``options`` apply to every source (see docs/sources.md); the datasource's name is added as the
    label used in error messages.
    """

    def __init__(self, **options: Any) -> None:
        SourceOptions.from_kwargs(options)  # fail early on a typo
        self._options = options
        self._sources: dict[str, tuple[str, Source]] = {}
        # (datasource info, digest) by id(info): the session's DatasourceInfo object is the same for
        # every statement, so its digest (JSON + SHA-256) is computed once, not per query.
        self._digests: dict[int, tuple[DatasourceInfo, str]] = {}
        # Given each source's query gate: observes how long queries waited for a slot (metrics).
        self.wait_observer: Callable[[float], None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._closed = False

    def get(self, datasource: DatasourceInfo) -> Source:
        """The shared source for ``datasource``; changed ``db_type``/``db_params`` give a new one."""
        if self._closed:
            raise RuntimeError("SourceRegistry is closed")
        known = self._digests.get(id(datasource))
        if known is not None and known[0] is datasource:
            digest = known[1]
        else:
            digest = params_digest(datasource.db_type, datasource.db_params)
            if len(self._digests) >= 4096:
                self._digests.clear()
            self._digests[id(datasource)] = (datasource, digest)
        current = self._sources.get(datasource.id)
        if current is not None and current[0] == digest:
            return current[1]
        options = {"name": datasource.name, **self._options}
        source = open_source(datasource.db_type, datasource.db_params, **options)
        gate = getattr(source, "gate", None)
        if gate is not None:
            gate.wait_observer = self.wait_observer
        self._sources[datasource.id] = (digest, source)
        if current is not None:
            log.info(
                "datasource %s (%s): connection settings changed, new pool", datasource.name, datasource.id
            )
            self._retire(current[1])
        return source

    def sources(self) -> dict[str, Source]:
        """The live sources by datasource id (for metrics)."""
        return {ds_id: source for ds_id, (_, source) in self._sources.items()}

    def _retire(self, source: Source) -> None:
        """Close a replaced source in the background (its running queries may finish first)."""
        task = asyncio.ensure_future(self._close_quietly(source))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    @staticmethod
    async def _close_quietly(source: Source) -> None:
        try:
            await source.close()
        except Exception:  # closing a broken pool must not take the gateway down
            log.exception("closing a replaced datasource source failed")

    async def aclose(self) -> None:
        """Close every source (gateway shutdown); waits for replaced ones still closing."""
        self._closed = True
        sources = [source for _, source in self._sources.values()]
        self._sources.clear()
        await asyncio.gather(*(self._close_quietly(s) for s in sources), *self._retiring)
