"""OfflineLogins: credential records of recent logins, kept for ``ttl`` seconds (0: never)."""

from __future__ import annotations

from tests.support.contexts import make_login


def test_records_expire_and_are_off_by_default() -> None:
    from sqlgate.auth.authenticator import OfflineLogins

    now = [100.0]
    logins = OfflineLogins(30.0, clock=lambda: now[0])
    record = make_login("alice", stored_password="x")
    logins.remember("alice", record)
    assert logins.find("alice") is record
    assert logins.find("bob") is None
    now[0] += 31
    assert logins.find("alice") is None
    off = OfflineLogins()
    off.remember("alice", record)
    assert off.find("alice") is None


def test_the_cache_is_bounded() -> None:
    from sqlgate.auth.authenticator import OfflineLogins

    logins = OfflineLogins(30.0, max_entries=2)
    for name in ("a", "b", "c"):
        logins.remember(name, make_login(name, stored_password="x"))
    assert logins.find("a") is None and logins.find("c") is not None
