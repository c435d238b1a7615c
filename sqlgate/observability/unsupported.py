"""Capture mode: every statement sqlgate could not answer, appended to a file as JSON lines.

``sqlgate serve --log-unsupported FILE`` collects, in one session of a new tool, exactly the
statements that need work: those refused as not supported (SQLSTATE 0A000, any route) and catalog
statements naming an object the catalog lacks (42P01 relation, 42883 function, 42704 object). One
line per statement::

    {"time": "2025-01-31T12:00:00.123456+00:00", "user": "u_1234", "application_name": "DBeaver 24.1",
     "sqlstate": "42883", "message": "function pg_foo() does not exist", "sql": "SELECT pg_foo()"}

The SQL is the client's text as sent (it may hold literals the client typed, never bound parameter
values, passwords or datasource settings). Writes are appended and flushed per line, so several
gateway processes may share one file.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import threading

from sqlgate.errors import (
    FEATURE_NOT_SUPPORTED,
    UNDEFINED_FUNCTION,
    UNDEFINED_OBJECT,
    UNDEFINED_TABLE,
    PgError,
)

log = logging.getLogger("sqlgate.unsupported")

# Catalog errors meaning "the catalog has no such object".
MISSING_CATALOG_OBJECT = frozenset({UNDEFINED_TABLE, UNDEFINED_FUNCTION, UNDEFINED_OBJECT})


def is_unsupported(error: PgError, kind: str) -> bool:
    """Whether a statement that failed with ``error`` (on route ``kind``) belongs in the capture file."""
    if error.sqlstate == FEATURE_NOT_SUPPORTED:
        return True
    return (error.statement_kind or kind) == "catalog" and error.sqlstate in MISSING_CATALOG_OBJECT


class UnsupportedLog:
    """Appends capture records to ``path`` (created if missing)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        # O_APPEND: each line is one write at the end of the file, even with several writers.
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        self.count = 0

    def record(self, *, user: str, application_name: str, error: PgError, sql: str) -> None:
        """Append one record (never raises: capture must not break a session)."""
        line = json.dumps(
            {
                "time": datetime.datetime.now(datetime.UTC).isoformat(),
                "user": user,
                "application_name": application_name,
                "sqlstate": error.sqlstate,
                "message": error.message,
                "sql": sql,
            },
            ensure_ascii=False,
        )
        try:
            with self._lock:
                os.write(self._fd, (line + "\n").encode("utf-8"))
                self.count += 1
        except OSError as exc:
            log.warning("cannot write to the unsupported-statement log %s: %s", self.path, exc.strerror)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)
