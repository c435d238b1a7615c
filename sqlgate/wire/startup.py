"""The start-up packet: protocol version negotiation and connection parameters. Pure functions.

PostgreSQL's rules: major version 3 only (else FATAL 0A000); a newer 3.x minor, or ``_pq_.`` protocol
options, get a NegotiateProtocolVersion naming 3.0 and the options not understood, and the
connection continues. ``user`` is required; ``database`` defaults to it; ``options`` may carry
``-c name=value`` settings; every other parameter is a setting, validated like SET.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlgate.errors import FEATURE_NOT_SUPPORTED, INVALID_AUTHORIZATION_SPECIFICATION, PgError
from sqlgate.pgproto.backend import NegotiateProtocolVersion
from sqlgate.pgproto.frontend import PROTOCOL_3_0, StartupMessage, protocol_major, protocol_minor
from sqlgate.planner import gucs

NEWEST_MINOR = 0


@dataclass
class StartupRequest:
    """What the client asked for in its start-up packet."""

    user: str
    database: str
    settings: dict[str, str] = field(default_factory=dict)  # canonical name -> canonical value
    negotiate: NegotiateProtocolVersion | None = None


def parse_options(text: str) -> list[tuple[str, str]]:
    """``-c name=value`` / ``--name=value`` pairs of the ``options`` parameter (backslash escapes
    spaces, as libpq documents)."""
    words: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch.isspace():
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-c" and i + 1 < len(words):
            item = words[i + 1]
            i += 2
        elif word.startswith("-c") or word.startswith("--"):
            item = word[2:]
            i += 1
        else:
            raise PgError(
                "42601",
                f"invalid command-line argument for server process: {word}",
                severity="FATAL",
                hint='Try "-c name=value".',
            )
        name, sep, value = item.partition("=")
        if not sep:
            raise PgError(
                "42601", f"invalid command-line argument for server process: {item}", severity="FATAL"
            )
        pairs.append((name.replace("-", "_"), value))
    return pairs


def read_startup(msg: StartupMessage) -> StartupRequest:
    """Validate a StartupMessage; raises a FATAL PgError when the connection cannot continue."""
    major, minor = protocol_major(msg.protocol_version), protocol_minor(msg.protocol_version)
    if major != 3:
        raise PgError(
            FEATURE_NOT_SUPPORTED,
            f"unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.{NEWEST_MINOR}",
            severity="FATAL",
        )
    params = dict(msg.parameters)
    unrecognized = tuple(name for name in params if name.startswith("_pq_."))
    negotiate = None
    if minor > NEWEST_MINOR or unrecognized:
        negotiate = NegotiateProtocolVersion(PROTOCOL_3_0 | NEWEST_MINOR, unrecognized)
    user = params.get("user", "")
    if not user:
        raise PgError(
            INVALID_AUTHORIZATION_SPECIFICATION,
            "no PostgreSQL user name specified in startup packet",
            severity="FATAL",
        )
    replication = params.get("replication", "false").lower()
    if replication not in ("false", "off", "no", "0"):
        raise PgError(FEATURE_NOT_SUPPORTED, "replication connections are not supported", severity="FATAL")
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if name in ("user", "database", "replication") or name.startswith("_pq_."):
            continue
        if name == "options":
            pairs.extend(parse_options(value))
        else:
            pairs.append((name, value))
    settings: dict[str, str] = {}
    for name, value in pairs:
        try:
            canonical, normalized = gucs.normalize_value(name, value)
        except PgError as exc:
            raise PgError(
                exc.sqlstate, exc.message, severity="FATAL", detail=exc.detail, hint=exc.hint
            ) from None
        settings[canonical] = normalized
    return StartupRequest(
        user=user, database=params.get("database") or user, settings=settings, negotiate=negotiate
    )
