"""Running planned statements on real databases: binding, streaming, paging, typed values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from sqlgate.errors import PgError
from sqlgate.planner.api import BoundParams
from sqlgate.planner.semantic import execution
from sqlgate.planner.semantic.execution import statement_timeout
from tests.support.semantic_harness import make_session, prepare, run_semantic

pytestmark = pytest.mark.slow


async def test_pages_of_max_rows_then_done(dataset_source: Any) -> None:
    statement = await prepare("SELECT id FROM orders ORDER BY id", dataset_source)
    running = await statement.execute(make_session(), BoundParams.from_values([]), [])
    pages = []
    while True:
        batch, done = await running.fetch(1000)
        pages.append(batch.rows)
        if done:
            break
    await running.close()
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert [r[0] for page in pages for r in page] == list(range(1, 2501))
    assert running.command_tag() == "SELECT 2500"


async def test_unbounded_fetch_streams_in_batches(
    duckdb_source: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execution, "BATCH_ROWS", 300)
    statement = await prepare("SELECT id, status FROM orders", duckdb_source)
    running = await statement.execute(make_session(), BoundParams.from_values([]), [])
    sizes = []
    done = False
    while not done:
        batch, done = await running.fetch(0)
        sizes.append(batch.count)
    assert max(sizes) <= 300 and sum(sizes) == 2500 and len(sizes) >= 9
    await running.close()
    await running.close()  # closing twice is harmless


async def test_values_have_the_declared_types_on_every_datasource(dataset_source: Any) -> None:
    result = await run_semantic(
        "SELECT status, created_at, DATE_TRUNC('day', created_at) AS d, is_shipped, discount, MEASURE(count),"
        " MEASURE(total_discount), MEASURE(any_shipped), MEASURE(first_order_at) FROM orders"
        " WHERE id = 1 GROUP BY 1, 2, 3, 4, 5",
        dataset_source,
    )
    ((status, created, day, shipped, discount, count, total, any_shipped, first),) = result.rows
    assert isinstance(status, str)
    assert isinstance(created, dt.datetime) and created.tzinfo is None
    assert day == dt.datetime(created.year, created.month, created.day)
    assert isinstance(shipped, bool) and isinstance(any_shipped, bool)
    assert discount is None or isinstance(discount, Decimal)
    assert count == 1 and type(count) is int
    assert total is None or isinstance(total, Decimal)
    assert first == created


async def test_times_are_utc_whatever_offset_they_were_written_with(
    dataset_source: Any, dataset: Any
) -> None:
    result = await run_semantic(
        "SELECT id, created_at FROM orders WHERE id <= 30 ORDER BY id", dataset_source
    )
    expected = [(row[0], row[3].astimezone(dt.UTC).replace(tzinfo=None)) for row in dataset.orders[:30]]
    assert result.rows == expected


async def test_parameters_are_bound_not_spliced(dataset_source: Any) -> None:
    sql = "SELECT MEASURE(count) FROM orders WHERE status = $1 AND created_at >= $2"
    statement = await prepare(sql, dataset_source)
    assert statement.param_oids == [25, 1114]
    before = len(dataset_source.executed)
    counts = []
    for status in ("completed", "pending", "x'); DROP TABLE orders; --"):
        running = await statement.execute(
            make_session(), BoundParams.from_values([status, dt.datetime(2023, 6, 1)]), []
        )
        batch, _ = await running.fetch(0)
        counts.append(batch.rows[0][0])
        await running.close()
    assert counts[0] > counts[1] > 0 and counts[2] == 0
    executed = dataset_source.executed[before:]
    assert all("DROP" not in sql_text for sql_text, _ in executed)
    assert executed[2][1][0] == "x'); DROP TABLE orders; --"


async def test_describe_does_not_touch_the_datasource(duckdb_source: Any) -> None:
    before = len(duckdb_source.executed)
    statement = await prepare("SELECT status, MEASURE(count) FROM orders GROUP BY 1", duckdb_source)
    assert [c.name for c in statement.columns or []] == ["status", "measure"]
    assert len(duckdb_source.executed) == before
    assert statement.members.all == {"orders.status", "orders.count"}
    assert "GROUP BY" in statement.generated_sql


async def test_bad_parameter_values_are_client_errors(duckdb_source: Any) -> None:
    statement = await prepare(
        "SELECT MEASURE(count) FROM orders WHERE created_at >= $1 AND discount > $2", duckdb_source
    )
    with pytest.raises(PgError) as caught:
        await statement.execute(make_session(), BoundParams.from_values(["yesterday", 1]), [])
    assert caught.value.sqlstate == "22007"
    with pytest.raises(PgError) as caught:
        await statement.execute(make_session(), BoundParams.from_values(["2024-01-01", "lots"]), [])
    assert caught.value.sqlstate == "22P02"
    with pytest.raises(PgError) as caught:
        await statement.execute(make_session(), BoundParams.from_values(["2024-01-01"]), [])
    assert caught.value.sqlstate == "42704"


async def test_bad_literals_fail_at_prepare(duckdb_source: Any) -> None:
    with pytest.raises(PgError) as caught:
        await prepare("SELECT MEASURE(count) FROM orders WHERE created_at > 'not a date'", duckdb_source)
    assert caught.value.sqlstate == "22007"


def test_statement_timeout_setting() -> None:
    session = make_session()
    assert statement_timeout(session) is None
    for raw, seconds in (("1500", 1.5), ("2s", 2.0), ("250ms", 0.25), ("1min", 60.0), ("0", None)):
        session.settings["statement_timeout"] = raw
        assert statement_timeout(session) == seconds
