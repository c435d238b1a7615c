"""PostgreSQL connections for the pass-through path, on :mod:`sqlgate.upstream`.

asyncpg decodes every value into a Python object; when the client wants the same types in the same
formats, the gateway can instead forward PostgreSQL's DataRow messages unchanged. The connection
itself (start-up with TLS, trust/cleartext/MD5/SCRAM authentication, framed reads, cancel) is
:class:`sqlgate.upstream.UpstreamConnection`; this module adds what the datasource path needs on top:
connection settings from ``db_params``, the pass-through session settings, the extended-query
messages it sends, errors phrased for a datasource, and a pool that never makes anyone wait.
Connections start with ``default_transaction_read_only=on`` and fixed output settings (UTC, ISO
dates, postgres intervals, hex bytea, UTF8), so every query is read-only without a BEGIN round trip
and the text the client receives does not depend on the server's configuration.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from sqlgate.errors import SYSTEM_ERROR, PgError
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from sqlgate.sources.failures import cannot_connect, connection_lost, connection_reason
from sqlgate.sources.params import ConnectionSettings
from sqlgate.upstream import (
    ConnectFailed,
    ConnectionBroken,
    Endpoint,
    PoolClosed,
    UpstreamConnection,
    UpstreamPool,
)
from sqlgate.upstream.connection import is_connection_state

I16 = struct.Struct("!h")
U32_FROM = struct.Struct("!I").unpack_from

# Session settings every pass-through connection starts with (the text the client receives).
SESSION_SETTINGS = {
    "application_name": "sqlgate",
    "client_encoding": "UTF8",
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "TimeZone": "UTC",
    "bytea_output": "hex",
    "default_transaction_read_only": "on",
}

RawConnection = UpstreamConnection

DESCRIBE_PORTAL = fe.Describe("P").encode()
FLUSH = fe.Flush().encode()
SYNC = fe.Sync().encode()

__all__ = [
    "DESCRIBE_PORTAL",
    "FLUSH",
    "I16",
    "SESSION_SETTINGS",
    "SYNC",
    "U32_FROM",
    "ConnectionBroken",
    "RawConnection",
    "RawPool",
    "bind_message",
    "connect_raw",
    "error_fields",
    "execute_message",
    "is_connection_state",
    "parse_message",
    "pg_error",
]


def parse_message(sql: str) -> bytes:
    """Parse of the unnamed statement, parameter types left to the server."""
    return fe.Parse("", sql).encode()


def bind_message(params: Sequence[bytes | None], result_formats: Sequence[int]) -> bytes:
    """Bind of the unnamed portal: parameters in text format, results in ``result_formats``."""
    return fe.Bind("", "", (), tuple(params), tuple(result_formats)).encode()


def execute_message(max_rows: int) -> bytes:
    return fe.Execute("", max_rows).encode()


def error_fields(body: bytes) -> dict[str, str]:
    """The fields of an ErrorResponse/NoticeResponse body."""
    return dict(be.ErrorResponse.decode(body).fields)


def pg_error(fields: dict[str, str]) -> PgError:
    """A PgError carrying the server's SQLSTATE, message, detail and hint (not its position: that
    points into generated SQL, not into what the client sent)."""
    return PgError(
        fields.get("C") or SYSTEM_ERROR,
        fields.get("M", "error"),
        detail=fields.get("D"),
        hint=fields.get("H"),
    )


def endpoint_for(settings: ConnectionSettings) -> Endpoint:
    """Where a datasource's pass-through connections go, with the pass-through session settings."""
    user = settings.user or "postgres"
    return Endpoint(
        host=settings.host or "localhost",
        port=settings.port or 5432,
        user=user,
        database=settings.database or user,
        password=settings.password or "",
        tls=settings.tls.context() if settings.tls is not None else None,
        tls_server_name=settings.tls.server_name if settings.tls is not None else None,
        parameters=SESSION_SETTINGS,
    )


async def connect_raw(settings: ConnectionSettings, name: str) -> UpstreamConnection:
    """A started-up pass-through connection; 08006 (secret-free, naming the datasource) on failure."""
    try:
        return await UpstreamConnection.connect(endpoint_for(settings))
    except ConnectFailed as exc:
        if exc.server_error is None and exc.__cause__ is not None:
            reason = connection_reason(exc.__cause__)
        else:
            reason = exc.reason.replace("the server", "the datasource")
        raise cannot_connect(name, reason) from None


class RawPool(UpstreamPool):
    """Idle connections kept for reuse. Concurrency is bounded by the source's query slots, so the
    pool never makes anyone wait: it hands out an idle connection or opens a new one."""

    def __init__(
        self, settings: ConnectionSettings, *, name: str, connect_timeout: float, idle_timeout: float
    ) -> None:
        super().__init__(
            lambda: connect_raw(settings, name), connect_timeout=connect_timeout, idle_timeout=idle_timeout
        )
        self._name = name

    async def acquire(
        self, timeout: float | None = None, *, settle: bool = True
    ) -> tuple[UpstreamConnection, bool]:
        """A connection, and whether it is fresh (a reused one may have died while idle)."""
        try:
            return await super().acquire(timeout, settle=settle)
        except PoolClosed:
            raise connection_lost(self._name, "the datasource was closed") from None
        except TimeoutError:
            raise cannot_connect(self._name, "connection timed out") from None
