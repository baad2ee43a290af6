"""Setting up and unloading entries, and what happens when setup cannot fetch."""

from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_hub.const import DOMAIN

from .carbon_intensity_mocks import NATIONAL_FW48H, national_entry, setup_national


async def test_setup_and_unload(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """An entry loads, then unloads cleanly: entities unavailable, no timers left."""
    entry = await setup_national(hass, mock_api, freezer)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.source.request_count == 2

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    state = hass.states.get("sensor.great_britain_grid_carbon_intensity")
    assert state is not None
    assert state.state == STATE_UNAVAILABLE


async def test_setup_retries_when_service_down(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """The service down at start: setup is retried later (not ready), not failed."""
    freezer.move_to("2018-01-20T12:10:00+00:00")
    mock_api.get(NATIONAL_FW48H, status=500)
    entry = national_entry()
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert (
        entry.reason
        == "Could not update from the service: https://api.carbonintensity.org.uk answered HTTP 500"
    )


async def test_unknown_source_is_an_error(hass: HomeAssistant) -> None:
    """An entry naming a source this version does not know fails with a clear error."""
    entry = MockConfigEntry(domain=DOMAIN, title="?", unique_id="x", data={"source": "nope"})
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason == (
        "This entry names a source Energy Hub does not know: nope. Remove it and add it again"
    )
