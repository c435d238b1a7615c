"""Access lists: which cube members a team member with role ``member`` may query.

The config has Synmetrix's shape::

    {"datasources": {"<datasource id>": {"cubes": {
        "Orders": {"measures": ["Orders.count"], "dimensions": ["Orders.status"], "segments": []}}}}}

For convenience a datasource may also be named by its name in the team; it is stored by id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlgate.metastore.admin.errors import ConflictError, InvalidInputError
from sqlgate.metastore.admin.resolve import resolve_access_list, resolve_datasource, resolve_team
from sqlgate.metastore.admin.session import transaction
from sqlgate.metastore.models import AccessList, MemberRole, Team

MEMBER_KINDS = ("measures", "dimensions", "segments")


def read_json_file(path: str, what: str) -> Any:
    """The JSON document in file ``path`` (``-`` = standard input), with a one-line error otherwise."""
    import sys

    try:
        raw = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInputError(f"cannot read {what} file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{what} file {path} is not UTF-8 text") from exc
    return parse_json(raw, f"{what} file {path}")


def parse_json(raw: str, where: str) -> Any:
    """``raw`` parsed as JSON, or an error naming ``where`` and the line/column."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"invalid JSON in {where}: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc


def _check_cubes(cubes: Any, where: str) -> dict[str, dict[str, list[str]]]:
    if not isinstance(cubes, dict):
        raise InvalidInputError(f"{where}.cubes must be an object of cube name -> members")
    out: dict[str, dict[str, list[str]]] = {}
    for cube, members in cubes.items():
        if not isinstance(members, dict):
            raise InvalidInputError(
                f"{where}.cubes.{cube} must be an object with measures/dimensions/segments"
            )
        unknown = set(members) - set(MEMBER_KINDS)
        if unknown:
            raise InvalidInputError(
                f"{where}.cubes.{cube} has unknown key(s) {', '.join(sorted(unknown))} "
                f"(allowed: {', '.join(MEMBER_KINDS)})"
            )
        entry: dict[str, list[str]] = {}
        for kind in MEMBER_KINDS:
            names = members.get(kind, [])
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise InvalidInputError(f"{where}.cubes.{cube}.{kind} must be a list of member names")
            short = [n for n in names if "." not in n]
            if short:
                raise InvalidInputError(
                    f"{where}.cubes.{cube}.{kind}: use full member names like "
                    f"{cube}.{short[0]} (got {short[0]!r})"
                )
            entry[kind] = names
        out[cube] = entry
    return out


def _check_config(config: Any) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise InvalidInputError('the access list config must be a JSON object like {"datasources": {...}}')
    unknown = set(config) - {"datasources"}
    if unknown:
        raise InvalidInputError(f"unknown key(s) in access list config: {', '.join(sorted(unknown))}")
    datasources = config.get("datasources", {})
    if not isinstance(datasources, dict):
        raise InvalidInputError(
            "access list config: datasources must be an object of datasource id -> {cubes}"
        )
    return datasources


async def _stored_config(session: Any, team_row: Team, datasources: dict[str, Any]) -> dict[str, Any]:
    """The ``datasources`` part as stored: keys resolved to the team's datasource ids, cubes checked."""
    stored: dict[str, Any] = {}
    for key, entry in datasources.items():
        where = f"datasources[{key!r}]"
        if not isinstance(entry, dict) or set(entry) - {"cubes"}:
            raise InvalidInputError(f"{where} must be an object with a single key cubes")
        ds = await resolve_datasource(session, team_row, key)
        stored[str(ds.id)] = {"cubes": _check_cubes(entry.get("cubes", {}), where)}
    return stored


async def create_access_list(engine: AsyncEngine, *, team: str, name: str, config: Any) -> dict[str, Any]:
    """Create access list ``name`` in ``team`` from a parsed config (see module docstring).

    Datasource keys may be ids or names of the team's datasources; they are stored as ids.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidInputError("the access list name must not be empty")
    datasources = _check_config(config)
    async with transaction(engine, conflict=f"an access list named {name!r} already exists") as session:
        team_row = await resolve_team(session, team)
        stored = await _stored_config(session, team_row, datasources)
        taken = (
            await session.execute(
                select(AccessList.id).where(AccessList.team_id == team_row.id, AccessList.name == name)
            )
        ).first()
        if taken is not None:
            raise ConflictError(
                f"team {team_row.name!r} already has an access list named {name!r} (id {taken[0]})"
            )
        acl = AccessList(team_id=team_row.id, name=name, config={"datasources": stored})
        session.add(acl)
    return {
        "id": str(acl.id),
        "name": name,
        "team_id": str(team_row.id),
        "team": team_row.name,
        "config": {"datasources": stored},
    }


async def update_access_list(engine: AsyncEngine, *, team: str, name: str, config: Any) -> dict[str, Any]:
    """Replace the config of access list ``name`` (or id) of ``team``. Open sessions of members with
    this list pick the change up within ``access_refresh_seconds`` (docs/security.md)."""
    datasources = _check_config(config)
    async with transaction(engine) as session:
        team_row = await resolve_team(session, team)
        acl = await resolve_access_list(session, team_row, name)
        stored = await _stored_config(session, team_row, datasources)
        acl.config = {"datasources": stored}
    return {
        "id": str(acl.id),
        "name": acl.name,
        "team_id": str(team_row.id),
        "team": team_row.name,
        "config": {"datasources": stored},
    }


async def list_access_lists(engine: AsyncEngine, *, team: str) -> dict[str, Any]:
    """The access lists of a team, with their config and how many member roles use each."""
    async with transaction(engine) as session:
        team_row: Team = await resolve_team(session, team)
        acls = list(
            (
                await session.execute(
                    select(AccessList).where(AccessList.team_id == team_row.id).order_by(AccessList.name)
                )
            ).scalars()
        )
        used: dict[Any, int] = {}
        for (acl_id,) in (
            await session.execute(
                select(MemberRole.access_list_id).where(MemberRole.access_list_id.in_([a.id for a in acls]))
            )
        ).all():
            used[acl_id] = used.get(acl_id, 0) + 1
    return {
        "team": team_row.name,
        "access_lists": [
            {"id": str(a.id), "name": a.name, "used_by": used.get(a.id, 0), "config": a.config} for a in acls
        ],
    }
