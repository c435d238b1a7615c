"""Where credentials come from: the metadata database, or an in-memory list (tests, demos).

Both implement :class:`CredentialStore`; the authenticator depends on nothing else.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Protocol

import asyncpg

from sqlgate.metastore.records import LoginRecord

# What asyncpg raises when a pooled connection is gone: socket errors, a closed or broken protocol
# (InterfaceError, and InternalClientError when the backend vanished mid-exchange), 08xxx, and the
# 57P0x a terminated or shutting-down backend sends.
_CONNECTION_LOST = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
)


class CredentialStore(Protocol):
    """Look up SQL credentials by user name and record password upgrades."""

    async def find_login(self, username: str) -> LoginRecord | None:
        """The credential called ``username`` (``sql_credentials.username`` is unique), or None."""
        ...

    async def store_upgraded_password(
        self, credential_id: str, old_stored: str | None, new_hash: str, scram_verifier: str | None
    ) -> None:
        """Replace the stored password (a legacy plain-text value, or a bcrypt hash without verifier)
        by ``new_hash`` and ``scram_verifier``, unless it changed meanwhile (``old_stored``)."""
        ...


class InMemoryCredentialStore:
    """Credentials held in a dict; upgrades are applied to the records."""

    def __init__(self, logins: Iterable[LoginRecord] = ()) -> None:
        self.logins: dict[str, LoginRecord] = {login.username: login for login in logins}
        self.upgrades: list[str] = []  # credential ids upgraded, for tests

    def add(self, login: LoginRecord) -> None:
        self.logins[login.username] = login

    async def find_login(self, username: str) -> LoginRecord | None:
        return self.logins.get(username)

    async def store_upgraded_password(
        self, credential_id: str, old_stored: str | None, new_hash: str, scram_verifier: str | None
    ) -> None:
        for name, login in self.logins.items():
            if login.credential_id == credential_id and login.stored_password == old_stored:
                self.logins[name] = replace(login, stored_password=new_hash, scram_verifier=scram_verifier)
                self.upgrades.append(credential_id)


class MetastoreCredentialStore:
    """Credentials read from ``public.sql_credentials`` through :mod:`sqlgate.metastore.logins`.

    Every login looks its credential up (a revoked or changed credential is refused at once). With
    ``url`` the look-up runs on a small asyncpg pool of its own — one round trip on a prepared
    statement — instead of the SQLAlchemy engine (pre-ping, BEGIN and ROLLBACK: four round trips).
    """

    def __init__(self, engine: Any, url: str | None = None, *, pool_size: int = 4) -> None:
        self.engine = engine
        self.url = url
        self.pool_size = pool_size
        self._pool: Any = None
        self._pool_lock: asyncio.Lock | None = None

    async def find_login(self, username: str) -> LoginRecord | None:
        from sqlgate.metastore import logins

        if self.url is None:
            return await _maybe_await(logins.find_login(self.engine, username))
        for attempt in (1, 2):
            pool = await self._get_pool()
            try:
                return await logins.find_login_on_pool(pool, self.engine, username)
            except _CONNECTION_LOST:
                # A pooled connection died (metadata server restarted, backend terminated): the
                # look-up is a read, so retry once on a new pool.
                if attempt == 2:
                    raise
                pool.terminate()
                self._pool = None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _get_pool(self) -> Any:
        if self._pool is not None:
            return self._pool
        if self._pool_lock is None:
            self._pool_lock = asyncio.Lock()
        async with self._pool_lock:
            if self._pool is None:
                from sqlgate.metastore.engine import plain_postgres_url

                self._pool = await asyncpg.create_pool(
                    plain_postgres_url(self.url or ""),
                    min_size=0,
                    max_size=self.pool_size,
                    timeout=10.0,
                    server_settings={"application_name": "sqlgate-login"},
                    reset=_no_reset,  # only SELECTs run here: skip RESET ALL & co. on every release
                )
        return self._pool

    async def aclose(self) -> None:
        """Close the look-up pool (gateway shutdown)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                async with asyncio.timeout(2):
                    await pool.close()
            except (TimeoutError, Exception):
                pool.terminate()

    async def store_upgraded_password(
        self, credential_id: str, old_stored: str | None, new_hash: str, scram_verifier: str | None
    ) -> None:
        from sqlgate.metastore import logins

        await _maybe_await(
            logins.store_upgraded_password(self.engine, credential_id, old_stored, new_hash, scram_verifier)
        )


async def _no_reset(conn: Any) -> None:
    """Pool reset hook that does nothing (see MetastoreCredentialStore._get_pool)."""


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value
