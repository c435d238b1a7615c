"""sqlgate's own column: a SCRAM-SHA-256 verifier next to each credential's password.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-01

``public.sql_credentials.scram_verifier`` (nullable text) holds PostgreSQL's
``SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`` for credentials sqlgate issued or upgraded, so
that clients can log in with SCRAM although only a bcrypt hash of the password is stored. Synmetrix
ignores the column; sqlgate works without it (it detects the column) on databases not migrated yet.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("ALTER TABLE public.sql_credentials ADD COLUMN IF NOT EXISTS scram_verifier text")
    bind.exec_driver_sql(
        "COMMENT ON COLUMN public.sql_credentials.scram_verifier IS "
        "'sqlgate: SCRAM-SHA-256 verifier of the password (PostgreSQL text form); NULL for legacy rows'"
    )


def downgrade() -> None:
    op.get_bind().exec_driver_sql("ALTER TABLE public.sql_credentials DROP COLUMN IF EXISTS scram_verifier")
