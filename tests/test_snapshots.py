"""The catalogue as a reviewed artefact: every source's entities, states, devices and diagnostics.

Each source is set up against the in-process sandbox at a fixed moment with every entity
enabled; the entity registry entries, states, devices and the diagnostics are compared with
``snapshots/test_snapshots.ambr``. A change there is a change users see: review the diff, then
regenerate with ``pytest tests/test_snapshots.py --snapshot-update``.
"""

from collections.abc import Callable
from datetime import UTC, datetime

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
from syrupy.filters import props

from .carbon_intensity_mocks import regional_entry
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


@pytest.fixture
def mock_config_entry(source: str) -> MockConfigEntry:
    """The entry of the source under test."""
    return SOURCES[source][1]()


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "sandbox")
@pytest.mark.parametrize(
    "init_integration",
    [[Platform.SENSOR], [Platform.BINARY_SENSOR]],
    ids=["sensor", "binary_sensor"],
    indirect=True,
)
@pytest.mark.parametrize(("start", "source"), CASES)
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    init_integration: MockConfigEntry,
) -> None:
    """Entity registry entries and states of one platform, all entities enabled."""
    entry_id = init_integration.entry_id
    if not er.async_entries_for_config_entry(entity_registry, entry_id):
        assert snapshot(name="none") == []  # snapshot_platform wants one entity at least
        return
    # Home Assistant 2026.11 adds `compat_name` to registry entries; the same snapshots serve
    # 2026.10 and 2026.11, so it is left out.
    await snapshot_platform(
        hass, entity_registry, snapshot.with_defaults(exclude=props("compat_name")), entry_id
    )


@pytest.mark.usefixtures("sandbox")
@pytest.mark.parametrize(("start", "source"), CASES)
async def test_devices(
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    init_integration: MockConfigEntry,
) -> None:
    """The source's devices; every entity belongs to one of them."""
    devices = dr.async_entries_for_config_entry(device_registry, init_integration.entry_id)
    assert sorted(devices, key=lambda device: sorted(device.identifiers)) == snapshot
    ids = {device.id for device in devices}
    for entity in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id):
        assert entity.device_id in ids, entity.entity_id


@pytest.mark.parametrize(("start", "source"), CASES)
async def test_diagnostics(
    hass: HomeAssistant,
    sandbox: object,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
    init_integration: MockConfigEntry,
) -> None:
    """Diagnostics: what is held, redacted (``sandbox`` first: the clock is frozen before the
    client's token is made)."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diagnostics == snapshot
