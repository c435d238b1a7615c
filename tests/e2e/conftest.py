"""End-to-end fixtures: a gateway in this process, reached by real client programs and drivers."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from sqlgate.gateway import Gateway
from tests.support.gateways import password_of, running_gateway
from tests.support.numbers import NumbersHandler

pytestmark = pytest.mark.e2e


@dataclass
class Target:
    """Where a client connects, as user alice unless told otherwise."""

    port: int
    host: str = "127.0.0.1"
    user: str = "alice"
    database: str = "db"

    @property
    def password(self) -> str:
        return password_of(self.user)

    def dsn(self, **extra: str) -> str:
        """A libpq keyword/value connection string."""
        parts = {
            "host": self.host,
            "port": str(self.port),
            "user": self.user,
            "password": self.password,
            "dbname": self.database,
            "sslmode": "disable",
            **extra,
        }
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def url(self, scheme: str = "postgresql") -> str:
        return f"{scheme}://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def as_user(self, user: str) -> Target:
        return Target(self.port, self.host, user, self.database)


@pytest.fixture
async def e2e_gateway() -> AsyncIterator[Gateway]:
    async with running_gateway(semantic=NumbersHandler()) as gw:
        yield gw


@pytest.fixture
def target(e2e_gateway: Gateway) -> Target:
    return Target(e2e_gateway.port)


def require_program(name: str) -> str:
    """The path of ``name``, or skip the test saying what is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/install-test-clients installs it)")
    return path
