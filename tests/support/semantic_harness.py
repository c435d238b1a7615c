"""Run semantic SQL through the planner against a real source, and compare results with an oracle.

``run_semantic`` goes the way the gateway does — parse (read="postgres"), ``prepare_semantic`` with a
model and a source, ``execute``, ``fetch`` until done — and returns column descriptions and rows.
``normalise``/``assert_same_rows`` compare those rows with the rows of a hand-written oracle query.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlglot

from sqlgate.auth.context import DatasourceInfo, ModelVersion, SecurityContext
from sqlgate.planner.api import BoundParams, ResultColumn
from sqlgate.planner.semantic import PlanCache, SemanticStatement, prepare_semantic
from sqlgate.planner.session import Session
from sqlgate.semantic import CompiledModel, compile_model

MODELS_DIR = Path(__file__).parent / "models"


def model_files(directory: Path = MODELS_DIR) -> list[tuple[str, str]]:
    """The fixture model files as (name, text) pairs, as the metastore would hand them over."""
    return [(p.name, p.read_text()) for p in sorted(directory.glob("*.yml"))]


@lru_cache(maxsize=1)
def fixture_model() -> CompiledModel:
    return compile_model(model_files(), checksum="fixture-models")


def make_session(db_type: str = "POSTGRES", role: str = "owner") -> Session:
    ctx = SecurityContext(
        username="tester",
        credential_id="cred-1",
        user_id="user-1",
        user_display_name="Tester",
        team_id="team-1",
        role=role,  # type: ignore[arg-type]
        access_list=None,
        datasource=DatasourceInfo(id="ds-1", name="fixture", db_type=db_type, db_params={}),
        model_version=ModelVersion(version_id="v1", branch_id="b1", checksum="fixture-models"),
    )
    return Session(ctx=ctx)


@dataclass
class StaticModels:
    """A ModelProvider that always serves one compiled model."""

    model: CompiledModel

    async def get(self, ctx: SecurityContext) -> CompiledModel:
        return self.model


@dataclass
class StaticSources:
    """A SourceProvider that always serves one source."""

    source: Any

    def get(self, datasource: DatasourceInfo) -> Any:
        return self.source


@dataclass
class SemanticResult:
    statement: SemanticStatement
    columns: list[ResultColumn]
    rows: list[tuple[Any, ...]]
    tag: str


async def prepare(
    sql: str,
    source: Any,
    model: CompiledModel | None = None,
    param_oids: Sequence[int] = (),
    cache: PlanCache | None = None,
) -> SemanticStatement:
    tree = sqlglot.parse_one(sql, read="postgres")
    return await prepare_semantic(
        tree,
        sql,
        make_session(),
        list(param_oids),
        models=StaticModels(model or fixture_model()),
        sources=StaticSources(source),
        plan_cache=cache,
    )


async def run_semantic(
    sql: str,
    source: Any,
    params: Sequence[Any] = (),
    *,
    model: CompiledModel | None = None,
    max_rows: int = 0,
    cache: PlanCache | None = None,
) -> SemanticResult:
    """Plan and run ``sql`` on ``source``; every row, fetched ``max_rows`` at a time."""
    statement = await prepare(sql, source, model, cache=cache)
    execution = await statement.execute(make_session(), BoundParams.from_values(list(params)), [])
    rows: list[tuple[Any, ...]] = []
    try:
        while True:
            batch, done = await execution.fetch(max_rows)
            assert batch.rows is not None
            rows.extend(batch.rows)
            if done:
                break
    finally:
        await execution.close()
    return SemanticResult(statement, list(statement.columns or []), rows, execution.command_tag())


# ------------------------------------------------------------------------------- comparison


def _normalise_value(value: Any, digits: int) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | Decimal | float):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        return round(number, digits)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, bytes):
        return value.decode()
    return value


def normalise(rows: Sequence[Sequence[Any]], digits: int = 6) -> list[tuple[Any, ...]]:
    """Rows with numbers as rounded floats, booleans as 0/1, times as naive UTC datetimes."""
    return [tuple(_normalise_value(v, digits) for v in row) for row in rows]


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, type(v).__name__, v if v is not None else 0) for v in row)


def assert_same_rows(
    actual: Sequence[Sequence[Any]],
    expected: Sequence[Sequence[Any]],
    *,
    ordered: bool,
    tolerance: float = 0.0,
    label: str = "",
) -> None:
    """Fail with a readable diff unless the two results hold the same rows."""
    got = normalise(actual)
    want = normalise(expected)
    if not ordered:
        got = sorted(got, key=_sort_key)
        want = sorted(want, key=_sort_key)
    assert len(got) == len(want), (
        f"{label}: {len(got)} rows, oracle has {len(want)}\n got[:5]={got[:5]}\nwant[:5]={want[:5]}"
    )
    for index, (g, w) in enumerate(zip(got, want, strict=True)):
        assert len(g) == len(w), f"{label}: row {index} has {len(g)} columns, oracle {len(w)}"
        for column, (a, b) in enumerate(zip(g, w, strict=True)):
            if isinstance(a, float) and isinstance(b, float):
                allowed = max(tolerance * max(abs(a), abs(b)), 1e-6)
                assert abs(a - b) <= allowed, (
                    f"{label}: row {index} col {column}: {a} != {b}\n got={g}\nwant={w}"
                )
            else:
                assert a == b, f"{label}: row {index} col {column}: {a!r} != {b!r}\n got={g}\nwant={w}"
