"""Sensors: one per reading a source reports, described by the metric catalog."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import SensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EnergyHubConfigEntry, EnergyHubCoordinator
from .entity import EnergyHubEntity, async_setup_platform
from .metrics import EnergyHubSensorEntityDescription
from .sources.base import Reading

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Sensors for the entry's readings."""
    async_setup_platform(
        entry, EnergyHubSensorEntityDescription, async_add_entities, EnergyHubSensor
    )


class EnergyHubSensor(EnergyHubEntity, SensorEntity):
    """A sensor for one reading."""

    entity_description: EnergyHubSensorEntityDescription

    def __init__(
        self,
        coordinator: EnergyHubCoordinator[Any],
        reading: Reading,
        description: EnergyHubSensorEntityDescription,
    ) -> None:
        """A reading with its own unit (a price in the tariff's currency) shows that unit."""
        if reading.unit:
            description = replace(description, native_unit_of_measurement=reading.unit)
        super().__init__(coordinator, reading, description)

    @property
    def native_value(self) -> str | int | float | datetime | Decimal | None:
        """The reading's value."""
        reading = self.reading
        return reading.value if reading else None
