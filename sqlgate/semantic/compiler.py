"""Compile Cube-style YAML model files into a :class:`~sqlgate.semantic.model.CompiledModel`.

The compiler reads every file, builds cubes and views, resolves ``{…}`` references, checks joins and
view join paths, and reports every problem it finds with the file, line and member it concerns. It
does no I/O and does not depend on the datasource: SQL snippets stay text until the planner parses
them in the datasource's dialect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlgate.semantic.definitions import (
    CALCULATED_MEASURES,
    DIMENSION_TYPES,
    JOIN_FIELD_COLUMN,
    MEASURE_TYPES,
    RELATIONSHIP_ALIASES,
    USER_COLUMN,
    CaseDef,
    CaseWhen,
    Cube,
    Join,
    Member,
    Relation,
    View,
    ViewOrigin,
)
from sqlgate.semantic.errors import ModelError, ModelErrors
from sqlgate.semantic.model import CompiledModel
from sqlgate.semantic.template import (
    MemberRef,
    Part,
    RawRef,
    SqlTemplate,
    TableRef,
    TemplateError,
    split_template,
)
from sqlgate.semantic.yaml_loader import LineDict, load_yaml

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

# Keys we read, keys we accept and ignore (they do not change query results), and keys whose meaning
# we do not implement: ignoring those would give wrong answers, so they are errors.
_CUBE_KEYS = {
    "name",
    "sql_table",
    "sql",
    "title",
    "description",
    "public",
    "shown",
    "measures",
    "dimensions",
    "segments",
    "joins",
}
_CUBE_IGNORED = {
    "meta",
    "pre_aggregations",
    "refresh_key",
    "data_source",
    "sql_alias",
    "folders",
    "hierarchies",
    "calendar",
    "rewrite_queries",
    "context_members",
}
_CUBE_UNSUPPORTED = {"extends": "extends", "access_policy": "access_policy"}
_MEASURE_KEYS = {
    "name",
    "type",
    "sql",
    "title",
    "description",
    "public",
    "shown",
    "filters",
    "rolling_window",
}
_MEASURE_IGNORED = {
    "format",
    "meta",
    "drill_members",
    "drill_filters",
    "visible",
    "cumulative",
    "order",
    "key",
    "synonyms",
}
_MEASURE_UNSUPPORTED = {
    "multi_stage": "multi_stage measures",
    "time_shift": "time_shift",
    "reduce_by": "reduce_by",
    "add_group_by": "add_group_by",
    "group_by": "group_by",
    "running_total": "running_total",
}
_DIMENSION_KEYS = {"name", "type", "sql", "title", "description", "public", "shown", "primary_key", "case"}
_DIMENSION_IGNORED = {
    "format",
    "meta",
    "suggest_filter_values",
    "granularities",
    "order",
    "key",
    "synonyms",
    "values",
}
_DIMENSION_UNSUPPORTED = {
    "sub_query": "sub_query dimensions",
    "propagate_filters_to_sub_query": "propagate_filters_to_sub_query",
    "multi_stage": "multi_stage dimensions",
    "latitude": "geo dimensions",
    "longitude": "geo dimensions",
}
_SEGMENT_KEYS = {"name", "sql", "title", "description", "public", "shown"}
_SEGMENT_IGNORED = {"meta"}
_JOIN_KEYS = {"name", "relationship", "sql"}
_VIEW_KEYS = {
    "name",
    "title",
    "description",
    "public",
    "shown",
    "cubes",
    "measures",
    "dimensions",
    "segments",
}
_VIEW_IGNORED = {"meta", "folders"}
_VIEW_UNSUPPORTED = {
    "extends": "extends",
    "access_policy": "access_policy",
    "includes": "view-level includes (use cubes: with join_path)",
    "excludes": "view-level excludes (use cubes: with join_path)",
}
_VIEW_CUBE_KEYS = {"join_path", "includes", "excludes", "prefix", "alias"}


def snake_case(key: str) -> str:
    """``sqlTable`` → ``sql_table``; snake_case keys are returned unchanged."""
    return _CAMEL.sub("_", key).lower()


@dataclass
class _Context:
    """Errors and warnings collected while compiling."""

    errors: list[ModelError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(
        self,
        message: str,
        *,
        file: str,
        line: int | None = None,
        scope: str | None = None,
        member: str | None = None,
    ) -> None:
        self.errors.append(ModelError(message, file=file, line=line, scope=scope, member=member))


@dataclass(frozen=True)
class ValidationResult:
    """What ``models push``/``models validate`` report: problems, warnings and what was found."""

    errors: list[ModelError]
    warnings: list[str]
    cubes: list[str]
    views: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors


def compile_model(files: Sequence[tuple[str, str]], *, checksum: str | None = None) -> CompiledModel:
    """Compile model files ``[(file name, text), …]`` into a :class:`CompiledModel`.

    Raises :class:`~sqlgate.semantic.errors.ModelError` (a :class:`ModelErrors` holding every problem
    when there are several) naming the file, line and member of the first problem.
    """
    ctx = _Context()
    model = _compile(files, ctx, checksum)
    if ctx.errors:
        raise ModelErrors(ctx.errors)
    return model


def validate_files(files: Sequence[tuple[str, str]], *, dialect: str | None = None) -> ValidationResult:
    """Check model files without raising: every problem, every warning, and the cube/view names.

    With ``dialect`` (a sqlglot dialect name: the datasource's) every SQL snippet is also parsed the
    way queries will parse it, so SQL errors show up at push time instead of at query time.
    """
    ctx = _Context()
    model = _compile(files, ctx, None)
    if dialect is not None and not ctx.errors:
        check_sql(model, dialect, ctx.errors)
    return ValidationResult(
        errors=ctx.errors,
        warnings=ctx.warnings,
        cubes=sorted(model.cubes),
        views=sorted(model.views),
    )


def _compile(files: Sequence[tuple[str, str]], ctx: _Context, checksum: str | None) -> CompiledModel:
    cubes: dict[str, Cube] = {}
    views: dict[str, View] = {}
    raw_views: list[tuple[View, LineDict]] = []
    seen_names: dict[str, str] = {}  # lower-cased name -> file that defined it

    for file, text in files:
        for kind, definition in _read_file(file, text, ctx):
            relation = (
                _build_cube(definition, file, ctx) if kind == "cube" else _start_view(definition, file, ctx)
            )
            if relation is None:
                continue
            folded = relation.name.lower()
            if folded in seen_names:
                ctx.error(
                    f"duplicate name: '{relation.name}' is also defined in {seen_names[folded]}"
                    " (cube and view names must be unique, ignoring case)",
                    file=file,
                    line=relation.line,
                    scope=relation.label,
                )
                continue
            seen_names[folded] = file
            if isinstance(relation, Cube):
                cubes[relation.name] = relation
            else:
                assert isinstance(relation, View)
                views[relation.name] = relation
                raw_views.append((relation, definition))

    for cube in cubes.values():
        _resolve_cube(cube, cubes, ctx)
    _check_cycles(cubes, ctx)
    for view, definition in raw_views:
        _finish_view(view, definition, cubes, ctx)
    return CompiledModel(cubes, views, checksum=checksum, warnings=ctx.warnings)


# --------------------------------------------------------------------------------------------- files


def _read_file(file: str, text: str, ctx: _Context) -> Iterable[tuple[str, LineDict]]:
    lower = file.lower()
    if lower.endswith((".js", ".ts", ".mjs", ".cjs")):
        ctx.error("JS models are not supported yet (write the model in YAML)", file=file)
        return
    if not lower.endswith((".yml", ".yaml")):
        ctx.warnings.append(f"{file}: ignored (not a .yml/.yaml model file)")
        return
    if text is None or not text.strip():
        return
    try:
        document = load_yaml(text, file)
    except ModelError as exc:
        ctx.errors.append(exc)
        return
    if document is None:
        return
    if not isinstance(document, dict):
        ctx.error("a model file must be a mapping with 'cubes:' and/or 'views:'", file=file, line=1)
        return
    for key in document:
        if snake_case(key) not in ("cubes", "views"):
            ctx.warnings.append(f"{file}: top-level key '{key}' ignored")
    for key, kind in (("cubes", "cube"), ("views", "view")):
        entries = _get(document, key)
        if entries is None:
            continue
        if isinstance(entries, dict):  # name: definition mapping
            entries = [_named(name, value) for name, value in entries.items()]
        if not isinstance(entries, list):
            ctx.error(f"'{key}:' must be a list", file=file, line=_line(document, key))
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                ctx.error(f"each entry of '{key}:' must be a mapping", file=file, line=_line(document, key))
                continue
            yield kind, _normalise_keys(entry)


def _named(name: str, value: Any) -> Any:
    if isinstance(value, dict):
        copy = LineDict(value)
        copy.line = getattr(value, "line", None)
        copy.key_lines = dict(getattr(value, "key_lines", {}))
        copy.setdefault("name", name)
        return copy
    return value


def _normalise_keys(definition: dict[str, Any]) -> LineDict:
    """A copy of a definition mapping with snake_case keys (line numbers kept)."""
    result = LineDict()
    result.line = getattr(definition, "line", None)
    result.key_lines = {}
    lines = getattr(definition, "key_lines", {})
    for key, value in definition.items():
        norm = snake_case(str(key))
        result[norm] = value
        if key in lines:
            result.key_lines[norm] = lines[key]
    return result


def _get(mapping: dict[str, Any], key: str) -> Any:
    if key in mapping:
        return mapping[key]
    for other, value in mapping.items():
        if snake_case(other) == key:
            return value
    return None


def _line(mapping: Any, key: str | None = None) -> int | None:
    if key is not None and isinstance(mapping, LineDict):
        return mapping.line_of(key)
    return getattr(mapping, "line", None)


def _check_keys(
    definition: LineDict,
    known: set[str],
    ignored: set[str],
    unsupported: dict[str, str],
    ctx: _Context,
    *,
    file: str,
    scope: str | None,
    member: str | None,
) -> bool:
    """Warn about unknown keys, fail on keys whose feature is not implemented. False on failure."""
    ok = True
    for key in definition:
        if key in known or key in ignored:
            continue
        if key in unsupported:
            ctx.error(
                f"{unsupported[key]} is not supported yet",
                file=file,
                line=_line(definition, key),
                scope=scope,
                member=member,
            )
            ok = False
        else:
            where = " ".join(x for x in (scope, member) if x)
            ctx.warnings.append(f"{file}:{_line(definition, key)}: {where}: unknown key '{key}' ignored")
    return ok


def _name_of(
    definition: LineDict, ctx: _Context, *, file: str, what: str, scope: str | None = None
) -> str | None:
    name = definition.get("name")
    if not isinstance(name, str) or not name:
        ctx.error(f"{what} without a 'name'", file=file, line=_line(definition), scope=scope)
        return None
    if not _IDENTIFIER.match(name):
        ctx.error(
            f"invalid {what} name '{name}' (letters, digits and _ only, not starting with a digit)",
            file=file,
            line=_line(definition, "name"),
            scope=scope,
        )
        return None
    if name in (USER_COLUMN, JOIN_FIELD_COLUMN) or name.lower() in ("__user", "__cubejoinfield"):
        ctx.error(f"'{name}' is a reserved name", file=file, line=_line(definition, "name"), scope=scope)
        return None
    return name


def _public(definition: LineDict) -> bool:
    if "public" in definition:
        return bool(definition["public"])
    if "shown" in definition:
        return bool(definition["shown"])
    return True


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def _template(
    value: Any,
    ctx: _Context,
    *,
    file: str,
    line: int | None,
    scope: str,
    member: str | None,
    what: str = "sql",
) -> SqlTemplate | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        ctx.error(f"'{what}' must be a string", file=file, line=line, scope=scope, member=member)
        return None
    try:
        return split_template(str(value))
    except TemplateError as exc:
        ctx.error(f"{what}: {exc}", file=file, line=line, scope=scope, member=member)
        return None


def _members(definition: LineDict, key: str) -> list[Any]:
    value = definition.get(key)
    if value is None:
        return []
    if isinstance(value, dict):
        return [_named(name, entry) for name, entry in value.items()]
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------------------------- cubes


def _build_cube(definition: LineDict, file: str, ctx: _Context) -> Cube | None:
    name = _name_of(definition, ctx, file=file, what="cube")
    if name is None:
        return None
    scope = f"cube '{name}'"
    if not _check_keys(
        definition, _CUBE_KEYS, _CUBE_IGNORED, _CUBE_UNSUPPORTED, ctx, file=file, scope=scope, member=None
    ):
        return None
    cube = Cube(name=name, **_described(definition, file))
    sql_table, sql = definition.get("sql_table"), definition.get("sql")
    if sql_table is not None and sql is not None:
        ctx.error(
            "give either 'sql_table' or 'sql', not both",
            file=file,
            line=_line(definition, "sql"),
            scope=scope,
        )
    elif sql_table is None and sql is None:
        ctx.error("needs 'sql_table' or 'sql'", file=file, line=_line(definition), scope=scope)
    elif sql_table is not None:
        if not isinstance(sql_table, str) or not sql_table.strip():
            ctx.error(
                "'sql_table' must be a table name",
                file=file,
                line=_line(definition, "sql_table"),
                scope=scope,
            )
        else:
            cube.sql_table = sql_table.strip()
    else:
        cube.sql = _template(sql, ctx, file=file, line=_line(definition, "sql"), scope=scope, member=None)

    for entry in _members(definition, "measures"):
        member = _build_measure(entry, cube, file, ctx)
        if member is not None:
            _add_member(cube, cube.measures, member, ctx)
    for entry in _members(definition, "dimensions"):
        member = _build_dimension(entry, cube, file, ctx)
        if member is not None:
            _add_member(cube, cube.dimensions, member, ctx)
    for entry in _members(definition, "segments"):
        member = _build_segment(entry, cube, file, ctx)
        if member is not None:
            _add_member(cube, cube.segments, member, ctx)
    for entry in _members(definition, "joins"):
        join = _build_join(entry, cube, file, ctx)
        if join is not None:
            if join.target in cube.joins:
                ctx.error(f"join to '{join.target}' declared twice", file=file, line=join.line, scope=scope)
            else:
                cube.joins[join.target] = join
    return cube


def _add_member(relation: Relation, bucket: dict[str, Member], member: Member, ctx: _Context) -> None:
    existing = relation.get(member.name)
    clash = existing or next((m for m in relation.members() if m.name.lower() == member.name.lower()), None)
    if clash is not None:
        ctx.error(
            f"duplicate member name (also a {clash.kind} '{clash.name}')",
            file=member.file,
            line=member.line,
            scope=relation.label,
            member=member.label,
        )
        return
    bucket[member.name] = member


def _declared_member(
    definition: LineDict, relation: Relation, name: str, kind: str, type_: str, *, file: str, **extra: Any
) -> Member:
    """A member with the fields every kind reads from its definition (title, description, public …)."""
    return Member(
        owner=relation.name,
        name=name,
        kind=kind,  # type: ignore[arg-type]
        type=type_,
        **_described(definition, file),
        **extra,
    )


def _described(definition: LineDict, file: str) -> dict[str, Any]:
    """Fields cubes, views and members all take from their definition."""
    return {
        "title": _text(definition.get("title")),
        "description": _text(definition.get("description")),
        "public": _public(definition),
        "file": file,
        "line": _line(definition),
    }


def _member_header(
    entry: Any, kind: str, relation: Relation, file: str, ctx: _Context
) -> tuple[LineDict, str] | None:
    if not isinstance(entry, dict):
        ctx.error(f"each {kind} must be a mapping", file=file, line=relation.line, scope=relation.label)
        return None
    definition = _normalise_keys(entry)
    name = _name_of(definition, ctx, file=file, what=kind, scope=relation.label)
    if name is None:
        return None
    return definition, name


def _type_of(
    definition: LineDict, allowed: frozenset[str], ctx: _Context, *, file: str, scope: str, label: str
) -> str | None:
    raw = definition.get("type")
    if raw is None:
        ctx.error("missing 'type'", file=file, line=_line(definition), scope=scope, member=label)
        return None
    kind = snake_case(str(raw))
    if kind in allowed:
        return kind
    if kind == "running_total":
        ctx.error(
            "type 'running_total' is not supported yet",
            file=file,
            line=_line(definition, "type"),
            scope=scope,
            member=label,
        )
        return None
    if kind == "geo":
        ctx.error(
            "type 'geo' is not supported yet",
            file=file,
            line=_line(definition, "type"),
            scope=scope,
            member=label,
        )
        return None
    ctx.error(
        f"unknown type '{raw}' (expected one of: {', '.join(sorted(allowed))})",
        file=file,
        line=_line(definition, "type"),
        scope=scope,
        member=label,
    )
    return None


def _build_measure(entry: Any, cube: Relation, file: str, ctx: _Context) -> Member | None:
    header = _member_header(entry, "measure", cube, file, ctx)
    if header is None:
        return None
    definition, name = header
    label = f"measure '{name}'"
    scope = cube.label
    if not _check_keys(
        definition,
        _MEASURE_KEYS,
        _MEASURE_IGNORED,
        _MEASURE_UNSUPPORTED,
        ctx,
        file=file,
        scope=scope,
        member=label,
    ):
        return None
    if definition.get("rolling_window") is not None:
        ctx.error(
            "rolling_window is not supported yet",
            file=file,
            line=_line(definition, "rolling_window"),
            scope=scope,
            member=label,
        )
        return None
    kind = _type_of(definition, MEASURE_TYPES, ctx, file=file, scope=scope, label=label)
    if kind is None:
        return None
    sql = _template(
        definition.get("sql"), ctx, file=file, line=_line(definition, "sql"), scope=scope, member=label
    )
    if sql is None and kind != "count":
        if "sql" not in definition:
            ctx.error(
                f"a measure of type '{kind}' needs 'sql'",
                file=file,
                line=_line(definition),
                scope=scope,
                member=label,
            )
        return None
    filters: list[SqlTemplate] = []
    raw_filters = definition.get("filters") or []
    if not isinstance(raw_filters, list):
        ctx.error(
            "'filters' must be a list of {sql: …}",
            file=file,
            line=_line(definition, "filters"),
            scope=scope,
            member=label,
        )
        return None
    if raw_filters and kind in CALCULATED_MEASURES:
        ctx.error(
            f"'filters' cannot be used on a measure of type '{kind}'",
            file=file,
            line=_line(definition, "filters"),
            scope=scope,
            member=label,
        )
        return None
    for item in raw_filters:
        text = item.get("sql") if isinstance(item, dict) else None
        if text is None:
            ctx.error(
                "each filter needs 'sql'",
                file=file,
                line=_line(definition, "filters"),
                scope=scope,
                member=label,
            )
            return None
        template = _template(
            text, ctx, file=file, line=_line(item, "sql"), scope=scope, member=label, what="filters.sql"
        )
        if template is None:
            return None
        filters.append(template)
    return _declared_member(
        definition, cube, name, "measure", kind, file=file, sql=sql, filters=tuple(filters)
    )


def _build_dimension(entry: Any, cube: Relation, file: str, ctx: _Context) -> Member | None:
    header = _member_header(entry, "dimension", cube, file, ctx)
    if header is None:
        return None
    definition, name = header
    label = f"dimension '{name}'"
    scope = cube.label
    if not _check_keys(
        definition,
        _DIMENSION_KEYS,
        _DIMENSION_IGNORED,
        _DIMENSION_UNSUPPORTED,
        ctx,
        file=file,
        scope=scope,
        member=label,
    ):
        return None
    kind = _type_of(definition, DIMENSION_TYPES, ctx, file=file, scope=scope, label=label)
    if kind is None:
        return None
    case = None
    if definition.get("case") is not None:
        case = _build_case(definition, ctx, file=file, scope=scope, label=label)
        if case is None:
            return None
    sql = _template(
        definition.get("sql"), ctx, file=file, line=_line(definition, "sql"), scope=scope, member=label
    )
    if sql is None and case is None:
        if "sql" not in definition:
            ctx.error(
                "a dimension needs 'sql' (or 'case')",
                file=file,
                line=_line(definition),
                scope=scope,
                member=label,
            )
        return None
    return _declared_member(
        definition,
        cube,
        name,
        "dimension",
        kind,
        file=file,
        sql=sql,
        primary_key=bool(definition.get("primary_key", False)),
        case=case,
    )


def _build_case(definition: LineDict, ctx: _Context, *, file: str, scope: str, label: str) -> CaseDef | None:
    raw = definition["case"]
    line = _line(definition, "case")
    if not isinstance(raw, dict):
        ctx.error(
            "'case' must be a mapping with 'when' (and 'else')",
            file=file,
            line=line,
            scope=scope,
            member=label,
        )
        return None
    raw = _normalise_keys(raw)
    whens_raw = raw.get("when")
    if not isinstance(whens_raw, list) or not whens_raw:
        ctx.error("'case' needs a non-empty 'when' list", file=file, line=line, scope=scope, member=label)
        return None
    whens: list[CaseWhen] = []
    for item in whens_raw:
        if not isinstance(item, dict) or "sql" not in item or "label" not in item:
            ctx.error(
                "each 'when' needs 'sql' and 'label'",
                file=file,
                line=_line(item) or line,
                scope=scope,
                member=label,
            )
            return None
        condition = _template(item["sql"], ctx, file=file, line=_line(item, "sql"), scope=scope, member=label)
        case_label = _case_label(
            item["label"], ctx, file=file, line=_line(item, "label"), scope=scope, label=label
        )
        if condition is None or case_label is None:
            return None
        whens.append(CaseWhen(condition, case_label))
    else_label: str | SqlTemplate | None = None
    otherwise = raw.get("else")
    if isinstance(otherwise, dict) and "label" in otherwise:
        else_label = _case_label(
            otherwise["label"], ctx, file=file, line=_line(otherwise, "label"), scope=scope, label=label
        )
        if else_label is None:
            return None
    elif otherwise is not None:
        ctx.error(
            "'else' must be a mapping with 'label'",
            file=file,
            line=_line(raw, "else"),
            scope=scope,
            member=label,
        )
        return None
    return CaseDef(tuple(whens), else_label)


def _case_label(
    value: Any, ctx: _Context, *, file: str, line: int | None, scope: str, label: str
) -> str | SqlTemplate | None:
    if isinstance(value, dict):
        if "sql" not in value:
            ctx.error("a computed label needs 'sql'", file=file, line=line, scope=scope, member=label)
            return None
        return _template(value["sql"], ctx, file=file, line=_line(value, "sql"), scope=scope, member=label)
    if value is None or isinstance(value, list):
        ctx.error("a case label must be text or {sql: …}", file=file, line=line, scope=scope, member=label)
        return None
    return str(value)


def _build_segment(entry: Any, cube: Relation, file: str, ctx: _Context) -> Member | None:
    header = _member_header(entry, "segment", cube, file, ctx)
    if header is None:
        return None
    definition, name = header
    label = f"segment '{name}'"
    if not _check_keys(
        definition, _SEGMENT_KEYS, _SEGMENT_IGNORED, {}, ctx, file=file, scope=cube.label, member=label
    ):
        return None
    sql = _template(
        definition.get("sql"), ctx, file=file, line=_line(definition, "sql"), scope=cube.label, member=label
    )
    if sql is None:
        if "sql" not in definition:
            ctx.error(
                "a segment needs 'sql'", file=file, line=_line(definition), scope=cube.label, member=label
            )
        return None
    return _declared_member(definition, cube, name, "segment", "boolean", file=file, sql=sql)


def _build_join(entry: Any, cube: Cube, file: str, ctx: _Context) -> Join | None:
    if not isinstance(entry, dict):
        ctx.error("each join must be a mapping", file=file, line=cube.line, scope=cube.label)
        return None
    definition = _normalise_keys(entry)
    target = definition.get("name")
    if not isinstance(target, str) or not target:
        ctx.error(
            "join without a 'name' (the cube to join)", file=file, line=_line(definition), scope=cube.label
        )
        return None
    label = f"join '{target}'"
    _check_keys(definition, _JOIN_KEYS, set(), {}, ctx, file=file, scope=cube.label, member=label)
    raw_rel = definition.get("relationship")
    relationship = RELATIONSHIP_ALIASES.get(snake_case(str(raw_rel))) if raw_rel else None
    if relationship is None:
        ctx.error(
            f"unknown relationship '{raw_rel}' (expected many_to_one, one_to_many or one_to_one)"
            if raw_rel
            else "missing 'relationship'",
            file=file,
            line=_line(definition, "relationship"),
            scope=cube.label,
            member=label,
        )
        return None
    sql = _template(
        definition.get("sql"), ctx, file=file, line=_line(definition, "sql"), scope=cube.label, member=label
    )
    if sql is None:
        if "sql" not in definition:
            ctx.error("a join needs 'sql'", file=file, line=_line(definition), scope=cube.label, member=label)
        return None
    return Join(cube.name, target, relationship, sql, file=file, line=_line(definition))


# ------------------------------------------------------------------------------------ references


def _find_cube(cubes: dict[str, Cube], name: str) -> Cube | None:
    if name in cubes:
        return cubes[name]
    matches = [c for n, c in cubes.items() if n.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else None


def _resolve_template(
    template: SqlTemplate,
    owner: Cube,
    cubes: dict[str, Cube],
    ctx: _Context,
    *,
    file: str,
    line: int | None,
    member: str | None,
    allow_measures: bool,
) -> SqlTemplate | None:
    parts: list[Part] = []
    ok = True
    for part in template.parts:
        if not isinstance(part, RawRef):
            parts.append(part)
            continue
        resolved = _resolve_ref(part, owner, cubes)
        if isinstance(resolved, str):
            ctx.error(resolved, file=file, line=line, scope=owner.label, member=member)
            ok = False
            continue
        if isinstance(resolved, MemberRef):
            target = cubes[resolved.cube].get(resolved.member)
            assert target is not None
            if target.kind == "measure" and not allow_measures:
                ctx.error(
                    f"{part.text} is a measure and cannot be used here",
                    file=file,
                    line=line,
                    scope=owner.label,
                    member=member,
                )
                ok = False
                continue
        parts.append(resolved)
    return template.with_parts(tuple(parts)) if ok else None


def _resolve_ref(ref: RawRef, owner: Cube, cubes: dict[str, Cube]) -> TableRef | MemberRef | str:
    path = ref.path
    if len(path) == 1:
        (name,) = path
        if name in {"CUBE", "TABLE"}:
            return TableRef(owner.name)
        if owner.get(name) is not None:
            return MemberRef(owner.name, name)
        other = _find_cube(cubes, name)
        if other is not None:
            return TableRef(other.name)
        return f"unknown member or cube {ref.text}"
    cube_name, member_name = path[-2], path[-1]
    cube = owner if cube_name in ("CUBE", "TABLE") else _find_cube(cubes, cube_name)
    if cube is None:
        return f"unknown cube '{cube_name}' in {ref.text}"
    if cube.get(member_name) is None:
        return f"unknown member '{member_name}' of cube '{cube.name}' in {ref.text}"
    return MemberRef(cube.name, member_name)


def _resolve_cube(cube: Cube, cubes: dict[str, Cube], ctx: _Context) -> None:
    if cube.sql is not None:
        resolved = _resolve_template(
            cube.sql, cube, cubes, ctx, file=cube.file, line=cube.line, member=None, allow_measures=False
        )
        if resolved is not None and resolved.member_refs:
            ctx.error(
                "the cube's 'sql' can reference tables ({CUBE}, {OtherCube}) but not members",
                file=cube.file,
                line=cube.line,
                scope=cube.label,
            )
        cube.sql = resolved
    for member in list(cube.members()):
        allow_measures = member.kind == "measure" and member.type in CALCULATED_MEASURES
        if member.sql is not None:
            member.sql = _resolve_template(
                member.sql,
                cube,
                cubes,
                ctx,
                file=member.file,
                line=member.line,
                member=member.label,
                allow_measures=allow_measures,
            )
            if member.sql is None:
                _drop(cube, member)
                continue
        filters = []
        for template in member.filters:
            resolved = _resolve_template(
                template,
                cube,
                cubes,
                ctx,
                file=member.file,
                line=member.line,
                member=member.label,
                allow_measures=False,
            )
            if resolved is None:
                _drop(cube, member)
                break
            filters.append(resolved)
        else:
            member.filters = tuple(filters)
        if member.case is not None and cube.get(member.name) is member:
            case = _resolve_case(member.case, cube, cubes, ctx, member)
            if case is None:
                _drop(cube, member)
            else:
                member.case = case
    for target, join in list(cube.joins.items()):
        target_cube = _find_cube(cubes, target)
        if target_cube is None:
            ctx.error(
                f"joins unknown cube '{target}'",
                file=join.file,
                line=join.line,
                scope=cube.label,
                member=f"join '{target}'",
            )
            del cube.joins[target]
            continue
        if target_cube.name != target:
            del cube.joins[target]
            join.target = target_cube.name
            cube.joins[target_cube.name] = join
        resolved = _resolve_template(
            join.sql,
            cube,
            cubes,
            ctx,
            file=join.file,
            line=join.line,
            member=f"join '{target}'",
            allow_measures=False,
        )
        if resolved is None:
            cube.joins.pop(join.target, None)
        else:
            join.sql = resolved


def _resolve_case(
    case: CaseDef, cube: Cube, cubes: dict[str, Cube], ctx: _Context, member: Member
) -> CaseDef | None:
    def resolve(template: SqlTemplate) -> SqlTemplate | None:
        return _resolve_template(
            template,
            cube,
            cubes,
            ctx,
            file=member.file,
            line=member.line,
            member=member.label,
            allow_measures=False,
        )

    whens: list[CaseWhen] = []
    for when in case.whens:
        condition = resolve(when.sql)
        label = resolve(when.label) if isinstance(when.label, SqlTemplate) else when.label
        if condition is None or label is None:
            return None
        whens.append(CaseWhen(condition, label))
    else_label = resolve(case.else_label) if isinstance(case.else_label, SqlTemplate) else case.else_label
    if isinstance(case.else_label, SqlTemplate) and else_label is None:
        return None
    return CaseDef(tuple(whens), else_label)


def _drop(relation: Relation, member: Member) -> None:
    for bucket in (relation.measures, relation.dimensions, relation.segments):
        if bucket.get(member.name) is member:
            del bucket[member.name]
    relation._index = None


def _member_dependencies(member: Member) -> list[MemberRef]:
    return [ref for template in member.templates() for ref in template.member_refs]


def _check_cycles(cubes: dict[str, Cube], ctx: _Context) -> None:
    state: dict[tuple[str, str], int] = {}  # 1 = visiting, 2 = done

    def visit(cube: str, name: str, trail: list[str]) -> bool:
        key = (cube, name)
        if state.get(key) == 2:
            return True
        if state.get(key) == 1:
            start = trail.index(f"{cube}.{name}")
            cycle = " -> ".join([*trail[start:], f"{cube}.{name}"])
            member = cubes[cube].get(name)
            assert member is not None
            ctx.error(
                f"circular reference: {cycle}",
                file=member.file,
                line=member.line,
                scope=cubes[cube].label,
                member=member.label,
            )
            return False
        member = cubes[cube].get(name)
        if member is None:
            return True
        state[key] = 1
        trail.append(f"{cube}.{name}")
        ok = all(visit(ref.cube, ref.member, trail) for ref in _member_dependencies(member))
        trail.pop()
        state[key] = 2
        return ok

    for cube in cubes.values():
        for member in list(cube.members()):
            if not visit(cube.name, member.name, []):
                return


# --------------------------------------------------------------------------------------------- views


def _start_view(definition: LineDict, file: str, ctx: _Context) -> View | None:
    name = _name_of(definition, ctx, file=file, what="view")
    if name is None:
        return None
    view = View(name=name, **_described(definition, file))
    if not _check_keys(
        definition,
        _VIEW_KEYS,
        _VIEW_IGNORED,
        _VIEW_UNSUPPORTED,
        ctx,
        file=file,
        scope=view.label,
        member=None,
    ):
        return None
    return view


def _finish_view(view: View, definition: LineDict, cubes: dict[str, Cube], ctx: _Context) -> None:
    file = view.file
    entries = definition.get("cubes")
    if not isinstance(entries, list) or not entries:
        if not any(definition.get(k) for k in ("measures", "dimensions", "segments")):
            ctx.error(
                "a view needs 'cubes:' (a list of join paths and the members they include)",
                file=file,
                line=view.line,
                scope=view.label,
            )
            return
        entries = []
    paths: list[tuple[str, ...]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            ctx.error("each entry of 'cubes:' must be a mapping", file=file, line=view.line, scope=view.label)
            continue
        item = _normalise_keys(entry)
        line = _line(item)
        for key in item:
            if key not in _VIEW_CUBE_KEYS:
                ctx.warnings.append(f"{file}:{_line(item, key)}: {view.label}: unknown key '{key}' ignored")
        path = _view_path(item, view, cubes, ctx)
        if path is None:
            continue
        if paths and path[0] != paths[0][0]:
            ctx.error(
                f"join_path '{'.'.join(path)}' must start at the view's first cube '{paths[0][0]}'",
                file=file,
                line=_line(item, "join_path"),
                scope=view.label,
            )
            continue
        same_cube = [p for p in paths if p[-1] == path[-1] and p != path]
        if same_cube:
            ctx.error(
                f"cube '{path[-1]}' is reached by two join paths ('{'.'.join(same_cube[0])}' and "
                f"'{'.'.join(path)}'); including one cube twice is not supported yet",
                file=file,
                line=_line(item, "join_path"),
                scope=view.label,
            )
            continue
        paths.append(path)
        cube = cubes[path[-1]]
        _include_members(view, item, cube, path, ctx, line=line)
    view.paths = tuple(paths)
    view.root = paths[0][0] if paths else ""
    for kind in ("measures", "dimensions", "segments"):
        for entry in _members(definition, kind):
            _view_member(view, entry, kind, cubes, ctx)
    if not any(True for _ in view.members()):
        ctx.error("the view exposes no members", file=file, line=view.line, scope=view.label)


def _view_path(item: LineDict, view: View, cubes: dict[str, Cube], ctx: _Context) -> tuple[str, ...] | None:
    raw = item.get("join_path")
    line = _line(item, "join_path")
    if not isinstance(raw, str) or not raw.strip():
        ctx.error("each entry of 'cubes:' needs a 'join_path'", file=view.file, line=line, scope=view.label)
        return None
    names = [p.strip() for p in raw.strip().strip("{}$").split(".")]
    path: list[str] = []
    for name in names:
        cube = _find_cube(cubes, name)
        if cube is None:
            ctx.error(
                f"join_path '{raw}': unknown cube '{name}'", file=view.file, line=line, scope=view.label
            )
            return None
        if path and cube.name not in cubes[path[-1]].joins:
            ctx.error(
                f"join_path '{raw}': cube '{path[-1]}' has no join to '{cube.name}'",
                file=view.file,
                line=line,
                scope=view.label,
            )
            return None
        path.append(cube.name)
    return tuple(path)


def _include_members(
    view: View, item: LineDict, cube: Cube, path: tuple[str, ...], ctx: _Context, *, line: int | None
) -> None:
    includes = item.get("includes", "*")
    excludes = item.get("excludes") or []
    prefix_flag = item.get("prefix", False)
    cube_alias = item.get("alias")
    prefix = ""
    if prefix_flag:
        prefix = f"{cube_alias or cube.name}_"
    if not isinstance(excludes, list):
        ctx.error(
            "'excludes' must be a list of member names",
            file=view.file,
            line=_line(item, "excludes"),
            scope=view.label,
        )
        return
    excluded = set()
    for name in excludes:
        if cube.get(str(name)) is None:
            ctx.error(
                f"excludes unknown member '{name}' of cube '{cube.name}'",
                file=view.file,
                line=_line(item, "excludes"),
                scope=view.label,
            )
        excluded.add(str(name))
    selected: list[tuple[Member, str]] = []
    if includes == "*":
        selected = [(m, prefix + m.name) for m in cube.members() if m.public and m.name not in excluded]
    elif isinstance(includes, list):
        for entry in includes:
            if isinstance(entry, dict):
                source_name = entry.get("name")
                alias = entry.get("alias")
            else:
                source_name, alias = entry, None
            member = cube.get(str(source_name)) if source_name is not None else None
            if member is None:
                ctx.error(
                    f"includes unknown member '{source_name}' of cube '{cube.name}'",
                    file=view.file,
                    line=_line(item, "includes"),
                    scope=view.label,
                )
                continue
            if member.name in excluded:
                continue
            selected.append((member, str(alias) if alias else prefix + member.name))
    else:
        ctx.error(
            "'includes' must be \"*\" or a list of member names",
            file=view.file,
            line=_line(item, "includes"),
            scope=view.label,
        )
        return
    for member, name in selected:
        if not _IDENTIFIER.match(name):
            ctx.error(
                f"invalid member name '{name}'",
                file=view.file,
                line=_line(item, "includes"),
                scope=view.label,
            )
            continue
        exposed = Member(
            owner=view.name,
            name=name,
            kind=member.kind,
            type=member.type,
            sql=None,
            title=member.title,
            description=member.description,
            public=True,
            primary_key=member.primary_key,
            origin=ViewOrigin(cube.name, member.name, path),
            file=view.file,
            line=_line(item, "includes") or line,
        )
        bucket = {"measure": view.measures, "dimension": view.dimensions, "segment": view.segments}[
            member.kind
        ]
        _add_member(view, bucket, exposed, ctx)


def _view_member(view: View, entry: Any, kind: str, cubes: dict[str, Cube], ctx: _Context) -> None:
    """A member defined on the view itself: SQL over members of the view's cubes."""
    singular = kind[:-1]
    if _member_header(entry, singular, view, view.file, ctx) is None:
        return
    builder = {"measures": _build_measure, "dimensions": _build_dimension, "segments": _build_segment}[kind]
    member = builder(entry, view, view.file, ctx)
    if member is None:
        return
    view_cubes = {cube: view.path_to(cube) for path in view.paths for cube in path}
    templates = [member.sql] if member.sql is not None else []
    for template in templates:
        parts: list[Part] = []
        for part in template.parts:
            if not isinstance(part, RawRef):
                parts.append(part)
                continue
            if len(part.path) < 2:
                ctx.error(
                    f"{part.text}: a view member must reference cube members as {{cube.member}}",
                    file=view.file,
                    line=member.line,
                    scope=view.label,
                    member=member.label,
                )
                return
            cube = _find_cube(cubes, part.path[-2])
            if cube is None or cube.name not in view_cubes:
                ctx.error(
                    f"{part.text}: cube '{part.path[-2]}' is not part of the view",
                    file=view.file,
                    line=member.line,
                    scope=view.label,
                    member=member.label,
                )
                return
            target = cube.get(part.path[-1])
            if target is None:
                ctx.error(
                    f"{part.text}: unknown member",
                    file=view.file,
                    line=member.line,
                    scope=view.label,
                    member=member.label,
                )
                return
            if target.kind == "measure" and not (
                member.kind == "measure" and member.type in CALCULATED_MEASURES
            ):
                ctx.error(
                    f"{part.text} is a measure and cannot be used here",
                    file=view.file,
                    line=member.line,
                    scope=view.label,
                    member=member.label,
                )
                return
            parts.append(MemberRef(cube.name, target.name))
        member.sql = template.with_parts(tuple(parts))
    if member.filters or member.case is not None:
        ctx.error(
            "filters and case are not supported on view-level members yet",
            file=view.file,
            line=member.line,
            scope=view.label,
            member=member.label,
        )
        return
    refs = member.sql.member_refs if member.sql is not None else ()
    if not refs:
        ctx.error(
            "a view-level member must reference members of the view's cubes",
            file=view.file,
            line=member.line,
            scope=view.label,
            member=member.label,
        )
        return
    member.origin = ViewOrigin(refs[0].cube, refs[0].member, view_cubes[refs[0].cube])
    bucket = {"measure": view.measures, "dimension": view.dimensions, "segment": view.segments}[member.kind]
    _add_member(view, bucket, member, ctx)


# ------------------------------------------------------------------------------- dialect SQL


def check_sql(model: CompiledModel, dialect: str, errors: list[ModelError]) -> None:
    """Parse every SQL snippet of ``model`` in ``dialect``; add a located error for each that fails."""
    from sqlglot import exp

    from sqlgate.semantic.sqlparse import parse_template

    def parse(
        template: SqlTemplate,
        *,
        file: str,
        line: int | None,
        scope: str,
        member: str | None,
        statement: bool = False,
    ) -> exp.Expression | None:
        try:
            return parse_template(template, dialect, statement).tree
        except TemplateError as exc:
            errors.append(ModelError(str(exc), file=file, line=line, scope=scope, member=member))
            return None

    for cube in model.cubes.values():
        if cube.sql is not None:
            parse(cube.sql, file=cube.file, line=cube.line, scope=cube.label, member=None, statement=True)
        for join in cube.joins.values():
            parse(join.sql, file=join.file, line=join.line, scope=cube.label, member=f"join '{join.target}'")
        for relation_member in cube.members():
            where = {
                "file": relation_member.file,
                "line": relation_member.line,
                "scope": cube.label,
                "member": relation_member.label,
            }
            trees = [parse(t, **where) for t in relation_member.templates()]
            if (
                relation_member.kind == "measure"
                and relation_member.type in CALCULATED_MEASURES
                and relation_member.sql is not None
                and trees
                and trees[0] is not None
                and not any(
                    cube_member_kind(model, ref) == "measure" for ref in relation_member.sql.member_refs
                )
                and not any(isinstance(node, exp.AggFunc) for node in trees[0].walk())
            ):
                errors.append(
                    ModelError(
                        f"a measure of type '{relation_member.type}' must aggregate (e.g. SUM(…))"
                        " or reference other measures",
                        **where,
                    )
                )


def cube_member_kind(model: CompiledModel, ref: MemberRef) -> str | None:
    target = model.cubes[ref.cube].get(ref.member) if ref.cube in model.cubes else None
    return target.kind if target is not None else None
