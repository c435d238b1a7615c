"""Fuzzing the protocol codec (sqlgate.pgproto) and the start-up/SCRAM parsers built on it.

Every outcome must be a parsed message, a value, or a :class:`PgError` with a protocol SQLSTATE —
never another exception, and never an allocation sized by a length the client declared.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sqlgate.auth.scram import ScramExchange, ScramFailed
from sqlgate.auth.verifier import make_verifier, parse_verifier
from sqlgate.errors import PgError
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto import oids
from sqlgate.pgproto.base import FrontendMessage
from sqlgate.pgproto.parser import BackendParser, FrontendParser, InvalidMessage, ProtocolError
from sqlgate.pgproto.values import BINARY_FORMAT, TEXT_FORMAT, decode_value
from sqlgate.wire.startup import read_startup
from tests.fuzz import wire_strategies as ws
from tests.fuzz.profile import fuzz_settings

# SQLSTATE classes a malformed message or value may produce.
CODEC_CLASSES = ("08", "22", "0A", "42", "28")


def _started_parser(max_size: int = 1 << 20) -> FrontendParser:
    parser = FrontendParser(max_size)
    parser.feed(fe.StartupMessage({"user": "u"}).encode())
    assert isinstance(parser.next_message(), fe.StartupMessage)
    return parser


def _drain(parser: FrontendParser) -> tuple[list[Any], ProtocolError | None]:
    """Every message the parser yields, and the fatal error that ended the stream (if any)."""
    out: list[Any] = []
    try:
        while (msg := parser.next_message()) is not None:
            out.append(msg)
    except ProtocolError as exc:
        return out, exc
    return out, None


def _check_message(msg: Any) -> None:
    if isinstance(msg, InvalidMessage):
        assert isinstance(msg.error, PgError)
        assert msg.error.sqlstate[:2] in CODEC_CLASSES, msg.error
    else:
        assert isinstance(
            msg, FrontendMessage | fe.StartupMessage | fe.SSLRequest | fe.GSSENCRequest | fe.CancelRequest
        )


@fuzz_settings(150)
@given(message=ws.frontend_messages())
def test_valid_frontend_messages_round_trip(message: Any) -> None:
    parser = _started_parser()
    parser.feed(message.encode())
    got = parser.next_message()
    if isinstance(message, fe.PasswordMessage | fe.SASLInitialResponse | fe.SASLResponse):
        # The three 'p' messages arrive as raw bytes; the auth exchange decodes them by context.
        assert isinstance(got, fe.AuthenticationResponse)
        assert type(message).decode(got.data) == message
    else:
        assert got == message
    assert parser.next_message() is None and parser.buffered == 0


@fuzz_settings(300)
@given(data=ws.raw_or_mutated_stream(), pieces=st.data())
def test_mutated_frontend_streams_parse_or_fail_with_08p01(data: bytes, pieces: st.DataObject) -> None:
    parser = _started_parser()
    for chunk in pieces.draw(ws.chunked(data)):
        parser.feed(chunk)
    messages, fatal = _drain(parser)
    for msg in messages:
        _check_message(msg)
    if fatal is not None:
        assert fatal.sqlstate == "08P01" and fatal.severity == "FATAL"
    # Nothing is buffered beyond what was received.
    assert parser.buffered <= len(data)


@fuzz_settings(200)
@given(data=ws.mutated_startup())
def test_mutated_startup_phase_parses_or_fails_with_08p01(data: bytes) -> None:
    parser = FrontendParser()
    parser.feed(data)
    messages, fatal = _drain(parser)
    for msg in messages:
        _check_message(msg)
    if fatal is not None:
        assert fatal.sqlstate == "08P01" and fatal.severity == "FATAL"


@fuzz_settings(200)
@given(type_byte=st.sampled_from(sorted(fe.FRONTEND_TYPES)), body=st.binary(max_size=64))
def test_random_bodies_decode_or_raise_pg_error(type_byte: bytes, body: bytes) -> None:
    classes = [fe.FRONTEND_TYPES[type_byte]]
    if type_byte == b"p":
        classes += [fe.PasswordMessage, fe.SASLInitialResponse, fe.SASLResponse]
    for cls in classes:
        try:
            cls.decode(body)
        except PgError as exc:
            assert exc.sqlstate in ("08P01", "22021"), exc


@fuzz_settings(150)
@given(message=ws.startup_packets().filter(lambda m: isinstance(m, fe.StartupMessage)))
def test_startup_parameters_give_a_request_or_a_fatal_error(message: fe.StartupMessage) -> None:
    try:
        request = read_startup(message)
    except PgError as exc:
        assert exc.severity == "FATAL" and exc.sqlstate[:2] in ("0A", "28", "42", "22", "08"), exc
    else:
        assert request.user


def _backend_samples() -> list[bytes]:
    fields = [be.FieldDescription("a", 23, 4), be.FieldDescription("b", 25, -1, -1, 1, 16384, 2)]
    messages: list[Any] = [
        be.AuthenticationOk(),
        be.AuthenticationSASL(("SCRAM-SHA-256",)),
        be.AuthenticationSASLContinue(b"r=abc,s=xyz,i=4096"),
        be.AuthenticationMD5Password(b"salt"),
        be.ParameterStatus("server_version", "16.0"),
        be.BackendKeyData(42, b"\x00\x01\x02\x03"),
        be.ReadyForQuery("I"),
        be.RowDescription(tuple(fields)),
        be.DataRow((b"1", None, b"xyz")),
        be.CommandComplete("SELECT 1"),
        be.ParameterDescription((23, 25)),
        be.ErrorResponse({"S": "ERROR", "C": "42P01", "M": "nope"}),
        be.NegotiateProtocolVersion(fe.PROTOCOL_3_0, ("_pq_.x",)),
    ]
    return [m.encode() for m in messages]


@fuzz_settings(200)
@given(data=st.data())
def test_mutated_backend_streams_parse_or_raise_pg_error(data: st.DataObject) -> None:
    samples = data.draw(st.lists(st.sampled_from(_backend_samples()), min_size=1, max_size=4))
    stream = data.draw(ws.mutated(b"".join(samples)))
    parser = BackendParser(max_message_size=1 << 20)
    parser.feed(stream)
    try:
        while parser.next_message() is not None:
            pass
    except PgError as exc:
        assert exc.sqlstate[:2] in ("08", "22"), exc


# Every type the codec knows, plus their array types and a few it does not.
ALL_OIDS = sorted(set(oids.TYPES_BY_OID) | {0, 1, 99999, 2**32 - 1})
VALUE_BYTES = st.one_of(
    st.binary(max_size=24),
    st.sampled_from(
        [
            b"NaN",
            b"-Infinity",
            b"1e999999999",
            b"9" * 5000,
            b"-0",
            b"infinity",
            b"{1,2,{3}}",
            b'{"a\\"b",NULL}',
            b"[1:2]={1,2}",
            b"0000-00-00",
            b"99999-12-31",
            b"2024-02-30",
            b"24:00:00",
            b"1 year 2 mons -3 days 04:05:06",
            b"P1Y2M3DT4H5M6S",
            b"@ 1 day ago",
            b"\\x00ff",
            b"\\xzz",
            b"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x17\x7f\xff\xff\xff\x00\x00\x00\x01",
            b"\x00\x01\x7f\xff\x00\x00\x7f\xff",
        ]
    ),
)


@fuzz_settings(400)
@given(type_oid=st.sampled_from(ALL_OIDS), fmt=st.sampled_from([TEXT_FORMAT, BINARY_FORMAT]), raw=VALUE_BYTES)
def test_value_decoders_return_a_value_or_raise_pg_error(type_oid: int, fmt: int, raw: bytes) -> None:
    try:
        decode_value(raw, type_oid, fmt)
    except PgError as exc:
        assert exc.sqlstate[:2] in ("22", "42", "0A", "08"), exc


@fuzz_settings(150)
@given(
    mechanism=st.sampled_from(["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "PLAIN", ""]),
    first=st.one_of(
        st.binary(max_size=60),
        st.sampled_from(
            [b"n,,n=,r=abc", b"y,,n=,r=abc", b"p=tls-server-end-point,,n=,r=abc", b"n,,n=u,r=\xff"]
        ).flatmap(ws.mutated),
    ),
    final=st.binary(max_size=120),
)
def test_scram_messages_answer_or_raise_pg_error(mechanism: str, first: bytes, final: bytes) -> None:
    verifier = parse_verifier(make_verifier("pw", iterations=4096))
    assert verifier is not None
    exchange = ScramExchange(verifier, channel_binding=None, plus_offered=False)
    try:
        exchange.client_first(mechanism, first)
        exchange.client_final(final)
    except ScramFailed:
        pass
    except PgError as exc:
        assert exc.sqlstate in ("08P01", "28000", "22021"), exc


def test_declared_huge_lengths_allocate_nothing() -> None:
    """A length word promising almost the maximum message size does not make the parser allocate it."""
    parser = _started_parser(max_size=16 << 20)
    tracemalloc.start()
    try:
        parser.feed(b"Q" + ((16 << 20) - 1).to_bytes(4, "big") + b"SELECT")
        assert parser.next_message() is None
        bind = b"B" + (40).to_bytes(4, "big") + b"\x00\x00" + b"\x7f\xff" + b"\x7f\xff" + b"\x7f\xff\xff\xff"
        other = _started_parser()
        other.feed(bind + b"\x00" * 27)
        (msg,) = list(other)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(msg, InvalidMessage) and msg.error.sqlstate == "08P01"
    assert peak < 1 << 20
