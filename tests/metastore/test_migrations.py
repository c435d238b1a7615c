"""``sqlgate migrate``: empty database to head, no-op when repeated, adoption of a Synmetrix database."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlgate.metastore.migrate import current_revision, head_revision, migrations_dir, upgrade
from tests.metastore.catalog import execute_script, fetch_all, read_catalog

SYNMETRIX_SQL = Path(__file__).with_name("synmetrix_existing.sql")


def test_scripts_are_found_and_head_is_the_scram_column() -> None:
    assert (migrations_dir() / "env.py").is_file()
    assert head_revision() == "0002"


async def test_empty_database_to_head_then_no_op(pg_database: str) -> None:
    assert await current_revision(pg_database) is None
    first = await upgrade(pg_database)
    assert (first.before, first.after, first.applied) == (None, "0002", ["0001", "0002"])
    catalog = await read_catalog(pg_database)

    second = await upgrade(pg_database)
    assert (second.before, second.after, second.applied) == ("0002", "0002", [])
    assert await read_catalog(pg_database) == catalog
    assert await current_revision(pg_database) == "0002"


async def test_revision_1_is_idempotent_on_its_own_result(pg_database: str) -> None:
    """Running revision 1 again over its own schema (as on adoption) changes nothing."""
    await upgrade(pg_database, "0001")
    before = await read_catalog(pg_database)
    await execute_script(pg_database, "DROP TABLE public.sqlgate_alembic_version")
    result = await upgrade(pg_database, "0001")
    assert result.applied == ["0001"]
    assert await read_catalog(pg_database) == before


async def test_concurrent_migrations_serialise(pg_database: str) -> None:
    """Two processes migrating at once (two gateways starting): one migrates, the other finds head."""
    code = (
        "import asyncio, sys; from sqlgate.metastore.migrate import upgrade; "
        "print(len(asyncio.run(upgrade(sys.argv[1])).applied))"
    )
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, pg_database, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [(await p.communicate())[0].decode().strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert sorted(outputs) == ["0", "2"]


async def _counts(url: str) -> dict[str, int]:
    tables = [
        "public.users",
        "auth.accounts",
        "auth.account_roles",
        "public.teams",
        "public.members",
        "public.member_roles",
        "public.access_lists",
        "public.datasources",
        "public.branches",
        "public.versions",
        "public.dataschemas",
        "public.sql_credentials",
        "hdb_catalog.hdb_version",
    ]
    return {t: (await fetch_all(url, f"SELECT count(*) AS n FROM {t}"))[0]["n"] for t in tables}


async def test_adopts_an_existing_synmetrix_database(pg_database: str) -> None:
    await execute_script(pg_database, SYNMETRIX_SQL.read_text())
    schemas = ("public", "auth", "hdb_catalog")
    before = await read_catalog(pg_database, schemas)
    counts = await _counts(pg_database)
    credential = await fetch_all(pg_database, "SELECT * FROM public.sql_credentials")

    result = await upgrade(pg_database)
    assert result.applied == ["0001", "0002"]
    assert await current_revision(pg_database) == "0002"

    after = await read_catalog(pg_database, schemas)
    dropped = before.objects() - after.objects()
    assert dropped == set()
    added = after.objects() - before.objects()
    # Only sqlgate's own column and version table are new: everything else already existed.
    assert {a for a in added if a[0] == "column"} == {
        ("column", "public.sql_credentials", "scram_verifier", "text"),
        ("column", "public.sqlgate_alembic_version", "version_num", "varchar"),
    }
    assert {a[1] for a in added if a[0] == "table"} == {"public.sqlgate_alembic_version"}
    assert {a for a in added if a[0] == "fk"} == set()
    assert {a for a in added if a[0] == "trigger"} == set()
    # Synmetrix's own hide_password (parameter "ds") was kept, not replaced
    assert "public.hide_password(ds datasources)" in after.functions

    assert await _counts(pg_database) == counts
    rows = await fetch_all(pg_database, "SELECT * FROM public.sql_credentials")
    assert len(rows) == 1
    assert rows[0]["password"] == "demo_pg_pass"  # the legacy plain-text value is untouched
    assert rows[0]["scram_verifier"] is None
    assert {k: v for k, v in rows[0].items() if k != "scram_verifier"} == credential[0]

    again = await upgrade(pg_database)
    assert again.applied == []


async def test_adopts_an_older_synmetrix_database_missing_later_columns(pg_database: str) -> None:
    """A Synmetrix database from before 2023-11/2024-01 lacks a few columns: they are added."""
    await execute_script(pg_database, SYNMETRIX_SQL.read_text())
    await execute_script(
        pg_database,
        """
        ALTER TABLE public.explorations DROP COLUMN branch_id;
        ALTER TABLE public.member_roles DROP COLUMN created_at, DROP COLUMN updated_at;
        DROP TRIGGER set_public_member_roles_updated_at ON public.member_roles;
        ALTER TABLE public.request_logs DROP COLUMN path;
        ALTER TABLE public.request_event_logs DROP COLUMN error;
        ALTER TABLE public.members DROP CONSTRAINT members_user_id_team_id_key;
        """,
    )
    await upgrade(pg_database)
    catalog = await read_catalog(pg_database)
    assert catalog.columns["public.explorations"]["branch_id"] == ("uuid", "YES", None)
    assert catalog.columns["public.member_roles"]["created_at"] == ("timestamptz", "YES", "now()")
    assert "path" in catalog.columns["public.request_logs"]
    assert "error" in catalog.columns["public.request_event_logs"]
    assert ("public.member_roles", "set_public_member_roles_updated_at") in catalog.triggers
    unique = ("public.members", "members_user_id_team_id_key", "UNIQUE", ("team_id", "user_id"))
    assert unique in catalog.constraints
    assert (
        "public.explorations",
        ("branch_id",),
        "public.branches",
        ("id",),
        "CASCADE",
        "CASCADE",
    ) in catalog.foreign_keys
    rows = await fetch_all(pg_database, "SELECT team_role FROM public.member_roles")
    assert rows == [{"team_role": "owner"}]
