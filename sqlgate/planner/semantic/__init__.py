"""Semantic queries: SQL over cubes and views, planned into SQL over the datasource's tables.

Entry point for the statement dispatcher (bind the providers with :func:`functools.partial`)::

    prepare = functools.partial(prepare_semantic, models=model_provider, sources=source_provider)
    statement = await prepare(tree, sql, session, param_oids)    # a SemanticStatement
    statement.members                                             # TouchedMembers (access checks)
    statement.generated_sql                                       # what the datasource will run

Planning is pure and cached (:class:`PlanCache`); execution streams from the datasource.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlgate.errors import PgError
from sqlgate.planner.api import AuditInfo
from sqlgate.planner.semantic.access import check_access, check_datasource_access
from sqlgate.planner.semantic.execution import SemanticExecution, SemanticStatement, audit_query
from sqlgate.planner.semantic.members import TouchedMembers
from sqlgate.planner.semantic.plan import (
    DEFAULT_PLAN_CACHE,
    PlanCache,
    SemanticPlan,
    convert_lifted,
    plan_statement,
)
from sqlgate.planner.semantic.render import MODEL_ERROR
from sqlgate.semantic.errors import ModelError
from sqlgate.semantic.model import CompiledModel

if TYPE_CHECKING:
    from sqlgate.planner.api import ModelProvider, SourceProvider
    from sqlgate.planner.session import Session

__all__ = [
    "DEFAULT_PLAN_CACHE",
    "PlanCache",
    "SemanticExecution",
    "SemanticPlan",
    "SemanticStatement",
    "TouchedMembers",
    "model_error_to_pg",
    "plan_statement",
    "prepare_semantic",
]


def model_error_to_pg(error: ModelError) -> PgError:
    """The client-facing error for a model that does not compile (SQLSTATE F0000)."""
    return PgError(MODEL_ERROR, f"the data model has errors: {error}")


async def prepare_semantic(
    tree: exp.Expression | None,
    sql: str,
    session: Session,
    param_oids: Sequence[int],
    *,
    models: ModelProvider,
    sources: SourceProvider,
    plan_cache: PlanCache | None = DEFAULT_PLAN_CACHE,
) -> SemanticStatement:
    """Plan a statement over cubes for ``session``'s datasource and model version.

    ``tree`` is the statement parsed with ``read="postgres"``; ``sql`` its text (the plan-cache fast
    path; with ``tree`` None the statement is parsed only when its plan is not cached). The planner
    takes ``tree`` over and may change it (copy it first to keep it). Does not
    touch the datasource. Raises :class:`~sqlgate.errors.PgError` (42P01, 42703, 42803, 0A000, 42501
    for ``__user`` and for members or cubes the session's access list does not allow, F0000 for model
    problems …).
    """
    ctx = session.ctx
    check_datasource_access(ctx)  # before the model is even loaded
    try:
        model = await models.get(ctx)
    except ModelError as exc:
        raise model_error_to_pg(exc) from None
    if not isinstance(model, CompiledModel):
        raise TypeError(f"ModelProvider returned {type(model).__name__}, expected CompiledModel")
    source = sources.get(ctx.datasource)
    plan, lifted = plan_statement(
        tree,
        sql,
        model,
        dialect=source.dialect,
        paramstyle=source.paramstyle,
        param_oids=param_oids,
        cache=plan_cache,
        consume=True,
        visible=ctx.visible_members,
    )
    try:
        check_access(plan.touched, ctx)
    except PgError as exc:
        exc.audit = AuditInfo(audit_query(plan.touched))  # the log shows what was attempted
        raise
    return SemanticStatement(sql, plan, source, convert_lifted(plan, lifted))
