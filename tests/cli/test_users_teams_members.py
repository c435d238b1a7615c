"""``sqlgate users``, ``teams`` and ``members``."""

from __future__ import annotations

import uuid
from typing import Any

from tests.cli.conftest import Sqlgate
from tests.cli.helpers import query, scalar


def test_users_create(sqlgate: Sqlgate, metadata_url: str) -> None:
    result = sqlgate("users", "create", "--email", "Ann.Lee@Example.com", "--display-name", "Ann Lee")
    assert result.code == 0, result.err
    created = result.json()
    uuid.UUID(created["id"])
    assert created == {"id": created["id"], "email": "Ann.Lee@Example.com", "display_name": "Ann Lee"}
    rows = query(
        metadata_url,
        "SELECT u.display_name, a.email::text AS email, a.active, a.default_role FROM public.users u "
        "JOIN auth.accounts a ON a.user_id = u.id",
    )
    assert rows == [
        {"display_name": "Ann Lee", "email": "Ann.Lee@Example.com", "active": True, "default_role": "user"}
    ]


def test_users_create_display_name_defaults_to_the_email(sqlgate: Sqlgate) -> None:
    assert (
        sqlgate("users", "create", "--email", "bob@example.com").json()["display_name"] == "bob@example.com"
    )
    text = sqlgate("users", "create", "--email", "eve@example.com", json=False)
    assert text.code == 0 and text.out.startswith("Created user eve@example.com (id ")


def test_users_create_errors(sqlgate: Sqlgate, metadata_url: str) -> None:
    assert sqlgate("users", "create", "--email", "ann@example.com").code == 0
    duplicate = sqlgate("users", "create", "--email", "ANN@example.com", json=False)
    assert duplicate.code == 1
    assert duplicate.error().startswith("error: a user with e-mail ANN@example.com already exists (id ")
    invalid = sqlgate("users", "create", "--email", "not-an-email", json=False)
    assert invalid.code == 1
    assert invalid.error() == "error: 'not-an-email' is not an e-mail address (expected name@domain.tld)"
    missing = sqlgate("users", "create", json=False)
    assert missing.code == 2 and "--email" in missing.err
    assert scalar(metadata_url, "SELECT count(*) FROM public.users") == 1


def test_users_list(sqlgate: Sqlgate, team: dict[str, Any]) -> None:
    sqlgate("users", "create", "--email", "bob@example.com")
    listed = sqlgate("users", "list").json()["users"]
    assert [(u["email"], u["teams"]) for u in listed] == [
        ("ann@example.com", [{"team": "Analytics", "role": "owner"}]),
        ("bob@example.com", []),
    ]
    text = sqlgate("users", "list", json=False).out
    assert "ann@example.com" in text and "Analytics (owner)" in text


def test_teams_create_makes_the_owner_a_member(
    sqlgate: Sqlgate, team: dict[str, Any], metadata_url: str
) -> None:
    assert team["name"] == "Analytics"
    assert team["owner"]["email"] == "ann@example.com"
    assert [(m["email"], m["role"]) for m in team["members"]] == [("ann@example.com", "owner")]
    rows = query(
        metadata_url,
        "SELECT t.user_id = u.id AS owner_is_creator, mr.team_role FROM public.teams t "
        "JOIN public.members m ON m.team_id = t.id JOIN public.member_roles mr ON mr.member_id = m.id "
        "JOIN public.users u ON u.id = m.user_id",
    )
    assert rows == [{"owner_is_creator": True, "team_role": "owner"}]


def test_teams_create_errors(sqlgate: Sqlgate, team: dict[str, Any]) -> None:
    unknown = sqlgate("teams", "create", "--name", "X", "--owner", "nobody@example.com", json=False)
    assert unknown.code == 1
    assert unknown.error() == (
        "error: no user with e-mail nobody@example.com "
        "(create one with: sqlgate users create --email nobody@example.com)"
    )
    duplicate = sqlgate("teams", "create", "--name", "Analytics", "--owner", "ann@example.com", json=False)
    assert duplicate.code == 1
    assert (
        duplicate.error() == f"error: ann@example.com already owns a team named 'Analytics' (id {team['id']})"
    )
    empty = sqlgate("teams", "create", "--name", " ", "--owner", "ann@example.com", json=False)
    assert empty.code == 1 and empty.error() == "error: the team name must not be empty"


def test_same_team_name_for_two_owners_needs_the_id(sqlgate: Sqlgate, team: dict[str, Any]) -> None:
    sqlgate("users", "create", "--email", "bob@example.com")
    other = sqlgate("teams", "create", "--name", "Analytics", "--owner", "bob@example.com").json()
    ambiguous = sqlgate("members", "list", "--team", "Analytics", json=False)
    assert ambiguous.code == 1
    assert ambiguous.error().startswith("error: 2 teams are named 'Analytics'; give the team id instead: ")
    by_id = sqlgate("members", "list", "--team", other["id"])
    assert by_id.code == 0
    assert [m["email"] for m in by_id.json()["members"]] == ["bob@example.com"]
    teams = sqlgate("teams", "list").json()["teams"]
    assert sorted(t["owner"] for t in teams) == ["ann@example.com", "bob@example.com"]


def test_teams_list(sqlgate: Sqlgate, team: dict[str, Any]) -> None:
    assert sqlgate("teams", "list").json() == {
        "teams": [
            {
                "id": team["id"],
                "name": "Analytics",
                "owner": "ann@example.com",
                "members": 1,
                "datasources": 0,
            }
        ]
    }
    assert "Analytics  ann@example.com" in sqlgate("teams", "list", json=False).out


def test_empty_lists_say_what_to_do(sqlgate: Sqlgate) -> None:
    assert "sqlgate users create" in sqlgate("users", "list", json=False).out
    assert "sqlgate teams create" in sqlgate("teams", "list", json=False).out


def test_members_add_update_remove_list(sqlgate: Sqlgate, team: dict[str, Any]) -> None:
    bob = sqlgate("users", "create", "--email", "bob@example.com").json()
    added = sqlgate("members", "add", "--team", "Analytics", "--email", "bob@example.com", "--role", "admin")
    assert added.code == 0, added.err
    assert added.json() | {"member_id": None} == {
        "member_id": None,
        "team_id": team["id"],
        "team": "Analytics",
        "user_id": bob["id"],
        "email": "bob@example.com",
        "role": "admin",
        "access_list": None,
        "access_list_id": None,
    }
    members = sqlgate("members", "list", "--team", "Analytics").json()["members"]
    assert [(m["email"], m["role"]) for m in members] == [
        ("ann@example.com", "owner"),
        ("bob@example.com", "admin"),
    ]

    updated = sqlgate(
        "members", "update", "--team", "Analytics", "--email", "bob@example.com", "--role", "member"
    )
    assert updated.json()["role"] == "member"
    text = sqlgate("members", "list", "--team", "Analytics", json=False).out
    assert "bob@example.com  member" in text

    removed = sqlgate("members", "remove", "--team", team["id"], "--email", bob["id"])
    assert removed.json() == {
        "team": "Analytics",
        "email": "bob@example.com",
        "user_id": bob["id"],
        "removed": True,
    }
    members = sqlgate("members", "list", "--team", "Analytics").json()["members"]
    assert [m["email"] for m in members] == ["ann@example.com"]


def test_members_errors(sqlgate: Sqlgate, team: dict[str, Any]) -> None:
    sqlgate("users", "create", "--email", "bob@example.com")
    add = ("members", "add", "--team", "Analytics", "--email", "bob@example.com", "--role", "member")
    assert sqlgate(*add).code == 0
    again = sqlgate(*add, json=False)
    assert again.code == 1
    assert again.error() == (
        "error: bob@example.com is already a member of team 'Analytics' (role member); "
        "change it with: sqlgate members update"
    )
    unknown_team = sqlgate(
        "members", "add", "--team", "Nope", "--email", "bob@example.com", "--role", "admin", json=False
    )
    assert unknown_team.error() == "error: no team named 'Nope' (teams: Analytics)"
    unknown_user = sqlgate(
        "members", "add", "--team", "Analytics", "--email", "x@example.com", "--role", "admin", json=False
    )
    assert unknown_user.code == 1 and "no user with e-mail x@example.com" in unknown_user.error()
    unknown_list = sqlgate(
        "members",
        "update",
        "--team",
        "Analytics",
        "--email",
        "bob@example.com",
        "--access-list",
        "Nope",
        json=False,
    )
    assert (
        unknown_list.error()
        == "error: team 'Analytics' has no access list named 'Nope' (its access lists: none yet)"
    )
    upper = sqlgate(
        "members", "update", "--team", "Analytics", "--email", "bob@example.com", "--role", "ADMIN"
    )
    assert upper.code == 0 and upper.json()["role"] == "admin"
    bad_role = sqlgate(
        "members", "add", "--team", "Analytics", "--email", "bob@example.com", "--role", "king"
    )
    assert bad_role.code == 2 and "invalid choice: 'king'" in bad_role.err
    nothing = sqlgate("members", "update", "--team", "Analytics", "--email", "bob@example.com", json=False)
    assert nothing.error() == "error: nothing to change: give --role, --access-list or --no-access-list"
    creator = sqlgate("members", "remove", "--team", "Analytics", "--email", "ann@example.com", json=False)
    assert creator.error() == "error: ann@example.com created team 'Analytics' and cannot be removed from it"
    sqlgate("users", "create", "--email", "eve@example.com")
    not_member = sqlgate("members", "remove", "--team", "Analytics", "--email", "eve@example.com", json=False)
    assert not_member.error() == "error: eve@example.com is not a member of team 'Analytics'"


def test_members_with_access_lists(sqlgate: Sqlgate, team: dict[str, Any], tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "empty.json"
    config.write_text('{"datasources": {}}')
    acl = sqlgate(
        "access-lists", "create", "--team", "Analytics", "--name", "Sales", "--config", str(config)
    ).json()
    sqlgate("users", "create", "--email", "eve@example.com")
    added = sqlgate(
        "members",
        "add",
        "--team",
        "Analytics",
        "--email",
        "eve@example.com",
        "--role",
        "member",
        "--access-list",
        "Sales",
    ).json()
    assert (added["access_list"], added["access_list_id"]) == ("Sales", acl["id"])
    text = sqlgate("members", "list", "--team", "Analytics", json=False).out
    assert "eve@example.com  member  Sales" in text
    cleared = sqlgate(
        "members", "update", "--team", "Analytics", "--email", "eve@example.com", "--no-access-list"
    )
    assert cleared.json()["access_list"] is None
    by_id = sqlgate(
        "members", "update", "--team", "Analytics", "--email", "eve@example.com", "--access-list", acl["id"]
    )
    assert by_id.json()["access_list"] == "Sales"
