"""The workloads of issue 7, as semantic SQL for sqlgate (the direct SQL is derived from these).

Each pgbench workload is the semantic statement a client sends to sqlgate; the harness asks the
gateway's planner for the SQL it generates and runs that on PostgreSQL and PgBouncer.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.dataset import DIMENSIONS

# (a) 2 dimensions, 2 measures, a filter.
GROUPED = (
    "SELECT region, channel, MEASURE(count), MEASURE(total_amount) FROM facts "
    "WHERE status = 'paid' GROUP BY 1, 2"
)

# (b) ungrouped LIMIT 10 lookup; the customer varies per transaction (pgbench \set random).
LOOKUP_SENTINEL = 424242
LOOKUP = "SELECT id, status, amount, created_at FROM facts WHERE customer_id = {cust} LIMIT 10"

# (c) every row, ungrouped.
STREAM = "SELECT id, customer_id, status, amount, created_at FROM facts"

# (d) a new SCRAM-authenticated connection per transaction running a trivial statement.
CONNECT = "SELECT 1"

IN_LIST_SIZE = 1000


@dataclass(frozen=True)
class Variant:
    """One pgbench configuration of a workload."""

    clients: int
    prepared: bool

    @property
    def label(self) -> str:
        return f"c={self.clients} {'extended' if self.prepared else 'simple'}"


def lookup_sql(value: str) -> str:
    return LOOKUP.format(cust=value)


def planning_select_list() -> list[str]:
    """30 members: the low-cardinality dimensions grouped, and the measures."""
    from bench.dataset import model_measures

    dimensions = ["region", "category", "channel", "status", "quantity"]
    measures = [f"MEASURE({name})" for name in model_measures()]
    members = dimensions + measures
    assert len(members) == 30, len(members)
    return members


def planning_sql(offset: int = 0) -> str:
    """(e) A 30-member select list and a 1,000-value IN list (``offset`` shifts the values: the same
    shape with other literals)."""
    members = planning_select_list()
    values = ", ".join(str(offset + k) for k in range(1, IN_LIST_SIZE + 1))
    group = ", ".join(str(k) for k in range(1, 6))
    return f"SELECT {', '.join(members)} FROM facts WHERE customer_id IN ({values}) GROUP BY {group}"


__all__ = ["CONNECT", "DIMENSIONS", "GROUPED", "LOOKUP", "STREAM", "Variant", "planning_sql"]
