"""The pass a catalog statement goes through before it runs in a shadow database.

Tools send catalog SQL that sqlglot cannot always parse (``$1::oid[]``, ``OPERATOR(pg_catalog.~)``,
``COLLATE pg_catalog.default``), and whatever is not rewritten must reach PostgreSQL exactly as the
tool wrote it. So this pass works on the token stream of :mod:`sqlgate.planner.lexer` and splices
replacements into the original text, leaving every other character alone:

* **refusals** — functions that read server files, cancel or signal other backends, take advisory
  locks, run SQL text given as a string, or reach other servers are refused before anything is sent
  (42501), and so is any statement that is not a query (0A000);
* **session values** — ``current_user``/``session_user``/``user``/``current_role``,
  ``current_database()``/``current_catalog``, ``version()``, ``pg_backend_pid()``,
  ``pg_get_userbyid(…)`` (every owner is the session user), ``current_setting(…)`` of settings the
  gateway owns, and the server address functions answer for the gateway session, not for the shadow
  database's connection;
* **look-alike relations** — relations that would show the catalog server's own state (databases,
  roles, other sessions, locks, settings) are replaced by subqueries of the same columns that show
  only the session (see :mod:`sqlgate.planner.catalog.lookalikes`).

Session values reach the shadow database as ``sqlgate.*`` settings set (transaction-locally) before the
statement runs; :attr:`Rewrite.settings` names those the rewritten text reads. A replacement that is
a whole select-list item keeps the column name PostgreSQL would give the original (``AS
"current_user"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlgate.errors import FEATURE_NOT_SUPPORTED, INSUFFICIENT_PRIVILEGE, PgError
from sqlgate.planner import gucs, lexer
from sqlgate.planner.lexer import OP, QUOTED_IDENT, WORD, Token
from sqlgate.planner.statements import WRITE_WORDS

# ``sqlgate.*`` settings the rewritten statements read (set with set_config(…, true) per statement).
USER = "sqlgate.user"
DATABASE = "sqlgate.database"
PID = "sqlgate.pid"
APPLICATION_NAME = "sqlgate.application_name"
QUERY = "sqlgate.query"
SETTINGS = "sqlgate.settings"
PREPARED = "sqlgate.prepared"
CLIENT_TLS = "sqlgate.ssl"


def setting(name: str) -> str:
    """SQL reading one of the ``sqlgate.*`` settings as text."""
    return f"pg_catalog.current_setting('{name}')"


SESSION_USER_SQL = f"({setting(USER)}::pg_catalog.name)"
SESSION_DATABASE_SQL = f"({setting(DATABASE)}::pg_catalog.name)"

# Statement kinds a catalog statement may be (everything else is refused before it is sent).
_QUERY_WORDS = frozenset({"select", "with", "values", "table"})

# Functions refused in catalog statements: exact names, then prefixes.
_DENIED_FUNCTIONS = frozenset(
    {"pg_stat_file", "pg_reload_conf", "pg_rotate_logfile",
     "pg_current_logfile", "pg_stat_get_activity", "pg_stat_get_progress_info", "pg_notify", "ts_stat",
     "ts_rewrite", "loread", "lowrite", "pg_file_write", "pg_log_backend_memory_contexts",
     "pg_start_backup", "pg_stop_backup", "pg_promote", "pg_import_system_collations", "lo_import",
     "lo_export", "pg_blocking_pids", "pg_safe_snapshot_blocking_pids"}
)  # fmt: skip
_DENIED_PREFIXES = (
    "pg_read_", "pg_ls_", "lo_", "dblink", "pg_advisory", "pg_try_advisory", "pg_stat_get_backend_",
    "pg_stat_reset", "pg_replication_", "pg_create_", "pg_drop_replication", "pg_logical_", "pg_copy_",
    "pg_backup_", "pg_wal_", "pg_switch_", "query_to_xml", "cursor_to_xml", "pg_xact_",
)  # fmt: skip

# Keywords ending a select list (at the select's parenthesis depth).
_CLAUSE_WORDS = frozenset(
    {"from", "into", "where", "group", "having", "window", "order", "limit", "offset", "fetch", "for",
     "union", "intersect", "except", "returning", "on"}
)  # fmt: skip
# Words that may follow a relation without being its alias.
_NOT_ALIAS = _CLAUSE_WORDS | frozenset(
    {"join", "left", "right", "full", "inner", "cross", "natural", "using", "tablesample", "lateral",
     "outer", "and", "or", "then", "else", "end", "when", "is", "in", "not", "like", "ilike"}
)  # fmt: skip


class Lookalikes(Protocol):
    """What the rewrite asks for a relation: its replacement subquery (and the ``sqlgate.*``
    settings that subquery reads), or None to leave the relation as it is."""

    def replacement(self, schema: str, name: str) -> tuple[str, frozenset[str]] | None: ...


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int  # in the original text
    end: int
    text: str


@dataclass(frozen=True)
class Rewrite:
    """A rewritten statement: its text, the ``sqlgate.*`` settings it reads, and where its pieces came
    from (to point error positions back into the client's text)."""

    sql: str
    settings: frozenset[str]
    spans: tuple[tuple[int, int, int, int], ...] = field(default=())  # (orig start, end, new start, end)

    @property
    def changed(self) -> bool:
        return bool(self.spans)

    def original_position(self, position: int) -> int:
        """The 1-based character position in the client's text for ``position`` in :attr:`sql`."""
        offset = position - 1
        shift = 0
        for orig_start, orig_end, new_start, new_end in self.spans:
            if offset < new_start:
                break
            if offset < new_end:
                return orig_start + 1
            shift = orig_end - new_end
        return offset + shift + 1


class _Scanner:
    """Significant tokens with their parenthesis depth and whether they sit in a select list."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.tokens: list[Token] = list(lexer.tokenize(sql))
        self.depth: list[int] = []
        self.in_select: list[bool] = []
        self.close: dict[int, int] = {}  # index of "(" -> index of its ")"
        clause: dict[int, bool] = {}
        opened: list[int] = []
        depth = 0
        for index, tok in enumerate(self.tokens):
            if tok.kind == OP and tok.value == ")":
                clause.pop(depth, None)
                depth = max(depth - 1, 0)
                if opened:
                    self.close[opened.pop()] = index
            self.depth.append(depth)
            if tok.kind == WORD:
                if tok.lower == "select":
                    clause[depth] = True
                elif tok.lower in _CLAUSE_WORDS:
                    clause[depth] = False
            self.in_select.append(clause.get(depth, False))
            if tok.kind == OP and tok.value == "(":
                opened.append(index)
                depth += 1

    def word(self, index: int) -> str | None:
        if 0 <= index < len(self.tokens) and self.tokens[index].kind == WORD:
            return self.tokens[index].lower
        return None

    def op(self, index: int) -> str | None:
        if 0 <= index < len(self.tokens) and self.tokens[index].kind == OP:
            return self.tokens[index].value
        return None

    def select_item_end(self, first: int, last: int) -> int | None:
        """When tokens first..last are a whole select-list item (possibly followed by ``::type``
        casts and no alias), the index of the last token of the item; else None."""
        depth = self.depth[first]
        if not self.in_select[first]:
            return None
        before = self.tokens[first - 1] if first > 0 else None
        if before is None or not (
            (before.kind == OP and before.value == "," and self.depth[first - 1] == depth)
            or (before.kind == WORD and before.lower in ("select", "distinct", "all"))
        ):
            return None
        end = last
        while self.op(end + 1) == "::":
            end = self._skip_type(end + 2)
            if end < 0:
                return None
        after = end + 1
        if after >= len(self.tokens):
            return end
        tok = self.tokens[after]
        if tok.kind == OP and (tok.value in (",", ";") or (tok.value == ")" and self.depth[after] < depth)):
            return end if tok.value != "," or self.depth[after] == depth else None
        if tok.kind == WORD and tok.lower in _CLAUSE_WORDS and self.depth[after] == depth:
            return end
        return None  # an alias, an operator, …: PostgreSQL would not name the column after the call

    def _skip_type(self, index: int) -> int:
        """Index of the last token of the type name starting at ``index`` (-1 if there is none)."""
        last = -1
        while index < len(self.tokens):
            tok = self.tokens[index]
            if tok.kind in (WORD, QUOTED_IDENT) and not (tok.kind == WORD and tok.lower in _NOT_ALIAS):
                if tok.kind == WORD and tok.lower == "as":
                    break
                last = index
                index += 1
                if self.op(index) == "(" and index in self.close:
                    last = self.close[index]
                    index = last + 1
                continue
            if tok.kind == OP and tok.value in (".", "[", "]"):
                last = index
                index += 1
                continue
            break
        return last


def _call_args(scanner: _Scanner, open_index: int) -> tuple[str, list[str]] | None:
    """The text between the parentheses of a call and its top-level arguments."""
    close = scanner.close.get(open_index)
    if close is None:
        return None
    sql = scanner.sql
    start = scanner.tokens[open_index].end
    end = scanner.tokens[close].start
    args: list[str] = []
    piece_start = start
    depth = scanner.depth[open_index] + 1
    for index in range(open_index + 1, close):
        tok = scanner.tokens[index]
        if tok.kind == OP and tok.value == "," and scanner.depth[index] == depth:
            args.append(sql[piece_start : tok.start].strip())
            piece_start = tok.end
    last = sql[piece_start:end].strip()
    if last or args:
        args.append(last)
    return sql[start:end], args


# ---------------------------------------------------------------------- replacements of calls

CallReplacement = Callable[[str, list[str]], tuple[str, frozenset[str]] | None]


def _no_args(text: str) -> Callable[[str, list[str]], tuple[str, frozenset[str]] | None]:
    def build(inner: str, args: list[str]) -> tuple[str, frozenset[str]] | None:
        return None if args else (text, settings_read_by(text))

    return build


def settings_read_by(text: str) -> frozenset[str]:
    """The ``sqlgate.*`` settings a piece of replacement SQL reads."""
    return frozenset(
        name for name in (USER, DATABASE, PID, APPLICATION_NAME, QUERY, SETTINGS, PREPARED, CLIENT_TLS)
        if f"'{name}'" in text
    )  # fmt: skip


def _get_userbyid(inner: str, args: list[str]) -> tuple[str, frozenset[str]] | None:
    if len(args) != 1:
        return None
    text = f"(CASE WHEN pg_catalog.pg_get_userbyid({inner}) IS NULL THEN NULL ELSE {SESSION_USER_SQL} END)"
    return text, frozenset({USER})


def _current_setting(inner: str, args: list[str]) -> tuple[str, frozenset[str]] | None:
    if len(args) not in (1, 2):
        return None
    text = (
        f"COALESCE(({setting(SETTINGS)}::pg_catalog.jsonb) OPERATOR(pg_catalog.->>) "
        f"pg_catalog.lower(({args[0]})::pg_catalog.text), pg_catalog.current_setting({inner}))"
    )
    return text, frozenset({SETTINGS})


def _version_literal() -> str:
    return "'" + gucs.version_string().replace("'", "''") + "'::pg_catalog.text"


def _signal_backend(inner: str, args: list[str]) -> tuple[str, frozenset[str]] | None:
    # Backends of the catalog server are not the client's to signal, and gateway sessions are
    # cancelled with the protocol's CancelRequest: answer "not signalled", as PostgreSQL does for a
    # process id that is not one of its backends.
    if not args:
        return None
    return f"(CASE WHEN ({args[0]})::pg_catalog.int4 IS NULL THEN NULL ELSE false END)", frozenset()


_CALLS: dict[str, CallReplacement] = {
    "current_database": _no_args(SESSION_DATABASE_SQL),
    "version": lambda inner, args: None if args else (_version_literal(), frozenset()),
    "pg_backend_pid": _no_args(f"({setting(PID)}::pg_catalog.int4)"),
    "pg_get_userbyid": _get_userbyid,
    "current_setting": _current_setting,
    "inet_server_addr": _no_args("(NULL::pg_catalog.inet)"),
    "inet_client_addr": _no_args("(NULL::pg_catalog.inet)"),
    "inet_server_port": _no_args("(NULL::pg_catalog.int4)"),
    "inet_client_port": _no_args("(NULL::pg_catalog.int4)"),
    "pg_cancel_backend": _signal_backend,
    "pg_terminate_backend": _signal_backend,
}
# Functions whose first argument is a role: ``current_user`` there means the role the catalog is read
# as (what the session may see), so it is left alone.
_ROLE_ARGUMENT_FUNCTIONS = frozenset(
    {"has_any_column_privilege", "has_column_privilege", "has_database_privilege",
     "has_foreign_data_wrapper_privilege", "has_function_privilege", "has_language_privilege",
     "has_parameter_privilege", "has_schema_privilege", "has_sequence_privilege", "has_server_privilege",
     "has_table_privilege", "has_tablespace_privilege", "has_type_privilege", "pg_has_role"}
)  # fmt: skip
_KEYWORD_CALLS: dict[str, tuple[str, frozenset[str]]] = {
    "current_user": (SESSION_USER_SQL, frozenset({USER})),
    "session_user": (SESSION_USER_SQL, frozenset({USER})),
    "user": (SESSION_USER_SQL, frozenset({USER})),
    "current_role": (SESSION_USER_SQL, frozenset({USER})),
    "current_catalog": (SESSION_DATABASE_SQL, frozenset({DATABASE})),
}


# ---------------------------------------------------------------------- the pass


def check_statement_kind(scanner: _Scanner) -> None:
    """0A000/25006 for anything but a query."""
    first = next((t for t in scanner.tokens if not (t.kind == OP and t.value == "(")), None)
    word = first.lower if first is not None and first.kind == WORD else ""
    if word in _QUERY_WORDS:
        return
    if word in WRITE_WORDS:
        raise PgError(
            "25006",
            f"cannot execute {word.upper()} in a read-only transaction",
            hint="sqlgate answers queries over data models; it never changes data.",
        )
    shown = word.upper() if word else "this statement"
    raise PgError(FEATURE_NOT_SUPPORTED, f"{shown} is not supported on the PostgreSQL catalog by sqlgate")


def _function_name(scanner: _Scanner, index: int) -> str | None:
    """The function name when token ``index`` starts a call (``name(``), lower-cased unless quoted."""
    tok = scanner.tokens[index]
    if scanner.op(index + 1) != "(":
        return None
    if tok.kind == WORD:
        return tok.lower
    if tok.kind == QUOTED_IDENT:
        return tok.value
    return None


def refuse_dangerous(scanner: _Scanner) -> None:
    """42501 for a call of a function catalog statements may not use."""
    for index in range(len(scanner.tokens)):
        name = _function_name(scanner, index)
        if name is None:
            continue
        if name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES):
            raise PgError(
                INSUFFICIENT_PRIVILEGE,
                f"permission denied for function {name}",
                hint="Catalog queries run read-only on a copy of the catalog that holds only the data "
                "model; server files, other sessions and locks are out of reach.",
            )


def _qualifier(scanner: _Scanner, index: int) -> tuple[str | None, int]:
    """(schema, index of the first token of the qualified name) for the name at ``index``."""
    if scanner.op(index - 1) == ".":
        prev = scanner.tokens[index - 2] if index >= 2 else None
        if prev is not None and prev.kind in (WORD, QUOTED_IDENT):
            schema = prev.lower if prev.kind == WORD else prev.value
            return schema, index - 2
        return "", index
    return None, index


def scan(sql: str) -> _Scanner:
    """Tokenize a catalog statement once for :func:`check` and :func:`rewrite` (42601 on
    unterminated quotes or comments)."""
    return _Scanner(sql)


_FROM_ITEM_END = frozenset(
    {"where", "group", "having", "window", "order", "limit", "offset", "fetch", "for", "union",
     "intersect", "except", "returning", "select", "values", "into"}
)  # fmt: skip


def from_relations(scanner: _Scanner) -> list[tuple[str | None, str]]:
    """(schema, name) of every relation named in a FROM list or JOIN, as PostgreSQL folds it.

    Token-level and conservative: the word right after ``FROM``/``JOIN`` or after a comma of a FROM
    list (optionally ``schema.``-qualified). Used where sqlglot could not parse the statement.
    """
    found: list[tuple[str | None, str]] = []
    tokens = scanner.tokens
    in_from: dict[int, bool] = {}
    for index, tok in enumerate(tokens):
        depth = scanner.depth[index]
        if tok.kind == WORD and tok.lower in ("from", "join"):
            in_from[depth] = True
            start = index + 1
        elif tok.kind == OP and tok.value == "," and in_from.get(depth):
            start = index + 1
        else:
            if tok.kind == WORD and tok.lower in _FROM_ITEM_END:
                in_from[depth] = False
            continue
        if start >= len(tokens) or tokens[start].kind not in (WORD, QUOTED_IDENT):
            continue
        name_index, schema = start, None
        if (
            scanner.op(start + 1) == "."
            and start + 2 < len(tokens)
            and tokens[start + 2].kind in (WORD, QUOTED_IDENT)
        ):
            first = tokens[start]
            schema = first.lower if first.kind == WORD else first.value
            name_index = start + 2
        if scanner.op(name_index + 1) == "(":
            continue  # a table function
        name_tok = tokens[name_index]
        found.append((schema, name_tok.lower if name_tok.kind == WORD else name_tok.value))
    return found


def check(scanner: _Scanner) -> None:
    """Refuse what catalog statements may not do (25006/0A000 for non-queries, 42501 for functions)."""
    check_statement_kind(scanner)
    refuse_dangerous(scanner)


def rewrite(scanner: _Scanner | str, lookalikes: Lookalikes | None = None) -> Rewrite:
    """Check the statement and splice in the session's view (see the module docstring)."""
    if isinstance(scanner, str):
        scanner = _Scanner(scanner)
    check(scanner)
    sql = scanner.sql
    edits: list[_Edit] = []
    settings: set[str] = set()
    tokens = scanner.tokens
    index = 0
    while index < len(tokens):
        tok = tokens[index]
        if tok.kind != WORD:
            index += 1
            continue
        schema, first = _qualifier(scanner, index)
        next_op = scanner.op(index + 1)
        # keyword functions: current_user, session_user, user, current_role, current_catalog
        if (
            tok.lower in _KEYWORD_CALLS
            and schema is None
            and next_op not in ("(", ".")
            and scanner.word(index - 1) != "as"
            and scanner.op(index - 1) != "::"
            and not (scanner.op(index - 1) == "(" and scanner.word(index - 2) in _ROLE_ARGUMENT_FUNCTIONS)
        ):
            text, needs = _KEYWORD_CALLS[tok.lower]
            edits.extend(_edits(scanner, index, index, text, tok.lower))
            settings |= needs
            index += 1
            continue
        # function calls
        if next_op == "(" and tok.lower in _CALLS and schema in (None, "pg_catalog"):
            found = _call_args(scanner, index + 1)
            if found is not None:
                built = _CALLS[tok.lower](*found)
                if built is not None:
                    close = scanner.close[index + 1]
                    edits.extend(_edits(scanner, first, close, built[0], tok.lower))
                    settings |= built[1]
                    index = close + 1
                    continue
        # relations
        if lookalikes is not None and next_op not in ("(", ".") and scanner.op(first - 1) != "::":
            relation_schema = schema if schema is not None else "pg_catalog"
            if schema is not None or tok.lower.startswith("pg_"):
                found_relation = lookalikes.replacement(relation_schema, tok.lower)
                if found_relation is not None:
                    text, needs = found_relation
                    edits.append(_relation_edit(scanner, first, index, text, tok.lower))
                    settings |= needs
        index += 1
    return _apply(sql, edits, frozenset(settings))


def _edits(scanner: _Scanner, first: int, last: int, text: str, name: str) -> list[_Edit]:
    """The replacement of tokens first..last, plus ``AS "name"`` after the select-list item it forms
    (so the column keeps the name PostgreSQL gives the original)."""
    tokens = scanner.tokens
    edits = [_Edit(tokens[first].start, tokens[last].end, text)]
    item_end = scanner.select_item_end(first, last)
    if item_end is not None:
        at = tokens[item_end].end
        edits.append(_Edit(at, at, f' AS "{name}"'))
    return edits


def _relation_edit(scanner: _Scanner, first: int, last: int, text: str, name: str) -> _Edit:
    tokens = scanner.tokens
    start = tokens[first].start
    if scanner.word(first - 1) == "table" and scanner.depth[first - 1] == scanner.depth[first]:
        # TABLE pg_roles -> SELECT * FROM (…) AS pg_roles
        return _Edit(tokens[first - 1].start, tokens[last].end, f"SELECT * FROM {text} AS {name}")
    after = last + 1
    has_alias = after < len(tokens) and (
        tokens[after].kind == QUOTED_IDENT
        or (tokens[after].kind == WORD and tokens[after].lower not in _NOT_ALIAS)
    )
    return _Edit(start, tokens[last].end, text if has_alias else f"{text} AS {name}")


def _apply(sql: str, edits: Sequence[_Edit], settings: frozenset[str]) -> Rewrite:
    if not edits:
        return Rewrite(sql, settings)
    parts: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    pos = 0
    length = 0
    for edit in sorted(edits, key=lambda e: e.start):
        if edit.start < pos:
            continue  # overlapping (nested) edit: the outer one already covers it
        parts.append(sql[pos : edit.start])
        length += edit.start - pos
        parts.append(edit.text)
        spans.append((edit.start, edit.end, length, length + len(edit.text)))
        length += len(edit.text)
        pos = edit.end
    parts.append(sql[pos:])
    return Rewrite("".join(parts), settings, tuple(spans))
