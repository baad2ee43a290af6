"""Config flow branches: a step method for every source step, accounts with nothing to add,
a reauth that opens another account.

Driven through Home Assistant's flow manager against the in-process sandbox (its account
tables extended for the test) or, for Aretas, aioresponses.
"""

import inspect
import re

from aioresponses import aioresponses
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.energy_hub.api.xolta import XoltaClient
from custom_components.energy_hub.config_flow import EnergyHubConfigFlow, EnergyHubOptionsFlow
from custom_components.energy_hub.sources import SOURCES
from custom_components.energy_hub.sources.xolta import xolta_urls
import sandbox.hoymiles as sb_hoymiles
import sandbox.xolta as sb_xolta

from .conftest import Sandbox, setup_integration, start_flow
from .entries import xolta_entry

ARETAS_URL = "https://iot.aretas.ca/rest"


def test_every_source_step_has_a_method() -> None:
    """A source step without its ``async_step_<id>`` would be a flow the UI cannot reach."""
    steps = {step for source in SOURCES.values() for step in source.flow_steps}
    assert set(SOURCES) <= steps  # each source's first step is its menu entry
    for step in sorted(steps):
        method = getattr(EnergyHubConfigFlow, f"async_step_{step}", None)
        assert inspect.iscoroutinefunction(method), step
    # No step routed by name at run time: the methods are real, written in the class.
    assert "__getattr__" not in vars(EnergyHubConfigFlow)


def test_every_reconfigure_and_options_step_has_a_method() -> None:
    """A source's own reconfigure form (``reconfigure_step_id``) has its method written in the
    config flow; each options form (``options_step()``, the key unless declared) has one in
    the options flow, added for every source with options (a new source needs none)."""
    for source in SOURCES.values():
        if source.reconfigure_schema() is not None:
            method = vars(EnergyHubConfigFlow).get(f"async_step_{source.reconfigure_step_id}")
            assert inspect.iscoroutinefunction(method), source.key
        if source.options_schema() is not None:
            method = getattr(EnergyHubOptionsFlow, f"async_step_{source.options_step()}", None)
            assert inspect.iscoroutinefunction(method), source.key
    assert {s.options_step() for s in SOURCES.values() if s.options_schema()} >= {
        "carbon_intensity",
        "elexon",
        "octopus",
        "tariff",
        "hoymiles",
        "xolta",
        "aretas",
    }


async def test_hoymiles_account_without_plants(
    hass: HomeAssistant, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account with no plant: the form says so, nothing is created."""
    user = "empty@energy-hub.example"
    empty = sb_hoymiles.Account(user, sb_hoymiles.Scheme.ARGON2ID, ())
    monkeypatch.setattr(sb_hoymiles, "ACCOUNTS", {**sb_hoymiles.ACCOUNTS, user: empty})
    sb_hoymiles.sandbox_of(sandbox.server.app).passwords[user] = sb_hoymiles.PASSWORD
    flow_id = await start_flow(hass, "hoymiles")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": user, "password": sb_hoymiles.PASSWORD, "advanced": {}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hoymiles"
    assert result["errors"] == {"base": "no_plants"}


async def test_xolta_account_without_sites(
    hass: HomeAssistant, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account with no site: the form says so."""
    user = "empty@xolta.example"
    empty = sb_xolta.Account("xolta-sandbox", ())
    monkeypatch.setattr(sb_xolta, "ACCOUNTS", {**sb_xolta.ACCOUNTS, user: empty})
    sb_xolta.sandbox_of(sandbox.server.app).passwords[user] = "xolta-sandbox"
    flow_id = await start_flow(hass, "xolta")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": user, "password": "xolta-sandbox", "advanced": {}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "xolta"
    assert result["errors"] == {"base": "no_sites"}


async def test_aretas_account_without_devices(hass: HomeAssistant, mock_api: aioresponses) -> None:
    """An account whose locations hold no device: the form says so."""
    mock_api.post(f"{ARETAS_URL}/authentication/j", body="token-1", content_type="text/plain")
    mock_api.get(
        re.compile(re.escape(f"{ARETAS_URL}/client/locationview") + r"(\?.*)?$"),
        payload={"id": 7, "allMacs": [], "locationSensorViews": []},
    )
    flow_id = await start_flow(hass, "aretas")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": "nobody@aretas.example", "password": "secret", "advanced": {}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "aretas"
    assert result["errors"] == {"base": "no_devices"}


async def test_xolta_reauth_with_another_account(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Reauth with a refresh token of an account that does not have the entry's site: the flow
    aborts (``wrong_account``, naming the entry) and the entry keeps its credentials."""
    config = await setup_integration(
        hass,
        xolta_entry(username="two.sites@xolta.example", site_id="sandbox-cottage"),
    )
    config_data = dict(config.data)
    base, authority = xolta_urls({})
    other = XoltaClient(
        async_get_clientsession(hass),
        "demo@xolta.example",  # its only site is the house
        "xolta-sandbox",
        base_url=base,
        authority_url=authority,
    )
    await other.login()
    assert other.refresh_token
    result = await config.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"refresh_token": other.refresh_token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert result["description_placeholders"] == {"name": "Sandbox house"}
    assert dict(config.data) == config_data
    assert config.state is ConfigEntryState.LOADED
