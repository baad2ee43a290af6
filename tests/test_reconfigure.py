"""Reconfigure gives every source something to change (it aborted "no credentials to change"
for Carbon Intensity, a typed-in tariff and Elexon): the postcode, the tariff's name and
currency, the server URL. The entry reloads; an entry that becomes another region or tariff
moves to that unique id with its entities (entity ids kept), unless another entry is that.

Through Home Assistant's flow manager: Carbon Intensity against the in-process sandbox,
Elexon with aioresponses, the tariff with no requests at all.
"""

from typing import Any

from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.sources import SOURCES

from .carbon_intensity_mocks import national_entry, regional_entry
from .conftest import Sandbox, setup_integration, state_of
from .elexon_mocks import ELEXON_URL, elexon_entry, mock_elexon, setup_elexon
from .entries import aretas_entry, hoymiles_entry, octopus_entry, tariff_entry, xolta_entry

MIRROR = "https://mirror.example.test/bmrs"


def _calls(mocked: aioresponses, base: str) -> int:
    """Requests made so far to URLs under ``base``."""
    return sum(
        len(calls) for (_, url), calls in mocked.requests.items() if str(url).startswith(base)
    )


BANDS = "00:00-07:00 0.1\n07:00-24:00 0.3"


def _field_defaults(result: Any) -> dict[str, Any]:
    """What the form shows filled in: each field's suggested value (sections' inside)."""
    out: dict[str, Any] = {}
    for marker, value in result["data_schema"].schema.items():
        inner = getattr(value, "schema", None)
        if inner is not None and hasattr(inner, "schema"):
            out[str(marker)] = {
                str(m): (m.description or {}).get("suggested_value") for m in inner.schema
            }
        else:
            out[str(marker)] = (marker.description or {}).get("suggested_value")
    return out


@pytest.mark.parametrize(
    ("entry", "step_id"),
    [
        (national_entry(), "carbon_intensity_reconfigure"),
        (elexon_entry(), "elexon_reconfigure"),
        (tariff_entry(BANDS), "tariff_reconfigure"),
        (octopus_entry(), "reconfigure"),
        (hoymiles_entry(), "reconfigure"),
        (xolta_entry(), "reconfigure"),
        (aretas_entry(), "reconfigure"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.data["source"],
)
async def test_every_source_has_something_to_reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, step_id: str
) -> None:
    """Reconfigure (offered on every entry: Home Assistant cannot hide it per entry) shows a
    form of the source's own for each vendor source; none aborts."""
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step_id
    assert result["errors"] == {}
    assert result["description_placeholders"] == {"name": entry.title}
    without = {key for key, source in SOURCES.items() if source.reconfigure_schema() is None}
    assert without <= {"home"}  # the Home source: inputs only, under Configure


async def test_carbon_intensity_moves_to_another_region(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Great Britain reconfigured with a Bristol postcode becomes South West England: new
    unique id and title, the same entity ids (their unique ids and the device follow), the
    region's figures after the reload."""
    entry = await setup_integration(hass, national_entry())
    entity_id = "sensor.great_britain_grid_carbon_intensity"
    entities = er.async_get(hass)
    count = len(er.async_entries_for_config_entry(entities, entry.entry_id))

    result = await entry.start_reconfigure_flow(hass)
    assert _field_defaults(result) == {"postcode": "", "advanced": {"base_url": None}}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"postcode": "bs16 1ab", "advanced": {}}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == "carbon_intensity_region_11"
    assert entry.title == "South West England"
    assert dict(entry.data) == {"source": "carbon_intensity", "postcode": "BS16", "region_id": 11}
    moved = entities.async_get(entity_id)
    assert moved is not None
    assert moved.unique_id == "carbon_intensity_region_11:grid:carbon_intensity"
    assert state_of(hass, entity_id).isdigit()
    assert hass.states.get("sensor.south_west_england_grid_carbon_intensity") is None
    assert len(er.async_entries_for_config_entry(entities, entry.entry_id)) == count
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [(d.identifiers, d.name) for d in devices] == [
        ({(DOMAIN, "carbon_intensity_region_11:grid")}, "South West England grid")
    ]


async def test_carbon_intensity_postcode_in_the_same_region(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Another postcode of the entry's own region: stored, nothing moves, title kept."""
    entry = regional_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, title="Home grid")
    result = await entry.start_reconfigure_flow(hass)
    assert _field_defaults(result) == {"postcode": "BS16", "advanced": {"base_url": None}}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"postcode": "BS1", "advanced": {}}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == "carbon_intensity_region_11"
    assert entry.title == "Home grid"
    assert dict(entry.data) == {"source": "carbon_intensity", "postcode": "BS1", "region_id": 11}


async def test_carbon_intensity_region_another_entry_has_is_refused(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """A postcode of a region another entry shows is refused on the field (naming that
    entry); national can be chosen again only while no other entry is national."""
    national = national_entry()
    national.add_to_hass(hass)
    entry = regional_entry()
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"postcode": "", "advanced": {}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"postcode": "region_already_added"}
    assert result["description_placeholders"] == {
        "name": "South West England",
        "title": "Great Britain",
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"postcode": "not a postcode", "advanced": {}}
    )
    assert result["errors"] == {"postcode": "invalid_postcode"}
    assert entry.unique_id == "carbon_intensity_region_11"
    assert dict(entry.data)["postcode"] == "BS16"


async def test_elexon_server_url(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Elexon's server URL: checked to answer (refused when it does not), stored, used after
    the reload; emptied, Elexon's own server again."""
    entry = await setup_elexon(hass, mock_api, freezer)
    result = await entry.start_reconfigure_flow(hass)
    assert _field_defaults(result) == {"advanced": {"base_url": None}}
    mock_api.get(f"{MIRROR}/generation/outturn/current", status=503)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"advanced": {"base_url": MIRROR}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert dict(entry.data) == {"source": "elexon"}

    mock_api.clear()
    mock_elexon(mock_api, base=MIRROR)
    elexon_calls, mirror_calls = _calls(mock_api, ELEXON_URL), _calls(mock_api, MIRROR)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"advanced": {"base_url": MIRROR}}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert dict(entry.data) == {"source": "elexon", "advanced": {"base_url": MIRROR}}
    assert entry.unique_id == "elexon"
    assert _calls(mock_api, MIRROR) > mirror_calls + 1  # the check, then the reload's fetches
    assert _calls(mock_api, ELEXON_URL) == elexon_calls

    mock_api.clear()
    mock_elexon(mock_api)
    elexon_calls, mirror_calls = _calls(mock_api, ELEXON_URL), _calls(mock_api, MIRROR)
    result = await entry.start_reconfigure_flow(hass)
    assert _field_defaults(result) == {"advanced": {"base_url": MIRROR}}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"advanced": {}})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert dict(entry.data) == {"source": "elexon"}
    assert _calls(mock_api, ELEXON_URL) > elexon_calls
    assert _calls(mock_api, MIRROR) == mirror_calls


async def test_tariff_renamed_and_currency(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The tariff's name and currency change; its bands (options) and entity ids stay, the
    unique ids follow the new name, the prices are in the new currency."""
    freezer.move_to("2026-01-15T12:00:00+00:00")
    entry = await setup_integration(hass, tariff_entry(BANDS))
    entity_id = "sensor.flux_import_current_rate"
    assert hass.states.get(entity_id).attributes["unit_of_measurement"] == "GBP/kWh"

    result = await entry.start_reconfigure_flow(hass)
    assert _field_defaults(result) == {"name": "Flux import", "currency": "GBP"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "  ", "currency": "EUR"}
    )
    assert result["errors"] == {"name": "invalid_name"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Flux", "currency": "euro"}
    )
    assert result["errors"] == {"currency": "invalid_currency"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Flux 2026", "currency": "eur"}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.unique_id == "tariff_flux_2026_import"
    assert entry.title == "Flux 2026"
    assert dict(entry.data) == {
        "source": "tariff",
        "name": "Flux 2026",
        "direction": "import",
        "currency": "EUR",
    }
    assert dict(entry.options) == {"bands": BANDS}
    state = hass.states.get(entity_id)
    assert state.state == "0.1"  # 04:00 in the test's time zone (US/Pacific)
    assert state.attributes["unit_of_measurement"] == "EUR/kWh"
    registered = er.async_get(hass).async_get(entity_id)
    assert registered.unique_id == "tariff_flux_2026_import:tariff:rate_current"
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert device.name == "Flux 2026"
    assert device.identifiers == {(DOMAIN, "tariff_flux_2026_import:tariff")}


async def test_tariff_name_another_tariff_has_is_refused(hass: HomeAssistant) -> None:
    """A name another tariff of the same direction has is refused on the field; the same
    name in other letters is the entry's own."""
    other = tariff_entry(BANDS, name="Agile")
    other.add_to_hass(hass)
    entry = tariff_entry(BANDS)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "agile", "currency": "GBP"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"name": "tariff_already_added"}
    assert result["description_placeholders"] == {"name": "Flux import", "title": "Agile"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "FLUX IMPORT", "currency": "GBP"}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == "tariff_flux_import_import"
    assert entry.title == "FLUX IMPORT"
