"""Prometheus metrics of a gateway (served on ``--metrics-port`` at ``/metrics``).

Each :class:`Metrics` owns its registry, so several gateways in one process (tests) do not collide.
Labels never carry user input beyond bounded vocabularies (kinds, outcomes, reasons).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30)
QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class Metrics:
    """Counters and gauges the wire and auth layers update."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.connections_open = Gauge(
            "sqlgate_connections_open", "Client connections currently open.", registry=r
        )
        self.connections_total = Counter(
            "sqlgate_connections_total", "Client connections accepted since start.", registry=r
        )
        self.sessions_open = Gauge(
            "sqlgate_sessions_open", "Authenticated sessions currently open.", registry=r
        )
        self.auth_failures = Counter(
            "sqlgate_auth_failures_total",
            "Failed authentication attempts, by reason.",
            ["reason"],
            registry=r,
        )
        self.connections_refused = Counter(
            "sqlgate_connections_refused_total",
            "Connections refused by a limit: max_connections, starting (sockets in start-up), "
            "per_credential, require_tls, shutting_down.",
            ["limit"],
            registry=r,
        )
        self.queries = Counter(
            "sqlgate_queries_total",
            "Statements executed, by kind and outcome.",
            ["kind", "outcome"],
            registry=r,
        )
        self.query_duration = Histogram(
            "sqlgate_query_duration_seconds",
            "Statement duration (prepare to completion), by kind.",
            ["kind"],
            buckets=QUERY_BUCKETS,
            registry=r,
        )
        self.planning_duration = Histogram(
            "sqlgate_planning_seconds",
            "Time spent planning a statement (parse, classify, rewrite, generate SQL), by kind.",
            ["kind"],
            buckets=QUERY_BUCKETS,
            registry=r,
        )
        self.execution_duration = Histogram(
            "sqlgate_execution_seconds",
            "Time from the start of execution to the last row sent (datasource time plus streaming), "
            "by kind.",
            ["kind"],
            buckets=QUERY_BUCKETS,
            registry=r,
        )
        self.datasource_slot_wait = Histogram(
            "sqlgate_datasource_slot_wait_seconds",
            "Time a query waited for a datasource query slot (a pooled connection), 0 when one was free.",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self._plan_caches: list[Any] = []
        r.register(_PlanCacheCollector(self._plan_caches))
        self.bytes_sent = Counter("sqlgate_bytes_sent_total", "Bytes written to clients.", registry=r)
        self.bytes_received = Counter("sqlgate_bytes_received_total", "Bytes read from clients.", registry=r)
        self._server: Any = None
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}

    def connection_opened(self) -> None:
        self.connections_open.inc()
        self.connections_total.inc()

    def connection_closed(self) -> None:
        self.connections_open.dec()

    def auth_failed(self, reason: str) -> None:
        self.auth_failures.labels(reason=reason).inc()

    def connection_refused(self, limit: str) -> None:
        self.connections_refused.labels(limit=limit).inc()

    def query_done(self, kind: str, outcome: str, seconds: float) -> None:
        # labels() costs a lock and a tuple build per call; the few label combinations are cached.
        children = self._children.get((kind, outcome))
        if children is None:
            children = (
                self.queries.labels(kind=kind, outcome=outcome),
                self.query_duration.labels(kind=kind),
            )
            self._children[(kind, outcome)] = children
        children[0].inc()
        children[1].observe(seconds)

    def planning_done(self, kind: str, seconds: float) -> None:
        self.planning_duration.labels(kind=kind).observe(seconds)

    def execution_done(self, kind: str, seconds: float) -> None:
        self.execution_duration.labels(kind=kind).observe(seconds)

    def watch_plan_cache(self, cache: Any) -> None:
        """Export ``cache``'s statement hits and misses (``hits``/``misses`` attributes) and size as
        ``sqlgate_plan_cache_hits_total``, ``…_misses_total`` and ``sqlgate_plan_cache_entries``;
        the hit rate is hits / (hits + misses)."""
        if all(c is not cache for c in self._plan_caches):
            self._plan_caches.append(cache)

    def slot_waited(self, seconds: float) -> None:
        """One query waited ``seconds`` for a datasource query slot."""
        self.datasource_slot_wait.observe(seconds)

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Start the HTTP endpoint (a daemon thread); returns the port it listens on."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        self._server = server
        return int(server.server_port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _PlanCacheCollector:
    """Reads the watched plan caches' counters at scrape time (no work on the query path)."""

    def __init__(self, caches: list[Any]) -> None:
        self._caches = caches

    def collect(self) -> Iterator[Any]:
        hits = CounterMetricFamily(
            "sqlgate_plan_cache_hits", "Statements whose plan came from the plan cache."
        )
        misses = CounterMetricFamily(
            "sqlgate_plan_cache_misses", "Statements that had to be planned (plan cache misses)."
        )
        entries = GaugeMetricFamily("sqlgate_plan_cache_entries", "Entries held by the plan cache.")
        hits.add_metric([], float(sum(c.hits for c in self._caches)))
        misses.add_metric([], float(sum(c.misses for c in self._caches)))
        entries.add_metric([], float(sum(len(c) for c in self._caches)))
        yield hits
        yield misses
        yield entries
