"""Fixtures for semantic planner tests: the e-commerce dataset loaded into each real database."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(params=["postgres", "mysql", "duckdb"])
def dataset_source(request: pytest.FixtureRequest) -> Any:
    """Each database in turn (MariaDB skips with a reason when absent)."""
    return request.getfixturevalue(f"{request.param}_source")
