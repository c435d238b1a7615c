"""``sqlgate credentials``: issue, list, rotate, revoke; only bcrypt hashes are stored."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from sqlgate.auth.passwords import is_bcrypt_hash, verify_password
from sqlgate.auth.verifier import parse_verifier
from sqlgate.metastore.engine import create_metadata_engine
from sqlgate.metastore.logins import find_login
from tests.cli.conftest import Sqlgate
from tests.cli.helpers import query, scalar


def _stored(url: str, username: str) -> dict[str, Any]:
    rows = query(
        url,
        "SELECT password, scram_verifier, user_id::text AS user_id, datasource_id::text AS datasource_id "
        "FROM public.sql_credentials WHERE username = $1",
        username,
    )
    assert len(rows) == 1
    return rows[0]


def _login(url: str, username: str) -> Any:
    async def look_up() -> Any:
        engine = create_metadata_engine(url)
        try:
            return await find_login(engine, username)
        finally:
            await engine.dispose()

    return asyncio.run(look_up())


def test_create_generates_username_and_password(
    sqlgate: Sqlgate, datasource: dict[str, Any], team: dict[str, Any], metadata_url: str
) -> None:
    result = sqlgate(
        "credentials", "create", "--team", "Analytics", "--datasource", "shop", "--email", "ann@example.com"
    )
    assert result.code == 0, result.err
    issued = result.json()
    assert set(issued) == {"username", "password", "url"}
    assert re.fullmatch(r"[0-9a-z]{10}", issued["username"])
    assert len(issued["password"]) >= 24 and issued["password"].isalnum()
    assert issued["url"] == f"postgresql://{issued['username']}:{issued['password']}@127.0.0.1:15432/db"

    stored = _stored(metadata_url, issued["username"])
    assert is_bcrypt_hash(stored["password"]) and stored["password"] != issued["password"]
    assert verify_password(stored["password"], issued["password"]).ok
    assert parse_verifier(stored["scram_verifier"]) is not None
    assert stored["user_id"] == team["owner"]["id"] and stored["datasource_id"] == datasource["id"]
    assert issued["password"] not in str(query(metadata_url, "SELECT * FROM public.sql_credentials"))

    login = _login(metadata_url, issued["username"])
    assert login is not None and login.role == "owner" and login.datasource_id == datasource["id"]


def test_create_with_given_username_and_password_quotes_the_url(
    sqlgate: Sqlgate, datasource: dict[str, Any], monkeypatch: pytest.MonkeyPatch, metadata_url: str
) -> None:
    monkeypatch.setenv("SQLGATE_PUBLIC_HOST", "sql.example.com")
    monkeypatch.setenv("SQLGATE_PUBLIC_PORT", "5439")
    result = sqlgate(
        "credentials", "create", "--team", "Analytics", "--datasource", datasource["id"],
        "--email", "ann@example.com", "--username", "ann.lee", "--password", "p@ss w:rd/1?",
    )  # fmt: skip
    assert result.code == 0, result.err
    issued = result.json()
    assert issued == {
        "username": "ann.lee",
        "password": "p@ss w:rd/1?",
        "url": "postgresql://ann.lee:p%40ss%20w%3Ard%2F1%3F@sql.example.com:5439/db",
    }
    parts = urlsplit(issued["url"])
    assert unquote(parts.password or "") == "p@ss w:rd/1?" and parts.port == 5439
    assert verify_password(_stored(metadata_url, "ann.lee")["password"], "p@ss w:rd/1?").ok


def test_create_password_from_stdin(
    sqlgate: Sqlgate, datasource: dict[str, Any], monkeypatch: pytest.MonkeyPatch, metadata_url: str
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("from stdin passphrase\n"))
    result = sqlgate(
        "credentials", "create", "--team", "Analytics", "--datasource", "shop", "--email", "ann@example.com",
        "--password", "-", json=False,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "password: from stdin passphrase" in result.out
    assert "This is the only time the password is shown" in result.out
    username = re.search(r"username: (\S+)", result.out).group(1)  # type: ignore[union-attr]
    assert verify_password(_stored(metadata_url, username)["password"], "from stdin passphrase").ok


def test_create_errors(sqlgate: Sqlgate, datasource: dict[str, Any], metadata_url: str) -> None:
    def create(*args: str, email: str = "ann@example.com", ds: str = "shop") -> str:
        result = sqlgate(
            "credentials",
            "create",
            "--team",
            "Analytics",
            "--datasource",
            ds,
            "--email",
            email,
            *args,
            json=False,
        )
        assert result.code == 1, result.out
        return result.error()

    sqlgate("users", "create", "--email", "zed@example.com")
    assert create(email="zed@example.com") == (
        "error: zed@example.com is not a member of team 'Analytics', which owns datasource 'shop'; "
        "add them first: sqlgate members add --team Analytics --email zed@example.com --role member"
    )
    assert create(email="nobody@example.com").startswith("error: no user with e-mail nobody@example.com")
    assert (
        create(ds="nope") == "error: team 'Analytics' has no datasource named 'nope' (its datasources: shop)"
    )
    assert create("--username", "has space") == (
        "error: the username must be 1 to 63 printable characters without spaces"
    )
    assert create("--password", "") == "error: the password must not be empty"
    assert create("--password", "x" * 73) == "error: the password is longer than 72 bytes (bcrypt's limit)"
    assert sqlgate(
        "credentials", "create", "--team", "Analytics", "--datasource", "shop", "--email", "ann@example.com",
        "--username", "taken",
    ).code == 0  # fmt: skip
    assert create("--username", "taken") == "error: the username taken is already taken"
    assert scalar(metadata_url, "SELECT count(*) FROM public.sql_credentials") == 1


def test_list_never_shows_passwords_or_hashes(
    sqlgate: Sqlgate, datasource: dict[str, Any], metadata_url: str
) -> None:
    issued = sqlgate(
        "credentials", "create", "--team", "Analytics", "--datasource", "shop", "--email", "ann@example.com"
    ).json()
    # a legacy Synmetrix row with a plain-text password
    query(
        metadata_url,
        "INSERT INTO public.sql_credentials (datasource_id, user_id, username, password) "
        "SELECT datasource_id, user_id, 'legacy_user', 'legacy-plain-pw' FROM public.sql_credentials",
    )
    stored_hash = _stored(metadata_url, issued["username"])["password"]
    listed = sqlgate("credentials", "list", "--team", "Analytics")
    text = sqlgate("credentials", "list", "--team", "Analytics", json=False)
    for output in (listed.out, text.out):
        for secret in (issued["password"], stored_hash, "legacy-plain-pw", "scram", "SCRAM"):
            assert secret not in output
    rows = {c["username"]: c for c in listed.json()["credentials"]}
    assert set(rows) == {issued["username"], "legacy_user"}
    assert rows[issued["username"]]["password_storage"] == "bcrypt"
    assert rows["legacy_user"]["password_storage"] == "plain text (legacy)"
    assert rows["legacy_user"]["email"] == "ann@example.com" and rows["legacy_user"]["datasource"] == "shop"
    assert set(rows["legacy_user"]) == {
        "id", "username", "datasource", "datasource_id", "email", "user_id", "password_storage", "created_at",
    }  # fmt: skip
    assert issued["username"] in text.out and "legacy_user" in text.out


def test_list_filtered_by_datasource(sqlgate: Sqlgate, datasource: dict[str, Any]) -> None:
    sqlgate("datasources", "create", "--team", "Analytics", "--name", "other", "--url", "duckdb::memory:")
    for ds in ("shop", "other"):
        sqlgate(
            "credentials", "create", "--team", "Analytics", "--datasource", ds, "--email", "ann@example.com"
        )
    only = sqlgate("credentials", "list", "--team", "Analytics", "--datasource", "other").json()[
        "credentials"
    ]
    assert [c["datasource"] for c in only] == ["other"]
    empty = sqlgate("credentials", "list", "--team", "Analytics", "--datasource", "nope", json=False)
    assert empty.code == 1
    no_creds = sqlgate("credentials", "list", "--team", "Nope", json=False)
    assert no_creds.error() == "error: no team named 'Nope' (teams: Analytics)"


def test_rotate(sqlgate: Sqlgate, datasource: dict[str, Any], metadata_url: str) -> None:
    issued = sqlgate(
        "credentials", "create", "--team", "Analytics", "--datasource", "shop", "--email", "ann@example.com"
    ).json()
    before = _stored(metadata_url, issued["username"])
    rotated = sqlgate("credentials", "rotate", "--username", issued["username"])
    assert rotated.code == 0, rotated.err
    new = rotated.json()
    assert set(new) == {"username", "password", "url"}
    assert new["username"] == issued["username"] and new["password"] != issued["password"]
    after = _stored(metadata_url, issued["username"])
    assert after["password"] != before["password"] and after["scram_verifier"] != before["scram_verifier"]
    assert verify_password(after["password"], new["password"]).ok
    assert not verify_password(after["password"], issued["password"]).ok

    chosen = sqlgate(
        "credentials", "rotate", "--username", issued["username"], "--password", "chosen-pw", json=False
    )
    assert chosen.code == 0 and "password: chosen-pw" in chosen.out
    assert verify_password(_stored(metadata_url, issued["username"])["password"], "chosen-pw").ok

    unknown = sqlgate("credentials", "rotate", "--username", "nobody", json=False)
    assert unknown.code == 1 and unknown.error() == "error: no credential with username 'nobody'"


def test_revoke(sqlgate: Sqlgate, datasource: dict[str, Any], metadata_url: str) -> None:
    issued = sqlgate(
        "credentials", "create", "--team", "Analytics", "--datasource", "shop", "--email", "ann@example.com"
    ).json()
    revoked = sqlgate("credentials", "revoke", "--username", issued["username"])
    assert revoked.json() == {"username": issued["username"], "revoked": True}
    assert scalar(metadata_url, "SELECT count(*) FROM public.sql_credentials") == 0
    assert _login(metadata_url, issued["username"]) is None
    again = sqlgate("credentials", "revoke", "--username", issued["username"], json=False)
    assert again.code == 1 and again.error() == f"error: no credential with username '{issued['username']}'"
    text = sqlgate("credentials", "list", "--team", "Analytics", json=False)
    assert "has no SQL credentials" in text.out


def test_credential_for_an_admin_member_by_ids(
    sqlgate: Sqlgate, datasource: dict[str, Any], team: dict[str, Any]
) -> None:
    bob = sqlgate("users", "create", "--email", "bob@example.com").json()
    sqlgate("members", "add", "--team", team["id"], "--email", bob["id"], "--role", "admin")
    issued = sqlgate(
        "credentials", "create", "--team", team["id"], "--datasource", datasource["id"], "--email", bob["id"]
    )
    assert issued.code == 0, issued.err
    listed = sqlgate("credentials", "list", "--team", "Analytics").json()["credentials"]
    assert [(c["email"], c["user_id"]) for c in listed] == [("bob@example.com", bob["id"])]
