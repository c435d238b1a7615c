"""The Cube YAML models of the demo data, shipped as package data (``sqlgate/demo/models/*.yml``).

Four cubes (``orders``, ``line_items``, ``customers``, ``products``) with count, count_distinct,
sum, avg, min/max and number measures, string/number/time/boolean dimensions, a ``case`` dimension,
segments and many_to_one/one_to_many joins, plus the ``sales`` view across all four.
"""

from __future__ import annotations

from importlib import resources

# Three queries that show what the demo answers (printed by ``sqlgate demo``).
EXAMPLE_QUERIES = (
    "SELECT status, MEASURE(count) AS orders FROM orders GROUP BY 1 ORDER BY 2 DESC;",
    "SELECT DATE_TRUNC('year', orders_created_at) AS year, MEASURE(revenue) AS revenue\n"
    "  FROM sales GROUP BY 1 ORDER BY 1;",
    "SELECT category, MEASURE(revenue) AS revenue, MEASURE(units_sold) AS units\n"
    "  FROM sales WHERE country = 'DE' GROUP BY 1 ORDER BY 2 DESC LIMIT 5;",
)


def model_files() -> list[tuple[str, str]]:
    """``(file name, YAML text)`` of every demo model file, sorted by name."""
    folder = resources.files("sqlgate.demo").joinpath("models")
    files = [
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".yml")
    ]
    return sorted(files)
