"""Value codecs. Text output and binary encodings are compared with what a real PostgreSQL writes
(its ``*send`` functions give the binary form as bytea)."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlgate.errors import PgError
from sqlgate.pgproto import oids
from sqlgate.pgproto.values import (
    CodecContext,
    Interval,
    RowEncoder,
    decode_value,
    encode_value,
    format_float4,
    format_float8,
    format_interval,
    parse_array_text,
    parse_interval,
    text_decoder,
)

_AS_TEXT = "SELECT array_agg(v::{}::text ORDER BY i) FROM unnest($1::float8[]) WITH ORDINALITY AS t(v, i)"


@pytest.fixture(scope="module")
async def pg(pg_server) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(pg_server.url)
    await conn.execute("SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET IntervalStyle = 'postgres'")
    try:
        yield conn
    finally:
        await conn.close()


def _float_samples() -> list[float]:
    rnd = random.Random(7)
    values = [
        0.0,
        -0.0,
        0.1,
        1 / 3,
        1e15,
        1e14,
        1e16,
        123456789012345.6,
        1e-4,
        1e-5,
        5e-324,
        1.7976931348623157e308,
        -2.5,
        100.0,
        1e22,
        3.4911812265905752e16,
        54667517925.41315,
    ]
    values += [rnd.uniform(-1e20, 1e20) for _ in range(100)]
    values += [math.ldexp(rnd.random(), rnd.randint(-70, 70)) for _ in range(200)]
    return values


async def test_float_text_matches_postgres(pg: asyncpg.Connection) -> None:
    values = _float_samples()
    expected8 = await pg.fetchval(
        _AS_TEXT.format("float8"),
        values,
    )
    assert [format_float8(v) for v in values] == expected8
    small = [v for v in values if v == 0 or 1e-37 < abs(v) < 3e38]
    expected4 = await pg.fetchval(
        _AS_TEXT.format("float4"),
        small,
    )
    assert [format_float4(v) for v in small] == expected4


async def test_float_specials_and_low_extra_float_digits(pg: asyncpg.Connection) -> None:
    for text in ("NaN", "Infinity", "-Infinity"):
        assert format_float8(float(text.replace("Infinity", "inf"))) == text
    values = _float_samples()[:40]
    await pg.execute("SET extra_float_digits = 0")
    try:
        expected = await pg.fetchval(
            _AS_TEXT.format("float8"),
            values,
        )
    finally:
        await pg.execute("SET extra_float_digits = 1")
    assert [format_float8(v, 0) for v in values] == expected


@pytest.mark.parametrize(
    "text",
    ["1.5", "1e20", "-0.000", "0", "123.4500", "1E-10", "-12345678901234567890.123", "NaN", "Infinity"],
)
async def test_numeric_text_matches_postgres(pg: asyncpg.Connection, text: str) -> None:
    expected = await pg.fetchval("SELECT $1::numeric::text", text)
    assert encode_value(Decimal(text), oids.NUMERIC).decode() == expected


def test_numeric_accepts_int_float_str() -> None:
    assert encode_value(10**20, oids.NUMERIC) == b"100000000000000000000"
    assert encode_value(0.1, oids.NUMERIC) == b"0.1"
    assert encode_value(1e20, oids.NUMERIC) == b"100000000000000000000"
    assert encode_value(" 2.50 ", oids.NUMERIC) == b"2.50"


@pytest.mark.parametrize(
    ("months", "days", "usec"),
    [
        (0, 0, 0),
        (14, 3, 14_705_500_000),
        (-14, -3, -14_400_000_000),
        (0, -1, 79_200_000_000),
        (1, 0, 0),
        (0, 1, 0),
        (-1, 5, -1),
        (0, 0, -7_200_000_000),
        (25, 0, 1),
        (0, 0, 86_400_000_000 * 3),
    ],
)
async def test_interval_text_matches_postgres(
    pg: asyncpg.Connection, months: int, days: int, usec: int
) -> None:
    expected = await pg.fetchval(f"SELECT make_interval(0, {months}, 0, {days}, 0, 0, {usec} / 1e6)::text")
    assert format_interval(months, days, usec) == expected
    assert parse_interval(expected) == Interval(months, days, usec)


async def test_datetime_text_matches_postgres(pg: asyncpg.Connection) -> None:
    ts = datetime(2024, 3, 1, 12, 30, 5, 120000)
    assert (
        encode_value(ts, oids.TIMESTAMP)
        == (await pg.fetchval("SELECT '2024-03-01 12:30:05.12'::timestamp::text")).encode()
    )
    assert encode_value(date(33, 1, 2), oids.DATE) == b"0033-01-02"
    assert encode_value(time(1, 2, 3, 500), oids.TIME) == b"01:02:03.0005"
    await pg.execute("SET TimeZone = 'Asia/Kolkata'")
    try:
        expected = await pg.fetchval("SELECT '2024-03-01 12:30:05+00'::timestamptz::text")
    finally:
        await pg.execute("SET TimeZone = 'UTC'")
    ctx = CodecContext(ZoneInfo("Asia/Kolkata"))
    aware = datetime(2024, 3, 1, 12, 30, 5, tzinfo=UTC)
    assert encode_value(aware, oids.TIMESTAMPTZ, 0, ctx).decode() == expected == "2024-03-01 18:00:05+05:30"
    # naive means UTC for timestamptz; aware becomes UTC for timestamp
    assert encode_value(datetime(2024, 3, 1, 12, 30, 5), oids.TIMESTAMPTZ) == b"2024-03-01 12:30:05+00"
    berlin = datetime(2024, 7, 1, 14, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert encode_value(berlin, oids.TIMESTAMP) == b"2024-07-01 12:00:00"


def test_lenient_encoders() -> None:
    assert encode_value(Decimal("42"), oids.INT8) == b"42"
    assert encode_value(Decimal("42"), oids.INT8, 1) == (42).to_bytes(8, "big")
    assert encode_value(True, oids.INT4) == b"1"
    assert encode_value(object.__new__(object), oids.TEXT).startswith(b"<object")
    assert encode_value(b"\x00\xff", oids.BYTEA) == b"\\x00ff"
    assert encode_value(timedelta(hours=25, minutes=1), oids.TIME) == b"25:01:00"
    assert encode_value({"a": [1, "x"]}, oids.JSONB) == b'{"a": [1, "x"]}'
    assert encode_value('{"raw": true}', oids.JSON) == b'{"raw": true}'
    assert encode_value(uuid.UUID(int=1), oids.UUID) == b"00000000-0000-0000-0000-000000000001"
    assert encode_value(True, oids.BOOL) == b"t" and encode_value("false", oids.BOOL) == b"f"
    assert (
        encode_value(["a b", None, 'q"', "", "NULL", "x"], oids.TEXT_ARRAY)
        == b'{"a b",NULL,"q\\"","","NULL",x}'
    )


BINARY_CASES = [
    (oids.BOOL, True, "true::bool", "boolsend"),
    (oids.INT2, -5, "-5::int2", "int2send"),
    (oids.INT4, 2**31 - 1, "2147483647::int4", "int4send"),
    (oids.INT8, -(2**63), "(-9223372036854775808)::int8", "int8send"),
    (oids.OID, 4294967295, "4294967295::oid", "oidsend"),
    (oids.FLOAT4, 1.5, "1.5::float4", "float4send"),
    (oids.FLOAT8, -0.1, "-0.1::float8", "float8send"),
    (oids.NUMERIC, Decimal("0"), "0::numeric", "numeric_send"),
    (oids.NUMERIC, Decimal("-12345.678900"), "-12345.678900::numeric", "numeric_send"),
    (oids.NUMERIC, Decimal("0.00012"), "0.00012::numeric", "numeric_send"),
    (oids.NUMERIC, Decimal("100000000"), "100000000::numeric", "numeric_send"),
    (oids.NUMERIC, Decimal("1E+20"), "1e20::numeric", "numeric_send"),
    (oids.NUMERIC, Decimal("NaN"), "'NaN'::numeric", "numeric_send"),
    (oids.NUMERIC, Decimal("-Infinity"), "'-Infinity'::numeric", "numeric_send"),
    (oids.TEXT, "héllo", "'héllo'::text", "textsend"),
    (oids.BYTEA, b"\x00\x01", "'\\x0001'::bytea", "byteasend"),
    (oids.DATE, date(1999, 12, 31), "'1999-12-31'::date", "date_send"),
    (oids.TIME, time(23, 59, 59, 999999), "'23:59:59.999999'::time", "time_send"),
    (oids.TIMESTAMP, datetime(1970, 1, 1, 0, 0, 1), "'1970-01-01 00:00:01'::timestamp", "timestamp_send"),
    (
        oids.TIMESTAMPTZ,
        datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=2))),
        "'2024-01-01 00:00+02'::timestamptz",
        "timestamptz_send",
    ),
    (
        oids.INTERVAL,
        Interval(14, -3, 5_000_000),
        "'1 year 2 mons -3 days 5 seconds'::interval",
        "interval_send",
    ),
    (
        oids.UUID,
        uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
        "uuid_send",
    ),
    (oids.JSONB, '{"a": 1}', "'{\"a\": 1}'::jsonb", "jsonb_send"),
    (oids.INT4_ARRAY, [1, None, 3], "'{1,NULL,3}'::int4[]", "array_send"),
    (oids.OID_ARRAY, [23, 25], "'{23,25}'::oid[]", "array_send"),
    (oids.TEXT_ARRAY, [], "'{}'::text[]", "array_send"),
]


@pytest.mark.parametrize(("type_oid", "value", "literal", "send"), BINARY_CASES, ids=lambda v: str(v)[:20])
async def test_binary_matches_postgres_send(
    pg: asyncpg.Connection, type_oid: int, value: object, literal: str, send: str
) -> None:
    expected = await pg.fetchval(f"SELECT {send}({literal})")
    assert encode_value(value, type_oid, 1) == expected
    decoded = decode_value(expected, type_oid, 1)
    if isinstance(value, Decimal) and value.is_nan():
        assert decoded.is_nan()
    elif type_oid == oids.INTERVAL:
        assert decoded == value
    else:
        assert decoded == value


@settings(max_examples=200, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_numeric_binary_round_trip(value: Decimal) -> None:
    back = decode_value(encode_value(value, oids.NUMERIC, 1), oids.NUMERIC, 1)
    assert back == value
    assert str(back) == str(decode_value(encode_value(back, oids.NUMERIC, 1), oids.NUMERIC, 1))


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_timestamp_round_trips(value: datetime) -> None:
    assert decode_value(encode_value(value, oids.TIMESTAMP, 1), oids.TIMESTAMP, 1) == value
    assert decode_value(encode_value(value, oids.TIMESTAMP, 0), oids.TIMESTAMP, 0) == value


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False))
def test_float8_text_round_trips(value: float) -> None:
    assert decode_value(encode_value(value, oids.FLOAT8), oids.FLOAT8) == value


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
        )
    )
)
def test_text_array_round_trip(items: list[str | None]) -> None:
    assert decode_value(encode_value(items, oids.TEXT_ARRAY), oids.TEXT_ARRAY) == items
    assert decode_value(encode_value(items, oids.TEXT_ARRAY, 1), oids.TEXT_ARRAY, 1) == items


@pytest.mark.parametrize(
    ("type_oid", "text", "sqlstate"),
    [
        (oids.INT4, "abc", "22P02"),
        (oids.INT2, "40000", "22003"),
        (oids.BOOL, "maybe", "22P02"),
        (oids.DATE, "31/31/2020", "22007"),
        (oids.UUID, "xyz", "22P02"),
        (oids.NUMERIC, "1_000", "22P02"),
        (oids.JSON, "{", "22P02"),
        (oids.INT4_ARRAY, "{1,", "22P02"),
        (oids.TEXT, "a\x00b", "22021"),
    ],
)
def test_bad_text_input_raises_the_right_sqlstate(type_oid: int, text: str, sqlstate: str) -> None:
    with pytest.raises(PgError) as info:
        decode_value(text.encode(), type_oid, 0)
    assert info.value.sqlstate == sqlstate


@pytest.mark.parametrize(
    ("type_oid", "data"),
    [(oids.INT4, b"\x00"), (oids.NUMERIC, b"\x00\x01"), (oids.UUID, b"1234"), (oids.OID_ARRAY, b"\x00" * 5)],
)
def test_bad_binary_input_raises_22p03(type_oid: int, data: bytes) -> None:
    with pytest.raises(PgError) as info:
        decode_value(data, type_oid, 1)
    assert info.value.sqlstate == "22P03"


def test_text_decoders_accept_postgres_spellings() -> None:
    assert text_decoder(oids.BOOL)(b" YES ") is True
    assert text_decoder(oids.FLOAT8)(b"-Infinity") == -math.inf
    assert text_decoder(oids.BYTEA)(b"\\x00ff") == b"\x00\xff"
    assert text_decoder(oids.BYTEA)(b"a\\\\b\\001") == b"a\\b\x01"
    assert text_decoder(oids.TIMESTAMPTZ, CodecContext(ZoneInfo("Europe/Berlin")))(
        b"2024-01-01 12:00"
    ) == datetime(2024, 1, 1, 11, 0, tzinfo=UTC)
    assert text_decoder(oids.INTERVAL)(b"1 day 02:00:00") == timedelta(days=1, hours=2)
    assert text_decoder(oids.INTERVAL)(b"P1Y2M") == Interval(14, 0, 0)
    assert parse_array_text('[0:1]={"a,b",\\"c}', str) == ["a,b", '"c']
    assert parse_array_text("{{1,2},{3,4}}", int) == [[1, 2], [3, 4]]


def test_row_encoder_builds_data_rows() -> None:
    enc = RowEncoder([oids.INT4, oids.TEXT, oids.FLOAT8], [0, 1, 0])
    data = enc.encode_rows([(1, "a", 0.5), (None, "", None)])
    assert data == (
        b"D\x00\x00\x00\x17\x00\x03\x00\x00\x00\x011\x00\x00\x00\x01a\x00\x00\x00\x030.5"
        b"D\x00\x00\x00\x12\x00\x03\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff"
    )
    with pytest.raises(PgError) as info:
        RowEncoder([oids.INT4, oids.TEXT], [0, 1, 0])
    assert info.value.sqlstate == "08P01"


@pytest.mark.parametrize("text", [b"Infinity", b"-Infinity 1 year", b"1 Infinity", b"NaN days"])
def test_interval_text_with_infinite_numbers_is_22007(text: bytes) -> None:
    # Found by tests/fuzz: Decimal("Infinity") made int() raise OverflowError (an internal error).
    with pytest.raises(PgError) as info:
        decode_value(text, oids.INTERVAL)
    assert info.value.sqlstate == "22007"


@pytest.mark.parametrize(
    "text", [b"2147483648 mons", b"3000000000 days", b"P99999999999Y", b"99999999999999 hours"]
)
def test_interval_fields_out_of_range_are_22015(text: bytes) -> None:
    # PostgreSQL stores months and days as int32 and microseconds as int64; "1e9999 years" used to
    # become an interval of a 10,000-digit number of months.
    with pytest.raises(PgError) as info:
        decode_value(text, oids.INTERVAL)
    assert info.value.sqlstate == "22015"
