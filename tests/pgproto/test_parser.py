"""The incremental parsers: byte-at-a-time feeding, size limits, malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlgate.errors import PgError
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto.buffer import frame
from sqlgate.pgproto.parser import FrontendParser, InvalidMessage, ProtocolError


def _started(max_size: int = 1 << 20) -> FrontendParser:
    parser = FrontendParser(max_size)
    parser.feed(fe.StartupMessage({"user": "u"}).encode())
    assert isinstance(parser.next_message(), fe.StartupMessage)
    return parser


def test_feeding_one_byte_at_a_time_yields_each_message_once() -> None:
    stream = fe.SSLRequest().encode() + fe.StartupMessage({"user": "u"}).encode()
    messages = [fe.Parse("", "SELECT 1"), fe.Bind("", ""), fe.Execute(), fe.Sync()]
    stream += b"".join(m.encode() for m in messages)
    parser = FrontendParser()
    seen = []
    for i in range(len(stream)):
        parser.feed(stream[i : i + 1])
        seen.extend(parser)
    assert seen == [fe.SSLRequest(), fe.StartupMessage({"user": "u"}), *messages]
    assert parser.buffered == 0


def test_pipelined_messages_in_one_chunk() -> None:
    parser = _started()
    messages = [fe.Query("SELECT 1"), fe.Query("SELECT 2"), fe.Terminate()]
    parser.feed(b"".join(m.encode() for m in messages))
    assert list(parser) == messages


def test_oversized_message_is_a_fatal_protocol_violation() -> None:
    parser = _started(max_size=1000)
    parser.feed(b"Q" + (5000).to_bytes(4, "big"))
    with pytest.raises(ProtocolError) as info:
        parser.next_message()
    assert info.value.sqlstate == "08P01" and info.value.severity == "FATAL"


def test_length_word_below_four_is_fatal() -> None:
    parser = _started()
    parser.feed(b"Q\x00\x00\x00\x02")
    with pytest.raises(ProtocolError):
        parser.next_message()


@pytest.mark.parametrize("length", [0, 4, 7, 10001, 0x7FFFFFFF])
def test_bad_startup_lengths_are_fatal(length: int) -> None:
    parser = FrontendParser()
    parser.feed(length.to_bytes(4, "big") + b"\x00" * 8)
    with pytest.raises(ProtocolError):
        parser.next_message()


def test_malformed_body_is_an_invalid_message_and_parsing_continues() -> None:
    parser = _started()
    parser.feed(frame(b"P", b"no-terminator") + fe.Sync().encode())
    bad = parser.next_message()
    assert isinstance(bad, InvalidMessage) and bad.error.sqlstate == "08P01"
    assert parser.next_message() == fe.Sync()


def test_unknown_type_byte_is_reported_not_raised() -> None:
    parser = _started()
    parser.feed(frame(b"!", b"xyz"))
    msg = parser.next_message()
    assert isinstance(msg, fe.UnknownMessage) and msg.type_code == b"!"


def test_startup_without_terminator_is_fatal() -> None:
    body = (3 << 16).to_bytes(4, "big") + b"user\x00u\x00"
    parser = FrontendParser()
    parser.feed((len(body) + 4).to_bytes(4, "big") + body)
    with pytest.raises(ProtocolError):
        parser.next_message()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_garbage_only_ever_raises_protocol_errors(data: bytes, started: bool) -> None:
    parser = _started() if started else FrontendParser(4096)
    parser.feed(data)
    try:
        for msg in parser:
            assert msg is not None
    except ProtocolError:
        pass
    except PgError as exc:  # pragma: no cover - would be a bug
        pytest.fail(f"unexpected {exc!r}")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(b"QPBDECSHXpdcfF"), st.binary(max_size=60)), max_size=20))
def test_typed_garbage_with_valid_framing_never_raises(frames: list[tuple[int, bytes]]) -> None:
    parser = _started()
    parser.feed(b"".join(frame(bytes([t]), body) for t, body in frames))
    assert len(list(parser)) == len(frames)
