"""The run-time settings (GUCs) a session has: names, defaults, validation and canonical spelling.

sqlgate answers SET/SHOW/RESET itself, so it keeps PostgreSQL's behaviour for the settings clients
touch: names are case-insensitive and shown in their canonical case (``TimeZone``), booleans read back
as ``on``/``off``, ``DateStyle`` as ``ISO, MDY``, time zones must exist. Settings that would change
the wire format beyond what sqlgate writes (a non-ISO DateStyle, another IntervalStyle, a client
encoding other than UTF8) are refused with a clear error instead of being silently ignored.
"""

from __future__ import annotations

import functools
import math
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone, tzinfo

from sqlgate import __version__
from sqlgate.errors import (
    CANT_CHANGE_RUNTIME_PARAM,
    FEATURE_NOT_SUPPORTED,
    INVALID_PARAMETER_VALUE,
    UNDEFINED_OBJECT,
    PgError,
)

# The PostgreSQL release sqlgate presents itself as (clients pick SQL variants by it).
SERVER_VERSION_NUMBER = "15.0"
SERVER_VERSION = f"{SERVER_VERSION_NUMBER} (sqlgate)"
SERVER_VERSION_NUM = "150000"


def version_string() -> str:
    """What ``version()`` returns; starts with ``PostgreSQL X.Y`` (SQLAlchemy parses it)."""
    import platform

    machine = platform.machine() or "unknown"
    return f"PostgreSQL {SERVER_VERSION_NUMBER} (sqlgate {__version__}) on {machine}-pc-linux-gnu, 64-bit"


Normalizer = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Guc:
    """One setting."""

    name: str  # canonical spelling
    default: str
    description: str
    normalize: Normalizer | None = None  # returns the canonical value or raises PgError 22023
    reported: bool = False  # sent as ParameterStatus when it changes
    read_only: bool = False


def _invalid(name: str, value: str, detail: str | None = None, hint: str | None = None) -> PgError:
    return PgError(
        INVALID_PARAMETER_VALUE, f'invalid value for parameter "{name}": "{value}"', detail=detail, hint=hint
    )


def _bool(name: str) -> Normalizer:
    def norm(value: str) -> str:
        v = value.strip().lower()
        if v in ("on", "true", "yes", "1", "t", "y", "tr", "tru", "ye"):
            return "on"
        if v in ("off", "false", "no", "0", "f", "n", "of", "fa", "fal", "fals"):
            return "off"
        raise PgError(INVALID_PARAMETER_VALUE, f'parameter "{name}" requires a Boolean value')

    return norm


def _int(name: str, low: int, high: int) -> Normalizer:
    def norm(value: str) -> str:
        try:
            number = int(value.strip())
        except ValueError:
            raise PgError(
                INVALID_PARAMETER_VALUE, f'invalid value for parameter "{name}": "{value}"'
            ) from None
        if not low <= number <= high:
            raise PgError(
                INVALID_PARAMETER_VALUE,
                f'{number} is outside the valid range for parameter "{name}" ({low} .. {high})',
            )
        return str(number)

    return norm


_TIME_UNITS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


@functools.lru_cache(maxsize=256)
def parse_milliseconds(value: str) -> int:
    """A time setting (``5000``, ``5s``, ``1min``) in milliseconds; raises ValueError."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*", value)
    if not m:
        raise ValueError(value)
    return round(float(m.group(1)) * _TIME_UNITS[m.group(2) or "ms"])


def _duration(name: str) -> Normalizer:
    def norm(value: str) -> str:
        try:
            ms = parse_milliseconds(value)
        except ValueError:
            raise _invalid(
                name, value, hint='Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".'
            ) from None
        if ms == 0:
            return "0"
        for unit, factor in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
            if ms % factor == 0:
                return f"{ms // factor}{unit}"
        return f"{ms}ms"

    return norm


def _enum(name: str, *allowed: str) -> Normalizer:
    def norm(value: str) -> str:
        v = value.strip().lower()
        for option in allowed:
            if v == option.lower():
                return option
        raise _invalid(name, value, hint="Available values: " + ", ".join(allowed) + ".")

    return norm


def _client_encoding(value: str) -> str:
    # Like PostgreSQL's clean_encoding_name: only letters and digits count ('utf-8' is UTF8).
    v = re.sub(r"[^A-Za-z0-9]", "", value).upper()
    if v in ("UTF8", "UNICODE"):
        return "UTF8"
    if v == "SQLASCII":
        return "SQL_ASCII"
    raise PgError(
        FEATURE_NOT_SUPPORTED,
        f'invalid value for parameter "client_encoding": "{value}"',
        detail="sqlgate speaks UTF8 only.",
        hint="Set the client encoding to UTF8 (PGCLIENTENCODING=UTF8).",
    )


_DATE_ORDERS = {
    "mdy": "MDY",
    "dmy": "DMY",
    "ymd": "YMD",
    "us": "MDY",
    "noneuropean": "MDY",
    "european": "DMY",
}


def _datestyle(value: str) -> str:
    order = "MDY"
    for part in re.split(r"[\s,]+", value.strip()):
        p = part.lower()
        if p in ("", "iso", "default"):
            continue
        if p in _DATE_ORDERS:
            order = _DATE_ORDERS[p]
            continue
        raise _invalid("DateStyle", value, detail="sqlgate writes dates in the ISO style only.")
    return f"ISO, {order}"


def _intervalstyle(value: str) -> str:
    if value.strip().lower() != "postgres":
        raise _invalid(
            "IntervalStyle", value, detail='sqlgate writes intervals in the "postgres" style only.'
        )
    return "postgres"


def _standard_conforming_strings(value: str) -> str:
    if _bool("standard_conforming_strings")(value) != "on":
        raise PgError(FEATURE_NOT_SUPPORTED, "sqlgate requires standard_conforming_strings to be on")
    return "on"


def _application_name(value: str) -> str:
    # PostgreSQL keeps printable ASCII only (others become '?') and truncates to NAMEDATALEN-1 bytes.
    cleaned = "".join(c if 32 <= ord(c) < 127 else "?" for c in value)
    return cleaned[:63]


def _timezone(value: str) -> str:
    name = canonical_timezone(value)
    if name is None:
        raise _invalid("TimeZone", value)
    return name


_OFFSET_NAME = re.compile(r"<([+-])(\d{2})(?::(\d{2}))?>[+-]\d{2}(?::\d{2})?")


@functools.cache
def _zone_names() -> dict[str, str]:
    try:
        names = zoneinfo.available_timezones()
    except Exception:  # pragma: no cover - no tz database
        names = set()
    return {n.lower(): n for n in names}


def offset_zone_name(hours: float) -> str:
    """PostgreSQL's name for a numeric zone (``SET TIME ZONE -7`` shows ``<-07>+07``).

    PostgreSQL takes offsets below 168 hours; beyond (or NaN/infinite) it is 22023, not an
    OverflowError from ``round``.
    """
    if not math.isfinite(hours) or abs(hours) >= 168:
        raise PgError(INVALID_PARAMETER_VALUE, f'invalid value for parameter "TimeZone": "{hours:g}"')
    minutes = round(hours * 60)
    sign = "-" if minutes < 0 else "+"
    inverse = "+" if minutes < 0 else "-"
    h, m = divmod(abs(minutes), 60)
    text = f"{h:02d}" + (f":{m:02d}" if m else "")
    return f"<{sign}{text}>{inverse}{text}"


def canonical_timezone(value: str) -> str | None:
    """The canonical spelling of a time zone name, or None when it is unknown."""
    v = value.strip()
    if v.lower() in ("utc", "z", "zulu", "universal"):
        return "UTC"
    if v.lower() in ("gmt", "greenwich"):
        return "GMT"
    if _OFFSET_NAME.fullmatch(v):
        return v
    m = re.fullmatch(r"([+-]?)(\d{1,2})(?::(\d{2}))?", v)
    if m:
        hours = int(m.group(2)) + int(m.group(3) or 0) / 60
        return offset_zone_name(-hours if m.group(1) == "-" else hours)
    return _zone_names().get(v.lower())


@functools.lru_cache(maxsize=256)
def resolve_timezone(name: str) -> tzinfo:
    """The tzinfo for a canonical time zone name (UTC when it cannot be resolved)."""
    if name in ("UTC", "GMT"):
        return UTC
    m = _OFFSET_NAME.fullmatch(name)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
        return timezone(timedelta(minutes=-minutes if m.group(1) == "-" else minutes), name)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


_ISOLATION_LEVELS = ("read committed", "repeatable read", "serializable", "read uncommitted")


def _isolation(value: str) -> str:
    v = " ".join(value.strip().lower().split())
    if v in _ISOLATION_LEVELS:
        return v
    raise _invalid("transaction_isolation", value)


_GUCS: tuple[Guc, ...] = (
    Guc(
        "application_name",
        "",
        "Sets the application name to be reported in statistics and logs.",
        _application_name,
        reported=True,
    ),
    Guc(
        "client_encoding",
        "UTF8",
        "Sets the client's character set encoding.",
        _client_encoding,
        reported=True,
    ),
    Guc(
        "DateStyle",
        "ISO, MDY",
        "Sets the display format for date and time values.",
        _datestyle,
        reported=True,
    ),
    Guc(
        "IntervalStyle",
        "postgres",
        "Sets the display format for interval values.",
        _intervalstyle,
        reported=True,
    ),
    Guc(
        "TimeZone",
        "UTC",
        "Sets the time zone for displaying and interpreting time stamps.",
        _timezone,
        reported=True,
    ),
    Guc(
        "integer_datetimes", "on", "Shows whether datetimes are integer based.", reported=True, read_only=True
    ),
    Guc(
        "is_superuser", "off", "Shows whether the current user is a superuser.", reported=True, read_only=True
    ),
    Guc(
        "server_encoding",
        "UTF8",
        "Shows the server (database) character set encoding.",
        reported=True,
        read_only=True,
    ),
    Guc("server_version", SERVER_VERSION, "Shows the server version.", reported=True, read_only=True),
    Guc("server_version_num", SERVER_VERSION_NUM, "Shows the server version as an integer.", read_only=True),
    Guc("session_authorization", "", "Sets the session user name.", reported=True, read_only=True),
    Guc(
        "standard_conforming_strings",
        "on",
        "Causes '...' strings to treat backslashes literally.",
        _standard_conforming_strings,
        reported=True,
    ),
    Guc(
        "default_transaction_read_only",
        "off",
        "Sets the default read-only status of new transactions.",
        _bool("default_transaction_read_only"),
        reported=True,
    ),
    Guc(
        "in_hot_standby",
        "off",
        "Shows whether hot standby is currently active.",
        reported=True,
        read_only=True,
    ),
    Guc(
        "extra_float_digits",
        "1",
        "Sets the number of digits displayed for floating-point values.",
        _int("extra_float_digits", -15, 3),
    ),
    Guc(
        "search_path",
        '"$user", public',
        "Sets the schema search order for names that are not schema-qualified.",
    ),
    Guc(
        "statement_timeout",
        "0",
        "Sets the maximum allowed duration of any statement.",
        _duration("statement_timeout"),
    ),
    Guc(
        "lock_timeout",
        "0",
        "Sets the maximum allowed duration of any wait for a lock.",
        _duration("lock_timeout"),
    ),
    Guc(
        "idle_in_transaction_session_timeout",
        "0",
        "Sets the maximum allowed idle time between queries, when in a transaction.",
        _duration("idle_in_transaction_session_timeout"),
    ),
    Guc(
        "idle_session_timeout",
        "0",
        "Sets the maximum allowed idle time between queries, when not in a transaction.",
        _duration("idle_session_timeout"),
    ),
    Guc(
        "transaction_isolation",
        "read committed",
        "Sets the current transaction's isolation level.",
        _isolation,
    ),
    Guc(
        "default_transaction_isolation",
        "read committed",
        "Sets the transaction isolation level of each new transaction.",
        _isolation,
    ),
    Guc(
        "transaction_read_only",
        "off",
        "Sets the current transaction's read-only status.",
        _bool("transaction_read_only"),
    ),
    Guc(
        "transaction_deferrable",
        "off",
        "Whether to defer a read-only serializable transaction.",
        _bool("transaction_deferrable"),
    ),
    Guc(
        "default_transaction_deferrable",
        "off",
        "Sets the default deferrable status of new transactions.",
        _bool("default_transaction_deferrable"),
    ),
    Guc("bytea_output", "hex", "Sets the output format for bytea.", _enum("bytea_output", "hex")),
    Guc(
        "client_min_messages",
        "notice",
        "Sets the message levels that are sent to the client.",
        _enum(
            "client_min_messages",
            "debug5",
            "debug4",
            "debug3",
            "debug2",
            "debug1",
            "log",
            "notice",
            "warning",
            "error",
        ),
    ),
    Guc("jit", "off", "Allow JIT compilation.", _bool("jit")),
    Guc("lc_messages", "C", "Sets the language in which messages are displayed."),
    Guc("lc_monetary", "C", "Sets the locale for formatting monetary amounts."),
    Guc("lc_numeric", "C", "Sets the locale for formatting numbers."),
    Guc("lc_time", "C", "Sets the locale for formatting date and time values."),
    Guc("lc_collate", "C", "Shows the collation order locale.", read_only=True),
    Guc("lc_ctype", "C", "Shows the character classification and case conversion locale.", read_only=True),
    Guc("max_identifier_length", "63", "Shows the maximum identifier length.", read_only=True),
    Guc("max_index_keys", "32", "Shows the maximum number of index keys.", read_only=True),
    Guc("block_size", "8192", "Shows the size of a disk block.", read_only=True),
    Guc("row_security", "on", "Enable row security.", _bool("row_security")),
    Guc("synchronous_commit", "on", "Sets the current transaction's synchronization level."),
    Guc("work_mem", "4MB", "Sets the maximum memory to be used for query workspaces."),
    Guc(
        "escape_string_warning",
        "on",
        "Warn about backslash escapes in ordinary string literals.",
        _bool("escape_string_warning"),
    ),
    Guc("array_nulls", "on", "Enable input of NULL elements in arrays.", _bool("array_nulls")),
    Guc("backslash_quote", "safe_encoding", 'Sets whether "\\\'" is allowed in string literals.'),
    Guc(
        "quote_all_identifiers",
        "off",
        "When generating SQL fragments, quote all identifiers.",
        _bool("quote_all_identifiers"),
    ),
    Guc(
        "xmloption",
        "content",
        "Sets whether XML data in implicit parsing and serialization operations is to be "
        "considered as documents or content fragments.",
        _enum("xmloption", "content", "document"),
    ),
    Guc("geqo", "on", "Enables genetic query optimization.", _bool("geqo")),
    Guc(
        "plan_cache_mode",
        "auto",
        "Controls the planner's selection of custom or generic plan.",
        _enum("plan_cache_mode", "auto", "force_generic_plan", "force_custom_plan"),
    ),
    Guc(
        "enable_seqscan", "on", "Enables the planner's use of sequential-scan plans.", _bool("enable_seqscan")
    ),
    Guc("timezone_abbreviations", "Default", "Selects a file of time zone abbreviations."),
    Guc("default_text_search_config", "pg_catalog.english", "Sets default text search configuration."),
)

GUCS: dict[str, Guc] = {g.name.lower(): g for g in _GUCS}
REPORTED: tuple[str, ...] = tuple(g.name for g in GUCS.values() if g.reported)
DEFAULTS: dict[str, str] = {g.name: g.default for g in GUCS.values()}


def lookup(name: str) -> Guc | None:
    """The setting called ``name`` (case-insensitive), or None."""
    return GUCS.get(name.lower())


def is_custom(name: str) -> bool:
    """A two-part name (``myapp.setting``): PostgreSQL accepts these as placeholders."""
    return "." in name and all(part for part in name.split("."))


def canonical_name(name: str) -> str:
    """The canonical spelling (custom names are lower-cased, like PostgreSQL)."""
    guc = lookup(name)
    if guc is not None:
        return guc.name
    if is_custom(name):
        return name.lower()
    raise PgError(UNDEFINED_OBJECT, f'unrecognized configuration parameter "{name}"')


def normalize_value(name: str, value: str, *, allow_read_only: bool = False) -> tuple[str, str]:
    """(canonical name, canonical value) for ``SET name = value``; raises PgError when refused."""
    guc = lookup(name)
    if guc is None:
        if is_custom(name):
            return name.lower(), value
        raise PgError(UNDEFINED_OBJECT, f'unrecognized configuration parameter "{name}"')
    if guc.read_only and not allow_read_only:
        raise PgError(CANT_CHANGE_RUNTIME_PARAM, f'parameter "{guc.name}" cannot be changed')
    if guc.normalize is not None:
        value = guc.normalize(value)
    return guc.name, value
