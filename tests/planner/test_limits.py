"""The server's statement-timeout ceiling on a session, and the result-row limit of an execution."""

from __future__ import annotations

from typing import Any

import pytest

from sqlgate.errors import PgError
from sqlgate.planner.limits import RowLimitedExecution
from sqlgate.planner.session import Session
from sqlgate.planner.statements import InProcessExecution
from tests.support.contexts import make_context


def test_the_server_timeout_is_the_default_and_a_ceiling() -> None:
    session = Session(make_context(), max_statement_timeout=2.0)
    assert session.settings["statement_timeout"] == "2s"
    assert session.statement_timeout() == 2.0
    for value, effective in (("500ms", 0.5), ("0", 2.0), ("1h", 2.0), ("2s", 2.0)):
        session.set_setting("statement_timeout", value)
        assert session.statement_timeout() == effective, value
    session.reset_setting("statement_timeout")
    assert session.statement_timeout() == 2.0


def test_without_a_server_timeout_the_session_decides() -> None:
    session = Session(make_context())
    assert session.statement_timeout() is None
    session.set_setting("statement_timeout", "1min")
    assert session.statement_timeout() == 60.0


def test_a_start_up_setting_below_the_ceiling_is_kept() -> None:
    session = Session(make_context(), max_statement_timeout=60.0, settings={"statement_timeout": "5s"})
    assert session.statement_timeout() == 5.0


class _Counting(InProcessExecution):
    def __init__(self, count: int) -> None:
        async def run() -> tuple[list[Any], str]:
            return [(n,) for n in range(count)], f"SELECT {count}"

        super().__init__(None, run)
        self.closed = 0

    async def close(self) -> None:
        self.closed += 1


async def test_rows_over_all_fetches_count_against_the_limit() -> None:
    inner = _Counting(10)
    limited = RowLimitedExecution(inner, 6)
    batch, done = await limited.fetch(4)
    assert batch.count == 4 and not done
    with pytest.raises(PgError) as caught:
        await limited.fetch(4)
    assert caught.value.sqlstate == "54000" and "limit of 6 rows" in caught.value.message
    assert inner.closed == 1  # the query stops at once, not when the transaction ends
    with pytest.raises(PgError):
        await limited.fetch(1)


async def test_a_result_at_the_limit_is_whole() -> None:
    limited = RowLimitedExecution(_Counting(6), 6)
    batch, done = await limited.fetch(0)
    assert batch.count == 6 and done and limited.command_tag() == "SELECT 6"
