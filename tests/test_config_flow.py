"""The config flow: source menu, Carbon Intensity steps, every error, duplicates, options."""

from collections.abc import Mapping
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
import homeassistant.config_entries
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.energy_hub.config_flow import EnergyHubConfigFlow
from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.sources import SOURCES
from custom_components.energy_hub.sources.base import EntrySpec, FlowStep, FormSpec
from custom_components.energy_hub.sources.carbon_intensity import CarbonIntensitySource

from .carbon_intensity_mocks import mock_national, mock_regional, national_entry, setup_national
from .conftest import CI_URL, load_json, request_count, start_flow, url_re


async def test_national(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """An empty postcode adds Great Britain after checking the API answers."""
    freezer.move_to("2018-01-20T12:10:00+00:00")
    mock_national(mock_api)
    flow_id = await start_flow(hass, "carbon_intensity")
    result = await hass.config_entries.flow.async_configure(flow_id, {"advanced": {}})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Great Britain"
    assert result["data"] == {"source": "carbon_intensity"}
    assert result["options"] == {"window_hours": 3}
    assert result["result"].unique_id == "carbon_intensity_national"
    await hass.async_block_till_done()
    assert hass.states.get("sensor.great_britain_grid_carbon_intensity").state == "263"


async def test_postcode_with_error_recovery(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """A malformed postcode, then an unknown one, then a good full postcode."""
    freezer.move_to("2025-10-22T23:40:00+00:00")
    flow_id = await start_flow(hass, "carbon_intensity")

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"postcode": "not a postcode", "advanced": {}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"postcode": "invalid_postcode"}
    assert request_count(mock_api) == 0  # checked before any call

    mock_api.get(f"{CI_URL}/regional/postcode/ZZ9", payload={"data": []})
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"postcode": "ZZ9 9ZZ", "advanced": {}}
    )
    assert result["errors"] == {"postcode": "unknown_postcode"}

    sample = load_json("carbon_intensity/regional_postcode_NG1.json")
    sample["data"][0] |= {"regionid": 11, "shortname": "South West England", "postcode": "BS16"}
    mock_api.get(f"{CI_URL}/regional/postcode/BS16", payload=sample)
    mock_regional(mock_api)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"postcode": "bs16 1ab", "advanced": {}}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "South West England"
    assert result["data"] == {"source": "carbon_intensity", "postcode": "BS16", "region_id": 11}
    assert result["result"].unique_id == "carbon_intensity_region_11"
    await hass.async_block_till_done()
    assert hass.states.get("sensor.south_west_england_grid_carbon_intensity").state == "162"


@pytest.mark.parametrize("postcode", ["", "NG1"])
async def test_cannot_connect_then_retry(
    hass: HomeAssistant,
    mock_api: aioresponses,
    freezer: FrozenDateTimeFactory,
    postcode: str,
) -> None:
    """The service down is a form error; the same input works once it is back."""
    freezer.move_to("2018-01-20T12:10:00+00:00")
    flow_id = await start_flow(hass, "carbon_intensity")
    mock_api.get(url_re(CI_URL, r"/.*"), status=503)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"postcode": postcode, "advanced": {}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}

    mock_api.clear()
    mock_national(mock_api)
    mock_api.get(
        f"{CI_URL}/regional/postcode/NG1",
        payload=load_json("carbon_intensity/regional_postcode_NG1.json"),
    )
    mock_api.get(url_re(CI_URL, r"/regional/intensity/.*/regionid/9"), payload={"data": None})
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"postcode": postcode, "advanced": {}}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == ("East Midlands" if postcode else "Great Britain")


async def test_same_region_twice_aborts(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """A second postcode in a region already added aborts; so does national twice."""
    freezer.move_to("2018-01-20T12:10:00+00:00")
    national_entry().add_to_hass(hass)
    mock_national(mock_api)
    flow_id = await start_flow(hass, "carbon_intensity")
    result = await hass.config_entries.flow.async_configure(flow_id, {"advanced": {}})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "carbon_intensity_already_configured"
    assert result["description_placeholders"] == {"title": "Great Britain"}

    mock_api.get(
        url_re(CI_URL, r"/regional/postcode/NG\d"),
        payload=load_json("carbon_intensity/regional_postcode_NG1.json"),
        repeat=True,
    )
    mock_api.get(url_re(CI_URL, r"/regional/intensity/.*/regionid/9"), payload={"data": None})
    flow_id = await start_flow(hass, "carbon_intensity")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"postcode": "NG1", "advanced": {}}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    flow_id = await start_flow(hass, "carbon_intensity")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"postcode": "NG7", "advanced": {}}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "carbon_intensity_already_configured"
    assert result["description_placeholders"] == {"title": "East Midlands"}


async def test_advanced_base_url(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """A server typed in the advanced section is checked, stored and used."""
    freezer.move_to("2018-01-20T12:10:00+00:00")
    mirror = "https://mirror.example.test/ci"
    mock_api.get(
        url_re(mirror, r"/intensity/[^/]+/fw48h"),
        payload=load_json("carbon_intensity/national_fw48h.json"),
        repeat=True,
    )
    mock_api.get(
        f"{mirror}/generation",
        payload=load_json("carbon_intensity/generation_current.json"),
        repeat=True,
    )
    flow_id = await start_flow(hass, "carbon_intensity")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"advanced": {"base_url": mirror + "/"}}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"source": "carbon_intensity", "advanced": {"base_url": mirror + "/"}}
    await hass.async_block_till_done()
    assert hass.states.get("sensor.great_britain_grid_carbon_intensity").state == "263"
    assert all(str(url).startswith(mirror) for (_, url) in mock_api.requests)


async def test_options_change_window_and_reload(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Changing the window length reloads the entry and moves the window."""
    entry = await setup_national(hass, mock_api, freezer)
    entity_id = "sensor.great_britain_grid_greenest_window_start"
    assert hass.states.get(entity_id).state == "2018-01-20T22:00:00+00:00"

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "carbon_intensity"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"window_hours": 1}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {"window_hours": 1}
    # 1 h: 23:00-00:00 (80, 80).
    assert hass.states.get(entity_id).state == "2018-01-20T23:00:00+00:00"
    assert hass.states.get("sensor.great_britain_grid_greenest_window_intensity").state == "80.0"


class _TwoStepSource(CarbonIntensitySource):
    """A source whose flow has a second step (as account sources pick a site)."""

    key = "two_step"
    flow_steps = ("two_step", "two_step_site")

    @classmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        if step_id == "two_step_site":
            return FormSpec(
                step_id=step_id,
                schema=vol.Schema({vol.Required("site"): str}),
                placeholders={"count": "2"},
            )
        return FormSpec(step_id=step_id, schema=vol.Schema({vol.Required("user"): str}))

    @classmethod
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec | FormSpec:  # type: ignore[override]
        if step.step_id == "two_step":
            step.state["user"] = step.user_input["user"]
            return cls.flow_form("two_step_site", None)
        return EntrySpec(
            title=step.user_input["site"],
            unique_id=f"{step.state['user']}_{step.user_input['site']}",
            data={"source": "two_step", **step.state, **step.user_input},
        )


def _step(step_id: str) -> Any:
    """The flow's written method for one of the source's steps, as config_flow.py has one per
    step of every source."""

    async def step(flow: EnergyHubConfigFlow, user_input: dict[str, Any] | None = None) -> Any:
        return await flow._async_source_step(_TwoStepSource, step_id, user_input)

    return step


async def test_multi_step_source_routing(hass: HomeAssistant) -> None:
    """A source's later steps are routed to it, with state kept between steps."""
    with (
        patch.dict(SOURCES, {"two_step": _TwoStepSource}),
        patch.object(EnergyHubConfigFlow, "async_step_two_step", _step("two_step"), create=True),
        patch.object(
            EnergyHubConfigFlow, "async_step_two_step_site", _step("two_step_site"), create=True
        ),
        patch.object(homeassistant.config_entries.ConfigEntries, "async_setup", return_value=True),
    ):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "two_step"}
        )
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {"user": "me"})
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "two_step_site"
        assert result["description_placeholders"] == {"count": "2"}
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {"site": "s1"})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"] == {"source": "two_step", "user": "me", "site": "s1"}


async def test_unknown_step_and_options_support(hass: HomeAssistant) -> None:
    """Steps no source owns do not exist; only sources with options offer them."""
    flow = EnergyHubConfigFlow()
    with pytest.raises(AttributeError):
        _ = flow.async_step_nobody
    with pytest.raises(AttributeError):
        _ = flow.something_else
    assert EnergyHubConfigFlow.async_supports_options_flow(national_entry())
    unknown = MockConfigEntry(domain=DOMAIN, data={"source": "gone"})
    assert not EnergyHubConfigFlow.async_supports_options_flow(unknown)


_OPTIONS_ENTRIES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # source: (entry data, options that work)
    "aretas": ({"username": "u", "password": "p", "mac": 1, "name": "BESS"}, {"history_days": 7}),
    "carbon_intensity": ({}, {"window_hours": 3}),
    "hoymiles": (
        {"username": "u", "password": "p"},
        {"plants": [], "scan_interval": 5, "history_days": 30},
    ),
    "octopus": (
        {"api_key": "k", "account_number": "A-1B2C3D4E"},
        {"backfill_days": 30, "gas_calorific_value": 39.5, "gas_meter_unit": "m3"},
    ),
    "xolta": ({"username": "u", "password": "p", "site_id": "s"}, {"history_days": 7}),
}


@pytest.mark.parametrize(
    ("source", "field", "value"),
    [
        ("aretas", "history_days", float("nan")),
        ("carbon_intensity", "window_hours", float("nan")),
        ("hoymiles", "scan_interval", float("nan")),
        ("hoymiles", "history_days", "nan"),
        ("octopus", "backfill_days", float("nan")),
        ("octopus", "gas_calorific_value", float("nan")),
        ("octopus", "gas_calorific_value", "NaN"),
        ("xolta", "history_days", float("nan")),
    ],
)
async def test_options_refuse_nan(hass: HomeAssistant, source: str, field: str, value: Any) -> None:
    """NaN in a number field is a field error (it crashed the form, or was saved and broke
    the entry); the stored options stay as they were."""
    data, options = _OPTIONS_ENTRIES[source]
    options = {**SOURCES[source].default_options, **options}
    entry = MockConfigEntry(domain=DOMAIN, data={"source": source, **data}, options=options)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**options, field: value}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "not_a_number"}
    assert entry.options == options


_FIRST_STEPS: dict[str, dict[str, Any]] = {
    "xolta": {"username": "demo@xolta.example", "password": "p"},
    "octopus": {"api_key": "sk_live_x", "account_number": "A-1B2C3D4E"},
    "aretas": {"username": "u", "password": "p"},
    "hoymiles": {"username": "u@example.test", "password": "p"},
    "carbon_intensity": {},
    "elexon": {},
}
_BAD_URLS = (
    "http://[::1",
    "https://user:pass@mirror.example.test/",
    "https://token@mirror.example.test",
    "ftp://mirror.example.test",
    "mirror.example.test/api",
    "https://",
    "http://mirror.example.test:99999",
    "https://mirror.example.test/?region=eu",
    "https://mirror example.test",
)


@pytest.mark.parametrize(
    ("source", "url"),
    [(source, url) for source in _FIRST_STEPS for url in _BAD_URLS[:2]]
    + [("octopus", url) for url in _BAD_URLS[2:]],
)
async def test_unusable_server_url_refused(
    hass: HomeAssistant, mock_api: aioresponses, source: str, url: str
) -> None:
    """A server URL no client can use is a form error on the advanced section (it crashed the
    form, or sent the credentials in the URL); nothing is asked of any server."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": source}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**_FIRST_STEPS[source], "advanced": {"base_url": url}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"advanced": "invalid_url"}
    assert request_count(mock_api) == 0


async def test_config_flow_refuses_non_finite_before_the_source(hass: HomeAssistant) -> None:
    """A non-finite number anywhere in a submission (a section's field too) is refused
    before the source sees it: on its field, on the section, or on the form."""
    with patch.dict(SOURCES, {"two_step": _TwoStepSource}):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        flow = hass.config_entries.flow._progress[result["flow_id"]]
        with patch.object(_TwoStepSource, "async_flow_submit") as submit:
            result = await flow._async_source_step(
                _TwoStepSource, "two_step", {"user": float("inf")}
            )
            assert result["errors"] == {"user": "not_a_number"}
            result = await flow._async_source_step(
                _TwoStepSource, "two_step", {"advanced": {"x": [1.0, float("-inf")]}}
            )
            assert result["errors"] == {"base": "not_a_number"}
            submit.assert_not_called()


def test_form_errors_are_translated_for_flows_and_options() -> None:
    """The generic form errors have texts where they can show: the source's steps and the
    options (the options form has its own error table)."""
    en = json.loads(
        (
            Path(__file__).parents[1] / "custom_components/energy_hub/translations/en.json"
        ).read_text()
    )
    assert {"not_a_number", "invalid_url", "invalid_choice"} <= set(en["config"]["error"])
    assert {"not_a_number", "invalid_choice", "invalid_plant"} <= set(en["options"]["error"])
    assert "{value}" in en["options"]["error"]["invalid_choice"]
