"""``sqlgate migrate`` and the errors every command shares (URL missing, unreachable, not migrated)."""

from __future__ import annotations

from tests.cli.conftest import Sqlgate
from tests.cli.helpers import scalar


def test_migrate_empty_database_then_no_op(sqlgate: Sqlgate, pg_database: str) -> None:
    first = sqlgate("migrate", url=pg_database)
    assert first.code == 0, first.err
    assert first.json() | {"database": None} == {
        "database": None,
        "from": None,
        "to": "0002",
        "applied": ["0001", "0002"],
        "changed": True,
        "head": "0002",
    }
    assert scalar(pg_database, "SELECT count(*) FROM public.team_roles") == 3

    second = sqlgate("migrate", url=pg_database)
    assert second.code == 0
    assert second.json()["applied"] == [] and second.json()["changed"] is False

    text = sqlgate("migrate", url=pg_database, json=False)
    assert text.code == 0
    assert "already at the newest revision (0002); nothing to do" in text.out


def test_migrate_status(sqlgate: Sqlgate, pg_database: str) -> None:
    before = sqlgate("migrate", "--status", url=pg_database)
    assert before.code == 0
    assert before.json()["current"] is None and before.json()["up_to_date"] is False
    assert "needs: sqlgate migrate" in sqlgate("migrate", "--status", url=pg_database, json=False).out
    assert scalar(pg_database, "SELECT to_regclass('public.users') IS NULL")  # --status changed nothing
    sqlgate("migrate", url=pg_database)
    after = sqlgate("migrate", "--status", url=pg_database)
    assert after.json()["current"] == "0002" and after.json()["up_to_date"] is True


def test_migrate_text_output(sqlgate: Sqlgate, pg_database: str) -> None:
    result = sqlgate("migrate", url=pg_database, json=False)
    assert result.code == 0
    assert result.out.startswith("Migrated the metadata database postgresql://")
    assert "(applied 0001, 0002)" in result.out


def test_missing_metadata_url(sqlgate: Sqlgate) -> None:
    for argv in (["migrate"], ["users", "list"], ["teams", "list"]):
        result = sqlgate(*argv, url=None, json=False)
        assert result.code == 1
        assert result.error() == (
            "error: no metadata database given: pass --metadata-url postgresql://USER:PASSWORD@HOST:5432/DB "
            "or set SQLGATE_METADATA_URL"
        )


def test_metadata_url_from_the_environment(sqlgate: Sqlgate, metadata_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SQLGATE_METADATA_URL", metadata_url)
    result = sqlgate("users", "create", "--email", "env@example.com", url=None)
    assert result.code == 0, result.err
    assert result.json()["email"] == "env@example.com"


def test_unreachable_database_masks_the_password(sqlgate: Sqlgate) -> None:
    url = "postgresql://admin:hunter2-secret@127.0.0.1:1/meta"
    for argv in (
        ["migrate"],
        ["users", "create", "--email", "a@b.co"],
        ["credentials", "revoke", "--username", "x"],
    ):
        result = sqlgate(*argv, url=url, json=False)
        assert result.code == 1
        line = result.error()
        assert line.startswith(
            "error: cannot connect to the metadata database at postgresql://admin:***@127.0.0.1:1/meta"
        )
        assert "hunter2" not in result.err + result.out
        as_json = sqlgate(*argv, url=url)
        assert as_json.code == 1 and as_json.out == ""
        assert "hunter2" not in as_json.err
        assert as_json.err.startswith('{"error": "cannot connect to the metadata database')


def test_wrong_password_and_missing_database(sqlgate: Sqlgate, pg_server) -> None:  # type: ignore[no-untyped-def]
    missing_db = pg_server.url_for("sqlgate_no_such_database_x")
    result = sqlgate("migrate", url=missing_db, json=False)
    assert result.code == 1
    assert 'database "sqlgate_no_such_database_x" does not exist' in result.error()

    from urllib.parse import urlsplit

    parts = urlsplit(pg_server.url)
    if parts.hostname:  # a TCP server: log in as a role that does not exist
        bad_login = f"postgresql://no_such_role_x:pw-topsecret@{parts.hostname}:{parts.port or 5432}/postgres"
        result = sqlgate("users", "list", url=bad_login, json=False)
        assert result.code == 1
        assert result.error().startswith(
            "error: cannot connect to the metadata database at postgresql://no_such_role_x:***@"
        )
        assert "pw-topsecret" not in result.err


def test_not_a_postgres_url(sqlgate: Sqlgate) -> None:
    result = sqlgate("users", "list", url="mysql://root:pw@localhost/x", json=False)
    assert result.code == 1
    assert (
        result.error()
        == "error: the metadata URL must start with postgresql:// (got 'mysql://root:***@localhost/x')"
    )


def test_database_not_migrated_yet(sqlgate: Sqlgate, pg_database: str) -> None:
    result = sqlgate("teams", "list", url=pg_database, json=False)
    assert result.code == 1
    assert "does not have the Synmetrix schema" in result.error()
    assert "sqlgate migrate" in result.error()


def test_a_revision_from_a_newer_sqlgate_is_refused(sqlgate: Sqlgate, metadata_url: str) -> None:
    from tests.cli.helpers import query

    query(metadata_url, "UPDATE public.sqlgate_alembic_version SET version_num = '0099'")
    result = sqlgate("migrate", url=metadata_url, json=False)
    assert result.code == 1
    assert result.error() == (
        "error: the metadata database is at revision 0099, which this sqlgate does not know "
        "(it knows up to 0002); use a newer sqlgate"
    )
    status = sqlgate("migrate", "--status", url=metadata_url)
    assert status.json()["known"] is False and status.json()["current"] == "0099"
    assert (
        "unknown revision: made by a newer sqlgate"
        in sqlgate("migrate", "--status", url=metadata_url, json=False).out
    )
