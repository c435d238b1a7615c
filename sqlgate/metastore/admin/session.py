"""One transaction per admin operation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from sqlgate.metastore.admin.errors import ConflictError


@asynccontextmanager
async def transaction(engine: AsyncEngine, conflict: str | None = None) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction, committed on success and rolled back on any error.

    Operations check for duplicates first, to give a precise message; a unique violation that
    still happens (a concurrent insert) becomes :class:`ConflictError` with ``conflict`` as message.
    """
    async with AsyncSession(engine, expire_on_commit=False) as session:
        try:
            async with session.begin():
                yield session
        except IntegrityError as exc:
            if conflict is None or getattr(exc.orig, "sqlstate", None) != "23505":
                raise
            raise ConflictError(conflict) from exc
