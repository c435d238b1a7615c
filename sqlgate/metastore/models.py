"""SQLAlchemy 2.0 models of the Synmetrix metadata schema (as created by ``migrations/``).

The migrations, not these models, define the schema: the models describe it for queries and admin
operations and are never used to create tables. Server-side defaults (``gen_random_uuid()``, ``now()``)
are declared as ``server_default`` so that inserts through the ORM leave them to the database.

``SqlCredential.scram_verifier`` is sqlgate's own column (revision 0002). It is *deferred*: a plain
``select(SqlCredential)`` does not read it, so the models keep working on a Synmetrix database that
has not been migrated by sqlgate. Read or write it only when
:func:`sqlgate.metastore.features.has_scram_verifier` says the column exists.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, MetaData, Text, text
from sqlalchemy.dialects.postgresql import CITEXT, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of every metadata table."""

    metadata = MetaData()
    type_annotation_map = {
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
        str: Text,
        datetime: DateTime(timezone=True),
    }


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))


def _now(nullable: bool = False) -> Mapped[datetime]:
    return mapped_column(nullable=nullable, server_default=text("now()"))


def _fk(target: str, nullable: bool = False) -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey(target), nullable=nullable)


class _Stamped:
    """``created_at``/``updated_at`` (the latter maintained by a trigger)."""

    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


# ---------------------------------------------------------------------------------------------- auth


class User(_Stamped, Base):
    """``public.users``: a person; their e-mail lives in :class:`Account`."""

    __tablename__ = "users"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    display_name: Mapped[str | None]
    avatar_url: Mapped[str | None]

    account: Mapped[Account | None] = relationship(back_populates="user", uselist=False)


class Provider(Base):
    """``auth.providers`` (enum table of OAuth providers)."""

    __tablename__ = "providers"
    __table_args__ = {"schema": "auth"}

    provider: Mapped[str] = mapped_column(primary_key=True)


class Role(Base):
    """``auth.roles`` (enum table of web roles: user, anonymous, me)."""

    __tablename__ = "roles"
    __table_args__ = {"schema": "auth"}

    role: Mapped[str] = mapped_column(primary_key=True)


class Account(_Stamped, Base):
    """``auth.accounts``: the web-login account of a user (not used by the SQL API)."""

    __tablename__ = "accounts"
    __table_args__ = {"schema": "auth"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("public.users.id"), unique=True)
    active: Mapped[bool] = mapped_column(server_default=text("false"))
    email: Mapped[str | None] = mapped_column(CITEXT, unique=True)
    new_email: Mapped[str | None] = mapped_column(CITEXT, unique=True)
    password_hash: Mapped[str | None]
    default_role: Mapped[str] = mapped_column(ForeignKey("auth.roles.role"), server_default=text("'user'"))
    is_anonymous: Mapped[bool] = mapped_column(server_default=text("false"))
    custom_register_data: Mapped[dict[str, Any] | None]
    otp_secret: Mapped[str | None]
    mfa_enabled: Mapped[bool] = mapped_column(server_default=text("false"))
    ticket: Mapped[uuid.UUID] = mapped_column(server_default=text("gen_random_uuid()"))
    ticket_expires_at: Mapped[datetime] = _now()

    user: Mapped[User] = relationship(back_populates="account")


class AccountProvider(_Stamped, Base):
    """``auth.account_providers``: an OAuth identity of an account."""

    __tablename__ = "account_providers"
    __table_args__ = {"schema": "auth"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID] = _fk("auth.accounts.id")
    auth_provider: Mapped[str] = mapped_column(ForeignKey("auth.providers.provider"))
    auth_provider_unique_id: Mapped[str]


class RefreshToken(Base):
    """``auth.refresh_tokens``."""

    __tablename__ = "refresh_tokens"
    __table_args__ = {"schema": "auth"}

    refresh_token: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime]
    account_id: Mapped[uuid.UUID] = _fk("auth.accounts.id")


class AccountRole(Base):
    """``auth.account_roles``: extra web roles of an account."""

    __tablename__ = "account_roles"
    __table_args__ = {"schema": "auth"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    created_at: Mapped[datetime] = _now()
    account_id: Mapped[uuid.UUID] = _fk("auth.accounts.id")
    role: Mapped[str] = mapped_column(ForeignKey("auth.roles.role"))


# -------------------------------------------------------------------------------------- teams & roles


class Team(_Stamped, Base):
    """``public.teams``; ``user_id`` is the creator (owner)."""

    __tablename__ = "teams"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str]
    user_id: Mapped[uuid.UUID] = _fk("public.users.id")

    owner: Mapped[User] = relationship()
    members: Mapped[list[Member]] = relationship(
        back_populates="team", cascade="all, delete-orphan", passive_deletes=True
    )


class TeamRole(Base):
    """``public.team_roles`` (enum table: owner, admin, member)."""

    __tablename__ = "team_roles"
    __table_args__ = {"schema": "public"}

    name: Mapped[str] = mapped_column(primary_key=True)


class Member(_Stamped, Base):
    """``public.members``: a user in a team (unique per user and team)."""

    __tablename__ = "members"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _fk("public.users.id")
    team_id: Mapped[uuid.UUID] = _fk("public.teams.id")

    user: Mapped[User] = relationship()
    team: Mapped[Team] = relationship(back_populates="members")
    # The database cascades deletes (member_roles.member_id ON DELETE CASCADE); let it.
    roles: Mapped[list[MemberRole]] = relationship(
        back_populates="member",
        order_by="MemberRole.created_at",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class AccessList(_Stamped, Base):
    """``public.access_lists``: ``config = {"datasources": {<id>: {"cubes": {...}}}}``."""

    __tablename__ = "access_lists"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    config: Mapped[dict[str, Any]] = mapped_column(server_default=text("jsonb_build_object()"))
    name: Mapped[str] = mapped_column(server_default=text("'Empty access list'"))
    team_id: Mapped[uuid.UUID] = _fk("public.teams.id")


class MemberRole(Base):
    """``public.member_roles``: a member's team role and optional access list (one row in practice)."""

    __tablename__ = "member_roles"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    member_id: Mapped[uuid.UUID] = _fk("public.members.id")
    team_role: Mapped[str] = mapped_column(ForeignKey("public.team_roles.name"))
    access_list_id: Mapped[uuid.UUID | None] = _fk("public.access_lists.id", nullable=True)
    created_at: Mapped[datetime | None] = _now(nullable=True)
    updated_at: Mapped[datetime | None] = _now(nullable=True)

    member: Mapped[Member] = relationship(back_populates="roles")
    access_list: Mapped[AccessList | None] = relationship()


# -------------------------------------------------------------------------------- datasources & models


class Datasource(_Stamped, Base):
    """``public.datasources``: ``db_type`` upper-case, ``db_params`` holds the plain DB password."""

    __tablename__ = "datasources"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _fk("public.users.id")
    name: Mapped[str]
    db_type: Mapped[str]
    db_params: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    team_id: Mapped[uuid.UUID | None] = _fk("public.teams.id", nullable=True)


class BranchStatus(Base):
    """``public.branch_statuses`` (enum table: active, created, archived)."""

    __tablename__ = "branch_statuses"
    __table_args__ = {"schema": "public"}

    status: Mapped[str] = mapped_column(primary_key=True)


class Branch(_Stamped, Base):
    """``public.branches``: at most one ``active`` branch per datasource is served."""

    __tablename__ = "branches"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(server_default=text("'main'"))
    user_id: Mapped[uuid.UUID] = _fk("public.users.id")
    datasource_id: Mapped[uuid.UUID] = _fk("public.datasources.id")
    status: Mapped[str] = mapped_column(
        ForeignKey("public.branch_statuses.status"), server_default=text("'created'")
    )


class Version(_Stamped, Base):
    """``public.versions``: an immutable full snapshot of a branch's model files."""

    __tablename__ = "versions"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    branch_id: Mapped[uuid.UUID] = _fk("public.branches.id")
    checksum: Mapped[str]
    user_id: Mapped[uuid.UUID] = _fk("public.users.id")
    markdown_doc: Mapped[str | None]


class Dataschema(_Stamped, Base):
    """``public.dataschemas``: one model file (``name`` like ``Orders.yml``) of a version."""

    __tablename__ = "dataschemas"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _fk("public.users.id")
    datasource_id: Mapped[uuid.UUID] = _fk("public.datasources.id")
    name: Mapped[str]
    code: Mapped[str]
    checksum: Mapped[str | None]  # set by a trigger: md5(name || '-' || code)
    version_id: Mapped[uuid.UUID | None] = _fk("public.versions.id", nullable=True)


class SqlCredential(_Stamped, Base):
    """``public.sql_credentials``: a SQL API login (``username`` globally unique)."""

    __tablename__ = "sql_credentials"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    datasource_id: Mapped[uuid.UUID] = _fk("public.datasources.id")
    user_id: Mapped[uuid.UUID] = _fk("public.users.id")
    username: Mapped[str] = mapped_column(unique=True)
    # bcrypt hash (sqlgate) or legacy plain text (Synmetrix); NULL means the login cannot be used.
    password: Mapped[str | None]
    # sqlgate's column (revision 0002); deferred so that it is never read unless asked for.
    scram_verifier: Mapped[str | None] = mapped_column(deferred=True)


# ------------------------------------------------------------------------ explorations, reports, logs


class Exploration(_Stamped, Base):
    """``public.explorations``: a saved Explore query (``user_id`` has no foreign key)."""

    __tablename__ = "explorations"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID]
    datasource_id: Mapped[uuid.UUID] = _fk("public.datasources.id")
    playground_state: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    playground_settings: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    branch_id: Mapped[uuid.UUID | None] = _fk("public.branches.id", nullable=True)


class Report(_Stamped, Base):
    """``public.reports``: scheduled deliveries of an exploration."""

    __tablename__ = "reports"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _fk("public.users.id")
    team_id: Mapped[uuid.UUID | None] = _fk("public.teams.id", nullable=True)
    exploration_id: Mapped[uuid.UUID] = _fk("public.explorations.id")
    name: Mapped[str]
    schedule: Mapped[str]
    delivery_type: Mapped[str]
    delivery_config: Mapped[dict[str, Any]]


class Alert(_Stamped, Base):
    """``public.alerts``: threshold checks on an exploration."""

    __tablename__ = "alerts"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _fk("public.users.id")
    team_id: Mapped[uuid.UUID | None] = _fk("public.teams.id", nullable=True)
    exploration_id: Mapped[uuid.UUID] = _fk("public.explorations.id")
    name: Mapped[str]
    delivery_type: Mapped[str]
    delivery_config: Mapped[dict[str, Any]]
    trigger_config: Mapped[dict[str, Any]]
    schedule: Mapped[str]
    locks_config: Mapped[dict[str, Any]] = mapped_column(server_default=text("jsonb_build_object()"))


class Dashboard(_Stamped, Base):
    """``public.dashboards`` (``user_id`` has no foreign key)."""

    __tablename__ = "dashboards"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID]
    name: Mapped[str]
    layout: Mapped[dict[str, Any] | None]
    team_id: Mapped[uuid.UUID | None] = _fk("public.teams.id", nullable=True)


class PinnedItem(_Stamped, Base):
    """``public.pinned_items``: an exploration pinned to a dashboard."""

    __tablename__ = "pinned_items"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID]
    dashboard_id: Mapped[uuid.UUID] = _fk("public.dashboards.id")
    exploration_id: Mapped[uuid.UUID] = _fk("public.explorations.id")
    name: Mapped[str]
    spec: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    spec_config: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


class Event(_Stamped, Base):
    """``public.events``: UI analytics."""

    __tablename__ = "events"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    data: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    page_context: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    device_context: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    user: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


class RequestLog(_Stamped, Base):
    """``public.request_logs``: one API request (filled from Cube's log stream in Synmetrix)."""

    __tablename__ = "request_logs"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    request_id: Mapped[str] = mapped_column(unique=True)
    user_id: Mapped[uuid.UUID] = _fk("public.users.id")
    datasource_id: Mapped[uuid.UUID] = _fk("public.datasources.id")
    start_time: Mapped[datetime]
    end_time: Mapped[datetime]
    path: Mapped[str | None]


class RequestEventLog(_Stamped, Base):
    """``public.request_event_logs``: the events of a request."""

    __tablename__ = "request_event_logs"
    __table_args__ = {"schema": "public"}

    id: Mapped[uuid.UUID] = _uuid_pk()
    request_id: Mapped[str] = mapped_column(ForeignKey("public.request_logs.request_id"))
    event: Mapped[str]
    duration: Mapped[Decimal | None]
    queue_prefix: Mapped[str | None]
    time_in_queue: Mapped[Decimal | None]
    path: Mapped[str | None]
    query_key: Mapped[list[Any] | None] = mapped_column(server_default=text("jsonb_build_array()"))
    query_key_md5: Mapped[str | None]
    query: Mapped[dict[str, Any] | None]
    query_sql: Mapped[str | None]
    timestamp: Mapped[datetime | None]
    error: Mapped[str | None]


__all__ = [
    "AccessList",
    "Account",
    "AccountProvider",
    "AccountRole",
    "Alert",
    "Base",
    "Branch",
    "BranchStatus",
    "Dashboard",
    "Dataschema",
    "Datasource",
    "Event",
    "Exploration",
    "Member",
    "MemberRole",
    "PinnedItem",
    "Provider",
    "RefreshToken",
    "Report",
    "RequestEventLog",
    "RequestLog",
    "Role",
    "SqlCredential",
    "Team",
    "TeamRole",
    "User",
    "Version",
]
