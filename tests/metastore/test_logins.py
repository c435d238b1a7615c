"""The login look-ups: find_login, store_upgraded_password, active_model_version, load_model_files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlgate.auth.passwords import hash_password, is_bcrypt_hash, verify_password
from sqlgate.auth.verifier import make_verifier, parse_verifier
from sqlgate.metastore import admin
from sqlgate.metastore.engine import create_metadata_engine
from sqlgate.metastore.features import has_scram_verifier
from sqlgate.metastore.logins import (
    active_model_version,
    find_login,
    load_model_files,
    store_upgraded_password,
)
from tests.support.metadata import SeededLogin, seed_login


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _sql(engine: AsyncEngine, statement: str, **params: object) -> list[dict[str, object]]:
    async with engine.begin() as conn:
        result = await conn.execute(text(statement), params)
        return [dict(r) for r in result.mappings()] if result.returns_rows else []


async def test_find_login_returns_everything_a_login_needs(
    metadata_engine: AsyncEngine, metadata_login: SeededLogin
) -> None:
    login = await find_login(metadata_engine, metadata_login.username)
    assert login is not None
    assert login.username == metadata_login.username
    assert login.user_id == metadata_login.owner_id
    assert login.user_display_name == metadata_login.owner_email
    assert login.datasource_id == metadata_login.datasource_id
    assert login.datasource_name == "warehouse"
    assert login.db_type == "POSTGRES"
    assert login.db_params == {"host": "127.0.0.1", "port": "5432", "database": "x"}
    assert login.team_id == metadata_login.team_id
    assert login.role == "owner"
    assert (login.access_list_id, login.access_list_name, login.access_cubes) == (None, None, None)
    assert login.model_version.version_id == metadata_login.version_id
    assert login.model_version.branch_id is not None
    assert login.model_version.checksum == hashlib.md5(login_model_code(metadata_login).encode()).hexdigest()
    assert login.stored_password is not None and is_bcrypt_hash(login.stored_password)
    assert verify_password(login.stored_password, metadata_login.password).ok
    assert parse_verifier(login.scram_verifier) is not None
    # secrets stay out of the repr (it may end up in a log line)
    assert metadata_login.password not in repr(login)
    assert login.stored_password not in repr(login)


def login_model_code(seeded: SeededLogin) -> str:
    from tests.support.metadata import ORDERS_MODEL

    return ORDERS_MODEL


async def test_find_login_is_one_round_trip(
    metadata_engine: AsyncEngine, metadata_login: SeededLogin
) -> None:
    await has_scram_verifier(metadata_engine)  # detected once per engine, before
    with count_statements(metadata_engine) as statements:
        assert await find_login(metadata_engine, metadata_login.username) is not None
        assert await find_login(metadata_engine, "nobody") is None
    assert len([s for s in statements if "sql_credentials" in s]) == 2
    assert len(statements) == 2


async def test_unknown_username(metadata_engine: AsyncEngine, metadata_login: SeededLogin) -> None:
    assert await find_login(metadata_engine, "no-such-user") is None
    assert await find_login(metadata_engine, metadata_login.username.upper()) is None  # exact match


async def test_role_is_none_when_the_user_is_not_in_the_datasource_team(
    metadata_engine: AsyncEngine, metadata_login: SeededLogin
) -> None:
    await admin.create_user(metadata_engine, email="ann@example.com")
    await admin.add_member(metadata_engine, team=metadata_login.team, user="ann@example.com", role="member")
    issued = await admin.create_credential(
        metadata_engine, team=metadata_login.team, datasource="warehouse", user="ann@example.com"
    )
    await admin.remove_member(metadata_engine, team=metadata_login.team, user="ann@example.com")
    login = await find_login(metadata_engine, issued["username"])
    assert login is not None
    assert login.role is None
    assert login.access_cubes is None

    # a datasource whose team was deleted (team_id SET NULL) has no role either
    await _sql(metadata_engine, "UPDATE public.datasources SET team_id = NULL")
    login = await find_login(metadata_engine, metadata_login.username)
    assert login is not None and login.team_id is None and login.role is None


async def test_access_list_cubes_of_this_datasource(
    metadata_engine: AsyncEngine, metadata_login: SeededLogin
) -> None:
    orders = {"Orders": {"measures": ["Orders.count"], "dimensions": ["Orders.status"], "segments": []}}
    await admin.create_access_list(
        metadata_engine,
        team=metadata_login.team,
        name="Analysts",
        config={"datasources": {"warehouse": {"cubes": orders}}},
    )
    await admin.create_access_list(metadata_engine, team=metadata_login.team, name="Nothing", config={})
    await admin.create_user(metadata_engine, email="ann@example.com")
    await admin.add_member(
        metadata_engine,
        team=metadata_login.team,
        user="ann@example.com",
        role="member",
        access_list="Analysts",
    )
    issued = await admin.create_credential(
        metadata_engine, team=metadata_login.team, datasource="warehouse", user="ann@example.com"
    )
    login = await find_login(metadata_engine, issued["username"])
    assert login is not None
    assert login.role == "member"
    assert login.access_list_name == "Analysts"
    assert login.access_cubes == orders

    await admin.update_member(
        metadata_engine, team=metadata_login.team, user="ann@example.com", access_list="Nothing"
    )
    login = await find_login(metadata_engine, issued["username"])
    assert login is not None
    assert (login.access_list_name, login.access_cubes) == ("Nothing", None)


async def test_first_member_role_row_wins_deterministically(
    metadata_engine: AsyncEngine, metadata_login: SeededLogin
) -> None:
    # Synmetrix reads member_roles[0]; a second, newer row must not change the answer.
    await _sql(
        metadata_engine,
        "INSERT INTO public.member_roles (member_id, team_role, created_at) "
        "SELECT member_id, 'member', now() + interval '1 day' FROM public.member_roles",
    )
    for _ in range(3):
        login = await find_login(metadata_engine, metadata_login.username)
        assert login is not None and login.role == "owner"


async def test_newest_version_of_the_active_branch(
    metadata_engine: AsyncEngine, metadata_login: SeededLogin
) -> None:
    sources = [admin.ModelSource("Users.yml", "Users.yml", "cubes:\n  - name: Users\n    sql_table: users\n")]
    newer = await admin.push_model_sources(
        metadata_engine, team=metadata_login.team, datasource="warehouse", sources=sources
    )
    dev = await admin.push_model_sources(
        metadata_engine, team=metadata_login.team, datasource="warehouse", sources=sources, branch="dev"
    )
    assert dev["branch_status"] == "created"
    version = await active_model_version(metadata_engine, metadata_login.datasource_id)
    assert version.version_id == newer["version_id"]
    assert version.branch_id == newer["branch_id"]
    assert version.checksum == newer["checksum"]
    login = await find_login(metadata_engine, metadata_login.username)
    assert login is not None and login.model_version == version

    files = await load_model_files(metadata_engine, newer["version_id"])
    assert [(f.name, f.code) for f in files] == [("Users.yml", sources[0].code)]
    old_files = await load_model_files(metadata_engine, metadata_login.version_id)
    assert [f.name for f in old_files] == ["Orders.yml"]


async def test_empty_version_checksum_falls_back_to_a_digest_of_the_files(
    metadata_engine: AsyncEngine, metadata_login: SeededLogin
) -> None:
    await _sql(metadata_engine, "UPDATE public.versions SET checksum = ''")
    first = await active_model_version(metadata_engine, metadata_login.datasource_id)
    assert len(first.checksum) == 32
    await _sql(metadata_engine, "UPDATE public.dataschemas SET code = code || '\n# changed'")
    assert (
        await active_model_version(metadata_engine, metadata_login.datasource_id)
    ).checksum != first.checksum


async def test_datasource_without_model(metadata_engine: AsyncEngine, metadata_login: SeededLogin) -> None:
    ds = await admin.create_datasource(
        metadata_engine, team=metadata_login.team, name="empty", url="postgresql://u@h/db"
    )
    version = await active_model_version(metadata_engine, ds["id"])
    assert (version.version_id, version.branch_id, version.checksum) == (None, None, "")
    # an active branch without any version yet: the branch, no version
    await _sql(
        metadata_engine,
        "INSERT INTO public.branches (name, user_id, datasource_id, status) "
        "SELECT 'main', user_id, id, 'active' FROM public.datasources WHERE id = CAST(:id AS uuid)",
        id=ds["id"],
    )
    version = await active_model_version(metadata_engine, ds["id"])
    assert version.version_id is None and version.branch_id is not None and version.checksum == ""
    assert await load_model_files(metadata_engine, "00000000-0000-0000-0000-000000000000") == []


async def test_store_upgraded_password_is_conditional(
    metadata_engine: AsyncEngine, metadata_login: SeededLogin
) -> None:
    await _sql(
        metadata_engine,
        "UPDATE public.sql_credentials SET password = 'legacy-plain', scram_verifier = NULL",
    )
    login = await find_login(metadata_engine, metadata_login.username)
    assert login is not None and login.stored_password == "legacy-plain" and login.scram_verifier is None
    check = verify_password(login.stored_password, "legacy-plain")
    assert check.ok and check.needs_upgrade

    new_hash, verifier = hash_password("legacy-plain"), make_verifier("legacy-plain")
    # someone changed the password meanwhile: nothing is written
    assert not await store_upgraded_password(
        metadata_engine, login.credential_id, "other", new_hash, verifier
    )
    assert await store_upgraded_password(
        metadata_engine, login.credential_id, "legacy-plain", new_hash, verifier
    )
    # a second upgrade racing the first finds the hash, not the plain text, and does nothing
    assert not await store_upgraded_password(
        metadata_engine, login.credential_id, "legacy-plain", new_hash, verifier
    )

    login = await find_login(metadata_engine, metadata_login.username)
    assert login is not None
    assert login.stored_password == new_hash and login.scram_verifier == verifier
    check = verify_password(login.stored_password, "legacy-plain")
    assert check.ok and not check.needs_upgrade


async def test_everything_works_without_the_scram_column(metadata_url: str) -> None:
    """A Synmetrix database sqlgate did not migrate has no scram_verifier column."""
    engine = create_metadata_engine(metadata_url)
    try:
        await _sql(engine, "ALTER TABLE public.sql_credentials DROP COLUMN scram_verifier")
        assert not await has_scram_verifier(engine)
        seeded = await seed_login(engine)
        login = await find_login(engine, seeded.username)
        assert login is not None and login.scram_verifier is None
        assert verify_password(login.stored_password, seeded.password).ok
        rotated = await admin.rotate_credential(engine, username=seeded.username)
        login = await find_login(engine, seeded.username)
        assert login is not None and verify_password(login.stored_password, rotated["password"]).ok
        assert await store_upgraded_password(
            engine, login.credential_id, login.stored_password, hash_password("x"), make_verifier("x")
        )
        listed = await admin.list_credentials(engine, team=seeded.team)
        assert [c["username"] for c in listed["credentials"]] == [seeded.username]
    finally:
        await engine.dispose()


async def test_unix_socket_url(metadata_url: str) -> None:
    """The engine accepts libpq URLs with ?host=/socket/dir (the embedded server only has those)."""
    from urllib.parse import urlsplit

    parts = urlsplit(metadata_url)
    socket_url = metadata_url  # the embedded server's URLs are unix-socket URLs already
    if parts.hostname is not None:
        tcp = create_metadata_engine(metadata_url)
        try:
            async with tcp.connect() as conn:
                directories = (await conn.execute(text("SHOW unix_socket_directories"))).scalar()
        finally:
            await tcp.dispose()
        directory = str(directories).split(",")[0].strip()
        socket_url = f"postgresql://{parts.username}:@/{parts.path.lstrip('/')}?host={directory}"
    engine = create_metadata_engine(socket_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM public.team_roles"))).scalar() == 3
    finally:
        await engine.dispose()
