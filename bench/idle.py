"""Hold N idle authenticated connections: ``python -m bench.idle HOST PORT DB USER COUNT``.

The password comes from PGPASSWORD. Connections are opened 32 at a time with asyncpg (SCRAM), then
the process prints ``READY <opened> <seconds> [error]`` and waits for a line on stdin before closing
them all. Run as its own process so the measured server's clients cost the harness nothing.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

import asyncpg

CONCURRENCY = 32
DEADLINE = 120.0  # seconds to open them all


async def main(host: str, port: int, database: str, user: str, count: int) -> None:
    password = os.environ.get("PGPASSWORD")
    gate = asyncio.Semaphore(CONCURRENCY)
    errors: list[str] = []

    async def one() -> Any:
        async with gate:
            try:
                return await asyncpg.connect(
                    host=host, port=port, database=database, user=user, password=password, ssl=False,
                    timeout=20, server_settings={"application_name": "sqlgate-bench-idle"},
                )  # fmt: skip
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                return None

    started = time.perf_counter()
    tasks = [asyncio.ensure_future(one()) for _ in range(count)]
    # A server that stops accepting (out of descriptors) must not hold the run for minutes.
    done, pending = await asyncio.wait(tasks, timeout=DEADLINE)
    for task in pending:
        task.cancel()
    if pending:
        errors.append(f"{len(pending)} connections not open after {DEADLINE:.0f}s")
    conns = [t.result() for t in done if not t.cancelled() and t.result() is not None]
    elapsed = time.perf_counter() - started
    suffix = f" {errors[0][:200]}" if errors else ""
    print(f"READY {len(conns)} {elapsed:.3f}{suffix}".replace("\n", " "), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await asyncio.gather(*(c.close(timeout=10) for c in conns), return_exceptions=True)


if __name__ == "__main__":
    h, p, d, u, n = sys.argv[1:6]
    asyncio.run(main(h, int(p), d, u, int(n)))
