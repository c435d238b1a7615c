"""Keep open sessions' security contexts current (role, access list, credential) without restart.

A session's :class:`~sqlgate.auth.context.SecurityContext` is built at login. An admin may then
change the member's role or access list, remove them from the team, or revoke the credential; those
changes must reach sessions that are already open. :class:`ContextRefresher` re-reads a credential's
login record at most every ``interval`` seconds, shared by every session of that credential, so the
hot path is a dict look-up and a clock read — no metadata query per statement.

Outcomes of a re-read:

* the record is unchanged in what matters → the session keeps its context object;
* the role, access list, datasource or team changed → the session gets the new context;
* the credential is gone (revoked), was re-issued under the same name (another id), or its user is no
  longer a member of the datasource's team → FATAL 28000, the connection ends;
* the metadata database cannot be reached → the session keeps its context (a warning is logged)
  and the next look-up waits another ``interval``; a re-read slower than ``max_wait`` (1 s) goes on
  in the background while statements run with the context they have.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlgate.auth.context import SecurityContext
from sqlgate.auth.login import build_security_context
from sqlgate.auth.store import CredentialStore
from sqlgate.errors import INVALID_AUTHORIZATION_SPECIFICATION, PgError

log = logging.getLogger("sqlgate.auth")


class CredentialRevoked(PgError):
    """The session's credential no longer grants access: the connection must end (FATAL)."""

    def __init__(self, message: str) -> None:
        super().__init__(INVALID_AUTHORIZATION_SPECIFICATION, message, severity="FATAL")


@dataclass(slots=True)
class _Entry:
    checked_at: float
    ctx: SecurityContext | None  # None: the credential grants nothing any more
    reason: str = ""


class ContextRefresher:
    """Re-reads security contexts at most every ``interval`` seconds per credential username."""

    def __init__(
        self,
        store: CredentialStore,
        interval: float = 5.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 100_000,
        max_wait: float = 1.0,
    ) -> None:
        self.store = store
        self.interval = interval
        self.max_wait = max_wait
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._inflight: dict[str, asyncio.Future[_Entry]] = {}  # running re-reads by username

    def seen(self, ctx: SecurityContext) -> None:
        """Record a context just built by a login (it is current now)."""
        if self.interval > 0:
            self._remember(ctx.username, _Entry(self._clock(), ctx))

    async def current(self, ctx: SecurityContext) -> SecurityContext:
        """The context the session's next statement must run with; raises :class:`CredentialRevoked`."""
        if self.interval <= 0:
            return ctx
        entry = self._entries.get(ctx.username)
        if entry is None or self._clock() - entry.checked_at >= self.interval:
            entry = await self._reload(ctx) or entry
            if entry is None:
                return ctx  # the first read is still running (metadata database slow): go on
        if entry.ctx is None:
            raise CredentialRevoked(entry.reason)
        fresh = entry.ctx
        if fresh is ctx:
            return ctx
        if fresh.credential_id != ctx.credential_id:
            # The name now belongs to another credential: this session's credential was revoked.
            raise CredentialRevoked(f'credential "{ctx.username}" has been revoked')
        if _same_access(fresh, ctx):
            return ctx
        return fresh

    async def _reload(self, ctx: SecurityContext) -> _Entry | None:
        """Start (or join) the re-read of ``ctx``'s credential and wait for it at most ``max_wait``
        seconds; None when it has not finished by then (it goes on in the background, and the
        statement runs with the context it has: a slow metadata database never stalls queries)."""
        username = ctx.username
        task = self._inflight.get(username)
        if task is None:
            task = asyncio.ensure_future(self._read(ctx))
            self._inflight[username] = task
            task.add_done_callback(lambda done: self._finished(username, done))
        done, _ = await asyncio.wait({task}, timeout=self.max_wait)
        if not done or task.cancelled():
            return None
        return task.result()

    async def close(self) -> None:
        """Stop re-reads still running (gateway shutdown)."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, username: str, task: asyncio.Future[_Entry]) -> None:
        if self._inflight.get(username) is task:
            del self._inflight[username]
        if not task.cancelled() and task.exception() is None:
            self._remember(username, task.result())

    async def _read(self, ctx: SecurityContext) -> _Entry:
        now = self._clock()
        try:
            login = await self.store.find_login(ctx.username)
        except Exception as exc:  # metadata database down: keep serving with what we know
            log.warning("security_context_refresh_failed user=%s error=%s", ctx.username, type(exc).__name__)
            known = self._entries.get(ctx.username)
            return _Entry(now, known.ctx if known is not None and known.ctx is not None else ctx)
        if login is None:
            return _Entry(now, None, f'credential "{ctx.username}" has been revoked')
        try:
            fresh = build_security_context(login)
        except PgError as exc:
            return _Entry(now, None, exc.message)
        return _Entry(now, fresh)

    def _remember(self, username: str, entry: _Entry) -> None:
        if len(self._entries) >= self._max_entries and username not in self._entries:
            self._entries.clear()  # crude but bounded; entries are cheap to rebuild
        self._entries[username] = entry


def _same_access(a: SecurityContext, b: SecurityContext) -> bool:
    """Whether two contexts grant the same thing (the model version is followed separately)."""
    return (
        a.role == b.role
        and a.access_list == b.access_list
        and a.team_id == b.team_id
        and a.user_id == b.user_id
        and a.datasource.id == b.datasource.id
        and a.datasource.db_type == b.datasource.db_type
        and dict(a.datasource.db_params) == dict(b.datasource.db_params)
    )
