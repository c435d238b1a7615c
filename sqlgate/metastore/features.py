"""Optional parts of the metadata schema, detected once per engine.

sqlgate must work on a Synmetrix database that sqlgate has not migrated; today the only optional
part is ``public.sql_credentials.scram_verifier`` (revision 0002).
"""

from __future__ import annotations

import weakref

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

_SCRAM_COLUMN_SQL = text(
    "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('public.sql_credentials') "
    "AND attname = 'scram_verifier' AND NOT attisdropped)"
)
_scram_column: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


async def has_scram_verifier(engine: AsyncEngine) -> bool:
    """True when ``sql_credentials.scram_verifier`` exists (asked once per engine, then cached)."""
    key = engine.sync_engine
    known = _scram_column.get(key)
    if known is None:
        async with engine.connect() as conn:
            known = bool((await conn.execute(_SCRAM_COLUMN_SQL)).scalar())
        _scram_column[key] = known
    return known


def forget_features(engine: AsyncEngine) -> None:
    """Drop what was detected for ``engine`` (after migrating the database it points at)."""
    _scram_column.pop(engine.sync_engine, None)
