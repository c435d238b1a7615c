"""Login guards: slow down repeated failures, and remember recent successful password checks.

:class:`FailureThrottle` counts failures per client address and per user name, forgetting them
gradually (the count halves every ``half_life`` seconds). Past ``free_attempts`` every attempt from that
address or for that name waits ``base_delay * 2**(excess)`` seconds, at most ``max_delay``.

:class:`SuccessCache` remembers that a (credential, stored hash, password) triple was correct for
``ttl`` seconds, so a burst of connections pays for one bcrypt check. Entries are keyed by an HMAC
with a per-process random key, so the cache holds nothing a password could be recovered from.
"""

from __future__ import annotations

import hmac
import math
import secrets
import time
from collections import OrderedDict


class FailureThrottle:
    """Per-address and per-username failure counters with exponential back-off."""

    def __init__(
        self,
        *,
        free_attempts: int = 5,
        base_delay: float = 0.25,
        max_delay: float = 5.0,
        half_life: float = 60.0,
        max_entries: int = 100_000,
    ) -> None:
        self.free_attempts = free_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.half_life = half_life
        self.max_entries = max_entries
        self._counts: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (count, at)

    def _current(self, key: str, now: float) -> float:
        entry = self._counts.get(key)
        if entry is None:
            return 0.0
        count, at = entry
        return count * math.pow(0.5, (now - at) / self.half_life) if self.half_life > 0 else count

    def delay(self, address: str, username: str, now: float | None = None) -> float:
        """Seconds the next attempt from ``address`` for ``username`` must wait first."""
        if self.max_delay <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        count = max(self._current("a:" + address, now), self._current("u:" + username, now))
        excess = count - self.free_attempts
        if excess <= 0:
            return 0.0
        return min(self.max_delay, self.base_delay * math.pow(2, excess - 1))

    def failed(self, address: str, username: str, now: float | None = None) -> None:
        """Record a failed attempt."""
        now = time.monotonic() if now is None else now
        for key in ("a:" + address, "u:" + username):
            self._counts[key] = (self._current(key, now) + 1, now)
            self._counts.move_to_end(key)
        while len(self._counts) > self.max_entries:
            self._counts.popitem(last=False)

    def succeeded(self, address: str, username: str) -> None:
        """Forget the user's failures (the address keeps its count: it may be guessing other names)."""
        self._counts.pop("u:" + username, None)


class SuccessCache:
    """Recently verified (credential, stored hash, password) triples, by salted digest."""

    def __init__(self, ttl: float = 60.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, float] = OrderedDict()

    def _digest(self, credential_id: str, stored: str, password: str) -> bytes:
        message = "\x00".join((credential_id, stored, password)).encode("utf-8", "surrogatepass")
        return hmac.digest(self._key, message, "sha256")

    def hit(self, credential_id: str, stored: str, password: str) -> bool:
        """True when this exact password was verified against this stored hash recently."""
        if self.ttl <= 0:
            return False
        digest = self._digest(credential_id, stored, password)
        expires = self._entries.get(digest)
        if expires is None:
            return False
        if expires < time.monotonic():
            del self._entries[digest]
            return False
        return True

    def remember(self, credential_id: str, stored: str, password: str) -> None:
        if self.ttl <= 0:
            return
        self._entries[self._digest(credential_id, stored, password)] = time.monotonic() + self.ttl
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
