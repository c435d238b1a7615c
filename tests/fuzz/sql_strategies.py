# ruff: noqa: E501
"""A grammar of semantic SQL over the fixture models (tests/support/models), as Hypothesis strategies.

Queries are built from the compiled model's real cubes, views and members, so most of them get past
name resolution and reach the interesting parts of the planner: grouping, measures, filters, time
dimensions, wrapping queries, set operations and datasource SQL generation. Around the grammar sit
random token soup and character-level mutations of grammatical queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from sqlgate.semantic import CompiledModel
from tests.support.semantic_harness import fixture_model


@dataclass(frozen=True)
class Rel:
    """One cube or view as the grammar sees it."""

    name: str
    dimensions: tuple[tuple[str, str], ...]  # (name, type)
    measures: tuple[tuple[str, str], ...]
    segments: tuple[str, ...]


def relations(model: CompiledModel | None = None) -> list[Rel]:
    model = model or fixture_model()
    return [
        Rel(
            r.name,
            tuple((n, d.type) for n, d in r.dimensions.items()),
            tuple((n, m.type) for n, m in r.measures.items()),
            tuple(r.segments),
        )
        for r in model.relations()
    ]


RELS = relations()
# Cube groups the join graph connects (first cube first), used for CROSS JOIN queries.
JOINABLE = [("orders", "users"), ("orders", "line_items"), ("line_items", "products"), ("users", "orders")]

# ----------------------------------------------------------------------------- literals

weird_strings = st.sampled_from(
    [
        "completed",
        "shipped",
        "",
        "O''Brien",
        "Zoë",
        "😀",
        "a%b_c",
        "\\",
        "' OR 1=1 --",
        "Ω≈ç√",
        "\u202e",
        "x" * 300,
        "NULL",
        "2024-01-01",
    ]
)
int_literals = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["0", "-0", "9223372036854775807", "-9223372036854775808", "99999999999999999999999999"]),
)
number_literals = st.one_of(
    int_literals,
    st.sampled_from(
        ["1.5", "1e308", "1e-400", "-1e309", ".5", "5.", "0.0000001", "1e999999", "123456789.123456789"]
    ),
    st.sampled_from(["'NaN'::float8", "'Infinity'::float8", "'-Infinity'::numeric", "'NaN'::numeric"]),
)
date_literals = st.sampled_from(
    [
        "'2024-01-01'",
        "'2024-02-30'",
        "'0001-01-01'",
        "'9999-12-31'",
        "'294277-01-01'",
        "'infinity'",
        "'-infinity'",
        "'2023-07-01T00:00:00Z'",
        "'2023-07-01 12:00:00+05:30'",
        "'2024-01-01 24:00:00'",
        "'epoch'",
        "'now'",
        "'not a date'",
        "DATE '2024-01-01'",
        "TIMESTAMP '2023-06-15 10:00:00'",
        "'2023-01-01'::timestamptz",
        "CURRENT_DATE",
        "NOW()",
        "INTERVAL '1 month'",
    ]
)
string_literals = st.one_of(
    weird_strings.map(lambda s: "'" + s + "'"),
    st.sampled_from(["E'\\x41\\n'", "$$dollar$$", "$q$it's$q$", "U&'\\0041'", "'a' || 'b'"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00'"), max_size=12).map(
        lambda s: "'" + s + "'"
    ),
)
literals = st.one_of(
    number_literals,
    string_literals,
    date_literals,
    st.sampled_from(["NULL", "TRUE", "FALSE", "ARRAY[1, 2]", "'{1,2}'::int[]", "$1", "$2"]),
)
type_names = st.sampled_from(
    ["int", "bigint", "smallint", "numeric", "numeric(10, 2)", "float8", "real", "text", "varchar(3)",
     "date", "timestamp", "timestamptz", "interval", "boolean", "uuid", "json", "bytea", "oid", "regclass",
     "no_such_type"]
)  # fmt: skip
functions = st.sampled_from(
    ["UPPER", "LOWER", "LENGTH", "ABS", "ROUND", "CEIL", "FLOOR", "COALESCE", "NULLIF", "CONCAT", "TRIM",
     "SUBSTRING", "LEFT", "MD5", "GREATEST", "LEAST", "SQRT", "LN", "POWER", "TO_CHAR", "pg_sleep",
     "pg_read_file", "generate_series", "current_setting", "set_config", "version", "no_such_function",
     "SUM", "COUNT", "AVG", "MIN", "MAX", "MEASURE", "STRING_AGG", "ARRAY_AGG", "ROW_NUMBER"]
)  # fmt: skip
grains = st.sampled_from(
    ["year", "quarter", "month", "week", "day", "hour", "minute", "second", "decade", "nope"]
)
comparisons = st.sampled_from(
    ["=", "<>", "!=", "<", ">", "<=", ">=", "LIKE", "ILIKE", "NOT LIKE", "~", "IS DISTINCT FROM"]
)
# Positions PostgreSQL refuses: non-integers, huge ones, strings.
ordinals_odd = st.sampled_from(["1.5", "1e3", "2.0", "99999999999999999999", "-1", "'a'", "NULL", "$1"])
arith = st.sampled_from(["+", "-", "*", "/", "%", "||"])


@dataclass(frozen=True)
class Scope:
    """What a query may refer to: its relations (with optional aliases)."""

    rels: tuple[tuple[Rel, str | None], ...]


def _qualify(draw: st.DrawFn, scope: Scope, name: str, rel: Rel, alias: str | None) -> str:
    style = draw(st.integers(0, 5))
    if style == 0:
        return f"{alias or rel.name}.{name}"
    if style == 1:
        return f'"{name}"'
    if style == 2 and len(scope.rels) > 1:
        return f"{alias or rel.name}.{name}"
    return name


@st.composite
def dimension_ref(draw: st.DrawFn, scope: Scope, types: tuple[str, ...] = ()) -> str:
    rel, alias = draw(st.sampled_from(scope.rels))
    options = [d for d in rel.dimensions if not types or d[1] in types] or list(rel.dimensions)
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from(["no_such_column", "__user", "__cubeJoinField", "*"]))
    name, _ = draw(st.sampled_from(options))
    return _qualify(draw, scope, name, rel, alias)


@st.composite
def measure_expr(draw: st.DrawFn, scope: Scope) -> str:
    rel, alias = draw(st.sampled_from(scope.rels))
    if not rel.measures:
        return "COUNT(*)"
    name, mtype = draw(st.sampled_from(rel.measures))
    ref = _qualify(draw, scope, name, rel, alias)
    form = draw(st.integers(0, 6))
    if form <= 2:
        return f"MEASURE({ref})"
    if form == 3:
        agg = {"sum": "SUM", "avg": "AVG", "min": "MIN", "max": "MAX", "count": "COUNT"}.get(mtype, "SUM")
        return f"{agg}({ref})"
    if form == 4:
        return "COUNT(*)"
    if form == 5:
        return f"COUNT(DISTINCT {draw(dimension_ref(scope))})"
    return draw(st.sampled_from(["SUM", "AVG", "MAX"])) + f"({draw(dimension_ref(scope, ('number',)))})"


@st.composite
def scalar_expr(draw: st.DrawFn, scope: Scope, depth: int = 0) -> str:
    choice = draw(st.integers(0, 9 if depth < 2 else 2))
    if choice == 0:
        return draw(dimension_ref(scope))
    if choice == 1:
        return draw(literals)
    if choice == 2:
        return f"DATE_TRUNC('{draw(grains)}', {draw(dimension_ref(scope, ('time',)))})"
    inner = draw(scalar_expr(scope, depth + 1))
    if choice == 3:
        return f"{draw(functions)}({inner})"
    if choice == 4:
        return f"({inner} {draw(arith)} {draw(scalar_expr(scope, depth + 1))})"
    if choice == 5:
        return f"CAST({inner} AS {draw(type_names)})"
    if choice == 6:
        return f"{inner}::{draw(type_names)}"
    if choice == 7:
        return f"CASE WHEN {draw(predicate(scope, depth + 1))} THEN {inner} ELSE {draw(literals)} END"
    if choice == 8:
        return f"EXTRACT({draw(grains)} FROM {draw(dimension_ref(scope, ('time',)))})"
    return f"COALESCE({inner}, {draw(literals)})"


@st.composite
def predicate(draw: st.DrawFn, scope: Scope, depth: int = 0) -> str:
    choice = draw(st.integers(0, 9 if depth < 2 else 4))
    if choice == 0:
        return f"{draw(dimension_ref(scope))} {draw(comparisons)} {draw(literals)}"
    if choice == 1:
        items = draw(st.lists(literals, min_size=1, max_size=4))
        return f"{draw(dimension_ref(scope))} {draw(st.sampled_from(['IN', 'NOT IN']))} ({', '.join(items)})"
    if choice == 2:
        return f"{draw(dimension_ref(scope))} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
    if choice == 3:
        return f"{draw(dimension_ref(scope))} BETWEEN {draw(literals)} AND {draw(literals)}"
    if choice == 4:
        rel, alias = draw(st.sampled_from(scope.rels))
        if rel.segments:
            return _qualify(draw, scope, draw(st.sampled_from(rel.segments)), rel, alias)
        return f"{draw(dimension_ref(scope, ('boolean',)))}"
    if choice == 5:
        return f"({draw(predicate(scope, depth + 1))} {draw(st.sampled_from(['AND', 'OR']))} {draw(predicate(scope, depth + 1))})"
    if choice == 6:
        return f"NOT ({draw(predicate(scope, depth + 1))})"
    if choice == 7:
        return (
            f"{draw(scalar_expr(scope, depth + 1))} {draw(comparisons)} {draw(scalar_expr(scope, depth + 1))}"
        )
    if choice == 8:
        rel = draw(st.sampled_from(RELS))
        dim = draw(st.sampled_from(rel.dimensions))[0]
        return f"{draw(dimension_ref(scope))} IN (SELECT {dim} FROM {rel.name} GROUP BY 1)"
    return draw(st.sampled_from(["TRUE", "1 = 1", "NULL", "EXISTS (SELECT 1)", "$1 = 1"]))


@st.composite
def scopes(draw: st.DrawFn) -> Scope:
    by_name = {r.name: r for r in RELS}
    if draw(st.integers(0, 3)) == 0:
        pair = draw(st.sampled_from(JOINABLE))
        aliases = draw(st.sampled_from([(None, None), ("a", "b")]))
        return Scope(tuple((by_name[n], a) for n, a in zip(pair, aliases, strict=True)))
    rel = draw(st.sampled_from(RELS))
    return Scope(((rel, draw(st.sampled_from([None, None, "t"]))),))


def _from_clause(scope: Scope) -> str:
    parts = [f"{rel.name} {alias}" if alias else rel.name for rel, alias in scope.rels]
    return " CROSS JOIN ".join(parts)


@st.composite
def select_core(draw: st.DrawFn) -> str:
    """One SELECT over cubes: dimensions, measures, filters, grouping, ordering, limits."""
    scope = draw(scopes())
    dims = draw(
        st.lists(
            st.one_of(
                dimension_ref(scope),
                scalar_expr(scope),
                dimension_ref(scope, ("time",)).map(lambda d: f"DATE_TRUNC('month', {d})"),
            ),
            max_size=3,
        )
    )
    measures = draw(st.lists(measure_expr(scope), max_size=3))
    items = dims + measures or [draw(measure_expr(scope))]
    if draw(st.integers(0, 4)) == 0:
        names = ["x", "y", "col", '"Mixed Case"', "count"]
        items = [f"{item} AS {draw(st.sampled_from(names))}{i}" for i, item in enumerate(items)]
    distinct = "DISTINCT " if draw(st.integers(0, 10)) == 0 else ""
    sql = f"SELECT {distinct}{', '.join(items)} FROM {_from_clause(scope)}"
    if draw(st.booleans()):
        sql += f" WHERE {draw(predicate(scope))}"
    if dims and draw(st.integers(0, 4)) > 0:
        group = draw(st.sampled_from(["ordinals", "exprs", "wrong"]))
        if group == "ordinals":
            sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(dims)))
        elif group == "exprs":
            sql += " GROUP BY " + ", ".join(dims)
        else:
            sql += f" GROUP BY {draw(st.one_of(st.integers(0, len(items) + 2).map(str), ordinals_odd))}"
    if measures and draw(st.integers(0, 4)) == 0:
        sql += f" HAVING {draw(measure_expr(scope))} {draw(comparisons)} {draw(number_literals)}"
    if draw(st.integers(0, 2)) == 0:
        position = draw(st.one_of(st.integers(1, len(items) + 1).map(str), ordinals_odd))
        sql += f" ORDER BY {position} {draw(st.sampled_from(['', 'ASC', 'DESC', 'DESC NULLS LAST']))}"
    if draw(st.integers(0, 2)) == 0:
        sql += f" LIMIT {draw(st.sampled_from(['0', '1', '5', '100000', '-1', 'ALL', '9223372036854775808', '$1', 'NULL']))}"
    if draw(st.integers(0, 6)) == 0:
        sql += f" OFFSET {draw(st.sampled_from(['0', '3', '-5', '99999999999999999999']))}"
    return sql


@st.composite
def semantic_queries(draw: st.DrawFn) -> str:
    """A SELECT over cubes, perhaps wrapped in a subquery or CTE, combined by set operations, commented."""
    core = draw(select_core())
    wrap = draw(st.integers(0, 8))
    if wrap == 0:
        sql = f"SELECT * FROM ({core}) AS q"
        if draw(st.booleans()):
            outer = ["1 = 1", "q.x0 IS NULL", "status = 'x'"]
            sql += f" WHERE {draw(st.sampled_from(outer))}"
    elif wrap == 1:
        sql = f"WITH t AS ({core}) SELECT * FROM t ORDER BY 1 LIMIT 10"
    elif wrap == 2:
        sql = f"{core} {draw(st.sampled_from(['UNION', 'UNION ALL', 'INTERSECT', 'EXCEPT']))} {draw(select_core())}"
    elif wrap == 3:
        sql = f"SELECT count(*) FROM ({core}) q"
    else:
        sql = core
    if draw(st.integers(0, 5)) == 0:
        sql = draw(st.sampled_from(["/* c */ ", "-- lead\n", "/* nested /* c */ */ "])) + sql
    if draw(st.integers(0, 5)) == 0:
        sql += draw(st.sampled_from([" -- tail", ";", " ; ", " /* x */", "\n"]))
    return sql


TOKENS = [
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "HAVING", "LIMIT", "OFFSET", "UNION", "ALL", "WITH",
    "AS", "JOIN", "CROSS", "ON", "AND", "OR", "NOT", "IN", "IS", "NULL", "CASE", "WHEN", "THEN", "END",
    "(", ")", ",", ";", "*", "=", "<", "::", "'", '"', "$1", "$$", "/*", "*/", "--", "\n", "MEASURE",
    "orders", "users", "status", "count", "created_at", "DATE_TRUNC", "'month'", "1", "0", "-1", "1e400",
    "'😀'", "pg_catalog.pg_class", "information_schema.tables", "COPY", "SET", "SHOW", "BEGIN", "VALUES",
    "LATERAL", "OVER", "PARTITION", "ARRAY", "[", "]", "E'\\\\'", "U&'\\0041'", "FETCH", "FIRST", "ROWS",
]  # fmt: skip


@st.composite
def token_soup(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=20))
    return " ".join(tokens)


@st.composite
def mutated_query(draw: st.DrawFn) -> str:
    """A grammatical query with a few characters deleted, repeated or replaced."""
    sql = draw(semantic_queries())
    for _ in range(draw(st.integers(1, 3))):
        if not sql:
            break
        pos = draw(st.integers(0, len(sql) - 1))
        kind = draw(st.integers(0, 3))
        if kind == 0:
            sql = sql[:pos] + sql[pos + draw(st.integers(1, 6)) :]
        elif kind == 1:
            sql = sql[:pos] + sql[pos : pos + 8] + sql[pos:]
        elif kind == 2:
            sql = sql[:pos] + draw(st.sampled_from(TOKENS)) + sql[pos:]
        else:
            sql = (
                sql[:pos] + draw(st.sampled_from(["'", '"', "(", ")", "$", ";", "\\", "é"])) + sql[pos + 1 :]
            )
    return sql


def any_sql() -> st.SearchStrategy[str]:
    """Grammatical queries most of the time, mutated ones and token soup otherwise."""
    return st.one_of(semantic_queries(), semantic_queries(), mutated_query(), token_soup())


# ----------------------------------------------------------------------------- queries with an oracle


@dataclass(frozen=True)
class OracleQuery:
    """Semantic SQL over ``orders`` and hand-equivalent SQL over the raw ``orders`` table."""

    semantic: str
    raw: str


# Dimension (semantic, raw) pairs of the orders cube (see tests/support/models/orders.yml).
ORDER_DIMENSIONS = [
    ("status", "status"),
    ("is_shipped", "shipped_at IS NOT NULL"),
    (
        "status_group",
        "CASE WHEN status IN ('completed', 'shipped') THEN 'done' WHEN status = 'cancelled' THEN 'lost' ELSE 'open' END",
    ),
    ("DATE_TRUNC('month', created_at)", "DATE_TRUNC('month', created_at)"),
    ("DATE_TRUNC('year', created_at)", "DATE_TRUNC('year', created_at)"),
]
ORDER_MEASURES = [
    ("MEASURE(count)", "COUNT(*)"),
    ("MEASURE(total_discount)", "SUM(discount)"),
    ("MEASURE(min_discount)", "MIN(discount)"),
    ("MEASURE(max_discount)", "MAX(discount)"),
    ("MEASURE(customers)", "COUNT(DISTINCT user_id)"),
    ("MEASURE(completed_count)", "COUNT(CASE WHEN status = 'completed' THEN 1 END)"),
]
oracle_strings = st.one_of(
    st.sampled_from(
        ["completed", "shipped", "pending", "cancelled", "returned", "", "Zoë", "%", "a_b", "O'Brien"]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00\\"), max_size=6),
)
oracle_numbers = st.one_of(
    st.integers(-5, 60).map(str),
    st.decimals(min_value=-5, max_value=60, places=2, allow_nan=False).map(str),
    st.sampled_from(["0", "10", "10.0", "9.99", "1e1", "0.5e2"]),
)
oracle_dates = st.sampled_from(
    [
        "2023-01-01",
        "2023-07-01",
        "2023-12-31 23:59:59",
        "2024-01-01T00:00:00",
        "2023-06-15 12:30:00",
        "2022-01-01",
        "2030-01-01",
    ]
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@st.composite
def oracle_predicate(draw: st.DrawFn, depth: int = 0) -> tuple[str, str]:
    """A filter on orders, as (semantic, raw) text; both sides read the same literal."""
    choice = draw(st.integers(0, 8 if depth < 2 else 5))
    if choice == 0:
        values = [_quote(v) for v in draw(st.lists(oracle_strings, min_size=1, max_size=4))]
        neg = draw(st.sampled_from(["", "NOT "]))
        text = f"status {neg}IN ({', '.join(values)})"
        return text, text
    if choice == 1:
        op = draw(st.sampled_from(["=", "<>", "<", ">", "<=", ">="]))
        text = f"discount {op} {draw(oracle_numbers)}"
        return text, text
    if choice == 2:
        op = draw(st.sampled_from(["<", ">=", ">", "<="]))
        literal = _quote(draw(oracle_dates))
        return f"created_at {op} {literal}", f"created_at {op} CAST({literal} AS TIMESTAMPTZ)"
    if choice == 3:
        neg = draw(st.sampled_from(["", "NOT "]))
        text = f"note IS {neg}NULL" if draw(st.booleans()) else f"user_id IS {neg}NULL"
        return text, text
    if choice == 4:
        pattern = _quote(draw(st.sampled_from(["%a%", "c%", "%ed", "_", "%", "x%y", "%Ë%"])))
        op = draw(st.sampled_from(["LIKE", "NOT LIKE"]))
        return f"status {op} {pattern}", f"status {op} {pattern}"
    if choice == 5:
        low, high = draw(oracle_numbers), draw(oracle_numbers)
        text = f"discount BETWEEN {low} AND {high}"
        return text, text
    if choice in (6, 7):
        (ls, lr), (rs, rr) = draw(oracle_predicate(depth + 1)), draw(oracle_predicate(depth + 1))
        op = "AND" if choice == 6 else "OR"
        return f"({ls} {op} {rs})", f"({lr} {op} {rr})"
    inner_s, inner_r = draw(oracle_predicate(depth + 1))
    return f"NOT ({inner_s})", f"NOT ({inner_r})"


@st.composite
def oracle_queries(draw: st.DrawFn) -> OracleQuery:
    """A grouped query over orders with random filters, and its answer written over the raw table."""
    dims = draw(st.lists(st.sampled_from(ORDER_DIMENSIONS), max_size=2, unique=True))
    measures = draw(st.lists(st.sampled_from(ORDER_MEASURES), min_size=1, max_size=3, unique=True))
    semantic = f"SELECT {', '.join([d[0] for d in dims] + [m[0] for m in measures])} FROM orders"
    raw = f"SELECT {', '.join([d[1] for d in dims] + [m[1] for m in measures])} FROM orders"
    if draw(st.integers(0, 4)) > 0:
        ps, pr = draw(oracle_predicate())
        semantic += f" WHERE {ps}"
        raw += f" WHERE {pr}"
    if dims:
        group = " GROUP BY " + ", ".join(str(i + 1) for i in range(len(dims)))
        semantic += group
        raw += group
    return OracleQuery(semantic, raw)


# ----------------------------------------------------------------------------- session statements

SETTINGS = ["application_name", "search_path", "TimeZone", "DateStyle", "statement_timeout", "extra_float_digits",
            "client_encoding", "IntervalStyle", "standard_conforming_strings", "no_such_setting", "work_mem",
            "transaction_isolation", "default_transaction_read_only", "bytea_output", "lc_messages"]  # fmt: skip
SETTING_VALUES = ["'x'", "DEFAULT", "0", "-1", "99999999999999999999", "'UTC'", "'+05:30'", "'ISO, DMY'",
                  "on", "off", "1e400", "'NaN'", "LOCAL", "'😀'", "\"quoted\"", "public, \"$user\"", "''",
                  "'1 day'", "'5s'", "3.5"]  # fmt: skip
CURSOR_NAMES = ["c", '"C 1"', "c2", "no_such_cursor"]
PREPARED_NAMES = ["p", "p2", '"P x"', "no_such_statement"]


@st.composite
def session_statements(draw: st.DrawFn) -> str:
    """SET/SHOW/transaction/PREPARE/cursor statements with random names and values."""
    setting = draw(st.sampled_from(SETTINGS))
    value = draw(st.sampled_from(SETTING_VALUES))
    cursor = draw(st.sampled_from(CURSOR_NAMES))
    prepared = draw(st.sampled_from(PREPARED_NAMES))
    inner = draw(st.one_of(select_core(), st.sampled_from(["SELECT 1", "SELECT $1::int", "SHOW ALL"])))
    templates = [
        f"SET {setting} = {value}",
        f"SET SESSION {setting} TO {value}",
        f"SET LOCAL {setting} = {value}",
        f"SET TIME ZONE {value}",
        f"RESET {setting}",
        "RESET ALL",
        f"SHOW {setting}",
        "SHOW ALL",
        "SHOW TRANSACTION ISOLATION LEVEL",
        draw(
            st.sampled_from(
                [
                    "BEGIN",
                    "BEGIN READ ONLY",
                    "START TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                    "COMMIT",
                    "ROLLBACK",
                    "END",
                    "ABORT",
                    "SAVEPOINT s",
                    "RELEASE s",
                    "ROLLBACK TO s",
                    "DISCARD ALL",
                    "DISCARD PLANS",
                    "UNLISTEN *",
                    "LISTEN x",
                    "NOTIFY x",
                ]
            )
        ),
        f"PREPARE {prepared} AS {inner}",
        f"PREPARE {prepared} ({draw(type_names)}) AS {inner}",
        f"EXECUTE {prepared}",
        f"EXECUTE {prepared} ({draw(literals)})",
        f"DEALLOCATE {prepared}",
        "DEALLOCATE ALL",
        f"DECLARE {cursor} CURSOR FOR {inner}",
        f"DECLARE {cursor} {draw(st.sampled_from(['SCROLL', 'NO SCROLL', 'BINARY', 'INSENSITIVE']))} CURSOR WITH HOLD FOR {inner}",
        f"FETCH {draw(st.sampled_from(['', 'NEXT', '5', 'ALL', 'FORWARD 2', 'BACKWARD 1', 'ABSOLUTE 3', '-1', '99999999999999999999']))} FROM {cursor}",
        f"MOVE {draw(st.sampled_from(['', '3', 'ALL', 'LAST']))} IN {cursor}",
        f"CLOSE {draw(st.sampled_from([*CURSOR_NAMES, 'ALL']))}",
    ]
    return draw(st.sampled_from(templates))


@st.composite
def session_scripts(draw: st.DrawFn) -> list[str]:
    """A few statements run one after another on the same session (transactions, cursors, prepares)."""
    return draw(
        st.lists(
            st.one_of(session_statements(), session_statements(), semantic_queries()), min_size=1, max_size=6
        )
    )
