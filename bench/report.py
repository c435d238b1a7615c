"""The printed table of a run (also pasted, as Markdown, into the READMEs)."""

from __future__ import annotations

from typing import Any

COLUMNS = (
    "workload", "variant", "target", "TPS", "p50 ms", "p99 ms", "rows/s", "sqlgate RSS MB",
    "sg CPU ms/txn", "sg/direct", "sg/PgB",
)  # fmt: skip


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def rows_of(report: dict[str, Any]) -> list[list[str]]:
    out = []
    for r in report["results"]:
        if r["status"] != "ok":
            detail = r.get("reason") or r.get("error") or ""
            out.append([r["workload"], r["variant"], r["target"], f"{r['status']}: {detail[:90]}"])
            continue
        tps = r.get("tps")
        if r["workload"] == "f":
            tps = None
        rss = r.get("sqlgate_peak_rss_mb")
        if r["workload"] == "f" and r["target"] == "pgbouncer":
            rss = None
        extra = ""
        if r["workload"] == "c" and r["target"] == "sqlgate":
            extra = f" (+{_fmt(r.get('sqlgate_rss_growth_mb'))})"
        if r["workload"] == "f":
            extra = (
                f" ({r['target']} RSS {_fmt(r.get('rss_mb'))}, +{_fmt(r.get('kb_per_connection'))} kB/conn)"
            )
            rss = None
        if r["workload"] == "e" and r.get("first_plan_ms") is not None:
            extra = (
                f" (plan: first {_fmt(r['first_plan_ms'], 2)} ms, repeat {_fmt(r['repeat_plan_ms'], 2)} ms;"
                f" CPU {_fmt(r.get('first_plan_cpu_ms'), 2)}/{_fmt(r.get('repeat_plan_cpu_ms'), 2)} ms)"
            )
        out.append(
            [
                r["workload"],
                r["variant"],
                r["target"],
                _fmt(tps),
                _fmt(r.get("p50_ms"), 2),
                _fmt(r.get("p99_ms"), 2),
                _fmt(r.get("rows_per_s"), 0),
                _fmt(rss) + extra,
                _fmt(r.get("sqlgate_cpu_ms_per_txn"), 2)
                if r["workload"] != "c"
                else _fmt(None if r.get("sqlgate_cpu_s") is None else r["sqlgate_cpu_s"] * 1000, 0),
                _fmt(r.get("ratio_direct"), 2),
                _fmt(r.get("ratio_pgbouncer"), 2),
            ]
        )
    return out


def text_table(report: dict[str, Any]) -> str:
    """A plain-text table for the terminal."""
    rows = rows_of(report)
    widths = [len(c) for c in COLUMNS]
    for row in rows:
        for i, cell in enumerate(row[: len(COLUMNS)]):
            if len(row) > 4 or i < 3:
                widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(COLUMNS))]
    for row in rows:
        if len(row) == 4:
            lines.append("  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3])
        else:
            lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
    return "\n".join(lines)


def markdown_table(report: dict[str, Any]) -> str:
    """The same table in Markdown."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows_of(report):
        cells = [*row, *[""] * (len(COLUMNS) - len(row))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets_text(report: dict[str, Any]) -> str:
    """The issue's targets, met or missed."""
    lines = []
    for check in report.get("targets_check", []):
        state = {True: "met", False: "MISSED", None: "not measured"}[check["met"]]
        lines.append(f"  {state:12} {check['target']}: {_fmt(check['measured'], 3)}")
    return "\n".join(lines)


def metrics_text(report: dict[str, Any]) -> str:
    m = report.get("sqlgate_metrics") or {}
    parts = []
    if m.get("plan_cache_exposed"):
        parts.append(f"plan cache hit ratio {m['plan_cache_hit_ratio']}")
    else:
        parts.append("plan cache hit ratio: not exposed by /metrics")
    if m.get("pool_wait_exposed"):
        parts.append(f"datasource pool wait mean {m['pool_wait_mean_ms']} ms over {m['pool_wait_count']:.0f}")
    else:
        parts.append("datasource pool wait: not exposed by /metrics")
    return "; ".join(parts)
