"""Readable text for command results: aligned tables and key/value blocks."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from typing import Any


def cell(value: Any) -> str:
    """One value as table text ("-" for none)."""
    if value is None or value in ("", []):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]], empty: str) -> str:
    """``rows`` as an aligned table with ``columns`` = [(key, header)]; ``empty`` when there are none."""
    if not rows:
        return empty
    grid = [[header.upper() for _, header in columns]]
    grid += [[cell(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(line[i]) for line in grid) for i in range(len(columns))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in grid
    )


def fields(pairs: Sequence[tuple[str, Any]]) -> str:
    """``label: value`` lines, aligned."""
    width = max((len(label) for label, _ in pairs), default=0)
    return "\n".join(f"{(label + ':').ljust(width + 1)} {cell(value)}" for label, value in pairs)


def wrap(text: str, width: int = 100) -> str:
    """Fill each paragraph of ``text`` to ``width``; indented lines (examples) are kept as written."""
    paragraphs = []
    for paragraph in text.strip("\n").split("\n\n"):
        if any(line.startswith(" ") for line in paragraph.splitlines()):
            paragraphs.append(paragraph)
        else:
            paragraphs.append(textwrap.fill(" ".join(paragraph.split()), width))
    return "\n\n".join(paragraphs)
