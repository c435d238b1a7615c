"""A ModelProvider over the compiled-model cache: which model a session's queries are planned with.

The provider is given two loaders by the composition root (the planner does not import the
metastore): the datasource's current model version, and the files of a version. A session keeps the
version it logged in with, but the provider re-reads the datasource's current version at most every
``refresh_seconds``, so a newly pushed model reaches open sessions within seconds, without restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from sqlgate.errors import PgError
from sqlgate.semantic.cache import ModelCache
from sqlgate.semantic.model import CompiledModel

if TYPE_CHECKING:
    from sqlgate.auth.context import ModelVersion, SecurityContext

FilesLoader = Callable[[str], Awaitable[Sequence[tuple[str, str]]]]
VersionLoader = Callable[[str], Awaitable["ModelVersion"]]

EMPTY_MODEL = CompiledModel({}, {}, checksum="")
log = logging.getLogger("sqlgate.planner")


class CachedModelProvider:
    """``ModelProvider.get(ctx)`` backed by a :class:`ModelCache`.

    ``load_files(version_id)`` returns the version's ``(file name, code)`` pairs;
    ``current_version(datasource_id)`` (optional) returns the datasource's newest version. A
    datasource without a model gets an empty model (every table is unknown: 42P01). A model that does
    not compile raises its :class:`~sqlgate.semantic.errors.ModelError` (prepare_semantic reports it
    as F0000).
    """

    def __init__(
        self,
        load_files: FilesLoader,
        current_version: VersionLoader | None = None,
        *,
        cache: ModelCache | None = None,
        refresh_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.load_files = load_files
        self.current_version = current_version
        self.cache = cache or ModelCache()
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._versions: dict[str, tuple[float, ModelVersion]] = {}

    async def version_for(self, ctx: SecurityContext) -> ModelVersion:
        """The model version to plan ``ctx``'s next query with."""
        if self.current_version is None:
            return ctx.model_version
        datasource_id = ctx.datasource.id
        now = self._clock()
        known = self._versions.get(datasource_id)
        if known is None or now - known[0] >= self.refresh_seconds:
            try:
                version = await self.current_version(datasource_id)
            except PgError:
                raise
            except Exception as exc:
                # The metadata database is unreachable: open sessions keep the version they know
                # (compiled models stay cached) and the look-up is retried after refresh_seconds.
                version = known[1] if known is not None else ctx.model_version
                log.warning("model version look-up failed (%s): keeping the known one", type(exc).__name__)
            self._versions[datasource_id] = (now, version)
            return version
        return known[1]

    async def get(self, ctx: SecurityContext) -> CompiledModel:
        version = await self.version_for(ctx)
        version_id = version.version_id
        if version_id is None:
            return EMPTY_MODEL
        checksum = version.checksum or version_id

        async def load() -> Sequence[tuple[str, str]]:
            return await self.load_files(version_id)

        return await self.cache.get_async(ctx.datasource.id, checksum, load)
