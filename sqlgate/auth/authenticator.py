"""Authenticate a connecting client against the credential store.

Policy (see docs/server.md):

* SCRAM-SHA-256 when the credential has a SCRAM verifier, or a legacy plain-text password (a verifier
  is derived from it); SCRAM-SHA-256-PLUS is offered too on TLS connections.
* Cleartext password otherwise (a bcrypt hash without verifier), refused before the password is asked
  for on a non-TLS connection from a non-loopback address unless ``allow_cleartext``.
* ``password_method="password"`` asks everyone for a cleartext password (for clients without SCRAM).
* Unknown users get a SCRAM exchange with a mock verifier (deterministic salt), or a bcrypt check of a
  dummy hash: they fail exactly like a wrong password, in the same time, with FATAL 28P01.
* A correct password for a user who is not a member of the datasource's team: FATAL 28000.
* bcrypt runs in a thread pool; failures are throttled per address and user name; successful bcrypt
  checks are cached briefly; legacy plain-text passwords are replaced by bcrypt + verifier after a
  successful login (in the background).
* The metadata database cannot be reached: FATAL 08006 naming it, unless ``offline_ttl`` > 0 and the
  user logged in successfully within that many seconds: then the password is checked, exactly as
  online, against the credential record that login read (an :class:`OfflineLogins` entry).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

import bcrypt

from sqlgate.auth.context import SecurityContext
from sqlgate.auth.guards import FailureThrottle, SuccessCache
from sqlgate.auth.login import build_security_context
from sqlgate.auth.passwords import bcrypt_cost, hash_password, is_bcrypt_hash, verify_password
from sqlgate.auth.refresh import ContextRefresher
from sqlgate.auth.scram import SCRAM_SHA_256, SCRAM_SHA_256_PLUS, ScramExchange, ScramFailed, mock_verifier
from sqlgate.auth.store import CredentialStore
from sqlgate.auth.verifier import DEFAULT_ITERATIONS, ScramVerifier, make_verifier, parse_verifier
from sqlgate.errors import (
    CONNECTION_FAILURE,
    INVALID_AUTHORIZATION_SPECIFICATION,
    INVALID_PASSWORD,
    PROTOCOL_VIOLATION,
    PgError,
)
from sqlgate.metastore.records import LoginRecord
from sqlgate.pgproto.backend import (
    AuthenticationCleartextPassword,
    AuthenticationSASL,
    AuthenticationSASLContinue,
    AuthenticationSASLFinal,
)
from sqlgate.pgproto.buffer import MessageFormatError
from sqlgate.pgproto.frontend import PasswordMessage, SASLInitialResponse, SASLResponse

log = logging.getLogger("sqlgate.auth")
T = TypeVar("T")

PasswordMethod = Literal["auto", "password"]


class AuthConversation(Protocol):
    """The wire's side of an authentication exchange."""

    async def send(self, message: bytes) -> None:
        """Send (and flush) an encoded Authentication* message."""
        ...

    async def receive(self) -> bytes:
        """The body of the client's next ``p`` message (raises if the client sends anything else)."""
        ...


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """What the authenticator needs to know about the connection."""

    address: str
    is_loopback: bool
    tls: bool
    channel_binding: bytes | None = None  # tls-server-end-point data of our certificate, on TLS


class AuthenticationFailed(PgError):
    """A FATAL authentication error; ``reason`` is for metrics and logs (never shown to the client)."""

    def __init__(self, sqlstate: str, message: str, reason: str, **kwargs: Any) -> None:
        super().__init__(sqlstate, message, severity="FATAL", **kwargs)
        self.reason = reason


def password_failed(username: str, reason: str) -> AuthenticationFailed:
    """The one error unknown users and wrong passwords both get."""
    return AuthenticationFailed(
        INVALID_PASSWORD, f'password authentication failed for user "{username}"', reason
    )


def _is_legacy_plain(stored: str | None) -> bool:
    return bool(stored) and not is_bcrypt_hash(stored or "")


class OfflineLogins:
    """Credential records of recent successful logins, to authenticate the same users while the
    metadata database is unreachable (only then). An entry lives ``ttl`` seconds from the login that
    stored it; 0 disables the cache. Only records are kept, never passwords: an offline login still
    proves the password against the stored verifier or hash."""

    def __init__(
        self, ttl: float = 0.0, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, LoginRecord]] = {}

    def remember(self, username: str, login: LoginRecord) -> None:
        if self.ttl <= 0:
            return
        self._entries.pop(username, None)
        self._entries[username] = (self._clock() + self.ttl, login)
        while len(self._entries) > self.max_entries:
            self._entries.pop(next(iter(self._entries)))

    def find(self, username: str) -> LoginRecord | None:
        entry = self._entries.get(username)
        if entry is None:
            return None
        if entry[0] < self._clock():
            del self._entries[username]
            return None
        return entry[1]


def metadata_unavailable() -> AuthenticationFailed:
    """The FATAL error of a login that cannot be checked because the metadata database is down."""
    return AuthenticationFailed(
        CONNECTION_FAILURE,
        "the metadata database is unavailable: logins cannot be verified",
        "store",
        hint="Sessions already open keep working; retry when the metadata database is back.",
    )


class Authenticator:
    """Runs authentication exchanges; one instance per gateway."""

    def __init__(
        self,
        store: CredentialStore,
        *,
        allow_cleartext: bool = False,
        password_method: PasswordMethod = "auto",
        throttle: FailureThrottle | None = None,
        cache: SuccessCache | None = None,
        executor: Executor | None = None,
        scram_iterations: int = DEFAULT_ITERATIONS,
        upgrade_legacy: bool = True,
        context_refresh_seconds: float = 5.0,
        offline: OfflineLogins | None = None,
    ) -> None:
        self.store = store
        self.offline = offline or OfflineLogins()
        # Open sessions follow role/access-list changes and revocations (see auth.refresh).
        self.contexts = ContextRefresher(store, context_refresh_seconds)
        self.allow_cleartext = allow_cleartext
        self.password_method = password_method
        self.throttle = throttle or FailureThrottle()
        self.cache = cache or SuccessCache()
        self._executor = executor
        self._own_executor = executor is None
        self.scram_iterations = scram_iterations
        self.upgrade_legacy = upgrade_legacy
        self._secret = secrets.token_bytes(32)
        self._derived: dict[bytes, ScramVerifier] = {}
        self._upgrade_tasks: set[asyncio.Task[None]] = set()
        self._upgrade_attempted: set[str] = set()
        # The dummy hash checked for unknown users costs what the real hashes cost (last one seen).
        self._dummy_cost = bcrypt_cost()
        self._dummy_hashes: dict[int, bytes] = {}

    # ------------------------------------------------------------------ lifecycle

    def _pool(self) -> Executor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sqlgate-bcrypt")
        return self._executor

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool(), fn, *args)

    async def wait_upgrades(self) -> None:
        """Wait for background password upgrades (tests, shutdown)."""
        while self._upgrade_tasks:
            await asyncio.gather(*list(self._upgrade_tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.wait_upgrades()
        await self.contexts.close()
        if self._own_executor and self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    # ------------------------------------------------------------------ the exchange

    async def authenticate(
        self, username: str, conversation: AuthConversation, client: ClientInfo
    ) -> SecurityContext:
        """Authenticate ``username``; returns the session's context or raises a FATAL PgError."""
        delay = self.throttle.delay(client.address, username)
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            login = await self.store.find_login(username)
        except PgError:
            raise
        except Exception as exc:
            login = self.offline.find(username)
            if login is None:
                log.error("credential lookup failed: %s", type(exc).__name__)
                raise metadata_unavailable() from None
            log.warning(
                "credential lookup failed (%s): checking the password against the record of a recent login",
                type(exc).__name__,
            )
        try:
            if self.password_method == "password":
                await self._cleartext(username, login, conversation, client)
            else:
                verifier = await self._verifier_for(login)
                if login is not None and verifier is None and login.stored_password:
                    await self._cleartext(username, login, conversation, client)
                else:
                    await self._scram(username, login, verifier, conversation, client)
        except AuthenticationFailed as exc:
            if exc.sqlstate == INVALID_PASSWORD:
                self.throttle.failed(client.address, username)
            raise
        assert login is not None
        self.throttle.succeeded(client.address, username)
        try:
            ctx = build_security_context(login)
        except PgError as exc:
            raise AuthenticationFailed(exc.sqlstate, exc.message, "not_team_member", hint=exc.hint) from None
        self.contexts.seen(ctx)
        self.offline.remember(username, login)
        return ctx

    async def _verifier_for(self, login: LoginRecord | None) -> ScramVerifier | None:
        if login is None:
            return None
        verifier = parse_verifier(login.scram_verifier)
        if verifier is not None:
            return verifier
        stored = login.stored_password
        if not _is_legacy_plain(stored):
            return None
        assert stored is not None
        key = hmac.digest(self._secret, f"{login.credential_id}\x00{stored}".encode(), "sha256")
        derived = self._derived.get(key)
        if derived is None:
            salt = hmac.digest(self._secret, b"legacy-salt:" + key, "sha256")[:16]
            text = await self._in_thread(make_verifier, stored, self.scram_iterations, salt)
            derived = parse_verifier(text)
            assert derived is not None
            if len(self._derived) > 10_000:
                self._derived.clear()
            self._derived[key] = derived
        return derived

    async def _scram(
        self,
        username: str,
        login: LoginRecord | None,
        verifier: ScramVerifier | None,
        conversation: AuthConversation,
        client: ClientInfo,
    ) -> None:
        real = verifier is not None and login is not None
        if verifier is None:
            verifier = mock_verifier(username, self._secret, self.scram_iterations)
        plus = client.tls and client.channel_binding is not None
        mechanisms = (SCRAM_SHA_256_PLUS, SCRAM_SHA_256) if plus else (SCRAM_SHA_256,)
        exchange = ScramExchange(verifier, channel_binding=client.channel_binding, plus_offered=plus)
        await conversation.send(AuthenticationSASL(mechanisms).encode())
        initial = _decode(SASLInitialResponse, await conversation.receive())
        server_first = exchange.client_first(initial.mechanism, initial.data or b"")
        await conversation.send(AuthenticationSASLContinue(server_first).encode())
        final = _decode(SASLResponse, await conversation.receive())
        try:
            server_final = exchange.client_final(final.data)
        except ScramFailed:
            reason = "wrong_password" if real else ("no_password" if login is not None else "unknown_user")
            raise password_failed(username, reason) from None
        if not real:  # pragma: no cover - a mock verifier never matches
            raise password_failed(username, "unknown_user")
        await conversation.send(AuthenticationSASLFinal(server_final).encode())
        assert login is not None
        if _is_legacy_plain(login.stored_password):
            self._schedule_upgrade(login, login.stored_password or "", add_hash=True)

    async def _cleartext(
        self, username: str, login: LoginRecord | None, conversation: AuthConversation, client: ClientInfo
    ) -> None:
        if not (client.tls or client.is_loopback or self.allow_cleartext):
            raise AuthenticationFailed(
                INVALID_AUTHORIZATION_SPECIFICATION,
                f'password authentication for user "{username}" requires an encrypted connection',
                "cleartext_refused",
                hint="Connect with TLS (sslmode=require), or start the server with --allow-cleartext.",
            )
        await conversation.send(AuthenticationCleartextPassword().encode())
        password = _decode(PasswordMessage, await conversation.receive()).password
        stored = login.stored_password if login is not None else None
        if login is None or not stored:
            await self._in_thread(self._dummy_check, password)
            raise password_failed(username, "unknown_user" if login is None else "no_password")
        if is_bcrypt_hash(stored):
            self._dummy_cost = int(stored[4:6])
        if is_bcrypt_hash(stored) and self.cache.hit(login.credential_id, stored, password):
            ok, legacy = True, False
        else:
            check = await self._in_thread(verify_password, stored, password)
            ok, legacy = check.ok, check.needs_upgrade or _is_legacy_plain(stored)
            if legacy:
                await self._in_thread(self._dummy_check, password)  # a plain compare costs what bcrypt costs
            elif ok:
                self.cache.remember(login.credential_id, stored, password)
        if not ok:
            raise password_failed(username, "wrong_password")
        if legacy:
            self._schedule_upgrade(login, password, add_hash=True)
        elif parse_verifier(login.scram_verifier) is None:
            self._schedule_upgrade(login, password, add_hash=False)

    def _dummy_check(self, password: str) -> None:
        """Spend one bcrypt check at the cost real hashes have (runs in the thread pool)."""
        cost = self._dummy_cost
        dummy = self._dummy_hashes.get(cost)
        if dummy is None:
            dummy = bcrypt.hashpw(b"sqlgate-dummy-password", bcrypt.gensalt(rounds=cost))
            self._dummy_hashes[cost] = dummy
        bcrypt.checkpw(password.encode("utf-8")[:72], dummy)

    # ------------------------------------------------------------------ upgrades

    def _schedule_upgrade(self, login: LoginRecord, password: str, *, add_hash: bool) -> None:
        if not self.upgrade_legacy or login.credential_id in self._upgrade_attempted:
            return
        self._upgrade_attempted.add(login.credential_id)
        task = asyncio.create_task(self._upgrade(login, password, add_hash))
        self._upgrade_tasks.add(task)
        task.add_done_callback(self._upgrade_tasks.discard)

    async def _upgrade(self, login: LoginRecord, password: str, add_hash: bool) -> None:
        try:
            new_hash = await self._in_thread(hash_password, password) if add_hash else login.stored_password
            verifier = await self._in_thread(make_verifier, password, self.scram_iterations)
            assert new_hash is not None
            await self.store.store_upgraded_password(
                login.credential_id, login.stored_password, new_hash, verifier
            )
            log.info(
                "credential_upgraded credential_id=%s what=%s",
                login.credential_id,
                "bcrypt+verifier" if add_hash else "verifier",
            )
        except Exception as exc:  # never fail a login because the upgrade could not be stored
            log.warning(
                "credential_upgrade_failed credential_id=%s error=%s", login.credential_id, type(exc).__name__
            )


def _decode(cls: type[T], data: bytes) -> T:
    try:
        return cls.decode(data)  # type: ignore[attr-defined,no-any-return]
    except MessageFormatError as exc:
        raise AuthenticationFailed(PROTOCOL_VIOLATION, exc.message, "protocol") from None
