"""Diagnostics: the entry (redacted), the coordinator's state and a summary of held data."""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_SOURCE
from .coordinator import EnergyHubConfigEntry

#: Keys never shown: secrets, account and meter identifiers, location.
TO_REDACT = {
    "access_token",
    "account_number",
    "api_key",
    "base_url",
    "email",
    "mac",
    "mpan",
    "mprn",
    "password",
    "postcode",
    "refresh_token",
    "serial_number",
    "site_id",
    "site_name",
    "token",
    "title",
    "unique_id",
    "username",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnergyHubConfigEntry
) -> dict[str, Any]:
    """What a maintainer needs to understand a problem, without secrets."""
    coordinator = entry.runtime_data
    devices = list(coordinator.devices)
    return async_redact_data(
        {
            "entry": {
                "source": entry.data.get(CONF_SOURCE),
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "coordinator": {
                "last_update_success": coordinator.last_update_success,
                "failures": coordinator.failures,
                "update_interval_seconds": (
                    coordinator.update_interval.total_seconds()
                    if coordinator.update_interval
                    else None
                ),
                "requests_made": coordinator.source.request_count,
            },
            "data": coordinator.source.diagnostics(coordinator.data),
            # Device keys can hold meter or site identifiers: devices are numbered instead.
            "readings": [
                {
                    "device": devices.index(reading.device) if reading.device in devices else None,
                    "metric": reading.metric,
                    "variant": reading.variant,
                    "value": reading.value,
                }
                for reading in coordinator.readings.values()
            ],
        },
        TO_REDACT,
    )
