"""Find teams, users, datasources and access lists by name (within the team) or by id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sqlgate.metastore.admin.errors import InvalidInputError, NotFoundError
from sqlgate.metastore.models import AccessList, Account, Datasource, Member, MemberRole, Team, User

_SHOWN_CHOICES = 10
_TeamOwned = TypeVar("_TeamOwned", Datasource, AccessList)


def as_uuid(ref: str) -> uuid.UUID | None:
    """``ref`` as a UUID when it is written as one, else None."""
    try:
        return uuid.UUID(ref.strip())
    except (ValueError, AttributeError):
        return None


def _choices(names: list[str]) -> str:
    if not names:
        return "none yet"
    shown = ", ".join(sorted(names)[:_SHOWN_CHOICES])
    return shown + (f" and {len(names) - _SHOWN_CHOICES} more" if len(names) > _SHOWN_CHOICES else "")


def _required(ref: str | None, what: str) -> str:
    if ref is None or not ref.strip():
        raise InvalidInputError(f"{what} must not be empty")
    return ref.strip()


@dataclass(frozen=True, slots=True)
class UserRef:
    """A user with the e-mail of their account (None when they have no account)."""

    id: uuid.UUID
    email: str | None
    display_name: str | None

    def label(self) -> str:
        return self.email or str(self.id)

    def as_dict(self) -> dict[str, str | None]:
        return {"id": str(self.id), "email": self.email, "display_name": self.display_name}


async def resolve_user(session: AsyncSession, ref: str) -> UserRef:
    """A user by e-mail (case-insensitive) or id."""
    ref = _required(ref, "the user e-mail")
    query = select(User.id, Account.email, User.display_name).outerjoin(Account, Account.user_id == User.id)
    user_id = as_uuid(ref)
    query = query.where(User.id == user_id) if user_id else query.where(Account.email == ref)
    row = (await session.execute(query)).first()
    if row is None:
        if user_id:
            raise NotFoundError(f"no user with id {ref}")
        raise NotFoundError(
            f"no user with e-mail {ref} (create one with: sqlgate users create --email {ref})"
        )
    return UserRef(row.id, row.email, row.display_name)


async def resolve_team(session: AsyncSession, ref: str) -> Team:
    """A team by id or name; a name shared by teams of different owners must be given as an id."""
    ref = _required(ref, "the team name")
    team_id = as_uuid(ref)
    if team_id:
        team = await session.get(Team, team_id)
        if team is None:
            raise NotFoundError(f"no team with id {ref}")
        return team
    teams = list((await session.execute(select(Team).where(Team.name == ref))).scalars())
    if not teams:
        names = list((await session.execute(select(Team.name))).scalars())
        raise NotFoundError(f"no team named {ref!r} (teams: {_choices(names)})")
    if len(teams) > 1:
        ids = ", ".join(sorted(str(t.id) for t in teams))
        raise InvalidInputError(f"{len(teams)} teams are named {ref!r}; give the team id instead: {ids}")
    return teams[0]


async def resolve_datasource(session: AsyncSession, team: Team, ref: str) -> Datasource:
    """A datasource of ``team`` by name or id."""
    return await _resolve_in_team(session, team, Datasource, ref, what="datasource", plural="datasources")


async def resolve_access_list(session: AsyncSession, team: Team, ref: str) -> AccessList:
    """An access list of ``team`` by name or id."""
    return await _resolve_in_team(session, team, AccessList, ref, what="access list", plural="access lists")


async def _resolve_in_team(
    session: AsyncSession, team: Team, model: type[_TeamOwned], ref: str, *, what: str, plural: str
) -> _TeamOwned:
    """A row of ``model`` (a table with ``team_id`` and ``name``) in ``team``, by name or id."""
    ref = _required(ref, f"the {what} name")
    row_id = as_uuid(ref)
    query = select(model).where(model.team_id == team.id)
    query = query.where(model.id == row_id) if row_id else query.where(model.name == ref)
    found = list((await session.execute(query.order_by(model.created_at))).scalars())
    if not found:
        names = list((await session.execute(select(model.name).where(model.team_id == team.id))).scalars())
        label = f"with id {ref}" if row_id else f"named {ref!r}"
        raise NotFoundError(f"team {team.name!r} has no {what} {label} (its {plural}: {_choices(names)})")
    if len(found) > 1:
        ids = ", ".join(str(row.id) for row in found)
        raise InvalidInputError(
            f"team {team.name!r} has {len(found)} {plural} named {ref!r}; give the id instead: {ids}"
        )
    return found[0]


async def find_member(
    session: AsyncSession, team: Team, user: UserRef
) -> tuple[Member, MemberRole | None] | None:
    """The user's membership of the team and its first role row (Synmetrix's member_roles[0])."""
    member = (
        await session.execute(select(Member).where(Member.team_id == team.id, Member.user_id == user.id))
    ).scalar_one_or_none()
    if member is None:
        return None
    role = (
        await session.execute(
            select(MemberRole)
            .where(MemberRole.member_id == member.id)
            .order_by(MemberRole.created_at.asc().nulls_last(), MemberRole.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    return member, role
