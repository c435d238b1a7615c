"""``sqlgate migrate``: create or update the Synmetrix schema in the metadata database."""

from __future__ import annotations

import argparse
from typing import Any

from sqlgate.cli.main import CliError, add_common_options
from sqlgate.cli.output import fields
from sqlgate.cli.runner import run_url_operation
from sqlgate.metastore import migrate as migrations
from sqlgate.metastore.engine import mask_password

DESCRIPTION = """\
Bring the metadata database to the newest schema revision.

On an empty database this creates the whole Synmetrix schema (users, teams, datasources,
dataschemas, sql_credentials, … with their keys, enum rows and triggers). On a database that
Synmetrix already created it adopts the schema: existing tables and rows are kept, nothing is
dropped, only what is missing is added (such as sqlgate's sql_credentials.scram_verifier column).
Running it again is a no-op. Concurrent runs (several gateways starting) wait for each other.
"""

EPILOG = """\
examples:
  sqlgate migrate --metadata-url postgresql://postgres:secret@127.0.0.1:5432/synmetrix
  SQLGATE_METADATA_URL=postgresql://postgres@/synmetrix?host=/var/run/postgresql sqlgate migrate
  sqlgate migrate --status --json
"""


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``sqlgate migrate``."""
    parser = subparsers.add_parser(
        "migrate",
        help="create or update the Synmetrix schema in the metadata database",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--status",
        action="store_true",
        help="only show the database's revision and the newest one; change nothing",
    )
    add_common_options(parser)
    parser.set_defaults(handler=migrate_command, text_formatter=migrate_text)


def migrate_command(args: argparse.Namespace) -> dict[str, Any]:
    head = migrations.head_revision()
    where = mask_password(args.metadata_url) if args.metadata_url else None
    if args.status:
        current = run_url_operation(args, migrations.current_revision)
        return {
            "database": where,
            "current": current,
            "head": head,
            "up_to_date": current == head,
            "known": current is None or current in migrations.known_revisions(),
        }
    try:
        result = run_url_operation(args, migrations.upgrade)
    except migrations.UnknownRevisionError as exc:
        raise CliError(str(exc)) from None
    return {"database": where, **result.as_dict(), "head": head}


def migrate_text(result: dict[str, Any]) -> str:
    if "current" in result:
        if result["up_to_date"]:
            state = "up to date"
        elif not result["known"]:
            state = "unknown revision: made by a newer sqlgate"
        else:
            state = "needs: sqlgate migrate"
        return fields(
            [
                ("database", result["database"]),
                ("revision", result["current"] or "none (not migrated by sqlgate)"),
                ("newest", result["head"]),
                ("state", state),
            ]
        )
    if not result["changed"]:
        return f"The metadata database is already at the newest revision ({result['to']}); nothing to do."
    start = result["from"] or "no sqlgate revision"
    return (
        f"Migrated the metadata database {result['database']} from {start} to {result['to']} "
        f"(applied {', '.join(result['applied'])})."
    )
