"""The look-ups the gateway makes at every login and model load. Each is one round trip.

- :func:`find_login` — a credential by username, with its datasource, the credential user's role and
  access list in the datasource's team, and the newest version of the datasource's active branch.
- :func:`store_upgraded_password` — replace a legacy plain-text password by its bcrypt hash (and the
  SCRAM verifier when the column exists), only if nobody changed it meanwhile.
- :func:`active_model_version` / :func:`load_model_files` — what model a datasource serves.

The queries are static SQL with bound parameters; they return the plain records of
:mod:`sqlgate.metastore.records`, never ORM objects.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlgate.metastore.features import has_scram_verifier
from sqlgate.metastore.records import LoginRecord, ModelFile, ModelVersionRecord

# The newest version of the datasource's active branch. With no version yet, the active branch alone.
# Synmetrix keeps at most one active branch per datasource; should there be several, the one with the
# newest version wins, deterministically.
_ACTIVE_VERSION = """
    SELECT b.id AS branch_id, v.id AS version_id,
           COALESCE(NULLIF(v.checksum, ''),
                    (SELECT md5(string_agg(COALESCE(f.checksum, md5(f.name || '-' || f.code)), ','
                                           ORDER BY f.name, f.id))
                     FROM public.dataschemas f WHERE f.version_id = v.id),
                    '') AS checksum
    FROM public.branches b
    LEFT JOIN LATERAL (
        SELECT v.id, v.checksum, v.created_at FROM public.versions v
        WHERE v.branch_id = b.id ORDER BY v.created_at DESC, v.id DESC LIMIT 1
    ) v ON true
    WHERE b.datasource_id = {datasource} AND b.status = 'active'
    ORDER BY v.created_at DESC NULLS LAST, b.created_at DESC, b.id
    LIMIT 1
"""

_FIND_LOGIN = """
    SELECT sc.id AS credential_id, sc.username, sc.password, {scram} AS scram_verifier,
           sc.user_id, u.display_name,
           d.id AS datasource_id, d.name AS datasource_name, d.db_type, d.db_params, d.team_id,
           r.team_role, r.access_list_id, r.access_list_name, r.access_cubes,
           mv.branch_id, mv.version_id, mv.checksum
    FROM public.sql_credentials sc
    JOIN public.datasources d ON d.id = sc.datasource_id
    LEFT JOIN public.users u ON u.id = sc.user_id
    LEFT JOIN LATERAL (
        -- Synmetrix reads member_roles[0] of the member row in the datasource's team.
        SELECT mr.team_role, mr.access_list_id, al.name AS access_list_name,
               al.config -> 'datasources' -> (d.id::text) -> 'cubes' AS access_cubes
        FROM public.members m
        JOIN public.member_roles mr ON mr.member_id = m.id
        LEFT JOIN public.access_lists al ON al.id = mr.access_list_id
        WHERE m.user_id = sc.user_id AND m.team_id = d.team_id
        ORDER BY mr.created_at NULLS LAST, mr.id
        LIMIT 1
    ) r ON true
    LEFT JOIN LATERAL ({active_version}) mv ON true
    WHERE sc.username = :username
"""

_FIND_LOGIN_WITH_SCRAM = text(
    _FIND_LOGIN.format(scram="sc.scram_verifier", active_version=_ACTIVE_VERSION.format(datasource="d.id"))
)
_FIND_LOGIN_WITHOUT_SCRAM = text(
    _FIND_LOGIN.format(scram="NULL::text", active_version=_ACTIVE_VERSION.format(datasource="d.id"))
)
# The same look-up for a plain asyncpg pool (the login hot path: one Bind/Execute round trip on a
# statement asyncpg keeps prepared, no BEGIN/ROLLBACK, no pre-ping).
FIND_LOGIN_SQL = {
    True: _FIND_LOGIN_WITH_SCRAM.text.replace(":username", "$1"),
    False: _FIND_LOGIN_WITHOUT_SCRAM.text.replace(":username", "$1"),
}
_ACTIVE_MODEL_VERSION = text(_ACTIVE_VERSION.format(datasource="CAST(:datasource_id AS uuid)"))

_LOAD_MODEL_FILES = text(
    "SELECT id, name, code FROM public.dataschemas WHERE version_id = CAST(:version_id AS uuid) "
    "ORDER BY name, id"
)

_UPGRADE_WITH_SCRAM = text(
    "UPDATE public.sql_credentials SET password = :new_hash, scram_verifier = :scram_verifier "
    "WHERE id = CAST(:credential_id AS uuid) AND password IS NOT DISTINCT FROM :old_stored"
)
_UPGRADE_WITHOUT_SCRAM = text(
    "UPDATE public.sql_credentials SET password = :new_hash "
    "WHERE id = CAST(:credential_id AS uuid) AND password IS NOT DISTINCT FROM :old_stored"
)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _version_record(branch_id: Any, version_id: Any, checksum: Any) -> ModelVersionRecord:
    return ModelVersionRecord(version_id=_str(version_id), branch_id=_str(branch_id), checksum=checksum or "")


def _access_cubes(value: Any) -> dict[str, dict[str, list[str]]] | None:
    # Only a JSON object is a usable entry; anything else (null, a list, a string) counts as none.
    return value if isinstance(value, dict) else None


async def find_login(engine: AsyncEngine, username: str) -> LoginRecord | None:
    """The credential whose ``username`` is ``username`` with everything a login needs; None if none.

    ``role`` is None when the credential's user is not a member of the datasource's team (or the
    datasource has no team): Synmetrix refuses such logins. ``access_cubes`` is
    ``access_lists.config["datasources"][<datasource id>]["cubes"]`` of the member's access list.
    """
    query = _FIND_LOGIN_WITH_SCRAM if await has_scram_verifier(engine) else _FIND_LOGIN_WITHOUT_SCRAM
    async with engine.connect() as conn:
        row = (await conn.execute(query, {"username": username})).mappings().first()
    return login_record(row)


async def find_login_on_pool(pool: Any, engine: AsyncEngine, username: str) -> LoginRecord | None:
    """:func:`find_login` on an asyncpg pool of the same database (``engine`` tells whether the
    ``scram_verifier`` column exists)."""
    row = await pool.fetchrow(FIND_LOGIN_SQL[await has_scram_verifier(engine)], username)
    return login_record(row)


def _json(value: Any) -> Any:
    """A jsonb value: decoded by SQLAlchemy's asyncpg dialect, text from a plain asyncpg pool."""
    return json.loads(value) if isinstance(value, str) else value


def login_record(row: Any) -> LoginRecord | None:
    """The LoginRecord of a :data:`FIND_LOGIN_SQL` row (a mapping), None for no row."""
    if row is None:
        return None
    db_params = _json(row["db_params"])
    return LoginRecord(
        credential_id=str(row["credential_id"]),
        username=row["username"],
        stored_password=row["password"],
        scram_verifier=row["scram_verifier"],
        user_id=str(row["user_id"]),
        user_display_name=row["display_name"],
        datasource_id=str(row["datasource_id"]),
        datasource_name=row["datasource_name"],
        db_type=row["db_type"],
        db_params=db_params if isinstance(db_params, dict) else {},
        team_id=_str(row["team_id"]),
        role=row["team_role"],
        access_list_id=_str(row["access_list_id"]),
        access_list_name=row["access_list_name"],
        access_cubes=_access_cubes(_json(row["access_cubes"])),
        model_version=_version_record(row["branch_id"], row["version_id"], row["checksum"]),
    )


async def store_upgraded_password(
    engine: AsyncEngine,
    credential_id: str,
    old_stored: str | None,
    new_hash: str,
    scram_verifier: str | None,
) -> bool:
    """Store ``new_hash`` (and ``scram_verifier`` when the column exists) for the credential, only if
    its password is still ``old_stored``. Returns True when the row was updated."""
    params: dict[str, Any] = {"credential_id": credential_id, "old_stored": old_stored, "new_hash": new_hash}
    if await has_scram_verifier(engine):
        query = _UPGRADE_WITH_SCRAM
        params["scram_verifier"] = scram_verifier
    else:
        query = _UPGRADE_WITHOUT_SCRAM
    async with engine.begin() as conn:
        result = await conn.execute(query, params)
    return bool(result.rowcount)


async def active_model_version(engine: AsyncEngine, datasource_id: str) -> ModelVersionRecord:
    """The newest version of the datasource's active branch (None ids when there is none)."""
    async with engine.connect() as conn:
        row = (await conn.execute(_ACTIVE_MODEL_VERSION, {"datasource_id": datasource_id})).first()
    if row is None:
        return ModelVersionRecord(version_id=None, branch_id=None, checksum="")
    return _version_record(row.branch_id, row.version_id, row.checksum)


async def load_model_files(engine: AsyncEngine, version_id: str) -> list[ModelFile]:
    """The files (``dataschemas`` rows) of a version, by name."""
    async with engine.connect() as conn:
        rows = (await conn.execute(_LOAD_MODEL_FILES, {"version_id": version_id})).all()
    return [ModelFile(id=str(r.id), name=r.name, code=r.code) for r in rows]
