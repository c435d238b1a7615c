"""``sqlgate serve``: run the PostgreSQL wire-protocol server until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlgate.config import Settings, SettingsError

if TYPE_CHECKING:
    from sqlgate.gateway import Gateway


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "serve",
        parents=[common],
        help="run the PostgreSQL wire-protocol server",
        description="Serve PostgreSQL clients. Every option can also be set with its SQLGATE_* "
        "environment variable; SIGTERM drains running statements, then closes sessions (57P01).",
    )
    Settings.add_arguments(parser, skip=("metadata_url",))
    parser.set_defaults(handler=serve)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


def loop_factory(settings: Settings) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when wanted and installed, else asyncio's default."""
    if not settings.uvloop:
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def run_until_signalled(gateway: Gateway) -> None:
    """Start ``gateway`` and stop it gracefully (drain) on SIGTERM or SIGINT."""
    await gateway.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    logging.getLogger("sqlgate").info(
        "shutting down: draining for up to %.0fs", gateway.settings.shutdown_timeout
    )
    await gateway.stop()


def serve(args: argparse.Namespace) -> None:
    from sqlgate.cli.main import CliError
    from sqlgate.gateway import Gateway

    try:
        settings = Settings.from_args(args)
        if args.metadata_url:
            settings = settings.replace(metadata_url=args.metadata_url)
        settings.validate()
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    configure_logging(settings.log_level)
    if settings.workers > 1:
        from sqlgate.cli.workers import run_workers

        status = run_workers(settings)
        if status:
            raise CliError("a worker process stopped unexpectedly")
        return
    try:
        with asyncio.Runner(loop_factory=loop_factory(settings)) as runner:
            runner.run(run_until_signalled(Gateway(settings)))
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from None
