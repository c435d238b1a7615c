"""The attack corpus (tests/security/attacks.yaml) through a real gateway against PostgreSQL and
MariaDB datasources, and the datasources' own statement logs checked afterwards (issue 6 item 2).

The corpus runs once per datasource and protocol (simple; extended with binary results) while the
datasource logs the gateway login's statements; then one test per entry checks its outcome, and one
test per datasource checks that every statement the datasource received is one the planner
generated: a single read-only query over the model's tables, with no attack text in it except as a
(bound or escaped) value.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlglot
import yaml
from sqlglot import exp

from sqlgate.planner.lexer import split_statements
from tests.support.dataset import mysql_connect_args
from tests.support.direct_sources import MySQLDirect
from tests.support.security import (
    SecureSetup,
    mysql_general_log,
    mysql_statements,
    postgres_log_position,
    postgres_statements,
)
from tests.support.semantic_harness import assert_same_rows

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CORPUS_FILE = Path(__file__).with_name("attacks.yaml")
MARKER = "sgatk"
DB_TYPES = ("POSTGRES", "MYSQL")
# The datasource tables the models read (sql_table of every cube).
MODEL_TABLES = frozenset({"orders", "users", "line_items", "products"})
ENTRY_TIMEOUT = 60.0
PROTOCOLS = ("simple", "extended")


@dataclass(frozen=True)
class Attack:
    name: str
    category: str
    sql: str
    user: str = "owner"
    setup: tuple[str, ...] = ()
    rows: list[list[Any]] | None = None
    rows_sql: str | None = None
    rows_sql_mysql: str | None = None
    error: str | None = None
    error_mysql: str | None = None
    message: str | None = None
    ordered: bool = False

    def expected_error(self, db_type: str) -> str | None:
        return self.error_mysql if db_type == "MYSQL" and self.error_mysql else self.error

    def oracle_sql(self, db_type: str) -> str | None:
        return self.rows_sql_mysql if db_type == "MYSQL" and self.rows_sql_mysql else self.rows_sql


def load_corpus() -> list[Attack]:
    entries = yaml.safe_load(CORPUS_FILE.read_text())
    attacks = []
    for entry in entries:
        entry["setup"] = tuple(entry.get("setup", ()))
        attack = Attack(**entry)
        outcomes = [attack.rows is not None, attack.rows_sql is not None, attack.error is not None]
        assert sum(outcomes) == 1, f"{attack.name}: give exactly one of rows, rows_sql, error"
        attacks.append(attack)
    names = [a.name for a in attacks]
    assert len(names) == len(set(names)), "attack names must be unique"
    return attacks


CORPUS = load_corpus()


@dataclass
class Outcome:
    rows: list[tuple[Any, ...]] | None = None
    sqlstate: str | None = None
    message: str = ""


@dataclass
class Run:
    outcomes: dict[tuple[str, str, str], Outcome] = field(default_factory=dict)
    expected: dict[tuple[str, str], list[tuple[Any, ...]]] = field(default_factory=dict)
    statements: dict[str, list[str]] = field(default_factory=dict)  # db_type -> logged statements
    # MariaDB with NO_BACKSLASH_ESCAPES (a server default here): backslashes in strings are literal
    mysql_literal_backslashes: bool = False


async def run_attack(secure: SecureSetup, attack: Attack, db_type: str, protocol: str) -> Outcome:
    conn = await psycopg.AsyncConnection.connect(secure.dsn(attack.user, db_type), autocommit=True)
    try:
        for statement in attack.setup:
            await conn.execute(statement)
        try:
            if protocol == "simple":
                cur = await conn.execute(attack.sql)
            else:  # Parse/Bind/Describe/Execute/Sync with binary results
                cur = conn.cursor(binary=True)
                await cur.execute(attack.sql)
            rows = list(await cur.fetchall()) if cur.description is not None else []
            outcome = Outcome(rows=rows)
        except psycopg.Error as exc:
            return Outcome(sqlstate=exc.sqlstate, message=str(exc))
        # The connection stays usable after whatever the attack did.
        await conn.execute("ROLLBACK") if conn.info.transaction_status != 0 else None
        cur = await conn.execute("SELECT 1")
        assert await cur.fetchall() == [(1,)]
        return outcome
    finally:
        await conn.close()


async def oracle_rows(secure: SecureSetup, db_type: str, sql: str) -> list[tuple[Any, ...]]:
    if db_type == "POSTGRES":
        async with await psycopg.AsyncConnection.connect(secure.pg.admin_url, autocommit=True) as conn:
            cur = await conn.execute(sql)
            return list(await cur.fetchall())
    direct = MySQLDirect(mysql_connect_args(secure.mysql.admin_url), secure.mysql.database)
    try:
        return await direct.fetch(sql)
    finally:
        await direct.close()


@pytest.fixture(scope="module")
async def attack_run(secure: SecureSetup) -> AsyncIterator[Run]:
    run = Run()
    since_pg = await postgres_log_position(secure.pg.admin_url)
    async with mysql_general_log(secure.mysql.admin_url) as since_mysql:
        for db_type in DB_TYPES:
            for attack in CORPUS:
                for protocol in PROTOCOLS:
                    try:
                        work = run_attack(secure, attack, db_type, protocol)
                        outcome = await asyncio.wait_for(work, ENTRY_TIMEOUT)
                    except TimeoutError:
                        outcome = Outcome(sqlstate="timeout", message=f"no answer within {ENTRY_TIMEOUT}s")
                    run.outcomes[(attack.name, db_type, protocol)] = outcome
        mysql_log = await mysql_statements(secure.mysql.admin_url, since_mysql, secure.mysql.login)
    mode = await oracle_rows(secure, "MYSQL", "SELECT @@global.sql_mode")
    run.mysql_literal_backslashes = "NO_BACKSLASH_ESCAPES" in str(mode[0][0])
    run.statements["POSTGRES"] = await postgres_statements(
        secure.pg.admin_url, since_pg, secure.pg.login, secure.pg.database
    )
    run.statements["MYSQL"] = [
        text for command, text in mysql_log if command in ("Query", "Execute", "Prepare")
    ]
    for db_type in DB_TYPES:
        for attack in CORPUS:
            sql = attack.oracle_sql(db_type)
            if sql is not None:
                run.expected[(attack.name, db_type)] = await oracle_rows(secure, db_type, sql)
    yield run


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("db_type", DB_TYPES)
@pytest.mark.parametrize("attack", CORPUS, ids=lambda a: a.name)
def test_attack(attack: Attack, db_type: str, protocol: str, attack_run: Run) -> None:
    got = attack_run.outcomes[(attack.name, db_type, protocol)]
    wanted_error = attack.expected_error(db_type)
    if protocol == "extended" and len(split_statements(attack.sql)) > 1:
        wanted_error = "42601"  # "cannot insert multiple commands into a prepared statement"
    label = f"{attack.name} on {db_type} ({protocol}): {attack.sql}"
    if wanted_error is not None:
        assert got.sqlstate == wanted_error, f"{label}\n got {got.sqlstate or got.rows!r}: {got.message}"
        if attack.message:
            assert attack.message in got.message, f"{label}\n {got.message}"
        return
    assert got.sqlstate is None, f"{label}\n refused with {got.sqlstate}: {got.message}"
    assert got.rows is not None
    expected = attack_run.expected.get((attack.name, db_type))
    if expected is None:
        expected = [tuple(r) for r in attack.rows or []]
    assert_same_rows(got.rows, expected, ordered=attack.ordered, label=label)


def _outside_values(statement: str, dialect: str) -> str:
    """The statement's text without its string values (what a marker must never be part of)."""
    tree = sqlglot.parse_one(statement, read=dialect)
    for literal in list(tree.find_all(exp.Literal)):
        if literal.is_string:
            literal.replace(exp.Literal.string(""))
    return tree.sql(dialect=dialect)


def _driver_statement(statement: str) -> bool:
    """Session set-up the drivers send themselves (no client text can be part of it)."""
    words = statement.strip().rstrip(";").split(None, 2)
    first = words[0].upper() if words else ""
    if first in ("SET", "SHOW", "RESET", "COMMIT", "ROLLBACK", "BEGIN", "START"):
        return True
    return statement.strip().rstrip(";").upper() in ("SELECT 1", "SELECT @@VERSION", "SELECT VERSION()")


@pytest.mark.parametrize("db_type", DB_TYPES)
def test_no_client_text_reached_the_datasource(db_type: str, attack_run: Run) -> None:
    dialect = {"POSTGRES": "postgres", "MYSQL": "mysql"}[db_type]
    statements = attack_run.statements[db_type]
    answered = [a for a in CORPUS if attack_run.outcomes[(a.name, db_type, "simple")].sqlstate is None]
    queries = [s for s in statements if not _driver_statement(s)]
    # The log is real: the answered attacks that query cubes show up in it.
    assert len(queries) >= 2 * len([a for a in answered if "FROM orders" in a.sql]) > 0, statements[:20]
    for statement in statements:
        if _driver_statement(statement):
            assert MARKER not in statement.lower(), statement
            continue
        text = statement
        if db_type == "MYSQL" and attack_run.mysql_literal_backslashes:
            text = statement.replace("\\", "\\\\")  # sqlglot reads MySQL strings with backslash escapes
        try:
            tree = sqlglot.parse_one(text, read=dialect)
        except sqlglot.errors.SqlglotError as exc:
            raise AssertionError(f"cannot parse {statement!r}: {exc}") from None
        assert isinstance(tree, exp.Select | exp.Union), f"not a query: {statement}"
        tables = {t.name.lower() for t in tree.find_all(exp.Table) if isinstance(t.this, exp.Identifier)}
        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        assert tables - ctes <= MODEL_TABLES, f"reads {tables - ctes - MODEL_TABLES}: {statement}"
        assert MARKER not in _outside_values(text, dialect).lower(), statement
        for node in tree.find_all(exp.Anonymous):
            name = str(node.name).lower()
            assert not name.startswith(("pg_", "lo_", "dblink", "load_file", "sleep", "benchmark")), statement
