"""Energy Hub: batteries, PV, tariffs and the GB grid in Home Assistant."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .card import async_register_card
from .const import CONF_SOURCE, DOMAIN
from .coordinator import (
    EnergyHubConfigEntry,
    EnergyHubCoordinator,
    async_remove_issues,
    device_identifier,
    state_store,
)
from .services import async_setup_services
from .sources import SOURCES

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, so they exist even while no entry is loaded."""
    async_setup_services(hass)
    await async_register_card(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: EnergyHubConfigEntry) -> bool:
    """Build the entry's source, fetch once, then set up the platforms."""
    source_key = str(entry.data.get(CONF_SOURCE))
    if (source_cls := SOURCES.get(source_key)) is None:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unknown_source",
            translation_placeholders={"source": str(source_key)},
        )
    source = source_cls(async_get_clientsession(hass), entry.data, entry.options)
    source.bind(hass)
    coordinator = EnergyHubCoordinator(hass, entry, source)
    await coordinator.async_restore()
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_track_entities()
    # History goes into long-term statistics in the background: it never delays start-up.
    coordinator.async_start_history()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EnergyHubConfigEntry) -> bool:
    """Unload the platforms; the coordinator shuts down with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: EnergyHubConfigEntry) -> None:
    """Forget the state the entry's source kept across restarts, and its repair issues."""
    await state_store(hass, entry.entry_id).async_remove()
    async_remove_issues(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: EnergyHubConfigEntry, device: DeviceEntry
) -> bool:
    """A device can be deleted by hand only once its source no longer reports it."""
    current = {device_identifier(entry, key) for key in entry.runtime_data.devices}
    return not device.identifiers & current
