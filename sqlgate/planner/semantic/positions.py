"""Select-list positions in GROUP BY and ORDER BY (``GROUP BY 1``, ``ORDER BY 2 DESC``)."""

from __future__ import annotations

from sqlglot import exp

from sqlgate.errors import INVALID_COLUMN_REFERENCE, SYNTAX_ERROR, PgError


def select_position(literal: exp.Literal, clause: str, count: int) -> int:
    """The 1-based position a numeric literal names in a select list of ``count`` items.

    As PostgreSQL: 42601 for a non-integer constant (``ORDER BY 1.5``, ``ORDER BY 1e3``), 42P10 for a
    position outside the select list.
    """
    text = literal.this
    if not text.isdigit():
        raise PgError(SYNTAX_ERROR, f"non-integer constant in {clause}")
    position = int(text) if len(text) < 19 else count + 1
    if not 1 <= position <= count:
        raise PgError(INVALID_COLUMN_REFERENCE, f"{clause} position {text} is not in select list")
    return position
