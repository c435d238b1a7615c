"""Alembic environment of sqlgate's metadata migrations.

``sqlgate migrate`` (see :mod:`sqlgate.metastore.migrate`) builds the alembic Config in code and hands
over an open connection in ``config.attributes["connection"]``; no alembic.ini is needed. Run alone
(``alembic -x url=postgresql://…``), this file opens its own connection from ``-x url`` or
``$SQLGATE_METADATA_URL``.

All revisions run in one transaction under an advisory lock, so two gateways migrating the same
database at start-up serialise instead of racing on the DDL.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from sqlgate.metastore.migrate import MIGRATION_LOCK_KEY, VERSION_TABLE

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        version_table=VERSION_TABLE,
        version_table_schema="public",
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    from sqlgate.metastore.engine import create_metadata_engine

    engine = create_metadata_engine(url, pool_size=1, max_overflow=0, application_name="sqlgate-migrate")
    try:
        async with engine.connect() as conn:
            await conn.run_sync(run_migrations)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit(
        "sqlgate migrations need a live database connection (offline --sql mode is not supported)"
    )

connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("SQLGATE_METADATA_URL")
    if not url:
        raise SystemExit("pass -x url=postgresql://… or set SQLGATE_METADATA_URL")
    asyncio.run(run_with_own_engine(url))
