"""Sources without credentials (Carbon Intensity, Elexon): a 401 or 403 is a passing fault.

There is nothing a reauth could ask for, so the entry must not stop: the update fails, backs
off and recovers by itself once the service answers again.
"""

from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest

from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.sources import SOURCES

from .carbon_intensity_mocks import (
    GENERATION,
    NATIONAL_FW48H,
    mock_national,
    setup_national,
)
from .conftest import advance, request_count, state_of
from .elexon_mocks import (
    CURRENT,
    FUELINST,
    INDO,
    MARKET_INDEX,
    SYSTEM_PRICES,
    mock_elexon,
    setup_elexon,
)


def test_these_sources_have_no_credentials() -> None:
    """What the tests below rely on: nothing to re-enter for either source."""
    assert SOURCES["elexon"].credentials_schema() is None
    assert SOURCES["carbon_intensity"].credentials_schema() is None


@pytest.mark.parametrize("status", [401, 403])
async def test_elexon_rejecting_then_answering_recovers_without_reauth(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory, status: int
) -> None:
    """A 401/403 from Elexon: entities unavailable, no reauth, polling goes on (backoff of a
    minute); the next good answer brings them back."""
    entry = await setup_elexon(hass, mock_api, freezer)
    wind = "sensor.elexon_bmrs_wind_generation"
    assert state_of(hass, wind) == "6813"

    mock_api.clear()
    for url in (FUELINST, INDO, SYSTEM_PRICES, MARKET_INDEX, CURRENT):
        mock_api.get(url, status=status, payload={"error": "Unauthorized"}, repeat=True)
    await advance(hass, freezer, "2025-01-15T17:56:01+00:00")
    assert request_count(mock_api) >= 1
    assert state_of(hass, wind) == STATE_UNAVAILABLE
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert not list(entry.async_get_active_flows(hass, {"reauth"}))

    mock_api.clear()
    mock_elexon(mock_api)
    await advance(hass, freezer, "2025-01-15T17:57:02+00:00")  # one minute of backoff
    assert request_count(mock_api) >= 1
    assert state_of(hass, wind) == "6813"
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_carbon_intensity_rejecting_then_answering_recovers_without_reauth(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Carbon Intensity answering 401 for hours: once its held forecast no longer covers now
    the update fails (no reauth, the entry stays loaded and keeps polling); the next good
    answer updates the entry again."""
    entry = await setup_national(hass, mock_api, freezer)
    coordinator = entry.runtime_data

    mock_api.clear()
    mock_api.get(NATIONAL_FW48H, status=401, payload={"error": "Unauthorized"}, repeat=True)
    mock_api.get(GENERATION, status=401, payload={"error": "Unauthorized"}, repeat=True)
    for hour in (12, 13, 14, 15):
        for minute in (1, 31):
            await advance(hass, freezer, f"2018-01-20T{hour}:{minute:02d}:30+00:00")
    assert request_count(mock_api) >= 1
    assert not coordinator.last_update_success
    assert coordinator.failures >= 1
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert not list(entry.async_get_active_flows(hass, {"reauth"}))

    mock_api.clear()
    mock_national(mock_api)
    await advance(hass, freezer, "2018-01-20T16:02:00+00:00")  # after the longest backoff
    assert request_count(mock_api) >= 1
    assert coordinator.last_update_success
    assert coordinator.failures == 0
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
