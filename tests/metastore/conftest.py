"""Metastore test settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """bcrypt at its minimum cost: the tests check behaviour, not hashing strength."""
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
