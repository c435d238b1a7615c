"""The async SQLAlchemy engine on the metadata database, and password masking for messages.

Users give a plain libpq-style URL (``postgresql://user:pw@host:5432/db``, or a unix socket as in
``postgresql://postgres:@/db?host=/tmp/pg``). asyncpg understands every form of those URLs itself, so
the engine hands the URL to ``asyncpg.connect`` untouched (through ``async_creator``) instead of
translating query parameters into SQLAlchemy's own URL dialect.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEFAULT_CONNECT_TIMEOUT = 10.0
_SCHEMES = ("postgresql", "postgres")
MASK = "***"


class MetadataUrlError(ValueError):
    """The metadata URL is not a PostgreSQL URL."""


def plain_postgres_url(url: str) -> str:
    """``url`` as a libpq URL asyncpg accepts; a SQLAlchemy driver suffix (``+asyncpg``) is dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.split("+", 1)[0].lower()
    if scheme not in _SCHEMES:
        raise MetadataUrlError(f"the metadata URL must start with postgresql:// (got {mask_password(url)!r})")
    return urlunsplit(parts._replace(scheme="postgresql"))


def create_metadata_engine(
    url: str,
    *,
    pool_size: int = 5,
    max_overflow: int = 5,
    application_name: str = "sqlgate",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    pre_ping: bool = True,
) -> AsyncEngine:
    """An async engine (asyncpg driver) on the metadata database at ``url``.

    Connections are opened lazily; a URL that cannot be reached fails at first use with the asyncpg
    or OS error (``sqlgate.cli.runner.describe_database_error`` turns it into a message safe to show).
    ``pre_ping`` checks a pooled connection before use (one extra round trip per checkout, but a
    restarted metadata server costs no failed request); a latency-bound caller may turn it off.
    """
    dsn = plain_postgres_url(url)

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(
            dsn, timeout=connect_timeout, server_settings={"application_name": application_name}
        )

    return create_async_engine(
        "postgresql+asyncpg://",
        async_creator=connect,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pre_ping,
    )


def mask_password(url: str) -> str:
    """``url`` with its password (in the authority or a ``password=`` parameter) replaced by ***."""
    try:
        parts = urlsplit(url)
        netloc = _mask_netloc(parts)
    except ValueError:
        return _mask_free_text(url)
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", rf"\1\2{MASK}", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _mask_netloc(parts: SplitResult) -> str:
    netloc = parts.netloc
    if "@" not in netloc:
        return netloc
    userinfo, hostinfo = netloc.rsplit("@", 1)
    if ":" not in userinfo:
        return netloc
    user, password = userinfo.split(":", 1)
    return f"{user}:{MASK if password else ''}@{hostinfo}"


def _mask_free_text(text: str) -> str:
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", rf"\1{MASK}@", text)


def scrub_secret(text: str, url: str) -> str:
    """``text`` with the password of ``url`` (if any) removed wherever it occurs, and any URL masked."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        text = text.replace(password, MASK)
    return _mask_free_text(text)
