"""``sqlgate demo``: try sqlgate with nothing else installed.

Generates an e-commerce sample dataset into DuckDB, runs the metadata store on an embedded PostgreSQL
(the same migrations as production), creates a user, team, datasource, models and a SQL credential
through the admin operations, then serves PostgreSQL clients on 127.0.0.1 until Ctrl-C. State stays
in the data directory and is reused by the next run (same credential).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from sqlgate.cli.main import CliError
from sqlgate.demo.data import DEFAULT_ORDERS
from sqlgate.demo.models import EXAMPLE_QUERIES
from sqlgate.demo.prepare import DEFAULT_DATA_DIR, PG_DIR, DemoState, EmbeddedMetadataServer, prepare

DESCRIPTION = """\
Start a self-contained sqlgate: generated sample data of a made-up shop (~100k orders) in DuckDB,
Cube models for it, a metadata database on an embedded PostgreSQL and a SQL credential, served on
127.0.0.1. Prints the psql command to connect and a few queries to try. Everything is kept in the
data directory and reused next time; delete it (or use --reset) to start over. The demo never uses
--metadata-url / $SQLGATE_METADATA_URL: it has its own metadata database."""

EPILOG = """\
examples:
  sqlgate demo
  sqlgate demo --port 15433 --data-dir /tmp/sqlgate-demo
  sqlgate demo --prepare-only --json"""


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``sqlgate demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="try sqlgate on generated sample data (no other service needed)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port", type=int, default=15432, help="port to serve PostgreSQL clients on (default 15432)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help=f"where the demo keeps its data, database and credential (default ./{DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--orders", type=int, default=DEFAULT_ORDERS, help=f"orders to generate (default {DEFAULT_ORDERS})"
    )
    parser.add_argument("--reset", action="store_true", help="delete the data directory first and start over")
    parser.add_argument(
        "--prepare-only", action="store_true", help="set everything up, print how to connect, and exit"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> None:
    data_dir: Path = args.data_dir
    if not 0 < args.port < 65536:
        raise CliError(f"--port must be between 1 and 65535 (got {args.port})")
    if args.orders < 100:
        raise CliError("--orders must be at least 100")
    if args.reset:
        _reset(data_dir)
    server = EmbeddedMetadataServer(data_dir.resolve() / PG_DIR)
    try:
        print(f"sqlgate demo: preparing {data_dir} …", file=sys.stderr, flush=True)
        try:
            state = asyncio.run(prepare(data_dir, orders=args.orders, server=server))
        except ModuleNotFoundError as exc:
            raise CliError(f"this sqlgate build lacks a part the demo needs ({exc.name})") from None
        except Exception as exc:
            from sqlgate.metastore.admin import AdminError

            if isinstance(exc, AdminError | OSError):
                raise CliError(f"could not prepare the demo: {exc}") from None
            raise
        _announce(state, args.host, args.port, json_output=args.json)
        if not args.prepare_only:
            _serve(state, args.host, args.port)
    finally:
        server.stop()


def _reset(data_dir: Path) -> None:
    if not data_dir.exists():
        return
    if not (data_dir / "demo.json").exists() and any(data_dir.iterdir()):
        raise CliError(f"{data_dir} does not look like a sqlgate demo directory; not deleting it")
    shutil.rmtree(data_dir)


def describe(state: DemoState, host: str, port: int) -> dict[str, Any]:
    """What the demo prints (also its --json output)."""
    url = state.client_url(host, port)
    return {
        "url": url,
        "psql": f'psql "{url}"',
        "username": state.username,
        "password": state.password,
        "data_dir": state.data_dir,
        "data_file": state.data_file,
        "orders": state.orders,
        "example_queries": list(EXAMPLE_QUERIES),
    }


def _announce(state: DemoState, host: str, port: int, *, json_output: bool) -> None:
    info = describe(state, host, port)
    if json_output:
        print(json.dumps(info), flush=True)
        return
    lines = [
        f"sqlgate demo: {state.orders:,} orders of a made-up shop ({info['data_file']}),",
        "models: orders, line_items, customers, products and the sales view.",
        "",
        "Connect with:",
        "",
        f"  {info['psql']}",
        "",
        "and try:",
        "",
        *[f"  {query}" for query in "\n".join(EXAMPLE_QUERIES).splitlines()],
        "",
        f"State is kept in {state.data_dir} (delete it, or use --reset, to start over).",
    ]
    print("\n".join(lines), flush=True)


def _serve(state: DemoState, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM, exactly as ``sqlgate serve`` does, on the demo metadata database."""
    try:
        from sqlgate.cli.serve import loop_factory, run_until_signalled
        from sqlgate.config import Settings
        from sqlgate.gateway import Gateway
    except ModuleNotFoundError as exc:
        raise CliError(f"this sqlgate build has no server yet ({exc.name}); the demo is prepared") from None
    settings = Settings(host=host, port=port, metadata_url=state.metadata_url, metrics_port=None)
    print("Serving; stop with Ctrl-C.", file=sys.stderr, flush=True)
    try:
        with asyncio.Runner(loop_factory=loop_factory(settings)) as runner:
            runner.run(run_until_signalled(Gateway(settings)))
    except OSError as exc:
        raise CliError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); try --port {port + 1}"
        ) from None
    except KeyboardInterrupt:
        pass
