"""Every source's entities as Home Assistant registers them: the proof that ids do not change.

Each case sets one entry up against the in-process sandbox (the tariff needs none) with every
entity enabled, at the time its own tests start, and :func:`dump` returns what the entity
registry holds for the entry's entities, their devices' identifiers and the names of their
state attributes (and which of those stay out of the recorder). ``tests/fixtures/
registry_before.json`` is that dump taken from the code before issue 16 changed the entity
layer; ``tests/test_entity_ids_stable.py`` compares against it.

Write the file again (only when an entity is meant to change, and say so in the commit)::

    ENERGY_HUB_WRITE_REGISTRY=1 .venv/bin/python -m pytest -p no:cacheprovider -q \
        tests/test_entity_ids_stable.py
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.entity import Entity
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_hub.const import DOMAIN
import sandbox.aretas as aretas
import sandbox.hoymiles as hoymiles
import sandbox.octopus as octopus

REGISTRY_BEFORE = Path(__file__).parent / "fixtures" / "registry_before.json"
WRITE_ENV = "ENERGY_HUB_WRITE_REGISTRY"

FLUX = "00:00-02:00 0.3072\n02:00-05:00 0.18432\n05:00-16:00 0.3072\n16:00-24:00 0.43008"


def _aretas(mac: int) -> dict[str, Any]:
    return {
        "title": aretas.DEVICES[mac],
        "unique_id": f"aretas_{mac}",
        "data": {
            "source": "aretas",
            "username": aretas.USERNAME,
            "password": aretas.PASSWORD,
            "mac": mac,
            "name": aretas.DEVICES[mac],
        },
        "options": {"history_days": 1},
    }


def _tariff(name: str, currency: str) -> dict[str, Any]:
    """A typed-in tariff: imported in pounds, or exported in another currency."""
    direction = "import" if currency == "GBP" else "export"
    return {
        "title": name,
        "unique_id": f"tariff_{name.lower().replace(' ', '_').replace('-', '_')}_{direction}",
        "data": {"source": "tariff", "name": name, "direction": direction, "currency": currency},
        "options": {"bands": FLUX if direction == "import" else "00:00-24:00 0.08"},
    }


#: case -> (the frozen time it is set up at, the entry as the flow creates it).
CASES: dict[str, tuple[datetime, dict[str, Any]]] = {
    "carbon_intensity_national": (
        datetime(2026, 11, 23, 18, 17, tzinfo=UTC),
        {
            "title": "Great Britain",
            "unique_id": "carbon_intensity_national",
            "data": {"source": "carbon_intensity"},
            "options": {"window_hours": 3},
        },
    ),
    "carbon_intensity_regional": (
        datetime(2026, 11, 23, 18, 17, tzinfo=UTC),
        {
            "title": "South West England",
            "unique_id": "carbon_intensity_region_11",
            "data": {"source": "carbon_intensity", "postcode": "BS16", "region_id": 11},
            "options": {"window_hours": 1},
        },
    ),
    "elexon": (
        datetime(2026, 10, 24, 23, 40, tzinfo=UTC),
        {
            "title": "Elexon BMRS",
            "unique_id": "elexon",
            "data": {"source": "elexon"},
            "options": dict.fromkeys(
                ("generation_sensors", "interconnector_sensors", "price_sensors"), True
            ),
        },
    ),
    "octopus": (
        datetime(2026, 6, 10, 11, 5, tzinfo=UTC),
        {
            "title": octopus.ACCOUNT_NUMBER,
            "unique_id": "octopus_a-1b2c3d4e",
            "data": {
                "source": "octopus",
                "api_key": octopus.API_KEY,
                "account_number": octopus.ACCOUNT_NUMBER,
            },
            "options": {"backfill_days": 1, "gas_calorific_value": 39.5, "gas_meter_unit": "m3"},
        },
    ),
    "tariff_import": (datetime(2026, 1, 15, 15, 30, tzinfo=UTC), _tariff("Flux import", "GBP")),
    "tariff_export_eur": (datetime(2026, 1, 15, 15, 30, tzinfo=UTC), _tariff("Feed-in", "EUR")),
    "hoymiles": (
        datetime(2026, 6, 6, 13, 1, tzinfo=UTC),
        {
            "title": f"Hoymiles {hoymiles.DEMO_USER}",
            "unique_id": f"hoymiles_{hoymiles.DEMO_USER}",
            "data": {"source": "hoymiles", "username": hoymiles.DEMO_USER}
            | {"password": hoymiles.PASSWORD},
            "options": {"plants": ["1001", "1003"], "scan_interval": 5, "history_days": 1},
        },
    ),
    "xolta": (
        datetime(2026, 6, 6, 0, 3, tzinfo=UTC),
        {
            "title": "Sandbox house",
            "unique_id": "xolta_sandbox-house",
            "data": {"source": "xolta", "username": "demo@xolta.example"}
            | {"password": "xolta-sandbox", "site_id": "sandbox-house"}
            | {"site_name": "Sandbox house"},
            "options": {"history_days": 1},
        },
    ),
    "aretas_bess": (datetime(2026, 6, 10, 0, 0, 30, tzinfo=UTC), _aretas(aretas.BESS_MAC)),
    "aretas_environment": (datetime(2026, 6, 10, 0, 0, 30, tzinfo=UTC), _aretas(aretas.ENV_MAC)),
    "aretas_voltage_current": (datetime(2026, 6, 10, tzinfo=UTC), _aretas(aretas.VI_MAC)),
}


def entry_of(case: str) -> MockConfigEntry:
    """The case's config entry (not yet added to Home Assistant)."""
    return MockConfigEntry(domain=DOMAIN, entry_id=f"01REGISTRY{case.upper()}", **CASES[case][1])


@contextmanager
def every_entity_enabled() -> Iterator[dict[str, bool]]:
    """Every entity is created enabled (as ``entity_registry_enabled_by_default``), and what
    each would have been by default is kept: unique id -> enabled by default."""
    enabled_default: dict[str, bool] = {}
    original: Callable[[Entity], bool] = Entity.__dict__["entity_registry_enabled_default"].func

    def enabled(entity: Entity) -> bool:
        enabled_default[str(entity.unique_id)] = original(entity)
        return True

    with patch.object(Entity, "entity_registry_enabled_default", property(enabled)):
        yield enabled_default


def dump(
    hass: HomeAssistant, entry: MockConfigEntry, enabled_default: dict[str, bool]
) -> dict[str, Any]:
    """What the registries and the state machine hold for the entry's entities (JSON types)."""
    devices = dr.async_get(hass)
    entities: dict[str, Any] = {}
    for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        device = devices.async_get(item.device_id) if item.device_id else None
        state = hass.states.get(item.entity_id)
        entities[item.entity_id] = {
            "unique_id": item.unique_id,
            "platform": item.platform,
            "domain": item.domain,
            "translation_key": item.translation_key,
            "original_device_class": item.original_device_class,
            "unit_of_measurement": item.unit_of_measurement,
            "capabilities": item.capabilities,
            "options": item.options,
            "entity_category": item.entity_category,
            "disabled_by": item.disabled_by,
            "enabled_default": enabled_default.get(item.unique_id),
            "has_entity_name": item.has_entity_name,
            "original_name": item.original_name,
            "original_icon": item.original_icon,
            "device": sorted(map(list, device.identifiers)) if device else None,
            "attributes": sorted(state.attributes) if state else None,
            "unrecorded_attributes": (
                sorted(state.state_info["unrecorded_attributes"])
                if state and state.state_info
                else None
            ),
        }
    result: dict[str, Any] = json.loads(json.dumps(dict(sorted(entities.items()))))
    return result
