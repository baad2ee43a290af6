"""Event entities: a day's rates, fired again whenever they change.

The shape is the Octopus Energy integration's (BottlecapDave/HomeAssistant-OctopusEnergy):
``event.<meter>_previous_day_rates``, ``..._current_day_rates`` and ``..._next_day_rates``,
whose attributes carry ``rates`` (``start``, ``end``, ``value_inc_vat``) and ``tariff_code``,
which is what Predbat reads next to a ``..._current_rate`` sensor.
"""

from collections.abc import Mapping
from typing import Any, override

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EnergyHubConfigEntry
from .entity import EnergyHubEntity, async_setup_platform
from .metrics import EnergyHubEventEntityDescription

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Event entities for the entry's event readings."""
    async_setup_platform(entry, EnergyHubEventEntityDescription, async_add_entities, EnergyHubEvent)


class EnergyHubEvent(EnergyHubEntity, EventEntity):
    """An event entity for one reading: the value is the event type, the attributes the
    event's; fired when added and whenever the attributes change."""

    entity_description: EnergyHubEventEntityDescription
    _fired: tuple[str, Mapping[str, Any]] | None = None

    @property
    @override
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """None: the event's attributes are the state's (Home Assistant adds them)."""
        return None

    def _fire_if_new(self) -> None:
        reading = self.reading
        if reading is None or reading.value is None:
            return
        event = (str(reading.value), dict(reading.attributes or {}))
        if event != self._fired:
            self._fired = event
            self._trigger_event(*event)

    @override
    async def async_added_to_hass(self) -> None:
        """Fire the held rates once the entity is there."""
        await super().async_added_to_hass()
        self._fire_if_new()
        self.async_write_ha_state()

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Fire when the rates changed (a new day, tomorrow's prices published)."""
        self._fire_if_new()
        super()._handle_coordinator_update()
