"""Clients for what pgbench cannot express: streaming a large result, and thousands of idle sessions.

Streaming uses ``psql -At`` (libpq, C): the client reads and formats every row, so rows/s is a
property of the server side, not of a Python client. Idle sessions are opened by a separate Python
process (``python -m bench.idle``) so the harness's own memory and event loop stay out of it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.pgbench import Target


def psql_path() -> str:
    path = shutil.which("psql")
    if path is None:
        raise RuntimeError("psql is not installed (apt-get install -y postgresql-client)")
    return path


@dataclass(frozen=True)
class QueryRun:
    rows: int
    seconds: float
    digest: str  # sha256 of the sorted output lines (results of the targets must agree)


def run_query(target: Target, sql: str, *, digest: bool = False, timeout: float = 600) -> QueryRun:
    """Run ``sql`` once with psql (unaligned, tuples only) and count the rows it printed."""
    started = time.perf_counter()
    proc = subprocess.run(
        [psql_path(), target.dsn(), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
        env=target.env(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"psql on {target.name}: {proc.stderr.decode(errors='replace').strip()[:300]}")
    out = proc.stdout
    rows = out.count(b"\n")
    text_digest = ""
    if digest:
        text_digest = hashlib.sha256(b"\n".join(sorted(out.splitlines()))).hexdigest()
    return QueryRun(rows, elapsed, text_digest)


class IdleClients:
    """A subprocess holding ``count`` authenticated, idle connections to ``target``."""

    def __init__(self, target: Target, count: int) -> None:
        self.target = target
        self.count = count
        self.proc: subprocess.Popen[str] | None = None
        self.opened = 0
        self.seconds = 0.0
        self.error: str | None = None

    def open(self, timeout: float = 300) -> None:
        """Start the process and wait until it reports every connection open (or a failure)."""
        t = self.target
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.idle", t.host, str(t.port), t.database, t.user, str(self.count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**t.env(), "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                self.error = f"idle client exited: {err.strip()[-300:]}"
                return
            if line.startswith("READY"):
                _, opened, seconds, *error = line.rstrip("\n").split(" ", 3)
                self.opened, self.seconds = int(opened), float(seconds)
                self.error = error[0] if error else None
                return
        self.error = "idle client timed out"

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.write("close\n")
                self.proc.stdin.flush()
            self.proc.wait(60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.proc = None
