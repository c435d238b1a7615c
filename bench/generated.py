"""What sqlgate sends to the datasource for a semantic query, and the planner measured in-process.

:class:`InProcessPlanner` is the gateway's own planner (``CorePlanner`` with the semantic handler, the
same model and a PostgreSQL source that never connects) driven through the ``planner.api`` seam the
wire uses: ``prepare`` then ``execute`` (which binds values but opens no cursor until the first fetch).
The SQL and values it yields are exactly what a gateway sends for that statement; the harness also
checks them against what the running gateway logged in its query log.

:func:`direct_sql` turns them into one statement for PostgreSQL itself: every placeholder replaced by
its value as a quoted literal (sqlgate binds values as text of unspecified type, which PostgreSQL
types the same way as an untyped literal), or by a pgbench variable where the client varies it.
"""

from __future__ import annotations

import datetime
import functools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlgate.auth.context import DatasourceInfo, ModelVersion, SecurityContext
from sqlgate.planner.api import BoundParams
from sqlgate.planner.core import CorePlanner
from sqlgate.planner.semantic import PlanCache, prepare_semantic
from sqlgate.planner.session import Session
from sqlgate.semantic import CompiledModel, compile_model
from sqlgate.sources.registry import open_source

PLACEHOLDER = re.compile(r"\$(\d+)")


@dataclass(frozen=True)
class Generated:
    """The datasource SQL of one statement and the values bound to its placeholders."""

    sql: str  # as run, placeholders $1..$n
    template_sql: str  # the plan's SQL (what the query log records)
    values: tuple[Any, ...]


class _Models:
    def __init__(self, model: CompiledModel) -> None:
        self.model = model

    async def get(self, ctx: SecurityContext) -> CompiledModel:
        return self.model


class _Sources:
    def __init__(self, source: Any) -> None:
        self.source = source

    def get(self, datasource: DatasourceInfo) -> Any:
        return self.source


def _session(db_params: dict[str, Any]) -> Session:
    ctx = SecurityContext(
        username="bench",
        credential_id="bench",
        user_id="bench",
        user_display_name="bench",
        team_id="bench",
        role="owner",
        access_list=None,
        datasource=DatasourceInfo(id="bench", name="bench", db_type="POSTGRES", db_params=db_params),
        model_version=ModelVersion(version_id="bench", branch_id="bench", checksum="bench"),
    )
    return Session(ctx=ctx)


class InProcessPlanner:
    """The gateway's planner over one model, with its own plan cache."""

    def __init__(self, model_yaml: str, db_params: dict[str, Any]) -> None:
        self.model_yaml = model_yaml
        self.db_params = db_params
        self.source = open_source("POSTGRES", db_params)  # connects lazily: never, here
        self.reset()

    def reset(self) -> None:
        """A cold planner: a freshly compiled model and empty caches (what a new gateway has)."""
        model = compile_model([("facts.yml", self.model_yaml)], checksum=f"bench-{time.monotonic_ns()}")
        self.cache = PlanCache()
        handler = functools.partial(
            prepare_semantic, models=_Models(model), sources=_Sources(self.source), plan_cache=self.cache
        )
        handler.accepts_text_only = True  # type: ignore[attr-defined]  # as the gateway's (gateway.py)
        self.planner = CorePlanner(semantic=handler)
        self.session = _session(self.db_params)

    async def prepare(self, sql: str) -> Any:
        return await self.planner.prepare(self.session, sql, [])

    async def generated(self, sql: str) -> Generated:
        statement = await self.prepare(sql)
        execution = await statement.execute(self.session, BoundParams.from_values([]), [])
        try:
            sql, values = getattr(execution, "sql", None), getattr(execution, "values", None)
            if sql is None or values is None:  # the seam moved: say so rather than guess the SQL
                raise RuntimeError(f"{type(execution).__name__} exposes no .sql/.values to benchmark with")
            return Generated(sql, statement.generated_sql, tuple(values))
        finally:
            await execution.close()

    async def close(self) -> None:
        close = getattr(self.source, "close", None)
        if close is not None:
            await close()


def literal(value: Any) -> str:
    """``value`` as a quoted SQL literal of its text form (untyped, as a text parameter is)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime.datetime | datetime.date | datetime.time):
        text = value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
    elif isinstance(value, Decimal | int | float | str):
        text = str(value)
    else:
        text = str(value)
    return "'" + text.replace("'", "''") + "'"


def direct_sql(generated: Generated, variables: dict[Any, str] | None = None) -> str:
    """The generated SQL with each ``$n`` replaced by its value's literal, or by ``:variable`` when its
    value is a key of ``variables`` (a sentinel value the pgbench script varies)."""
    variables = variables or {}

    def replace(match: re.Match[str]) -> str:
        value = generated.values[int(match.group(1)) - 1]
        for sentinel, name in variables.items():
            if str(value) == str(sentinel):
                return f":{name}"
        return literal(value)

    return PLACEHOLDER.sub(replace, generated.sql)


def one_line(sql: str) -> str:
    """``sql`` on one line (pgbench scripts take one command per line)."""
    return " ".join(sql.split())


async def plan_latency(planner: InProcessPlanner, texts: Sequence[str], repeats: int) -> dict[str, float]:
    """First-plan and repeat-plan latency (ms; wall and CPU) of ``texts[0]``, through
    ``Planner.prepare`` (parse, route, plan, generate SQL) in this process.

    first: a cold planner (new model, empty caches) plans the text once; median over ``repeats`` cold
    planners. repeat_same: the same text again on a warm planner. repeat_shape: texts[1:] (the same
    shape with other literals) on the warm planner — the case the plan cache exists for.
    """
    firsts, same, shape = [], [], []
    cpu_firsts, cpu_same, cpu_shape = [], [], []

    async def timed(text: str, wall: list[float], cpu: list[float]) -> None:
        # Wall time, and this thread's CPU time: on a shared machine the second is the steadier one.
        started, cpu_started = time.perf_counter(), time.thread_time()
        await planner.prepare(text)
        wall.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - cpu_started)

    for _ in range(repeats):
        planner.reset()
        await timed(texts[0], firsts, cpu_firsts)
    for _ in range(repeats * 5):
        await timed(texts[0], same, cpu_same)
    for text in texts[1:]:
        await timed(text, shape, cpu_shape)

    def median_ms(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[len(ordered) // 2] * 1000.0 if ordered else 0.0

    return {
        "first_plan_ms": median_ms(firsts),
        "repeat_plan_ms": median_ms(same),
        "repeat_shape_plan_ms": median_ms(shape),
        "first_plan_cpu_ms": median_ms(cpu_firsts),
        "repeat_plan_cpu_ms": median_ms(cpu_same),
        "repeat_shape_plan_cpu_ms": median_ms(cpu_shape),
        "first_plan_samples": len(firsts),
        "repeat_samples": len(same),
        "shape_samples": len(shape),
    }
