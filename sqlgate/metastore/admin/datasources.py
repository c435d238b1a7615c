"""Datasources: Synmetrix-style ``db_type`` (upper case) and ``db_params`` (free-form JSON).

``db_params`` holds the datasource's plain-text password; every function here that returns a
datasource returns :func:`masked_db_params` instead.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlgate.metastore.admin.errors import ConflictError, InvalidInputError
from sqlgate.metastore.admin.resolve import resolve_datasource, resolve_team
from sqlgate.metastore.admin.session import transaction
from sqlgate.metastore.engine import mask_password
from sqlgate.metastore.models import Branch, Datasource, SqlCredential, Team, Version

# The db_type values Synmetrix's UI offers (stored upper-cased), plus REDSHIFT, the driver key that
# the UI's "RESHIFT" tile misspells; both are accepted.
SYNMETRIX_DB_TYPES = (
    "POSTGRES", "MYSQL", "MONGOBI", "CLICKHOUSE", "RESHIFT", "REDSHIFT", "BIGQUERY", "TRINO", "MSSQL",
    "DRUID", "ELASTICSEARCH", "PRESTODB", "DATABRICKS-JDBC", "FIREBOLT", "KSQL", "QUESTDB", "SNOWFLAKE",
    "VERTICA", "ATHENA", "HIVE", "DUCKDB", "JDBC",
)  # fmt: skip
# Types sqlgate's sources layer can connect to; others are stored for Synmetrix but cannot be served.
SERVABLE_DB_TYPES = ("POSTGRES", "MYSQL", "DUCKDB")

URL_SCHEMES = {"postgresql": "POSTGRES", "postgres": "POSTGRES", "mysql": "MYSQL", "mariadb": "MYSQL"}
DEFAULT_PORTS = {"POSTGRES": "5432", "MYSQL": "3306"}
_SSL_MODES = {"require", "verify-ca", "verify-full", "true", "1", "required", "verify_ca", "verify_identity"}
# db_params keys whose values are secrets (compared lower-case, as substrings).
_SECRET_WORDS = ("password", "pass", "secret", "token", "key", "credential", "auth", "pwd")
MASK = "********"


def check_db_type(db_type: str) -> str:
    """``db_type`` upper-cased, or an error listing the accepted values."""
    upper = (db_type or "").strip().upper()
    if upper not in SYNMETRIX_DB_TYPES:
        raise InvalidInputError(
            f"unknown datasource type {db_type!r}; use one of: {', '.join(SYNMETRIX_DB_TYPES)}"
        )
    return upper


def check_db_params(params: Any) -> dict[str, Any]:
    """Synmetrix's rules: a JSON object; ``port``, when present, between 0 and 65535."""
    if not isinstance(params, dict):
        raise InvalidInputError('--params must be a JSON object like {"host": "…", "port": "5432", …}')
    port = params.get("port")
    if port not in (None, ""):
        try:
            number = int(str(port))
        except ValueError:
            raise InvalidInputError(f"port must be a number (got {port!r})") from None
        if not 0 <= number <= 65535:
            raise InvalidInputError(f"port must be between 0 and 65535 (got {port})")
    return params


def db_params_from_url(url: str) -> tuple[str, dict[str, Any]]:
    """``(db_type, db_params)`` for a datasource URL.

    ``postgresql://user:pw@host:5432/db?sslmode=require`` (also unix sockets via ``?host=/dir``) and
    ``mysql://…`` become Synmetrix's ``{host, port (string), database, user, password, ssl}``;
    ``duckdb:///path/file.duckdb`` and ``duckdb::memory:`` become ``{"database": path}``.
    """
    url = (url or "").strip()
    if url.lower().startswith("duckdb:"):
        return "DUCKDB", {"database": _duckdb_path(url[len("duckdb:") :])}
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInputError(f"invalid datasource URL {mask_password(url)!r}: {exc}") from None
    db_type = URL_SCHEMES.get(parts.scheme.lower())
    if db_type is None:
        raise InvalidInputError(
            f"unsupported URL scheme {parts.scheme + '://' if parts.scheme else mask_password(url)!r}: "
            "use postgresql://, mysql:// or duckdb:///path (or give --params JSON)"
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = parts.hostname or query.get("host", "")  # ?host=/dir is a unix-socket directory
    sslmode = (query.get("sslmode") or query.get("ssl-mode") or query.get("ssl") or "").lower()
    params: dict[str, Any] = {
        "host": host,
        "port": str(port or query.get("port") or DEFAULT_PORTS[db_type]),
        "database": unquote(parts.path.lstrip("/")) or query.get("dbname", ""),
        "user": unquote(parts.username) if parts.username else query.get("user", ""),
        "password": unquote(parts.password) if parts.password else query.get("password", ""),
        "ssl": sslmode in _SSL_MODES,
    }
    if not params["host"]:
        raise InvalidInputError(f"the datasource URL {mask_password(url)!r} has no host")
    # Synmetrix drops keys with falsy values before using db_params; store them the same way.
    return db_type, {k: v for k, v in params.items() if v}


def _duckdb_path(rest: str) -> str:
    if rest in (":memory:", "//:memory:", "///:memory:"):
        return ":memory:"
    path = rest[2:] if rest.startswith("//") else rest
    if not path:
        raise InvalidInputError(
            "a DuckDB URL needs a file: duckdb:///path/to/file.duckdb (or duckdb::memory:)"
        )
    return os.path.abspath(os.path.expanduser(unquote(path)))


def masked_db_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with every secret-looking value replaced by ******** and passwords in URLs masked."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        lowered = key.lower()
        if any(word in lowered for word in _SECRET_WORDS) and value not in (None, "", False):
            out[key] = MASK
        elif isinstance(value, dict):
            out[key] = masked_db_params(value)
        elif isinstance(value, str) and "://" in value:
            out[key] = mask_password(value)
        else:
            out[key] = value
    return out


def _describe(ds: Datasource, team: Team) -> dict[str, Any]:
    return {
        "id": str(ds.id),
        "name": ds.name,
        "team_id": str(team.id),
        "team": team.name,
        "db_type": ds.db_type,
        "db_params": masked_db_params(ds.db_params or {}),
    }


async def create_datasource(
    engine: AsyncEngine,
    *,
    team: str,
    name: str,
    db_type: str | None = None,
    params: dict[str, Any] | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """Create datasource ``name`` in ``team`` from ``params`` (a JSON object) or ``url``.

    With ``url`` the type may be omitted (it follows from the scheme). The creator (``user_id``) is
    the team's owner. Datasource names are unique within a team here (Synmetrix does not enforce it,
    but names must resolve). Returns the datasource with masked ``db_params`` and ``warnings``.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidInputError("the datasource name must not be empty")
    if (params is None) == (url is None):
        raise InvalidInputError("give exactly one of --params JSON or --url URL")
    if url is not None:
        url_type, db_params = db_params_from_url(url)
        upper = check_db_type(db_type) if db_type else url_type
        if upper != url_type:
            raise InvalidInputError(f"--type {upper} does not match the {url_type} URL")
    else:
        if not db_type:
            raise InvalidInputError("--type is required with --params")
        upper = check_db_type(db_type)
        db_params = check_db_params(params)
    warnings = []
    if upper not in SERVABLE_DB_TYPES:
        warnings.append(
            f"sqlgate can serve {', '.join(SERVABLE_DB_TYPES)} datasources; {upper} is stored (Synmetrix can "
            "use it) but sqlgate cannot query it"
        )
    async with transaction(engine) as session:
        team_row = await resolve_team(session, team)
        taken = (
            await session.execute(
                select(Datasource.id).where(Datasource.team_id == team_row.id, Datasource.name == name)
            )
        ).first()
        if taken is not None:
            raise ConflictError(
                f"team {team_row.name!r} already has a datasource named {name!r} (id {taken[0]})"
            )
        ds = Datasource(
            user_id=team_row.user_id, team_id=team_row.id, name=name, db_type=upper, db_params=db_params
        )
        session.add(ds)
        await session.flush()
    return {**_describe(ds, team_row), "warnings": warnings}


async def list_datasources(engine: AsyncEngine, *, team: str) -> dict[str, Any]:
    """The team's datasources (passwords masked) with active branch, newest version and credential count."""
    async with transaction(engine) as session:
        team_row = await resolve_team(session, team)
        datasources = list(
            (
                await session.execute(
                    select(Datasource).where(Datasource.team_id == team_row.id).order_by(Datasource.name)
                )
            ).scalars()
        )
        out = []
        for ds in datasources:
            branch = (
                await session.execute(
                    select(Branch).where(Branch.datasource_id == ds.id, Branch.status == "active").limit(1)
                )
            ).scalar_one_or_none()
            version_id = None
            if branch is not None:
                version_id = (
                    await session.execute(
                        select(Version.id)
                        .where(Version.branch_id == branch.id)
                        .order_by(Version.created_at.desc())
                        .limit(1)
                    )
                ).scalar_one_or_none()
            credentials = len(
                (
                    await session.execute(
                        select(SqlCredential.id).where(SqlCredential.datasource_id == ds.id)
                    )
                ).all()
            )
            out.append(
                {
                    **_describe(ds, team_row),
                    "active_branch": branch.name if branch else None,
                    "version_id": str(version_id) if version_id else None,
                    "credentials": credentials,
                }
            )
    return {"team": team_row.name, "datasources": out}


async def datasource_connection(engine: AsyncEngine, *, team: str, datasource: str) -> dict[str, Any]:
    """``{"id", "name", "db_type", "db_params"}`` with the REAL db_params, to connect to the datasource.

    Never print the result: it holds the datasource password.
    """
    async with transaction(engine) as session:
        team_row = await resolve_team(session, team)
        ds = await resolve_datasource(session, team_row, datasource)
    return {"id": str(ds.id), "name": ds.name, "db_type": ds.db_type, "db_params": dict(ds.db_params or {})}
