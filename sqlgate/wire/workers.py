"""Several worker processes on one port: which worker owns a session, and cancel forwarding.

The kernel spreads new connections over the workers' SO_REUSEPORT sockets, so a CancelRequest (a
new connection) may reach a worker other than the one running the session it names. Every worker
hands out process ids with ``pid % workers == its index`` (:class:`~sqlgate.wire.cancel.CancelRegistry`)
and listens on a unix socket of its own in a directory private to the gateway; a worker that
receives a cancel for another worker's session writes the same 16-byte CancelRequest to that
worker's socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
from dataclasses import dataclass

from sqlgate.wire.cancel import CancelRegistry

log = logging.getLogger("sqlgate.wire")

CANCEL_REQUEST_CODE = 80877102
_PACKET = struct.Struct("!iii4s")


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """This process's place among the gateway's workers."""

    index: int
    count: int
    cancel_dir: str  # holds one unix socket per worker (mode 0700, made by the parent)


def cancel_socket_path(cancel_dir: str, index: int) -> str:
    """The unix socket worker ``index`` receives forwarded cancel requests on."""
    return os.path.join(cancel_dir, f"cancel-{index}.sock")


def cancel_packet(pid: int, secret: bytes) -> bytes:
    """A CancelRequest start-up packet, as a client sends it."""
    return _PACKET.pack(16, CANCEL_REQUEST_CODE, pid, secret)


class CancelRouter:
    """Receives forwarded cancel requests for this worker and forwards others' to their owner."""

    def __init__(self, worker: WorkerInfo, registry: CancelRegistry) -> None:
        self.worker = worker
        self.registry = registry
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        path = cancel_socket_path(self.worker.cancel_dir, self.worker.index)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        self._server = await asyncio.start_unix_server(self._receive, path=path)
        os.chmod(path, 0o600)

    async def _receive(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            data = await asyncio.wait_for(reader.readexactly(16), 5)
            length, code, pid, secret = _PACKET.unpack(data)
            if length == 16 and code == CANCEL_REQUEST_CODE and self.registry.owner(pid) == self.worker.index:
                self.registry.cancel(pid, secret)
        except (asyncio.IncompleteReadError, TimeoutError, OSError):
            pass
        finally:
            writer.close()

    def cancel(self, pid: int, secret: bytes) -> None:
        """Cancel here when this worker owns ``pid``, else forward to the worker that does."""
        owner = self.registry.owner(pid)
        if owner == self.worker.index:
            self.registry.cancel(pid, secret)
            return
        task = asyncio.get_running_loop().create_task(self._forward(owner, cancel_packet(pid, secret)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _forward(self, owner: int, packet: bytes) -> None:
        try:
            async with asyncio.timeout(5):
                _, writer = await asyncio.open_unix_connection(
                    cancel_socket_path(self.worker.cancel_dir, owner)
                )
                writer.write(packet)
                await writer.drain()
                writer.close()
                await writer.wait_closed()
        except (OSError, TimeoutError) as exc:
            log.warning("forwarding a cancel request to worker %d failed: %s", owner, exc)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(cancel_socket_path(self.worker.cancel_dir, self.worker.index))
