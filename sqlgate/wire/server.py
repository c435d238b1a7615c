"""The asyncio server: accept connections, enforce the connection limit, drain on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlgate.auth.authenticator import Authenticator
from sqlgate.observability.audit import QueryAudit
from sqlgate.observability.metrics import Metrics
from sqlgate.observability.unsupported import UnsupportedLog
from sqlgate.planner.api import Planner
from sqlgate.wire.cancel import CancelRegistry
from sqlgate.wire.connection import ClientConnection
from sqlgate.wire.options import ServerOptions
from sqlgate.wire.workers import CancelRouter, WorkerInfo

log = logging.getLogger("sqlgate.wire")


class WireServer:
    """Listens for PostgreSQL clients and runs one :class:`ClientConnection` per socket."""

    def __init__(
        self,
        options: ServerOptions,
        planner: Planner,
        authenticator: Authenticator,
        metrics: Metrics | None = None,
        audit: QueryAudit | None = None,
        *,
        unsupported: UnsupportedLog | None = None,
        worker: WorkerInfo | None = None,
    ) -> None:
        self.options = options
        self.planner = planner
        self.authenticator = authenticator
        self.metrics = metrics
        self.audit = audit
        self.unsupported = unsupported
        self.worker = worker
        self.registry = CancelRegistry(worker.index, worker.count) if worker else CancelRegistry()
        self.cancel_router = CancelRouter(worker, self.registry) if worker and worker.count > 1 else None
        self.connections: set[ClientConnection] = set()
        self.admitted: set[ClientConnection] = set()
        # Authenticated sessions per credential (user name), for max_connections_per_credential.
        self.per_credential: dict[str, int] = {}
        self.shutting_down = False
        self._server: asyncio.AbstractServer | None = None
        self.port = options.port
        self.sockets: list[tuple[str, int]] = []

    async def start(self) -> None:
        """Start listening (port 0 picks a free port; see :attr:`port`)."""
        loop = asyncio.get_running_loop()
        if self.cancel_router is not None:
            await self.cancel_router.start()
        self._server = await loop.create_server(
            lambda: ClientConnection(self),
            host=self.options.host,
            port=self.options.port,
            reuse_port=self.options.reuse_port or None,
            backlog=min(4096, max(128, self.options.max_connections)),
            start_serving=True,
        )
        self.sockets = [s.getsockname()[:2] for s in self._server.sockets]
        self.port = self.sockets[0][1]
        log.info("listening on %s", ", ".join(f"{h}:{p}" for h, p in self.sockets))

    def cancel(self, pid: int, secret: bytes) -> None:
        """A CancelRequest: cancel the session's statement, wherever (whichever worker) it runs."""
        if self.cancel_router is not None:
            self.cancel_router.cancel(pid, secret)
        else:
            self.registry.cancel(pid, secret)

    def connection_made(self, conn: ClientConnection) -> None:
        self.connections.add(conn)
        if self.shutting_down:
            conn.request_shutdown()

    def connection_done(self, conn: ClientConnection) -> None:
        self.connections.discard(conn)
        self.admitted.discard(conn)
        self.release_credential(conn)

    def starting_full(self) -> bool:
        """True when max_connections sockets are already in start-up (not yet sessions)."""
        return len(self.connections) - len(self.admitted) >= self.options.max_connections

    def admit(self, conn: ClientConnection) -> bool:
        """Count ``conn`` against max_connections; False when the limit is reached."""
        if len(self.admitted) >= self.options.max_connections:
            return False
        self.admitted.add(conn)
        return True

    def admit_credential(self, conn: ClientConnection, username: str) -> bool:
        """Count an authenticated session against its credential's limit; False when it is reached."""
        limit = self.options.max_connections_per_credential
        count = self.per_credential.get(username, 0)
        if limit and count >= limit:
            return False
        self.per_credential[username] = count + 1
        conn.counted_credential = username
        return True

    def release_credential(self, conn: ClientConnection) -> None:
        username = conn.counted_credential
        if username is None:
            return
        conn.counted_credential = None
        left = self.per_credential.get(username, 0) - 1
        if left > 0:
            self.per_credential[username] = left
        else:
            self.per_credential.pop(username, None)

    async def shutdown(self, timeout: float | None = None) -> None:
        """Stop accepting; idle sessions end at once (57P01), busy ones when their statement ends or
        after ``timeout`` seconds (then their statements are cancelled)."""
        timeout = self.options.shutdown_timeout if timeout is None else timeout
        self.shutting_down = True
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.request_shutdown()
        tasks = [c.task for c in list(self.connections) if c.task is not None and not c.task.done()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), timeout=1)
            self._server = None
        if self.cancel_router is not None:
            await self.cancel_router.close()
