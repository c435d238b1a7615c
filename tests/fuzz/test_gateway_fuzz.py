"""Fuzzing a running gateway over real sockets, before and after authentication.

One in-process gateway (the real semantic planner on the DuckDB dataset) takes mutated start-up
packets and mutated message streams. For every case: the bad connection gets only well-formed
messages (ErrorResponses with a proper SQLSTATE, never XX000) and is closed, answered, or left
waiting for the bytes its length words promised — never crashes the server; a good connection
running at the same time gets the right answer; a new login still works; nothing is logged as an
internal error.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqlgate.errors import PgError
from sqlgate.gateway import Gateway
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto.parser import BackendParser
from sqlgate.planner.semantic import PlanCache, prepare_semantic
from tests.fuzz import wire_strategies as ws
from tests.fuzz.planner_harness import RecordingSource
from tests.fuzz.profile import fuzz_settings
from tests.support.gateways import password_of, running_gateway
from tests.support.rawpg import RawPg, errors, rows
from tests.support.semantic_harness import StaticModels, StaticSources, fixture_model

GOOD_QUERY = "SELECT status, MEASURE(count) FROM orders GROUP BY 1 ORDER BY 1"
# How long a bad connection may stay silent before it counts as waiting for more input.
QUIET_SECONDS = 0.1
# Longest a case may take before it counts as a hang.
HANG_SECONDS = 10


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Target:
    gateway: Gateway
    good: RawPg
    expected: list[list[str | None]]
    log: _Collect
    cases: int = 0
    notes: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def error_log() -> Iterator[_Collect]:
    handler = _Collect()
    logger = logging.getLogger("sqlgate")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture(scope="module")
async def target(fuzz_duckdb_source: RecordingSource, error_log: _Collect) -> AsyncIterator[Target]:
    semantic = functools.partial(
        prepare_semantic,
        models=StaticModels(fixture_model()),
        sources=StaticSources(fuzz_duckdb_source),
        plan_cache=PlanCache(),
    )
    async with running_gateway(semantic=semantic, startup_timeout=5.0) as gateway:
        good = await RawPg.connect(gateway.port)
        answer = await good.startup("alice", password_of("alice"))
        assert isinstance(answer[-1], be.ReadyForQuery), answer
        expected = rows(await good.query(GOOD_QUERY))
        assert expected and all(len(r) == 2 for r in expected)
        yield Target(gateway, good, expected, error_log)
        await good.close()


async def _read_answer(conn: RawPg) -> tuple[list[Any], str]:
    """Messages the server sent, and how the exchange ended: "closed" or "quiet" (waiting)."""
    parser = BackendParser(max_message_size=1 << 24)
    messages: list[Any] = []
    while True:
        try:
            data = await asyncio.wait_for(conn.reader.read(65536), QUIET_SECONDS)
        except TimeoutError:
            return messages, "quiet"
        except (ConnectionError, OSError):
            return messages, "closed"
        if not data:
            return messages, "closed"
        parser.feed(data)
        # Single-byte answers to SSLRequest/GSSENCRequest ('N') come before any typed message.
        while parser.buffered and parser._buf[parser._pos : parser._pos + 1] == b"N" and not messages:
            parser._pos += 1
        try:
            messages.extend(parser)
        except PgError as exc:  # the server must only send well-formed messages
            raise AssertionError(f"malformed server output: {exc}") from None


def _check_answer(messages: list[Any]) -> None:
    for code in errors(messages) + [m.code for m in messages if isinstance(m, be.ErrorResponse)]:
        assert len(code) == 5 and code[:2] != "XX", f"bad SQLSTATE {code}: {messages}"


async def _check_gateway_serves(target: Target) -> None:
    """The long-lived good connection and a brand-new login both still get the right answers."""
    answer = await target.good.query(GOOD_QUERY)
    assert rows(answer) == target.expected, answer
    target.cases += 1
    if target.cases % 10 == 0:
        fresh = await RawPg.connect(target.gateway.port)
        try:
            login = await fresh.startup("alice", password_of("alice"))
            assert isinstance(login[-1], be.ReadyForQuery), login
            assert rows(await fresh.query("SELECT MEASURE(count) FROM orders")) == [
                [str(sum(int(r[1]) for r in target.expected))]
            ]
        finally:
            await fresh.close()
    internal = [r.getMessage() for r in target.log.records]
    target.log.records.clear()
    assert not internal, f"errors logged: {internal}"


async def _bad_connection(target: Target, pieces: list[bytes], *, login: bool) -> None:
    conn = await RawPg.connect(target.gateway.port)
    try:
        if login:
            answer = await conn.startup("alice", password_of("alice"))
            assert isinstance(answer[-1], be.ReadyForQuery), answer
        for piece in pieces:
            conn.writer.write(piece)
            with contextlib.suppress(ConnectionError):
                await conn.writer.drain()
        messages, _ = await _read_answer(conn)
        _check_answer(messages)
    finally:
        conn.writer.close()
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await asyncio.wait_for(conn.writer.wait_closed(), 2)


async def _case(target: Target, pieces: list[bytes], *, login: bool) -> None:
    async with asyncio.timeout(HANG_SECONDS):
        # The bad connection and a good query at the same time, then a check once it is over.
        await asyncio.gather(_bad_connection(target, pieces, login=login), target.good.query(GOOD_QUERY))
        await _check_gateway_serves(target)


@fuzz_settings(40, weight=0.05)
@given(data=st.data())
async def test_mutated_startup_before_authentication(target: Target, data: st.DataObject) -> None:
    stream = data.draw(ws.mutated_startup())
    await _case(target, data.draw(ws.chunked(stream)), login=False)


@fuzz_settings(50, weight=0.05)
@given(data=st.data())
async def test_mutated_messages_after_authentication(target: Target, data: st.DataObject) -> None:
    stream = data.draw(ws.raw_or_mutated_stream())
    # A trailing well-formed query: answered when the framing survived the mutations.
    stream += fe.Query("SELECT MEASURE(count) FROM orders").encode()
    await _case(target, data.draw(ws.chunked(stream)), login=True)


@fuzz_settings(30, weight=0.02)
@given(data=st.data())
async def test_mutated_password_exchange(target: Target, data: st.DataObject) -> None:
    """A well-formed start-up, then mutated password/SASL messages."""
    startup = fe.StartupMessage({"user": data.draw(st.sampled_from(["alice", "bob", "nobody"]))}).encode()
    auth = data.draw(
        st.sampled_from(
            [
                fe.SASLInitialResponse("SCRAM-SHA-256", b"n,,n=,r=abcdefghijkl").encode(),
                fe.PasswordMessage("secret-bob").encode(),
                fe.SASLInitialResponse("SCRAM-SHA-256-PLUS", b"p=tls-server-end-point,,n=,r=x").encode(),
                fe.SASLResponse(b"c=biws,r=abc,p=AAAA").encode(),
            ]
        )
    )
    stream = startup + data.draw(ws.mutated(auth))
    await _case(target, [stream], login=False)
