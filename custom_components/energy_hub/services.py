"""Service actions, registered once for the domain."""

from datetime import date, datetime
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, service
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN
from .coordinator import EnergyHubConfigEntry

SERVICE_REBUILD_STATISTICS = "rebuild_statistics"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_START = "start"

REBUILD_SCHEMA = vol.Schema(
    {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string, vol.Required(ATTR_START): cv.date}
)


async def _async_rebuild_statistics(call: ServiceCall) -> ServiceResponse:
    entry: EnergyHubConfigEntry = service.async_get_config_entry(
        call.hass, DOMAIN, call.data[ATTR_CONFIG_ENTRY_ID]
    )
    coordinator = entry.runtime_data
    if not coordinator.has_history:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_statistics",
            translation_placeholders={"name": entry.title},
        )
    start: date = call.data[ATTR_START]
    if start > dt_util.now().date():
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="start_in_future")
    local_midnight = datetime(
        start.year, start.month, start.day, tzinfo=dt_util.get_default_time_zone()
    )
    written = await coordinator.async_rebuild_history(dt_util.as_utc(local_midnight))
    return {"hours_written": dict[str, Any](written)}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the domain's actions."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_REBUILD_STATISTICS,
        _async_rebuild_statistics,
        schema=REBUILD_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
