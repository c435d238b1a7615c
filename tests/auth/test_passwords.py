"""Credential passwords: bcrypt hashes, legacy plain-text values, and the upgrade flag."""

from __future__ import annotations

import bcrypt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlgate.auth.passwords import (
    DEFAULT_BCRYPT_COST,
    bcrypt_cost,
    dummy_verify,
    hash_password,
    is_bcrypt_hash,
    verify_password,
)
from sqlgate.auth.verifier import make_verifier
from sqlgate.metastore.logins import find_login, store_upgraded_password
from tests.support.metadata import SeededLogin


def test_hash_then_verify() -> None:
    stored = hash_password("s3cret-pass", cost=4)
    assert is_bcrypt_hash(stored)
    assert stored.startswith("$2b$04$")
    check = verify_password(stored, "s3cret-pass")
    assert check.ok and not check.needs_upgrade
    assert not verify_password(stored, "s3cret-pasS").ok
    assert not verify_password(stored, "").ok


def test_each_hash_is_salted() -> None:
    assert hash_password("same", cost=4) != hash_password("same", cost=4)


@pytest.mark.parametrize("prefix", [b"2a", b"2b"])
def test_hashes_written_by_other_bcrypt_implementations(prefix: bytes) -> None:
    """Synmetrix's web accounts use $2a$ (hasura-backend-plus); both prefixes verify."""
    stored = bcrypt.hashpw(b"demodemo", bcrypt.gensalt(rounds=4, prefix=prefix)).decode()
    assert stored.startswith(f"${prefix.decode()}$")
    assert verify_password(stored, "demodemo").ok
    assert not verify_password(stored, "demodem0").ok


def test_legacy_plain_text_value_matches_and_asks_for_an_upgrade() -> None:
    check = verify_password("demo_pg_pass", "demo_pg_pass")
    assert check.ok and check.needs_upgrade


@pytest.mark.parametrize("candidate", ["demo_pg_pas", "demo_pg_pass ", "DEMO_PG_PASS", ""])
def test_legacy_plain_text_value_mismatch(candidate: str) -> None:
    check = verify_password("demo_pg_pass", candidate)
    assert not check.ok and not check.needs_upgrade


def test_legacy_value_that_looks_almost_like_a_hash_is_plain_text() -> None:
    # "$2b$" but not 60 characters: a plain-text password, compared as such
    check = verify_password("$2b$short", "$2b$short")
    assert check.ok and check.needs_upgrade


def test_unicode_legacy_password() -> None:
    assert verify_password("pässwörd", "pässwörd").ok
    assert not verify_password("pässwörd", "passwort").ok


@pytest.mark.parametrize("stored", [None, ""])
def test_null_or_empty_stored_password_never_matches(stored: str | None) -> None:
    assert not verify_password(stored, "").ok
    assert not verify_password(stored, "anything").ok


def test_overlong_candidate_against_a_hash_is_refused_not_truncated() -> None:
    stored = hash_password("a" * 72, cost=4)
    assert verify_password(stored, "a" * 72).ok
    assert not verify_password(stored, "a" * 73).ok
    with pytest.raises(ValueError, match="72 bytes"):
        hash_password("a" * 73, cost=4)


def test_corrupt_hash_does_not_raise() -> None:
    corrupt = "$2b$04$" + "!" * 53
    assert is_bcrypt_hash(corrupt)
    assert not verify_password(corrupt, "x").ok


def test_cost_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SQLGATE_BCRYPT_COST", raising=False)
    assert bcrypt_cost() == DEFAULT_BCRYPT_COST == 12
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "5")
    assert bcrypt_cost() == 5
    assert hash_password("x").startswith("$2b$05$")
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "2")
    assert bcrypt_cost() == 4  # clamped to bcrypt's minimum
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "many")
    assert bcrypt_cost() == DEFAULT_BCRYPT_COST


def test_dummy_verify_runs_without_a_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
    assert dummy_verify("whatever") is None


async def test_legacy_row_is_upgraded_after_a_successful_login(
    metadata_engine: AsyncEngine, metadata_login: SeededLogin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole legacy flow on a real metadata database: plain text in, bcrypt hash out."""
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
    async with metadata_engine.begin() as conn:
        await conn.execute(
            text("UPDATE public.sql_credentials SET password = 'demo_pg_pass', scram_verifier = NULL")
        )
    login = await find_login(metadata_engine, metadata_login.username)
    assert login is not None
    assert not verify_password(login.stored_password, "wrong").ok
    check = verify_password(login.stored_password, "demo_pg_pass")
    assert check.ok and check.needs_upgrade

    stored = await store_upgraded_password(
        metadata_engine,
        login.credential_id,
        login.stored_password,
        hash_password("demo_pg_pass"),
        make_verifier("demo_pg_pass"),
    )
    assert stored
    upgraded = await find_login(metadata_engine, metadata_login.username)
    assert upgraded is not None and upgraded.stored_password is not None
    assert is_bcrypt_hash(upgraded.stored_password)
    assert upgraded.scram_verifier is not None
    check = verify_password(upgraded.stored_password, "demo_pg_pass")
    assert check.ok and not check.needs_upgrade
