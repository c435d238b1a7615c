"""Load the tool-generated SQL corpus (tests/e2e/toolsql/*.yaml) and check results against its expectations.

The corpus records, per BI tool or driver, the SQL it sends at connect time, while browsing schemas and
when running a generated query (see tests/e2e/toolsql/README.md for the format and the sources). This
module is the one place that knows the format: the corpus self-test replays it on a real PostgreSQL, and
the gateway replay test replays it through sqlgate with the same expectation semantics.

A statement is one or more :class:`Step` objects run on one connection, in order. Placeholders
``{{name}}`` in a step's SQL or parameters are filled from :data:`BUILTIN_VARIABLES`-style values given
by the replayer (``database``, ``user``) and from values an earlier step saved (``save:``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CORPUS_DIR = Path(__file__).resolve().parent.parent / "e2e" / "toolsql"

PHASES = ("connect", "browse", "query")
PROTOCOLS = ("simple", "extended")
ORIGINS = ("capture", "source", "log", "template", "requirement")
EXPECT_KEYS = frozenset(
    {"ok", "rows", "columns", "columns_include", "contains_row", "command_tag", "error", "empty_query"}
)
STEP_KEYS = frozenset(
    {"sql", "params", "param_types", "protocol", "save", "expect", "gateway_expect", "description"}
)
ENTRY_KEYS = frozenset(
    {
        "name",
        "phase",
        "protocol",
        "origin",
        "source",
        "description",
        "sql",
        "params",
        "param_types",
        "sequence",
        "save",
        "expect",
        "pg_only_fails",
        "pg_expect_skip",
        "pipeline",
        "gateway_expect",
        "gateway_reason",
    }
)
FILE_KEYS = frozenset({"tool", "title", "versions", "notes", "statements"})

# Names a replayer must always be able to fill in (the connection's own database and user).
BUILTIN_VARIABLES = ("database", "user")

# Parameter type names the corpus may use, with their PostgreSQL OIDs ("unspecified" lets the server infer).
PARAM_TYPE_OIDS: Mapping[str, int] = {
    "unspecified": 0,
    "bool": 16,
    "name": 19,
    "int8": 20,
    "int2": 21,
    "int4": 23,
    "text": 25,
    "oid": 26,
    "float8": 701,
    "oid[]": 1028,
    "text[]": 1009,
    "varchar": 1043,
    "date": 1082,
    "timestamp": 1114,
    "timestamptz": 1184,
    "numeric": 1700,
}

# The model the corpus assumes, as plain PostgreSQL tables: four cubes in schema public whose columns are
# their members in Cube's order (measures, then dimensions, then __user and __cubeJoinField) with sqlgate's
# stable types (count measures bigint, other measures and numbers numeric,
# time dimensions timestamp, strings text, booleans boolean, plus the __user and __cubeJoinField
# pseudo-columns), with descriptions and a few rows. No keys or indexes: a cube has none.
PG_FIXTURE_SQL = """
CREATE TABLE public.orders (
    count bigint, total_amount numeric, id numeric, status text, created_at timestamp, completed_at timestamp,
    amount numeric, user_id numeric, product_id numeric, is_completed boolean,
    "__user" text, "__cubeJoinField" text
);
CREATE TABLE public.users (
    count bigint, id numeric, name text, city text, created_at timestamp,
    "__user" text, "__cubeJoinField" text
);
CREATE TABLE public.products (
    count bigint, id numeric, name text, category text, price numeric,
    "__user" text, "__cubeJoinField" text
);
CREATE TABLE public.line_items (
    count bigint, total_quantity numeric, id numeric, order_id numeric, product_id numeric, quantity numeric,
    price numeric, created_at timestamp, "__user" text, "__cubeJoinField" text
);
COMMENT ON TABLE public.orders IS 'Orders';
COMMENT ON TABLE public.users IS 'Users';
COMMENT ON TABLE public.products IS 'Products';
COMMENT ON TABLE public.line_items IS 'Line items';
COMMENT ON COLUMN public.orders.status IS 'Order status';
COMMENT ON COLUMN public.orders.count IS 'Number of orders';
INSERT INTO public.orders (id, status, created_at, completed_at, amount, user_id, product_id, is_completed,
                           count, total_amount) VALUES
    (1, 'new', '2024-01-05 10:00', NULL, 10.5, 1, 1, false, 1, 10.5),
    (2, 'shipped', '2024-02-11 12:30', '2024-02-12 09:00', 20, 2, 2, true, 1, 20),
    (3, 'shipped', '2024-03-20 08:15', '2024-03-21 10:00', 7.25, 1, 3, true, 1, 7.25);
INSERT INTO public.users (id, name, city, created_at, count) VALUES
    (1, 'Ann', 'Berlin', '2023-12-01', 1), (2, 'Bob', 'Paris', '2024-01-15', 1);
INSERT INTO public.products (id, name, category, price, count) VALUES
    (1, 'Pen', 'office', 2.5, 1), (2, 'Desk', 'furniture', 120, 1), (3, 'Lamp', 'furniture', 30, 1);
INSERT INTO public.line_items (id, order_id, product_id, quantity, price, created_at, count, total_quantity)
VALUES (1, 1, 1, 4, 2.5, '2024-01-05 10:00', 1, 4), (2, 2, 2, 1, 20, '2024-02-11 12:30', 1, 1);
"""

_PLACEHOLDER = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")
_ROWS_SPEC = re.compile(r"^(==|>=|<=|>|<)?\s*(\d+)$")


class CorpusError(ValueError):
    """A corpus file does not follow the format described in the README."""


@dataclass(frozen=True)
class Expectation:
    """What a PostgreSQL-compatible answer to one step looks like.

    Every key is optional; an empty expectation means "the step succeeds". ``rows`` is an int or a
    comparison such as ``">=1"``; ``columns`` is the exact RowDescription name list;
    ``contains_row`` maps column names to text values that one returned row must have; ``error`` is
    the SQLSTATE the step must fail with (tool probes that expect a failure).
    """

    ok: bool = True
    rows: str | None = None
    columns: tuple[str, ...] | None = None
    columns_include: tuple[str, ...] = ()
    contains_row: Mapping[str, Any] | None = None
    command_tag: str | None = None
    error: str | None = None
    empty_query: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None, where: str) -> Expectation:
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise CorpusError(f"{where}: expect must be a mapping")
        unknown = set(raw) - EXPECT_KEYS
        if unknown:
            raise CorpusError(f"{where}: unknown expect keys {sorted(unknown)}")
        rows = raw.get("rows")
        if rows is not None:
            rows = str(rows).strip()
            if not _ROWS_SPEC.match(rows):
                raise CorpusError(f"{where}: rows must look like 3, '>=1' or '==0', not {rows!r}")
        error = raw.get("error")
        if error is not None and not re.fullmatch(r"[0-9A-Z]{5}", str(error)):
            raise CorpusError(f"{where}: error must be a 5-character SQLSTATE, not {error!r}")
        columns = raw.get("columns")
        return cls(
            ok=bool(raw.get("ok", True)),
            rows=rows,
            columns=tuple(str(c) for c in columns) if columns is not None else None,
            columns_include=tuple(str(c) for c in raw.get("columns_include", ())),
            contains_row=raw.get("contains_row"),
            command_tag=raw.get("command_tag"),
            error=str(error) if error is not None else None,
            empty_query=bool(raw.get("empty_query", False)),
        )


@dataclass(frozen=True)
class Step:
    """One statement sent by the tool, with what the tool binds to it and what it should get back."""

    sql: str
    protocol: str
    params: tuple[str | None, ...] = ()
    param_types: tuple[str, ...] = ()
    save: Mapping[str, Any] = field(default_factory=dict)
    expect: Expectation = field(default_factory=Expectation)
    # What sqlgate answers instead, where it deliberately differs from PostgreSQL (the entry's
    # gateway_reason says why); None: the same as ``expect``.
    gateway_expect: Expectation | None = None

    @property
    def expect_from_gateway(self) -> Expectation:
        """The expectation the gateway replay checks."""
        return self.gateway_expect if self.gateway_expect is not None else self.expect

    def render(self, variables: Mapping[str, str]) -> tuple[str, tuple[str | None, ...]]:
        """The SQL and parameters with every ``{{name}}`` placeholder filled in."""
        return fill(self.sql, variables), tuple(
            None if p is None else fill(p, variables) for p in self.params
        )

    def placeholders(self) -> set[str]:
        names = set(_PLACEHOLDER.findall(self.sql))
        for p in self.params:
            if p is not None:
                names.update(_PLACEHOLDER.findall(p))
        return names


@dataclass(frozen=True)
class ToolStatement:
    """One corpus entry: a statement (or a short multi-statement flow) one tool sends.

    ``steps`` run in order on one connection. ``pipeline`` means the tool sends the steps' extended-protocol
    messages back to back with a single Sync (Npgsql 4/5); ``pg_only_fails``/``pg_expect_skip`` carry the
    reason an entry fails on, or is not checked against, plain PostgreSQL.
    """

    tool: str
    name: str
    phase: str
    protocol: str
    origin: str
    source: Mapping[str, Any]
    steps: tuple[Step, ...]
    description: str = ""
    pg_only_fails: str | None = None
    pg_expect_skip: str | None = None
    pipeline: bool = False
    gateway_reason: str | None = None
    file: Path | None = None

    @property
    def id(self) -> str:
        """Stable test id, ``tool/name``."""
        return f"{self.tool}/{self.name}"

    @property
    def is_sequence(self) -> bool:
        return len(self.steps) > 1


def fill(text: str, variables: Mapping[str, str]) -> str:
    """Replace ``{{name}}`` placeholders; an unknown name is an error, never silently left in the SQL."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise KeyError(f"no value for placeholder {{{{{name}}}}}")
        return str(variables[name])

    return _PLACEHOLDER.sub(sub, text)


def _str_tuple(value: Any, where: str, what: str) -> tuple[Any, ...]:
    if value is None:
        return ()
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise CorpusError(f"{where}: {what} must be a list")
    return tuple(None if v is None else str(v) for v in value)


def _step(raw: Mapping[str, Any], default_protocol: str, where: str) -> Step:
    unknown = set(raw) - STEP_KEYS
    if unknown:
        raise CorpusError(f"{where}: unknown step keys {sorted(unknown)}")
    sql = raw.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise CorpusError(f"{where}: sql must be a non-empty string")
    protocol = raw.get("protocol", default_protocol)
    if protocol not in PROTOCOLS:
        raise CorpusError(f"{where}: protocol must be one of {PROTOCOLS}")
    params = _str_tuple(raw.get("params"), where, "params")
    param_types = _str_tuple(raw.get("param_types"), where, "param_types")
    unknown_types = [t for t in param_types if t not in PARAM_TYPE_OIDS]
    if unknown_types:
        raise CorpusError(f"{where}: unknown param_types {unknown_types} (see PARAM_TYPE_OIDS)")
    if param_types and len(param_types) != len(params):
        raise CorpusError(f"{where}: param_types must match params one to one")
    if params and protocol != "extended":
        raise CorpusError(f"{where}: parameters need the extended protocol")
    save = raw.get("save") or {}
    if not isinstance(save, Mapping):
        raise CorpusError(f"{where}: save must map variable names to columns")
    gateway_expect = raw.get("gateway_expect")
    return Step(
        sql=sql,
        protocol=protocol,
        params=params,
        param_types=param_types,
        save=dict(save),
        expect=Expectation.parse(raw.get("expect"), where),
        gateway_expect=Expectation.parse(gateway_expect, where) if gateway_expect is not None else None,
    )


def parse_entry(tool: str, raw: Mapping[str, Any], where: str, file: Path | None = None) -> ToolStatement:
    """Validate one corpus entry and turn it into a :class:`ToolStatement`."""
    if not isinstance(raw, Mapping):
        raise CorpusError(f"{where}: an entry must be a mapping")
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("name", "phase", "protocol", "origin", "source"):
        if key not in raw:
            raise CorpusError(f"{where}: missing required key {key!r}")
    name = str(raw["name"])
    where = f"{where} ({name})"
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise CorpusError(f"{where}: name must be snake_case")
    if raw["phase"] not in PHASES:
        raise CorpusError(f"{where}: phase must be one of {PHASES}")
    if raw["protocol"] not in PROTOCOLS:
        raise CorpusError(f"{where}: protocol must be one of {PROTOCOLS}")
    if raw["origin"] not in ORIGINS:
        raise CorpusError(f"{where}: origin must be one of {ORIGINS}")
    source = raw["source"]
    if not isinstance(source, Mapping) or not (
        "url" in source or ("repo" in source and "path" in source and "commit" in source)
    ):
        raise CorpusError(f"{where}: source needs either url, or repo + path + commit")
    has_sql, has_seq = "sql" in raw, "sequence" in raw
    if has_sql == has_seq:
        raise CorpusError(f"{where}: give exactly one of sql or sequence")
    if has_sql:
        keys = ("sql", "params", "param_types", "save", "expect", "gateway_expect")
        step_raw = {k: raw[k] for k in keys if k in raw}
        steps: tuple[Step, ...] = (_step(step_raw, raw["protocol"], where),)
    else:
        for key in ("params", "param_types", "save", "expect", "gateway_expect"):
            if key in raw:
                raise CorpusError(f"{where}: {key} belongs to the steps of a sequence")
        seq = raw["sequence"]
        if not isinstance(seq, list) or not seq:
            raise CorpusError(f"{where}: sequence must be a non-empty list of steps")
        steps = tuple(_step(s, raw["protocol"], f"{where} step {i + 1}") for i, s in enumerate(seq))
    gateway_reason = raw.get("gateway_reason")
    if any(step.gateway_expect is not None for step in steps) != bool(gateway_reason):
        raise CorpusError(f"{where}: gateway_expect and gateway_reason go together (say why sqlgate differs)")
    if raw.get("pipeline") and (len(steps) < 2 or any(s.protocol != "extended" for s in steps)):
        raise CorpusError(f"{where}: pipeline needs a sequence of extended-protocol steps")
    known = set(BUILTIN_VARIABLES)
    for i, step in enumerate(steps):
        missing = step.placeholders() - known
        if missing:
            raise CorpusError(f"{where} step {i + 1}: placeholders {sorted(missing)} are never saved before")
        known.update(step.save)
    return ToolStatement(
        tool=tool,
        name=name,
        phase=raw["phase"],
        protocol=raw["protocol"],
        origin=raw["origin"],
        source=dict(source),
        steps=steps,
        description=str(raw.get("description", "")),
        pg_only_fails=raw.get("pg_only_fails"),
        pg_expect_skip=raw.get("pg_expect_skip"),
        pipeline=bool(raw.get("pipeline", False)),
        gateway_reason=str(gateway_reason) if gateway_reason else None,
        file=file,
    )


def load_file(path: Path) -> tuple[dict[str, Any], list[ToolStatement]]:
    """Parse one tool file; returns its header (tool, title, versions, notes) and its statements."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, Mapping):
        raise CorpusError(f"{path.name}: top level must be a mapping")
    unknown = set(doc) - FILE_KEYS
    if unknown:
        raise CorpusError(f"{path.name}: unknown top-level keys {sorted(unknown)}")
    for key in ("tool", "title", "notes", "statements"):
        if key not in doc:
            raise CorpusError(f"{path.name}: missing top-level key {key!r}")
    tool = str(doc["tool"])
    if path.stem != tool:
        raise CorpusError(f"{path.name}: tool {tool!r} must match the file name")
    entries = doc["statements"]
    if not isinstance(entries, list) or not entries:
        raise CorpusError(f"{path.name}: statements must be a non-empty list")
    statements = [parse_entry(tool, raw, f"{path.name}[{i}]", path) for i, raw in enumerate(entries)]
    names = [s.name for s in statements]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CorpusError(f"{path.name}: duplicate names {duplicates}")
    header = {k: v for k, v in doc.items() if k != "statements"}
    return header, statements


def corpus_files(directory: Path = CORPUS_DIR) -> list[Path]:
    """The tool files of the corpus, sorted by name."""
    return sorted(directory.glob("*.yaml"))


def load_corpus(directory: Path = CORPUS_DIR) -> list[ToolStatement]:
    """Every statement of every tool file, in file order."""
    statements: list[ToolStatement] = []
    for path in corpus_files(directory):
        statements.extend(load_file(path)[1])
    return statements


# --- checking answers ----------------------------------------------------------------------------


@dataclass
class StepResult:
    """What a replayer observed for one step, in text form (as a client with text results sees it)."""

    columns: list[str] | None = None
    rows: list[list[str | None]] = field(default_factory=list)
    command_tag: str | None = None
    sqlstate: str | None = None
    message: str | None = None
    empty_query: bool = False

    def value(self, row: Sequence[str | None], column: str) -> str | None:
        assert self.columns is not None
        return row[self.columns.index(column)]


def values_equal(actual: str | None, expected: Any) -> bool:
    """Compare a text-format value with a YAML scalar (booleans match t/f, numbers their text)."""
    if expected is None:
        return actual is None
    if actual is None:
        return False
    if isinstance(expected, bool):
        return actual.lower() in (("t", "true", "on", "1") if expected else ("f", "false", "off", "0"))
    return actual == str(expected)


def _rows_ok(spec: str, count: int) -> bool:
    match = _ROWS_SPEC.match(spec)
    assert match is not None
    op, number = match.group(1) or "==", int(match.group(2))
    return {
        "==": count == number,
        ">=": count >= number,
        "<=": count <= number,
        ">": count > number,
        "<": count < number,
    }[op]


def check(expect: Expectation, result: StepResult) -> list[str]:
    """Every way ``result`` misses ``expect``; an empty list means the answer is acceptable."""
    problems: list[str] = []
    if expect.error is not None:
        if result.sqlstate != expect.error:
            problems.append(f"expected SQLSTATE {expect.error}, got {result.sqlstate or 'success'}")
        return problems
    if result.sqlstate is not None:
        return [f"failed with {result.sqlstate}: {result.message}"]
    if expect.empty_query and not result.empty_query:
        problems.append("expected an EmptyQueryResponse")
    if expect.command_tag is not None and (result.command_tag or "").split(" ")[0] != expect.command_tag:
        problems.append(f"expected command tag {expect.command_tag}, got {result.command_tag}")
    if expect.columns is not None and tuple(result.columns or ()) != expect.columns:
        problems.append(f"expected columns {list(expect.columns)}, got {result.columns}")
    missing = [c for c in expect.columns_include if c not in (result.columns or [])]
    if missing:
        problems.append(f"missing columns {missing} in {result.columns}")
    if expect.rows is not None and not _rows_ok(expect.rows, len(result.rows)):
        problems.append(f"expected rows {expect.rows}, got {len(result.rows)}")
    if expect.contains_row:
        wanted = dict(expect.contains_row)
        absent = [c for c in wanted if c not in (result.columns or [])]
        if absent:
            problems.append(f"contains_row names columns {absent} not in {result.columns}")
        elif not any(
            all(values_equal(result.value(row, c), v) for c, v in wanted.items()) for row in result.rows
        ):
            problems.append(f"no row matches {wanted} among {len(result.rows)} rows")
    return problems


def saved_value(step: Step, variable: str, result: StepResult) -> str:
    """The value ``step`` saves into ``variable`` from ``result`` (first row, or first matching row)."""
    spec = step.save[variable]
    if isinstance(spec, Mapping):
        column, where = str(spec["column"]), dict(spec.get("where", {}))
    else:
        column, where = str(spec), {}
    if result.columns is None or column not in result.columns:
        raise KeyError(f"cannot save {variable}: column {column!r} not in {result.columns}")
    for row in result.rows:
        if all(values_equal(result.value(row, c), v) for c, v in where.items()):
            value = result.value(row, column)
            if value is None:
                raise KeyError(f"cannot save {variable}: {column} is NULL")
            return value
    raise KeyError(f"cannot save {variable}: no row matches {where}")
