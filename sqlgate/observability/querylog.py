"""The query log: ``public.request_logs`` and ``public.request_event_logs`` rows, Synmetrix-style.

Every SQL query becomes one ``request_logs`` row (request_id, user_id, datasource_id, start_time,
end_time, path ``sql``) and a few ``request_event_logs`` rows named like Cube's logger events
(``Load Request``, ``Load Request SQL``, ``Load Request Success``, ``Cube SQL Error``), so the
Synmetrix UI shows SQL API queries next to its REST ones.

Writing must never slow a query down. :meth:`QueryLog.submit` only puts the record on a bounded
queue (never awaits); a background task writes batches in one round trip each (``unnest`` arrays).
When the queue is full, or a batch cannot be written (metadata database down), records are dropped
and counted — the query path is never blocked. :meth:`QueryLog.aclose` flushes what is queued.

This module talks plain SQL over asyncpg (no metastore import). It never logs record contents:
those can hold generated SQL with client values; secrets (passwords, db_params) never enter a record.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import decimal
import functools
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

log = logging.getLogger("sqlgate.querylog")

# Cube logger event names (Synmetrix stores them as they are).
EVENT_REQUEST = "Load Request"
EVENT_SQL = "Load Request SQL"
EVENT_SUCCESS = "Load Request Success"
EVENT_ERROR = "Cube SQL Error"

PATH_SQL = "sql"


def new_request_id() -> str:
    """A fresh request id (request_logs.request_id is unique)."""
    return str(uuid.uuid4())


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """One ``request_event_logs`` row."""

    event: str
    timestamp: datetime.datetime
    duration_ms: float | None = None
    query: Mapping[str, Any] | None = None  # the semantic query (Cube REST query JSON)
    query_sql: str | None = None  # the SQL generated for the datasource
    error: str | None = None
    path: str | None = PATH_SQL


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One ``request_logs`` row with its events."""

    request_id: str
    user_id: str
    datasource_id: str
    start_time: datetime.datetime
    end_time: datetime.datetime
    path: str = PATH_SQL
    events: tuple[RequestEvent, ...] = field(default=())


def sql_request(
    *,
    user_id: str,
    datasource_id: str,
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    query: Mapping[str, Any] | None = None,
    query_sql: str | None = None,
    planning_ms: float | None = None,
    error: str | None = None,
    request_id: str | None = None,
) -> RequestRecord:
    """The record of one SQL API query, with the events Synmetrix shows for it.

    ``Load Request`` at the start (with the semantic query); ``Load Request SQL`` once planned (the
    generated SQL, duration = planning time); then ``Load Request Success`` (duration = whole query)
    or ``Cube SQL Error`` (the error text, e.g. ``42501: no access to …``) for failed and refused
    queries.
    """
    total_ms = (end_time - start_time).total_seconds() * 1000.0
    events = [RequestEvent(EVENT_REQUEST, start_time, query=query)]
    if query_sql is not None:
        planned_at = start_time + datetime.timedelta(milliseconds=planning_ms or 0.0)
        events.append(RequestEvent(EVENT_SQL, planned_at, planning_ms, query=query, query_sql=query_sql))
    if error is None:
        events.append(RequestEvent(EVENT_SUCCESS, end_time, total_ms, query=query, query_sql=query_sql))
    else:
        events.append(
            RequestEvent(EVENT_ERROR, end_time, total_ms, query=query, query_sql=query_sql, error=error)
        )
    return RequestRecord(
        request_id=request_id or new_request_id(),
        user_id=user_id,
        datasource_id=datasource_id,
        start_time=start_time,
        end_time=end_time,
        events=tuple(events),
    )


@dataclass(slots=True)
class QueryLogStats:
    """Counters for metrics and tests."""

    submitted: int = 0
    written: int = 0  # request_logs rows written
    dropped_full: int = 0  # queue full at submit
    dropped_failed: int = 0  # in a batch the database refused or could not take
    skipped: int = 0  # user or datasource no longer exists (foreign keys)
    invalid: int = 0  # user_id/datasource_id not a UUID
    failed_batches: int = 0

    @property
    def dropped(self) -> int:
        return self.dropped_full + self.dropped_failed + self.invalid


_INSERT_REQUESTS = """
INSERT INTO public.request_logs (request_id, user_id, datasource_id, start_time, end_time, path)
SELECT r.request_id, r.user_id, r.datasource_id, r.start_time, r.end_time, r.path
FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::timestamptz[], $6::text[])
     AS r(request_id, user_id, datasource_id, start_time, end_time, path)
WHERE EXISTS (SELECT 1 FROM public.users u WHERE u.id = r.user_id)
  AND EXISTS (SELECT 1 FROM public.datasources d WHERE d.id = r.datasource_id)
ON CONFLICT (request_id) DO UPDATE SET end_time = EXCLUDED.end_time
RETURNING request_id
"""

_INSERT_EVENTS = """
INSERT INTO public.request_event_logs
    (request_id, event, duration, query, query_sql, error, "timestamp", path)
SELECT e.request_id, e.event, e.duration, e.query, e.query_sql, e.error, e.ts, e.path
FROM unnest($1::text[], $2::text[], $3::numeric[], $4::jsonb[], $5::text[], $6::text[],
            $7::timestamptz[], $8::text[])
     AS e(request_id, event, duration, query, query_sql, error, ts, path)
WHERE e.request_id = ANY($9::text[])
"""


class QueryLog:
    """Background writer of request logs into the metadata database.

    Give it a DSN (it opens a small pool of its own) or an existing asyncpg pool (not closed here).
    ``max_queue`` records wait at most; ``batch_size`` go in one round trip; a batch is written when
    it is full or ``flush_interval`` seconds after its first record. After a failed write the writer
    pauses ``retry_interval`` seconds (records arriving meanwhile queue up, then drop when full).
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        pool: asyncpg.Pool | None = None,
        max_queue: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 0.5,
        retry_interval: float = 5.0,
        connect_timeout: float = 5.0,
        write_timeout: float = 10.0,
    ) -> None:
        if (dsn is None) == (pool is None):
            raise ValueError("give exactly one of dsn or pool")
        self._dsn = dsn
        self._pool = pool
        self._owns_pool = pool is None
        self._queue: asyncio.Queue[RequestRecord] = asyncio.Queue(maxsize=max_queue)
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._retry_interval = retry_interval
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._closing_event = asyncio.Event()
        self.stats = QueryLogStats()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        """Start the background writer (idempotent; needs a running event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sqlgate-querylog")

    def submit(self, record: RequestRecord) -> bool:
        """Queue a record; never blocks. False when it was dropped (queue full, closing, bad ids)."""
        self.stats.submitted += 1
        if self._closing:
            self.stats.dropped_full += 1
            return False
        if not (_is_uuid(record.user_id) and _is_uuid(record.datasource_id)):
            self.stats.invalid += 1
            return False
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            self.stats.dropped_full += 1
            return False
        return True

    async def flush(self) -> None:
        """Wait until every record queued so far has been written (or dropped)."""
        self.start()
        await self._queue.join()

    async def aclose(self, timeout: float = 5.0) -> None:
        """Stop accepting records, write what is queued (for up to ``timeout`` s), close the pool."""
        self._closing = True
        self._closing_event.set()  # cut a retry pause short
        if self._task is not None:
            try:
                async with asyncio.timeout(timeout):
                    await self.flush()
            except TimeoutError:
                log.warning("query log: %d records not written at shutdown", self._queue.qsize())
                self.stats.dropped_failed += self._queue.qsize()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._owns_pool and self._pool is not None:
            pool, self._pool = self._pool, None
            with contextlib.suppress(Exception):
                async with asyncio.timeout(timeout):
                    await pool.close()
            pool.terminate()

    # --- the writer task ---

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            deadline = time.monotonic() + self._flush_interval
            while len(batch) < self._batch_size:
                try:
                    if self._queue.empty() and not self._closing:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                    else:
                        batch.append(self._queue.get_nowait())
                except (TimeoutError, asyncio.QueueEmpty):
                    break
            try:
                await self._write(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database down or refusing: drop the batch, never block queries
                self.stats.failed_batches += 1
                self.stats.dropped_failed += len(batch)
                log.warning(
                    "query log: could not write %d records (%s); dropping them",
                    len(batch),
                    type(exc).__name__,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing_event.wait(), self._retry_interval)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=0,
                max_size=1,
                timeout=self._connect_timeout,
                command_timeout=self._write_timeout,
                server_settings={"application_name": "sqlgate-querylog"},
            )
        return self._pool

    async def _write(self, batch: Sequence[RequestRecord]) -> None:
        pool = await self._get_pool()
        requests = _request_columns(batch)
        events = _event_columns(batch)
        async with pool.acquire() as conn, conn.transaction():
            written = await conn.fetch(_INSERT_REQUESTS, *requests, timeout=self._write_timeout)
            ids = [row[0] for row in written]
            if ids and events[0]:
                await conn.execute(_INSERT_EVENTS, *events, ids, timeout=self._write_timeout)
        self.stats.written += len(ids)
        self.stats.skipped += len(batch) - len(ids)


@functools.lru_cache(maxsize=1024)
def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _request_columns(batch: Sequence[RequestRecord]) -> list[list[Any]]:
    columns: list[list[Any]] = [[], [], [], [], [], []]
    for r in batch:
        for column, value in zip(
            columns,
            (
                r.request_id,
                uuid.UUID(r.user_id),
                uuid.UUID(r.datasource_id),
                r.start_time,
                r.end_time,
                r.path,
            ),
            strict=True,
        ):
            column.append(value)
    return columns


def _event_columns(batch: Sequence[RequestRecord]) -> list[list[Any]]:
    columns: list[list[Any]] = [[], [], [], [], [], [], [], []]
    for r in batch:
        # The events of a request share one query dict: encode it once, not once per event.
        encoded: dict[int, str] = {}
        for e in r.events:
            query_json = None
            if e.query is not None:
                query_json = encoded.get(id(e.query))
                if query_json is None:
                    query_json = encoded[id(e.query)] = json.dumps(e.query, default=str)
            values = (
                r.request_id,
                e.event,
                None if e.duration_ms is None else decimal.Decimal(f"{e.duration_ms:.3f}"),
                query_json,
                e.query_sql,
                e.error,
                e.timestamp,
                e.path,
            )
            for column, value in zip(columns, values, strict=True):
                column.append(value)
    return columns
