"""Authentication seen from a socket: methods offered, failures that look alike, garbage in the exchange."""

from __future__ import annotations

import contextlib
import random
import statistics
import struct
import time

import pytest

from sqlgate.auth.passwords import hash_password
from sqlgate.auth.store import InMemoryCredentialStore
from sqlgate.auth.verifier import make_verifier
from sqlgate.gateway import Gateway
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from tests.support.contexts import make_login
from tests.support.gateways import password_of, running_gateway
from tests.support.rawpg import RawPg, errors, rows


async def test_scram_and_cleartext_users(gateway: Gateway) -> None:
    for user, method in (("alice", be.AuthenticationSASL), ("bob", be.AuthenticationCleartextPassword)):
        conn = await RawPg.connect(gateway.port)
        messages = await conn.startup(user, password_of(user))
        assert isinstance(messages[0], method)
        assert isinstance(messages[-1], be.ReadyForQuery)
        assert rows(await conn.query("SELECT current_user")) == [[user]]
        await conn.close()


@pytest.mark.parametrize("user", ["outsider"])
async def test_non_member_gets_28000(gateway: Gateway, user: str) -> None:
    conn = await RawPg.connect(gateway.port)
    messages = await conn.startup(user, password_of(user))
    assert errors(messages) == ["28000"] and "not a member of the team" in messages[-1].message
    assert await conn.closed()


async def test_garbage_instead_of_a_password_is_fatal(gateway: Gateway) -> None:
    conn = await RawPg.connect(gateway.port)
    await conn.send(fe.StartupMessage({"user": "alice", "database": "db"}))
    assert isinstance(await conn.recv(), be.AuthenticationSASL)
    await conn.send(b"p" + struct.pack("!i", 9) + b"\x00\x01\x02\x03\xff")
    error = await conn.recv()
    assert isinstance(error, be.ErrorResponse) and error.severity == "FATAL" and error.code == "08P01"
    conn = await RawPg.connect(gateway.port)
    await conn.send(fe.StartupMessage({"user": "alice", "database": "db"}))
    await conn.recv()
    await conn.send(fe.Query("SELECT 1"))  # not a password message
    error = await conn.recv()
    assert isinstance(error, be.ErrorResponse) and "expected password response" in error.message


@pytest.mark.parametrize("method", ["auto", "password"])
async def test_unknown_user_and_wrong_password_take_the_same_time(method: str) -> None:
    # A production-like bcrypt cost, so the check itself (tens of ms) rather than the scheduling noise
    # of a busy machine decides what is compared.
    store = InMemoryCredentialStore(
        [
            make_login(
                "alice",
                stored_password=hash_password(password_of("alice"), 10),
                scram_verifier=make_verifier(password_of("alice")),
            )
        ]
    )
    async with running_gateway(store, auth_failure_delay_max=0.0, password_method=method) as gw:

        async def attempt(user: str) -> float:
            conn = await RawPg.connect(gw.port)
            started = time.perf_counter()
            messages = await conn.startup(user, "not-the-password")
            elapsed = time.perf_counter() - started
            assert errors(messages) == ["28P01"]
            assert messages[-1].message == f'password authentication failed for user "{user}"'
            await conn.close()
            return elapsed

        await attempt("alice")
        await attempt("nobody")
        known, unknown = [], []
        for _ in range(15):
            known.append(await attempt("alice"))
            unknown.append(await attempt("nobody"))
        # The fastest of interleaved attempts is what the work itself costs; medians also carry the
        # scheduling noise of a loaded machine, which says nothing about an oracle for user names.
        ratio = min(unknown) / min(known)
        assert 0.5 < ratio < 2.0, (
            min(known),
            min(unknown),
            statistics.median(known),
            statistics.median(unknown),
        )


async def test_random_garbage_never_disturbs_other_sessions(gateway: Gateway) -> None:
    steady = await RawPg.connect(gateway.port)
    await steady.startup("alice", password_of("alice"))
    rnd = random.Random(20240601)
    for i in range(40):
        conn = await RawPg.connect(gateway.port)
        if i % 2:
            await conn.startup("alice", password_of("alice"))
        payload = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 400)))
        if i % 4 == 1:  # well-framed messages of random types and bodies
            payload = b"".join(
                bytes([rnd.choice(b"PBDECSHQdcfpF?")]) + struct.pack("!i", len(body) + 4) + body
                for body in (bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 40))) for _ in range(5))
            )
        with contextlib.suppress(ConnectionError):
            await conn.send(payload)
        await conn.close()
        assert rows(await steady.query(f"SELECT {i}")) == [[str(i)]]
    await steady.close()
