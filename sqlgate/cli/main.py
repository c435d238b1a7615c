"""Entry point of the ``sqlgate`` command.

Each command group lives in its own module exposing ``register(subparsers, common)``; ``common`` is
the parent parser holding the options every command accepts after its own arguments
(``--metadata-url``, ``--json``). A command function returns a dict (printed as one JSON object with
``--json``, else as readable text) and raises :class:`CliError` for a one-line failure (exit 1).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sqlgate import __version__

# Modules that add commands; a module missing here simply contributes nothing yet.
COMMAND_MODULES = (
    "sqlgate.cli.migrate",
    "sqlgate.cli.admin",
    "sqlgate.cli.serve",
    "sqlgate.cli.demo",
)


GETTING_STARTED = """\
getting started (every command also takes --metadata-url URL and --json):
  export SQLGATE_METADATA_URL=postgresql://postgres:secret@127.0.0.1:5432/synmetrix
  sqlgate migrate
  sqlgate users create --email ann@example.com
  sqlgate teams create --name Analytics --owner ann@example.com
  sqlgate datasources create --team Analytics --name shop --url postgresql://reader:pw@db:5432/shop
  sqlgate models push --team Analytics --datasource shop models/
  sqlgate credentials create --team Analytics --datasource shop --email ann@example.com

Run 'sqlgate COMMAND --help' (and 'sqlgate COMMAND ACTION --help') for details.
"""


class CliError(Exception):
    """A failure reported to the user as one line on stderr, exit status 1."""


def common_options() -> argparse.ArgumentParser:
    """Options every command takes (after its own arguments)."""
    parent = argparse.ArgumentParser(add_help=False)
    add_common_options(parent)
    return parent


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--metadata-url`` and ``--json`` to ``parser``. Called after a command's own arguments
    (instead of ``parents=[common]``), they are also listed after them in usage and help."""
    group = parser.add_argument_group("common options")
    group.add_argument(
        "--metadata-url",
        default=os.environ.get("SQLGATE_METADATA_URL"),
        metavar="URL",
        help="PostgreSQL URL of the Synmetrix metadata database (default: $SQLGATE_METADATA_URL)",
    )
    group.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqlgate",
        description="PostgreSQL wire-protocol gateway for semantic SQL over Synmetrix data models.",
        epilog=GETTING_STARTED,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sqlgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_options()
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub, common)
    return parser


def render_text(result: Any) -> str:
    """Readable text for a command's result (dicts as aligned key: value lines, lists as tables)."""
    if isinstance(result, str):
        return result
    if isinstance(result, dict):
        if "message" in result and len(result) == 1:
            return str(result["message"])
        width = max((len(k) for k in result), default=0)
        lines = []
        for key, value in result.items():
            shown = json.dumps(value, default=str) if isinstance(value, list | dict) else value
            lines.append(f"{key.ljust(width)}  {shown}")
        return "\n".join(lines)
    return json.dumps(result, default=str, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], Any] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        result = handler(args)
    except CliError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": str(exc)}), file=sys.stderr)
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if result is None:
        return 0
    if getattr(args, "json", False):
        formatter = getattr(args, "json_formatter", None)
        print(json.dumps(formatter(result) if formatter else result, default=str))
    else:
        formatter = getattr(args, "text_formatter", None)
        print(formatter(result) if formatter else render_text(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
