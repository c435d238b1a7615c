"""Turn a credential's :class:`~sqlgate.metastore.records.LoginRecord` into a SecurityContext."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlgate.auth.context import AccessList, DatasourceInfo, ModelVersion, SecurityContext, TeamRole
from sqlgate.errors import INVALID_AUTHORIZATION_SPECIFICATION, PgError
from sqlgate.metastore.records import LoginRecord

_ROLES: tuple[TeamRole, ...] = ("owner", "admin", "member")


def prepared_db_params(raw: Any) -> dict[str, Any]:
    """``db_params`` the Synmetrix way: a JSON string is parsed, keys with falsy values are dropped."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    if not isinstance(raw, Mapping):
        return {}
    return {key: value for key, value in raw.items() if value}


def _access_list(login: LoginRecord) -> AccessList | None:
    # Synmetrix (queryRewrite.js): no ``config.datasources[<id>].cubes`` entry for this datasource
    # means no access to it at all, whether the member has an access list or not.
    if login.access_cubes is None:
        return None
    cubes = {
        cube: {
            kind: tuple(names) for kind, names in (members or {}).items() if isinstance(names, list | tuple)
        }
        for cube, members in (login.access_cubes or {}).items()
    }
    return AccessList(login.access_list_id, login.access_list_name, cubes)


def build_security_context(login: LoginRecord) -> SecurityContext:
    """The session's context; FATAL 28000 when the credential's user is not in the datasource's team."""
    if login.role is None or login.team_id is None:
        raise PgError(
            INVALID_AUTHORIZATION_SPECIFICATION,
            f'user of credential "{login.username}" is not a member of the team that owns datasource '
            f'"{login.datasource_name}"',
            severity="FATAL",
            hint="Add the user to the team, or issue the credential to a member of it.",
        )
    role_name = login.role.lower()
    # An unknown role name gets the least privilege.
    role: TeamRole = role_name if role_name in _ROLES else "member"  # type: ignore[assignment]
    access = None if role in ("owner", "admin") else _access_list(login)
    version = login.model_version
    return SecurityContext(
        username=login.username,
        credential_id=login.credential_id,
        user_id=login.user_id,
        user_display_name=login.user_display_name,
        team_id=login.team_id,
        role=role,
        access_list=access,
        datasource=DatasourceInfo(
            login.datasource_id,
            login.datasource_name,
            login.db_type,
            prepared_db_params(login.db_params),
            login.team_id,
        ),
        model_version=ModelVersion(version.version_id, version.branch_id, version.checksum),
    )
