"""The README's first command: ``sqlgate demo`` prepares everything, serves, and its psql line works."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from sqlgate.demo.models import EXAMPLE_QUERIES

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_line(proc: subprocess.Popen[str], pattern: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if re.search(pattern, line):
            return line
    raise AssertionError(f"no line matching {pattern!r} from sqlgate demo; got:\n{''.join(seen)}")


def test_demo_serves_the_printed_psql_line(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sqlgate",
            "demo",
            "--port",
            str(port),
            "--orders",
            "2000",
            "--data-dir",
            str(tmp_path / "demo"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        line = _wait_for_line(proc, r'psql "postgresql://', timeout=120)
        url = re.search(r'psql "([^"]+)"', line).group(1)  # type: ignore[union-attr]
        assert f":{port}/db" in url
        _wait_for_line(proc, r"Serving", timeout=60)
        for _ in range(100):
            try:
                conn = psycopg.connect(url, autocommit=True)
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        else:
            pytest.fail("the demo never accepted a connection")
        with conn:
            for query in EXAMPLE_QUERIES:
                rows = conn.execute(query).fetchall()
                assert rows, query
            # The numbers add up: every order has exactly one status.
            total = conn.execute("SELECT MEASURE(count) FROM orders").fetchone()[0]
            by_status = conn.execute("SELECT status, MEASURE(count) FROM orders GROUP BY 1").fetchall()
            assert total == 2000 == sum(n for _, n in by_status)
        if shutil.which("psql"):
            out = subprocess.run(
                ["psql", url, "-Atc", "SELECT MEASURE(count) FROM orders"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
            assert out.stdout.strip() == "2000"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
