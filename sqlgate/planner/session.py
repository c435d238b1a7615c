"""Per-connection session state that statements read and change.

The wire layer creates one :class:`Session` per authenticated connection and hands it to every
``prepare``/``execute`` call. Session commands (SET, BEGIN, PREPARE, DECLARE …) change it; the wire
layer reads it back (transaction status byte, ParameterStatus for changed reported settings, notices).

Settings follow PostgreSQL: ``defaults`` are the values RESET returns to (built-in defaults overlaid
with the start-up packet's parameters); a SET inside a transaction block is undone by ROLLBACK, a
SET LOCAL at the end of the block either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sqlgate.pgproto.values import CodecContext
from sqlgate.planner import gucs

if TYPE_CHECKING:
    from sqlgate.auth.context import SecurityContext
    from sqlgate.errors import PgError
    from sqlgate.planner.api import Execution, PreparedStatement

TransactionStatus = Literal["I", "T", "E"]


@dataclass(eq=False)
class Session:
    """One client session. Owned by the wire connection; read and changed by statements."""

    ctx: SecurityContext
    database: str = "db"
    process_id: int = 0
    client_address: str = ""
    tls: bool = False  # the client connection is encrypted (pg_stat_ssl shows it)
    # The server's statement_timeout in seconds (None: no server limit): the session default, and a
    # ceiling that a session's SET may go below but not above (a gateway protects its datasources).
    max_statement_timeout: float | None = None
    # Rows one statement (or one DECLAREd cursor, over all its FETCHes) may return; 0: no limit.
    max_result_rows: int = 0
    settings: dict[str, str] = field(default_factory=dict)
    transaction_status: TransactionStatus = "I"
    # Named prepared statements: protocol-level (Parse) and SQL-level (PREPARE) share one namespace.
    prepared: dict[str, PreparedStatement] = field(default_factory=dict)
    # SQL-level cursors (DECLARE … CURSOR); protocol portals are kept by the wire connection.
    cursors: dict[str, Execution] = field(default_factory=dict)
    # Notices (WARNING/NOTICE PgErrors) raised by a statement; the wire sends and clears them.
    notices: list[PgError] = field(default_factory=list)
    # Cursors declared without HOLD: closed when the transaction block ends.
    transaction_cursors: set[str] = field(default_factory=set)
    # Values RESET goes back to: built-in defaults overlaid with the start-up parameters.
    defaults: dict[str, str] = field(default_factory=dict)
    # Settings as they were when the transaction block began (restored by ROLLBACK).
    _tx_snapshot: dict[str, str] | None = field(default=None, repr=False)
    # Settings changed by SET LOCAL in this block: name -> value to restore when the block ends.
    _local_restore: dict[str, str] = field(default_factory=dict, repr=False)
    _savepoints: list[tuple[str, dict[str, str]]] = field(default_factory=list, repr=False)
    _codec_key: tuple[str, str] | None = field(default=None, repr=False)
    _codec: CodecContext | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.defaults:
            base = dict(gucs.DEFAULTS)
            username = getattr(self.ctx, "username", None)
            if username:
                base["session_authorization"] = username
            if self.max_statement_timeout:
                base["statement_timeout"] = gucs.normalize_value(
                    "statement_timeout", f"{round(self.max_statement_timeout * 1000)}ms"
                )[1]
            base.update(self.settings)
            self.defaults = base
        self.settings = dict(self.defaults)

    # ------------------------------------------------------------------ settings

    def get_setting(self, name: str) -> str:
        """The current value of ``name`` (any case); 42704 when unknown."""
        canonical = gucs.canonical_name(name)
        value = self.settings.get(canonical)
        if value is None:
            from sqlgate.errors import UNDEFINED_OBJECT, PgError

            raise PgError(UNDEFINED_OBJECT, f'unrecognized configuration parameter "{name}"')
        return value

    def set_setting(self, name: str, value: str, *, local: bool = False) -> str:
        """Validate and apply ``SET name = value``; returns the canonical name."""
        canonical, normalized = gucs.normalize_value(name, value)
        if local:
            if self.transaction_status == "I":
                return canonical  # PostgreSQL warns and ignores it; the caller adds the warning
            self._local_restore.setdefault(canonical, self.settings.get(canonical, ""))
        self.settings[canonical] = normalized
        return canonical

    def reset_setting(self, name: str) -> None:
        """``RESET name``."""
        guc = gucs.lookup(name)
        canonical = gucs.canonical_name(name)
        if guc is not None and guc.read_only:
            from sqlgate.errors import CANT_CHANGE_RUNTIME_PARAM, PgError

            raise PgError(CANT_CHANGE_RUNTIME_PARAM, f'parameter "{guc.name}" cannot be changed')
        if canonical in self.defaults:
            self.settings[canonical] = self.defaults[canonical]
        else:
            self.settings.pop(canonical, None)

    def reset_all(self) -> None:
        """``RESET ALL``: every setting back to its session default."""
        self.settings = dict(self.defaults)

    def reported_settings(self) -> dict[str, str]:
        """The settings clients are told about with ParameterStatus, with their current values."""
        return {name: self.settings.get(name, "") for name in gucs.REPORTED}

    def codec_context(self) -> CodecContext:
        """How values are written for this session (time zone, float digits); cached."""
        key = (self.settings.get("TimeZone", "UTC"), self.settings.get("extra_float_digits", "1"))
        if key != self._codec_key or self._codec is None:
            try:
                digits = int(key[1])
            except ValueError:
                digits = 1
            self._codec = CodecContext(gucs.resolve_timezone(key[0]), digits)
            self._codec_key = key
        return self._codec

    def statement_timeout(self) -> float | None:
        """The effective statement timeout in seconds, or None when off: the session's
        ``statement_timeout`` capped by the server's (``SET statement_timeout = 0`` or a larger value
        is accepted, as tools send it, but cannot lift the server's limit)."""
        try:
            ms = gucs.parse_milliseconds(self.settings.get("statement_timeout", "0"))
        except ValueError:
            ms = 0
        own = ms / 1000 if ms > 0 else None
        cap = self.max_statement_timeout or None
        if own is None:
            return cap
        return own if cap is None else min(own, cap)

    # ------------------------------------------------------------------ transaction block

    def begin(self) -> None:
        """Enter a transaction block (the caller checked that none is open)."""
        self.transaction_status = "T"
        self._tx_snapshot = dict(self.settings)
        self._local_restore = {}
        self._savepoints = []

    def end_transaction(self, *, commit: bool) -> None:
        """Leave the block: COMMIT keeps SETs, ROLLBACK (or COMMIT of a failed block) undoes them."""
        if not commit and self._tx_snapshot is not None:
            self.settings = self._tx_snapshot
        else:
            self.settings.update(self._local_restore)
        self.transaction_status = "I"
        self._tx_snapshot = None
        self._local_restore = {}
        self._savepoints = []
        self.settings["transaction_isolation"] = self.settings.get(
            "default_transaction_isolation", "read committed"
        )

    def fail_transaction(self) -> None:
        """An error inside a transaction block: it is now aborted (status E)."""
        if self.transaction_status == "T":
            self.transaction_status = "E"

    def savepoint(self, name: str) -> None:
        self._savepoints.append((name.lower(), dict(self.settings)))

    def rollback_to_savepoint(self, name: str) -> bool:
        """Undo to the savepoint (kept); False when there is no such savepoint."""
        for index in range(len(self._savepoints) - 1, -1, -1):
            if self._savepoints[index][0] == name.lower():
                self.settings = dict(self._savepoints[index][1])
                del self._savepoints[index + 1 :]
                self.transaction_status = "T"
                return True
        return False

    def release_savepoint(self, name: str) -> bool:
        for index in range(len(self._savepoints) - 1, -1, -1):
            if self._savepoints[index][0] == name.lower():
                del self._savepoints[index:]
                return True
        return False
