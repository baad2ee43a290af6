"""Texts that fit the source: sign-in and reauth errors say only what applies to the source
(no refresh token for Hoymiles or Aretas), "already added" says what is already added, each
source has its own options form.

Through Home Assistant's flow manager against the in-process sandbox; the texts themselves
from translations/en.json, by their exact keys.
"""

import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.sources import SOURCES
import sandbox.aretas as sb_aretas
import sandbox.hoymiles as sb_hoymiles

from .carbon_intensity_mocks import national_entry
from .conftest import Sandbox, start_flow
from .elexon_mocks import elexon_entry
from .entries import (
    XOLTA_USER,
    aretas_entry,
    hoymiles_entry,
    octopus_entry,
    xolta_entry,
)

EN: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "custom_components/energy_hub/translations/en.json").read_text()
)
ERRORS = EN["config"]["error"]
ABORTS = EN["config"]["abort"]
VENDORS = ("Carbon Intensity", "Elexon", "Octopus", "Hoymiles", "XOLTA", "Aretas")


# --- sign-in and reauth ---------------------------------------------------------------------


def test_password_texts_name_no_refresh_token() -> None:
    """The wrong-password error (Hoymiles, Aretas, XOLTA) names what those forms ask for; the
    refresh token, XOLTA's alone, has its own error; the reauth form's help texts need no
    "XOLTA only" (the field shows for XOLTA alone)."""
    assert ERRORS["invalid_credentials"] == "The user name or password was rejected."
    assert "XOLTA rejected the refresh token" in ERRORS["invalid_refresh_token"]
    for step in ("reauth_confirm", "reconfigure"):
        texts = EN["config"]["step"][step]["data_description"]
        assert "token" not in texts["password"]
        assert not texts["refresh_token"].startswith("XOLTA only")


async def test_xolta_refresh_token_rejected(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """XOLTA, signing in with a refresh token only: a rejected token says so; a wrong password
    stays the password error."""
    flow_id = await start_flow(hass, "xolta")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": XOLTA_USER, "advanced": {"refresh_token": "not-a-token"}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_refresh_token"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": XOLTA_USER, "password": "wrong", "advanced": {}}
    )
    assert result["errors"] == {"base": "invalid_credentials"}


async def test_xolta_reauth_with_a_rejected_refresh_token(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """XOLTA's reauth: a rejected refresh token has its own error, a wrong password the
    password's."""
    entry = xolta_entry(password=None, refresh_token="revoked")
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"refresh_token": "still-not-a-token"}
    )
    assert result["errors"] == {"base": "invalid_refresh_token"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"password": "wrong"}
    )
    assert result["errors"] == {"base": "invalid_credentials"}


@pytest.mark.parametrize(
    "entry", [hoymiles_entry(), aretas_entry()], ids=lambda entry: entry.data["source"]
)
async def test_password_sources_reauth_wrong_password(
    hass: HomeAssistant, sandbox: Sandbox, entry: MockConfigEntry
) -> None:
    """Hoymiles and Aretas: the reauth form asks a password only, and a wrong one is the
    password error (whose text names no refresh token)."""
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert {str(key) for key in result["data_schema"].schema} == {"password"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"password": "wrong"}
    )
    assert result["errors"] == {"base": "invalid_credentials"}


# --- already added --------------------------------------------------------------------------


def test_each_source_says_what_is_already_added() -> None:
    """Each source has its own "already added" text, naming the entry that is (``{title}``)
    and no other source."""
    texts = {key: ABORTS[f"{key}_already_configured"] for key in SOURCES}
    assert len(set(texts.values())) == len(texts)
    assert "already_configured" not in ABORTS
    for key, text in texts.items():
        assert "{title}" in text, key
        others = [name for name in VENDORS if name in text and not _names(key, name)]
        assert not others, (key, others)
    assert ABORTS["octopus_already_configured"].startswith(
        "This Octopus Energy account is already added"
    )
    assert ABORTS["hoymiles_already_configured"].startswith("This Hoymiles account")
    assert ABORTS["tariff_already_configured"].startswith("A tariff of this name")


def _names(key: str, name: str) -> bool:
    return name.lower().replace(" ", "_") == key or (key, name) == ("octopus", "Octopus")


async def test_aretas_device_added_twice(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """The same Aretas device again: Aretas' own text, naming the entry that has it."""
    aretas_entry().add_to_hass(hass)
    flow_id = await start_flow(hass, "aretas")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": sb_aretas.USERNAME, "password": sb_aretas.PASSWORD, "advanced": {}}
    )
    assert result["step_id"] == "aretas_device"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"mac": str(sb_aretas.BESS_MAC)}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "aretas_already_configured"
    assert result["description_placeholders"] == {"title": sb_aretas.DEVICES[sb_aretas.BESS_MAC]}


async def test_hoymiles_account_added_twice(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """The same Hoymiles account again: Hoymiles' own text, naming the entry."""
    hoymiles_entry(title="Roof").add_to_hass(hass)
    flow_id = await start_flow(hass, "hoymiles")
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {"username": sb_hoymiles.DEMO_USER, "password": sb_hoymiles.PASSWORD, "advanced": {}},
    )
    if result["type"] is FlowResultType.FORM:  # the account has several plants
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"plants": ["1001"]}
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "hoymiles_already_configured"
    assert result["description_placeholders"] == {"title": "Roof"}


# --- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        national_entry(),
        elexon_entry(),
        octopus_entry(windows="EV 4h 22:00-08:00", export_windows="Battery 2h 16:00-19:00"),
        MockConfigEntry(
            domain=DOMAIN,
            title="Flux import",
            unique_id="tariff_flux_import_import",
            data={
                "source": "tariff",
                "name": "Flux import",
                "direction": "import",
                "currency": "GBP",
            },
            options={"bands": "00:00-24:00 0.25", "windows": "EV 4h 22:00-08:00"},
        ),
        hoymiles_entry(),
        xolta_entry(),
        aretas_entry(),
    ],
    ids=lambda entry: entry.data["source"],
)
async def test_each_source_has_its_own_options_form(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Configure opens the source's own form (its own step id, so its own title and help
    texts), filled in with the entry's stored options under their stored keys."""
    entry.add_to_hass(hass)
    key = entry.data["source"]
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == key
    fields = {str(marker): marker for marker in result["data_schema"].schema}
    assert set(fields) == set(EN["options"]["step"][key]["data"])
    assert set(fields) == set(entry.options)
    for name, value in entry.options.items():
        assert fields[name].description == {"suggested_value": value}
    assert EN["options"]["step"][key]["title"] != "Energy Hub options"
