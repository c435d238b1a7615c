"""Protocol messages: exact bytes for known messages, and encode/decode round trips both ways."""

from __future__ import annotations

import pytest

from sqlgate.errors import PgError
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto.parser import BackendParser, FrontendParser


def test_ssl_request_bytes() -> None:
    assert fe.SSLRequest().encode() == bytes.fromhex("0000000804d2162f")
    assert fe.GSSENCRequest().encode() == bytes.fromhex("0000000804d21630")


def test_startup_message_bytes() -> None:
    msg = fe.StartupMessage({"user": "u", "database": "db"})
    data = msg.encode()
    assert data == b"\x00\x00\x00\x1c\x00\x03\x00\x00user\x00u\x00database\x00db\x00\x00"


def test_ready_for_query_and_command_complete_bytes() -> None:
    assert be.ReadyForQuery("T").encode() == b"Z\x00\x00\x00\x05T"
    assert be.CommandComplete("SELECT 1").encode() == b"C\x00\x00\x00\x0dSELECT 1\x00"


FRONTEND_MESSAGES = [
    fe.Query("SELECT 1; SELECT 'é'"),
    fe.Parse("s1", "SELECT $1::int", (23,)),
    fe.Parse("", "SELECT 1", ()),
    fe.Parse("", "SELECT $1", (4294967295,)),
    fe.Bind("p", "s1", (1,), (b"\x00\x00\x00\x05", None), (0, 1)),
    fe.Bind("", "", (), (), ()),
    fe.Describe("S", "s1"),
    fe.Describe("P", ""),
    fe.Execute("p", 10),
    fe.Close("P", "p"),
    fe.Sync(),
    fe.Flush(),
    fe.Terminate(),
    fe.CopyData(b"1\t2\n"),
    fe.CopyDone(),
    fe.CopyFail("nope"),
]


@pytest.mark.parametrize("msg", FRONTEND_MESSAGES, ids=lambda m: type(m).__name__)
def test_frontend_round_trip(msg: fe.FrontendMessage) -> None:
    parser = FrontendParser()
    parser.feed(fe.StartupMessage({"user": "u"}).encode() + msg.encode())
    assert isinstance(parser.next_message(), fe.StartupMessage)
    assert parser.next_message() == msg
    assert parser.next_message() is None


def test_password_messages_share_type_p() -> None:
    parser = FrontendParser()
    parser.feed(fe.StartupMessage({"user": "u"}).encode())
    parser.next_message()
    for msg in (
        fe.PasswordMessage("secret"),
        fe.SASLInitialResponse("SCRAM-SHA-256", b"n,,n=,r=abc"),
        fe.SASLResponse(b"c=biws,r=abc,p=xyz"),
    ):
        parser.feed(msg.encode())
        raw = parser.next_message()
        assert isinstance(raw, fe.AuthenticationResponse)
        assert type(msg).decode(raw.data) == msg


@pytest.mark.parametrize(
    "packet",
    [
        fe.SSLRequest(),
        fe.GSSENCRequest(),
        fe.CancelRequest(1234, b"\x01\x02\x03\x04"),
        fe.StartupMessage({"user": "alice", "application_name": "x"}, (3 << 16) | 2),
    ],
    ids=lambda m: type(m).__name__,
)
def test_startup_packets_round_trip(packet: fe.StartupPacket) -> None:
    parser = FrontendParser()
    parser.feed(packet.encode())
    assert parser.next_message() == packet


BACKEND_MESSAGES = [
    be.AuthenticationOk(),
    be.AuthenticationCleartextPassword(),
    be.AuthenticationMD5Password(b"abcd"),
    be.AuthenticationSASL(("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
    be.AuthenticationSASLContinue(b"r=abc,s=c2FsdA==,i=4096"),
    be.AuthenticationSASLFinal(b"v=xyz"),
    be.ParameterStatus("server_version", "15.0 (sqlgate)"),
    be.BackendKeyData(77, b"\x00\x01\x02\x03"),
    be.ReadyForQuery("E"),
    be.NegotiateProtocolVersion(3 << 16, ("_pq_.foo",)),
    be.RowDescription((be.FieldDescription("a", 23, 4), be.FieldDescription("b", 25, -1, -1, 1, 99, 2))),
    be.DataRow((b"1", None, b"")),
    be.CommandComplete("SELECT 3"),
    be.EmptyQueryResponse(),
    be.ParseComplete(),
    be.BindComplete(),
    be.CloseComplete(),
    be.NoData(),
    be.ParameterDescription((23, 25, 4294967295)),
    be.PortalSuspended(),
    be.CopyInResponse(0, (0, 0)),
    be.CopyOutResponse(1, (1,)),
    be.CopyData(b"x"),
    be.CopyDone(),
    be.NotificationResponse(1, "chan", "payload"),
    be.ErrorResponse.from_error(PgError("42P01", 'relation "x" does not exist', position=15, hint="h")),
    be.NoticeResponse.from_error(PgError("01000", "careful", severity="WARNING")),
]


@pytest.mark.parametrize("msg", BACKEND_MESSAGES, ids=lambda m: type(m).__name__)
def test_backend_round_trip(msg: be.BackendMessage) -> None:
    parser = BackendParser()
    parser.feed(msg.encode())
    assert parser.next_message() == msg
    assert parser.next_message() is None


def test_error_response_fields_and_back() -> None:
    err = PgError("57014", "canceling statement due to user request", detail="d")
    msg = be.ErrorResponse.decode(be.error_response(err)[5:])
    assert msg.code == "57014" and msg.severity == "ERROR" and msg.message == err.message
    back = msg.to_error()
    assert (back.sqlstate, back.message, back.detail) == ("57014", err.message, "d")


def test_fast_encoders_match_message_classes() -> None:
    assert be.ParseComplete().encode() == be.PARSE_COMPLETE
    assert be.PortalSuspended().encode() == be.PORTAL_SUSPENDED
    assert be.ready_for_query("I") == be.ReadyForQuery("I").encode()
    err = PgError("XX000", "boom")
    assert be.error_response(err) == be.ErrorResponse.from_error(err).encode()
