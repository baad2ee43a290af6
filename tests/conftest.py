"""Fixtures shared by the Energy Hub tests."""

from collections.abc import AsyncIterator, Generator
from datetime import UTC, datetime
import json
import logging
from pathlib import Path
import re
from typing import Any
from unittest.mock import PropertyMock, patch

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.energy_hub import PLATFORMS
from custom_components.energy_hub.const import DOMAIN
from sandbox import create_app

FIXTURES = Path(__file__).parent / "fixtures"

# The harness logs every SQL statement of the test recorder at INFO; that drowns the output.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
# The in-process sandbox's access log cannot format times while the clock is frozen.
logging.getLogger("aiohttp.access").disabled = True
CI_URL = "https://api.carbonintensity.org.uk"

#: Tests that write long-term statistics; scripts/test runs them on SQLite and PostgreSQL
#: (``-m both_databases --dburl postgresql://...``): whole files, and elsewhere by name.
BOTH_DATABASES_FILES = {
    "test_statistics.py",
    "test_statistics_races.py",
    "test_statistics_year.py",
    "test_history.py",
}
BOTH_DATABASES_NAMES = re.compile(r"restart|statistic|backfill")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of tests run on every recorder database."""
    config.addinivalue_line(
        "markers", "both_databases: statistics test, run on SQLite and on PostgreSQL"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the statistics tests that scripts/test runs on PostgreSQL too."""
    for item in items:
        if {"sandbox", "api"} & set(item.path.parts):
            continue
        if item.path.name in BOTH_DATABASES_FILES or BOTH_DATABASES_NAMES.search(item.name):
            item.add_marker(pytest.mark.both_databases)


def database_name(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: the recorder database this run uses (``--dburl``)."""
    url = str(request.config.getoption("dburl"))
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def load_json(name: str) -> Any:
    """A JSON fixture from tests/fixtures."""
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(autouse=True)
def _home_assistant(request: pytest.FixtureRequest) -> None:
    """Every Home Assistant test gets an in-memory recorder and our custom integration.

    The recorder must be set up before ``hass``, so it is requested here, first. The sandbox's
    own tests and the API clients' tests do not need Home Assistant.
    """
    if {"sandbox", "api"} & set(request.node.path.parts):
        return
    request.getfixturevalue("recorder_mock")
    request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default as enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Syrupy with Home Assistant's serializer (registry ids, contexts and entry ids left out),
    the files in tests/snapshots/. The harness's own fixture of this name is not used."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def mock_api() -> Generator[aioresponses]:
    """Vendor HTTP mocked with aioresponses; loopback (the sandbox) passes through."""
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        yield mocked


type Sandbox = TestClient[web.Request, web.Application]
"""The in-process sandbox's test client (``/_admin/requests``, ``/_admin/faults/<vendor>``)."""


@pytest.fixture
def start(request: pytest.FixtureRequest) -> datetime:
    """Frozen time when the sandbox starts: the test module's ``START`` if it has one (a module
    may also override this fixture, a test parametrize it), else a November weekday evening."""
    return getattr(request.module, "START", datetime(2026, 11, 23, 18, 17, tzinfo=UTC))


@pytest.fixture
async def sandbox(
    socket_enabled: None,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    start: datetime,
) -> AsyncIterator[Sandbox]:
    """Every vendor emulated on a free loopback port, following Home Assistant's frozen clock.

    ``ENERGY_HUB_SANDBOX_URL`` points every source at it; any other host stays refused.
    """
    freezer.move_to(start)
    async with TestClient(
        TestServer(create_app(clock=dt_util.utcnow), host="127.0.0.1", access_log=None)
    ) as client:
        monkeypatch.setenv("ENERGY_HUB_SANDBOX_URL", str(client.make_url("")).rstrip("/"))
        yield client


async def sandbox_requests(sandbox: Sandbox, vendor: str, *, reset: bool = False) -> dict[str, Any]:
    """The sandbox's request counter of one vendor (``total``, ``paths``); ``reset`` zeroes it."""
    counts: dict[str, Any] = (await (await sandbox.get("/_admin/requests")).json())[vendor]
    if reset:
        await sandbox.delete("/_admin/requests")
    return counts


async def setup_integration(
    hass: HomeAssistant, config: MockConfigEntry, *, loaded: bool = True
) -> MockConfigEntry:
    """Add ``config`` and set it up, background tasks (first history runs) included.

    ``loaded=False`` for an entry whose setup is expected to fail (its state tells how).
    """
    config.add_to_hass(hass)
    result = await hass.config_entries.async_setup(config.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    if loaded:
        assert result
    return config


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """The entry :func:`init_integration` sets up: a test module overrides it."""
    raise NotImplementedError("this test module defines no mock_config_entry fixture")


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, request: pytest.FixtureRequest
) -> MockConfigEntry:
    """``mock_config_entry`` set up and loaded; parametrized indirectly with a list of
    platforms, only those are set up (``snapshot_platform`` wants one)."""
    platforms = getattr(request, "param", PLATFORMS)
    with patch("custom_components.energy_hub.PLATFORMS", platforms):
        return await setup_integration(hass, mock_config_entry)


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime | str
) -> None:
    """Move the frozen clock to ``when`` and run what is due (refreshes do real socket I/O)."""
    freezer.move_to(when)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """The state of ``entity_id``, which must exist."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def start_flow(hass: HomeAssistant, source: str) -> str:
    """A user flow past the menu (which offers ``source``), at ``source``'s first form, shown
    without errors: its flow id."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert source in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": source}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == source
    assert result["errors"] == {}
    return str(result["flow_id"])


def url_re(base: str, path_pattern: str) -> re.Pattern[str]:
    """A URL pattern for aioresponses: the base URL, then a path regular expression."""
    return re.compile(re.escape(base) + path_pattern + r"(\?.*)?$")


def request_count(mocked: aioresponses) -> int:
    """How many requests aioresponses has seen."""
    return sum(len(calls) for calls in mocked.requests.values())


__all__ = [
    "CI_URL",
    "DOMAIN",
    "Sandbox",
    "advance",
    "load_json",
    "request_count",
    "sandbox_requests",
    "setup_integration",
    "start_flow",
    "state_of",
    "url_re",
]
