"""Errors a driver reports, phrased without secrets.

A driver library's own message may carry the host, user, password prompt or file path of the
datasource; these helpers name the datasource by its label and give a short reason instead.
"""

from __future__ import annotations

import socket
import ssl

from sqlgate.errors import CONNECTION_FAILURE, SYSTEM_ERROR, PgError


def connection_reason(exc: BaseException) -> str:
    """A short, secret-free reason for a failure to reach or keep a connection."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host name could not be resolved"
    if isinstance(exc, TimeoutError):
        return "connection timed out"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "TLS negotiation failed"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "connection reset by the datasource"
    if isinstance(exc, FileNotFoundError):
        return "database file not found"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return "connection failed"


def cannot_connect(name: str, reason: str) -> PgError:
    """08006 for a datasource that cannot be reached (down, wrong address, refused login)."""
    return PgError(
        CONNECTION_FAILURE,
        f"could not connect to datasource {name!r}: {reason}",
        hint="check that the datasource is running and that its connection settings are right",
    )


def connection_lost(name: str, reason: str = "the connection was closed during the query") -> PgError:
    """08006 for a datasource connection that broke while a query ran."""
    return PgError(CONNECTION_FAILURE, f"lost connection to datasource {name!r}: {reason}")


def datasource_error(name: str, message: str, sqlstate: str = SYSTEM_ERROR) -> PgError:
    """An error the datasource reported that has no PostgreSQL SQLSTATE of its own (58000)."""
    return PgError(sqlstate, f"datasource {name!r}: {message}")
