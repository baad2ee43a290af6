"""Binary sensors: "greenest window now" and other on/off readings."""

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EnergyHubConfigEntry
from .entity import EnergyHubEntity, async_setup_platform
from .metrics import EnergyHubBinarySensorEntityDescription

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Binary sensors for the entry's on/off readings."""
    async_setup_platform(
        entry, EnergyHubBinarySensorEntityDescription, async_add_entities, EnergyHubBinarySensor
    )


class EnergyHubBinarySensor(EnergyHubEntity, BinarySensorEntity):
    """A binary sensor for one reading."""

    entity_description: EnergyHubBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """On while the reading is true."""
        reading = self.reading
        return bool(reading.value) if reading and reading.value is not None else None
