"""What the catalog shows of a model: each cube/view as a table and its typed columns.

The shadow catalog (pg_catalog/information_schema answers) and the planner agree on names, order
and types because both come from here: measures, then dimensions, then segments, then ``__user``
and ``__cubeJoinField``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlgate.pgproto import oids
from sqlgate.planner.semantic.types import member_type_oid
from sqlgate.semantic.definitions import VIRTUAL_COLUMNS, Member, Relation
from sqlgate.semantic.model import CompiledModel


@dataclass(frozen=True, slots=True)
class CatalogColumn:
    """One column of a cube/view table."""

    name: str
    type_oid: int
    nullable: bool
    kind: str  # "measure", "dimension", "segment" or "virtual"
    title: str | None = None
    description: str | None = None
    member: Member | None = None

    @property
    def full_name(self) -> str | None:
        return self.member.full_name if self.member is not None else None


def relation_columns(
    relation: Relation, visible: Callable[[Member], bool] | None = None
) -> list[CatalogColumn]:
    """The columns of ``relation``'s table; ``visible`` filters members (an access list)."""
    columns = []
    for member in relation.public_members():
        if visible is not None and not visible(member):
            continue
        columns.append(
            CatalogColumn(
                name=member.name,
                type_oid=member_type_oid(member),
                nullable=member.kind == "dimension",
                kind=member.kind,
                title=member.title,
                description=member.description,
                member=member,
            )
        )
    columns.extend(CatalogColumn(name, oids.TEXT, True, "virtual") for name in VIRTUAL_COLUMNS)
    return columns


def catalog_tables(
    model: CompiledModel, allowed: frozenset[str] | None = None
) -> Iterator[tuple[Relation, list[CatalogColumn]]]:
    """Every table a session may see, with its columns.

    ``allowed`` is an access list's member set (``Orders.count`` names; None: everything). A table
    with no allowed member is not shown.
    """
    for relation in model.relations():
        if allowed is None:
            yield relation, relation_columns(relation)
            continue
        columns = relation_columns(relation, lambda m: m.full_name in allowed)
        if any(c.kind != "virtual" for c in columns):
            yield relation, columns
