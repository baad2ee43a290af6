"""Fixtures for the sandbox's own tests: an in-process sandbox on a free loopback port."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
import pytest

from sandbox import STATE_KEY, ManualClock, SandboxState, create_app

NOW = datetime(2026, 11, 23, 18, 17, tzinfo=UTC)
"""The sandbox clock in these tests: a November weekday evening, inside the 18:00 slot."""

CI = "/carbon-intensity"


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """The sandbox listens on 127.0.0.1; the test harness still refuses any other host."""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def sandbox_app(clock: ManualClock) -> web.Application:
    return create_app(clock=clock)


@pytest.fixture
def sandbox_state(sandbox_app: web.Application) -> SandboxState:
    return sandbox_app[STATE_KEY]


@pytest.fixture
async def client(
    sandbox_app: web.Application,
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(sandbox_app, host="127.0.0.1")) as test_client:
        yield test_client
