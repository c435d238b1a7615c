"""A cache of compiled models keyed by (datasource id, version checksum)."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

from sqlgate.semantic.compiler import compile_model
from sqlgate.semantic.errors import ModelError
from sqlgate.semantic.model import CompiledModel

Files = Sequence[tuple[str, str]]
CacheKey = tuple[str, str]


class ModelCache:
    """Compiled models (or their compile error) for the most recently used model versions.

    A ModelProvider asks with the session's datasource id and model version checksum; a newly pushed
    version has a new checksum, so it is compiled on first use and served from then on, while the old
    entry ages out. Compile errors are cached too, so a broken model is not recompiled per query.
    """

    def __init__(self, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[CacheKey, CompiledModel | ModelError] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[CacheKey, asyncio.Future[CompiledModel | ModelError]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, datasource_id: str, checksum: str) -> CompiledModel | None:
        """The cached model, if compiled already (no compile; a cached error gives None)."""
        entry = self._entries.get((datasource_id, checksum))
        return entry if isinstance(entry, CompiledModel) else None

    def get(self, datasource_id: str, checksum: str, load_files: Callable[[], Files]) -> CompiledModel:
        """The compiled model for the version, compiling ``load_files()`` on a miss.

        Raises the (cached) :class:`ModelError` when the version does not compile.
        """
        key = (datasource_id, checksum)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is None:
            entry = self._compile(load_files(), checksum)
            self._store(key, entry)
        if isinstance(entry, ModelError):
            raise entry
        return entry

    async def get_async(
        self, datasource_id: str, checksum: str, load_files: Callable[[], Awaitable[Files]]
    ) -> CompiledModel:
        """Like :meth:`get` with an async loader; concurrent callers for one key compile once."""
        key = (datasource_id, checksum)
        entry = self._entries.get(key)
        if entry is None:
            pending = self._pending.get(key)
            if pending is None:
                future: asyncio.Future[CompiledModel | ModelError] = (
                    asyncio.get_running_loop().create_future()
                )
                self._pending[key] = future
                try:
                    files = await load_files()
                    entry = self._compile(files, checksum)
                    self._store(key, entry)
                    future.set_result(entry)
                except BaseException as exc:
                    future.set_exception(exc)
                    future.exception()  # mark retrieved: waiters re-raise it themselves
                    raise
                finally:
                    del self._pending[key]
            else:
                entry = await asyncio.shield(pending)
        else:
            self._entries.move_to_end(key)
        if isinstance(entry, ModelError):
            raise entry
        return entry

    def invalidate(self, datasource_id: str | None = None) -> None:
        """Forget every entry (of one datasource, or all)."""
        with self._lock:
            for key in list(self._entries):
                if datasource_id is None or key[0] == datasource_id:
                    del self._entries[key]

    @staticmethod
    def _compile(files: Files, checksum: str) -> CompiledModel | ModelError:
        try:
            return compile_model(files, checksum=checksum)
        except ModelError as exc:
            return exc

    def _store(self, key: CacheKey, entry: CompiledModel | ModelError) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
