"""Adding Elexon BMRS: the API is checked first, one entry only, another server, options."""

from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.energy_hub.sources.elexon import ElexonSource

from .conftest import request_count, start_flow
from .elexon_mocks import (
    CURRENT,
    ELEXON_URL,
    NOW,
    elexon_entry,
    mock_elexon,
    requests_by_dataset,
    setup_elexon,
)


async def test_add_checks_the_api(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Nothing to fill in; the API is asked once before the entry is created."""
    freezer.move_to(NOW)
    mock_elexon(mock_api)
    flow_id = await start_flow(hass, "elexon")
    result = await hass.config_entries.flow.async_configure(flow_id, {"advanced": {}})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Elexon BMRS"
    assert result["data"] == {"source": "elexon"}
    assert result["options"] == {
        "generation_sensors": True,
        "interconnector_sensors": True,
        "price_sensors": True,
    }
    assert result["result"].unique_id == "elexon"
    await hass.async_block_till_done()
    assert requests_by_dataset(mock_api) == {
        "current": 1,
        "FUELINST": 1,
        "INDO": 1,
        "system_prices": 1,
        "market_index": 1,
    }
    assert hass.states.get("sensor.elexon_bmrs_national_demand").state == "35218"


async def test_cannot_connect_then_retry(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Elexon down is a form error; the same form works once it is back."""
    freezer.move_to(NOW)
    flow_id = await start_flow(hass, "elexon")
    mock_api.get(CURRENT, status=502, body="<html>Bad gateway</html>")
    result = await hass.config_entries.flow.async_configure(flow_id, {"advanced": {}})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    mock_api.get(CURRENT, payload="not a list")
    result = await hass.config_entries.flow.async_configure(flow_id, {"advanced": {}})
    assert result["errors"] == {"base": "cannot_connect"}

    mock_api.clear()
    mock_elexon(mock_api)
    result = await hass.config_entries.flow.async_configure(flow_id, {"advanced": {}})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_second_entry_aborts_without_asking(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """There is one GB grid: a second entry aborts, and the API is not even asked."""
    freezer.move_to(NOW)
    elexon_entry().add_to_hass(hass)
    flow_id = await start_flow(hass, "elexon")
    result = await hass.config_entries.flow.async_configure(flow_id, {"advanced": {}})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "elexon_already_configured"
    assert request_count(mock_api) == 0


async def test_advanced_base_url(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """A server typed in the advanced section is checked, stored and used for everything."""
    freezer.move_to(NOW)
    mirror = "https://mirror.example.test/bmrs"
    mock_elexon(mock_api, base=mirror)
    flow_id = await start_flow(hass, "elexon")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"advanced": {"base_url": mirror + "/"}}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"source": "elexon", "advanced": {"base_url": mirror + "/"}}
    await hass.async_block_till_done()
    assert hass.states.get("sensor.elexon_bmrs_wind_generation").state == "6813"
    assert request_count(mock_api) == 5
    assert all(str(url).startswith(mirror) for (_, url) in mock_api.requests)


async def test_options_turn_groups_off_and_on(
    hass: HomeAssistant,
    mock_api: aioresponses,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> None:
    """Turning prices off reloads the entry: no price requests, the price sensors go away."""
    entry = await setup_elexon(hass, mock_api, freezer)
    price = "sensor.elexon_bmrs_system_buy_price"
    assert hass.states.get(price).state == "96.47"

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "elexon"
    schema_keys = {str(key) for key in result["data_schema"].schema}
    assert schema_keys == {"generation_sensors", "interconnector_sensors", "price_sensors"}
    before = requests_by_dataset(mock_api)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"generation_sensors": True, "interconnector_sensors": True, "price_sensors": False},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["price_sensors"] is False
    assert requests_by_dataset(mock_api) - before == {"FUELINST": 1, "INDO": 1}
    state = hass.states.get(price)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    assert state.attributes["restored"] is True  # registered, no longer provided
    assert hass.states.get("sensor.elexon_bmrs_wind_generation").state == "6813"
    assert entity_registry.async_get(price) is not None  # kept for when prices come back


def test_default_and_sandbox_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Elexon's own server by default; the development sandbox's prefix when it is set."""
    source = ElexonSource(None, {"source": "elexon"}, {})  # type: ignore[arg-type]
    assert source.client.base_url == ELEXON_URL
    assert source.datasets == ("FUELINST", "INDO", "system_prices", "market_index")
    monkeypatch.setenv("ENERGY_HUB_SANDBOX_URL", "http://127.0.0.1:8765/")
    source = ElexonSource(None, {"source": "elexon"}, {"price_sensors": False})  # type: ignore[arg-type]
    assert source.client.base_url == "http://127.0.0.1:8765/elexon"
    assert source.datasets == ("FUELINST", "INDO")
