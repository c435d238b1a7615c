"""Wire-layer fixtures: an in-process gateway and raw connections to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from sqlgate.gateway import Gateway
from tests.support.gateways import password_of, running_gateway
from tests.support.numbers import NumbersHandler
from tests.support.rawpg import RawPg


@pytest.fixture
def numbers() -> NumbersHandler:
    """The semantic handler of the test gateway (a virtual ``numbers`` table)."""
    return NumbersHandler()


@pytest.fixture
async def gateway(numbers: NumbersHandler) -> AsyncIterator[Gateway]:
    async with running_gateway(semantic=numbers) as gw:
        yield gw


@pytest.fixture
async def connect(gateway: Gateway) -> AsyncIterator[Callable[..., Awaitable[RawPg]]]:
    """``await connect()``: a raw connection authenticated as alice (closed after the test)."""
    opened: list[RawPg] = []

    async def make(user: str = "alice", **params: str) -> RawPg:
        conn = await RawPg.connect(gateway.port)
        opened.append(conn)
        messages = await conn.startup(user, password_of(user), params=params or None)
        assert type(messages[-1]).__name__ == "ReadyForQuery", messages
        return conn

    yield make
    for conn in opened:
        await conn.close()
