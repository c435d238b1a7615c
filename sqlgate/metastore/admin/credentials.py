"""SQL credentials: the logins BI tools use. Only a bcrypt hash of the password is stored.

The password is shown once, in the result of :func:`create_credential` or :func:`rotate_credential`;
it is never stored or shown again. When the database has ``sql_credentials.scram_verifier``
(revision 0002) a SCRAM-SHA-256 verifier is stored next to the hash so clients can use SCRAM.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import string
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlgate.auth.passwords import hash_password
from sqlgate.auth.verifier import make_verifier
from sqlgate.metastore.admin.errors import ConflictError, InvalidInputError, NotFoundError
from sqlgate.metastore.admin.resolve import find_member, resolve_datasource, resolve_team, resolve_user
from sqlgate.metastore.admin.session import transaction
from sqlgate.metastore.features import has_scram_verifier
from sqlgate.metastore.models import Account, Datasource, SqlCredential, User

USERNAME_ALPHABET = string.digits + string.ascii_lowercase  # Synmetrix's nanoid alphabet
USERNAME_LENGTH = 10
PASSWORD_ALPHABET = string.ascii_letters + string.digits  # URL-safe, ~5.95 bits per character
PASSWORD_LENGTH = 32
_USERNAME_ATTEMPTS = 5
# Printable, no whitespace, at most 63 characters (PostgreSQL's identifier limit).
_USERNAME_PATTERN = re.compile(r"^[!-~]{1,63}$")

DEFAULT_PUBLIC_HOST = "127.0.0.1"
DEFAULT_PUBLIC_PORT = 15432
DATABASE_NAME = "db"  # clients may send any database name; Synmetrix shows "db"


def generate_username() -> str:
    """10 random characters of [0-9a-z], like the Synmetrix UI."""
    return "".join(secrets.choice(USERNAME_ALPHABET) for _ in range(USERNAME_LENGTH))


def generate_password() -> str:
    """32 random letters and digits (about 190 bits)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def public_address() -> tuple[str, int]:
    """Where clients reach sqlgate: ``SQLGATE_PUBLIC_HOST`` / ``SQLGATE_PUBLIC_PORT``."""
    host = os.environ.get("SQLGATE_PUBLIC_HOST") or DEFAULT_PUBLIC_HOST
    raw_port = os.environ.get("SQLGATE_PUBLIC_PORT") or str(DEFAULT_PUBLIC_PORT)
    try:
        port = int(raw_port)
    except ValueError:
        raise InvalidInputError(f"SQLGATE_PUBLIC_PORT must be a port number (got {raw_port!r})") from None
    return host, port


def connection_url(username: str, password: str) -> str:
    """``postgresql://U:P@HOST:PORT/db`` with U and P URL-quoted."""
    host, port = public_address()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    return f"postgresql://{quote(username, safe='')}:{quote(password, safe='')}@{host}:{port}/{DATABASE_NAME}"


def _check_username(username: str) -> str:
    if not _USERNAME_PATTERN.match(username):
        raise InvalidInputError("the username must be 1 to 63 printable characters without spaces")
    return username


def _check_password(password: str) -> str:
    if not password:
        raise InvalidInputError("the password must not be empty")
    if "\x00" in password:
        raise InvalidInputError("the password must not contain NUL characters")
    if len(password.encode("utf-8")) > 72:
        raise InvalidInputError("the password is longer than 72 bytes (bcrypt's limit)")
    return password


async def _secrets_for(password: str, with_scram: bool) -> tuple[str, str | None]:
    # bcrypt is slow on purpose: keep it off the event loop.
    hashed = await asyncio.to_thread(hash_password, password)
    verifier = await asyncio.to_thread(make_verifier, password) if with_scram else None
    return hashed, verifier


def _issued(username: str, password: str) -> dict[str, str]:
    return {"username": username, "password": password, "url": connection_url(username, password)}


async def create_credential(
    engine: AsyncEngine,
    *,
    team: str,
    datasource: str,
    user: str,
    username: str | None = None,
    password: str | None = None,
) -> dict[str, str]:
    """Issue a SQL credential for ``user`` (e-mail or id, a member of the datasource's team).

    Returns ``{"username", "password", "url"}`` — the only time the password is shown.
    """
    if username is not None:
        username = _check_username(username.strip())
    password = _check_password(password) if password is not None else generate_password()
    with_scram = await has_scram_verifier(engine)
    hashed, verifier = await _secrets_for(password, with_scram)
    async with transaction(engine, conflict="that username is already taken") as session:
        team_row = await resolve_team(session, team)
        ds = await resolve_datasource(session, team_row, datasource)
        user_ref = await resolve_user(session, user)
        if await find_member(session, team_row, user_ref) is None:
            raise InvalidInputError(
                f"{user_ref.label()} is not a member of team {team_row.name!r}, which owns datasource "
                f"{ds.name!r}; add them first: sqlgate members add --team {team_row.name} "
                f"--email {user_ref.label()} --role member"
            )
        if username is None:
            for _ in range(_USERNAME_ATTEMPTS):
                candidate = generate_username()
                if not await _username_taken(session, candidate):
                    username = candidate
                    break
            else:  # pragma: no cover - 36^10 names; only a broken random source gets here
                raise ConflictError("could not find a free username; try again or give --username")
        elif await _username_taken(session, username):
            raise ConflictError(f"the username {username} is already taken")
        values: dict[str, Any] = {
            "datasource_id": ds.id,
            "user_id": user_ref.id,
            "username": username,
            "password": hashed,
        }
        if with_scram:
            values["scram_verifier"] = verifier
        # A Core insert names exactly these columns; the ORM would also name scram_verifier (as NULL)
        # and fail on a database that does not have it.
        await session.execute(insert(SqlCredential).values(**values))
    return _issued(username, password)


async def _username_taken(session: Any, username: str) -> bool:
    return (
        await session.execute(select(SqlCredential.id).where(SqlCredential.username == username))
    ).first() is not None


async def list_credentials(
    engine: AsyncEngine, *, team: str, datasource: str | None = None
) -> dict[str, Any]:
    """The team's credentials (optionally of one datasource). Never passwords or hashes."""
    async with transaction(engine) as session:
        team_row = await resolve_team(session, team)
        query = (
            select(
                SqlCredential.id,
                SqlCredential.username,
                SqlCredential.created_at,
                Datasource.id.label("datasource_id"),
                Datasource.name.label("datasource"),
                User.id.label("user_id"),
                Account.email,
                SqlCredential.password.is_(None).label("disabled"),
                func.left(SqlCredential.password, 4).in_(["$2a$", "$2b$", "$2y$"]).label("hashed"),
            )
            .join(Datasource, Datasource.id == SqlCredential.datasource_id)
            .join(User, User.id == SqlCredential.user_id)
            .outerjoin(Account, Account.user_id == User.id)
            .where(Datasource.team_id == team_row.id)
            .order_by(Datasource.name, SqlCredential.username)
        )
        if datasource is not None:
            ds = await resolve_datasource(session, team_row, datasource)
            query = query.where(Datasource.id == ds.id)
        rows = (await session.execute(query)).all()
    return {
        "team": team_row.name,
        "credentials": [
            {
                "id": str(r.id),
                "username": r.username,
                "datasource": r.datasource,
                "datasource_id": str(r.datasource_id),
                "email": r.email,
                "user_id": str(r.user_id),
                # how the password is stored: bcrypt, legacy plain text (upgraded at next login), or none
                "password_storage": "none"
                if r.disabled
                else ("bcrypt" if r.hashed else "plain text (legacy)"),
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
        ],
    }


async def revoke_credential(engine: AsyncEngine, *, username: str) -> dict[str, Any]:
    """Delete the credential ``username``; clients can no longer log in with it."""
    async with transaction(engine) as session:
        credential = (
            await session.execute(select(SqlCredential).where(SqlCredential.username == username))
        ).scalar_one_or_none()
        if credential is None:
            raise NotFoundError(f"no credential with username {username!r}")
        await session.delete(credential)
    return {"username": username, "revoked": True}


async def rotate_credential(
    engine: AsyncEngine, *, username: str, password: str | None = None
) -> dict[str, str]:
    """Give credential ``username`` a new password; returns ``{"username", "password", "url"}`` once."""
    password = _check_password(password) if password is not None else generate_password()
    with_scram = await has_scram_verifier(engine)
    hashed, verifier = await _secrets_for(password, with_scram)
    values: dict[str, Any] = {"password": hashed}
    if with_scram:
        values["scram_verifier"] = verifier
    async with transaction(engine) as session:
        result = await session.execute(
            update(SqlCredential).where(SqlCredential.username == username).values(**values)
        )
        if not result.rowcount:
            raise NotFoundError(f"no credential with username {username!r}")
    return _issued(username, password)
