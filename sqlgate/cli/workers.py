"""``sqlgate serve --workers N``: N worker processes, each a whole gateway, sharing one port.

The parent makes a private directory for the workers' cancel sockets, starts the workers (spawned,
so none inherits an event loop or open connections), forwards SIGTERM/SIGINT to them and waits.
Each worker listens with SO_REUSEPORT, so the kernel spreads connections over them; worker ``i``
serves metrics on ``metrics_port + i``. When a worker dies, the others are stopped and the command
fails, so that a supervisor restarts the whole gateway.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import signal
import tempfile
import time
from typing import Any

from sqlgate.config import Settings


def worker_settings(settings: Settings, index: int) -> Settings:
    """The settings worker ``index`` runs with."""
    metrics_port = settings.metrics_port
    if metrics_port:
        metrics_port += index
    return settings.replace(reuse_port=True, metrics_port=metrics_port)


def _worker_main(settings: Settings, index: int, count: int, cancel_dir: str) -> None:
    from sqlgate.cli.serve import configure_logging, loop_factory, run_until_signalled
    from sqlgate.gateway import Gateway
    from sqlgate.wire.workers import WorkerInfo

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent turns Ctrl-C into SIGTERM for us
    configure_logging(settings.log_level)
    gateway = Gateway(worker_settings(settings, index), worker=WorkerInfo(index, count, cancel_dir))
    with asyncio.Runner(loop_factory=loop_factory(settings)) as runner:
        runner.run(run_until_signalled(gateway))


def run_workers(settings: Settings) -> int:
    """Run ``settings.workers`` workers until SIGTERM/SIGINT; the exit status for the command."""
    context = multiprocessing.get_context("spawn")
    cancel_dir = tempfile.mkdtemp(prefix="sqlgate-cancel-")  # mode 0700
    workers: list[Any] = []
    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for process in workers:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: the worker drains

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for index in range(settings.workers):
            process = context.Process(
                target=_worker_main,
                args=(settings, index, settings.workers, cancel_dir),
                name=f"sqlgate-worker-{index}",
            )
            process.start()
            workers.append(process)
        status = 0
        while any(p.is_alive() for p in workers):
            for process in workers:
                if not process.is_alive() and process.exitcode not in (0, None) and not stopping:
                    status = 1
                    stop(signal.SIGTERM, None)  # one worker died: stop the rest, let a supervisor restart
            time.sleep(0.2)
        if not stopping:
            status = 1
        return status
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for process in workers:
            process.join(timeout=1)
        shutil.rmtree(cancel_dir, ignore_errors=True)
