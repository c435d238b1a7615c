"""The migrated catalog matches the Synmetrix schema reference (synmetrix-schema.md §1).

The expected columns and constraints below are transcribed from the reference by hand, not derived
from the migration code, so a mistake in either shows up here.
"""

from __future__ import annotations

from tests.metastore.catalog import fetch_all, read_catalog

ID = "id uuid NO gen_random_uuid()"
STAMPS = "created_at timestamptz NO now()\nupdated_at timestamptz NO now()"

# "column udt nullable(YES/NO) default" per line; "-" = no default.
EXPECTED_COLUMNS_TEXT: dict[str, str] = {
    "public.users": f"""{ID}
{STAMPS}
display_name text YES -
avatar_url text YES -""",
    "auth.account_providers": f"""{ID}
{STAMPS}
account_id uuid NO -
auth_provider text NO -
auth_provider_unique_id text NO -""",
    "auth.accounts": f"""{ID}
{STAMPS}
user_id uuid NO -
active bool NO false
email citext YES -
new_email citext YES -
password_hash text YES -
default_role text NO 'user'::text
is_anonymous bool NO false
custom_register_data jsonb YES -
otp_secret text YES -
mfa_enabled bool NO false
ticket uuid NO gen_random_uuid()
ticket_expires_at timestamptz NO now()""",
    "auth.providers": "provider text NO -",
    "auth.refresh_tokens": """refresh_token uuid NO -
created_at timestamptz NO now()
expires_at timestamptz NO -
account_id uuid NO -""",
    "auth.roles": "role text NO -",
    "auth.account_roles": f"""{ID}
created_at timestamptz NO now()
account_id uuid NO -
role text NO -""",
    "public.teams": f"""{ID}
name text NO -
{STAMPS}
user_id uuid NO -""",
    "public.datasources": f"""{ID}
{STAMPS}
user_id uuid NO -
name text NO -
db_type text NO -
db_params jsonb NO '{{}}'::jsonb
team_id uuid YES -""",
    "public.dataschemas": f"""{ID}
{STAMPS}
user_id uuid NO -
datasource_id uuid NO -
name text NO -
code text NO -
checksum text YES -
version_id uuid YES -""",
    "public.explorations": f"""{ID}
{STAMPS}
user_id uuid NO -
datasource_id uuid NO -
playground_state jsonb NO '{{}}'::jsonb
playground_settings jsonb NO '{{}}'::jsonb
branch_id uuid YES -""",
    "public.members": f"""{ID}
{STAMPS}
user_id uuid NO -
team_id uuid NO -""",
    "public.team_roles": "name text NO -",
    "public.member_roles": f"""{ID}
member_id uuid NO -
team_role text NO -
access_list_id uuid YES -
created_at timestamptz YES now()
updated_at timestamptz YES now()""",
    "public.reports": f"""{ID}
{STAMPS}
user_id uuid NO -
team_id uuid YES -
exploration_id uuid NO -
name text NO -
schedule text NO -
delivery_type text NO -
delivery_config jsonb NO -""",
    "public.sql_credentials": f"""{ID}
{STAMPS}
datasource_id uuid NO -
user_id uuid NO -
username text NO -
password text YES -
scram_verifier text YES -""",
    "public.alerts": f"""{ID}
{STAMPS}
user_id uuid NO -
team_id uuid YES -
exploration_id uuid NO -
name text NO -
delivery_type text NO -
delivery_config jsonb NO -
trigger_config jsonb NO -
schedule text NO -
locks_config jsonb NO jsonb_build_object()""",
    "public.branches": f"""{ID}
{STAMPS}
name text NO 'main'::text
user_id uuid NO -
datasource_id uuid NO -
status text NO 'created'::text""",
    "public.branch_statuses": "status text NO -",
    "public.versions": f"""{ID}
{STAMPS}
branch_id uuid NO -
checksum text NO -
user_id uuid NO -
markdown_doc text YES -""",
    "public.access_lists": f"""{ID}
{STAMPS}
config jsonb NO jsonb_build_object()
name text NO 'Empty access list'::text
team_id uuid NO -""",
    "public.dashboards": f"""{ID}
{STAMPS}
user_id uuid NO -
name text NO -
layout jsonb YES -
team_id uuid YES -""",
    "public.pinned_items": f"""{ID}
{STAMPS}
user_id uuid NO -
dashboard_id uuid NO -
exploration_id uuid NO -
name text NO -
spec jsonb NO '{{}}'::jsonb
spec_config jsonb NO '{{}}'::jsonb""",
    "public.events": f"""{ID}
{STAMPS}
data jsonb NO '{{}}'::jsonb
page_context jsonb NO '{{}}'::jsonb
device_context jsonb NO '{{}}'::jsonb
user jsonb NO '{{}}'::jsonb""",
    "public.request_logs": f"""{ID}
{STAMPS}
request_id text NO -
user_id uuid NO -
datasource_id uuid NO -
start_time timestamptz NO -
end_time timestamptz NO -
path text YES -""",
    "public.request_event_logs": f"""{ID}
{STAMPS}
request_id text NO -
event text NO -
duration numeric YES -
queue_prefix text YES -
time_in_queue numeric YES -
path text YES -
query_key jsonb YES jsonb_build_array()
query_key_md5 text YES -
query jsonb YES -
query_sql text YES -
timestamp timestamptz YES -
error text YES -""",
}

PRIMARY_KEYS = {
    "auth.providers": ("provider",),
    "auth.roles": ("role",),
    "auth.refresh_tokens": ("refresh_token",),
    "public.team_roles": ("name",),
    "public.branch_statuses": ("status",),
}

# Unique keys: (table, sorted columns) -> documented name, or None where the reference gives none.
UNIQUE_KEYS: dict[tuple[str, tuple[str, ...]], str | None] = {
    ("auth.account_providers", ("account_id", "auth_provider")): None,
    ("auth.account_providers", ("auth_provider", "auth_provider_unique_id")): None,
    ("auth.accounts", ("user_id",)): None,
    ("auth.accounts", ("email",)): None,
    ("auth.accounts", ("new_email",)): None,
    ("auth.account_roles", ("account_id", "role")): "user_roles_account_id_role_key",
    ("public.teams", ("name", "user_id")): "teams_user_id_name_key",
    ("public.members", ("team_id", "user_id")): "members_user_id_team_id_key",
    ("public.member_roles", ("member_id", "team_role")): None,
    ("public.sql_credentials", ("username",)): "sql_credentials_username_key",
    ("public.sql_credentials", ("datasource_id", "user_id", "username")): None,
    ("public.branches", ("datasource_id", "name")): "branches_datasource_id_name_key",
    ("public.request_logs", ("request_id",)): "request_logs_request_id_key",
}

CC = ("CASCADE", "CASCADE")
# (table, column) -> (referenced table, referenced column, ON UPDATE, ON DELETE)
FOREIGN_KEYS: dict[tuple[str, str], tuple[str, str, str, str]] = {
    ("auth.account_providers", "account_id"): ("auth.accounts", "id", *CC),
    ("auth.account_providers", "auth_provider"): ("auth.providers", "provider", "RESTRICT", "RESTRICT"),
    ("auth.accounts", "user_id"): ("public.users", "id", *CC),
    ("auth.accounts", "default_role"): ("auth.roles", "role", "CASCADE", "RESTRICT"),
    ("auth.refresh_tokens", "account_id"): ("auth.accounts", "id", *CC),
    ("auth.account_roles", "account_id"): ("auth.accounts", "id", *CC),
    ("auth.account_roles", "role"): ("auth.roles", "role", "CASCADE", "RESTRICT"),
    ("public.teams", "user_id"): ("public.users", "id", *CC),
    ("public.datasources", "user_id"): ("public.users", "id", *CC),
    ("public.datasources", "team_id"): ("public.teams", "id", "SET NULL", "SET NULL"),
    ("public.dataschemas", "user_id"): ("public.users", "id", *CC),
    ("public.dataschemas", "datasource_id"): ("public.datasources", "id", *CC),
    ("public.dataschemas", "version_id"): ("public.versions", "id", *CC),
    ("public.explorations", "datasource_id"): ("public.datasources", "id", *CC),
    ("public.explorations", "branch_id"): ("public.branches", "id", *CC),
    ("public.members", "user_id"): ("public.users", "id", "NO ACTION", "CASCADE"),
    ("public.members", "team_id"): ("public.teams", "id", "NO ACTION", "CASCADE"),
    ("public.member_roles", "member_id"): ("public.members", "id", *CC),
    ("public.member_roles", "team_role"): ("public.team_roles", "name", "CASCADE", "SET NULL"),
    ("public.member_roles", "access_list_id"): ("public.access_lists", "id", "CASCADE", "NO ACTION"),
    ("public.reports", "user_id"): ("public.users", "id", *CC),
    ("public.reports", "team_id"): ("public.teams", "id", *CC),
    ("public.reports", "exploration_id"): ("public.explorations", "id", *CC),
    ("public.sql_credentials", "datasource_id"): ("public.datasources", "id", "NO ACTION", "CASCADE"),
    ("public.sql_credentials", "user_id"): ("public.users", "id", "NO ACTION", "CASCADE"),
    ("public.alerts", "user_id"): ("public.users", "id", *CC),
    ("public.alerts", "team_id"): ("public.teams", "id", "SET NULL", "SET NULL"),
    ("public.alerts", "exploration_id"): ("public.explorations", "id", *CC),
    ("public.branches", "user_id"): ("public.users", "id", *CC),
    ("public.branches", "datasource_id"): ("public.datasources", "id", *CC),
    ("public.branches", "status"): ("public.branch_statuses", "status", "RESTRICT", "RESTRICT"),
    ("public.versions", "branch_id"): ("public.branches", "id", *CC),
    ("public.versions", "user_id"): ("public.users", "id", *CC),
    ("public.access_lists", "team_id"): ("public.teams", "id", *CC),
    ("public.dashboards", "team_id"): ("public.teams", "id", "NO ACTION", "CASCADE"),
    ("public.pinned_items", "dashboard_id"): ("public.dashboards", "id", *CC),
    ("public.pinned_items", "exploration_id"): ("public.explorations", "id", *CC),
    ("public.request_logs", "user_id"): ("public.users", "id", *CC),
    ("public.request_logs", "datasource_id"): ("public.datasources", "id", *CC),
    ("public.request_event_logs", "request_id"): ("public.request_logs", "request_id", *CC),
}


def expected_columns() -> dict[str, dict[str, tuple[str, str, str | None]]]:
    out: dict[str, dict[str, tuple[str, str, str | None]]] = {}
    for table, text in EXPECTED_COLUMNS_TEXT.items():
        cols: dict[str, tuple[str, str, str | None]] = {}
        for line in text.strip().splitlines():
            name, udt, nullable, default = line.split(" ", 3)
            cols[name] = (udt, nullable, None if default == "-" else default)
        out[table] = cols
    return out


async def test_tables_and_columns_match_the_reference(metadata_url: str) -> None:
    catalog = await read_catalog(metadata_url)
    expected = expected_columns()
    assert catalog.tables - {"public.sqlgate_alembic_version"} == set(expected)
    assert len(expected) == 26  # the 17 core tables and the 9 related ones
    for table, columns in expected.items():
        assert catalog.columns[table] == columns, table


async def test_primary_and_unique_keys_match_the_reference(metadata_url: str) -> None:
    catalog = await read_catalog(metadata_url)
    pks = {c[0]: c[3] for c in catalog.constraints if c[2] == "PRIMARY KEY"}
    for table in EXPECTED_COLUMNS_TEXT:
        assert pks.get(table) == PRIMARY_KEYS.get(table, ("id",)), table
    assert pks["public.users"] == ("id",)
    names = {(c[0], c[1]) for c in catalog.constraints if c[2] == "PRIMARY KEY"}
    assert ("public.users", "users_pkey") in names
    assert ("public.dataschemas", "dataschemas_pkey") in names

    uniques = {(c[0], c[3]): c[1] for c in catalog.constraints if c[2] == "UNIQUE"}
    assert set(uniques) == set(UNIQUE_KEYS)
    for key, name in UNIQUE_KEYS.items():
        if name is not None:
            assert uniques[key] == name


async def test_foreign_keys_match_the_reference(metadata_url: str) -> None:
    catalog = await read_catalog(metadata_url)
    actual = {(fk[0], fk[1][0]): (fk[2], fk[3][0], fk[4], fk[5]) for fk in catalog.foreign_keys}
    assert all(len(f[1]) == 1 for f in catalog.foreign_keys)
    assert actual == FOREIGN_KEYS
    # the same facts as information_schema reports them (referential_constraints + key_column_usage)
    rows = await fetch_all(
        metadata_url,
        """
        SELECT kcu.table_schema || '.' || kcu.table_name AS t, kcu.column_name AS c,
               rc.update_rule, rc.delete_rule
        FROM information_schema.referential_constraints rc
        JOIN information_schema.key_column_usage kcu
          ON kcu.constraint_schema = rc.constraint_schema AND kcu.constraint_name = rc.constraint_name
        WHERE rc.constraint_schema IN ('public', 'auth')
        """,
    )
    assert {(r["t"], r["c"]): (r["update_rule"], r["delete_rule"]) for r in rows} == {
        k: v[2:] for k, v in FOREIGN_KEYS.items()
    }


async def test_checks_triggers_functions_and_index(metadata_url: str) -> None:
    catalog = await read_catalog(metadata_url)
    checks = {(c[0], c[1]) for c in catalog.constraints if c[2] == "CHECK"}
    assert ("auth.accounts", "proper_email") in checks
    assert ("auth.accounts", "proper_new_email") in checks

    with_updated_at = {t for t, cols in expected_columns().items() if "updated_at" in cols}
    expected_triggers = {(t, f"set_{t.replace('.', '_')}_updated_at") for t in with_updated_at}
    expected_triggers.add(("public.dataschemas", "set_public_dataschemas_checksum"))
    assert catalog.triggers == expected_triggers

    assert {
        "public.set_current_timestamp_updated_at()",
        "public.set_dataschema_checksum()",
        "public.hide_password(datasource_row datasources)",
    } <= catalog.functions
    assert ("public.request_event_logs", "request_event_logs_request_id_index", "hash") in catalog.indexes


async def test_enum_rows(metadata_url: str) -> None:
    async def values(query: str) -> set[str]:
        return {r["v"] for r in await fetch_all(metadata_url, query)}

    assert await values("SELECT name AS v FROM public.team_roles") == {"owner", "member", "admin"}
    assert await values("SELECT status AS v FROM public.branch_statuses") == {"active", "created", "archived"}
    assert await values("SELECT role AS v FROM auth.roles") == {"user", "anonymous", "me"}
    assert await values("SELECT provider AS v FROM auth.providers") == {
        "github",
        "facebook",
        "twitter",
        "google",
        "apple",
        "linkedin",
        "windowslive",
        "spotify",
    }


async def test_triggers_behave(metadata_url: str) -> None:
    """updated_at moves on UPDATE; dataschemas.checksum = md5(name-code); hide_password blanks it."""
    rows = await fetch_all(
        metadata_url,
        """
        WITH u AS (INSERT INTO public.users (display_name) VALUES ('a') RETURNING id),
             d AS (INSERT INTO public.datasources (user_id, name, db_type, db_params)
                   SELECT id, 'ds', 'POSTGRES', '{"password": "secret", "host": "h"}' FROM u
                   RETURNING id, user_id),
             s AS (INSERT INTO public.dataschemas (user_id, datasource_id, name, code)
                   SELECT user_id, id, 'Orders.yml', 'cubes: []' FROM d RETURNING checksum)
        SELECT (SELECT checksum FROM s) AS checksum, md5('Orders.yml-cubes: []') AS expected
        """,
    )
    assert rows[0]["checksum"] == rows[0]["expected"]
    rows = await fetch_all(
        metadata_url,
        "SELECT public.hide_password(d) ->> 'password' AS pw, public.hide_password(d) ->> 'host' AS host "
        "FROM public.datasources d",
    )
    assert rows == [{"pw": "", "host": "h"}]
    await fetch_all(metadata_url, "UPDATE public.users SET updated_at = '2000-01-01', display_name = 'b'")
    rows = await fetch_all(metadata_url, "SELECT updated_at > '2001-01-01' AS moved FROM public.users")
    assert rows == [{"moved": True}]
