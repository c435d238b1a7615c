"""Every member of every demo cube and view answers through the planner and the real DuckDB driver,
with values of the type the catalog declares (a broken demo model fails here, not in front of a
newcomer)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sqlgate.demo.data import generate
from sqlgate.demo.models import model_files
from sqlgate.pgproto.coerce import DEFAULT_CONTEXT
from sqlgate.pgproto.values import RowEncoder
from sqlgate.semantic import compile_model
from sqlgate.sources.registry import open_source
from tests.support.semantic_harness import run_semantic


@pytest.fixture(scope="module")
async def demo_source(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    path: Path = generate(tmp_path_factory.mktemp("demo") / "demo.duckdb", orders=500).path
    source = open_source("DUCKDB", {"database": str(path)})
    yield source
    await source.close()


def _queries() -> list[str]:
    model = compile_model(model_files())
    queries = []
    for relation in model.relations():
        for member in relation.members():
            name = f'"{member.name}"'
            if member.kind == "measure":
                queries.append(f"SELECT MEASURE({name}) FROM {relation.name}")
            elif member.kind == "segment":
                queries.append(f"SELECT MEASURE(count) FROM {relation.name} WHERE {name}")
            else:
                queries.append(f"SELECT {name} FROM {relation.name} GROUP BY 1 LIMIT 5")
    return queries


@pytest.mark.parametrize("sql", _queries())
async def test_member_answers_with_its_declared_type(sql: str, demo_source: Any) -> None:
    result = await run_semantic(sql, demo_source, model=compile_model(model_files()))
    assert result.rows
    encoder = RowEncoder([c.type_oid for c in result.columns], [0] * len(result.columns), DEFAULT_CONTEXT)
    encoder.encode_rows(result.rows)  # text encoding per declared type must accept every value
