"""The /metrics endpoint and what it counts."""

from __future__ import annotations

import asyncio
import urllib.request

from sqlgate.observability.metrics import Metrics
from tests.support.gateways import password_of, running_gateway
from tests.support.rawpg import RawPg


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def _value(text: str, sample: str) -> float:
    """The value of one sample line (``name`` or ``name{labels}``), 0 when absent."""
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    return 0.0


async def test_metrics_endpoint_counts_connections_queries_and_failures() -> None:
    async with running_gateway(metrics_port=0) as gw:
        assert gw.metrics_port
        conn = await RawPg.connect(gw.port)
        await conn.startup("alice", password_of("alice"))
        await conn.query("SELECT 1")
        await conn.query("SELECT 1/0")
        bad = await RawPg.connect(gw.port)
        await bad.startup("alice", "wrong-password")
        ghost = await RawPg.connect(gw.port)
        await ghost.startup("ghost", "whatever")
        text = await asyncio.to_thread(_scrape, gw.metrics_port)
        await conn.close()
    assert _value(text, "sqlgate_connections_total") >= 3
    assert _value(text, "sqlgate_connections_open") >= 1
    assert _value(text, "sqlgate_sessions_open") == 1
    assert _value(text, 'sqlgate_queries_total{kind="builtin",outcome="ok"}') == 1
    assert _value(text, 'sqlgate_queries_total{kind="builtin",outcome="error"}') == 1
    assert _value(text, 'sqlgate_auth_failures_total{reason="wrong_password"}') == 1
    assert _value(text, 'sqlgate_auth_failures_total{reason="unknown_user"}') == 1
    assert _value(text, "sqlgate_bytes_sent_total") > 0
    assert "sqlgate_query_duration_seconds_bucket" in text
    # Planning is measured apart from execution (the datasource's share).
    assert _value(text, 'sqlgate_planning_seconds_count{kind="builtin"}') == 2
    assert _value(text, 'sqlgate_execution_seconds_count{kind="builtin"}') == 2
    assert "wrong-password" not in text and password_of("alice") not in text


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.query_done("builtin", "ok", 0.01)
    assert first.registry is not second.registry
    assert second.queries.labels(kind="builtin", outcome="ok")._value.get() == 0


async def test_a_busy_metrics_port_is_reported_clearly() -> None:
    import socket

    import pytest

    from sqlgate.config import SettingsError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SettingsError) as info:
            async with running_gateway(metrics_port=port):
                pass
    assert f"cannot serve metrics on 127.0.0.1:{port}" in str(info.value)
