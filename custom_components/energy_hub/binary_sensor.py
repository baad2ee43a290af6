"""Binary sensors: "greenest window now" and other on/off readings."""

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
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
    """Binary sensors for the entry's on/off readings."""
    async_setup_platform(entry, Platform.BINARY_SENSOR, async_add_entities, EnergyHubBinarySensor)


class EnergyHubBinarySensor(EnergyHubEntity, BinarySensorEntity):
    """A binary sensor for one reading."""

    def __init__(self, coordinator: EnergyHubCoordinator, reading: Reading, metric: Metric) -> None:
        """Device class from the metric."""
        super().__init__(coordinator, reading, metric)
        if isinstance(metric.device_class, BinarySensorDeviceClass):
            self._attr_device_class = metric.device_class

    @property
    def is_on(self) -> bool | None:
        """On while the reading is true."""
        reading = self.reading
        return bool(reading.value) if reading and reading.value is not None else None
