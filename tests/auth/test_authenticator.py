"""Authentication policy: which method, who fails how, upgrades, caching and throttling."""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from sqlgate.auth.authenticator import AuthenticationFailed, Authenticator, ClientInfo
from sqlgate.auth.guards import FailureThrottle, SuccessCache
from sqlgate.auth.passwords import is_bcrypt_hash
from sqlgate.auth.verifier import parse_verifier
from sqlgate.errors import PgError
from tests.auth.conftest import FakeClient
from tests.support.gateways import make_store, password_of

LOCAL = ClientInfo(address="127.0.0.1", is_loopback=True, tls=False)
REMOTE = ClientInfo(address="10.1.2.3", is_loopback=False, tls=False)
REMOTE_TLS = ClientInfo(address="10.1.2.3", is_loopback=False, tls=True, channel_binding=b"c" * 32)


def _authenticator(**kwargs) -> Authenticator:  # type: ignore[no-untyped-def]
    kwargs.setdefault("throttle", FailureThrottle(max_delay=0))
    return Authenticator(kwargs.pop("store", None) or make_store(), **kwargs)


async def test_scram_for_credentials_with_a_verifier() -> None:
    auth = _authenticator()
    client = FakeClient("alice", password_of("alice"))
    ctx = await auth.authenticate("alice", client, LOCAL)
    assert ctx.username == "alice" and ctx.role == "owner" and ctx.datasource.id == "ds-1"
    assert client.methods == ["AuthenticationSASL", "AuthenticationSASLContinue", "AuthenticationSASLFinal"]
    assert "password" not in ctx.datasource.db_params or ctx.datasource.db_params["password"] == "never-shown"
    await auth.close()


async def test_scram_plus_over_tls() -> None:
    auth = _authenticator()
    client = FakeClient("alice", password_of("alice"), channel_binding=b"c" * 32)
    await auth.authenticate("alice", client, REMOTE_TLS)
    assert client.received[0].mechanisms == ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")
    await auth.close()


async def test_cleartext_for_bcrypt_only_credentials_and_the_verifier_is_added() -> None:
    store = make_store()
    auth = _authenticator(store=store)
    client = FakeClient("bob", password_of("bob"))
    await auth.authenticate("bob", client, LOCAL)
    assert client.methods == ["AuthenticationCleartextPassword"]
    await auth.wait_upgrades()
    login = store.logins["bob"]
    assert is_bcrypt_hash(login.stored_password or "") and parse_verifier(login.scram_verifier) is not None
    client = FakeClient("bob", password_of("bob"))
    await auth.authenticate("bob", client, LOCAL)
    assert client.methods[0] == "AuthenticationSASL"
    await auth.close()


async def test_cleartext_is_refused_without_tls_from_afar_before_asking() -> None:
    auth = _authenticator()
    client = FakeClient("bob", password_of("bob"))
    with pytest.raises(AuthenticationFailed) as info:
        await auth.authenticate("bob", client, REMOTE)
    assert (
        info.value.sqlstate == "28000" and client.received == [] and info.value.reason == "cleartext_refused"
    )
    await auth.authenticate("bob", FakeClient("bob", password_of("bob")), REMOTE_TLS)
    allowed = _authenticator(allow_cleartext=True)
    await allowed.authenticate("bob", FakeClient("bob", password_of("bob")), REMOTE)
    await auth.close()
    await allowed.close()


async def test_legacy_plain_text_password_uses_scram_and_is_upgraded() -> None:
    store = make_store()
    auth = _authenticator(store=store)
    client = FakeClient("legacy", password_of("legacy"))
    await auth.authenticate("legacy", client, LOCAL)
    assert client.methods[0] == "AuthenticationSASL"
    await auth.wait_upgrades()
    login = store.logins["legacy"]
    assert is_bcrypt_hash(login.stored_password or "")
    assert parse_verifier(login.scram_verifier) is not None
    await auth.authenticate("legacy", FakeClient("legacy", password_of("legacy")), LOCAL)
    await auth.close()


@pytest.mark.parametrize("method", ["auto", "password"])
@pytest.mark.parametrize(
    ("user", "password"), [("ghost", "whatever"), ("alice", "wrong"), ("legacy", "wrong")]
)
async def test_unknown_user_and_wrong_password_fail_alike(method: str, user: str, password: str) -> None:
    auth = _authenticator(password_method=method)
    with pytest.raises(AuthenticationFailed) as info:
        await auth.authenticate(user, FakeClient(user, password), LOCAL)
    assert info.value.sqlstate == "28P01" and info.value.severity == "FATAL"
    assert info.value.message == f'password authentication failed for user "{user}"'
    await auth.close()


async def test_not_a_team_member_is_28000_after_the_password() -> None:
    auth = _authenticator()
    with pytest.raises(AuthenticationFailed) as info:
        await auth.authenticate("outsider", FakeClient("outsider", "wrong"), LOCAL)
    assert info.value.sqlstate == "28P01"
    with pytest.raises(AuthenticationFailed) as info:
        await auth.authenticate("outsider", FakeClient("outsider", password_of("outsider")), LOCAL)
    assert info.value.sqlstate == "28000" and "not a member of the team" in info.value.message
    await auth.close()


async def test_successful_bcrypt_checks_are_cached() -> None:
    cache = SuccessCache(ttl=60)
    auth = _authenticator(password_method="password", cache=cache)
    await auth.authenticate("bob", FakeClient("bob", password_of("bob")), LOCAL)
    store = auth.store
    login = await store.find_login("bob")
    assert login is not None and login.stored_password is not None
    assert cache.hit(login.credential_id, login.stored_password, password_of("bob"))
    assert not cache.hit(login.credential_id, login.stored_password, "other")
    await auth.close()


async def test_repeated_failures_are_slowed_down() -> None:
    throttle = FailureThrottle(free_attempts=2, base_delay=0.05, max_delay=0.2)
    auth = _authenticator(throttle=throttle)
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate("alice", FakeClient("alice", "bad"), LOCAL)
    assert throttle.delay("127.0.0.1", "alice") > 0
    assert throttle.delay("10.9.9.9", "someone") == 0
    started = time.monotonic()
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate("alice", FakeClient("alice", "bad"), LOCAL)
    assert time.monotonic() - started >= 0.05
    await auth.close()


async def test_store_failure_is_reported_without_details() -> None:
    class Broken:
        async def find_login(self, username: str):  # type: ignore[no-untyped-def]
            raise OSError("connection refused to postgresql://admin:hunter2@db")

        async def store_upgraded_password(self, *args) -> None:  # type: ignore[no-untyped-def]
            return None

    auth = _authenticator(store=Broken())
    with pytest.raises(PgError) as info:
        await auth.authenticate("alice", FakeClient("alice", "x"), LOCAL)
    assert "hunter2" not in str(info.value) and info.value.severity == "FATAL"
    await auth.close()


@pytest.mark.parametrize("method", ["auto", "password"])
async def test_failure_timing_does_not_reveal_whether_a_user_exists(method: str) -> None:
    """Unknown user vs wrong password: the same work, so the same time (generous statistical bound)."""
    auth = _authenticator(password_method=method, cache=SuccessCache(ttl=0))

    async def attempt(user: str) -> float:
        started = time.perf_counter()
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate(user, FakeClient(user, "wrong-password"), LOCAL)
        return time.perf_counter() - started

    await attempt("alice")
    await attempt("nobody")
    unknown: list[float] = []
    known: list[float] = []
    for _ in range(15):
        known.append(await attempt("alice"))
        unknown.append(await attempt("nobody"))
        await asyncio.sleep(0)
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2.0, (statistics.median(known), statistics.median(unknown))
    await auth.close()
