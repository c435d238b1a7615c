"""Run sqlgate's alembic migrations on the metadata database, without any alembic.ini.

The scripts live in ``sqlgate/_migrations`` inside an installed wheel, or in the repository's
``migrations/`` folder for an editable install. Revision 0001 creates (or adopts) the Synmetrix
schema; 0002 adds ``sql_credentials.scram_verifier``.
"""

from __future__ import annotations

import asyncio
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from sqlgate.metastore.engine import create_metadata_engine

VERSION_TABLE = "sqlgate_alembic_version"
# pg_advisory_xact_lock key held while migrating (an arbitrary constant: "sqlgate" in ASCII).
MIGRATION_LOCK_KEY = 0x73716C67617465
# alembic keeps its running context in module globals (alembic.context, alembic.op): two migrations
# in one process must not interleave. Across processes the advisory lock in env.py serialises them.
_IN_PROCESS = asyncio.Lock()


def migrations_dir() -> Path:
    """Where the alembic scripts are: the packaged copy first, else the source tree's."""
    packaged = Path(str(importlib.resources.files("sqlgate") / "_migrations"))
    if (packaged / "env.py").is_file():
        return packaged
    source_tree = Path(__file__).resolve().parents[2] / "migrations"
    if (source_tree / "env.py").is_file():
        return source_tree
    raise FileNotFoundError(
        f"sqlgate's migration scripts are missing (looked in {packaged} and {source_tree}); reinstall sqlgate"
    )


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic Config built in code; ``connection`` is used by env.py when given."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the installed scripts know."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """What ``migrate`` did."""

    before: str | None  # revision before (None: the database had no sqlgate version table)
    after: str | None
    applied: list[str]

    def as_dict(self) -> dict[str, object]:
        return {"from": self.before, "to": self.after, "applied": self.applied, "changed": bool(self.applied)}


def _current(connection: Connection) -> str | None:
    context = MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE, "version_table_schema": "public"}
    )
    return context.get_current_revision()


class UnknownRevisionError(RuntimeError):
    """The database is at a revision these migration scripts do not know (a newer sqlgate made it)."""


def known_revisions() -> set[str]:
    """Every revision the installed scripts define."""
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _upgrade(connection: Connection, target: str) -> MigrationResult:
    # Lock before reading the current revision so that a migration that waited reports what it
    # really did (env.py takes the same lock again; advisory locks are re-entrant per session).
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    before = _current(connection)
    if before is not None and before not in known_revisions():
        raise UnknownRevisionError(
            f"the metadata database is at revision {before}, which this sqlgate does not know "
            f"(it knows up to {head_revision()}); use a newer sqlgate"
        )
    config = alembic_config(connection)
    command.upgrade(config, target)
    after = _current(connection)
    script = ScriptDirectory.from_config(config)
    applied = (
        []
        if before == after
        else [rev.revision for rev in reversed(list(script.iterate_revisions(after, before)))]
    )
    return MigrationResult(before, after, applied)


async def upgrade(url: str, target: str = "head") -> MigrationResult:
    """Bring the metadata database at ``url`` to ``target`` (a no-op when it is already there)."""
    engine = create_metadata_engine(url, pool_size=1, max_overflow=0, application_name="sqlgate-migrate")
    try:
        async with _IN_PROCESS, engine.connect() as conn:
            result = await conn.run_sync(_upgrade, target)
            await conn.commit()
        return result
    finally:
        await engine.dispose()


async def current_revision(url: str) -> str | None:
    """The database's sqlgate revision (None when never migrated by sqlgate)."""
    engine = create_metadata_engine(url, pool_size=1, max_overflow=0, application_name="sqlgate-migrate")
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()
