"""PostgreSQL built-in type OIDs (from pg_type.dat) and their fixed sizes.

These numbers are part of the wire protocol: clients decode result columns by OID.
"""

from __future__ import annotations

from dataclasses import dataclass

BOOL = 16
BYTEA = 17
CHAR = 18
NAME = 19
INT8 = 20
INT2 = 21
INT2VECTOR = 22
INT4 = 23
REGPROC = 24
TEXT = 25
OID = 26
TID = 27
XID = 28
CID = 29
OIDVECTOR = 30
JSON = 114
XML = 142
PG_NODE_TREE = 194
FLOAT4 = 700
FLOAT8 = 701
UNKNOWN = 705
MONEY = 790
INET = 869
ACLITEM = 1033
BPCHAR = 1042
VARCHAR = 1043
DATE = 1082
TIME = 1083
TIMESTAMP = 1114
TIMESTAMPTZ = 1184
INTERVAL = 1186
TIMETZ = 1266
BIT = 1560
VARBIT = 1562
NUMERIC = 1700
REGPROCEDURE = 2202
REGOPER = 2203
REGOPERATOR = 2204
REGCLASS = 2205
REGTYPE = 2206
VOID = 2278
RECORD = 2249
CSTRING = 2275
ANY = 2276
ANYARRAY = 2277
UUID = 2950
JSONB = 3802
REGNAMESPACE = 4089
REGROLE = 4096
REGCOLLATION = 4191

BOOL_ARRAY = 1000
BYTEA_ARRAY = 1001
CHAR_ARRAY = 1002
NAME_ARRAY = 1003
INT2_ARRAY = 1005
INT4_ARRAY = 1007
TEXT_ARRAY = 1009
VARCHAR_ARRAY = 1015
INT8_ARRAY = 1016
FLOAT4_ARRAY = 1021
FLOAT8_ARRAY = 1022
ACLITEM_ARRAY = 1034
OID_ARRAY = 1028
DATE_ARRAY = 1182
TIMESTAMP_ARRAY = 1115
TIMESTAMPTZ_ARRAY = 1185
NUMERIC_ARRAY = 1231
UUID_ARRAY = 2951
JSON_ARRAY = 199
JSONB_ARRAY = 3807
REGTYPE_ARRAY = 2211


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """What RowDescription needs about a type: its OID, name, fixed size (-1 varlena) and array OID."""

    oid: int
    name: str
    size: int
    array_oid: int = 0
    element_oid: int = 0


_TYPES: tuple[TypeInfo, ...] = (
    TypeInfo(BOOL, "bool", 1, BOOL_ARRAY),
    TypeInfo(BYTEA, "bytea", -1, BYTEA_ARRAY),
    TypeInfo(CHAR, "char", 1, CHAR_ARRAY),
    TypeInfo(NAME, "name", 64, NAME_ARRAY),
    TypeInfo(INT8, "int8", 8, INT8_ARRAY),
    TypeInfo(INT2, "int2", 2, INT2_ARRAY),
    TypeInfo(INT4, "int4", 4, INT4_ARRAY),
    TypeInfo(TEXT, "text", -1, TEXT_ARRAY),
    TypeInfo(OID, "oid", 4, OID_ARRAY),
    TypeInfo(JSON, "json", -1, JSON_ARRAY),
    TypeInfo(FLOAT4, "float4", 4, FLOAT4_ARRAY),
    TypeInfo(FLOAT8, "float8", 8, FLOAT8_ARRAY),
    TypeInfo(UNKNOWN, "unknown", -2),
    TypeInfo(BPCHAR, "bpchar", -1),
    TypeInfo(VARCHAR, "varchar", -1, VARCHAR_ARRAY),
    TypeInfo(DATE, "date", 4, DATE_ARRAY),
    TypeInfo(TIME, "time", 8),
    TypeInfo(TIMESTAMP, "timestamp", 8, TIMESTAMP_ARRAY),
    TypeInfo(TIMESTAMPTZ, "timestamptz", 8, TIMESTAMPTZ_ARRAY),
    TypeInfo(INTERVAL, "interval", 16),
    TypeInfo(NUMERIC, "numeric", -1, NUMERIC_ARRAY),
    TypeInfo(UUID, "uuid", 16, UUID_ARRAY),
    TypeInfo(JSONB, "jsonb", -1, JSONB_ARRAY),
    TypeInfo(REGCLASS, "regclass", 4),
    TypeInfo(REGTYPE, "regtype", 4, REGTYPE_ARRAY),
    TypeInfo(REGPROC, "regproc", 4),
    TypeInfo(VOID, "void", 4),
    TypeInfo(BOOL_ARRAY, "_bool", -1, 0, BOOL),
    TypeInfo(INT2_ARRAY, "_int2", -1, 0, INT2),
    TypeInfo(INT4_ARRAY, "_int4", -1, 0, INT4),
    TypeInfo(INT8_ARRAY, "_int8", -1, 0, INT8),
    TypeInfo(TEXT_ARRAY, "_text", -1, 0, TEXT),
    TypeInfo(NAME_ARRAY, "_name", -1, 0, NAME),
    TypeInfo(VARCHAR_ARRAY, "_varchar", -1, 0, VARCHAR),
    TypeInfo(OID_ARRAY, "_oid", -1, 0, OID),
    TypeInfo(FLOAT4_ARRAY, "_float4", -1, 0, FLOAT4),
    TypeInfo(FLOAT8_ARRAY, "_float8", -1, 0, FLOAT8),
    TypeInfo(NUMERIC_ARRAY, "_numeric", -1, 0, NUMERIC),
    TypeInfo(DATE_ARRAY, "_date", -1, 0, DATE),
    TypeInfo(TIMESTAMP_ARRAY, "_timestamp", -1, 0, TIMESTAMP),
    TypeInfo(TIMESTAMPTZ_ARRAY, "_timestamptz", -1, 0, TIMESTAMPTZ),
    TypeInfo(UUID_ARRAY, "_uuid", -1, 0, UUID),
    TypeInfo(JSON_ARRAY, "_json", -1, 0, JSON),
    TypeInfo(JSONB_ARRAY, "_jsonb", -1, 0, JSONB),
)

TYPES_BY_OID: dict[int, TypeInfo] = {t.oid: t for t in _TYPES}
TYPES_BY_NAME: dict[str, TypeInfo] = {t.name: t for t in _TYPES}


def type_size(oid: int) -> int:
    """The typlen RowDescription reports for ``oid`` (-1 for variable length or unknown types)."""
    info = TYPES_BY_OID.get(oid)
    return info.size if info is not None else -1
