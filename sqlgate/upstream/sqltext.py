"""Quoting for the few statements sqlgate composes itself on a PostgreSQL it administers.

Statements over data come from sqlglot trees; these helpers serve the administration of the catalog
server (role and database names, passwords), where PostgreSQL's utility commands have no sqlglot
form. Both assume ``standard_conforming_strings = on`` (every connection sqlgate opens sets it).
"""

from __future__ import annotations

from sqlgate.errors import INVALID_PARAMETER_VALUE, PgError


def _check(text: str) -> str:
    if "\x00" in text:
        raise PgError(INVALID_PARAMETER_VALUE, "a name or value contains a NUL character")
    return text


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted identifier."""
    return '"' + _check(name).replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """``value`` as a single-quoted string literal."""
    return "'" + _check(value).replace("'", "''") + "'"
