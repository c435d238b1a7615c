"""The planner the wire talks to: classify each statement and send it to the right handler.

Order of the checks (cheap first)::

    empty (only comments)         -> EmptyQueryResponse
    first keyword SET/SHOW/BEGIN… -> session_commands (answered in-process)
    parse once with sqlglot (postgres dialect)
    FROM-less builtin SELECT      -> builtins (answered in-process)
    INSERT/UPDATE/CREATE/SELECT INTO/… -> 25006, sqlgate is read-only
    route_of():
      only pg_catalog, information_schema or pg_* relations (or catalog functions/casts),
      or no relation at all                 -> ``catalog`` handler (a shadow database answers)
      cubes and catalog relations together  -> 0A000
      any other query                       -> ``semantic`` handler

The two handlers are injected by the composition root (``sqlgate.gateway``); a missing one makes its
statements fail with 0A000 naming what is not supported yet. Errors a handler raises carry the route
in ``PgError.statement_kind``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlgate.errors import FEATURE_NOT_SUPPORTED, READ_ONLY_SQL_TRANSACTION, SYNTAX_ERROR, PgError
from sqlgate.planner import builtins, lexer
from sqlgate.planner.api import Planner, PreparedStatement
from sqlgate.planner.session_commands import SESSION_WORDS, SessionCommands
from sqlgate.planner.shapes import shape_of
from sqlgate.planner.statements import WRITE_WORDS, empty_statement, parse_statement

if TYPE_CHECKING:
    from sqlgate.planner.session import Session

# async (tree, sql, session, param_oids) -> PreparedStatement. ``tree`` is the sqlglot expression of
# the statement (postgres dialect); the catalog handler may get None when sqlglot cannot parse
# PostgreSQL catalog syntax it does not know (e.g. ``$1::oid[]``) and must then work from ``sql``.
# A semantic handler with a true ``accepts_text_only`` attribute gets None as the tree for a statement
# whose shape (its text without literals, see planner.shapes) was routed to it before: it then parses
# only when its plan cache misses.
SemanticHandler = Callable[
    [exp.Expression | None, str, "Session", Sequence[int]], Awaitable[PreparedStatement]
]
CatalogHandler = Callable[
    [exp.Expression | None, str, "Session", Sequence[int]], Awaitable[PreparedStatement]
]

_CATALOG_SCHEMAS = frozenset({"pg_catalog", "information_schema"})
# Catalog functions without a pg_ prefix.
_CATALOG_FUNCTIONS = frozenset(
    {
        "format_type", "obj_description", "col_description", "shobj_description", "to_regclass",
        "to_regtype", "to_regproc", "to_regnamespace", "to_regrole", "has_table_privilege",
        "has_schema_privilege", "has_database_privilege", "has_column_privilege", "has_function_privilege",
        "has_any_column_privilege", "has_type_privilege", "current_schemas_oids",
    }
)  # fmt: skip
_CATALOG_CASTS = frozenset({"regclass", "regtype", "regproc", "regprocedure", "regnamespace", "regrole",
                            "regoper", "regoperator", "regconfig", "regcollation", "oid"})  # fmt: skip
_WRITE_STATEMENTS: tuple[type[exp.Expression], ...] = (
    exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Alter, exp.Merge, exp.TruncateTable,
    exp.Copy, exp.Grant,
)  # fmt: skip


class CorePlanner(Planner):
    """Dispatches statements; shared by every session of a gateway."""

    def __init__(
        self,
        *,
        semantic: SemanticHandler | None = None,
        catalog: CatalogHandler | None = None,
        builtin_cache_size: int = 1024,
    ) -> None:
        self.semantic = semantic
        self.catalog = catalog
        self.session_commands = SessionCommands(self)
        self._builtin_cache: OrderedDict[tuple[str, tuple[int, ...]], PreparedStatement | None] = (
            OrderedDict()
        )
        self._builtin_cache_size = builtin_cache_size
        # Statement texts already routed to the catalog: tools repeat their catalog SQL, and the catalog
        # handler caches everything else, so these skip the sqlglot parse.
        self._catalog_texts: OrderedDict[str, None] = OrderedDict()
        # Shapes of statements already routed to the semantic handler (routing depends on the
        # relations, functions and statement type, never on literal values).
        self._semantic_shapes: OrderedDict[str, None] = OrderedDict()

    def split(self, sql: str) -> list[str]:
        return lexer.split_statements(sql)

    async def prepare(self, session: Session, sql: str, param_oids: Sequence[int]) -> PreparedStatement:
        key = (sql, tuple(param_oids))
        cached = self._builtin_cache.get(key)
        if cached is not None:
            self._builtin_cache.move_to_end(key)
            return cached
        statements = lexer.split_statements(sql)
        if not statements:
            return empty_statement(sql)
        if len(statements) > 1:
            raise PgError(SYNTAX_ERROR, "cannot insert multiple commands into a prepared statement")
        text = statements[0]
        if self.catalog is not None and text in self._catalog_texts:
            self._catalog_texts.move_to_end(text)
            return await _tagged("catalog", self.catalog(None, text, session, param_oids))
        if lexer.first_word(text) in SESSION_WORDS:
            return await self.session_commands.prepare(session, text, param_oids)
        shape = shape_of(text) if getattr(self.semantic, "accepts_text_only", False) else None
        if shape is not None and shape.key in self._semantic_shapes:
            self._semantic_shapes.move_to_end(shape.key)
            return await _tagged("semantic", self.semantic(None, text, session, param_oids))  # type: ignore[misc]
        tree, error = _parse(text)
        if tree is not None:
            statement = builtins.prepare_builtin(tree, text, param_oids)
            if statement is not None:
                self._remember(key, statement)
                return statement
            if _writes(tree, text):
                verb = _write_verb(tree, text)
                raise PgError(
                    READ_ONLY_SQL_TRANSACTION,
                    f"cannot execute {verb} in a read-only transaction",
                    hint="sqlgate answers queries over data models; it never changes data.",
                )
        route = route_of(tree, text, catalog_available=self.catalog is not None)
        if route == "mixed":
            raise PgError(
                FEATURE_NOT_SUPPORTED,
                "queries mixing cubes with pg_catalog or information_schema relations are not supported",
                hint="Query the catalog and the cubes in separate statements.",
                statement_kind="catalog",
            )
        if route == "catalog":
            if self.catalog is None:
                raise PgError(
                    FEATURE_NOT_SUPPORTED,
                    "catalog queries (pg_catalog, information_schema) are not supported yet",
                    statement_kind="catalog",
                )
            statement = await _tagged("catalog", self.catalog(tree, text, session, param_oids))
            self._catalog_texts[text] = None
            if len(self._catalog_texts) > self._builtin_cache_size:
                self._catalog_texts.popitem(last=False)
            return statement
        if tree is None:
            assert error is not None
            raise error
        if isinstance(tree, exp.Command):
            word = lexer.first_word(text).upper()
            raise PgError(FEATURE_NOT_SUPPORTED, f"{word or 'this statement'} is not supported by sqlgate")
        if self.semantic is None:
            raise PgError(FEATURE_NOT_SUPPORTED, "queries over data models are not supported yet")
        cubes = bool(other_relations(tree))
        statement = await _tagged("semantic", self.semantic(tree, text, session, param_oids))
        if shape is not None and cubes:
            self._semantic_shapes[shape.key] = None
            if len(self._semantic_shapes) > self._builtin_cache_size:
                self._semantic_shapes.popitem(last=False)
        return statement

    def _remember(self, key: tuple[str, tuple[int, ...]], statement: PreparedStatement) -> None:
        self._builtin_cache[key] = statement
        if len(self._builtin_cache) > self._builtin_cache_size:
            self._builtin_cache.popitem(last=False)


def _writes(tree: exp.Expression, sql: str) -> bool:
    if isinstance(tree, _WRITE_STATEMENTS):
        return True
    if isinstance(tree, exp.Select) and tree.args.get("into") is not None:
        return True  # SELECT … INTO creates a table
    return isinstance(tree, exp.Command) and lexer.first_word(sql) in WRITE_WORDS


def _write_verb(tree: exp.Expression, sql: str) -> str:
    if isinstance(tree, exp.Select):
        return "SELECT INTO"
    return lexer.first_word(sql).upper() or "this statement"


async def _tagged(kind: str, work: Awaitable[PreparedStatement]) -> PreparedStatement:
    """Await a handler; its errors say which route refused the statement (``PgError.statement_kind``)."""
    try:
        return await work
    except PgError as exc:
        if exc.statement_kind is None:
            exc.statement_kind = kind
        raise


def route_of(tree: exp.Expression | None, sql: str, *, catalog_available: bool = True) -> str:
    """Where a statement goes: ``catalog``, ``semantic`` or ``mixed`` (refused).

    Catalog statements are those whose relations are all pg_catalog/information_schema/``pg_*``
    relations (or that call catalog functions and read nothing else), and — when a catalog handler
    exists — statements reading no relation at all (``SELECT 'a' ~ 'b'``, ``VALUES``, table functions)
    that the builtins did not answer.
    """
    if tree is None:
        return "catalog" if references_catalog(None, sql) else "semantic"
    catalog = references_catalog(tree, sql)
    others = other_relations(tree)
    if others:
        return "mixed" if catalog else "semantic"
    if catalog:
        return "catalog"
    if catalog_available and not isinstance(tree, exp.Command):
        return "catalog"
    return "semantic"


def other_relations(tree: exp.Expression) -> list[str]:
    """Named relations of ``tree`` that are neither catalog relations nor CTEs (cubes, mostly)."""
    found = []
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function (generate_series(…), unnest(…))
        schema = table.db.lower() if table.db else ""
        name = table.name.lower()
        if schema in _CATALOG_SCHEMAS or (not schema and name.startswith("pg_")):
            continue
        if not schema and _is_cte_reference(table, name):
            continue
        found.append(table.name)
    return found


def _is_cte_reference(table: exp.Table, name: str) -> bool:
    """Whether ``table`` names a CTE in scope. A non-recursive CTE is not in scope inside its own
    body (``WITH orders AS (SELECT * FROM orders)`` reads the cube), nor are later CTEs."""
    child: exp.Expression = table
    parent = table.parent
    while parent is not None:
        if isinstance(parent, exp.With):
            ctes = list(parent.expressions)
            index = next((i for i, cte in enumerate(ctes) if cte is child), len(ctes))
            visible = ctes[: index + 1] if parent.args.get("recursive") else ctes[:index]
            if any(cte.alias_or_name.lower() == name for cte in visible):
                return True
        elif isinstance(parent, exp.Query):
            with_ = parent.args.get("with_")
            if (
                with_ is not None
                and with_ is not child
                and any(cte.alias_or_name.lower() == name for cte in with_.expressions)
            ):
                return True
        child, parent = parent, parent.parent
    return False


def _parse(sql: str) -> tuple[exp.Expression | None, PgError | None]:
    """Parse one statement with sqlglot (postgres); a failure becomes a 42601 with its position."""
    try:
        return parse_statement(sql), None
    except PgError as exc:
        return None, exc


def references_catalog(tree: exp.Expression | None, sql: str) -> bool:
    """True when the statement reads PostgreSQL catalog relations or functions."""
    if tree is None:
        for tok in lexer.tokenize(sql, strict=False):
            if tok.kind == lexer.WORD and (tok.lower in _CATALOG_SCHEMAS or tok.lower.startswith("pg_")):
                return True
        return False
    for table in tree.find_all(exp.Table):
        schema = table.db.lower() if table.db else ""
        name = table.name.lower()
        if schema in _CATALOG_SCHEMAS:
            return True
        if not schema and name.startswith("pg_") and not _is_cte_reference(table, name):
            return True
    for node in tree.find_all(exp.Anonymous, exp.Dot, exp.Cast):
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            if name.startswith("pg_") or name in _CATALOG_FUNCTIONS:
                return True
        elif isinstance(node, exp.Dot):
            if isinstance(node.this, exp.Identifier) and node.this.name.lower() == "pg_catalog":
                return True
        elif node.to.sql("postgres").lower() in _CATALOG_CASTS:
            return True
    return False
