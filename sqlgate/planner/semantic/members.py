"""The members a planned query touches — what an access check (issue 6) looks at.

Every member is recorded under its full name (``Orders.count``, ``OrdersView.users_city``) with the
ways the query uses it. A view member is recorded together with the cube member it exposes
(``view_source``); members used inside calculated members are recorded as ``dependency``; members in
the SQL of the joins the query follows as ``join``. ``TouchedMembers.all`` is the set an access list
must allow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sqlgate.semantic.model import CompiledModel

Usage = Literal[
    "select",
    "where",
    "having",
    "order",
    "group",
    "time_dimension",
    "segment",
    "join",
    "dependency",
    "view_source",
]


@dataclass(frozen=True)
class TouchedMembers:
    """What one planned statement reads from the model."""

    tables: frozenset[str]  # cubes and views named in FROM (model spelling)
    cubes: frozenset[str]  # every cube whose table is read: FROM, join paths, views' cubes
    usages: Mapping[str, frozenset[str]]  # full member name -> usages
    user_column: bool = False  # the query selects __user (through SELECT *)
    # Members and cubes that are not public (``public: false`` members, members of non-public cubes,
    # non-public cubes). Clients cannot name them and Synmetrix's access-list editor cannot list
    # them: they are reached only through the public members that use them (see ``access``).
    internal: frozenset[str] = frozenset()
    # full member name -> "measure", "dimension", "time" (a time dimension) or "segment"
    kinds: Mapping[str, str] = field(default_factory=dict)

    @property
    def all(self) -> frozenset[str]:
        """Every member, however it is used (the set an access list must allow)."""
        return frozenset(self.usages)

    def used_as(self, usage: Usage) -> frozenset[str]:
        """Members used in one way (e.g. ``"where"``)."""
        return frozenset(name for name, kinds in self.usages.items() if usage in kinds)

    @staticmethod
    def merge(parts: Iterable[TouchedMembers]) -> TouchedMembers:
        tables: set[str] = set()
        cubes: set[str] = set()
        usages: dict[str, set[str]] = {}
        user = False
        for part in parts:
            tables |= part.tables
            cubes |= part.cubes
            user = user or part.user_column
            for name, kinds in part.usages.items():
                usages.setdefault(name, set()).update(kinds)
        return TouchedMembers(
            frozenset(tables), frozenset(cubes), {k: frozenset(v) for k, v in usages.items()}, user
        )

    def with_internal(self, model: CompiledModel) -> TouchedMembers:
        """A copy whose ``internal`` lists what of this is not public in ``model``."""
        internal: set[str] = set()
        kinds: dict[str, str] = {}
        for name in self.usages:
            owner = name.split(".", 1)[0]
            member = model.member(name)
            relation = model.cubes.get(owner) or model.views.get(owner)
            if member is not None:
                time = member.kind == "dimension" and member.type == "time"
                kinds[name] = "time" if time else member.kind
            # Fail closed: a name the model does not resolve is never exempt.
            if member is not None and relation is not None and not (member.public and relation.public):
                internal.add(name)
        for name in self.tables | self.cubes:
            relation = model.cubes.get(name) or model.views.get(name)
            if relation is not None and not relation.public:
                internal.add(name)
        return replace(self, internal=frozenset(internal), kinds=kinds)

    def cube_query(self) -> dict[str, list[Any]]:
        """The members the client's statement names, in the shape of a Cube REST query (what
        Synmetrix shows for a request): measures, dimensions, timeDimensions, segments, filters and
        order. Members reached only through others (dependencies, joins, views) are left out."""
        direct = {"select", "where", "having", "order", "group", "time_dimension", "segment"}
        query: dict[str, list[Any]] = {
            "measures": [], "dimensions": [], "timeDimensions": [], "segments": [], "filters": [], "order": []
        }  # fmt: skip
        for name in sorted(self.usages):
            used = self.usages[name]
            if not used & direct:
                continue
            kind = self.kinds.get(name, "dimension")
            if kind == "measure" and used & {"select", "having", "order"}:
                query["measures"].append(name)
            elif kind == "segment":
                query["segments"].append(name)
            elif kind == "time" and used & {"select", "group", "time_dimension"}:
                query["timeDimensions"].append({"dimension": name})
            elif used & {"select", "group"}:
                query["dimensions"].append(name)
            if used & {"where", "having"} and kind != "segment":
                query["filters"].append({"member": name})
            if "order" in used:
                query["order"].append({"id": name})
        return query


EMPTY = TouchedMembers(frozenset(), frozenset(), {})


@dataclass
class MemberRecorder:
    """Collects :class:`TouchedMembers` while one cube-level query is planned."""

    tables: set[str] = field(default_factory=set)
    cubes: set[str] = field(default_factory=set)
    usages: dict[str, set[str]] = field(default_factory=dict)
    user_column: bool = False

    def add(self, full_name: str, usage: Usage) -> None:
        self.usages.setdefault(full_name, set()).add(usage)

    def freeze(self) -> TouchedMembers:
        return TouchedMembers(
            frozenset(self.tables),
            frozenset(self.cubes),
            {name: frozenset(kinds) for name, kinds in self.usages.items()},
            self.user_column,
        )
