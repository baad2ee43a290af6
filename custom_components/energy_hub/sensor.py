"""Sensors: one per reading a source reports, described by the metric catalog."""

from datetime import datetime
from decimal import Decimal

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EnergyHubConfigEntry, EnergyHubCoordinator
from .entity import EnergyHubEntity, async_setup_platform
from .metrics import Metric
from .sources.base import Reading

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Sensors for the entry's readings."""
    async_setup_platform(entry, Platform.SENSOR, async_add_entities, EnergyHubSensor)


class EnergyHubSensor(EnergyHubEntity, SensorEntity):
    """A sensor for one reading."""

    def __init__(self, coordinator: EnergyHubCoordinator, reading: Reading, metric: Metric) -> None:
        """Device class, state class, unit and precision come from the metric."""
        super().__init__(coordinator, reading, metric)
        if isinstance(metric.device_class, SensorDeviceClass):
            self._attr_device_class = metric.device_class
        if isinstance(metric.state_class, SensorStateClass):
            self._attr_state_class = metric.state_class
        self._attr_native_unit_of_measurement = reading.unit or metric.unit
        self._attr_suggested_display_precision = metric.precision
        if metric.options is not None:
            self._attr_options = list(metric.options)

    @property
    def native_value(self) -> str | int | float | datetime | Decimal | None:
        """The reading's value."""
        reading = self.reading
        return reading.value if reading else None
