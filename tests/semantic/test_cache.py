"""The compiled-model cache: one compile per (datasource, checksum), errors cached too."""

from __future__ import annotations

import asyncio

import pytest

from sqlgate.semantic import ModelCache, ModelError
from tests.support.semantic_harness import model_files

BROKEN = [
    (
        "Bad.yml",
        "cubes:\n  - name: bad\n    sql_table: t\n    measures:\n      - name: m\n        type: summ\n",
    )
]


def test_compiles_once_per_version_and_recompiles_a_new_one() -> None:
    cache = ModelCache()
    loads: list[str] = []

    def loader(tag: str):
        def load() -> list[tuple[str, str]]:
            loads.append(tag)
            return model_files()

        return load

    first = cache.get("ds-1", "v1", loader("v1"))
    again = cache.get("ds-1", "v1", loader("v1-again"))
    newer = cache.get("ds-1", "v2", loader("v2"))
    other_datasource = cache.get("ds-2", "v1", loader("ds2"))
    assert first is again
    assert newer is not first and other_datasource is not first
    assert loads == ["v1", "v2", "ds2"]
    assert first.checksum == "v1"


def test_compile_errors_are_cached() -> None:
    cache = ModelCache()
    calls = 0

    def load() -> list[tuple[str, str]]:
        nonlocal calls
        calls += 1
        return BROKEN

    for _ in range(3):
        with pytest.raises(ModelError, match="unknown type 'summ'"):
            cache.get("ds", "broken", load)
    assert calls == 1
    assert cache.peek("ds", "broken") is None


def test_least_recently_used_versions_age_out() -> None:
    cache = ModelCache(max_entries=2)
    for version in ("a", "b", "c"):
        cache.get("ds", version, model_files)
    assert len(cache) == 2
    assert cache.peek("ds", "a") is None
    assert cache.peek("ds", "c") is not None
    cache.invalidate("ds")
    assert len(cache) == 0


async def test_concurrent_sessions_compile_a_version_once() -> None:
    cache = ModelCache()
    loads = 0

    async def load() -> list[tuple[str, str]]:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return model_files()

    models = await asyncio.gather(*(cache.get_async("ds", "v1", load) for _ in range(10)))
    assert loads == 1
    assert all(m is models[0] for m in models)


async def test_async_errors_are_raised_to_every_waiter() -> None:
    cache = ModelCache()

    async def load() -> list[tuple[str, str]]:
        await asyncio.sleep(0.01)
        return BROKEN

    results = await asyncio.gather(
        *(cache.get_async("ds", "bad", load) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, ModelError) for r in results)
