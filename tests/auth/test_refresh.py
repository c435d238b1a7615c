"""ContextRefresher: open sessions follow changes of their credential, role and access list."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from sqlgate.auth.login import build_security_context
from sqlgate.auth.refresh import ContextRefresher, CredentialRevoked
from sqlgate.auth.store import InMemoryCredentialStore, MetastoreCredentialStore
from tests.support.contexts import make_login

CUBES = {"orders": {"measures": ["orders.count"]}}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class CountingStore(InMemoryCredentialStore):
    """The in-memory credential store, counting look-ups (how often the metadata would be read)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.lookups = 0

    async def find_login(self, username: str):  # type: ignore[no-untyped-def]
        self.lookups += 1
        await asyncio.sleep(0)
        return await super().find_login(username)


def member(**overrides: object):  # type: ignore[no-untyped-def]
    base = {"role": "member", "access_list_id": "al", "access_cubes": CUBES}
    base.update(overrides)
    return make_login("m", stored_password="x", **base)  # type: ignore[arg-type]


async def test_unchanged_context_is_kept_and_read_at_most_every_interval() -> None:
    clock = Clock()
    store = CountingStore([member()])
    refresher = ContextRefresher(store, 5.0, clock=clock)
    ctx = build_security_context(member())
    refresher.seen(ctx)
    for _ in range(100):
        assert await refresher.current(ctx) is ctx
    assert store.lookups == 0
    clock.now += 5.0
    results = await asyncio.gather(*(refresher.current(ctx) for _ in range(20)))
    assert all(r is ctx for r in results) and store.lookups == 1  # one look-up for everyone


async def test_changed_access_list_and_role_are_picked_up() -> None:
    clock = Clock()
    store = InMemoryCredentialStore([member()])
    refresher = ContextRefresher(store, 1.0, clock=clock)
    ctx = build_security_context(member())
    refresher.seen(ctx)
    store.add(member(access_cubes={"orders": {"measures": ["orders.count", "orders.amount"]}}))
    assert await refresher.current(ctx) is ctx  # not yet: within the interval
    clock.now += 1.0
    fresh = await refresher.current(ctx)
    assert fresh.access_list is not None and "orders.amount" in fresh.access_list.allowed
    store.add(member(role="admin"))
    clock.now += 1.0
    assert (await refresher.current(fresh)).unrestricted


async def test_revoked_reissued_and_removed_credentials_end_the_session() -> None:
    clock = Clock()
    store = InMemoryCredentialStore([member()])
    refresher = ContextRefresher(store, 1.0, clock=clock)
    ctx = build_security_context(member())
    store.logins.clear()
    clock.now += 1.0
    with pytest.raises(CredentialRevoked, match="has been revoked") as info:
        await refresher.current(ctx)
    assert info.value.severity == "FATAL" and info.value.sqlstate == "28000"
    store.add(replace(member(), credential_id="another"))
    clock.now += 1.0
    with pytest.raises(CredentialRevoked):
        await refresher.current(ctx)
    store.add(member(role=None))
    clock.now += 1.0
    with pytest.raises(CredentialRevoked, match="not a member of the team"):
        await refresher.current(ctx)


async def test_metadata_database_down_keeps_the_context(pg_server) -> None:  # type: ignore[no-untyped-def]
    from sqlgate.metastore.engine import create_metadata_engine

    engine = create_metadata_engine(pg_server.url_for("sqlgate_no_such_database"))
    try:
        clock = Clock()
        refresher = ContextRefresher(MetastoreCredentialStore(engine), 1.0, clock=clock)
        ctx = build_security_context(member())
        clock.now += 1.0
        assert await refresher.current(ctx) is ctx
    finally:
        await engine.dispose()


async def test_zero_interval_never_reads() -> None:
    store = CountingStore([member()])
    refresher = ContextRefresher(store, 0.0)
    ctx = build_security_context(member())
    assert await refresher.current(ctx) is ctx and store.lookups == 0


class GatedStore(InMemoryCredentialStore):
    """The in-memory credential store whose look-ups wait for a gate (a metadata database that is
    slow to answer)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.gate = asyncio.Event()

    async def find_login(self, username: str):  # type: ignore[no-untyped-def]
        await self.gate.wait()
        return await super().find_login(username)


async def test_a_slow_metadata_database_never_stalls_statements() -> None:
    clock = Clock()
    store = GatedStore([member(role="admin")])
    refresher = ContextRefresher(store, 1.0, clock=clock, max_wait=0.01)
    ctx = build_security_context(member())
    refresher.seen(ctx)
    clock.now += 1.0
    assert await refresher.current(ctx) is ctx  # the re-read is pending: the statement goes on
    assert await refresher.current(ctx) is ctx  # joined, still pending
    store.gate.set()
    for _ in range(100):
        fresh = await refresher.current(ctx)
        if fresh is not ctx:
            break
        await asyncio.sleep(0.01)
    assert fresh.unrestricted
    await refresher.close()
