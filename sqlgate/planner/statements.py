"""Statements answered inside the gateway (session commands, builtins, the empty statement).

An :class:`InProcessStatement` runs its work when the portal is first fetched (Execute), not at Bind,
so that a Bind without Execute has no effect, as in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from sqlgate.errors import SYNTAX_ERROR, PgError
from sqlgate.planner.api import (
    BoundParams,
    Execution,
    PreparedStatement,
    ResultColumn,
    RowBatch,
    StatementKind,
)

if TYPE_CHECKING:
    from sqlgate.planner.session import Session

# First words of statements that change data or schema: refused with 25006 (sqlgate is read-only), also
# when sqlglot cannot parse them.
WRITE_WORDS = frozenset(
    {"insert", "update", "delete", "merge", "create", "drop", "alter", "truncate", "grant", "revoke",
     "comment", "copy"}
)  # fmt: skip

# The work of a statement: returns (rows, command tag).
Runner = Callable[["Session", BoundParams], Awaitable[tuple[list[tuple[Any, ...]], str]]]


class InProcessExecution(Execution):
    """Rows computed in-process, returned in slices of ``max_rows``."""

    def __init__(
        self, columns: Sequence[ResultColumn] | None, run: Callable[[], Awaitable[tuple[list, str]]]
    ):
        self.columns = columns
        self._run = run
        self._rows: list[tuple[Any, ...]] | None = None
        self._pos = 0
        self._tag = ""

    async def fetch(self, max_rows: int = 0) -> tuple[RowBatch, bool]:
        if self._rows is None:
            self._rows, self._tag = await self._run()
        rows = self._rows
        start = self._pos
        end = len(rows) if max_rows <= 0 else min(len(rows), start + max_rows)
        self._pos = end
        batch = rows[start:end] if (start or end != len(rows)) else rows
        return RowBatch(rows=batch, count=len(batch)), end >= len(rows)

    def command_tag(self) -> str:
        return self._tag


class InProcessStatement(PreparedStatement):
    """A statement whose result the gateway computes itself."""

    def __init__(
        self,
        kind: StatementKind,
        sql: str,
        run: Runner,
        *,
        columns: list[ResultColumn] | None = None,
        param_oids: Sequence[int] = (),
        allowed_in_failed_transaction: bool = False,
    ) -> None:
        self.kind = kind
        self.sql = sql
        self.columns = columns
        self.param_oids = list(param_oids)
        self.allowed_in_failed_transaction = allowed_in_failed_transaction
        self._run = run

    async def execute(
        self, session: Session, params: BoundParams, result_formats: Sequence[int]
    ) -> Execution:
        return InProcessExecution(self.columns, lambda: self._run(session, params))


async def _no_rows(session: Session, params: BoundParams) -> tuple[list, str]:
    return [], ""


def empty_statement(sql: str) -> InProcessStatement:
    """An empty query (only whitespace or comments): Execute answers EmptyQueryResponse."""
    return InProcessStatement("empty", sql, _no_rows, allowed_in_failed_transaction=True)


def text_column(name: str) -> ResultColumn:
    """A text result column (SHOW results)."""
    from sqlgate.pgproto import oids

    return ResultColumn(name, oids.TEXT)


def parse_statement(sql: str) -> exp.Expression:
    """Parse one statement with sqlglot (postgres); a failure is a 42601 with its position."""
    try:
        return sqlglot.parse_one(sql, read="postgres")
    except ParseError as exc:
        raise _syntax_error(sql, exc) from None
    except TokenError as exc:
        raise PgError(SYNTAX_ERROR, f"syntax error: {exc}") from None
    except Exception:  # sqlglot fails on some malformed input with other errors (TypeError …)
        raise PgError(SYNTAX_ERROR, "syntax error: the statement cannot be parsed") from None


def _syntax_error(sql: str, exc: ParseError) -> PgError:
    info = exc.errors[0] if exc.errors else {}
    highlight = str(info.get("highlight") or "").strip()
    line, col = info.get("line"), info.get("col")
    position = None
    if isinstance(line, int) and isinstance(col, int):
        lines = sql.split("\n")
        offset = sum(len(x) + 1 for x in lines[: line - 1]) + col - len(highlight)
        position = max(offset, 0) + 1
    if highlight:
        return PgError(SYNTAX_ERROR, f'syntax error at or near "{highlight}"', position=position)
    return PgError(SYNTAX_ERROR, "syntax error at end of input", position=len(sql) + 1)
