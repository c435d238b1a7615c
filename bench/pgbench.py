"""Run pgbench with a custom script and read its throughput and per-transaction latencies.

``pgbench -n -f script -c N -j J -T secs [-M prepared] [-C] -l`` writes one log line per transaction
(``client txn latency_us script epoch epoch_us``); p50/p99 come from those lines, TPS from pgbench's
summary (``tps = … (without initial connection time)``, or with -C the rate including connections).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TPS_LINE = re.compile(r"^tps = ([\d.]+) \((with|without|including|excluding)[^)]*\)", re.MULTILINE)
FAILED_LINE = re.compile(r"number of failed transactions: (\d+)")
PROCESSED_LINE = re.compile(r"number of transactions actually processed: (\d+)")


@dataclass(frozen=True)
class Target:
    """Where pgbench connects: host/port/database/user and (for SCRAM) a password."""

    name: str  # "sqlgate", "direct", "pgbouncer"
    host: str
    port: int
    database: str
    user: str
    password: str | None = field(default=None, repr=False)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGDATABASE=self.database, PGUSER=self.user)
        env["PGSSLMODE"] = "disable"
        env["PGAPPNAME"] = "sqlgate-bench"
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        else:
            env.pop("PGPASSWORD", None)
        return env

    def dsn(self) -> str:
        text = f"host={self.host} port={self.port} dbname={self.database} user={self.user} sslmode=disable"
        return text + (f" password={self.password}" if self.password else "")


@dataclass
class PgbenchResult:
    tps: float
    transactions: int
    failed: int
    p50_ms: float | None
    p99_ms: float | None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def pgbench_path() -> str:
    path = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not Path(path).exists():
        raise RuntimeError("pgbench is not installed (apt-get install -y postgresql-client)")
    return path


def percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run_pgbench(
    target: Target,
    script: str,
    *,
    clients: int,
    seconds: float,
    prepared: bool = False,
    connect_each: bool = False,
    threads: int | None = None,
    timeout: float | None = None,
) -> PgbenchResult:
    """Run ``script`` (pgbench script text) against ``target``; failures are reported, not raised."""
    workdir = Path(tempfile.mkdtemp(prefix="sqlgate-bench-pgbench-"))
    try:
        script_path = workdir / "script.sql"
        script_path.write_text(script)
        jobs = threads or min(clients, 2)
        args = [
            pgbench_path(), "-n", "-f", str(script_path), "-c", str(clients), "-j", str(jobs),
            "-T", str(max(1, round(seconds))), "-l", "--log-prefix", str(workdir / "log"),
        ]  # fmt: skip
        if prepared:
            args += ["-M", "prepared"]
        if connect_each:
            args.append("-C")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            proc = subprocess.run(
                args,
                check=False,
                env=target.env(),
                capture_output=True,
                text=True,
                timeout=timeout or seconds * 3 + 60,
            )
        except subprocess.TimeoutExpired:
            return PgbenchResult(0.0, 0, 0, None, None, error="pgbench timed out")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        latencies: list[float] = []
        for log in workdir.glob("log*"):
            with log.open() as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3 and parts[2].isdigit():
                        latencies.append(int(parts[2]) / 1000.0)
        latencies.sort()
        output = proc.stdout + proc.stderr
        tps_values = {m.group(2): float(m.group(1)) for m in TPS_LINE.finditer(proc.stdout)}
        # pgbench 15 prints "tps = X (without initial connection time)"; with -C the connection time
        # is part of each transaction and is the point, so that is the figure either way.
        tps = tps_values.get("without", tps_values.get("excluding", next(iter(tps_values.values()), 0.0)))
        processed = PROCESSED_LINE.search(proc.stdout)
        failed = FAILED_LINE.search(proc.stdout)
        error = None
        if proc.returncode != 0 or not processed or int(processed.group(1)) == 0:
            lines = [x for x in output.splitlines() if "FATAL" in x]
            lines += [x for x in output.splitlines() if "error" in x.lower() or "fatal" in x.lower()]
            error = lines[0] if lines else output.strip().splitlines()[-1:] or ["pgbench failed"]
            error = error if isinstance(error, str) else error[0]
            error = f"pgbench exit {proc.returncode}: {error.strip()[:300]}"
            if "too many clients" in output or "remaining connection slots" in output:
                error = f"PostgreSQL has no free connection slot (max_connections, shared server): {error}"
        return PgbenchResult(
            tps=tps,
            transactions=int(processed.group(1)) if processed else 0,
            failed=int(failed.group(1)) if failed else 0,
            p50_ms=percentile(latencies, 0.50),
            p99_ms=percentile(latencies, 0.99),
            error=error,
            extra={"client_cpu_s": round(client_cpu, 3)},
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
