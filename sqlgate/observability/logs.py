"""Structured log lines: one ``event key=value …`` line per connection and per query (logfmt).

Values are quoted when they contain spaces, quotes or ``=``; SQL text is shortened and put on one
line. Never pass secrets (passwords, hashes, db_params) to these functions.
"""

from __future__ import annotations

import logging
from typing import Any

connection_log = logging.getLogger("sqlgate.connection")
query_log = logging.getLogger("sqlgate.query")

MAX_SQL_LENGTH = 300


def _format_value(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    if not text or any(c in text for c in ' "=\n\t\\'):
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{escaped}"'
    return text


def logfmt(event: str, fields: dict[str, Any]) -> str:
    """``event k=v k2="v 2"``."""
    return " ".join([event, *(f"{k}={_format_value(v)}" for k, v in fields.items())])


def shorten_sql(sql: str, limit: int = MAX_SQL_LENGTH) -> str:
    """SQL on one line, at most ``limit`` characters."""
    one_line = " ".join(sql.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured line (cheap when the level is disabled)."""
    if logger.isEnabledFor(level):
        logger.log(level, logfmt(event, fields))
