"""State shared by every part of one statement's planning."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from sqlgate.planner.semantic.members import TouchedMembers
from sqlgate.planner.semantic.params import ParamSource
from sqlgate.semantic.model import CompiledModel


@dataclass
class Column:
    """An output column of a planned query: its name and PostgreSQL type."""

    name: str
    oid: int


@dataclass
class PlannedQuery:
    """A query turned into datasource SQL (a sqlglot tree; parameters still as nodes) and its columns."""

    tree: exp.Query
    columns: list[Column]


@dataclass
class PlanContext:
    """What planning one statement needs: the model, the target dialect, and what it collects."""

    model: CompiledModel
    dialect: str
    touched: list[TouchedMembers] = field(default_factory=list)
    # Plans a nested query (subquery in an expression) in the current CTE scope; set by the
    # statement planner so cube-level code can recurse without importing it.
    plan_nested: Callable[[exp.Query], PlannedQuery] | None = None
    param_oids: Sequence[int] = ()
    # The members ``SELECT *`` expands to besides the virtual columns: None for every public member
    # (owner/admin), else the session's access list (part of the plan-cache key).
    visible: frozenset[str] | None = None
    # The type each bound value ($n or lifted literal) is converted to, from where it first appears.
    param_types: dict[ParamSource, int] = field(default_factory=dict)
