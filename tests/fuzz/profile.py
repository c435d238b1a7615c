"""How many examples each fuzz target runs: a quick default, or a long run set by the environment.

The default keeps every target to a few dozen or hundred examples, derandomised, so the suite stays
fast and stable. ``SQLGATE_FUZZ_EXAMPLES=N`` makes each target run ``N`` examples with fresh random
seeds (weighted per target: a target that opens sockets runs a fraction of N), for a long local fuzz::

    SQLGATE_FUZZ_EXAMPLES=20000 .venv/bin/pytest -q -p no:cacheprovider tests/fuzz --timeout 3600
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

ENV = "SQLGATE_FUZZ_EXAMPLES"


def long_examples() -> int | None:
    """N from ``SQLGATE_FUZZ_EXAMPLES``, or None for the default profile."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{ENV} must be an integer, got {raw!r}") from None
    return max(1, value)


def fuzz_settings(default: int, *, weight: float = 1.0, **extra: Any) -> settings:
    """Hypothesis settings for one fuzz target.

    ``default`` is the number of examples in the normal suite; with ``SQLGATE_FUZZ_EXAMPLES=N`` the
    target runs ``N * weight`` examples instead (``weight`` < 1 for the expensive targets).
    """
    n = long_examples()
    long_run = n is not None
    examples = max(1, int(n * weight)) if n is not None else default
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=not long_run,
        # The long run explores; the default run must not fail on a health check about data size.
        suppress_health_check=list(HealthCheck),
        database=None,
        print_blob=True,
        **extra,
    )
