"""Base entity: device info and unique ids from the source's devices and readings."""

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import EnergyHubConfigEntry, EnergyHubCoordinator, device_identifier
from .metrics import METRICS, UNRECORDED_ATTRIBUTES, Metric
from .sources.base import Reading


class EnergyHubEntity(CoordinatorEntity[EnergyHubCoordinator]):
    """An entity showing one reading of the entry's source."""

    _attr_has_entity_name = True
    _unrecorded_attributes = UNRECORDED_ATTRIBUTES

    def __init__(self, coordinator: EnergyHubCoordinator, reading: Reading, metric: Metric) -> None:
        """Name, icon, classes from the metric; device from the reading's device."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self._key = reading.key
        self._attr_unique_id = f"{entry.unique_id}:{reading.key}"
        self._attr_translation_key = metric.translation_key
        if reading.variant:
            self._attr_translation_placeholders = {"variant": reading.label or reading.variant}
        self._attr_entity_category = metric.entity_category
        self._attr_entity_registry_enabled_default = metric.enabled_default
        # The coordinator registered the device (name, model, via...); the entity links to it.
        self._attr_device_info = DeviceInfo(identifiers={device_identifier(entry, reading.device)})

    @property
    def reading(self) -> Reading | None:
        """This entity's reading in the coordinator's latest data."""
        return self.coordinator.readings.get(self._key)

    @property
    def available(self) -> bool:
        """Unavailable when the source failed or has no value for this metric."""
        reading = self.reading
        return super().available and reading is not None and reading.value is not None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The reading's attributes (forecasts, windows)."""
        reading = self.reading
        return reading.attributes if reading else None


@callback
def async_setup_platform(
    entry: EnergyHubConfigEntry,
    platform: Platform,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[EnergyHubCoordinator, Reading, Metric], Entity],
) -> None:
    """Add an entity per reading of this platform, now and whenever new readings appear."""
    coordinator = entry.runtime_data
    known: dict[str, str] = {}  # reading key -> device key

    @callback
    def add_new() -> None:
        # Readings of devices that went away: their entities went with the device, and come
        # back new if the device returns.
        for key in [key for key, device in known.items() if device not in coordinator.devices]:
            del known[key]
        new: list[Entity] = []
        for key, reading in coordinator.readings.items():
            metric = METRICS[reading.metric]
            if metric.platform is platform and key not in known:
                known[key] = reading.device
                new.append(factory(coordinator, reading, metric))
        if new:
            async_add_entities(new)

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))
