"""libpq-style PostgreSQL URLs as :class:`~sqlgate.upstream.connection.Endpoint` values.

Accepted: ``postgresql://user:password@host:port/dbname`` (also ``postgres://`` and a SQLAlchemy
driver suffix such as ``postgresql+asyncpg://``), a unix-socket directory as ``?host=/run/postgresql``
or a percent-encoded host, ``?port=``, ``?user=``, ``?password=``, ``?dbname=`` and ``?sslmode=``
(``disable``/``allow``/``prefer``: no TLS; ``require``: TLS without certificate checks;
``verify-ca``/``verify-full``: TLS with checks, ``?sslrootcert=`` names the CA file).
"""

from __future__ import annotations

import ssl
from urllib.parse import parse_qs, unquote, urlsplit

from sqlgate.upstream.connection import Endpoint


class UrlError(ValueError):
    """Not a PostgreSQL URL (the message never contains the password)."""


def endpoint_from_url(url: str) -> Endpoint:
    """The endpoint ``url`` names (default host ``localhost``, port 5432, user ``postgres``)."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.split("+", 1)[0].lower()
        if scheme not in ("postgresql", "postgres"):
            raise UrlError("a PostgreSQL URL must start with postgresql://")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        host = query.get("host") or (unquote(parts.hostname) if parts.hostname else "") or "localhost"
        port = int(query.get("port") or parts.port or 5432)
        user = query.get("user") or (unquote(parts.username) if parts.username else "") or "postgres"
        password = query.get("password") or (unquote(parts.password) if parts.password else "")
        database = query.get("dbname") or unquote(parts.path.lstrip("/")) or user
    except ValueError as exc:
        if isinstance(exc, UrlError):
            raise
        raise UrlError("the PostgreSQL URL cannot be read") from None
    tls = _tls_context(query.get("sslmode", "prefer"), query.get("sslrootcert"))
    return Endpoint(host=host, port=port, user=user, database=database, password=password, tls=tls)


def _tls_context(mode: str, root_cert: str | None) -> ssl.SSLContext | None:
    mode = mode.lower()
    if mode in ("disable", "allow", "prefer", ""):
        return None
    if mode == "require":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if mode in ("verify-ca", "verify-full"):
        context = ssl.create_default_context(cafile=root_cert)
        context.check_hostname = mode == "verify-full"
        return context
    raise UrlError(f"unknown sslmode {mode!r}")
