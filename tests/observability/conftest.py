"""A metadata database holding the tables the query log writes to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

# The subset of the Synmetrix schema the query log touches, as in the schema reference (§1.2).
# Used until the migrated metadata database fixture (``metadata_url``) is available on this branch.
QUERYLOG_DDL = """
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE public.users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    display_name text, avatar_url text
);
CREATE TABLE public.datasources (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    user_id uuid NOT NULL REFERENCES public.users (id) ON UPDATE CASCADE ON DELETE CASCADE,
    name text NOT NULL, db_type text NOT NULL, db_params jsonb NOT NULL DEFAULT '{}', team_id uuid
);
CREATE TABLE public.request_logs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    request_id text NOT NULL CONSTRAINT request_logs_request_id_key UNIQUE,
    user_id uuid NOT NULL REFERENCES public.users (id) ON UPDATE CASCADE ON DELETE CASCADE,
    datasource_id uuid NOT NULL REFERENCES public.datasources (id) ON UPDATE CASCADE ON DELETE CASCADE,
    start_time timestamptz NOT NULL, end_time timestamptz NOT NULL, path text
);
CREATE TABLE public.request_event_logs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    request_id text NOT NULL REFERENCES public.request_logs (request_id) ON UPDATE CASCADE ON DELETE CASCADE,
    event text NOT NULL, duration numeric, queue_prefix text, time_in_queue numeric, path text,
    query_key jsonb DEFAULT jsonb_build_array(), query_key_md5 text, query jsonb, query_sql text,
    "timestamp" timestamptz, error text
);
CREATE INDEX request_event_logs_request_id_index ON public.request_event_logs USING hash (request_id);
"""


try:  # the migrated metadata database fixture (foundation work), when this branch has it
    import tests.support.metadata  # noqa: F401

    HAVE_MIGRATED_METADATA = True
except ImportError:
    HAVE_MIGRATED_METADATA = False


if HAVE_MIGRATED_METADATA:

    @pytest.fixture
    def querylog_dsn(metadata_url: str) -> str:
        """A metadata database migrated to head."""
        return metadata_url

else:

    @pytest.fixture
    async def querylog_dsn(pg_database: str) -> str:
        """A fresh database holding the query log tables from the reference DDL."""
        conn = await asyncpg.connect(pg_database)
        try:
            await conn.execute(QUERYLOG_DDL)
        finally:
            await conn.close()
        return pg_database


@pytest.fixture
async def meta(querylog_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(querylog_dsn)
    try:
        yield conn
    finally:
        await conn.close()
