"""The catalogue as a reviewed artefact: every source's entities, states, devices and diagnostics.

Each source is set up against the in-process sandbox at a fixed moment with every entity
enabled; the entity registry entries, states, devices and the diagnostics are compared with
``snapshots/test_snapshots.ambr``. A change there is a change users see: review the diff, then
regenerate with ``pytest tests/test_snapshots.py --snapshot-update``.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from .carbon_intensity_mocks import regional_entry
from .conftest import setup_integration
from .elexon_mocks import elexon_entry
from .entries import aretas_entry, hoymiles_entry, octopus_entry, tariff_entry, xolta_entry

FLUX = (
    "00:00-02:00 0.3072\n02:00-05:00 0.18432\n05:00-16:00 0.3072\n"
    "16:00-19:00 0.43008\n19:00-24:00 0.3072"
)

#: Per source: the moment the sandbox starts at (a time with data worth showing) and the entry.
SOURCES: dict[str, tuple[datetime, Callable[[], MockConfigEntry]]] = {
    "aretas": (datetime(2026, 6, 10, 12, 0, 30, tzinfo=UTC), aretas_entry),
    "carbon_intensity": (datetime(2026, 11, 23, 18, 17, tzinfo=UTC), regional_entry),
    "elexon": (datetime(2026, 11, 23, 18, 17, tzinfo=UTC), elexon_entry),
    "hoymiles": (datetime(2026, 6, 6, 13, 1, tzinfo=UTC), hoymiles_entry),
    "octopus": (datetime(2026, 6, 10, 11, 5, tzinfo=UTC), lambda: octopus_entry(days=1)),
    "tariff": (datetime(2026, 11, 23, 18, 17, tzinfo=UTC), lambda: tariff_entry(FLUX)),
    "xolta": (datetime(2026, 6, 6, 12, 3, tzinfo=UTC), xolta_entry),
}
CASES = [pytest.param(start, source, id=source) for source, (start, _) in SOURCES.items()]


@pytest.fixture(autouse=True)
async def london(hass: HomeAssistant) -> None:
    """The tariff's bands are local time, its currency pounds: the household is in London."""
    await hass.config.async_set_time_zone("Europe/London")
    hass.config.currency = "GBP"


async def _set_up(hass: HomeAssistant, source: str) -> MockConfigEntry:
    return await setup_integration(hass, SOURCES[source][1]())


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "sandbox")
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR])
@pytest.mark.parametrize(("start", "source"), CASES)
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    source: str,
    platform: Platform,
) -> None:
    """Entity registry entries and states of one platform, all entities enabled."""
    with patch("custom_components.energy_hub.PLATFORMS", [platform]):
        config = await _set_up(hass, source)
    if not er.async_entries_for_config_entry(entity_registry, config.entry_id):
        assert snapshot(name="none") == []  # snapshot_platform wants one entity at least
        return
    await snapshot_platform(hass, entity_registry, snapshot, config.entry_id)


@pytest.mark.usefixtures("sandbox")
@pytest.mark.parametrize(("start", "source"), CASES)
async def test_devices(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    source: str,
) -> None:
    """The source's devices; every entity belongs to one of them."""
    config = await _set_up(hass, source)
    devices = dr.async_entries_for_config_entry(device_registry, config.entry_id)
    assert sorted(devices, key=lambda device: sorted(device.identifiers)) == snapshot
    ids = {device.id for device in devices}
    for entity in er.async_entries_for_config_entry(entity_registry, config.entry_id):
        assert entity.device_id in ids, entity.entity_id


@pytest.mark.parametrize(("start", "source"), CASES)
async def test_diagnostics(
    hass: HomeAssistant,
    sandbox: object,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
    source: str,
) -> None:
    """Diagnostics: what is held, redacted (``sandbox`` first: the clock is frozen before the
    client's token is made)."""
    config = await _set_up(hass, source)
    assert await get_diagnostics_for_config_entry(hass, hass_client, config) == snapshot
