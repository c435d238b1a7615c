"""The catalog server: the PostgreSQL that holds the shadow databases, and how sqlgate uses it.

Two identities are used on it:

* the **administrator** (``catalog_url``; needs CREATEDB and CREATEROLE) creates the catalog role
  once and each shadow database on demand;
* the **catalog role** (``sqlgate_catalog`` by default) runs every catalog statement. It is a plain
  LOGIN role — not a superuser, no CREATEDB/CREATEROLE/REPLICATION/BYPASSRLS, no inherited rights —
  whose only grants are CONNECT on the shadow databases (revoked from PUBLIC there). Its password is
  derived from a secret, so every gateway process sharing the catalog server computes the same one;
  its connections start with ``default_transaction_read_only = on`` and a short
  ``statement_timeout``.

Shadow databases are built by :mod:`sqlgate.planner.catalog.shadow`; this module runs the build
race-safely (an advisory lock per database name; build under a temporary name, then RENAME), keeps a
connection pool per shadow database, and reads the server's own column lists for the look-alikes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlgate.errors import PgError
from sqlgate.planner.catalog.lookalikes import ServerLookalikes, introspection_sql
from sqlgate.upstream import ConnectFailed, Endpoint, UpstreamConnection, UpstreamPool
from sqlgate.upstream.sqltext import quote_ident, quote_literal

log = logging.getLogger("sqlgate.catalog")

CATALOG_UNAVAILABLE = "58000"
APPLICATION_NAME = "sqlgate_catalog"


@dataclass(frozen=True)
class CatalogOptions:
    """How sqlgate uses its catalog server (see the ``catalog_*`` settings)."""

    admin: Endpoint = field(repr=False)
    role: str = "sqlgate_catalog"
    role_password: str = field(default="", repr=False)
    role_verifier: str = field(default="", repr=False)  # SCRAM verifier of role_password
    statement_timeout: float = 5.0
    max_rows: int = 50_000
    max_bytes: int = 64 << 20
    pool_size: int = 4
    connect_timeout: float = 10.0
    idle_timeout: float = 300.0

    @staticmethod
    def derive_password(secret: str, role: str) -> str:
        """The catalog role's password: the same for every process that knows ``secret``."""
        digest = hmac.new(secret.encode(), f"sqlgate catalog role {role}".encode(), hashlib.sha256)
        return "sg-" + digest.hexdigest()[:40]


def admin_secret(admin: Endpoint) -> str:
    """The default secret: the administrator's identity on the server (not the database name, so all
    gateways of one catalog server agree)."""
    return f"{admin.user}:{admin.password}@{admin.host}:{admin.port}"


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(f"sqlgate:{name}".encode()).digest()[:8], "big", signed=True)


def catalog_error(what: str, exc: BaseException | None = None) -> PgError:
    """58000 for a catalog server sqlgate cannot use (never with its address or credentials)."""
    reason = ""
    if isinstance(exc, PgError):
        reason = f": {exc.message}"
    elif isinstance(exc, ConnectFailed):
        reason = f": {exc.reason}"
    return PgError(
        CATALOG_UNAVAILABLE,
        f"the catalog server is not available ({what}{reason})",
        hint="sqlgate answers pg_catalog and information_schema queries from a PostgreSQL catalog "
        "server (setting catalog_url); see docs/catalog.md",
    )


Builder = Callable[[UpstreamConnection], Awaitable[None]]


class CatalogServer:
    """The shared PostgreSQL of the shadow databases, as one gateway process uses it."""

    def __init__(self, options: CatalogOptions) -> None:
        self.options = options
        self._admin_lock = asyncio.Lock()
        self._role_ready = False
        self._databases: set[str] = set()
        self._building: dict[str, asyncio.Lock] = {}
        self._pools: dict[str, UpstreamPool] = {}
        self._lookalikes: ServerLookalikes | None = None
        self._lookalikes_lock = asyncio.Lock()
        self._pruned = time.monotonic()
        self.closed = False

    # ------------------------------------------------------------------ administration

    async def _admin(self) -> UpstreamConnection:
        params = {"application_name": APPLICATION_NAME, "standard_conforming_strings": "on"}
        endpoint = self.options.admin
        endpoint = endpoint.with_database(endpoint.database, parameters={**endpoint.parameters, **params})
        try:
            async with asyncio.timeout(self.options.connect_timeout):
                return await UpstreamConnection.connect(endpoint)
        except (ConnectFailed, TimeoutError) as exc:
            raise catalog_error("cannot connect as its administrator", exc) from None

    async def ensure_role(self) -> None:
        """Create (or bring up to date) the catalog role, once per process."""
        if self._role_ready:
            return
        async with self._admin_lock:
            if self._role_ready:
                return
            conn = await self._admin()
            try:
                await self._setup_role(conn)
            except PgError as exc:
                raise catalog_error("cannot create the catalog role", exc) from None
            finally:
                conn.close()
            self._role_ready = True

    async def _setup_role(self, conn: UpstreamConnection) -> None:
        o = self.options
        role = quote_ident(o.role)
        key = _lock_key("role " + o.role)
        await conn.simple_query(f"SELECT pg_catalog.pg_advisory_lock({key})")
        try:
            exists = await conn.simple_query(
                f"SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {quote_literal(o.role)}"
            )
            attributes = (
                "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS "
                f"PASSWORD {quote_literal(o.role_verifier or o.role_password)}"
            )
            verb = "ALTER" if exists else "CREATE"
            await conn.simple_query(f"{verb} ROLE {role} {attributes}")
            # Belt and braces for anyone logging in with the role by hand; sqlgate's own connections
            # set these at start-up.
            await conn.simple_query(f"ALTER ROLE {role} SET default_transaction_read_only = on")
            await conn.simple_query(
                f"ALTER ROLE {role} SET statement_timeout = {int(o.statement_timeout * 1000)}"
            )
        finally:
            await conn.simple_query(f"SELECT pg_catalog.pg_advisory_unlock({key})")

    async def ensure_database(self, name: str, build: Builder) -> None:
        """Make sure shadow database ``name`` exists; ``build`` fills a new one (as administrator).

        Race-safe across processes: an advisory lock per name; a database is built under a
        temporary name and renamed when complete, so a half-built one is never visible, and an
        existing one is never rebuilt.
        """
        if name in self._databases:
            return
        lock = self._building.setdefault(name, asyncio.Lock())
        async with lock:
            if name in self._databases:
                return
            await self.ensure_role()
            conn = await self._admin()
            try:
                await self._create_database(conn, name, build)
            except PgError as exc:
                if exc.sqlstate == CATALOG_UNAVAILABLE:
                    raise
                raise catalog_error("cannot create a shadow database", exc) from None
            finally:
                conn.close()
            self._databases.add(name)

    async def _create_database(self, conn: UpstreamConnection, name: str, build: Builder) -> None:
        key = _lock_key("database " + name)
        temporary = name + "_new"
        await conn.simple_query(f"SELECT pg_catalog.pg_advisory_lock({key})")
        try:
            exists = await conn.simple_query(
                f"SELECT 1 FROM pg_catalog.pg_database WHERE datname = {quote_literal(name)}"
            )
            if exists:
                return
            log.info("building shadow catalog database %s", name)
            await conn.simple_query(f"DROP DATABASE IF EXISTS {quote_ident(temporary)}")
            await conn.simple_query(
                f"CREATE DATABASE {quote_ident(temporary)} TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C' LC_CTYPE 'C'"
            )
            await conn.simple_query(f"REVOKE ALL ON DATABASE {quote_ident(temporary)} FROM PUBLIC")
            await conn.simple_query(
                f"GRANT CONNECT ON DATABASE {quote_ident(temporary)} TO {quote_ident(self.options.role)}"
            )
            builder = await self._admin_on(temporary)
            try:
                await build(builder)
            finally:
                builder.close()
            await conn.simple_query(f"ALTER DATABASE {quote_ident(temporary)} RENAME TO {quote_ident(name)}")
        finally:
            with contextlib.suppress(Exception):
                await conn.simple_query(f"SELECT pg_catalog.pg_advisory_unlock({key})")

    async def _admin_on(self, database: str) -> UpstreamConnection:
        endpoint = self.options.admin
        params = {**endpoint.parameters, "application_name": APPLICATION_NAME,
                  "standard_conforming_strings": "on"}  # fmt: skip
        try:
            async with asyncio.timeout(self.options.connect_timeout):
                return await UpstreamConnection.connect(endpoint.with_database(database, parameters=params))
        except (ConnectFailed, TimeoutError) as exc:
            raise catalog_error("cannot connect to a new shadow database", exc) from None

    # ------------------------------------------------------------------ the catalog role's pools

    def session_parameters(self) -> dict[str, str]:
        """Start-up settings of the catalog role's connections (the gateway's defaults for output)."""
        return {
            "application_name": APPLICATION_NAME,
            "client_encoding": "UTF8",
            "DateStyle": "ISO, MDY",
            "IntervalStyle": "postgres",
            "TimeZone": "UTC",
            "extra_float_digits": "1",
            "bytea_output": "hex",
            "standard_conforming_strings": "on",
            "default_transaction_read_only": "on",
            "statement_timeout": str(int(self.options.statement_timeout * 1000)),
            "idle_in_transaction_session_timeout": str(int(max(self.options.statement_timeout, 1) * 4000)),
            "lc_monetary": "C",
            "lc_numeric": "C",
            "lc_time": "C",
            "search_path": '"$user", public',
        }

    def pool(self, database: str) -> UpstreamPool:
        """The catalog role's pool for shadow database ``database``."""
        self._prune(database)
        pool = self._pools.get(database)
        if pool is None:
            o = self.options
            endpoint = o.admin.with_database(
                database, user=o.role, password=o.role_password, parameters=self.session_parameters()
            )

            async def connect() -> UpstreamConnection:
                return await UpstreamConnection.connect(endpoint)

            pool = UpstreamPool(
                connect, max_size=o.pool_size, connect_timeout=o.connect_timeout, idle_timeout=o.idle_timeout
            )
            self._pools[database] = pool
        return pool

    def _prune(self, current: str) -> None:
        """Close connections idle too long, and forget pools of databases no session uses any more
        (shadow databases of replaced model versions), at most once a minute."""
        now = time.monotonic()
        if now - self._pruned < 60:
            return
        self._pruned = now
        for name, pool in list(self._pools.items()):
            pool.expire_stale()
            if name != current and pool.size == 0:
                pool.close()
                del self._pools[name]

    @property
    def cached_lookalikes(self) -> ServerLookalikes | None:
        return self._lookalikes

    async def lookalikes(self, conn: UpstreamConnection) -> ServerLookalikes:
        """The look-alike relations of this server (their columns read once, on ``conn``)."""
        if self._lookalikes is not None:
            return self._lookalikes
        async with self._lookalikes_lock:
            if self._lookalikes is None:
                rows = await conn.simple_query(introspection_sql())
                columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
                for schema, relation, column, type_sql in rows:
                    assert schema and relation and column and type_sql
                    columns.setdefault((schema, relation), []).append((column, type_sql))
                self._lookalikes = ServerLookalikes(columns)
        return self._lookalikes

    @property
    def databases(self) -> frozenset[str]:
        """Shadow databases this process made sure of (for tests and tidying)."""
        return frozenset(self._databases)

    async def close(self) -> None:
        self.closed = True
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
