"""Base entity: device info and unique ids from the source's devices and readings.

Everything else an entity shows (name and icon by translation key, classes, unit, precision,
category, enabled by default) comes from its entity description in the metric catalog.
"""

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import EnergyHubConfigEntry, EnergyHubCoordinator, device_identifier
from .metrics import METRICS, UNRECORDED_ATTRIBUTES, EnergyHubEntityDescription
from .sources.base import Reading


class EnergyHubEntity(CoordinatorEntity[EnergyHubCoordinator[Any]]):
    """An entity showing one reading of the entry's source (whatever its data type)."""

    _attr_has_entity_name = True
    # The class's, not the description's: Home Assistant reads it once per entity class.
    _unrecorded_attributes = UNRECORDED_ATTRIBUTES
    entity_description: EnergyHubEntityDescription

    def __init__(
        self,
        coordinator: EnergyHubCoordinator[Any],
        reading: Reading,
        description: EnergyHubEntityDescription,
    ) -> None:
        """The description says how the reading is shown; the reading names the device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._key = reading.key
        self._attr_unique_id = f"{entry.unique_id}:{reading.key}"
        if reading.variant:
            self._attr_translation_placeholders = {"variant": reading.label or reading.variant}
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


@cache
def _own_unrecorded_class(cls: type[Entity], extra: frozenset[str]) -> type[Entity]:
    """``cls`` keeping ``extra`` out of the recorder too: Home Assistant reads the attributes
    to leave out once per class, so a metric with its own gets its own subclass."""
    unrecorded = frozenset(getattr(cls, "_unrecorded_attributes", frozenset())) | extra
    return type(cls.__name__, (cls,), {"_unrecorded_attributes": unrecorded})


@callback
def async_setup_platform[DescriptionT: EnergyHubEntityDescription](
    entry: EnergyHubConfigEntry,
    description_type: type[DescriptionT],
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[EnergyHubCoordinator[Any], Reading, DescriptionT], Entity],
) -> None:
    """Add an entity per reading whose description is a ``description_type`` (the
    platform's), now and whenever new readings appear."""
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
            description = METRICS[reading.metric]
            if isinstance(description, description_type) and key not in known:
                known[key] = reading.device
                make = factory
                if description.own_unrecorded_attributes and isinstance(factory, type):
                    make = _own_unrecorded_class(factory, description.own_unrecorded_attributes)
                new.append(make(coordinator, reading, description))
        if new:
            async_add_entities(new)

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))
