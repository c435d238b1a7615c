"""The compiled data model's building blocks: cubes, views, members and joins (plain data)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sqlgate.semantic.template import SqlTemplate

MemberKind = Literal["measure", "dimension", "segment"]
Relationship = Literal["many_to_one", "one_to_many", "one_to_one"]

MEASURE_TYPES = frozenset(
    {
        "count",
        "count_distinct",
        "count_distinct_approx",
        "sum",
        "avg",
        "min",
        "max",
        "number",
        "string",
        "time",
        "boolean",
    }
)
# Measures whose value does not change when the rows they aggregate are duplicated by a join.
DUPLICATE_INSENSITIVE_MEASURES = frozenset({"count_distinct", "count_distinct_approx", "min", "max"})
# Measures whose ``sql`` is an expression over other measures (or a raw aggregate), not an input column.
CALCULATED_MEASURES = frozenset({"number", "string", "time", "boolean"})
DIMENSION_TYPES = frozenset({"string", "number", "time", "boolean"})

RELATIONSHIP_ALIASES: Mapping[str, Relationship] = {
    "many_to_one": "many_to_one",
    "belongs_to": "many_to_one",
    "belongsto": "many_to_one",
    "one_to_many": "one_to_many",
    "has_many": "one_to_many",
    "hasmany": "one_to_many",
    "one_to_one": "one_to_one",
    "has_one": "one_to_one",
    "hasone": "one_to_one",
}

# Virtual columns every cube and view exposes as a table.
USER_COLUMN = "__user"
JOIN_FIELD_COLUMN = "__cubeJoinField"
VIRTUAL_COLUMNS = (USER_COLUMN, JOIN_FIELD_COLUMN)


@dataclass(frozen=True, slots=True)
class CaseWhen:
    """One ``when`` of a ``case`` dimension: condition and label (text, or SQL for a computed label)."""

    sql: SqlTemplate
    label: str | SqlTemplate


@dataclass(frozen=True, slots=True)
class CaseDef:
    """A ``case`` dimension: the whens in order and the ``else`` label (None: NULL)."""

    whens: tuple[CaseWhen, ...]
    else_label: str | SqlTemplate | None


@dataclass(frozen=True, slots=True)
class ViewOrigin:
    """Where a view member comes from: the cube member and the join path from the view's root."""

    cube: str
    member: str
    path: tuple[str, ...]  # cube names, root first, ending with ``cube``

    @property
    def full_name(self) -> str:
        return f"{self.cube}.{self.member}"


@dataclass(eq=False)
class Member:
    """A measure, dimension or segment of a cube or view."""

    owner: str
    name: str
    kind: MemberKind
    type: str  # segment: "boolean"
    sql: SqlTemplate | None = None
    title: str | None = None
    description: str | None = None
    public: bool = True
    primary_key: bool = False
    filters: tuple[SqlTemplate, ...] = ()
    case: CaseDef | None = None
    origin: ViewOrigin | None = None  # set for view members
    file: str = ""
    line: int | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}.{self.name}"

    @property
    def label(self) -> str:
        """``measure 'total'`` — how error messages name this member."""
        return f"{self.kind} '{self.name}'"

    def templates(self) -> list[SqlTemplate]:
        """Every SQL snippet of the member: ``sql``, filters, case conditions and computed labels."""
        found = [self.sql] if self.sql is not None else []
        found.extend(self.filters)
        if self.case is not None:
            for when in self.case.whens:
                found.append(when.sql)
                if isinstance(when.label, SqlTemplate):
                    found.append(when.label)
            if isinstance(self.case.else_label, SqlTemplate):
                found.append(self.case.else_label)
        return found

    def __repr__(self) -> str:
        return f"<{self.kind} {self.full_name} {self.type}>"


@dataclass(eq=False)
class Join:
    """A join declared on ``source`` towards ``target`` (``relationship`` seen from ``source``)."""

    source: str
    target: str
    relationship: Relationship
    sql: SqlTemplate
    file: str = ""
    line: int | None = None

    @property
    def multiplies_source(self) -> bool:
        """True when one ``source`` row meets several ``target`` rows (source rows repeat)."""
        return self.relationship == "one_to_many"

    @property
    def multiplies_target(self) -> bool:
        """True when several ``source`` rows meet one ``target`` row (target rows repeat)."""
        return self.relationship == "many_to_one"

    def __repr__(self) -> str:
        return f"<join {self.source}->{self.target} {self.relationship}>"


class NameIndex:
    """Names looked up exactly (quoted identifiers) or case-insensitively (unquoted ones)."""

    __slots__ = ("_exact", "_folded")

    def __init__(self) -> None:
        self._exact: dict[str, str] = {}
        self._folded: dict[str, list[str]] = {}

    def add(self, name: str) -> None:
        self._exact[name] = name
        self._folded.setdefault(name.lower(), []).append(name)

    def find(self, name: str, *, quoted: bool = False) -> str | None:
        """The stored name ``name`` refers to; None when unknown.

        Quoted names match exactly. Unquoted names match case-insensitively; when several stored names
        differ only by case, the one spelled exactly wins, else the lower-case one (PostgreSQL folds
        unquoted identifiers to lower case), else the name is ambiguous and ``None`` is returned.
        """
        if quoted:
            return self._exact.get(name)
        candidates = self._folded.get(name.lower())
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        if name in self._exact:
            return name
        lower = name.lower()
        return lower if lower in self._exact else None


@dataclass(eq=False)
class Relation:
    """What cubes and views share: a named set of members exposed as one table."""

    name: str
    title: str | None = None
    description: str | None = None
    public: bool = True
    file: str = ""
    line: int | None = None
    measures: dict[str, Member] = field(default_factory=dict)
    dimensions: dict[str, Member] = field(default_factory=dict)
    segments: dict[str, Member] = field(default_factory=dict)
    _index: NameIndex | None = field(default=None, repr=False)

    is_view = False

    @property
    def kind(self) -> str:
        return "view" if self.is_view else "cube"

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.name}'"

    def members(self) -> Iterator[Member]:
        """Every member: measures, then dimensions, then segments (the column order)."""
        yield from self.measures.values()
        yield from self.dimensions.values()
        yield from self.segments.values()

    def public_members(self) -> Iterator[Member]:
        return (m for m in self.members() if m.public)

    def get(self, name: str) -> Member | None:
        """A member by its exact name (any kind, public or not)."""
        return self.measures.get(name) or self.dimensions.get(name) or self.segments.get(name)

    def lookup(self, name: str, *, quoted: bool = False, public_only: bool = True) -> Member | None:
        """A member by a client identifier (case-insensitive unless quoted)."""
        if self._index is None:
            index = NameIndex()
            for member in self.members():
                index.add(member.name)
            self._index = index
        found = self._index.find(name, quoted=quoted)
        if found is None:
            return None
        member = self.get(found)
        if member is None or (public_only and not member.public):
            return None
        return member

    @property
    def count_measure(self) -> Member | None:
        """The first public measure of type ``count`` (what ``COUNT(*)`` means)."""
        return next((m for m in self.measures.values() if m.type == "count" and m.public), None)


@dataclass(eq=False)
class Cube(Relation):
    """A cube: a table (``sql_table``) or query (``sql``) with members and outgoing joins."""

    sql_table: str | None = None
    sql: SqlTemplate | None = None
    joins: dict[str, Join] = field(default_factory=dict)  # by target cube name

    @property
    def primary_keys(self) -> list[Member]:
        return [d for d in self.dimensions.values() if d.primary_key]


@dataclass(eq=False)
class View(Relation):
    """A view: members of several cubes, joined along fixed join paths from ``root``."""

    root: str = ""
    paths: tuple[tuple[str, ...], ...] = ()

    is_view = True

    def path_to(self, cube: str) -> tuple[str, ...] | None:
        """The join path from the root to ``cube`` along the view's paths (intermediate cubes too)."""
        for path in self.paths:
            if cube in path:
                return path[: path.index(cube) + 1]
        return None
