"""The SecurityContext: who a session is and what it may query.

Built by the auth layer from ``public.sql_credentials`` and the member's role in the datasource's team
(see ``metastore``); read by the planner (model selection, access checks) and by observability (query
log). It holds no secret except ``datasource.db_params`` which must never be logged or shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

TeamRole = Literal["owner", "admin", "member"]


@dataclass(frozen=True, slots=True)
class DatasourceInfo:
    """A datasource row, with ``db_params`` already prepared Synmetrix-style (falsy keys dropped)."""

    id: str
    name: str
    db_type: str  # upper-case as stored, e.g. "POSTGRES"
    db_params: Mapping[str, Any] = field(repr=False)
    team_id: str | None = None

    @property
    def driver(self) -> str:
        """The lower-cased db_type, as Synmetrix picks a driver with it."""
        return self.db_type.lower()


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """The newest version of the datasource's active branch (None fields when it has no model yet)."""

    version_id: str | None
    branch_id: str | None
    checksum: str  # digest of the version's files; the compiled-model cache key


@dataclass(frozen=True, slots=True)
class AccessList:
    """An access list restricted to one datasource: cube name -> allowed full member names.

    ``allowed`` is the union over all cubes of measures, dimensions and segments, as Synmetrix
    computes it (``Orders.count`` style names); ``allowed_cubes`` the cubes (and views) with at least
    one allowed member. Both are computed once: every statement of a restricted session reads them,
    and the plan cache keys plans by ``allowed``.
    """

    id: str | None
    name: str | None
    cubes: Mapping[str, Mapping[str, tuple[str, ...]]]
    allowed: frozenset[str] = field(init=False, compare=False)
    allowed_cubes: frozenset[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        names: set[str] = set()
        for members in self.cubes.values():
            for kind in ("measures", "dimensions", "segments"):
                names.update(str(n) for n in members.get(kind, ()))
        object.__setattr__(self, "allowed", frozenset(names))
        # The cube of ``Cube.member`` is the part before the first dot, whichever key lists it.
        object.__setattr__(self, "allowed_cubes", frozenset(n.split(".", 1)[0] for n in names if "." in n))


@dataclass(frozen=True, slots=True)
class SecurityContext:
    """Everything a session's queries are checked and planned against."""

    username: str  # the SQL credential's username (what the client logged in as)
    credential_id: str
    user_id: str
    user_display_name: str | None
    team_id: str
    role: TeamRole
    access_list: AccessList | None  # None for owner/admin, or a member without an access list
    datasource: DatasourceInfo
    model_version: ModelVersion

    @property
    def unrestricted(self) -> bool:
        """Owners and admins see every cube and member of the datasource."""
        return self.role in ("owner", "admin")

    @property
    def visible_members(self) -> frozenset[str] | None:
        """The members the session may use and see: None for all (owner/admin), else its access
        list's (empty without an access list)."""
        if self.unrestricted:
            return None
        if self.access_list is None:
            return frozenset()
        return self.access_list.allowed

    def with_model_version(self, version: ModelVersion) -> SecurityContext:
        """A copy pointing at a newer model version (used when a new version is pushed)."""
        return _replace(self, model_version=version)


def _replace(ctx: SecurityContext, **changes: Any) -> SecurityContext:
    from dataclasses import replace

    return replace(ctx, **changes)
