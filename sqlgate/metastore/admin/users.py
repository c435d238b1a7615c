"""Users: a ``public.users`` row plus its ``auth.accounts`` row holding the e-mail."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlgate.metastore.admin.errors import ConflictError, InvalidInputError
from sqlgate.metastore.admin.session import transaction
from sqlgate.metastore.models import Account, Member, MemberRole, Team, User

# The CHECK constraint auth.accounts.proper_email (case-insensitive), checked here first for a clear message.
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9._+%-]+@[A-Za-z0-9.-]+[.][A-Za-z]+$")


def check_email(email: str) -> str:
    """``email`` stripped, or :class:`InvalidInputError` when the schema would refuse it."""
    email = (email or "").strip()
    if not EMAIL_PATTERN.match(email):
        raise InvalidInputError(f"{email!r} is not an e-mail address (expected name@domain.tld)")
    return email


async def create_user(engine: AsyncEngine, *, email: str, display_name: str | None = None) -> dict[str, Any]:
    """Create a user and their account; ``display_name`` defaults to the e-mail (as Synmetrix's seed).

    Returns ``{"id", "email", "display_name"}``.
    """
    email = check_email(email)
    display_name = display_name.strip() if display_name and display_name.strip() else email
    async with transaction(engine, conflict=f"a user with e-mail {email} already exists") as session:
        existing = (
            await session.execute(select(Account.user_id).where(Account.email == email))
        ).scalar_one_or_none()
        if existing is not None:
            raise ConflictError(f"a user with e-mail {email} already exists (id {existing})")
        user = User(display_name=display_name)
        session.add(user)
        await session.flush()
        session.add(Account(user_id=user.id, email=email, active=True, default_role="user"))
    return {"id": str(user.id), "email": email, "display_name": display_name}


async def list_users(engine: AsyncEngine) -> dict[str, Any]:
    """Every user with their e-mail and the teams they belong to (with their role there)."""
    async with transaction(engine) as session:
        users = (
            await session.execute(
                select(User.id, Account.email, User.display_name, User.created_at)
                .outerjoin(Account, Account.user_id == User.id)
                .order_by(func.lower(Account.email), User.created_at)
            )
        ).all()
        memberships = (
            await session.execute(
                select(Member.user_id, Team.name, MemberRole.team_role)
                .join(Team, Team.id == Member.team_id)
                .outerjoin(MemberRole, MemberRole.member_id == Member.id)
                .order_by(Team.name)
            )
        ).all()
    teams: dict[Any, list[dict[str, str | None]]] = {}
    for user_id, team_name, role in memberships:
        teams.setdefault(user_id, []).append({"team": team_name, "role": role})
    return {
        "users": [
            {
                "id": str(u.id),
                "email": u.email,
                "display_name": u.display_name,
                "teams": teams.get(u.id, []),
            }
            for u in users
        ]
    }
