"""The coordinator's own log lines name no account: an Octopus outage against the sandbox."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import logging

from aiohttp.test_utils import TestClient, TestServer
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_hub.const import DOMAIN
from sandbox import create_app
import sandbox.octopus as sb

START = datetime(2026, 6, 10, 11, 5, tzinfo=UTC)

type Sandbox = TestClient  # type: ignore[type-arg]


@pytest.fixture
async def octopus(
    socket_enabled: None, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Sandbox]:
    """The sandbox on loopback, following Home Assistant's clock."""
    freezer.move_to(START)
    async with TestClient(
        TestServer(create_app(clock=dt_util.utcnow), host="127.0.0.1", access_log=None)
    ) as client:
        monkeypatch.setenv("ENERGY_HUB_SANDBOX_URL", str(client.make_url("")).rstrip("/"))
        yield client


async def test_failing_octopus_logs_no_account_number(
    hass: HomeAssistant,
    octopus: Sandbox,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The entry is titled with the account number (as the flow does); the warnings and
    errors of a day-long outage (updates and history) name the entry by source and id."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=sb.ACCOUNT_NUMBER,
        unique_id="octopus_a-1b2c3d4e",
        data={"source": "octopus", "api_key": sb.API_KEY, "account_number": sb.ACCOUNT_NUMBER},
        options={"backfill_days": 2, "gas_calorific_value": 39.5, "gas_meter_unit": "m3"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    caplog.clear()

    await octopus.put("/_admin/faults/octopus", json={"fault": "http_500"})
    when = START
    for _ in range(48):  # a day, every half hour
        when += timedelta(minutes=30)
        freezer.move_to(when)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

    ours = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.energy_hub") and r.levelno >= logging.WARNING
    ]
    lines = [r.getMessage() for r in ours]
    assert any(line.startswith("Error fetching octopus ") for line in lines)  # logged ...
    for line in lines:
        assert sb.ACCOUNT_NUMBER.lower() not in line.lower(), line  # ... with no account
    assert f"Error fetching octopus {entry.entry_id} data" in "\n".join(lines)
