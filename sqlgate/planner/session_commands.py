"""Session statements answered in-process, with PostgreSQL's tags, warnings and errors.

SET / RESET / SHOW (``SET TIME ZONE``, ``SET SESSION CHARACTERISTICS``, ``SHOW ALL``,
``SHOW TRANSACTION ISOLATION LEVEL`` …), BEGIN / START TRANSACTION / COMMIT / END / ROLLBACK / ABORT,
SAVEPOINT / RELEASE / ROLLBACK TO, DISCARD, PREPARE / EXECUTE / DEALLOCATE, DECLARE / FETCH / MOVE /
CLOSE (forward-only cursors over any statement the planner can run), UNLISTEN.

These statements are recognised by their first keyword and parsed from tokens (sqlglot treats most
of them as opaque commands). The work happens when the statement executes, not when it is prepared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlgate.errors import (
    ACTIVE_SQL_TRANSACTION,
    DUPLICATE_CURSOR,
    DUPLICATE_PREPARED_STATEMENT,
    FEATURE_NOT_SUPPORTED,
    INVALID_CURSOR_NAME,
    INVALID_SQL_STATEMENT_NAME,
    NO_ACTIVE_SQL_TRANSACTION,
    SYNTAX_ERROR,
    UNDEFINED_OBJECT,
    PgError,
)
from sqlgate.pgproto import oids
from sqlgate.pgproto.datarows import decode_rows
from sqlgate.pgproto.values import TEXT_FORMAT, Decoder, decoder
from sqlgate.planner import gucs
from sqlgate.planner.api import BoundParams, Execution, PreparedStatement, ResultColumn, RowBatch
from sqlgate.planner.lexer import NUMBER, OP, PARAM, QUOTED_IDENT, STRING, WORD, Token, significant_tokens
from sqlgate.planner.limits import RowLimitedExecution
from sqlgate.planner.statements import InProcessStatement, text_column

if TYPE_CHECKING:
    from sqlgate.planner.core import CorePlanner
    from sqlgate.planner.session import Session

SESSION_WORDS = frozenset(
    {
        "set", "reset", "show", "begin", "start", "commit", "end", "rollback", "abort", "savepoint",
        "release", "discard", "prepare", "execute", "deallocate", "declare", "fetch", "move", "close",
        "unlisten", "listen", "notify",
    }
)  # fmt: skip

_TYPE_WORDS = {
    "int": oids.INT4, "integer": oids.INT4, "int4": oids.INT4, "bigint": oids.INT8, "int8": oids.INT8,
    "smallint": oids.INT2, "int2": oids.INT2, "text": oids.TEXT, "varchar": oids.VARCHAR,
    "bool": oids.BOOL, "boolean": oids.BOOL, "numeric": oids.NUMERIC, "decimal": oids.NUMERIC,
    "float8": oids.FLOAT8, "float4": oids.FLOAT4, "real": oids.FLOAT4, "date": oids.DATE,
    "timestamp": oids.TIMESTAMP, "timestamptz": oids.TIMESTAMPTZ, "uuid": oids.UUID, "json": oids.JSON,
    "jsonb": oids.JSONB, "bytea": oids.BYTEA, "time": oids.TIME, "interval": oids.INTERVAL,
    "name": oids.NAME, "oid": oids.OID, "double": oids.FLOAT8, "character": oids.BPCHAR, "char": oids.BPCHAR,
}  # fmt: skip


def warning(sqlstate: str, message: str) -> PgError:
    return PgError(sqlstate, message, severity="WARNING")


class _Tokens:
    """A cursor over the tokens of one statement."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.tokens = significant_tokens(sql)
        self.i = 0

    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else None

    def at_end(self) -> bool:
        tok = self.peek()
        return tok is None or (tok.kind == OP and tok.value == ";" and self.i == len(self.tokens) - 1)

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise self.error()
        self.i += 1
        return tok

    def accept(self, *words: str) -> str | None:
        tok = self.peek()
        if tok is not None and tok.kind == WORD and tok.lower in words:
            self.i += 1
            return tok.lower
        return None

    def accept_op(self, *ops: str) -> str | None:
        tok = self.peek()
        if tok is not None and tok.kind == OP and tok.value in ops:
            self.i += 1
            return tok.value
        return None

    def expect(self, *words: str) -> str:
        got = self.accept(*words)
        if got is None:
            raise self.error()
        return got

    def name(self) -> str:
        """An identifier: unquoted words are lower-cased, quoted ones kept."""
        tok = self.next()
        if tok.kind == WORD:
            return tok.lower
        if tok.kind == QUOTED_IDENT:
            return tok.value
        raise self.error(tok)

    def dotted_name(self) -> str:
        parts = [self.name()]
        while self.accept_op("."):
            parts.append(self.name())
        return ".".join(parts)

    def rest(self) -> str:
        tok = self.peek()
        return "" if tok is None else self.sql[tok.start :].strip().rstrip(";").strip()

    def end(self) -> None:
        if not self.at_end():
            raise self.error()

    def error(self, tok: Token | None = None) -> PgError:
        tok = tok or self.peek()
        if tok is None:
            return PgError(SYNTAX_ERROR, "syntax error at end of input", position=len(self.sql) + 1)
        return PgError(
            SYNTAX_ERROR, f'syntax error at or near "{self.sql[tok.start : tok.end]}"', position=tok.start + 1
        )


def _ok(tag: str):
    async def run(session: Session, params: BoundParams) -> tuple[list, str]:
        return [], tag

    return run


class SessionCommands:
    """Prepares session statements; ``planner`` is used for PREPARE, EXECUTE and DECLARE."""

    def __init__(self, planner: CorePlanner) -> None:
        self.planner = planner

    async def prepare(self, session: Session, sql: str, param_oids: Sequence[int]) -> PreparedStatement:
        t = _Tokens(sql)
        word = t.expect(*SESSION_WORDS)
        handler = getattr(self, f"_{word}")
        return await handler(session, sql, t, param_oids)

    # ------------------------------------------------------------------ SET / RESET / SHOW

    async def _set(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        scope = t.accept("session", "local")
        local = scope == "local"
        if scope == "session" and t.accept("characteristics"):
            t.expect("as")
            t.expect("transaction")
            changes = _transaction_modes(t, default=True)
            t.end()
            return InProcessStatement("session", sql, _apply_settings(changes, local=False))
        if scope == "session" and t.accept("authorization"):
            _role_value(t, session)
            return InProcessStatement("session", sql, _ok("SET"))
        if t.accept("transaction"):
            if t.accept("snapshot"):
                raise PgError(FEATURE_NOT_SUPPORTED, "SET TRANSACTION SNAPSHOT is not supported")
            changes = _transaction_modes(t, default=False)
            t.end()
            return InProcessStatement(
                "session", sql, _apply_settings(changes, local=True, what="SET TRANSACTION")
            )
        if t.accept("time"):
            t.expect("zone")
            value = _zone_value(t)
            t.end()
            return InProcessStatement("session", sql, _apply_settings([("TimeZone", value)], local=local))
        if t.accept("role"):
            _role_value(t, session)
            return InProcessStatement("session", sql, _ok("SET"))
        if t.accept("schema"):
            value = _values(t)
            return InProcessStatement("session", sql, _apply_settings([("search_path", value)], local=local))
        if t.accept("names"):
            value = _values(t)
            return InProcessStatement(
                "session", sql, _apply_settings([("client_encoding", value)], local=local)
            )
        name = t.dotted_name()
        if t.accept("to") is None and t.accept_op("=") is None:
            raise t.error()
        value = _values(t)
        gucs.canonical_name(name)  # 42704 at parse time for unknown names, as PostgreSQL
        return InProcessStatement("session", sql, _apply_settings([(name, value)], local=local))

    async def _reset(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        if t.accept("all"):
            t.end()

            async def reset_all(s: Session, params: BoundParams) -> tuple[list, str]:
                s.reset_all()
                return [], "RESET"

            return InProcessStatement("session", sql, reset_all)
        if t.accept("time"):
            t.expect("zone")
            name = "TimeZone"
        elif t.accept("role"):
            t.end()
            return InProcessStatement("session", sql, _ok("RESET"))
        elif t.peek() is not None and t.peek().is_word("session"):  # type: ignore[union-attr]
            t.next()
            t.expect("authorization")
            t.end()
            return InProcessStatement("session", sql, _ok("RESET"))
        else:
            name = t.dotted_name()
        t.end()
        gucs.canonical_name(name)

        async def reset(s: Session, params: BoundParams) -> tuple[list, str]:
            s.reset_setting(name)
            return [], "RESET"

        return InProcessStatement("session", sql, reset)

    async def _show(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        if t.accept("all"):
            t.end()
            columns = [text_column("name"), text_column("setting"), text_column("description")]

            async def show_all(s: Session, params: BoundParams) -> tuple[list, str]:
                rows = []
                for name in sorted(s.settings, key=str.lower):
                    guc = gucs.lookup(name)
                    rows.append((name, s.settings[name], guc.description if guc else ""))
                return rows, "SHOW"

            return InProcessStatement("session", sql, show_all, columns=columns)
        if t.accept("time"):
            t.expect("zone")
            name = "TimeZone"
        elif t.accept("transaction"):
            t.expect("isolation")
            t.expect("level")
            name = "transaction_isolation"
        elif t.peek() is not None and t.peek().is_word("session"):  # type: ignore[union-attr]
            t.next()
            t.expect("authorization")
            name = "session_authorization"
        else:
            name = t.dotted_name()
        t.end()
        canonical = gucs.canonical_name(name)
        if canonical not in session.settings and not gucs.lookup(name):
            raise PgError(UNDEFINED_OBJECT, f'unrecognized configuration parameter "{name}"')

        async def show(s: Session, params: BoundParams) -> tuple[list, str]:
            return [(s.get_setting(canonical),)], "SHOW"

        return InProcessStatement("session", sql, show, columns=[text_column(canonical)])

    # ------------------------------------------------------------------ transaction block

    async def _begin(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        t.accept("work", "transaction")
        changes = _transaction_modes(t, default=False)
        t.end()
        return self._start_block(sql, changes, "BEGIN")

    async def _start(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        t.expect("transaction")
        changes = _transaction_modes(t, default=False)
        t.end()
        return self._start_block(sql, changes, "START TRANSACTION")

    def _start_block(self, sql: str, changes: list[tuple[str, str]], tag: str) -> PreparedStatement:
        async def run(s: Session, params: BoundParams) -> tuple[list, str]:
            if s.transaction_status != "I":
                s.notices.append(
                    warning(ACTIVE_SQL_TRANSACTION, "there is already a transaction in progress")
                )
            else:
                s.begin()
            for name, value in changes:
                s.set_setting(name, value, local=True)
            return [], tag

        return InProcessStatement("session", sql, run)

    async def _commit(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        if t.accept("prepared"):
            raise PgError(FEATURE_NOT_SUPPORTED, "COMMIT PREPARED is not supported")
        return self._end_block(sql, t, commit=True)

    async def _end(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        return self._end_block(sql, t, commit=True)

    async def _abort(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        return self._end_block(sql, t, commit=False)

    async def _rollback(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        if t.accept("prepared"):
            raise PgError(FEATURE_NOT_SUPPORTED, "ROLLBACK PREPARED is not supported")
        t.accept("work", "transaction")
        if t.accept("to"):
            t.accept("savepoint")
            name = t.name()
            t.end()

            async def rollback_to(s: Session, params: BoundParams) -> tuple[list, str]:
                if s.transaction_status == "I":
                    raise PgError(
                        NO_ACTIVE_SQL_TRANSACTION,
                        "ROLLBACK TO SAVEPOINT can only be used in transaction blocks",
                    )
                if not s.rollback_to_savepoint(name):
                    raise PgError("3B001", f'savepoint "{name}" does not exist')
                return [], "ROLLBACK"

            return InProcessStatement("session", sql, rollback_to, allowed_in_failed_transaction=True)
        return self._end_block(sql, t, commit=False)

    def _end_block(self, sql: str, t: _Tokens, *, commit: bool) -> PreparedStatement:
        t.accept("work", "transaction")
        chain = False
        if t.accept("and"):
            chain = t.accept("no") is None
            t.expect("chain")
        t.end()

        async def run(s: Session, params: BoundParams) -> tuple[list, str]:
            tag = "COMMIT" if commit else "ROLLBACK"
            if s.transaction_status == "I":
                if chain:
                    what = "COMMIT" if commit else "ROLLBACK"
                    raise PgError(
                        NO_ACTIVE_SQL_TRANSACTION, f"{what} AND CHAIN can only be used in transaction blocks"
                    )
                s.notices.append(warning(NO_ACTIVE_SQL_TRANSACTION, "there is no transaction in progress"))
                return [], tag
            succeeded = commit and s.transaction_status == "T"
            if s.transaction_status == "E":
                tag = "ROLLBACK"
            await close_transaction_cursors(s)
            s.end_transaction(commit=succeeded)
            if chain:
                s.begin()
            return [], tag

        return InProcessStatement("session", sql, run, allowed_in_failed_transaction=True)

    async def _savepoint(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        name = t.name()
        t.end()

        async def run(s: Session, params: BoundParams) -> tuple[list, str]:
            if s.transaction_status == "I":
                raise PgError(NO_ACTIVE_SQL_TRANSACTION, "SAVEPOINT can only be used in transaction blocks")
            s.savepoint(name)
            return [], "SAVEPOINT"

        return InProcessStatement("session", sql, run)

    async def _release(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        t.accept("savepoint")
        name = t.name()
        t.end()

        async def run(s: Session, params: BoundParams) -> tuple[list, str]:
            if s.transaction_status == "I":
                raise PgError(
                    NO_ACTIVE_SQL_TRANSACTION, "RELEASE SAVEPOINT can only be used in transaction blocks"
                )
            if not s.release_savepoint(name):
                raise PgError("3B001", f'savepoint "{name}" does not exist')
            return [], "RELEASE"

        return InProcessStatement("session", sql, run)

    # ------------------------------------------------------------------ DISCARD, LISTEN

    async def _discard(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        what = t.expect("all", "plans", "sequences", "temp", "temporary")
        t.end()
        tag = "DISCARD TEMP" if what == "temporary" else f"DISCARD {what.upper()}"

        async def run(s: Session, params: BoundParams) -> tuple[list, str]:
            if what == "all":
                if s.transaction_status != "I":
                    raise PgError(ACTIVE_SQL_TRANSACTION, "DISCARD ALL cannot run inside a transaction block")
                await close_cursors(s, list(s.cursors))
                s.reset_all()
                _deallocate_all(s)
            return [], tag

        return InProcessStatement("session", sql, run)

    async def _unlisten(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        if not t.accept_op("*"):
            t.name()
        t.end()
        return InProcessStatement("session", sql, _ok("UNLISTEN"))

    async def _listen(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        raise PgError(FEATURE_NOT_SUPPORTED, "LISTEN is not supported by sqlgate")

    async def _notify(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        raise PgError(FEATURE_NOT_SUPPORTED, "NOTIFY is not supported by sqlgate")

    # ------------------------------------------------------------------ PREPARE / EXECUTE / DEALLOCATE

    async def _prepare(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        if t.accept("transaction"):
            raise PgError(FEATURE_NOT_SUPPORTED, "PREPARE TRANSACTION is not supported")
        name = t.name()
        declared: list[int] = []
        if t.accept_op("("):
            while True:
                declared.append(_type_name(t))
                if t.accept_op(")"):
                    break
                if not t.accept_op(","):
                    raise t.error()
        t.expect("as")
        body = t.rest()
        if not body:
            raise t.error()
        planner = self.planner

        async def run(s: Session, params: BoundParams) -> tuple[list, str]:
            if name in s.prepared:
                raise PgError(DUPLICATE_PREPARED_STATEMENT, f'prepared statement "{name}" already exists')
            s.prepared[name] = await planner.prepare(s, body, declared)
            return [], "PREPARE"

        return InProcessStatement("session", sql, run)

    async def _execute(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        name = t.name()
        args_text = ""
        if t.peek() is not None and t.peek().kind == OP and t.peek().value == "(":  # type: ignore[union-attr]
            args_text = t.rest()
        else:
            t.end()
        inner = session.prepared.get(name)
        if inner is None:
            raise PgError(INVALID_SQL_STATEMENT_NAME, f'prepared statement "{name}" does not exist')
        return ExecuteStatement(sql, name, inner, args_text, param_oids)

    async def _deallocate(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        t.accept("prepare")
        if t.accept("all"):
            t.end()

            async def run_all(s: Session, params: BoundParams) -> tuple[list, str]:
                _deallocate_all(s)
                return [], "DEALLOCATE ALL"

            return InProcessStatement("session", sql, run_all)
        name = t.name()
        t.end()

        async def run(s: Session, params: BoundParams) -> tuple[list, str]:
            if name not in s.prepared or name == "":
                raise PgError(INVALID_SQL_STATEMENT_NAME, f'prepared statement "{name}" does not exist')
            del s.prepared[name]
            return [], "DEALLOCATE"

        return InProcessStatement("session", sql, run)

    # ------------------------------------------------------------------ cursors

    async def _declare(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        name = t.name()
        t.accept("binary")
        t.accept("asensitive", "insensitive")
        if t.accept("scroll"):
            raise PgError(FEATURE_NOT_SUPPORTED, "scrollable cursors are not supported by sqlgate")
        if t.accept("no"):
            t.expect("scroll")
        t.expect("cursor")
        hold = False
        if t.accept("with"):
            t.expect("hold")
            hold = True
        elif t.accept("without"):
            t.expect("hold")
        t.expect("for")
        body = t.rest()
        if not body:
            raise t.error()
        planner = self.planner

        async def run(s: Session, params: BoundParams) -> tuple[list, str]:
            if s.transaction_status == "I" and not hold:
                raise PgError(
                    NO_ACTIVE_SQL_TRANSACTION, "DECLARE CURSOR can only be used in transaction blocks"
                )
            if name in s.cursors:
                raise PgError(DUPLICATE_CURSOR, f'cursor "{name}" already exists')
            inner = await planner.prepare(s, body, ())
            if inner.columns is None:
                raise PgError("42P11", "cannot open this query as a cursor")
            execution = await inner.execute(s, BoundParams.from_values([], ()), ())
            execution.columns = inner.columns if execution.columns is None else execution.columns
            if s.max_result_rows:
                execution = RowLimitedExecution(execution, s.max_result_rows)
            s.cursors[name] = execution
            if not hold:
                _transaction_cursors(s).add(name)
            return [], "DECLARE CURSOR"

        return InProcessStatement("session", sql, run)

    async def _fetch(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        return self._fetch_or_move(session, sql, t, move=False)

    async def _move(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        return self._fetch_or_move(session, sql, t, move=True)

    def _fetch_or_move(self, session: Session, sql: str, t: _Tokens, *, move: bool) -> PreparedStatement:
        count: int | None = 1  # None: ALL
        word = t.accept(
            "next", "forward", "all", "prior", "backward", "first", "last", "absolute", "relative"
        )
        if word in ("prior", "backward", "first", "last", "absolute", "relative"):
            raise PgError(
                "55000",
                "cursor can only scan forward",
                hint="Declare it with SCROLL option to enable backward scan.",
            )
        if word == "all":
            count = None
        elif word == "forward":
            if t.accept("all"):
                count = None
            elif t.peek() is not None and t.peek().kind == NUMBER:  # type: ignore[union-attr]
                count = int(t.next().value)
        elif word is None and t.peek() is not None and t.peek().kind == NUMBER:  # type: ignore[union-attr]
            count = int(t.next().value)
        t.accept("from", "in")
        name = t.name()
        t.end()
        execution = session.cursors.get(name)
        if execution is None:
            raise PgError(INVALID_CURSOR_NAME, f'cursor "{name}" does not exist')
        columns = None if move else list(execution.columns or [])
        return CursorFetchStatement(sql, name, count, columns, move=move)

    async def _close(
        self, session: Session, sql: str, t: _Tokens, param_oids: Sequence[int]
    ) -> PreparedStatement:
        if t.accept("all"):
            t.end()

            async def close_all(s: Session, params: BoundParams) -> tuple[list, str]:
                await close_cursors(s, list(s.cursors))
                return [], "CLOSE CURSOR ALL"

            return InProcessStatement("session", sql, close_all)
        name = t.name()
        t.end()

        async def close_one(s: Session, params: BoundParams) -> tuple[list, str]:
            if name not in s.cursors:
                raise PgError(INVALID_CURSOR_NAME, f'cursor "{name}" does not exist')
            await close_cursors(s, [name])
            return [], "CLOSE CURSOR"

        return InProcessStatement("session", sql, close_one)


# ---------------------------------------------------------------------- EXECUTE and FETCH statements


class ExecuteStatement(PreparedStatement):
    """``EXECUTE name(args)``: runs a prepared statement with constant (or ``$n``) arguments."""

    kind = "session"

    def __init__(
        self, sql: str, name: str, inner: PreparedStatement, args_text: str, param_oids: Sequence[int]
    ):
        self.sql = sql
        self.name = name
        self.inner = inner
        self.columns = inner.columns
        self.allowed_in_failed_transaction = inner.allowed_in_failed_transaction
        self.encodes_rows = inner.encodes_rows
        self._args_text = args_text
        self.param_oids = list(param_oids)
        self._args = _parse_arguments(args_text)
        if len(self._args) != len(inner.param_oids):
            raise PgError(
                "42601",
                f'wrong number of parameters for prepared statement "{name}"',
                detail=f"Expected {len(inner.param_oids)} parameters but got {len(self._args)}.",
            )

    async def execute(
        self, session: Session, params: BoundParams, result_formats: Sequence[int]
    ) -> Execution:
        from sqlgate.planner.builtins import Evaluator, cast_value

        evaluator = Evaluator("", self.param_oids)
        outer = params.values if len(params) else []
        values = []
        for node, wanted in zip(self._args, self.inner.param_oids, strict=True):
            value, kind = await evaluator.value(node, session, outer)
            values.append(cast_value(value, kind, wanted or oids.TEXT, session))
        return await self.inner.execute(
            session, BoundParams.from_values(values, self.inner.param_oids), result_formats
        )


def _parse_arguments(args_text: str) -> list[Any]:
    if not args_text:
        return []
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one("SELECT " + args_text.strip()[1:-1], read="postgres")
    except sqlglot.errors.ParseError:
        raise PgError(SYNTAX_ERROR, "syntax error in EXECUTE arguments") from None
    if not isinstance(tree, exp.Select) or not args_text.strip().endswith(")"):
        raise PgError(SYNTAX_ERROR, "syntax error in EXECUTE arguments")
    return list(tree.expressions)


class _CursorExecution(Execution):
    def __init__(
        self, session: Session, name: str, count: int | None, columns: list[ResultColumn] | None, move: bool
    ):
        self.columns = columns
        self._session = session
        self._name = name
        self._remaining = count
        self._moved = 0
        self._move = move
        self._tag = ""
        self._text_decoders: list[Decoder] | None = None

    async def fetch(self, max_rows: int = 0) -> tuple[RowBatch, bool]:
        cursor = self._session.cursors.get(self._name)
        if cursor is None:
            raise PgError(INVALID_CURSOR_NAME, f'cursor "{self._name}" does not exist')
        limit = self._remaining if self._remaining is not None else 0
        if max_rows > 0:
            limit = min(limit, max_rows) if limit else max_rows
        if self._remaining == 0:
            self._tag = f"{'MOVE' if self._move else 'FETCH'} {self._moved}"
            return RowBatch(rows=[], count=0), True
        batch, done = await cursor.fetch(limit)
        if batch.encoded is not None:
            # The cursor's query was started at DECLARE, in text; this FETCH may want binary (as
            # asyncpg does), so ready DataRows go back through values.
            batch = RowBatch(rows=decode_rows(batch.encoded, self._decoders(cursor)), count=batch.count)
        self._moved += batch.count
        if self._remaining is not None:
            self._remaining -= batch.count
        finished = done or self._remaining == 0
        if finished:
            self._tag = f"{'MOVE' if self._move else 'FETCH'} {self._moved}"
        if self._move:
            return RowBatch(rows=[], count=0), finished
        return batch, finished

    def _decoders(self, cursor: Execution) -> list[Decoder]:
        if self._text_decoders is None:
            columns = cursor.columns or self.columns or []
            self._text_decoders = [decoder(c.type_oid, TEXT_FORMAT) for c in columns]
        return self._text_decoders

    def command_tag(self) -> str:
        return self._tag


class CursorFetchStatement(PreparedStatement):
    kind = "session"

    def __init__(
        self, sql: str, name: str, count: int | None, columns: list[ResultColumn] | None, *, move: bool
    ):
        self.sql = sql
        self.param_oids = []
        self.columns = columns
        self._name = name
        self._count = count
        self._move = move

    async def execute(
        self, session: Session, params: BoundParams, result_formats: Sequence[int]
    ) -> Execution:
        return _CursorExecution(session, self._name, self._count, self.columns, self._move)


def _transaction_cursors(session: Session) -> set[str]:
    """Names of cursors that close when the transaction block ends (not WITH HOLD)."""
    return session.transaction_cursors


async def close_cursors(session: Session, names: Sequence[str]) -> None:
    for name in names:
        execution = session.cursors.pop(name, None)
        _transaction_cursors(session).discard(name)
        if execution is not None:
            await execution.close()


async def close_transaction_cursors(session: Session) -> None:
    await close_cursors(session, sorted(_transaction_cursors(session)))


def _deallocate_all(session: Session) -> None:
    unnamed = session.prepared.get("")
    session.prepared.clear()
    if unnamed is not None:
        session.prepared[""] = unnamed


# ---------------------------------------------------------------------- value parsing


def _apply_settings(changes: list[tuple[str, str | None]], *, local: bool, what: str = "SET LOCAL"):
    async def run(s: Session, params: BoundParams) -> tuple[list, str]:
        if local and s.transaction_status == "I":
            s.notices.append(
                warning(NO_ACTIVE_SQL_TRANSACTION, f"{what} can only be used in transaction blocks")
            )
            for name, value in changes:  # still validated, as PostgreSQL does
                if value is not None:
                    gucs.normalize_value(name, value)
            return [], "SET"
        for name, value in changes:
            if value is None:
                s.reset_setting(name)
            else:
                s.set_setting(name, value, local=local)
        return [], "SET"

    return run


def _values(t: _Tokens) -> str | None:
    """The value list of SET (None for DEFAULT); identifiers are lower-cased as PostgreSQL does."""
    if t.accept("default"):
        t.end()
        return None
    parts: list[tuple[str, str]] = []
    while True:
        tok = t.next()
        nxt = t.peek()
        if tok.kind == OP and tok.value in ("-", "+") and nxt is not None and nxt.kind == NUMBER:
            number = t.next()
            parts.append((NUMBER, ("-" if tok.value == "-" else "") + number.value))
        elif tok.kind in (STRING, NUMBER, QUOTED_IDENT):
            parts.append((tok.kind, tok.value))
        elif tok.kind == WORD:
            parts.append((WORD, tok.lower))
        elif tok.kind == PARAM:
            raise PgError(FEATURE_NOT_SUPPORTED, "parameters are not allowed in SET")
        else:
            raise t.error(tok)
        if not t.accept_op(","):
            break
    t.end()
    if len(parts) == 1:
        return parts[0][1]
    return ", ".join(f'"{value}"' if kind == QUOTED_IDENT else value for kind, value in parts)


def _zone_value(t: _Tokens) -> str | None:
    if t.accept("local", "default"):
        return None
    if t.accept("interval"):
        tok = t.next()
        if tok.kind != STRING:
            raise t.error(tok)
        t.accept("hour")
        if t.accept("to"):
            t.expect("minute")
        text = tok.value.strip()
        sign = -1 if text.startswith("-") else 1
        h, _, m = text.lstrip("+-").partition(":")
        try:
            hours = sign * (int(h) + int(m or 0) / 60)
        except ValueError:
            raise PgError("22007", f'invalid input syntax for type interval: "{tok.value}"') from None
        return gucs.offset_zone_name(hours)
    tok = t.next()
    if tok.kind == OP and tok.value in ("-", "+") and t.peek() is not None and t.peek().kind == NUMBER:  # type: ignore[union-attr]
        number = float(t.next().value)
        return gucs.offset_zone_name(-number if tok.value == "-" else number)
    if tok.kind == NUMBER:
        return gucs.offset_zone_name(float(tok.value))
    if tok.kind in (STRING, QUOTED_IDENT):
        return tok.value
    if tok.kind == WORD:
        return tok.value
    raise t.error(tok)


def _role_value(t: _Tokens, session: Session) -> None:
    tok = t.next()
    t.end()
    value = tok.value if tok.kind in (STRING, QUOTED_IDENT) else tok.lower
    username = getattr(session.ctx, "username", None)
    if value in ("none", "default") or value == username:
        return
    raise PgError(FEATURE_NOT_SUPPORTED, "sqlgate sessions cannot change their role")


_ISOLATION_WORDS = {
    ("serializable",): "serializable",
    ("repeatable", "read"): "repeatable read",
    ("read", "committed"): "read committed",
    ("read", "uncommitted"): "read uncommitted",
}


def _transaction_modes(t: _Tokens, *, default: bool) -> list[tuple[str, str | None]]:
    prefix = "default_transaction_" if default else "transaction_"
    changes: list[tuple[str, str | None]] = []
    while not t.at_end():
        if t.accept("isolation"):
            t.expect("level")
            first = t.expect("serializable", "repeatable", "read")
            words: tuple[str, ...] = (first,)
            if first != "serializable":
                words += (t.expect("read", "committed", "uncommitted"),)
            level = _ISOLATION_WORDS.get(words)
            if level is None:
                raise t.error()
            changes.append((prefix + "isolation", level))
        elif t.accept("read"):
            mode = t.expect("only", "write")
            changes.append((prefix + "read_only", "on" if mode == "only" else "off"))
        elif t.accept("not"):
            t.expect("deferrable")
            changes.append((prefix + "deferrable", "off"))
        elif t.accept("deferrable"):
            changes.append((prefix + "deferrable", "on"))
        else:
            raise t.error()
        t.accept_op(",")
    return changes


def _type_name(t: _Tokens) -> int:
    word = t.name()
    if word == "double":
        t.expect("precision")
    if word in ("character", "char") and t.accept("varying"):
        word = "varchar"
    if word == "timestamp" and t.accept("with"):
        t.expect("time")
        t.expect("zone")
        word = "timestamptz"
    elif word == "timestamp" and t.accept("without"):
        t.expect("time")
        t.expect("zone")
    if t.accept_op("("):
        while not t.accept_op(")"):
            t.next()
    is_array = False
    while t.accept_op("["):
        t.accept_op("]")
        is_array = True
    oid = _TYPE_WORDS.get(word)
    if oid is None:
        raise PgError(UNDEFINED_OBJECT, f'type "{word}" does not exist')
    if is_array:
        info = oids.TYPES_BY_OID.get(oid)
        return info.array_oid if info and info.array_oid else oids.TEXT_ARRAY
    return oid
