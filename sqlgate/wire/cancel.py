"""Cancel keys: which session a CancelRequest (process id + secret) is for."""

from __future__ import annotations

import hmac
import secrets
from typing import Protocol


class Cancellable(Protocol):
    def cancel_running(self) -> None:
        """Cancel the statement the session is running, if any."""
        ...


class CancelRegistry:
    """Hands out unique process ids with random secrets, and routes cancel requests.

    With several worker processes (``workers``), worker ``worker`` hands out only process ids with
    ``pid % workers == worker``, so any worker can tell from a CancelRequest which one owns the
    session (:meth:`owner`).
    """

    def __init__(self, worker: int = 0, workers: int = 1) -> None:
        self.worker = worker
        self.workers = workers
        self._sessions: dict[int, tuple[bytes, Cancellable]] = {}
        self._next = secrets.randbelow(1 << 20) + 1000

    def owner(self, pid: int) -> int:
        """The worker whose session ``pid`` is."""
        return pid % self.workers

    def register(self, target: Cancellable) -> tuple[int, bytes]:
        """A new (process id, secret key) for ``target``."""
        while True:
            pid = self._next * self.workers + self.worker
            self._next = self._next + 1 if pid < 0x7FFFFFFF - 2 * self.workers else 1000
            if pid not in self._sessions:
                break
        secret = secrets.token_bytes(4)
        self._sessions[pid] = (secret, target)
        return pid, secret

    def unregister(self, pid: int) -> None:
        self._sessions.pop(pid, None)

    def cancel(self, pid: int, secret: bytes) -> bool:
        """Cancel the running statement of the session holding this key; False when none matches."""
        entry = self._sessions.get(pid)
        if entry is None or not hmac.compare_digest(entry[0], secret):
            return False
        entry[1].cancel_running()
        return True

    def __len__(self) -> int:
        return len(self._sessions)
