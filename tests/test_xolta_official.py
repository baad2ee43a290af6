"""XOLTA through its official API (client credentials), against the in-process sandbox.

The sandbox's battery follows the commands on Home Assistant's frozen clock; the expected
states of charge are the model's (a 10 kWh battery: 1 W for a minute is 1/600,000 of it).
"""

from datetime import UTC, datetime, timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_hub.const import DOMAIN
import sandbox.xolta as sb
import sandbox.xolta_official as sbo

from .conftest import Sandbox, advance, sandbox_requests, setup_integration, start_flow, state_of
from .entries import xolta_entry, xolta_official_entry

START = datetime(2026, 6, 6, 0, 3, tzinfo=UTC)
SITE = "sandbox-house"
DEVICE = sbo.device_id(SITE)
SELECT = "select.xolta_sandbox_house_battery_mode"
NUMBER = "number.xolta_sandbox_house_battery_power_setpoint"
SOC = "sensor.xolta_sandbox_house_battery_state_of_charge"
BATTERY_POWER = "sensor.xolta_sandbox_house_battery_power"
COMMAND = "/external/api/SendStateModeCommand"
STATUS = "/external/api/deviceStatus"
#: Percent of the battery per watt-minute.
PERCENT_PER_WMIN = 100 / sbo.CAPACITY_WMIN


def _official(sandbox: Sandbox) -> sbo.XoltaOfficial:
    return sbo.official_of(sandbox.server.app)


def _commands(sandbox: Sandbox) -> list[tuple[str, float | None]]:
    """The commands received: (name, setpoint kW or None)."""
    out: list[tuple[str, float | None]] = []
    for command in _official(sandbox).commands:
        payload = command.get("Payload")
        power = None
        if isinstance(payload, dict):
            power = payload["setPoint"]["1"]["batteryActivePower"]
        out.append((str(command["CommandName"]), power))
    return out


async def _paths(sandbox: Sandbox) -> dict[str, int]:
    return dict((await sandbox_requests(sandbox, "xolta"))["paths"])


async def _select(hass: HomeAssistant, option: str) -> None:
    await hass.services.async_call(
        "select", "select_option", {"entity_id": SELECT, "option": option}, blocking=True
    )


async def _set(hass: HomeAssistant, value: float) -> None:
    await hass.services.async_call(
        "number", "set_value", {"entity_id": NUMBER, "value": value}, blocking=True
    )


def _soc(hass: HomeAssistant) -> float:
    return float(state_of(hass, SOC))


# --- config flow ------------------------------------------------------------------------------


async def test_flow_official_api_one_and_two_sites(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """The first form offers the API credentials; a wrong secret says so; one site: the
    entry at once (credentials kept as username and password, which diagnostics redact);
    two sites: the site step; the same site twice: already added."""
    flow_id = await start_flow(hass, "xolta")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"connection": "api", "advanced": {}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "xolta_api"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"client_id": "sandbox-client", "client_secret": "wrong", "advanced": {}}
    )
    assert result["errors"] == {"base": "invalid_client_credentials"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"client_id": "sandbox-client", "client_secret": " ", "advanced": {}}
    )
    assert result["errors"] == {"client_secret": "client_secret_required"}
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {"client_id": "sandbox-client", "client_secret": "sandbox-secret", "advanced": {}},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Sandbox house"
    assert result["data"] == {
        "source": "xolta",
        "connection": "api",
        "username": "sandbox-client",
        "password": "sandbox-secret",
        "site_id": SITE,
        "site_name": "Sandbox house",
    }
    assert _commands(sandbox) == []  # nothing was sent at setup

    flow_id = await start_flow(hass, "xolta")
    await hass.config_entries.flow.async_configure(flow_id, {"connection": "api", "advanced": {}})
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {"client_id": "two-sites-client", "client_secret": "sandbox-secret", "advanced": {}},
    )
    assert result["step_id"] == "xolta_site"
    result = await hass.config_entries.flow.async_configure(flow_id, {"site_id": SITE})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "xolta_already_configured"
    # The entry's first history run ends before the recorder stops with the test.
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_flow_sign_in_needs_a_username(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """The app's sign-in (the default choice) without an e-mail address says so."""
    flow_id = await start_flow(hass, "xolta")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"connection": "app", "password": "xolta-sandbox", "advanced": {}}
    )
    assert result["errors"] == {"username": "username_required"}


async def test_reconfigure_moves_a_signed_in_entry_to_the_official_api(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Reconfigure with the client id and secret: the entry uses the official API (its
    password and refresh token dropped) and gets the select and the number."""
    config = await setup_integration(hass, xolta_entry())
    assert hass.states.get(SELECT) is None
    result = await config.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": "sandbox-client", "client_secret": "nope"}
    )
    assert result["errors"] == {"base": "invalid_client_credentials"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert dict(config.data) == {
        "source": "xolta",
        "connection": "api",
        "username": "sandbox-client",
        "password": "sandbox-secret",
        "site_id": SITE,
        "site_name": "Sandbox house",
    }
    assert state_of(hass, SELECT) == "self_consumption"
    assert _commands(sandbox) == []


async def test_reauth_with_a_new_client_secret(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """XOLTA rotates the secret: the entry asks for it again and loads with the new one."""
    _official(sandbox).secrets["sandbox-client"] = "rotated"
    config = await setup_integration(hass, xolta_official_entry(), loaded=False)
    assert config.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"client_secret": "rotated"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert config.state is ConfigEntryState.LOADED
    assert config.data["password"] == "rotated"
    assert config.data["username"] == "sandbox-client"


# --- readings ---------------------------------------------------------------------------------


async def test_same_sensors_without_house_power_and_nothing_sent(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    hass_client: ClientSessionGenerator,
) -> None:
    """The official path shows the app path's sensors (same ids) from the device status,
    but no house power (the official status has no such figure); the select and number show
    the mode and setpoint; nothing is sent at setup or reload; diagnostics hide the secret and
    the client id."""
    config = await setup_integration(hass, xolta_official_entry())
    minute = sb.minute_power(SITE, START)
    assert _soc(hass) == round(sb.soc_percent(SITE, START), 2)
    assert float(state_of(hass, BATTERY_POWER)) == minute.battery_w
    assert float(state_of(hass, "sensor.xolta_sandbox_house_grid_power")) == minute.grid_w
    assert hass.states.get("sensor.xolta_sandbox_house_house_consumption") is None
    assert state_of(hass, "sensor.xolta_sandbox_house_pv_energy") == "0.0"
    assert state_of(hass, SELECT) == "self_consumption"
    number = hass.states.get(NUMBER)
    assert number is not None
    assert number.state == "0.0"
    assert number.attributes["min"] == -5000
    assert number.attributes["max"] == 5000
    assert await hass.config_entries.async_reload(config.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _commands(sandbox) == []
    assert COMMAND not in await _paths(sandbox)

    diag = await get_diagnostics_for_config_entry(hass, hass_client, config)
    text = str(diag)
    assert "sandbox-secret" not in text
    assert "sandbox-client" not in text
    assert diag["entry"]["data"]["password"] == "**REDACTED**"
    assert diag["data"]["connection"] == "api"
    assert diag["data"]["mode"] == "self_consumption"


# --- control ----------------------------------------------------------------------------------


async def test_select_and_number_steer_the_battery(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """Idle, then external control at 2.5 kW charging: the modelled battery rests, then
    charges 2,500 W x 30 min = 12.5 %; self-consumption again. No command is sent that the
    status already confirms; each command is confirmed by one fresh status."""
    await setup_integration(hass, xolta_official_entry())
    soc0 = sb.soc_percent(SITE, START)
    await sandbox_requests(sandbox, "xolta", reset=True)

    await _select(hass, "idle")
    assert state_of(hass, SELECT) == "idle"
    assert _official(sandbox).battery(SITE).state == sbo.IDLING
    assert _commands(sandbox) == [("GoToState_Idling", None)]
    assert await _paths(sandbox) == {COMMAND: 1, STATUS: 1}
    await _select(hass, "idle")  # already idle: nothing sent, nothing fetched
    assert await _paths(sandbox) == {COMMAND: 1, STATUS: 1}

    await advance(hass, freezer, START + timedelta(minutes=10))
    assert _soc(hass) == round(soc0, 2)  # an idle battery keeps its charge
    assert float(state_of(hass, BATTERY_POWER)) == 0

    await _set(hass, -2500)
    assert state_of(hass, SELECT) == "external_control"
    assert state_of(hass, NUMBER) == "-2500.0"
    assert _commands(sandbox)[1:] == [
        ("GoToState_Running", None),
        ("GoToMode_ExternalControl", -2.5),
    ]
    await _set(hass, -2500)  # confirmed already: nothing sent
    assert len(_commands(sandbox)) == 3
    await advance(hass, freezer, START + timedelta(minutes=40))
    assert _soc(hass) == round(soc0 + 2500 * 30 * PERCENT_PER_WMIN, 2)
    assert float(state_of(hass, BATTERY_POWER)) == -2500
    battery = _official(sandbox).battery(SITE)
    assert battery.mode == sbo.EXTERNAL_CONTROL
    assert battery.setpoint_w == -2500

    await _select(hass, "self_consumption")
    assert state_of(hass, SELECT) == "self_consumption"
    assert _commands(sandbox)[3:] == [("GoToMode_SelfConsumption", None)]
    assert state_of(hass, NUMBER) == "0.0"

    with pytest.raises(ServiceValidationError) as err:
        await _set(hass, 5001)  # beyond the rated power: Home Assistant's own check
    assert err.value.translation_key == "out_of_range"
    assert len(_commands(sandbox)) == 4


async def test_refused_and_unconfirmed_commands(
    hass: HomeAssistant, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused command and one the status does not show: translated errors, one log line
    each, the select still shows what the battery does."""
    await setup_integration(hass, xolta_official_entry())
    official = _official(sandbox)
    official.refuse_commands = True
    caplog.clear()
    with caplog.at_level(logging.WARNING), pytest.raises(HomeAssistantError) as err:
        await _select(hass, "idle")
    assert err.value.translation_key == "xolta_command_refused"
    assert str(err.value).startswith("XOLTA refused the command (mode idle). The battery keeps")
    assert len([r for r in caplog.records if r.name.startswith("custom_components")]) == 1
    assert state_of(hass, SELECT) == "self_consumption"

    official.refuse_commands = False
    official.ignore_commands = True
    caplog.clear()
    with caplog.at_level(logging.WARNING), pytest.raises(HomeAssistantError) as err:
        await _set(hass, 1000)
    assert err.value.translation_key == "xolta_command_unconfirmed"
    assert len([r for r in caplog.records if r.name.startswith("custom_components")]) == 1
    assert state_of(hass, SELECT) == "self_consumption"
    assert official.battery(SITE).since is None  # the model never took a command


async def test_charge_until_a_time_returns_after_a_restart(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """xolta_charge at 2.5 kW for an hour, with a restart after 20 minutes: nothing is sent
    at the restart; at the hour the battery returns to self-consumption, charged by 25 %."""
    config = await setup_integration(hass, xolta_official_entry())
    soc0 = sb.soc_percent(SITE, START)
    until = START + timedelta(hours=1)
    await hass.services.async_call(
        DOMAIN,
        "xolta_charge",
        {"config_entry_id": config.entry_id, "power": 2500, "until": until.isoformat()},
        blocking=True,
    )
    assert state_of(hass, SELECT) == "external_control"
    assert _commands(sandbox) == [("GoToMode_ExternalControl", -2.5)]

    await advance(hass, freezer, START + timedelta(minutes=20))
    assert await hass.config_entries.async_unload(config.entry_id)
    assert await hass.config_entries.async_setup(config.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(_commands(sandbox)) == 1  # nothing sent at setup
    assert state_of(hass, SELECT) == "external_control"

    for minute in range(21, 61):
        await advance(hass, freezer, START + timedelta(minutes=minute))
    assert _commands(sandbox) == [
        ("GoToMode_ExternalControl", -2.5),
        ("GoToMode_SelfConsumption", None),
    ]
    assert state_of(hass, SELECT) == "self_consumption"
    assert _soc(hass) == round(soc0 + 2500 * 60 * PERCENT_PER_WMIN, 2)
    await advance(hass, freezer, START + timedelta(minutes=70))
    assert len(_commands(sandbox)) == 2  # the plan is over


async def test_discharge_to_a_state_of_charge_returns_to_idle(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """From idle, xolta_discharge at 3 kW (0.5 % a minute) to 3 % below the start: the
    first status at or below it ends the plan, and the battery idles again."""
    config = await setup_integration(hass, xolta_official_entry())
    await _select(hass, "idle")
    soc0 = sb.soc_percent(SITE, START)
    target = round(soc0 - 3, 1)
    await hass.services.async_call(
        DOMAIN,
        "xolta_discharge",
        {"config_entry_id": config.entry_id, "power": 3000, "soc": target},
        blocking=True,
    )
    assert _commands(sandbox)[1:] == [
        ("GoToState_Running", None),
        ("GoToMode_ExternalControl", 3.0),
    ]
    minutes = 1
    while round(soc0 - 3000 * minutes * PERCENT_PER_WMIN, 2) > target:
        minutes += 1
    for minute in range(1, minutes + 1):
        await advance(hass, freezer, START + timedelta(minutes=minute))
        returned = len(_commands(sandbox)) == 4
        assert returned is (minute == minutes), minute
    assert _commands(sandbox)[3:] == [("GoToState_Idling", None)]
    assert state_of(hass, SELECT) == "idle"
    assert _soc(hass) == round(soc0 - 3000 * minutes * PERCENT_PER_WMIN, 2)


async def test_action_needs_the_official_api(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """A signed-in entry cannot be steered: a translated error, nothing sent."""
    config = await setup_integration(hass, xolta_entry())
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "xolta_charge",
            {"config_entry_id": config.entry_id, "power": 1000, "soc": 80},
            blocking=True,
        )
    assert err.value.translation_key == "xolta_control_needs_api"
    assert _commands(sandbox) == []


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"power": 1000}, "xolta_until_or_soc"),
        ({"power": 6000, "soc": 80}, "xolta_power_out_of_range"),
        ({"power": 1000, "until": "2026-06-06T00:00:00+00:00"}, "xolta_until_past"),
    ],
)
async def test_action_refuses_what_cannot_be_done(
    hass: HomeAssistant, sandbox: Sandbox, data: dict[str, Any], key: str
) -> None:
    """No end, more than the rated power, an end in the past: translated errors, nothing
    sent."""
    config = await setup_integration(hass, xolta_official_entry())
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "xolta_charge", {"config_entry_id": config.entry_id, **data}, blocking=True
        )
    assert err.value.translation_key == key
    assert _commands(sandbox) == []


async def test_return_refused_is_logged_once_and_tried_again(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At the plan's end XOLTA refuses the return for three updates: one warning, the plan
    kept (and tried at each update, logged no more), then the return goes through."""
    config = await setup_integration(hass, xolta_official_entry())
    await hass.services.async_call(
        DOMAIN,
        "xolta_discharge",
        {
            "config_entry_id": config.entry_id,
            "power": 1000,
            "until": (START + timedelta(minutes=5)).isoformat(),
        },
        blocking=True,
    )
    official = _official(sandbox)
    official.refuse_commands = True
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        for minute in range(1, 8):
            await advance(hass, freezer, START + timedelta(minutes=minute))
    warnings = [r for r in caplog.records if r.name.startswith("custom_components")]
    assert len(warnings) == 1
    assert "did not return" in warnings[0].getMessage()
    assert [name for name, _ in _commands(sandbox)] == [
        "GoToMode_ExternalControl",
        *["GoToMode_SelfConsumption"] * 3,  # 00:08, 00:09, 00:10 (refused)
    ]
    assert state_of(hass, SELECT) == "external_control"
    official.refuse_commands = False
    await advance(hass, freezer, START + timedelta(minutes=8))
    assert len(_commands(sandbox)) == 5
    assert state_of(hass, SELECT) == "self_consumption"
    assert official.battery(SITE).mode == sbo.SELF_CONSUMPTION


TRUTH = {
    "battery_charged_energy": "battery_charge_kwh",
    "battery_discharged_energy": "battery_discharge_kwh",
    "pv_energy": "pv_kwh",
    "grid_import_energy": "grid_import_kwh",
    "grid_export_energy": "grid_export_kwh",
    "house_energy": "load_kwh",
}
ENTITY = {
    "battery_charged_energy": "battery_energy_charged",
    "battery_discharged_energy": "battery_energy_discharged",
    "pv_energy": "pv_energy",
    "grid_import_energy": "grid_energy_imported",
    "grid_export_energy": "grid_energy_exported",
    "house_energy": "house_energy_consumed",
}


async def test_counters_and_statistics_as_on_the_app_path(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """The official API's summaries give the same counters and hourly statistics (same ids)
    as the app path: equal to the sandbox's ground truth."""
    await setup_integration(hass, xolta_official_entry())
    for minute in range(1, 41):
        await advance(hass, freezer, START + timedelta(minutes=minute))
    counted_until = START.replace(minute=40)  # 00:43: the buckets that ended by 00:41
    truth = sb.interval_energy(SITE, START.replace(minute=0), counted_until, online_only=True)
    for key, name in ENTITY.items():
        value = float(state_of(hass, f"sensor.xolta_sandbox_house_{name}"))
        assert value == pytest.approx(getattr(truth, TRUTH[key]), abs=1e-6), key
    await async_wait_recording_done(hass)
    first = START.replace(minute=0) - timedelta(days=1)
    for key, attribute in TRUTH.items():
        stat = f"energy_hub:xolta_sandbox_house_{key}"
        rows = await get_instance(hass).async_add_executor_job(
            statistics_during_period,
            hass,
            first,
            START.replace(minute=0),
            {stat},
            "hour",
            None,
            {"state"},
        )
        hours = {datetime.fromtimestamp(r["start"], UTC): r["state"] for r in rows[stat]}
        assert len(hours) == 24, key
        for hour, amount in hours.items():
            expected = getattr(
                sb.interval_energy(SITE, hour, hour + timedelta(hours=1), online_only=True),
                attribute,
            )
            assert amount == pytest.approx(expected, abs=1e-6), (key, hour)


async def test_choosing_a_mode_during_a_plan_ends_it(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """The user takes over during a timed charge (idle): the plan is dropped, so nothing
    is sent at its end."""
    config = await setup_integration(hass, xolta_official_entry())
    await hass.services.async_call(
        DOMAIN,
        "xolta_charge",
        {
            "config_entry_id": config.entry_id,
            "power": 1500,
            "until": (START + timedelta(minutes=10)).isoformat(),
        },
        blocking=True,
    )
    await advance(hass, freezer, START + timedelta(minutes=2))
    await _select(hass, "idle")
    for minute in range(3, 13):
        await advance(hass, freezer, START + timedelta(minutes=minute))
    assert _commands(sandbox) == [("GoToMode_ExternalControl", -1.5), ("GoToState_Idling", None)]
    assert state_of(hass, SELECT) == "idle"
    assert config.runtime_data.source.diagnostics(None)["plan"] is None


async def test_plan_ended_while_stopped_returns_at_the_first_update_after_setup(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """Home Assistant is stopped across the end of a timed discharge: setup sends nothing; the
    next update (a minute later) returns the battery to self-consumption."""
    config = await setup_integration(hass, xolta_official_entry())
    await hass.services.async_call(
        DOMAIN,
        "xolta_discharge",
        {
            "config_entry_id": config.entry_id,
            "power": 2000,
            "until": (START + timedelta(minutes=10)).isoformat(),
        },
        blocking=True,
    )
    assert await hass.config_entries.async_unload(config.entry_id)
    freezer.move_to(START + timedelta(minutes=30))
    assert await hass.config_entries.async_setup(config.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _commands(sandbox) == [("GoToMode_ExternalControl", 2.0)]
    assert state_of(hass, SELECT) == "external_control"
    await advance(hass, freezer, START + timedelta(minutes=31))
    assert _commands(sandbox) == [
        ("GoToMode_ExternalControl", 2.0),
        ("GoToMode_SelfConsumption", None),
    ]
    assert state_of(hass, SELECT) == "self_consumption"
    soc0 = sb.soc_percent(SITE, START)
    # 2 kW for the 31 minutes the battery was left under external control.
    assert _soc(hass) == round(soc0 - 2000 * 31 * PERCENT_PER_WMIN, 2)
