"""Teams and their members (``members`` + ``member_roles``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from sqlgate.metastore.admin.errors import ConflictError, InvalidInputError, NotFoundError
from sqlgate.metastore.admin.resolve import (
    UserRef,
    find_member,
    resolve_access_list,
    resolve_team,
    resolve_user,
)
from sqlgate.metastore.admin.session import transaction
from sqlgate.metastore.models import AccessList, Account, Datasource, Member, MemberRole, Team, User

TEAM_ROLES = ("owner", "admin", "member")


def _check_role(role: str) -> str:
    role = (role or "").strip().lower()
    if role not in TEAM_ROLES:
        raise InvalidInputError(f"unknown role {role!r}: use one of {', '.join(TEAM_ROLES)}")
    return role


async def _members(session: AsyncSession, team: Team) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(
                Member.id,
                User.id.label("user_id"),
                Account.email,
                User.display_name,
                MemberRole.team_role,
                AccessList.name.label("access_list"),
            )
            .join(User, User.id == Member.user_id)
            .outerjoin(Account, Account.user_id == User.id)
            .outerjoin(MemberRole, MemberRole.member_id == Member.id)
            .outerjoin(AccessList, AccessList.id == MemberRole.access_list_id)
            .where(Member.team_id == team.id)
            .order_by(func.lower(Account.email), Member.created_at)
        )
    ).all()
    return [
        {
            "member_id": str(r.id),
            "user_id": str(r.user_id),
            "email": r.email,
            "display_name": r.display_name,
            "role": r.team_role,
            "access_list": r.access_list,
        }
        for r in rows
    ]


async def create_team(engine: AsyncEngine, *, name: str, owner: str) -> dict[str, Any]:
    """Create team ``name`` owned by user ``owner`` (e-mail or id), who becomes a member with role owner.

    Team names are unique per owner (``teams_user_id_name_key``), as in Synmetrix.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidInputError("the team name must not be empty")
    async with transaction(engine, conflict=f"a team named {name!r} already exists") as session:
        user = await resolve_user(session, owner)
        taken = (
            await session.execute(select(Team.id).where(Team.user_id == user.id, Team.name == name))
        ).scalar_one_or_none()
        if taken is not None:
            raise ConflictError(f"{user.label()} already owns a team named {name!r} (id {taken})")
        team = Team(name=name, user_id=user.id)
        session.add(team)
        await session.flush()
        member = Member(user_id=user.id, team_id=team.id)
        session.add(member)
        await session.flush()
        session.add(MemberRole(member_id=member.id, team_role="owner"))
        await session.flush()
        members = await _members(session, team)
    return {"id": str(team.id), "name": team.name, "owner": user.as_dict(), "members": members}


async def list_teams(engine: AsyncEngine) -> dict[str, Any]:
    """Every team with its owner and how many members and datasources it has."""
    async with transaction(engine) as session:
        member_count = (
            select(func.count()).select_from(Member).where(Member.team_id == Team.id).scalar_subquery()
        )
        datasource_count = (
            select(func.count())
            .select_from(Datasource)
            .where(Datasource.team_id == Team.id)
            .scalar_subquery()
        )
        rows = (
            await session.execute(
                select(
                    Team.id,
                    Team.name,
                    Account.email,
                    member_count.label("members"),
                    datasource_count.label("datasources"),
                )
                .outerjoin(Account, Account.user_id == Team.user_id)
                .order_by(Team.name, Team.created_at)
            )
        ).all()
    return {
        "teams": [
            {
                "id": str(r.id),
                "name": r.name,
                "owner": r.email,
                "members": r.members,
                "datasources": r.datasources,
            }
            for r in rows
        ]
    }


def _membership(
    team: Team, user: UserRef, member: Member, role: str, access_list: AccessList | None
) -> dict[str, Any]:
    return {
        "member_id": str(member.id),
        "team_id": str(team.id),
        "team": team.name,
        "user_id": str(user.id),
        "email": user.email,
        "role": role,
        "access_list": access_list.name if access_list else None,
        "access_list_id": str(access_list.id) if access_list else None,
    }


async def add_member(
    engine: AsyncEngine, *, team: str, user: str, role: str, access_list: str | None = None
) -> dict[str, Any]:
    """Add user ``user`` (e-mail or id) to ``team`` with ``role`` (owner|admin|member) and optionally an
    access list of that team (it restricts role ``member``; owners and admins see everything)."""
    role = _check_role(role)
    async with transaction(engine, conflict="that user is already a member of the team") as session:
        team_row = await resolve_team(session, team)
        user_ref = await resolve_user(session, user)
        acl = await resolve_access_list(session, team_row, access_list) if access_list else None
        existing = await find_member(session, team_row, user_ref)
        if existing is not None:
            current = existing[1].team_role if existing[1] else "no role"
            raise ConflictError(
                f"{user_ref.label()} is already a member of team {team_row.name!r} (role {current}); "
                "change it with: sqlgate members update"
            )
        member = Member(user_id=user_ref.id, team_id=team_row.id)
        session.add(member)
        await session.flush()
        session.add(MemberRole(member_id=member.id, team_role=role, access_list_id=acl.id if acl else None))
    return _membership(team_row, user_ref, member, role, acl)


async def _existing_member(
    session: AsyncSession, team: str, user: str
) -> tuple[Team, UserRef, tuple[Member, MemberRole | None]]:
    team_row = await resolve_team(session, team)
    user_ref = await resolve_user(session, user)
    found = await find_member(session, team_row, user_ref)
    if found is None:
        raise NotFoundError(f"{user_ref.label()} is not a member of team {team_row.name!r}")
    return team_row, user_ref, found


async def update_member(
    engine: AsyncEngine,
    *,
    team: str,
    user: str,
    role: str | None = None,
    access_list: str | None = None,
    clear_access_list: bool = False,
) -> dict[str, Any]:
    """Change a member's role and/or access list (``clear_access_list`` removes it)."""
    if role is None and access_list is None and not clear_access_list:
        raise InvalidInputError("nothing to change: give --role, --access-list or --no-access-list")
    if access_list is not None and clear_access_list:
        raise InvalidInputError("give either --access-list or --no-access-list, not both")
    new_role = _check_role(role) if role is not None else None
    async with transaction(engine) as session:
        team_row, user_ref, found = await _existing_member(session, team, user)
        member, member_role = found
        if member_role is None:
            member_role = MemberRole(member_id=member.id, team_role=new_role or "member")
            session.add(member_role)
        if new_role is not None:
            member_role.team_role = new_role
        if access_list is not None:
            member_role.access_list_id = (await resolve_access_list(session, team_row, access_list)).id
        elif clear_access_list:
            member_role.access_list_id = None
        await session.flush()
        acl = (
            await session.get(AccessList, member_role.access_list_id) if member_role.access_list_id else None
        )
    return _membership(team_row, user_ref, member, member_role.team_role, acl)


async def remove_member(engine: AsyncEngine, *, team: str, user: str) -> dict[str, Any]:
    """Remove a user from a team (their role rows go with it). The team's creator cannot be removed."""
    async with transaction(engine) as session:
        team_row, user_ref, found = await _existing_member(session, team, user)
        if team_row.user_id == user_ref.id:
            raise InvalidInputError(
                f"{user_ref.label()} created team {team_row.name!r} and cannot be removed from it"
            )
        await session.delete(found[0])
    return {"team": team_row.name, "email": user_ref.email, "user_id": str(user_ref.id), "removed": True}


async def list_members(engine: AsyncEngine, *, team: str) -> dict[str, Any]:
    """The members of a team with their role and access list."""
    async with transaction(engine) as session:
        team_row = await resolve_team(session, team)
        members = await _members(session, team_row)
    return {"team": team_row.name, "team_id": str(team_row.id), "members": members}
