"""Start gateways in-process for tests, with an in-memory credential store.

Users of :func:`make_store`: ``alice`` (SCRAM verifier + bcrypt), ``bob`` (bcrypt only: cleartext),
``legacy`` (plain-text password, Synmetrix style), ``outsider`` (not a member of the datasource's
team). Every password is ``secret-<name>``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlgate.auth.passwords import hash_password
from sqlgate.auth.store import InMemoryCredentialStore
from sqlgate.auth.verifier import make_verifier
from sqlgate.config import Settings
from sqlgate.gateway import Gateway
from tests.support.contexts import make_login

# bcrypt cost 4 keeps the tests fast; the production default is 12.
TEST_BCRYPT_COST = 4


def password_of(user: str) -> str:
    return f"secret-{user}"


def make_store() -> InMemoryCredentialStore:
    return InMemoryCredentialStore(
        [
            make_login(
                "alice",
                stored_password=hash_password(password_of("alice"), TEST_BCRYPT_COST),
                scram_verifier=make_verifier(password_of("alice")),
            ),
            make_login("bob", stored_password=hash_password(password_of("bob"), TEST_BCRYPT_COST)),
            make_login("legacy", stored_password=password_of("legacy")),
            make_login(
                "outsider",
                stored_password=hash_password(password_of("outsider"), TEST_BCRYPT_COST),
                scram_verifier=make_verifier(password_of("outsider")),
                role=None,
            ),
        ]
    )


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test gateway: a free port, no metrics endpoint, short timeouts."""
    base: dict[str, Any] = {"port": 0, "metrics_port": None, "shutdown_timeout": 5.0, "log_queries": True}
    base.update(overrides)
    return Settings(**base)


@asynccontextmanager
async def running_gateway(
    store: InMemoryCredentialStore | None = None, **overrides: Any
) -> AsyncIterator[Gateway]:
    """A started gateway; stopped (drained) on exit."""
    handlers = _handlers(overrides)
    gateway = Gateway(make_settings(**overrides), credential_store=store or make_store(), **handlers)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop(timeout=2)


def _handlers(overrides: dict[str, Any]) -> dict[str, Any]:
    return {k: overrides.pop(k) for k in ("semantic", "catalog", "metrics") if k in overrides}
