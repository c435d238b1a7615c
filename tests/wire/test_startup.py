"""Start-up phase: probes, protocol negotiation, parameters reported, limits, garbage."""

from __future__ import annotations

import asyncio
import struct

import pytest

from sqlgate.gateway import Gateway
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from tests.support.gateways import password_of, running_gateway
from tests.support.rawpg import Connect, RawPg, errors, kinds, rows


async def test_ssl_and_gssenc_requests_are_refused_without_tls(gateway: Gateway) -> None:
    conn = await RawPg.connect(gateway.port)
    await conn.send(fe.GSSENCRequest())
    assert await conn.read_byte() == b"N"
    await conn.send(fe.SSLRequest())
    assert await conn.read_byte() == b"N"
    messages = await conn.startup("alice", password_of("alice"))
    assert isinstance(messages[-1], be.ReadyForQuery)
    await conn.close()


async def test_session_start_reports_parameters_and_key(gateway: Gateway) -> None:
    conn = await RawPg.connect(gateway.port)
    messages = await conn.startup("alice", password_of("alice"), params={"application_name": "tests"})
    assert isinstance(messages[-1], be.ReadyForQuery) and messages[-1].status == "I"
    assert conn.params["server_version"].endswith("(sqlgate)")
    assert int(conn.params["server_version"].split(".")[0]) >= 14
    assert conn.params["server_encoding"] == "UTF8" and conn.params["client_encoding"] == "UTF8"
    assert conn.params["DateStyle"] == "ISO, MDY" and conn.params["integer_datetimes"] == "on"
    assert conn.params["standard_conforming_strings"] == "on" and conn.params["IntervalStyle"] == "postgres"
    assert conn.params["TimeZone"] == "UTC" and conn.params["is_superuser"] == "off"
    assert conn.params["application_name"] == "tests" and conn.params["session_authorization"] == "alice"
    assert conn.key is not None and conn.key.process_id > 0 and len(conn.key.secret_key) == 4
    # the key is the backend pid the session reports
    assert rows(await conn.query("SELECT pg_backend_pid()")) == [[str(conn.key.process_id)]]
    await conn.close()


async def test_newer_minor_version_and_pq_options_get_negotiate_protocol_version(gateway: Gateway) -> None:
    conn = await RawPg.connect(gateway.port)
    messages = await conn.startup(
        "alice", password_of("alice"), version=(3 << 16) | 2, params={"_pq_.grease": "x", "_pq_.other": "1"}
    )
    negotiate = messages[0]
    assert isinstance(negotiate, be.NegotiateProtocolVersion)
    assert negotiate.newest_version == 3 << 16
    assert negotiate.unrecognized_options == ("_pq_.grease", "_pq_.other")
    assert isinstance(messages[-1], be.ReadyForQuery)
    await conn.close()


@pytest.mark.parametrize("version", [(2 << 16), (4 << 16), (1234 << 16) | 1])
async def test_other_protocol_versions_are_fatal_0a000(gateway: Gateway, version: int) -> None:
    conn = await RawPg.connect(gateway.port)
    messages = await conn.startup("alice", password_of("alice"), version=version)
    assert errors(messages) == ["0A000"] and messages[-1].severity == "FATAL"
    assert "unsupported frontend protocol" in messages[-1].message
    assert await conn.closed()


async def test_missing_user_is_fatal_28000(gateway: Gateway) -> None:
    conn = await RawPg.connect(gateway.port)
    await conn.send(fe.StartupMessage({"database": "db"}))
    messages = await conn.recv_until(be.ErrorResponse)
    assert errors(messages) == ["28000"]
    assert await conn.closed()


async def test_startup_settings_and_options_apply(gateway: Gateway) -> None:
    conn = await RawPg.connect(gateway.port)
    messages = await conn.startup(
        "alice",
        password_of("alice"),
        params={
            "TimeZone": "Europe/Berlin",
            "options": "-c extra_float_digits=2 --application-name=x\\ y",
            "client_encoding": "'utf-8'",
        },
    )
    assert isinstance(messages[-1], be.ReadyForQuery)
    assert conn.params["TimeZone"] == "Europe/Berlin" and conn.params["client_encoding"] == "UTF8"
    assert conn.params["application_name"] == "x y"
    assert rows(await conn.query("SHOW extra_float_digits")) == [["2"]]
    await conn.close()


async def test_bad_startup_setting_is_fatal(gateway: Gateway) -> None:
    conn = await RawPg.connect(gateway.port)
    messages = await conn.startup("alice", password_of("alice"), params={"DateStyle": "German"})
    assert errors(messages) == ["22023"] and messages[-1].severity == "FATAL"


@pytest.mark.parametrize(
    "payload",
    [
        b"\x00\x00\x00\x02",  # length below the minimum
        b"\x7f\xff\xff\xff" + b"x" * 100,  # absurd length
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # someone speaking HTTP
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello without SSLRequest
    ],
)
async def test_garbage_start_up_closes_only_that_connection(gateway: Gateway, payload: bytes) -> None:
    bad = await RawPg.connect(gateway.port)
    await bad.send(payload)
    assert await bad.closed()
    good = await RawPg.connect(gateway.port)
    assert isinstance((await good.startup("alice", password_of("alice")))[-1], be.ReadyForQuery)
    assert rows(await good.query("SELECT 1")) == [["1"]]
    await good.close()


async def test_garbage_after_startup_is_fatal_for_that_session_only(
    gateway: Gateway, connect: Connect
) -> None:
    victim = await connect()
    bystander = await connect()
    await victim.send(b"\x01\x00\x00\x00\x08garbage!")
    messages = await victim.recv_until(be.ErrorResponse)
    assert errors(messages) == ["08P01"] and "invalid frontend message type" in messages[-1].message
    assert await victim.closed()
    assert rows(await bystander.query("SELECT 2")) == [["2"]]


async def test_oversized_message_is_fatal_08p01() -> None:
    async with running_gateway(max_message_size=4096) as gw:
        conn = await RawPg.connect(gw.port)
        await conn.startup("alice", password_of("alice"))
        await conn.send(b"Q" + struct.pack("!i", 100_000) + b"SELECT 1")
        messages = await conn.recv_until(be.ErrorResponse)
        assert errors(messages) == ["08P01"] and messages[-1].severity == "FATAL"
        assert await conn.closed()


async def test_malformed_message_body_is_an_error_not_fatal(connect: Connect) -> None:
    conn = await connect()
    await conn.send(b"P" + struct.pack("!i", 8) + b"abcd", fe.Sync())
    messages = await conn.recv_until()
    assert kinds(messages) == ["ErrorResponse", "ReadyForQuery"] and errors(messages) == ["08P01"]
    assert rows(await conn.query("SELECT 3")) == [["3"]]


async def test_too_many_connections_get_53300() -> None:
    async with running_gateway(max_connections=2) as gw:
        first, second, third = [await RawPg.connect(gw.port) for _ in range(3)]
        for conn in (first, second):
            assert isinstance((await conn.startup("alice", password_of("alice")))[-1], be.ReadyForQuery)
        messages = await third.startup("alice", password_of("alice"))
        assert errors(messages) == ["53300"] and messages[-1].message == "sorry, too many clients already"
        await first.close()
        await asyncio.sleep(0.1)
        again = await RawPg.connect(gw.port)
        assert isinstance((await again.startup("alice", password_of("alice")))[-1], be.ReadyForQuery)
        for conn in (second, again):
            await conn.close()


async def test_silent_client_is_dropped_after_the_startup_timeout() -> None:
    async with running_gateway(startup_timeout=0.3) as gw:
        silent = await RawPg.connect(gw.port)
        assert await silent.closed(timeout=3)
        slow = await RawPg.connect(gw.port)
        await slow.send(fe.StartupMessage({"user": "alice", "database": "db"}))
        messages = await slow.recv_until(be.AuthenticationSASL)
        assert kinds(messages) == ["AuthenticationSASL"]
        error = await slow.recv(timeout=3)
        assert isinstance(error, be.ErrorResponse) and error.code == "57014"
        assert await slow.closed()


async def test_idle_session_timeout() -> None:
    async with running_gateway(idle_session_timeout=0.3) as gw:
        conn = await RawPg.connect(gw.port)
        await conn.startup("alice", password_of("alice"))
        error = await conn.recv(timeout=3)
        assert isinstance(error, be.ErrorResponse) and error.code == "57P05"
        assert await conn.closed()


async def test_terminate_closes_the_socket(connect: Connect) -> None:
    conn = await connect()
    await conn.send(fe.Terminate())
    assert await conn.closed(timeout=2)
