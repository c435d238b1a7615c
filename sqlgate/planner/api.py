"""The seam between the wire layer and the planner.

Flow for one statement, in both protocols::

    stmt = await planner.prepare(session, sql, param_oids)     # Parse (or simple Query)
    stmt.param_oids, stmt.columns                               # Describe statement
    execution = await stmt.execute(session, bound, result_formats)  # Bind (+ Execute starts it)
    batch = await execution.fetch(max_rows)                     # Execute, maybe several times
    execution.command_tag()                                     # CommandComplete once done
    await execution.close()                                     # portal closed / connection gone

``prepare`` should not touch a datasource (Describe must be cheap); ``execute``/``fetch`` do. Every
failure is a :class:`sqlgate.errors.PgError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlgate.pgproto import oids

if TYPE_CHECKING:
    from sqlgate.auth.context import DatasourceInfo, SecurityContext
    from sqlgate.planner.session import Session
    from sqlgate.sources.base import Source

StatementKind = Literal["empty", "session", "builtin", "catalog", "semantic"]


@dataclass(frozen=True, slots=True)
class ResultColumn:
    """One field of a RowDescription."""

    name: str
    type_oid: int
    type_size: int = -2  # -2: take it from the type (pgproto.oids.type_size)
    type_modifier: int = -1
    table_oid: int = 0
    column_number: int = 0

    @property
    def size(self) -> int:
        return oids.type_size(self.type_oid) if self.type_size == -2 else self.type_size


class BoundParams:
    """Parameters as the client sent them in Bind, decoded to Python values on first use.

    ``raw`` and ``formats`` let a statement forward the client's bytes unchanged (the shadow catalog
    does); ``values`` gives Python objects (the semantic planner binds them on the datasource).
    """

    __slots__ = ("_decoder", "_values", "formats", "oids", "raw")

    def __init__(
        self,
        raw: Sequence[bytes | None],
        formats: Sequence[int],
        param_oids: Sequence[int],
        decoder: Any = None,
        values: Sequence[Any] | None = None,
    ) -> None:
        self.raw = list(raw)
        self.formats = list(formats)
        self.oids = list(param_oids)
        self._decoder = decoder
        self._values = list(values) if values is not None else None

    @classmethod
    def from_values(cls, values: Sequence[Any], param_oids: Sequence[int] = ()) -> BoundParams:
        """Parameters that are already Python values (SQL-level EXECUTE, tests)."""
        oid_list = list(param_oids) or [oids.UNKNOWN] * len(values)
        return cls([None] * len(values), [0] * len(values), oid_list, values=values)

    @property
    def has_values(self) -> bool:
        """True when Python values exist without decoding (given, or decoded eagerly at Bind)."""
        return self._values is not None

    @property
    def values(self) -> list[Any]:
        if self._values is None:
            if self._decoder is None:
                raise RuntimeError("BoundParams has neither values nor a decoder")
            self._values = [
                None if raw is None else self._decoder(raw, oid, fmt)
                for raw, oid, fmt in zip(self.raw, self.oids, self._expand_formats(), strict=True)
            ]
        return self._values

    def _expand_formats(self) -> list[int]:
        n = len(self.raw)
        if not self.formats:
            return [0] * n
        if len(self.formats) == 1:
            return self.formats * n
        return self.formats

    def __len__(self) -> int:
        return len(self.raw)


@dataclass(slots=True)
class RowBatch:
    """Rows of a result, either as Python tuples or as ready DataRow messages.

    ``encoded`` holds complete DataRow messages (type byte, length, body) in the formats the client
    asked for; the wire layer writes them as they are. Exactly one of ``rows``/``encoded`` is set.
    """

    rows: list[tuple[Any, ...]] | None = None
    encoded: bytes | None = None
    count: int = 0


@dataclass(frozen=True, slots=True)
class AuditInfo:
    """What the query log records of a planned statement (never client values or secrets)."""

    query: dict[str, Any]  # the semantic query: tables, cubes and members with how each is used
    generated_sql: str | None = None  # the SQL the datasource runs (placeholders, not values)


class Execution(ABC):
    """A running statement (a portal). Produced by :meth:`PreparedStatement.execute`."""

    columns: Sequence[ResultColumn] | None

    @abstractmethod
    async def fetch(self, max_rows: int = 0) -> tuple[RowBatch, bool]:
        """Return up to ``max_rows`` rows (0: all remaining, streamed in several calls is allowed:
        the wire calls again until ``done``) and whether the result is exhausted."""

    @abstractmethod
    def command_tag(self) -> str:
        """The CommandComplete tag, valid once ``fetch`` said done (``SELECT 3``, ``SET``, …)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (datasource cursor); called exactly once, also on cancel/disconnect."""


class PreparedStatement(ABC):
    """A parsed and planned statement: what Describe(S) reports and what Bind executes."""

    kind: StatementKind
    sql: str
    param_oids: list[int]
    columns: list[ResultColumn] | None  # None means NoData
    # True only for statements that may run in an aborted transaction block (ROLLBACK, COMMIT…);
    # the wire answers 25P02 for every other statement while the session's status is E.
    allowed_in_failed_transaction: bool = False
    # True when executions return rows only as ready DataRow messages (``RowBatch.encoded``) in the
    # formats asked for in Bind: the wire then builds no encoder (the types may have no codec here).
    encodes_rows: bool = False

    def audit(self) -> AuditInfo | None:
        """What the query log records of this statement; None for statements it does not log
        (session commands, builtins)."""
        return None

    @abstractmethod
    async def execute(
        self, session: Session, params: BoundParams, result_formats: Sequence[int]
    ) -> Execution:
        """Start the statement with ``params``. ``result_formats`` as sent in Bind (0 text, 1 binary;
        empty = all text, one value = all columns) — only statements that return ``RowBatch.encoded``
        need to look at them."""


class Planner(ABC):
    """Turns SQL text into prepared statements for one gateway (shared by all sessions)."""

    @abstractmethod
    def split(self, sql: str) -> list[str]:
        """Split a simple-Query string into statements (quotes, dollar quotes and comments
        respected). Statements holding only whitespace or comments are dropped, as PostgreSQL does;
        an empty list means the query was empty (the wire answers EmptyQueryResponse)."""

    @abstractmethod
    async def prepare(self, session: Session, sql: str, param_oids: Sequence[int]) -> PreparedStatement:
        """Classify and plan one statement. ``param_oids`` from Parse (0 = infer)."""


class ModelProvider(Protocol):
    """Gives the compiled data model a session may query (cached by datasource and version checksum)."""

    async def get(self, ctx: SecurityContext) -> Any:
        """The compiled model (``sqlgate.semantic`` type) for ``ctx.datasource``/``ctx.model_version``."""
        ...


class SourceProvider(Protocol):
    """Gives the live :class:`~sqlgate.sources.base.Source` (a pool) for a datasource."""

    def get(self, datasource: DatasourceInfo) -> Source:
        """The shared source for ``datasource``; a changed ``db_params`` gives a new one."""
        ...
