"""The planner's catalog handler: a catalog statement becomes a statement on the session's shadow
database.

    statement ──rewrite (refusals, session values, look-alikes)──┐
    session ──model + access list──> shadow database (ensured) ──┴─> Describe (cached) ──> CatalogStatement

The dispatcher (:class:`sqlgate.planner.core.CorePlanner`) sends here every statement whose relations
are all pg_catalog/information_schema/``pg_*`` relations, or that has no relation and is not a
builtin; statements mixing cubes and catalog relations never arrive (0A000 there).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlgate.errors import FEATURE_NOT_SUPPORTED, PgError
from sqlgate.planner.api import ModelProvider, PreparedStatement
from sqlgate.planner.catalog import rewrite as rw
from sqlgate.planner.catalog.lookalikes import ServerLookalikes
from sqlgate.planner.catalog.server import CatalogServer
from sqlgate.planner.catalog.shadow import ShadowDatabase, shadow_database
from sqlgate.planner.catalog.statement import CatalogStatement, Described, _with_connection, describe
from sqlgate.semantic.errors import ModelError
from sqlgate.semantic.model import CompiledModel

if TYPE_CHECKING:
    from sqlglot import exp

    from sqlgate.auth.context import SecurityContext
    from sqlgate.planner.session import Session


def visible_members(ctx: SecurityContext) -> frozenset[str] | None:
    """The members a session may see: None for all (owner/admin), else its access list's (empty
    without an access list)."""
    return ctx.visible_members


class CatalogHandler:
    """``async (tree, sql, session, param_oids) -> PreparedStatement`` for catalog statements."""

    def __init__(
        self, server: CatalogServer, models: ModelProvider, *, describe_cache_size: int = 4096
    ) -> None:
        self.server = server
        self.models = models
        self._shadows: dict[tuple[str, str, Any], ShadowDatabase] = {}
        self._described: OrderedDict[tuple[str, str, tuple[int, ...]], Described] = OrderedDict()
        self._describe_cache_size = describe_cache_size
        self._rewrites: OrderedDict[str, rw.Rewrite] = OrderedDict()
        # (shadow database, statement) pairs of unparsed statements found to read no cube
        self._checked: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def __call__(
        self, tree: exp.Expression | None, sql: str, session: Session, param_oids: Sequence[int]
    ) -> PreparedStatement:
        rewrite = self._rewrites.get(sql)
        scanned = None
        if rewrite is None:
            scanned = rw.scan(sql)
            rw.check(scanned)  # refusals before anything is built or sent
        shadow = await self.shadow_for(session.ctx)
        if tree is None:
            self._no_cubes(sql, scanned, shadow)
        await self.server.ensure_database(shadow.name, shadow.build)
        options = self.server.options
        pool = self.server.pool(shadow.name)
        if rewrite is None:
            assert scanned is not None
            rewrite = rw.rewrite(scanned, await self._lookalikes(pool))
            self._rewrites[sql] = rewrite
            if len(self._rewrites) > self._describe_cache_size:
                self._rewrites.popitem(last=False)
        else:
            self._rewrites.move_to_end(sql)
        key = (shadow.name, rewrite.sql, tuple(param_oids))
        described = self._described.get(key)
        if described is None:
            described = await describe(pool, rewrite.sql, param_oids, rewrite, options.statement_timeout + 5)
            self._remember(key, described)
        else:
            self._described.move_to_end(key)
        return CatalogStatement(
            sql,
            rewrite,
            described,
            pool,
            max_rows=options.max_rows,
            max_bytes=options.max_bytes,
            timeout=options.statement_timeout,
        )

    def _no_cubes(self, sql: str, scanned: Any, shadow: ShadowDatabase) -> None:
        """0A000 when a statement sqlglot could not parse (routed here on its catalog words alone)
        reads a cube or view: its shadow table is empty, so the answer would be wrong."""
        key = (shadow.name, sql)
        if key in self._checked:
            return
        tables = set(shadow.tables)
        for schema, name in rw.from_relations(scanned if scanned is not None else rw.scan(sql)):
            if schema in (None, "public") and name in tables:
                raise PgError(
                    FEATURE_NOT_SUPPORTED,
                    "queries mixing cubes with pg_catalog or information_schema relations are not supported",
                    hint="Query the catalog and the cubes in separate statements.",
                )
        self._checked[key] = None
        if len(self._checked) > self._describe_cache_size:
            self._checked.popitem(last=False)

    async def shadow_for(self, ctx: SecurityContext) -> ShadowDatabase:
        """The shadow database of the session's visible set (built on first use)."""
        try:
            model = await self.models.get(ctx)
        except ModelError as exc:
            from sqlgate.planner.semantic import model_error_to_pg

            raise model_error_to_pg(exc) from None
        if not isinstance(model, CompiledModel):
            raise TypeError(f"ModelProvider returned {type(model).__name__}, expected CompiledModel")
        allowed = visible_members(ctx)
        key = (ctx.datasource.id, model.checksum or "", allowed)
        shadow = self._shadows.get(key)
        if shadow is None:
            shadow = shadow_database(model, allowed, self.server.options.role)
            if len(self._shadows) > 1024:
                self._shadows.clear()
            self._shadows[key] = shadow
        return shadow

    async def _lookalikes(self, pool: Any) -> ServerLookalikes:
        known = self.server.cached_lookalikes
        if known is not None:
            return known

        async def work(conn: Any) -> ServerLookalikes:
            return await self.server.lookalikes(conn)

        result: ServerLookalikes = await _with_connection(pool, self.server.options.connect_timeout, work)
        return result

    def _remember(self, key: tuple[str, str, tuple[int, ...]], described: Described) -> None:
        self._described[key] = described
        if len(self._described) > self._describe_cache_size:
            self._described.popitem(last=False)
