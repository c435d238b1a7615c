"""Read the gateway's Prometheus metrics at the end of a run: plan cache and datasource pool figures.

Names are matched loosely (any ``sqlgate_*`` sample whose name mentions the plan cache or the
datasource pool), so the harness picks up these metrics whatever they end up being called; when the
plan cache exposes hit and miss counters, their ratio is computed too.
"""

from __future__ import annotations

import re
from typing import Any

SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<labels>\{[^}]*\})?\s+(?P<value>\S+)")
INTERESTING = re.compile(r"plan_cache|pool|queue|slot|wait", re.IGNORECASE)
WAIT = r"(pool|queue|slot).*wait.*_seconds"


def parse_samples(text: str) -> dict[str, float]:
    """``name{labels}`` -> value for every sample line of a Prometheus text exposition."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        if match is None:
            continue
        try:
            value = float(match.group("value"))
        except ValueError:
            continue
        samples[match.group("name") + (match.group("labels") or "")] = value
    return samples


def _sum(samples: dict[str, float], pattern: str) -> float | None:
    found = [v for k, v in samples.items() if re.search(pattern, k.split("{")[0])]
    return sum(found) if found else None


def scrape_metrics(text: str) -> dict[str, Any]:
    """Plan-cache hit ratio, datasource pool wait (sum/count/mean; ``sqlgate_datasource_slot_wait_seconds``
    today) and every related sample."""
    samples = parse_samples(text)
    related = {k: v for k, v in samples.items() if k.startswith("sqlgate_") and INTERESTING.search(k)}
    result: dict[str, Any] = {"available": bool(samples), "samples": related}
    hits = _sum(samples, r"plan_cache.*hit.*_total$|plan_cache_hits$")
    misses = _sum(samples, r"plan_cache.*miss.*_total$|plan_cache_misses$")
    if hits is not None and misses is not None:
        result["plan_cache_hits"] = hits
        result["plan_cache_misses"] = misses
        result["plan_cache_hit_ratio"] = round(hits / (hits + misses), 4) if hits + misses else None
    wait_sum = _sum(samples, WAIT + "_sum$")
    wait_count = _sum(samples, WAIT + "_count$")
    if wait_sum is not None and wait_count is not None:
        result["pool_wait_seconds_sum"] = wait_sum
        result["pool_wait_count"] = wait_count
        result["pool_wait_mean_ms"] = round(wait_sum / wait_count * 1000, 4) if wait_count else None
    result["plan_cache_exposed"] = "plan_cache_hit_ratio" in result
    result["pool_wait_exposed"] = "pool_wait_mean_ms" in result
    return result
