"""Per-connection session state that statements read and change.

The wire layer creates one :class:`Session` per authenticated connection and hands it to every
``prepare``/``execute`` call. Session commands (SET, BEGIN, PREPARE, DECLARE …) change it; the wire
layer reads it back (transaction status byte, ParameterStatus for changed reported settings, notices).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sqlgate.auth.context import SecurityContext
    from sqlgate.errors import PgError
    from sqlgate.planner.api import Execution, PreparedStatement

TransactionStatus = Literal["I", "T", "E"]


@dataclass(eq=False)
class Session:
    """One client session. Owned by the wire connection; read and changed by statements."""

    ctx: SecurityContext
    database: str = "db"
    process_id: int = 0
    client_address: str = ""
    settings: dict[str, str] = field(default_factory=dict)
    transaction_status: TransactionStatus = "I"
    # Named prepared statements: protocol-level (Parse) and SQL-level (PREPARE) share one namespace.
    prepared: dict[str, PreparedStatement] = field(default_factory=dict)
    # SQL-level cursors (DECLARE … CURSOR); protocol portals are kept by the wire connection.
    cursors: dict[str, Execution] = field(default_factory=dict)
    # Notices (WARNING/NOTICE PgErrors) raised by a statement; the wire sends and clears them.
    notices: list[PgError] = field(default_factory=list)
