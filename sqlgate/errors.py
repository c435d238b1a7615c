"""The one error type every layer raises: a PostgreSQL error with its SQLSTATE.

The wire layer turns a :class:`PgError` into an ErrorResponse as is; anything else that escapes a layer
is a bug and is reported to the client as ``XX000 internal error`` (and logged with its traceback).
Messages must never contain secrets (passwords, hashes, datasource credentials).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class PgError(Exception):
    """An error the client sees as an ErrorResponse (or, with severity FATAL, as the last message)."""

    sqlstate: str
    message: str
    severity: str = "ERROR"
    detail: str | None = None
    hint: str | None = None
    position: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Which planner route refused the statement ("catalog", "semantic", …): set by the dispatcher so
    # metrics and the capture of unsupported statements know it. Never sent to the client.
    statement_kind: str | None = field(default=None, compare=False)
    # What the query log records of a statement refused after planning (an AuditInfo: the members
    # it touched, no generated SQL). Never sent to the client.
    audit: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.sqlstate}: {self.message}"


# SQLSTATE codes used across sqlgate (PostgreSQL Appendix A). Named constants keep call sites readable.
SUCCESSFUL_COMPLETION = "00000"
WARNING = "01000"
CONNECTION_EXCEPTION = "08000"
CONNECTION_FAILURE = "08006"
PROTOCOL_VIOLATION = "08P01"
FEATURE_NOT_SUPPORTED = "0A000"
INVALID_PARAMETER_VALUE = "22023"
DATA_EXCEPTION = "22000"
INVALID_TEXT_REPRESENTATION = "22P02"
INVALID_DATETIME_FORMAT = "22007"
DATETIME_FIELD_OVERFLOW = "22008"
INTERVAL_FIELD_OVERFLOW = "22015"
CHARACTER_NOT_IN_REPERTOIRE = "22021"
NUMERIC_VALUE_OUT_OF_RANGE = "22003"
DIVISION_BY_ZERO = "22012"
INVALID_BINARY_REPRESENTATION = "22P03"
INVALID_CURSOR_STATE = "24000"
INVALID_TRANSACTION_STATE = "25000"
ACTIVE_SQL_TRANSACTION = "25001"
NO_ACTIVE_SQL_TRANSACTION = "25P01"
IN_FAILED_SQL_TRANSACTION = "25P02"
READ_ONLY_SQL_TRANSACTION = "25006"
INVALID_SQL_STATEMENT_NAME = "26000"
INVALID_AUTHORIZATION_SPECIFICATION = "28000"
INVALID_PASSWORD = "28P01"
INVALID_CURSOR_NAME = "34000"
SYNTAX_ERROR = "42601"
INSUFFICIENT_PRIVILEGE = "42501"
UNDEFINED_TABLE = "42P01"
UNDEFINED_COLUMN = "42703"
UNDEFINED_FUNCTION = "42883"
AMBIGUOUS_FUNCTION = "42725"
UNDEFINED_OBJECT = "42704"
DUPLICATE_PREPARED_STATEMENT = "42P05"
DUPLICATE_CURSOR = "42P03"
AMBIGUOUS_COLUMN = "42702"
GROUPING_ERROR = "42803"
WINDOWING_ERROR = "42P20"
DATATYPE_MISMATCH = "42804"
INDETERMINATE_DATATYPE = "42P18"
WRONG_OBJECT_TYPE = "42809"
INVALID_COLUMN_REFERENCE = "42P10"
TOO_MANY_CONNECTIONS = "53300"
CONFIGURATION_LIMIT_EXCEEDED = "53400"
PROGRAM_LIMIT_EXCEEDED = "54000"
QUERY_CANCELED = "57014"
ADMIN_SHUTDOWN = "57P01"
CANNOT_CONNECT_NOW = "57P03"
SYSTEM_ERROR = "58000"
INTERNAL_ERROR = "XX000"
UNDEFINED_PARAMETER = "42704"
CANT_CHANGE_RUNTIME_PARAM = "55P02"


def feature_not_supported(what: str, *, hint: str | None = None) -> PgError:
    """0A000 naming the unsupported thing."""
    return PgError(FEATURE_NOT_SUPPORTED, what, hint=hint)


def internal_error(message: str = "internal error") -> PgError:
    """XX000; used when an unexpected exception must be reported without leaking internals."""
    return PgError(INTERNAL_ERROR, message)
