"""The benchmark run: start the servers, load the data, run every workload on every target, report.

Targets: ``direct`` (PostgreSQL itself, running the SQL sqlgate generates), ``pgbouncer`` (the same
SQL through PgBouncer in transaction mode, pool size = sqlgate's datasource pool size) and
``sqlgate`` (the semantic SQL through ``sqlgate serve``). See bench/README.md.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench import dataset, workloads
from bench.clients import IdleClients, run_query
from bench.generated import InProcessPlanner, direct_sql, one_line, plan_latency
from bench.metadata import Login, create_metadata, generated_sql_log
from bench.pgbench import Target, run_pgbench
from bench.profile import Profiler
from bench.scrape import scrape_metrics
from bench.servers import (
    PgBouncer,
    Postgres,
    RssSampler,
    ScramPostgres,
    Sqlgate,
    cpu_seconds,
    process_tree,
    raise_nofile_limit,
    read_status_kb,
    tree_rss_kb,
)
from sqlgate.metastore.admin.datasources import db_params_from_url

TARGETS = ("direct", "pgbouncer", "sqlgate")
WORKLOADS = ("a", "b", "c", "d", "e", "f")
WORKLOAD_NAMES = {
    "a": "grouped metric query",
    "b": "ungrouped LIMIT 10 lookup",
    "c": "stream ungrouped result",
    "d": "new SCRAM connection per transaction",
    "e": "plan 1,000-value IN list, 30 members",
    "f": "idle connections",
}
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SQLGATE_POOL_SIZE = 10  # sqlgate's --datasource-pool-size default; PgBouncer gets the same


@dataclass
class Config:
    """What to run. ``quick`` shrinks everything so a run takes a minute or two."""

    quick: bool = False
    rows: int = 1_000_000
    seconds: float = 15.0
    clients: tuple[int, ...] = (1, 16, 64)
    lookup_clients: tuple[int, ...] = (16,)
    connect_clients: int = 8
    idle: int = 2000
    rounds: int = 3  # each pgbench variant: targets take turns this many times (seconds / rounds each)
    stream_repeats: int = 3
    plan_repeats: int = 20
    keep_db: bool = False
    workloads: tuple[str, ...] = WORKLOADS
    sqlgate_args: list[str] = field(default_factory=list)
    out: Path | None = None
    profile_dir: Path | None = None  # py-spy a sqlgate run of each missed target here
    log: Callable[[str], None] = print

    @classmethod
    def quick_config(cls, **overrides: Any) -> Config:
        values: dict[str, Any] = dict(
            quick=True, rows=20_000, seconds=1.0, clients=(1, 4), lookup_clients=(4,), connect_clients=2,
            idle=100, stream_repeats=1, plan_repeats=3, rounds=1,
        )  # fmt: skip
        values.update(overrides)
        return cls(**values)


@dataclass
class Servers:
    pg: Postgres
    data_db: str
    login: Login
    sqlgate: Sqlgate
    pgbouncer: PgBouncer | None
    pgbouncer_reason: str | None
    scram_pg: ScramPostgres | None
    scram_reason: str | None
    role: str
    role_password: str = field(repr=False)


def entry(workload: str, variant: str, target: str, **values: Any) -> dict[str, Any]:
    """One result row; ``status`` is ok, unavailable (with ``reason``) or failed (with ``error``).
    ``load1`` is the machine's 1-minute load average when the row was recorded (it is shared)."""
    row: dict[str, Any] = {"workload": workload, "variant": variant, "target": target, "status": "ok"}
    row["load1"] = round(os.getloadavg()[0], 2)
    row.update(values)
    if row.get("error"):
        row["status"] = "failed"
    if row.get("reason"):
        row["status"] = "unavailable"
    return row


class Harness:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.results: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.meta: dict[str, Any] = {}
        self.servers: Servers | None = None
        self._cleanups: list[Callable[[], Any]] = []
        self.scripts_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"sqlgate-bench-{uuid.uuid4().hex[:8]}"

    def log(self, text: str) -> None:
        self.config.log(f"[bench {time.strftime('%H:%M:%S')}] {text}")

    # ----------------------------------------------------------------------------- set-up / tear-down

    async def start(self) -> Servers:
        """Start everything; each resource registers its own clean-up at once, so a failure or an
        interrupt half-way leaves nothing behind (see :meth:`stop`)."""
        cfg = self.config
        raise_nofile_limit()  # inherited by sqlgate, PgBouncer and the idle-client process
        pg = Postgres.find()
        self._cleanups.append(pg.stop)
        self.log(f"PostgreSQL: {pg.origin} ({pg.host}:{pg.port})")
        data_db = dataset.KEPT_DATABASE if cfg.keep_db else f"sqlgate_bench_data_{uuid.uuid4().hex[:10]}"
        if not cfg.keep_db:
            self._cleanups.append(lambda: dataset.drop_database(pg, data_db))
        self.log(f"loading {cfg.rows:,} fact rows into {data_db}")
        self.meta["dataset"] = await dataset.load(pg, data_db, cfg.rows, keep=cfg.keep_db)
        login = await create_metadata(pg, data_db, self._cleanups)
        role = f"sqlgate_bench_{uuid.uuid4().hex[:8]}"
        role_password = secrets.token_urlsafe(16)
        pgb, pgb_reason = None, PgBouncer.unavailable_reason()
        if pgb_reason is None:
            try:
                pgb = PgBouncer.start(
                    pg, data_db, user=role, password=role_password, pool_size=SQLGATE_POOL_SIZE
                )
                self._cleanups.append(pgb.stop)
                self.meta["pgbouncer"] = PgBouncer.version()
            except Exception as exc:
                pgb_reason = f"pgbouncer failed to start: {exc}"
        if pgb_reason:
            self.notes.append(f"PgBouncer unavailable: {pgb_reason}")
            self.log(f"PgBouncer unavailable: {pgb_reason}")
        scram_pg, scram_reason = None, None
        if "d" in cfg.workloads:
            self._cleanups.append(lambda: _drop_role(pg, role))
            scram_pg, scram_reason = await self._scram_server(pg, role, role_password)
            if scram_pg is not None:
                self._cleanups.append(scram_pg.stop)
        self.scripts_dir.mkdir(parents=True, exist_ok=True)
        self._cleanups.append(lambda: shutil.rmtree(self.scripts_dir, ignore_errors=True))
        sqlgate = Sqlgate.start(login.metadata_url, cfg.sqlgate_args, self.scripts_dir / "sqlgate.log")
        self._cleanups.append(sqlgate.stop)
        self.log(f"sqlgate pid {sqlgate.pid} on port {sqlgate.port} (metrics {sqlgate.metrics_port})")
        self.servers = Servers(
            pg, data_db, login, sqlgate, pgb, pgb_reason, scram_pg, scram_reason, role, role_password
        )
        return self.servers

    async def _scram_server(
        self, pg: Postgres, role: str, password: str
    ) -> tuple[ScramPostgres | None, str | None]:
        """Where direct SCRAM logins are measured: the datasource server when it checks passwords on
        127.0.0.1, else a private cluster (same binaries) that does."""
        try:
            conn = await asyncpg.connect(pg.url)
            try:
                await conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
            finally:
                await conn.close()
            probe = await asyncpg.connect(
                host=pg.host, port=pg.port, user=role, password="wrong-" + password, database="postgres"
            )
            await probe.close()
        except asyncpg.InvalidPasswordError:
            return None, None  # the server asks for the password: measure on it
        except Exception as exc:
            return None, f"cannot create a SCRAM role: {exc}"
        self.notes.append(
            "direct (d) runs on a private PostgreSQL cluster (same binaries) with scram-sha-256 host "
            "authentication: the machine's server trusts 127.0.0.1 and checks no password"
        )
        try:
            return await asyncio.to_thread(ScramPostgres.start, role, password), None
        except Exception as exc:
            detail = getattr(exc, "stderr", "") or ""
            return None, f"could not start a SCRAM PostgreSQL cluster: {exc} {detail}".strip()

    async def stop(self) -> None:
        """Undo :meth:`start`, newest first; every step runs even when another fails."""
        while self._cleanups:
            cleanup = self._cleanups.pop()
            try:
                result = cleanup()
                if asyncio.iscoroutine(result):
                    await result
            except Exception as exc:
                self.log(f"clean-up step failed: {exc}")

    # ----------------------------------------------------------------------------- targets

    def target(self, name: str) -> Target | None:
        s = self.servers
        assert s is not None
        if name == "direct":
            return Target("direct", s.pg.host, s.pg.port, s.data_db, s.pg.user)
        if name == "pgbouncer":
            if s.pgbouncer is None:
                return None
            return Target("pgbouncer", "127.0.0.1", s.pgbouncer.port, s.data_db, s.role, s.role_password)
        return Target("sqlgate", "127.0.0.1", s.sqlgate.port, "db", s.login.username, s.login.password)

    def unavailable(self, name: str) -> str | None:
        s = self.servers
        assert s is not None
        if name == "pgbouncer" and s.pgbouncer is None:
            return s.pgbouncer_reason or "pgbouncer unavailable"
        return None

    # ----------------------------------------------------------------------------- the run

    async def run(self) -> dict[str, Any]:
        cfg = self.config
        started = time.time()
        self.meta["commit"] = git_commit()  # what is measured: the tree as the run starts
        try:
            await self.start()
            s = self.servers
            assert s is not None
            _, params = db_params_from_url(s.pg.url_for(s.data_db))
            self.planner = InProcessPlanner(dataset.model_yaml(), params)
            self._cleanups.append(self.planner.close)
            await self.check_generated_sql()
            steps = {
                "a": self.run_grouped,
                "b": self.run_lookup,
                "c": self.run_stream,
                "d": self.run_connect,
                "e": self.run_planning,
                "f": self.run_idle,
            }
            for key in cfg.workloads:
                self.log(f"workload ({key}) {WORKLOAD_NAMES[key]}")
                await steps[key]()
            metrics_text = s.sqlgate.metrics_text()
            self.meta["sqlgate_metrics"] = scrape_metrics(metrics_text)
            peaks = [read_status_kb(p, "VmHWM") or 0 for p in process_tree(s.sqlgate.pid)]
            self.meta["sqlgate_peak_rss_mb"] = round(sum(peaks) / 1024, 1)  # VmHWM of every process
        finally:
            await self.stop()
        report = self.report(started)
        return report

    async def check_generated_sql(self) -> None:
        """Run each statement once through the gateway and compare the SQL its query log recorded with
        the planner's: the direct and PgBouncer targets must run exactly what sqlgate runs."""
        s = self.servers
        assert s is not None
        gateway = self.target("sqlgate")
        assert gateway is not None
        statements = [workloads.GROUPED, workloads.lookup_sql(str(workloads.LOOKUP_SENTINEL))]
        for sql in statements:
            run_query(gateway, sql)
        expected = {(await self.planner.generated(sql)).template_sql for sql in statements}
        logged: set[str] = set()
        for _ in range(50):  # the query log is written in the background
            logged = set(await generated_sql_log(s.login.metadata_url))
            if expected <= logged:
                break
            await asyncio.sleep(0.1)
        self.meta["generated_sql_matches_query_log"] = expected <= logged
        if not expected <= logged:
            self.notes.append("the query log did not (yet) show the generated SQL the planner produced")

    def _script_pair(self, semantic: str, direct: str, prelude: str = "") -> dict[str, str]:
        return {
            "sqlgate": prelude + one_line(semantic) + ";\n",
            "direct": prelude + one_line(direct) + ";\n",
            "pgbouncer": prelude + one_line(direct) + ";\n",
        }

    def _pgbench_all(
        self,
        workload: str,
        *,
        scripts: dict[str, str],
        variant: Any,
        rows_per_txn: dict[str, int],
        connect_each: bool = False,
        targets: dict[str, Target | None] | None = None,
    ) -> None:
        """Run one variant on every target. The targets take turns, ``rounds`` times, each run
        ``seconds / rounds`` long, so a burst of load from the machine's other users hits all three
        alike; each figure is the median over the rounds."""
        runnable: dict[str, Target] = {}
        for name in TARGETS:
            target, reason = self._resolve(workload, name, variant, targets)
            if target is None:
                self.results.append(
                    entry(workload, variant.label, name, clients=variant.clients, reason=reason or "n/a")
                )
            else:
                runnable[name] = target
        rounds = max(1, self.config.rounds)
        seconds = max(1.0, self.config.seconds / rounds)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in runnable}
        for round_number in range(rounds):
            for name, target in runnable.items():
                self.log(f"  {variant.label} {name} (round {round_number + 1}/{rounds})")
                label = f"{workload}-{variant.label}-r{round_number + 1}"
                runs[name].append(
                    self._one_pgbench(
                        name,
                        target=target,
                        script=scripts[name],
                        variant=variant,
                        seconds=seconds,
                        connect_each=connect_each,
                        label=label,
                    )
                )
        for name, measured in runs.items():
            values = _median_run(measured)
            rows = rows_per_txn.get(name, 0)
            values.update(
                clients=variant.clients,
                mode="extended" if variant.prepared else "simple",
                rounds=len(measured),
                rows_per_txn=rows,
                rows_per_s=round(values["tps"] * rows, 1) if rows and values.get("tps") else None,
            )
            if connect_each:
                values["connections_per_s"] = values["tps"]
            self.results.append(entry(workload, variant.label, name, **values))

    def _resolve(
        self, workload: str, name: str, variant: Any, targets: dict[str, Target | None] | None
    ) -> tuple[Target | None, str | None]:
        """The target to run on, or None and why not."""
        if targets is not None and name in targets:
            target = targets[name]
            reason = None if target is not None else self._target_reason(workload, name)
        else:
            target, reason = self.target(name), self.unavailable(name)
        version = self.meta.get("pgbouncer", "")
        if (
            name == "pgbouncer"
            and variant.prepared
            and target is not None
            and _pgbouncer_lacks_prepared(version)
        ):
            return None, (
                f"{version} in transaction mode does not keep protocol-level prepared statements "
                "(max_prepared_statements needs PgBouncer 1.21)"
            )
        return target, reason

    def _one_pgbench(
        self,
        name: str,
        *,
        target: Target,
        script: str,
        variant: Any,
        seconds: float,
        connect_each: bool,
        label: str,
    ) -> dict[str, Any]:
        s = self.servers
        assert s is not None
        profiler = self._profiler(name, label, seconds)
        cpu_before, wall_before = cpu_seconds(s.sqlgate.pid) or 0.0, time.perf_counter()
        with RssSampler(s.sqlgate.pid) as rss:
            result = run_pgbench(
                target,
                script,
                clients=variant.clients,
                seconds=seconds,
                prepared=variant.prepared,
                connect_each=connect_each,
            )
        wall = time.perf_counter() - wall_before
        values: dict[str, Any] = {
            "tps": round(result.tps, 1),
            "p50_ms": _round(result.p50_ms),
            "p99_ms": _round(result.p99_ms),
            "transactions": result.transactions,
            "failed": result.failed,
            "client_cpu_ms_per_txn": round(result.extra["client_cpu_s"] * 1000 / result.transactions, 3)
            if result.transactions
            else None,
        }
        if name == "sqlgate":
            values["sqlgate_peak_rss_mb"] = round(rss.peak_mb, 1)
            used = (cpu_seconds(s.sqlgate.pid) or 0.0) - cpu_before
            # Cores sqlgate kept busy during the run (1.0 = one core saturated: it is one process).
            values["sqlgate_cpu_util"] = round(used / wall, 3)
            # CPU per transaction, and the TPS one core would give at that cost: figures the machine's
            # other load does not distort the way it distorts TPS.
            if result.transactions and used > 0:
                values["sqlgate_cpu_ms_per_txn"] = round(used * 1000 / result.transactions, 3)
                values["sqlgate_one_core_tps"] = round(result.transactions / used, 1)
            if profiler is not None:
                values["profile"] = profiler.finish()
        if result.error:
            values["error"] = result.error
        return values

    def _profiler(self, target: str, label: str, seconds: float) -> Profiler | None:
        """A py-spy recording of sqlgate for this run, when ``--profile`` asked for one."""
        s = self.servers
        assert s is not None
        if self.config.profile_dir is None or target != "sqlgate":
            return None
        name = re.sub(r"[^a-zA-Z0-9]+", "_", label).strip("_")
        return Profiler(s.sqlgate.pid, self.config.profile_dir / name, seconds)

    def _target_reason(self, workload: str, name: str) -> str:
        s = self.servers
        assert s is not None
        if workload == "d" and name == "direct":
            return s.scram_reason or "no SCRAM server"
        return self.unavailable(name) or "n/a"

    def _rows(self, semantic: str, direct: str) -> dict[str, int]:
        """Rows one transaction returns on each target (they must agree; a mismatch is noted)."""
        counts: dict[str, int] = {}
        digests: dict[str, str] = {}
        for name in TARGETS:
            target = self.target(name)
            if target is None:
                continue
            run = run_query(target, semantic if name == "sqlgate" else direct, digest=True)
            counts[name], digests[name] = run.rows, run.digest
        if len(set(counts.values())) > 1 or len(set(digests.values())) > 1:
            self.notes.append(f"results differ between targets for {one_line(semantic)[:80]}: {counts}")
        return counts

    async def run_grouped(self) -> None:
        generated = await self.planner.generated(workloads.GROUPED)
        direct = direct_sql(generated)
        self.meta.setdefault("generated_sql", {})["a"] = one_line(direct)
        rows = self._rows(workloads.GROUPED, direct)
        scripts = self._script_pair(workloads.GROUPED, direct)
        for clients in self.config.clients:
            for prepared in (False, True):
                self._pgbench_all(
                    "a", scripts=scripts, variant=workloads.Variant(clients, prepared), rows_per_txn=rows
                )

    async def run_lookup(self) -> None:
        sentinel = workloads.LOOKUP_SENTINEL
        generated = await self.planner.generated(workloads.lookup_sql(str(sentinel)))
        direct = direct_sql(generated, {sentinel: "cust"})
        self.meta.setdefault("generated_sql", {})["b"] = one_line(direct)
        customers = dataset.customers_for(self.config.rows)
        prelude = f"\\set cust random(1, {customers})\n"
        scripts = self._script_pair(workloads.lookup_sql(":cust"), direct, prelude)
        sample = str(customers // 2)
        rows = self._rows(workloads.lookup_sql(sample), direct.replace(":cust", sample))
        for clients in self.config.lookup_clients:
            for prepared in (False, True):
                self._pgbench_all(
                    "b", scripts=scripts, variant=workloads.Variant(clients, prepared), rows_per_txn=rows
                )

    async def run_stream(self) -> None:
        s = self.servers
        assert s is not None
        generated = await self.planner.generated(workloads.STREAM)
        direct = direct_sql(generated)
        self.meta.setdefault("generated_sql", {})["c"] = one_line(direct)
        for name in TARGETS:
            target = self.target(name)
            if target is None:
                self.results.append(entry("c", "1 client", name, clients=1, reason=self.unavailable(name)))
                continue
            self.log(f"  stream {name}")
            sql = workloads.STREAM if name == "sqlgate" else direct
            runs = []
            start_rss = tree_rss_kb(s.sqlgate.pid) or 0
            peak_growth = 0.0
            profile = None
            cpu_used: list[float] = []
            try:
                for _ in range(self.config.stream_repeats):
                    cpu_before = cpu_seconds(s.sqlgate.pid) or 0.0
                    with RssSampler(s.sqlgate.pid, interval=0.02) as rss:
                        runs.append(await asyncio.to_thread(run_query, target, sql))
                    cpu_used.append((cpu_seconds(s.sqlgate.pid) or 0.0) - cpu_before)
                    peak_growth = max(peak_growth, (rss.peak_kb - start_rss) / 1024)
                # With --profile, one more (unmeasured) run under py-spy, as long as a measured one.
                profiler = self._profiler(name, "c-stream", min(runs[0].seconds, 20))
                if profiler is not None:
                    await asyncio.to_thread(run_query, target, sql)
                    profile = profiler.finish()
            except Exception as exc:
                self.results.append(entry("c", "1 client", name, clients=1, error=str(exc)))
                continue
            best = min(runs, key=lambda r: r.seconds)
            values: dict[str, Any] = {
                "clients": 1,
                "rows": best.rows,
                "seconds": round(best.seconds, 3),
                "rows_per_s": round(best.rows / best.seconds, 1),
                "tps": round(1 / best.seconds, 3),
            }
            if name == "sqlgate":
                cpu = sorted(cpu_used)[len(cpu_used) // 2]
                if cpu > 0:
                    values["sqlgate_cpu_s"] = round(cpu, 3)
                    values["sqlgate_one_core_rows_per_s"] = round(best.rows / cpu, 1)
                values["sqlgate_rss_growth_mb"] = round(peak_growth, 1)
                values["sqlgate_peak_rss_mb"] = round((start_rss / 1024) + peak_growth, 1)
                if profile is not None:
                    values["profile"] = profile
            self.results.append(entry("c", "1 client", name, **values))

    async def run_connect(self) -> None:
        s = self.servers
        assert s is not None
        targets: dict[str, Target | None] = {
            "direct": None
            if s.scram_reason
            else (
                Target("direct", "127.0.0.1", s.scram_pg.port, "postgres", s.role, s.role_password)
                if s.scram_pg is not None
                else Target("direct", s.pg.host, s.pg.port, "postgres", s.role, s.role_password)
            ),
        }
        scripts = {name: workloads.CONNECT + ";\n" for name in TARGETS}
        variant = workloads.Variant(self.config.connect_clients, False)
        self._pgbench_all(
            "d",
            scripts=scripts,
            variant=variant,
            rows_per_txn={n: 1 for n in TARGETS},
            connect_each=True,
            targets=targets,
        )

    async def run_planning(self) -> None:
        """(e) In-process planning latency (sqlgate only), and the same statement end to end on all
        three targets (pgbench, 1 client) to show what planning adds to a query."""
        texts = [workloads.planning_sql()] + [workloads.planning_sql(k * 1000) for k in range(1, 21)]
        latency = await plan_latency(self.planner, texts, self.config.plan_repeats)
        self.meta["planning_method"] = (
            "in-process: CorePlanner.prepare (parse, route, plan, generate SQL) with the gateway's semantic "
            "handler; first = a cold planner (new model, empty caches), median of "
            f"{latency['first_plan_samples']}; repeat = the same text on a warm planner; repeat_shape = "
            "the same shape with other IN values"
        )
        generated = await self.planner.generated(workloads.planning_sql())
        direct = direct_sql(generated)
        rows = self._rows(workloads.planning_sql(), direct)
        scripts = self._script_pair(workloads.planning_sql(), direct)
        self._pgbench_all("e", scripts=scripts, variant=workloads.Variant(1, False), rows_per_txn=rows)
        for row in self.results:
            if row["workload"] == "e" and row["target"] == "sqlgate":
                row.update({k: round(v, 3) for k, v in latency.items() if k.endswith("_ms")})

    async def run_idle(self) -> None:
        s = self.servers
        assert s is not None
        count = self.config.idle
        variant = f"{count} idle"
        self.results.append(
            entry(
                "f",
                variant,
                "direct",
                reason="PostgreSQL forks a backend per connection; its max_connections "
                "(100 here) is far below the count",
            )
        )
        for name, pid in (
            ("pgbouncer", s.pgbouncer.pid if s.pgbouncer else None),
            ("sqlgate", s.sqlgate.pid),
        ):
            target = self.target(name)
            if target is None or pid is None:
                self.results.append(entry("f", variant, name, reason=self.unavailable(name)))
                continue
            self.log(f"  {count} idle connections to {name}")
            before = tree_rss_kb(pid) or 0
            clients = IdleClients(target, count)
            await asyncio.to_thread(clients.open)
            try:
                await asyncio.sleep(1.0)  # let the server settle (sessions allocated, buffers idle)
                during = tree_rss_kb(pid) or 0
            finally:
                await asyncio.to_thread(clients.close)
            values: dict[str, Any] = {
                "connections": clients.opened,
                "open_seconds": clients.seconds,
                "rss_mb": round(during / 1024, 1),
                "rss_before_mb": round(before / 1024, 1),
                "rss_growth_mb": round((during - before) / 1024, 1),
                "kb_per_connection": round((during - before) / max(1, clients.opened), 1),
            }
            if clients.opened < count:
                values["error"] = f"opened {clients.opened} of {count}: {clients.error}"
            if name == "sqlgate":
                values["sqlgate_peak_rss_mb"] = values["rss_mb"]
            self.results.append(entry("f", variant, name, **values))

    # ----------------------------------------------------------------------------- report

    def report(self, started: float) -> dict[str, Any]:
        variants: dict[tuple[str, str], int] = {}
        for row in self.results:
            variants.setdefault((row["workload"], row["variant"]), len(variants))
        self.results.sort(key=lambda r: (variants[(r["workload"], r["variant"])], TARGETS.index(r["target"])))
        add_ratios(self.results)
        return {
            "started": datetime.datetime.fromtimestamp(started, datetime.UTC).isoformat(timespec="seconds"),
            "seconds": round(time.time() - started, 1),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load": os.getloadavg()},
            "config": {
                "quick": self.config.quick,
                "rows": self.config.rows,
                "seconds_per_variant": self.config.seconds,
                "rounds": self.config.rounds,
                "clients": list(self.config.clients),
                "idle": self.config.idle,
                "sqlgate_args": self.config.sqlgate_args,
                "pool_size": SQLGATE_POOL_SIZE,
            },
            "workloads": {k: WORKLOAD_NAMES[k] for k in self.config.workloads},
            "targets": list(TARGETS),
            "results": self.results,
            "targets_check": check_targets(self.results),
            "notes": self.notes,
            **self.meta,
        }


async def _drop_role(pg: Postgres, role: str) -> None:
    conn = await asyncpg.connect(pg.url)
    try:
        await conn.execute(f"DROP ROLE IF EXISTS {role}")
    finally:
        await conn.close()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _pgbouncer_lacks_prepared(version: str) -> bool:
    match = re.search(r"(\d+)\.(\d+)", version or "")
    return bool(match) and (int(match.group(1)), int(match.group(2))) < (1, 21)


MEDIAN_FIELDS = (
    "tps", "p50_ms", "p99_ms", "client_cpu_ms_per_txn", "sqlgate_cpu_util", "sqlgate_cpu_ms_per_txn",
    "sqlgate_one_core_tps",
)  # fmt: skip


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one target merged: medians of the figures, sums of the counts, the peak RSS, the
    first error, and each round's TPS (``tps_rounds``) to show the spread."""
    merged: dict[str, Any] = {}
    for key in MEDIAN_FIELDS:
        values = sorted(r[key] for r in runs if r.get(key) is not None)
        if values:
            merged[key] = (
                values[len(values) // 2]
                if len(values) % 2
                else _round((values[len(values) // 2 - 1] + values[len(values) // 2]) / 2)
            )
    merged["transactions"] = sum(r["transactions"] for r in runs)
    merged["failed"] = sum(r["failed"] for r in runs)
    merged["tps_rounds"] = [r["tps"] for r in runs]
    rss = [r["sqlgate_peak_rss_mb"] for r in runs if "sqlgate_peak_rss_mb" in r]
    if rss:
        merged["sqlgate_peak_rss_mb"] = max(rss)
    profiles = [r["profile"] for r in runs if r.get("profile")]
    if profiles:
        merged["profile"] = profiles[0]
    errors = [r["error"] for r in runs if r.get("error")]
    if errors:
        merged["error"] = errors[0]
    return merged


def _key_figure(row: dict[str, Any]) -> float | None:
    if row["workload"] == "c":
        return row.get("rows_per_s")
    return row.get("tps")


def add_ratios(results: list[dict[str, Any]]) -> None:
    """On each sqlgate row: its key figure (TPS, or rows/s for streaming) over direct's and PgBouncer's
    in the same workload and variant."""
    by_key = {(r["workload"], r["variant"], r["target"]): r for r in results}
    for row in results:
        if row["target"] != "sqlgate" or row["status"] != "ok" or row["workload"] == "f":
            continue
        mine = _key_figure(row)
        for other in ("direct", "pgbouncer"):
            peer = by_key.get((row["workload"], row["variant"], other))
            theirs = _key_figure(peer) if peer and peer["status"] == "ok" else None
            row[f"ratio_{other}"] = round(mine / theirs, 3) if mine and theirs else None


def check_targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured figure and met/missed (None when not measured)."""
    rows = {(r["workload"], r["variant"], r["target"]): r for r in results}
    checks: list[dict[str, Any]] = []

    def add(name: str, value: Any, ok: bool | None) -> None:
        checks.append({"target": name, "measured": value, "met": ok})

    for workload in ("a", "b"):
        for mode in ("simple", "extended"):
            row = rows.get((workload, f"c=16 {mode}", "sqlgate"))
            if row is None:
                continue
            ratio = row.get("ratio_direct")
            add(
                f"({workload}) {mode} c=16 >= 0.6x direct TPS", ratio, None if ratio is None else ratio >= 0.6
            )
            ratio = row.get("ratio_pgbouncer")
            add(f"({workload}) {mode} c=16 >= PgBouncer TPS", ratio, None if ratio is None else ratio >= 1.0)
    row = rows.get(("c", "1 client", "sqlgate"))
    if row:
        ratio = row.get("ratio_direct")
        add("(c) >= 0.5x direct rows/s", ratio, None if ratio is None else ratio >= 0.5)
        growth = row.get("sqlgate_rss_growth_mb")
        add("(c) sqlgate RSS growth < 100 MB", growth, None if growth is None else growth < 100)
    for key, row in rows.items():
        if key[0] == "d" and key[2] == "sqlgate" and row["status"] == "ok":
            add("(d) >= 1000 SCRAM connections/s", row.get("tps"), row.get("tps", 0) >= 1000)
        if key[0] == "e" and key[2] == "sqlgate" and row.get("first_plan_ms") is not None:
            add("(e) first plan <= 20 ms", row["first_plan_ms"], row["first_plan_ms"] <= 20)
            add("(e) repeat plan <= 1 ms", row["repeat_plan_ms"], row["repeat_plan_ms"] <= 1)
        if key[0] == "f" and key[2] == "sqlgate" and row["status"] == "ok":
            add(f"(f) {key[1]}: sqlgate RSS <= 300 MB", row["rss_mb"], row["rss_mb"] <= 300)
    return checks


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            check=False,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_json(report: dict[str, Any], out: Path | None) -> Path:
    """Write ``report`` to ``out`` (default bench/results/<timestamp>.json); returns the path."""
    if out is None:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        out = RESULTS_DIR / f"{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return out
