"""Hypothesis strategies for protocol v3 messages: valid ones, and byte-level mutations of them.

Mutations are what a broken or hostile client sends: flipped and truncated bytes, extra bytes,
length words and counts overwritten with boundary values (0, -1, 2**31-1 …), NUL bytes inside
strings, invalid UTF-8, repeated or deleted chunks.
"""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto.base import CopyData, CopyDone

# Values that break length and count arithmetic.
INT32_EDGES = [0, 1, 3, 4, 5, 8, 255, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, -1, -2, -(2**31), 16 << 20]
INT16_EDGES = [0, 1, 2, 0x7FFF, -1, -2, -32768, 255, 1000]
BAD_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\x80", b"\xe2\x82", b"\x80"]
TYPE_BYTES = b"QPBDECSHXpdcfF" + b"\x00AZqrsz\xff"

texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=40,
)
names = st.one_of(st.just(""), st.sampled_from(["s1", "p1", "__asyncpg_stmt_1__", "x" * 63]), texts)
sql_texts = st.one_of(
    st.sampled_from(
        [
            "SELECT 1",
            "select $1::int",
            "SELECT status, MEASURE(count) FROM orders GROUP BY 1",
            "SET application_name = 'x'",
            "BEGIN",
            "COMMIT",
            "SHOW server_version",
            "SELECT * FROM pg_catalog.pg_type LIMIT 1",
            "",
            ";",
            "SELECT 1; SELECT 2",
            "DEALLOCATE ALL",
        ]
    ),
    texts,
)
oids_list = st.lists(
    st.sampled_from([0, 16, 20, 21, 23, 25, 700, 701, 1043, 1082, 1114, 1184, 1700, 2950]), max_size=4
)
param_values = st.lists(
    st.one_of(st.none(), st.binary(max_size=12), st.sampled_from([b"1", b"abc", b"2024-01-01"])), max_size=4
)
formats = st.lists(st.sampled_from([0, 1, 2, -1, 7]), max_size=4)


@st.composite
def bind_messages(draw: st.DrawFn) -> fe.Bind:
    params = draw(param_values)
    return fe.Bind(
        draw(names),
        draw(names),
        tuple(draw(formats)),
        tuple(params),
        tuple(draw(formats)),
    )


def frontend_messages() -> st.SearchStrategy[object]:
    """Any typed frontend message a client may send after start-up (valid encodings)."""
    return st.one_of(
        st.builds(fe.Query, sql_texts),
        st.builds(fe.Parse, names, sql_texts, oids_list.map(tuple)),
        bind_messages(),
        st.builds(fe.Describe, st.sampled_from(["S", "P", "X"]), names),
        st.builds(fe.Execute, names, st.sampled_from([0, 1, 5, -1, 2**31 - 1])),
        st.builds(fe.Close, st.sampled_from(["S", "P", "Z"]), names),
        st.just(fe.Sync()),
        st.just(fe.Flush()),
        st.builds(CopyData, st.binary(max_size=20)),
        st.just(CopyDone()),
        st.builds(fe.CopyFail, texts),
        st.builds(fe.FunctionCall, st.binary(max_size=20)),
        st.builds(fe.PasswordMessage, texts),
        st.builds(
            fe.SASLInitialResponse,
            st.sampled_from(["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "X"]),
            st.one_of(st.none(), st.binary(max_size=40)),
        ),
        st.builds(fe.SASLResponse, st.binary(max_size=40)),
    )


# A session that ends is not interesting to continue fuzzing; Terminate is sent on its own.
session_messages = frontend_messages()

startup_parameters = st.dictionaries(
    st.one_of(
        st.sampled_from(
            [
                "user",
                "database",
                "application_name",
                "options",
                "client_encoding",
                "DateStyle",
                "TimeZone",
                "extra_float_digits",
                "replication",
                "_pq_.x",
                "search_path",
                "statement_timeout",
            ]
        ),
        texts.filter(bool),
    ),
    st.one_of(
        texts, st.sampled_from(["-c statement_timeout=5", "--search_path=a", "UTF8", "ISO, MDY", "true"])
    ),
    max_size=5,
)


def startup_packets() -> st.SearchStrategy[object]:
    """Start-up phase packets (valid encodings; the parameter values may be nonsense)."""
    return st.one_of(
        st.builds(
            fe.StartupMessage,
            startup_parameters,
            st.sampled_from([fe.PROTOCOL_3_0, fe.PROTOCOL_3_0 | 2, 2 << 16, 4 << 16, 0, -1]),
        ),
        st.just(fe.SSLRequest()),
        st.just(fe.GSSENCRequest()),
        st.builds(fe.CancelRequest, st.integers(-(2**31), 2**31 - 1), st.binary(min_size=4, max_size=8)),
    )


def encode(message: object) -> bytes:
    return message.encode()  # type: ignore[attr-defined]


@st.composite
def mutated(draw: st.DrawFn, data: bytes, max_mutations: int = 4) -> bytes:
    """``data`` with 0..max_mutations byte-level mutations applied."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(0, max_mutations))):
        kind = draw(
            st.sampled_from(
                [
                    "flip",
                    "set",
                    "truncate",
                    "extend",
                    "int32",
                    "int16",
                    "nul",
                    "utf8",
                    "dup",
                    "delete",
                    "type",
                ]
            )
        )
        pos = draw(st.integers(0, len(buf))) if buf else 0
        if kind == "flip" and pos < len(buf):
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and pos < len(buf):
            buf[pos] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, ord("'"), ord("$"), ord(";")]))
        elif kind == "truncate":
            del buf[pos:]
        elif kind == "extend":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "int32" and pos + 4 <= len(buf):
            buf[pos : pos + 4] = struct.pack("!I", draw(st.sampled_from(INT32_EDGES)) & 0xFFFFFFFF)
        elif kind == "int16" and pos + 2 <= len(buf):
            buf[pos : pos + 2] = struct.pack("!H", draw(st.sampled_from(INT16_EDGES)) & 0xFFFF)
        elif kind == "nul":
            buf[pos:pos] = b"\x00"
        elif kind == "utf8":
            buf[pos:pos] = draw(st.sampled_from(BAD_UTF8))
        elif kind == "dup" and pos < len(buf):
            end = draw(st.integers(pos, min(len(buf), pos + 32)))
            buf[pos:pos] = buf[pos:end]
        elif kind == "delete" and pos < len(buf):
            end = draw(st.integers(pos, min(len(buf), pos + 8)))
            del buf[pos:end]
        elif kind == "type" and pos < len(buf):
            buf[pos] = draw(st.sampled_from(list(TYPE_BYTES)))
    return bytes(buf)


@st.composite
def mutated_stream(draw: st.DrawFn, max_messages: int = 6) -> bytes:
    """A few session messages, encoded, concatenated, then mutated (sometimes not at all)."""
    messages = draw(st.lists(session_messages, min_size=1, max_size=max_messages))
    return draw(mutated(b"".join(encode(m) for m in messages)))


@st.composite
def raw_or_mutated_stream(draw: st.DrawFn) -> bytes:
    """Mutated valid messages most of the time, pure random bytes sometimes."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=64))
    return draw(mutated_stream())


@st.composite
def mutated_startup(draw: st.DrawFn) -> bytes:
    """A start-up packet (maybe after an SSLRequest), maybe followed by messages, then mutated."""
    parts = [encode(draw(startup_packets()))]
    if draw(st.booleans()):
        parts.append(b"".join(encode(m) for m in draw(st.lists(session_messages, max_size=3))))
    return draw(mutated(b"".join(parts)))


@st.composite
def chunked(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut into random pieces (the way TCP may deliver it)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=6)))
    pieces, last = [], 0
    for cut in [*cuts, len(data)]:
        pieces.append(data[last:cut])
        last = cut
    return [p for p in pieces if p]
