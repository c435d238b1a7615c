"""Where credentials come from: the metadata database, or an in-memory list (tests, demos).

Both implement :class:`CredentialStore`; the authenticator depends on nothing else.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Protocol

from sqlgate.metastore.records import LoginRecord


class CredentialStore(Protocol):
    """Look up SQL credentials by user name and record password upgrades."""

    async def find_login(self, username: str) -> LoginRecord | None:
        """The credential called ``username`` (``sql_credentials.username`` is unique), or None."""
        ...

    async def store_upgraded_password(
        self, credential_id: str, old_stored: str | None, new_hash: str, scram_verifier: str | None
    ) -> None:
        """Replace the stored password (a legacy plain-text value, or a bcrypt hash without verifier)
        by ``new_hash`` and ``scram_verifier``, unless it changed meanwhile (``old_stored``)."""
        ...


class InMemoryCredentialStore:
    """Credentials held in a dict; upgrades are applied to the records."""

    def __init__(self, logins: Iterable[LoginRecord] = ()) -> None:
        self.logins: dict[str, LoginRecord] = {login.username: login for login in logins}
        self.upgrades: list[str] = []  # credential ids upgraded, for tests

    def add(self, login: LoginRecord) -> None:
        self.logins[login.username] = login

    async def find_login(self, username: str) -> LoginRecord | None:
        return self.logins.get(username)

    async def store_upgraded_password(
        self, credential_id: str, old_stored: str | None, new_hash: str, scram_verifier: str | None
    ) -> None:
        for name, login in self.logins.items():
            if login.credential_id == credential_id and login.stored_password == old_stored:
                self.logins[name] = replace(login, stored_password=new_hash, scram_verifier=scram_verifier)
                self.upgrades.append(credential_id)


class MetastoreCredentialStore:
    """Credentials read from ``public.sql_credentials`` through :mod:`sqlgate.metastore.logins`."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    async def find_login(self, username: str) -> LoginRecord | None:
        from sqlgate.metastore import logins

        return await _maybe_await(logins.find_login(self.engine, username))

    async def store_upgraded_password(
        self, credential_id: str, old_stored: str | None, new_hash: str, scram_verifier: str | None
    ) -> None:
        from sqlgate.metastore import logins

        await _maybe_await(
            logins.store_upgraded_password(self.engine, credential_id, old_stored, new_hash, scram_verifier)
        )


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value
