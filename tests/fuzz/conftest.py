"""Fixtures of the fuzz tests: the e-commerce dataset in a DuckDB file, served by the production driver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from sqlgate.sources.registry import open_source
from tests.fuzz.planner_harness import RecordingSource
from tests.support.dataset import load_duckdb


@pytest.fixture(scope="session")
def fuzz_duckdb_file(tmp_path_factory: pytest.TempPathFactory, dataset: Any) -> Iterator[Path]:
    import duckdb

    path = tmp_path_factory.mktemp("fuzz") / "shop.duckdb"
    connection = duckdb.connect(str(path))
    load_duckdb(connection, dataset)
    connection.close()
    yield path


@pytest.fixture(scope="module")
async def fuzz_duckdb_source(fuzz_duckdb_file: Path) -> AsyncIterator[RecordingSource]:
    """The production DuckDB driver (its error mapping is part of what is fuzzed), recording errors."""
    source = open_source("DUCKDB", {"database": str(fuzz_duckdb_file)}, name="fuzz")
    try:
        yield RecordingSource(source)
    finally:
        await source.close()
