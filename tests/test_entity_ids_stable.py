"""Entity ids, unique ids and what the registry holds stay as they were before issue 16.

``tests/fixtures/registry_before.json`` was written by the code before the entity layer moved
to Home Assistant's entity descriptions (see ``entity_registry_dump``): every source's
entities must register exactly as they did then.
"""

from datetime import datetime
import json
import os
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest

from .entity_registry_dump import (
    CASES,
    REGISTRY_BEFORE,
    WRITE_ENV,
    dump,
    entry_of,
    every_entity_enabled,
)

#: Entities added on purpose since the fixture was written: new entities may come, but each
#: one is named here, so that none appears (or changes an id) by accident.
ADDED: dict[str, set[str]] = {
    "xolta": {"sensor.xolta_sandbox_house_house_energy_consumed"},  # XOLTA's house counter
    # Issue 13: day-rate events (Predbat), and the export meter's "highest rate now".
    "octopus": {
        f"event.octopus_{meter}_{day}_day_rates"
        for meter in ("electricity_import_0001", "electricity_export_0002", "gas_0001")
        for day in ("previous", "current", "next")
    }
    | {"binary_sensor.octopus_electricity_export_0002_highest_rate_now"},
    "tariff_import": {
        f"event.flux_import_{day}_day_rates" for day in ("previous", "current", "next")
    },
    "tariff_export_eur": {
        f"event.feed_in_{day}_day_rates" for day in ("previous", "current", "next")
    }
    | {"binary_sensor.feed_in_highest_rate_now"},
}
#: Entities removed on purpose: a fixed gas tariff's next and previous rate never had a value.
REMOVED: dict[str, set[str]] = {
    "octopus": {
        "sensor.octopus_gas_0001_next_rate",
        "sensor.octopus_gas_0001_next_rate_start",
        "sensor.octopus_gas_0001_previous_rate",
        # Issue 13: an export meter's best time is its highest rate (highest_rate_now).
        "binary_sensor.octopus_electricity_export_0002_cheapest_rate_now",
    },
    "tariff_export_eur": {"binary_sensor.feed_in_cheapest_rate_now"},
}
#: Attributes added on purpose to entities that were there before (ids and all else as
#: before): entity id -> attribute names, each kept out of the recorder too.
ATTRIBUTES_ADDED: dict[str, dict[str, set[str]]] = {
    # Issue 13: the current rate carries ``rates`` (Predbat, EMHASS), unrecorded.
    "octopus": {
        f"sensor.octopus_{meter}_current_rate": {"rates"}
        for meter in ("electricity_import_0001", "electricity_export_0002", "gas_0001")
    },
    "tariff_import": {"sensor.flux_import_current_rate": {"rates"}},
    "tariff_export_eur": {"sensor.feed_in_current_rate": {"rates"}},
}


@pytest.fixture
def start(case: str) -> datetime:
    """The sandbox starts at the time the case's own tests start."""
    return CASES[case][0]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.usefixtures("sandbox")
async def test_registry_as_before(hass: HomeAssistant, case: str) -> None:
    """The case's entities register with the ids, classes, units, names and attribute names
    they had before."""
    await hass.config.async_set_time_zone("Europe/London")
    entry = entry_of(case)
    entry.add_to_hass(hass)
    with every_entity_enabled() as enabled_default:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    registry = dump(hass, entry, enabled_default)
    assert registry  # every case has entities

    before: dict[str, Any] = json.loads(REGISTRY_BEFORE.read_text())
    if os.environ.get(WRITE_ENV):
        before[case] = registry
        REGISTRY_BEFORE.write_text(json.dumps(dict(sorted(before.items())), indent=1) + "\n")
    expected = {
        entity_id: entity
        for entity_id, entity in before[case].items()
        if entity_id not in REMOVED.get(case, set())
    }
    for entity_id, names in ATTRIBUTES_ADDED.get(case, {}).items():
        entity = expected[entity_id]
        expected[entity_id] = entity | {
            key: sorted({*entity[key], *names}) for key in ("attributes", "unrecorded_attributes")
        }
    added = set(registry) - set(expected)
    assert added == ADDED.get(case, set())
    assert {entity_id: registry[entity_id] for entity_id in expected} == expected
