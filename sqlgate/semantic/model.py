"""The compiled model: cubes and views by name, members, and the join graph."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sqlgate.semantic.definitions import Cube, Member, NameIndex, Relation, View
from sqlgate.semantic.joins import JoinGraph


class CompiledModel:
    """Everything the planner and the catalog need to know about one model version.

    Immutable once built (the planner caches plans against it). Cubes and views are looked up by the
    names clients write: case-insensitively unless the identifier was quoted.
    """

    def __init__(
        self,
        cubes: Mapping[str, Cube],
        views: Mapping[str, View],
        *,
        checksum: str | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.cubes: dict[str, Cube] = dict(cubes)
        self.views: dict[str, View] = dict(views)
        self.checksum = checksum
        self.warnings: list[str] = list(warnings or [])
        self.join_graph = JoinGraph(self.cubes)
        self._index = NameIndex()
        for name in (*self.cubes, *self.views):
            self._index.add(name)

    def relation(self, name: str, *, quoted: bool = False, public_only: bool = True) -> Relation | None:
        """The cube or view a client table name refers to (None when unknown or not public)."""
        found = self._index.find(name, quoted=quoted)
        if found is None:
            return None
        relation: Relation = self.cubes.get(found) or self.views[found]
        if public_only and not relation.public:
            return None
        return relation

    def relations(self, *, public_only: bool = True) -> Iterator[Relation]:
        """Cubes then views, in the order the files defined them."""
        for relation in (*self.cubes.values(), *self.views.values()):
            if relation.public or not public_only:
                yield relation

    def cube(self, name: str) -> Cube:
        """A cube by its exact name (internal look-ups: templates, joins, view origins)."""
        return self.cubes[name]

    def member(self, full_name: str) -> Member | None:
        """A member by its full name ``Cube.member`` (exact spelling)."""
        owner, _, name = full_name.partition(".")
        relation: Relation | None = self.cubes.get(owner) or self.views.get(owner)
        return relation.get(name) if relation is not None else None

    def __repr__(self) -> str:
        return f"<CompiledModel cubes={len(self.cubes)} views={len(self.views)} checksum={self.checksum!r}>"
