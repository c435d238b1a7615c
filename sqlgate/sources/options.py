"""Tuning options every datasource driver understands (all documented, with defaults, in docs/sources.md)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How sqlgate talks to one datasource. The defaults suit a gateway in front of a warehouse."""

    #: Label used in error messages and logs (the datasource's name; never a secret).
    name: str = "datasource"
    #: Connections opened eagerly on first use and kept open (PostgreSQL, MySQL).
    pool_min_size: int = 0
    #: Most connections to the datasource at once (PostgreSQL, MySQL); DuckDB: worker threads.
    pool_max_size: int = 10
    #: Seconds allowed to open one connection before the query fails with 08006.
    connect_timeout: float = 10.0
    #: Seconds an idle pooled connection is kept before it is closed (0: forever).
    idle_timeout: float = 300.0
    #: Most queries running on the datasource at once (0: limited only by ``pool_max_size``).
    max_concurrent_queries: int = 0
    #: Seconds a query waits for a free slot/connection before it fails with 53300 (0: no limit).
    queue_timeout: float = 30.0
    #: Most queries waiting for a slot at once; more fail at once with 53300 (0: no limit).
    max_queued_queries: int = 0
    #: Seconds ``close()`` waits for running queries before it cuts them off.
    close_timeout: float = 10.0
    #: DuckDB: open database files read-only (the gateway only reads; lets other processes read too).
    duckdb_read_only: bool = True
    #: DuckDB: threads per query inside DuckDB (0: DuckDB's default, the number of cores).
    duckdb_threads: int = 0
    #: DuckDB: memory limit such as "2GB" ("": DuckDB's default, 80% of RAM).
    duckdb_memory_limit: str = ""

    def __post_init__(self) -> None:
        if self.pool_max_size < 1:
            raise ValueError("pool_max_size must be at least 1")
        if not 0 <= self.pool_min_size <= self.pool_max_size:
            raise ValueError("pool_min_size must be between 0 and pool_max_size")
        for name in ("connect_timeout", "idle_timeout", "queue_timeout", "close_timeout"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.max_concurrent_queries < 0 or self.max_queued_queries < 0 or self.duckdb_threads < 0:
            raise ValueError("limits must not be negative")

    @property
    def concurrency(self) -> int:
        """How many queries may run at once."""
        if self.max_concurrent_queries:
            return min(self.max_concurrent_queries, self.pool_max_size)
        return self.pool_max_size

    @classmethod
    def from_kwargs(cls, options: dict[str, Any]) -> SourceOptions:
        """Build from keyword options, rejecting unknown names with a helpful message."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown source option(s): {', '.join(unknown)}")
        return cls(**options)
