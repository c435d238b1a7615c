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
    computes it (``Orders.count`` style names).
    """

    id: str | None
    name: str | None
    cubes: Mapping[str, Mapping[str, tuple[str, ...]]]

    @property
    def allowed(self) -> frozenset[str]:
        names: set[str] = set()
        for members in self.cubes.values():
            for kind in ("measures", "dimensions", "segments"):
                names.update(members.get(kind, ()))
        return frozenset(names)


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

    def with_model_version(self, version: ModelVersion) -> SecurityContext:
        """A copy pointing at a newer model version (used when a new version is pushed)."""
        return _replace(self, model_version=version)


def _replace(ctx: SecurityContext, **changes: Any) -> SecurityContext:
    from dataclasses import replace

    return replace(ctx, **changes)
