"""Cost of the per-statement security work on the hot path (run: .venv/bin/python -m bench.access_check).

* ``check_access`` — run at every execution of a semantic statement for a restricted session;
* ``ContextRefresher.current`` — run before every Query/Parse/Bind (a metadata read at most every
  ``access_refresh_seconds``; this measures the common case, a fresh entry).
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import replace
from pathlib import Path

import sqlglot

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlgate.auth.context import AccessList
from sqlgate.auth.refresh import ContextRefresher
from sqlgate.auth.store import InMemoryCredentialStore
from sqlgate.planner.semantic import plan_statement
from sqlgate.planner.semantic.access import check_access
from tests.support.semantic_harness import fixture_model, make_session

SQL = (
    "SELECT status, DATE_TRUNC('month', created_at), MEASURE(count), MEASURE(completed_share) FROM orders"
    " WHERE completed GROUP BY 1, 2 ORDER BY 3"
)
ROUNDS = 100_000


def main() -> None:
    tree = sqlglot.parse_one(SQL, read="postgres")
    plan, _ = plan_statement(tree, SQL, fixture_model(), dialect="postgres", paramstyle="numeric", cache=None)
    names = tuple(sorted(plan.touched.all))
    ctx = replace(
        make_session(role="member").ctx, access_list=AccessList("a", "a", {"orders": {"measures": names}})
    )
    started = time.perf_counter()
    for _ in range(ROUNDS):
        check_access(plan.touched, ctx)
    per_call = (time.perf_counter() - started) / ROUNDS * 1e6
    print(f"check_access: {per_call:.2f} us per call ({len(names)} members touched)")

    refresher = ContextRefresher(InMemoryCredentialStore(), 5.0)
    refresher.seen(ctx)

    async def refresh() -> float:
        started = time.perf_counter()
        for _ in range(ROUNDS):
            await refresher.current(ctx)
        return (time.perf_counter() - started) / ROUNDS * 1e6

    print(f"ContextRefresher.current (fresh entry): {asyncio.run(refresh()):.2f} us per call")


if __name__ == "__main__":
    main()
