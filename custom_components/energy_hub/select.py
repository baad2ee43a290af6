"""Selects: a choice that commands a device (a battery's mode), from the metric catalog.

The source sends the command (nothing is sent at setup or reload: only a choice made here or by
an action sends one), confirms it with a fresh status, and the entity shows the status.
"""

from typing import Any, Protocol, runtime_checkable

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EnergyHubConfigEntry, EnergyHubCoordinator
from .entity import EnergyHubEntity, async_setup_platform
from .metrics import EnergyHubSelectEntityDescription
from .sources.base import Reading

PARALLEL_UPDATES = 1


@runtime_checkable
class Controllable(Protocol):
    """A source whose devices take commands."""

    async def async_control(self, metric: str, value: Any) -> None:
        """Send what makes ``metric`` show ``value``, and confirm it; HomeAssistantError
        (translated) when the vendor refuses or does not confirm it."""


async def async_control(coordinator: EnergyHubCoordinator[Any], metric: str, value: Any) -> None:
    """Have the entry's source send a command, then show what the confirming status says."""
    source = coordinator.source
    if not isinstance(source, Controllable):
        raise NotImplementedError(metric)
    try:
        await source.async_control(metric, value)
    finally:
        await coordinator.async_refresh()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Selects for the entry's readings that have one."""
    async_setup_platform(
        entry, EnergyHubSelectEntityDescription, async_add_entities, EnergyHubSelect
    )


class EnergyHubSelect(EnergyHubEntity, SelectEntity):
    """A select for one reading: the option the device reports; choosing sends a command."""

    entity_description: EnergyHubSelectEntityDescription

    def __init__(
        self,
        coordinator: EnergyHubCoordinator[Any],
        reading: Reading,
        description: EnergyHubSelectEntityDescription,
    ) -> None:
        """The options come from the description."""
        super().__init__(coordinator, reading, description)
        self._metric = reading.metric

    @property
    def current_option(self) -> str | None:
        """The option the device's latest status shows."""
        reading = self.reading
        return str(reading.value) if reading and reading.value is not None else None

    @property
    def available(self) -> bool:
        """Available while the source has a status (an unknown mode shows no option)."""
        return self.coordinator.last_update_success and self.reading is not None

    async def async_select_option(self, option: str) -> None:
        """Send the command for ``option``."""
        await async_control(self.coordinator, self._metric, option)
