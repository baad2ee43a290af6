"""Numbers: a value that commands a device (a battery's power setpoint), from the metric
catalog. The reading's ``min`` and ``max`` attributes bound it (a battery's rated power).

Nothing is sent at setup or reload: only a value set here sends a command.
"""

from typing import Any

from homeassistant.components.number import NumberEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EnergyHubConfigEntry, EnergyHubCoordinator
from .entity import EnergyHubEntity, async_setup_platform
from .metrics import EnergyHubNumberEntityDescription
from .select import async_control
from .sources.base import Reading

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Numbers for the entry's readings that have one."""
    async_setup_platform(
        entry, EnergyHubNumberEntityDescription, async_add_entities, EnergyHubNumber
    )


class EnergyHubNumber(EnergyHubEntity, NumberEntity):
    """A number for one reading: the value the device reports; setting it sends a command."""

    entity_description: EnergyHubNumberEntityDescription

    def __init__(
        self,
        coordinator: EnergyHubCoordinator[Any],
        reading: Reading,
        description: EnergyHubNumberEntityDescription,
    ) -> None:
        """Remember which metric this number sets."""
        super().__init__(coordinator, reading, description)
        self._metric = reading.metric

    def _bound(self, name: str, default: float) -> float:
        reading = self.reading
        value = (reading.attributes or {}).get(name) if reading else None
        return float(value) if isinstance(value, int | float) else default

    @property
    def native_min_value(self) -> float:
        """The reading's ``min``."""
        return self._bound("min", 0.0)

    @property
    def native_max_value(self) -> float:
        """The reading's ``max``."""
        return self._bound("max", 0.0)

    @property
    def native_value(self) -> float | None:
        """The value the device's latest status shows."""
        reading = self.reading
        return float(reading.value) if reading and reading.value is not None else None

    @property
    def extra_state_attributes(self) -> None:
        """None: the bounds are the number's own min and max."""
        return None

    async def async_set_native_value(self, value: float) -> None:
        """Send the command for ``value``."""
        await async_control(self.coordinator, self._metric, value)
