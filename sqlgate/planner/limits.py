"""The result-size limit (``max_result_rows``): a statement whose result has more rows fails with
54000 instead of completing. A result is never truncated: the client gets an ErrorResponse in place
of the CommandComplete, discards what rows it received (libpq, JDBC and the others do), and the
session stays usable."""

from __future__ import annotations

from collections.abc import Sequence

from sqlgate.errors import PROGRAM_LIMIT_EXCEEDED, PgError
from sqlgate.planner.api import Execution, ResultColumn, RowBatch


def result_too_large(limit: int) -> PgError:
    """The 54000 error of a statement whose result has more rows than ``limit``."""
    return PgError(
        PROGRAM_LIMIT_EXCEEDED,
        f"query result exceeds the limit of {limit} rows",
        detail="The server's max_result_rows setting limits the rows one statement may return;"
        " results are never truncated.",
        hint="Aggregate at a coarser grain, add a filter, or add a LIMIT.",
    )


class RowLimitedExecution(Execution):
    """An execution that fails with 54000 once more than ``limit`` rows were fetched from it in all
    (a DECLAREd cursor read by many FETCHes is one query)."""

    def __init__(self, inner: Execution, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self.fetched = 0
        self._failed = False

    @property  # type: ignore[override]
    def columns(self) -> Sequence[ResultColumn] | None:
        return self.inner.columns

    @columns.setter
    def columns(self, value: Sequence[ResultColumn] | None) -> None:
        self.inner.columns = value

    async def fetch(self, max_rows: int = 0) -> tuple[RowBatch, bool]:
        if self._failed:
            raise result_too_large(self.limit)
        batch, done = await self.inner.fetch(max_rows)
        self.fetched += batch.count
        if self.fetched > self.limit:
            # Stop the datasource query now rather than when the transaction block ends.
            self._failed = True
            await self.inner.close()
            raise result_too_large(self.limit)
        return batch, done

    def command_tag(self) -> str:
        return self.inner.command_tag()

    async def close(self) -> None:
        await self.inner.close()  # Execution.close is idempotent in every implementation here
