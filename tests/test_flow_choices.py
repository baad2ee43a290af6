"""Choices in forms: a step shown again after an error keeps its list (Hoymiles plants, XOLTA
sites, Aretas devices); options refuse a value the account does not offer.

Through Home Assistant's flow manager against the in-process sandbox.
"""

from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.energy_hub.sources.aretas import AretasSource
from custom_components.energy_hub.sources.base import FlowError, FlowStep
from custom_components.energy_hub.sources.xolta import XoltaSource
import sandbox.aretas as sb_aretas
import sandbox.hoymiles as sb_hoymiles

from .conftest import Sandbox, setup_integration, start_flow
from .entries import hoymiles_entry

HOYMILES_PLANTS = [
    {"value": "1001", "label": "Balcony Row"},
    {"value": "1002", "label": "Barn Roof"},
    {"value": "1003", "label": "Hybrid House"},
]


@pytest.fixture
def start() -> datetime:
    """A June afternoon: the sandbox's plants produce."""
    return datetime(2026, 6, 6, 13, 1, tzinfo=UTC)


async def _first_step(hass: HomeAssistant, source: str, user_input: dict[str, Any]) -> Any:
    flow_id = await start_flow(hass, source)
    return await hass.config_entries.flow.async_configure(flow_id, user_input)


def _options(result: Any, field: str) -> list[Any]:
    return list(result["data_schema"].schema[field].config["options"])


def _fail_once(source: type[Any], step_id: str) -> Any:
    """The source's submit for ``step_id`` fails once (as a check at that step would)."""
    original = source.async_flow_submit.__func__
    failed: list[bool] = []

    async def submit(cls: type[Any], step: FlowStep) -> Any:
        if step.step_id == step_id and not failed:
            failed.append(True)
            raise FlowError("cannot_connect")
        return await original(cls, step)

    return patch.object(source, "async_flow_submit", classmethod(submit))


async def test_hoymiles_plants_kept_after_no_plant_chosen(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """ "Choose at least one plant": the plants are still offered and one can be chosen."""
    result = await _first_step(
        hass,
        "hoymiles",
        {"username": sb_hoymiles.DEMO_USER, "password": sb_hoymiles.PASSWORD, "advanced": {}},
    )
    assert result["step_id"] == "hoymiles_plants"
    assert _options(result, "plants") == HOYMILES_PLANTS
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"plants": []})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"plants": "no_plants_chosen"}
    assert _options(result, "plants") == HOYMILES_PLANTS
    with patch("custom_components.energy_hub.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"plants": ["1003"]}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"]["plants"] == ["1003"]


async def test_xolta_sites_kept_after_an_error(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """An error on the site step shows the account's sites again, not a bare text field."""
    result = await _first_step(
        hass,
        "xolta",
        {"username": "two.sites@xolta.example", "password": "xolta-sandbox", "advanced": {}},
    )
    assert result["step_id"] == "xolta_site"
    sites = [
        {"value": "sandbox-house", "label": "Sandbox house"},
        {"value": "sandbox-cottage", "label": "Sandbox cottage"},
    ]
    assert _options(result, "site_id") == sites
    with _fail_once(XoltaSource, "xolta_site"):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"site_id": "sandbox-cottage"}
        )
        assert result["errors"] == {"base": "cannot_connect"}
        assert result["step_id"] == "xolta_site"
        assert _options(result, "site_id") == sites
        with patch("custom_components.energy_hub.async_setup_entry", return_value=True):
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {"site_id": "sandbox-cottage"}
            )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["site_id"] == "sandbox-cottage"


async def test_aretas_devices_kept_after_an_error(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """An error on the device step shows the account's devices again."""
    result = await _first_step(
        hass,
        "aretas",
        {"username": sb_aretas.USERNAME, "password": sb_aretas.PASSWORD, "advanced": {}},
    )
    assert result["step_id"] == "aretas_device"
    devices = _options(result, "mac")
    assert {str(sb_aretas.BESS_MAC), str(sb_aretas.ENV_MAC)} <= {d["value"] for d in devices}
    with _fail_once(AretasSource, "aretas_device"):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"mac": str(sb_aretas.BESS_MAC)}
        )
        assert result["errors"] == {"base": "cannot_connect"}
        assert _options(result, "mac") == devices
        with patch("custom_components.energy_hub.async_setup_entry", return_value=True):
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {"mac": str(sb_aretas.BESS_MAC)}
            )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["mac"] == sb_aretas.BESS_MAC


async def test_hoymiles_options_refuse_a_plant_the_account_lacks(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """A typed-in plant id the account does not have is refused, not saved (which blanked
    every entity); the account's plants are accepted."""
    entry = await setup_integration(hass, hoymiles_entry([], title="Hoymiles"))
    assert entry.state is ConfigEntryState.LOADED

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert _options(result, "plants") == HOYMILES_PLANTS
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"plants": ["1001", "4242"], "scan_interval": 5, "history_days": 1}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"plants": "invalid_choice"}
    assert result["description_placeholders"] == {"value": "4242"}
    assert _options(result, "plants") == HOYMILES_PLANTS
    assert entry.options["plants"] == []

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"plants": ["1002"], "scan_interval": 5, "history_days": 1}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {"plants": ["1002"], "scan_interval": 5, "history_days": 1}
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
