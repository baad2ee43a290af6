"""XOLTA's timed actions: ``energy_hub.xolta_charge`` and ``energy_hub.xolta_discharge``.

Charge or discharge the battery of a XOLTA entry on the official API at a power (W) until a
time or a state of charge, then return to the mode it had before. The plan is the source's:
it is persisted with the entry's state, so the return happens after a restart too.
"""

from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, service
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN
from .coordinator import EnergyHubConfigEntry

SERVICE_CHARGE = "xolta_charge"
SERVICE_DISCHARGE = "xolta_discharge"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_POWER = "power"
ATTR_UNTIL = "until"
ATTR_SOC = "soc"

SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_POWER): vol.All(vol.Coerce(float), vol.Range(min=1, max=100_000)),
        vol.Optional(ATTR_UNTIL): cv.datetime,
        vol.Optional(ATTR_SOC): vol.All(vol.Coerce(float), vol.Range(min=0, max=100)),
    }
)


async def _async_timed(call: ServiceCall, sign: int) -> None:
    entry: EnergyHubConfigEntry = service.async_get_config_entry(
        call.hass, DOMAIN, call.data[ATTR_CONFIG_ENTRY_ID]
    )
    coordinator = entry.runtime_data
    source: Any = coordinator.source
    if not hasattr(source, "async_timed"):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="xolta_control_needs_api",
            translation_placeholders={"name": entry.title},
        )
    until: datetime | None = call.data.get(ATTR_UNTIL)
    if until is not None:
        if until.tzinfo is None:
            until = until.replace(tzinfo=dt_util.get_default_time_zone())
        until = dt_util.as_utc(until)
    try:
        await source.async_timed(
            sign * call.data[ATTR_POWER], until, call.data.get(ATTR_SOC), dt_util.utcnow()
        )
    finally:
        await coordinator.async_refresh()  # shows the new mode; the plan is stored after it


async def _async_charge(call: ServiceCall) -> None:
    await _async_timed(call, -1)


async def _async_discharge(call: ServiceCall) -> None:
    await _async_timed(call, +1)


def async_setup_xolta_actions(hass: HomeAssistant) -> None:
    """Register the XOLTA actions (from ``services.async_setup_services``)."""
    hass.services.async_register(DOMAIN, SERVICE_CHARGE, _async_charge, schema=SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_DISCHARGE, _async_discharge, schema=SCHEMA)
