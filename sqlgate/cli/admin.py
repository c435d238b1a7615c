"""Admin commands: users, teams, members, access lists, datasources, models and SQL credentials.

Each command resolves names the way the operations in :mod:`sqlgate.metastore.admin` do (teams by
name or id; datasources and access lists by name or id within their team; users by e-mail or id),
prints readable text or, with ``--json``, one JSON object, and fails with one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlgate.cli.main import CliError, add_common_options
from sqlgate.cli.model_check import validate_for_push
from sqlgate.cli.output import fields, table, wrap
from sqlgate.cli.runner import run_metadata_operation, warn
from sqlgate.metastore import admin
from sqlgate.metastore.admin.access_lists import parse_json

Handler = Callable[[argparse.Namespace], Any]
Formatter = Callable[[dict[str, Any]], str]

DB_TYPES_HELP = ", ".join(admin.SYNMETRIX_DB_TYPES)


def _group(
    subparsers: argparse._SubParsersAction, name: str, help_text: str, description: str
) -> argparse._SubParsersAction:
    parser = subparsers.add_parser(
        name,
        help=help_text,
        description=wrap(description),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest=f"{name}_action", metavar="ACTION", title="actions")
    actions.required = True
    return actions


def _command(
    actions: argparse._SubParsersAction,
    name: str,
    help_text: str,
    *,
    description: str | None = None,
    examples: str | None = None,
) -> argparse.ArgumentParser:
    return actions.add_parser(
        name,
        help=help_text,
        description=wrap(description or help_text[:1].upper() + help_text[1:] + "."),
        epilog=("examples:\n" + examples) if examples else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _finish(parser: argparse.ArgumentParser, handler: Handler, text: Formatter) -> None:
    add_common_options(parser)
    parser.set_defaults(handler=handler, text_formatter=text)


def _run(args: argparse.Namespace, operation: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = run_metadata_operation(args, partial(operation, **kwargs))
    for message in result.get("warnings", []):
        warn(message)
    return result


def _team_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--team", required=True, metavar="TEAM", help="team name or id")


def _email_option(parser: argparse.ArgumentParser, help_text: str = "the user's e-mail (or user id)") -> None:
    parser.add_argument("--email", required=True, metavar="EMAIL", help=help_text)


def _secret_argument(value: str | None, what: str) -> str | None:
    """``-`` reads the value from standard input (keeps it out of the process list and history)."""
    if value != "-":
        return value
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CliError(f"no {what} on standard input")
    return line


# ------------------------------------------------------------------------------------------------ users


def _register_users(sub: argparse._SubParsersAction) -> None:
    actions = _group(
        sub,
        "users",
        "create and list users",
        "Users are people: a public.users row plus an auth.accounts row holding the e-mail.",
    )
    create = _command(
        actions,
        "create",
        "create a user",
        examples="  sqlgate users create --email ann@example.com --display-name 'Ann Lee'",
    )
    _email_option(create, "e-mail address, unique among users")
    create.add_argument(
        "--display-name", metavar="NAME", help="name shown in Synmetrix (default: the e-mail)"
    )
    _finish(
        create,
        lambda a: _run(a, admin.create_user, email=a.email, display_name=a.display_name),
        lambda r: f"Created user {r['email']} (id {r['id']}).",
    )

    listing = _command(actions, "list", "list users with their teams and roles")
    _finish(listing, lambda a: _run(a, admin.list_users), _users_text)


def _users_text(result: dict[str, Any]) -> str:
    rows = [
        {**u, "teams": ", ".join(f"{t['team']} ({t['role'] or 'no role'})" for t in u["teams"])}
        for u in result["users"]
    ]
    return table(
        rows,
        [("email", "email"), ("display_name", "name"), ("teams", "teams"), ("id", "id")],
        "No users yet. Create one with: sqlgate users create --email E",
    )


# ------------------------------------------------------------------------------------------------ teams


def _register_teams(sub: argparse._SubParsersAction) -> None:
    actions = _group(
        sub,
        "teams",
        "create and list teams",
        "A team owns datasources, access lists and members. Team names are unique per owner.",
    )
    create = _command(
        actions,
        "create",
        "create a team; its owner becomes a member with role owner",
        examples="  sqlgate teams create --name Analytics --owner ann@example.com",
    )
    create.add_argument("--name", required=True, metavar="TEAM", help="team name")
    create.add_argument("--owner", required=True, metavar="EMAIL", help="e-mail (or id) of an existing user")
    _finish(create, lambda a: _run(a, admin.create_team, name=a.name, owner=a.owner), _team_text)

    listing = _command(actions, "list", "list teams with their owner and sizes")
    _finish(
        listing,
        lambda a: _run(a, admin.list_teams),
        lambda r: table(
            r["teams"],
            [
                ("name", "team"),
                ("owner", "owner"),
                ("members", "members"),
                ("datasources", "datasources"),
                ("id", "id"),
            ],
            "No teams yet. Create one with: sqlgate teams create --name T --owner E",
        ),
    )


def _team_text(result: dict[str, Any]) -> str:
    owner = result["owner"]["email"] or result["owner"]["id"]
    return f"Created team {result['name']} (id {result['id']}) owned by {owner}."


# ---------------------------------------------------------------------------------------------- members


def _register_members(sub: argparse._SubParsersAction) -> None:
    actions = _group(
        sub,
        "members",
        "add, change, remove and list team members",
        "Members of a team have a role: owner and admin see every cube; member sees what the "
        "member's access list allows (nothing without one).",
    )
    add = _command(
        actions,
        "add",
        "add a user to a team with a role",
        examples=(
            "  sqlgate members add --team Analytics --email bob@example.com --role admin\n"
            "  sqlgate members add --team Analytics --email eve@example.com --role member --access-list Sales"
        ),
    )
    _team_option(add)
    _email_option(add)
    add.add_argument(
        "--role", required=True, type=str.lower, choices=admin.TEAM_ROLES, help="the member's team role"
    )
    add.add_argument(
        "--access-list", metavar="NAME", help="access list of the team (name or id) for role member"
    )
    _finish(
        add,
        lambda a: _run(
            a, admin.add_member, team=a.team, user=a.email, role=a.role, access_list=a.access_list
        ),
        lambda r: (
            f"Added {r['email'] or r['user_id']} to team {r['team']} as {r['role']}"
            + (f" with access list {r['access_list']}." if r["access_list"] else ".")
        ),
    )

    update = _command(
        actions,
        "update",
        "change a member's role or access list",
        examples="  sqlgate members update --team Analytics --email eve@example.com --access-list Finance",
    )
    _team_option(update)
    _email_option(update)
    update.add_argument("--role", type=str.lower, choices=admin.TEAM_ROLES, help="new team role")
    acl = update.add_mutually_exclusive_group()
    acl.add_argument("--access-list", metavar="NAME", help="new access list (name or id)")
    acl.add_argument("--no-access-list", action="store_true", help="remove the member's access list")
    _finish(
        update,
        lambda a: _run(
            a,
            admin.update_member,
            team=a.team,
            user=a.email,
            role=a.role,
            access_list=a.access_list,
            clear_access_list=a.no_access_list,
        ),
        lambda r: (
            f"{r['email'] or r['user_id']} in team {r['team']}: role {r['role']}, "
            f"access list {r['access_list'] or 'none'}."
        ),
    )

    remove = _command(actions, "remove", "remove a user from a team")
    _team_option(remove)
    _email_option(remove)
    _finish(
        remove,
        lambda a: _run(a, admin.remove_member, team=a.team, user=a.email),
        lambda r: f"Removed {r['email'] or r['user_id']} from team {r['team']}.",
    )

    listing = _command(actions, "list", "list the members of a team")
    _team_option(listing)
    _finish(
        listing,
        lambda a: _run(a, admin.list_members, team=a.team),
        lambda r: table(
            r["members"],
            [("email", "email"), ("role", "role"), ("access_list", "access list"), ("user_id", "user id")],
            f"Team {r['team']} has no members.",
        ),
    )


# ----------------------------------------------------------------------------------------- access lists

ACCESS_LIST_EXAMPLE = """\
  sqlgate access-lists create --team Analytics --name Sales --config sales.json

  sales.json (Synmetrix's shape; datasource keys are ids, or names of the team's datasources):
    {"datasources": {"warehouse": {"cubes": {
        "Orders": {"measures": ["Orders.count"], "dimensions": ["Orders.status"], "segments": []}}}}}
"""


def _register_access_lists(sub: argparse._SubParsersAction) -> None:
    actions = _group(
        sub,
        "access-lists",
        "create, update and list access lists",
        "An access list names, per datasource and cube, the measures, dimensions and segments a "
        "member with role member may query.",
    )
    create = _command(
        actions, "create", "create an access list from a JSON file", examples=ACCESS_LIST_EXAMPLE
    )
    _team_option(create)
    create.add_argument("--name", required=True, metavar="NAME", help="access list name, unique in the team")
    create.add_argument(
        "--config", required=True, metavar="FILE.json", help="the access list config as JSON (- reads stdin)"
    )

    def create_handler(a: argparse.Namespace) -> dict[str, Any]:
        config = _load_json_file(a.config, "access list config")
        return _run(a, admin.create_access_list, team=a.team, name=a.name, config=config)

    _finish(
        create,
        create_handler,
        lambda r: (
            f"Created access list {r['name']} (id {r['id']}) in team {r['team']} covering "
            f"{len(r['config']['datasources'])} datasource(s)."
        ),
    )

    update = _command(
        actions,
        "update",
        "replace an access list's config (open sessions follow within --access-refresh-seconds)",
    )
    _team_option(update)
    update.add_argument("--name", required=True, metavar="NAME", help="access list name or id")
    update.add_argument(
        "--config", required=True, metavar="FILE.json", help="the new config as JSON (- reads stdin)"
    )

    def update_handler(a: argparse.Namespace) -> dict[str, Any]:
        config = _load_json_file(a.config, "access list config")
        return _run(a, admin.update_access_list, team=a.team, name=a.name, config=config)

    _finish(
        update,
        update_handler,
        lambda r: (
            f"Updated access list {r['name']} (id {r['id']}) in team {r['team']}: "
            f"{len(r['config']['datasources'])} datasource(s)."
        ),
    )

    listing = _command(actions, "list", "list the access lists of a team")
    _team_option(listing)
    _finish(
        listing,
        lambda a: _run(a, admin.list_access_lists, team=a.team),
        lambda r: table(
            [{**acl, "datasources": len(acl["config"].get("datasources", {}))} for acl in r["access_lists"]],
            [("name", "name"), ("datasources", "datasources"), ("used_by", "members"), ("id", "id")],
            f"Team {r['team']} has no access lists.",
        ),
    )


def _load_json_file(path: str, what: str) -> Any:
    try:
        return admin.read_json_file(path, what)
    except admin.AdminError as exc:
        raise CliError(str(exc)) from None


# ------------------------------------------------------------------------------------------ datasources

DATASOURCE_EXAMPLES = """\
  sqlgate datasources create --team Analytics --name warehouse \\
      --url postgresql://reader:secret@db.internal:5432/shop
  sqlgate datasources create --team Analytics --name events --type mysql \\
      --params '{"host": "10.0.0.5", "port": "3306", "database": "events", "user": "bi", "password": "pw"}'
  sqlgate datasources create --team Analytics --name local --url duckdb:///srv/data/shop.duckdb
"""


def _register_datasources(sub: argparse._SubParsersAction) -> None:
    actions = _group(
        sub,
        "datasources",
        "register, list and test datasources",
        "A datasource is a database the team's models query. It is stored as Synmetrix does: an "
        "upper-case db_type and a db_params JSON object (which holds the database password; "
        "sqlgate never prints it).",
    )
    create = _command(
        actions,
        "create",
        "register a datasource from a URL or from db_params JSON",
        description=(
            "Register a datasource. With --url, db_params become Synmetrix's {host, port, database, user, "
            "password, ssl} (ssl from ?sslmode=require) and --type may be left out; with --params the JSON "
            "object is stored as given (--params @FILE reads it from a file).\n\n"
            f"types: {DB_TYPES_HELP}.\nsqlgate itself can query POSTGRES, MYSQL and DUCKDB."
        ),
        examples=DATASOURCE_EXAMPLES,
    )
    _team_option(create)
    create.add_argument("--name", required=True, metavar="NAME", help="datasource name, unique in the team")
    create.add_argument("--type", metavar="TYPE", help="POSTGRES, MYSQL, DUCKDB, … (any case; see above)")
    source = create.add_mutually_exclusive_group(required=True)
    source.add_argument("--params", metavar="JSON", help="db_params as a JSON object (or @FILE)")
    source.add_argument(
        "--url", metavar="URL", help="postgresql://…, mysql://…, duckdb:///path or duckdb::memory:"
    )

    def create_handler(a: argparse.Namespace) -> dict[str, Any]:
        params = None
        if a.params is not None:
            params = (
                _load_json_file(a.params[1:], "--params")
                if a.params.startswith("@")
                else _parse_json_argument(a.params, "--params")
            )
        return _run(
            a, admin.create_datasource, team=a.team, name=a.name, db_type=a.type, params=params, url=a.url
        )

    _finish(
        create,
        create_handler,
        lambda r: f"Created {r['db_type']} datasource {r['name']} (id {r['id']}) in team {r['team']}.",
    )

    listing = _command(actions, "list", "list a team's datasources (passwords never shown)")
    _team_option(listing)
    _finish(listing, lambda a: _run(a, admin.list_datasources, team=a.team), _datasources_text)

    test = _command(
        actions,
        "test",
        "connect to a datasource and print its server version",
        examples="  sqlgate datasources test --team Analytics --name warehouse",
    )
    _team_option(test)
    test.add_argument("--name", required=True, metavar="NAME", help="datasource name or id")
    _finish(
        test,
        _test_datasource,
        lambda r: f"{r['name']} ({r['db_type']}): connected, server version {r['server_version']}",
    )


def _parse_json_argument(raw: str, what: str) -> Any:
    try:
        return parse_json(raw, what)
    except admin.AdminError as exc:
        raise CliError(str(exc)) from None


def _datasources_text(result: dict[str, Any]) -> str:
    rows = []
    for ds in result["datasources"]:
        params = ds["db_params"]
        where = params.get("host") or params.get("url") or params.get("database") or "-"
        if params.get("host") and params.get("database"):
            where = f"{params['host']}:{params.get('port', '')}/{params['database']}".replace(":/", "/")
        rows.append({**ds, "where": where})
    return table(
        rows,
        [
            ("name", "name"),
            ("db_type", "type"),
            ("where", "where"),
            ("active_branch", "branch"),
            ("credentials", "credentials"),
            ("id", "id"),
        ],
        f"Team {result['team']} has no datasources. Add one with: sqlgate datasources create",
    )


def _test_datasource(args: argparse.Namespace) -> dict[str, Any]:
    connection = _run(args, admin.datasource_connection, team=args.team, datasource=args.name)
    version = _server_version(connection["db_type"], connection["db_params"], connection["name"])
    return {
        "id": connection["id"],
        "name": connection["name"],
        "db_type": connection["db_type"],
        "server_version": version,
    }


def _server_version(db_type: str, db_params: dict[str, Any], name: str) -> str:
    """Connect through the sources layer and ask the server version; any failure as one line.

    This command exists to diagnose connections, so every exception is reported (never a
    traceback), with the datasource's secrets scrubbed from the message.
    """
    import asyncio

    from sqlgate.errors import PgError

    try:
        from sqlgate.sources.registry import open_source
    except ImportError:
        raise CliError(
            "this sqlgate has no datasource drivers installed (sqlgate.sources.registry)"
        ) from None

    async def ask() -> str:
        source = open_source(db_type, db_params)
        try:
            return await source.server_version()
        finally:
            await source.close()

    try:
        return asyncio.run(ask())
    except Exception as exc:
        reason = exc.message if isinstance(exc, PgError) else (str(exc) or type(exc).__name__)
        for secret in _secret_values(db_params):
            reason = reason.replace(secret, "***")
        first_line = reason.strip().splitlines()[0] if reason.strip() else type(exc).__name__
        raise CliError(f"cannot connect to datasource {name!r} ({db_type}): {first_line}") from None


def _secret_values(db_params: dict[str, Any]) -> list[str]:
    """The values ``masked_db_params`` hides, longest first (so substrings do not break masking)."""
    masked = admin.masked_db_params(db_params)
    values = [str(db_params[k]) for k in db_params if masked.get(k) != db_params[k] and db_params[k]]
    return sorted(values, key=len, reverse=True)


# ----------------------------------------------------------------------------------------------- models

MODELS_DESCRIPTION = """\
Store model files as a new version of a datasource's branch.

PATH is a file or a folder (searched recursively) of .yml/.yaml (Cube YAML: cubes: and/or views:)
and .js files. Every file is checked first; if any is invalid nothing is stored and the errors name
the file and line. The branch is created when missing (a datasource's first branch becomes its
active branch, the one sqlgate serves). Each push stores a full snapshot: push all the files.
"""


def _register_models(sub: argparse._SubParsersAction) -> None:
    actions = _group(
        sub,
        "models",
        "push data model files",
        "Data models (Cube YAML) describe cubes and views over a datasource's tables.",
    )
    push = _command(
        actions,
        "push",
        "store model files as a new version",
        description=MODELS_DESCRIPTION,
        examples=(
            "  sqlgate models push --team Analytics --datasource warehouse models/\n"
            "  sqlgate models push --team Analytics --datasource warehouse --branch dev Orders.yml Users.yml"
        ),
    )
    _team_option(push)
    push.add_argument("--datasource", required=True, metavar="NAME", help="datasource name or id")
    push.add_argument("--branch", default="main", metavar="BRANCH", help="branch name or id (default: main)")
    push.add_argument("paths", nargs="+", metavar="PATH", help="model files or folders")
    _finish(
        push,
        lambda a: _run(
            a,
            admin.push_models,
            team=a.team,
            datasource=a.datasource,
            paths=a.paths,
            branch=a.branch,
            validate=validate_for_push,
        ),
        _push_text,
    )


def _push_text(result: dict[str, Any]) -> str:
    files = result["files"]
    return (
        f"Pushed {len(files)} file(s) to {result['datasource']} branch {result['branch']} "
        f"({result['branch_status']}) as version {result['version_id']}:\n  " + "\n  ".join(files)
    )


# ------------------------------------------------------------------------------------------ credentials


def _register_credentials(sub: argparse._SubParsersAction) -> None:
    actions = _group(
        sub,
        "credentials",
        "issue, list, rotate and revoke SQL credentials",
        "A SQL credential is the username/password a BI tool uses to connect to sqlgate; it gives "
        "one team member access to one datasource. Only a bcrypt hash of the password is stored: "
        "the password is printed once, when it is created or rotated.",
    )
    create = _command(
        actions,
        "create",
        "issue a SQL credential for a team member",
        description=(
            "Issue a SQL credential for a member of the datasource's team. The username is 10 random "
            "[0-9a-z] characters and the password 32 random letters and digits unless given. The "
            "connection URL uses $SQLGATE_PUBLIC_HOST:$SQLGATE_PUBLIC_PORT (default 127.0.0.1:15432)."
        ),
        examples=(
            "  sqlgate credentials create --team Analytics --datasource warehouse --email ann@example.com\n"
            "  echo 'a long passphrase' | sqlgate credentials create --team Analytics "
            "--datasource warehouse --email ann@example.com --username ann --password -"
        ),
    )
    _team_option(create)
    create.add_argument("--datasource", required=True, metavar="NAME", help="datasource name or id")
    _email_option(create, "e-mail (or id) of a member of the datasource's team")
    create.add_argument("--username", metavar="USER", help="login name (default: generated); must be unused")
    create.add_argument("--password", metavar="PASSWORD", help="password (default: generated; - reads stdin)")
    _finish(
        create,
        lambda a: _run(
            a,
            admin.create_credential,
            team=a.team,
            datasource=a.datasource,
            user=a.email,
            username=a.username,
            password=_secret_argument(a.password, "password"),
        ),
        _issued_text,
    )

    listing = _command(actions, "list", "list a team's credentials (never their passwords)")
    _team_option(listing)
    listing.add_argument("--datasource", metavar="NAME", help="only this datasource (name or id)")
    _finish(
        listing,
        lambda a: _run(a, admin.list_credentials, team=a.team, datasource=a.datasource),
        lambda r: table(
            r["credentials"],
            [
                ("username", "username"),
                ("datasource", "datasource"),
                ("email", "user"),
                ("password_storage", "password"),
                ("created_at", "created"),
            ],
            f"Team {r['team']} has no SQL credentials.",
        ),
    )

    revoke = _command(actions, "revoke", "delete a credential; clients can no longer log in with it")
    revoke.add_argument("--username", required=True, metavar="USER", help="the credential's username")
    _finish(
        revoke,
        lambda a: _run(a, admin.revoke_credential, username=a.username),
        lambda r: f"Revoked credential {r['username']}.",
    )

    rotate = _command(
        actions,
        "rotate",
        "give a credential a new password (printed once)",
        examples="  sqlgate credentials rotate --username k3j9x0p2qa",
    )
    rotate.add_argument("--username", required=True, metavar="USER", help="the credential's username")
    rotate.add_argument(
        "--password", metavar="PASSWORD", help="new password (default: generated; - reads stdin)"
    )
    _finish(
        rotate,
        lambda a: _run(
            a, admin.rotate_credential, username=a.username, password=_secret_argument(a.password, "password")
        ),
        _issued_text,
    )


def _issued_text(result: dict[str, Any]) -> str:
    return (
        fields([("username", result["username"]), ("password", result["password"]), ("url", result["url"])])
        + "\n\nThis is the only time the password is shown: store it now."
    )


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the admin command groups to the ``sqlgate`` parser."""
    _register_users(subparsers)
    _register_teams(subparsers)
    _register_members(subparsers)
    _register_access_lists(subparsers)
    _register_datasources(subparsers)
    _register_models(subparsers)
    _register_credentials(subparsers)
