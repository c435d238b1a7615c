"""The correctness corpus: generated SQL on PostgreSQL, MariaDB and DuckDB against hand-written oracles."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot

from sqlgate.planner.semantic import plan_statement
from tests.support.corpus import CORPUS, CorpusQuery
from tests.support.semantic_harness import assert_same_rows, fixture_model, run_semantic

pytestmark = pytest.mark.slow


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 60
    assert len({q.name for q in CORPUS}) == len(CORPUS)


def test_corpus_queries_in_psycopg_form() -> None:
    query = next(q for q in CORPUS if q.name == "parameters")
    text, params = query.psycopg()
    assert "$" not in text and text.count("%s") == 3 and params == query.params
    plain = next(q for q in CORPUS if q.name == "where_like")
    assert plain.psycopg() == (plain.sql, None)


@pytest.mark.parametrize("query", CORPUS, ids=lambda q: q.name)
async def test_corpus_query(query: CorpusQuery, dataset_source: Any) -> None:
    result = await run_semantic(query.sql, dataset_source, query.params)
    expected = await dataset_source.fetch(query.oracle_for(dataset_source.dialect))
    assert result.tag == f"SELECT {len(result.rows)}"
    assert_same_rows(
        result.rows,
        expected,
        ordered=query.ordered,
        tolerance=query.tolerance,
        label=f"{query.name} on {dataset_source.dialect}",
    )


@pytest.mark.parametrize("query", CORPUS, ids=lambda q: q.name)
def test_result_types_do_not_depend_on_the_datasource(query: CorpusQuery) -> None:
    tree = sqlglot.parse_one(query.sql, read="postgres")
    described = {
        dialect: plan_statement(
            tree, query.sql, fixture_model(), dialect=dialect, paramstyle=style, cache=None
        )[0]
        for dialect, style in (("postgres", "numeric"), ("mysql", "format"), ("duckdb", "qmark"))
    }
    columns = {d: [(c.name, c.type_oid) for c in p.columns] for d, p in described.items()}
    assert columns["postgres"] == columns["mysql"] == columns["duckdb"]
