"""Turn finished statements into query-log records (``request_logs`` + ``request_event_logs``).

The wire layer reports every statement it ran or refused; :class:`QueryAudit` decides what is a
query worth logging (anything planned against the model or the catalog, and every failure except
those of session commands) and hands a record to the background :class:`QueryLog` writer.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from sqlgate.observability.querylog import QueryLog, sql_request

if TYPE_CHECKING:
    from sqlgate.auth.context import SecurityContext
    from sqlgate.errors import PgError

# Kinds of statements logged when they succeed; failures are logged for every kind but these.
LOGGED_KINDS = frozenset({"semantic", "catalog"})
UNLOGGED_FAILURE_KINDS = frozenset({"session", "empty"})
MAX_CLIENT_SQL = 10_000  # characters of client SQL kept in the record


class QueryAudit:
    """Builds and submits a query-log record for each finished statement (never blocks)."""

    def __init__(self, log: QueryLog) -> None:
        self.log = log

    def statement_done(
        self,
        ctx: SecurityContext,
        *,
        sql: str,
        kind: str,
        audit: Any,
        started: datetime.datetime,
        seconds: float,
        planning_seconds: float | None,
        error: PgError | None,
    ) -> None:
        """Record one statement. ``audit`` is the statement's :class:`~sqlgate.planner.api.AuditInfo`
        (None when it was refused before planning finished)."""
        if error is None and kind not in LOGGED_KINDS:
            return
        if error is not None and kind in UNLOGGED_FAILURE_KINDS:
            return
        query: dict[str, Any] = {"sql": sql[:MAX_CLIENT_SQL], "kind": kind}
        generated = None
        if audit is not None:
            query.update(audit.query)
            generated = audit.generated_sql
        record = sql_request(
            user_id=ctx.user_id,
            datasource_id=ctx.datasource.id,
            start_time=started,
            end_time=started + datetime.timedelta(seconds=seconds),
            query=query,
            query_sql=generated,
            planning_ms=None if planning_seconds is None else planning_seconds * 1000.0,
            error=None if error is None else f"{error.sqlstate}: {error.message}",
        )
        self.log.submit(record)
