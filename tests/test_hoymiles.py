"""Hoymiles through Home Assistant, against the in-process sandbox.

The sandbox's clock is Home Assistant's frozen clock; its ground-truth functions (`plant_power`,
`inverters_at`, `today_energy`, `day_energy`, `flow_at`) say what the cloud shows, so entities
and statistics are checked against them.
"""

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
import itertools
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_hub import async_remove_config_entry_device
from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.sources.hoymiles import HoymilesSource
import sandbox.hoymiles as sb

from .conftest import Sandbox, advance, sandbox_requests, setup_integration, start_flow
from .entries import hoymiles_entry as entry

USER = sb.DEMO_USER
UNIQUE = f"hoymiles_{USER}"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def start() -> datetime:
    """Frozen time at the start of a test: a June afternoon (15:00 in Amsterdam)."""
    return datetime(2026, 6, 6, 13, 1, tzinfo=UTC)


async def _paths(sandbox: Sandbox) -> dict[str, int]:
    return dict((await sandbox_requests(sandbox, "hoymiles"))["paths"])


def _entity(hass: HomeAssistant, key: str, platform: str = "sensor") -> str | None:
    return er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{UNIQUE}:{key}")


def _state(hass: HomeAssistant, key: str) -> str:
    entity_id = _entity(hass, key)
    assert entity_id, key
    state = hass.states.get(entity_id)
    assert state is not None, key
    return state.state


def _value(hass: HomeAssistant, key: str) -> float:
    return float(_state(hass, key))


def _device(hass: HomeAssistant, config: MockConfigEntry, key: str) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{UNIQUE}:{key}"), config.entry_id
    )


def _source(config: MockConfigEntry) -> HoymilesSource:
    source = config.runtime_data.source
    assert isinstance(source, HoymilesSource)
    return source


# --- config flow ------------------------------------------------------------------------------


async def test_flow_errors_plants_and_duplicate(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Wrong password, outage, then the plants step; the account cannot be added twice."""
    flow_id = await start_flow(hass, "hoymiles")

    async def submit(password: str, username: str = USER) -> Any:
        return await hass.config_entries.flow.async_configure(
            flow_id, {"username": f" {username} ", "password": password, "advanced": {}}
        )

    result = await submit("wrong")
    assert result["errors"] == {"base": "invalid_credentials"}
    await sandbox.put("/_admin/faults/hoymiles", json={"fault": "http_500"})
    result = await submit(sb.PASSWORD)
    assert result["errors"] == {"base": "cannot_connect"}
    await sandbox.delete("/_admin/faults/hoymiles")
    result = await submit(sb.PASSWORD)
    assert result["step_id"] == "hoymiles_plants"
    with patch("custom_components.energy_hub.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"plants": ["1001", "1003"]}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Hoymiles {USER}"
    assert result["data"] == {"source": "hoymiles", "username": USER, "password": sb.PASSWORD}
    assert result["options"] == {
        "plants": ["1001", "1003"],
        "scan_interval": 5,
        "history_days": 365,
    }

    # One plant: no plants step; the same account again: aborted.
    flow_id = await start_flow(hass, "hoymiles")
    with patch("custom_components.energy_hub.async_setup_entry", return_value=True):
        result = await submit(sb.PASSWORD, username="dotted@energy-hub.example")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"]["plants"] == []
    flow_id = await start_flow(hass, "hoymiles")
    result = await submit(sb.PASSWORD)
    result = await hass.config_entries.flow.async_configure(flow_id, {"plants": ["1002"]})
    assert result["reason"] == "hoymiles_already_configured"


async def test_flow_locked_account(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Five wrong passwords lock the account: its own error, with the wait."""
    flow_id = await start_flow(hass, "hoymiles")
    for _ in range(sb.LOCK_AFTER_FAILURES):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"username": USER, "password": "wrong", "advanced": {}}
        )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": USER, "password": sb.PASSWORD, "advanced": {}}
    )
    assert result["errors"] == {"base": "account_locked"}
    assert result["description_placeholders"]["minutes"]


LOGIN_PATHS = ("/iam/pub/3/auth/login", "/iam/pub/0/c/login_c", "/iam/pub/0/auth/login")


async def _logins(sandbox: Sandbox) -> list[int]:
    """Login requests so far, per login endpoint (v3, login_c, v0)."""
    paths = await _paths(sandbox)
    return [paths.get(path, 0) for path in LOGIN_PATHS]


async def test_second_typo_does_not_lock(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """A salt-less account: a wrong password costs two failed logins (the hash's two
    encodings), no other method; two typos in a row (4 failures) leave the account open
    (Hoymiles locks at 5), and the right password then works."""
    emulator = sb.sandbox_of(sandbox.server.app)
    flow_id = await start_flow(hass, "hoymiles")
    user = "dotted@energy-hub.example"
    for typo in (1, 2):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"username": user, "password": "wrong", "advanced": {}}
        )
        assert result["errors"] == {"base": "invalid_credentials"}
        assert await _logins(sandbox) == [2 * typo, 0, 0]
        assert emulator.failed_logins == 2 * typo
    with patch("custom_components.energy_hub.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"username": user, "password": sb.PASSWORD, "advanced": {}}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert emulator.failed_logins == 4


async def test_pre_insp_without_the_envelope(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """pre-insp answering its fields at the top level: the v3 login is tried and works."""
    sb.sandbox_of(sandbox.server.app).bare_pre_insp = True
    flow_id = await start_flow(hass, "hoymiles")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": USER, "password": sb.PASSWORD, "advanced": {}}
    )
    assert result["step_id"] == "hoymiles_plants"
    assert await _logins(sandbox) == [1, 0, 0]
    assert sb.sandbox_of(sandbox.server.app).failed_logins == 0


async def test_app_version_low(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """ "App version is low": its own flow error (not invalid credentials), no failed login,
    one try per method; an entry fails its setup for good with its own message (no reauth,
    no setup retries logging in again and again)."""
    emulator = sb.sandbox_of(sandbox.server.app)
    emulator.min_app_version = "99.0.0"
    flow_id = await start_flow(hass, "hoymiles")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": USER, "password": sb.PASSWORD, "advanced": {}}
    )
    assert result["errors"] == {"base": "app_outdated"}
    assert await _logins(sandbox) == [1, 1, 1]
    assert emulator.failed_logins == 0

    config = await setup_integration(hass, entry(), loaded=False)
    assert config.state is ConfigEntryState.SETUP_ERROR
    assert config.error_reason_translation_key == "app_outdated"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["user"]  # no reauth
    assert await _logins(sandbox) == [2, 2, 2]
    assert emulator.failed_logins == 0


async def test_many_plants_in_pages(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """An account of 25 plants that the cloud lists 10 a page: all 25 are offered in the
    flow and shown by the entry."""
    flow_id = await start_flow(hass, "hoymiles")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": sb.MANY_USER, "password": sb.PASSWORD, "advanced": {}}
    )
    assert result["step_id"] == "hoymiles_plants"
    offered = result["data_schema"].schema["plants"].config["options"]
    assert [option["value"] for option in offered] == [str(n) for n in range(1004, 1029)]
    assert offered[24] == {"value": "1028", "label": "Allotment 25"}
    assert (await _paths(sandbox))["/pvm/api/0/station/select_by_page"] == 3

    config = await setup_integration(hass, entry([], user=sb.MANY_USER))
    assert config.state is ConfigEntryState.LOADED
    assert set(_source(config).plants) == set(range(1004, 1029))
    plants = [
        device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), config.entry_id)
        if device.model == "Plant"
    ]
    assert len(plants) == 25
    now = dt_util.utcnow()
    power = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"hoymiles_{sb.MANY_USER}:plant_1028:pv_power"
    )
    assert power is not None
    state = hass.states.get(power)
    assert state is not None
    assert float(state.state) == pytest.approx(
        sb.plant_power(1028, sb.published_slot(now)), abs=0.05
    )


async def test_options(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Plant ids, an interval never below 2 minutes, history at most a year."""
    config = await setup_integration(hass, entry())
    result = await hass.config_entries.options.async_init(config.entry_id)
    # The account's plants are offered by name.
    plants = result["data_schema"].schema["plants"].config
    assert plants["options"] == [
        {"value": "1001", "label": "Balcony Row"},
        {"value": "1002", "label": "Barn Roof"},
        {"value": "1003", "label": "Hybrid House"},
    ]
    assert plants["multiple"] is True
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"plants": ["1001", "x"], "scan_interval": 5, "history_days": 3}
    )
    assert result["errors"] == {"plants": "invalid_plant"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"plants": [" 1001 "], "scan_interval": 2, "history_days": 365}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert config.options == {"plants": ["1001"], "scan_interval": 2, "history_days": 365}
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _entity(hass, "plant_1003:pv_power") is None  # its device went with it
    assert set(_source(config).plants or {}) == {1001}
    assert HoymilesSource.validate_options({"plants": "1, 2", "scan_interval": 1}) == {
        "plants": ["1", "2"],
        "scan_interval": 2,
        "history_days": 365,
    }


async def test_wrong_password_reauth_and_reconfigure(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """A rejected password: reauth; the right one reloads the entry; reconfigure too."""
    config = await setup_integration(hass, entry(password="old-password"), loaded=False)
    assert config.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {"password": "nope"})
    assert result["errors"] == {"base": "invalid_credentials"}
    result = await hass.config_entries.flow.async_configure(flow_id, {"password": sb.PASSWORD})
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert config.state is ConfigEntryState.LOADED
    assert config.data["password"] == sb.PASSWORD

    result = await config.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"password": sb.PASSWORD}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)


# --- live values --------------------------------------------------------------------------------


async def test_plants_devices_and_values(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Plant, DTU, microinverters, hybrid inverter, battery and meter, linked by via; values
    as the sandbox says."""
    now = dt_util.utcnow()
    config = await setup_integration(hass, entry())
    assert config.state is ConfigEntryState.LOADED
    devices = dr.async_get(hass)
    plant = _device(hass, config, "plant_1001")
    assert plant is not None
    assert plant.entry_type is dr.DeviceEntryType.SERVICE
    dtu = _device(hass, config, "device_1001001")
    assert dtu is not None
    assert dtu.via_device_id == plant.id
    children = [
        d
        for d in dr.async_entries_for_config_entry(devices, config.entry_id)
        if d.via_device_id == dtu.id
    ]
    assert len(children) == 8
    battery = _device(hass, config, f"device_{sb.BATTERY_ID}")
    assert battery is not None
    hybrid = devices.async_get(battery.via_device_id or "")
    assert hybrid is not None
    assert hybrid.model == "HYS-4.6LV-EUG1"

    slot = sb.published_slot(now)
    assert _value(hass, "plant_1001:pv_power") == pytest.approx(sb.plant_power(1001, slot), 0.01)
    assert _value(hass, "plant_1001:pv_energy_today") == pytest.approx(
        sb.today_energy(1001, now) / 1000, abs=0.01
    )
    assert _value(hass, "plant_1001:pv_energy") > 1000
    assert _state(hass, "plant_1001:device_status") == "online"
    assert _state(hass, "plant_1001:last_report").startswith("2026-06-06T13:00:37")
    for state in sb.inverters_at(1001, slot):
        expected = "online" if state.connected else "offline"
        assert _state(hass, f"device_{state.id}:device_status") == expected
        # Each microinverter's power now and energy today, from its chart.
        device = f"device_{state.id}"
        assert _value(hass, f"{device}:pv_power") == pytest.approx(state.power_w, abs=0.05)
        assert _value(hass, f"{device}:pv_energy_today") == pytest.approx(
            sb.inverter_today_energy(1001, state.id, now) / 1000, abs=1e-5
        )
        # Counted from today on: the cloud keeps no lifetime figure per microinverter.
        assert _value(hass, f"{device}:pv_energy") == _value(hass, f"{device}:pv_energy_today")
        # Temperature: a diagnostic sensor, off until the user turns it on.
        temperature = er.async_get(hass).async_get(_entity(hass, f"{device}:inverter_temperature"))
        assert temperature is not None
        assert temperature.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    # The microinverters' energy adds up to the plant's.
    micro_total = sum(
        _value(hass, f"device_{inv.id}:pv_energy_today") for inv in sb.PLANTS[1001].inverters
    )
    assert micro_total == pytest.approx(sb.today_energy(1001, now) / 1000, abs=0.002)
    assert _entity(hass, f"device_{sb.PLANTS[1003].inverters[0].id}:pv_power") is None
    flow = sb.flow_at(slot)
    assert _value(hass, "plant_1003:battery_soc") == pytest.approx(flow.soc, abs=0.1)
    assert _value(hass, "plant_1003:battery_power") == pytest.approx(-flow.bms_w, abs=0.1)
    assert _value(hass, "plant_1003:grid_power") == pytest.approx(-flow.grid_w, abs=0.1)
    assert _value(hass, "plant_1003:grid_import_energy") > 0
    assert _value(hass, "plant_1003:battery_charged_energy") >= 0
    assert _entity(hass, "plant_1001:battery_soc") is None
    diagnostics = _source(config).diagnostics(config.runtime_data.data)
    assert diagnostics["plants"]["1001"]["devices"] == 9
    assert diagnostics["plants"]["1001"]["microinverters_charted"] == 8
    assert diagnostics["data_endpoints"] == "installer"


async def test_odd_values(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No value: unavailable, not 0; a lower total: the held one stays."""
    config = await setup_integration(hass, entry(["1001"]))
    total = _value(hass, "plant_1001:pv_energy")
    today = _value(hass, "plant_1001:pv_energy_today")
    real = sb.realtime_json

    def odd(plant_id: int, now: datetime) -> dict[str, Any]:
        body = real(plant_id, now)
        return body | {"real_power": "-", "today_eq": "", "total_eq": str(total * 1000 - 500)}

    monkeypatch.setattr(sb, "realtime_json", odd)
    await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=6))
    assert _state(hass, "plant_1001:pv_power") == STATE_UNAVAILABLE
    assert _value(hass, "plant_1001:pv_energy_today") == today
    assert _value(hass, "plant_1001:pv_energy") == total

    def missing(plant_id: int, now: datetime) -> dict[str, Any]:
        body = real(plant_id, now)
        del body["total_eq"]
        return body

    monkeypatch.setattr(sb, "realtime_json", missing)
    await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=6))
    assert _state(hass, "plant_1001:pv_energy") == STATE_UNAVAILABLE
    assert _source(config).totals["1001:pv_energy"] == total

    def silent(plant_id: int, now: datetime) -> dict[str, Any]:
        return real(plant_id, now) | {"data_time": None, "last_data_time": None}

    # A plant that does not say when it last uploaded is asked every 15 minutes at most.
    monkeypatch.setattr(sb, "realtime_json", silent)
    when = dt_util.utcnow() + timedelta(minutes=6)
    await advance(hass, freezer, when)
    plants = _source(config).plants or {}
    assert plants[1001].realtime_due == when + timedelta(minutes=15)
    assert _state(hass, "plant_1001:last_report") == STATE_UNAVAILABLE


async def test_micro_chart_gaps(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An empty chart: a connected microinverter's power and temperature have no value
    (unavailable, not 0) and its energy today stays."""
    config = await setup_integration(hass, entry(["1001"]))
    inverter = sb.PLANTS[1001].inverters[0].id
    device = f"device_{inverter}"
    er.async_get(hass).async_update_entity(
        _entity(hass, f"{device}:inverter_temperature") or "", disabled_by=None
    )
    await hass.config_entries.async_reload(config.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    now = dt_util.utcnow()
    slot = sb.published_slot(now)
    assert _value(hass, f"{device}:inverter_temperature") == pytest.approx(
        sb.inverter_temperature(1001, inverter, slot), abs=0.05
    )
    energy = _value(hass, f"{device}:pv_energy_today")
    monkeypatch.setattr(sb, "micro_chart", lambda plant, day, *_, **__: b"")
    await advance(hass, freezer, now + timedelta(minutes=6))
    assert _state(hass, f"device_{inverter}:device_status") == "online"
    assert _state(hass, f"{device}:pv_power") == STATE_UNAVAILABLE
    assert _state(hass, f"{device}:inverter_temperature") == STATE_UNAVAILABLE
    assert _value(hass, f"{device}:pv_energy_today") == energy
    assert config.state is ConfigEntryState.LOADED


async def test_chart_failure_keeps_the_plant(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The chart endpoint failing: the plant's values stay, the microinverters have no power
    value, the chart is asked for at its own pace (not each update) and recovers."""
    chart = sb.micro_chart

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("chart store down")  # the sandbox answers HTTP 500

    monkeypatch.setattr(sb, "micro_chart", broken)
    config = await setup_integration(hass, entry(["1001"]))
    assert config.state is ConfigEntryState.LOADED
    device = f"device_{sb.PLANTS[1001].inverters[0].id}"
    assert _value(hass, "plant_1001:pv_power") > 0
    assert _state(hass, f"{device}:pv_power") == STATE_UNAVAILABLE
    await sandbox.delete("/_admin/requests")
    for _ in range(3):  # an upload each, the third 18 minutes after the failed chart
        await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=6))
        assert _value(hass, "plant_1001:pv_power") > 0
    paths = await _paths(sandbox)
    assert paths["/pvm-data/api/0/station/data/count_station_real_data"] == 3
    assert paths["/pvm-data/api/0/micro/data/count_by_day"] == 1  # one in 15 minutes

    monkeypatch.setattr(sb, "micro_chart", chart)
    await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=16))
    now = dt_util.utcnow()
    inverter = sb.PLANTS[1001].inverters[0].id
    assert _value(hass, f"{device}:pv_power") == pytest.approx(
        sb.inverter_power(1001, inverter, sb.published_slot(now)), abs=0.05
    )


async def test_persist_and_restore(hass: HomeAssistant) -> None:
    """Counters survive a restart; odd stored values are dropped."""
    source = HoymilesSource(
        async_get_clientsession(hass),
        {"source": "hoymiles", "username": USER, "password": sb.PASSWORD},
        {},
    )
    source.restore(
        {
            "totals": {"1001:pv_energy": 5.5, "1001:bad": "x", "1001:neg": -1},
            "today": {"1001:pv_energy_today": ["2026-06-06", 1.25], "1001:odd": [1], "x": "y"},
        }
    )
    assert source.persist() == {
        "totals": {"1001:pv_energy": 5.5},
        "today": {"1001:pv_energy_today": ["2026-06-06", 1.25]},
    }
    assert source.options == {"plants": [], "scan_interval": 5, "history_days": 365}
    assert source.next_history(datetime(2026, 6, 6, 12, tzinfo=UTC)) == datetime(
        2026, 6, 6, 23, tzinfo=UTC
    )


async def test_dynamic_devices(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A microinverter that leaves the tree goes with its entities; one that comes gets
    them without a reload."""
    config = await setup_integration(hass, entry(["1001"]))
    tree = sb.device_tree_json
    gone = sb.PLANTS[1001].inverters[-1].id

    def without(plant_id: int, now: datetime) -> list[dict[str, Any]]:
        nodes = tree(plant_id, now)
        nodes[0]["children"] = [c for c in nodes[0]["children"] if c["id"] != gone]
        return nodes

    monkeypatch.setattr(sb, "device_tree_json", without)
    await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=61))
    assert _device(hass, config, f"device_{gone}") is None
    assert _entity(hass, f"device_{gone}:device_status") is None
    assert config.state is ConfigEntryState.LOADED

    # An empty answer (a glitch) removes nothing.
    monkeypatch.setattr(sb, "device_tree_json", lambda plant_id, now: [])
    await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=61))
    assert _device(hass, config, "device_1001001") is not None

    monkeypatch.setattr(sb, "device_tree_json", tree)
    await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=61))
    device = _device(hass, config, f"device_{gone}")
    assert device is not None
    assert _state(hass, f"device_{gone}:device_status") in {"online", "offline"}
    assert not await async_remove_config_entry_device(hass, config, device)
    monkeypatch.setattr(sb, "device_tree_json", without)
    await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=61))
    assert await async_remove_config_entry_device(hass, config, device)


@pytest.mark.parametrize("start", [datetime(2026, 6, 6, 6, 1, tzinfo=UTC)])
async def test_plants_added_and_removed(
    recorder_mock: Any,
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Showing all plants: one added to the account later appears at the next plant-list read
    (6 hours at most) with its devices, entities and its own history, no reload, and without
    asking again for the other plants' history; one removed from the account goes."""
    account = sb.ACCOUNTS[USER]
    monkeypatch.setitem(sb.ACCOUNTS, USER, dataclasses.replace(account, stations=(1001, 1003)))
    config = await setup_integration(hass, entry([], history_days=30))
    assert _device(hass, config, "plant_1002") is None
    await async_wait_recording_done(hass)

    monkeypatch.setitem(sb.ACCOUNTS, USER, account)
    await sandbox.delete("/_admin/requests")
    await advance(hass, freezer, dt_util.utcnow() + timedelta(hours=6, minutes=1))
    await async_wait_recording_done(hass)
    assert config.state is ConfigEntryState.LOADED
    plant = _device(hass, config, "plant_1002")
    assert plant is not None
    assert plant.name == "Hoymiles Barn Roof"
    now = dt_util.utcnow()
    assert _value(hass, "plant_1002:pv_power") == pytest.approx(
        sb.plant_power(1002, sb.published_slot(now)), abs=0.05
    )
    inverter = sb.PLANTS[1002].inverters[0]
    assert _state(hass, f"device_{inverter.id}:device_status") == "online"
    stat_id = "energy_hub:hoymiles_1002_pv_energy"
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        now - timedelta(days=31),
        None,
        {stat_id},
        "hour",
        None,
        {"state"},
    )
    assert len(rows[stat_id]) == 29 * 24  # the complete days of the 30-day horizon
    for row in rows[stat_id]:
        start = datetime.fromtimestamp(row["start"], UTC)
        assert row["state"] == pytest.approx(sb.hour_energy(1002, start) / 1000, abs=1e-5)
    paths = await _paths(sandbox)
    # The new plant's 29 days; the others only their rewrite week (7 or 8 days each).
    assert 29 < paths["/pvm-data/api/0/station/data/count_power_by_day"] <= 29 + 2 * 8

    monkeypatch.setitem(sb.ACCOUNTS, USER, dataclasses.replace(account, stations=(1002,)))
    await advance(hass, freezer, dt_util.utcnow() + timedelta(hours=6, minutes=1))
    assert _device(hass, config, "plant_1001") is None
    assert _device(hass, config, f"device_{sb.PLANTS[1001].inverters[0].id}") is None
    assert _entity(hass, "plant_1003:battery_soc") is None
    assert _device(hass, config, "plant_1002") is not None


@pytest.mark.parametrize("start", [datetime(2026, 6, 6, 4, 1, tzinfo=UTC)])
async def test_plant_list_glitches(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once the plants are known, a plant list that fails or comes back empty keeps them."""
    config = await setup_integration(hass, entry([]))
    station = sb.station_json

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("station list down")  # the sandbox answers HTTP 500

    monkeypatch.setattr(sb, "station_json", broken)
    await advance(hass, freezer, dt_util.utcnow() + timedelta(hours=6, minutes=1))
    assert config.state is ConfigEntryState.LOADED
    assert _value(hass, "plant_1002:pv_power") > 0
    assert set(_source(config).plants) == {1001, 1002, 1003}

    monkeypatch.setattr(sb, "station_json", station)

    class Unlisted(tuple[int, ...]):
        """The account's plants, answering data calls but missing from its list pages."""

        def __getitem__(self, item: Any) -> Any:
            return () if isinstance(item, slice) else super().__getitem__(item)

    account = sb.ACCOUNTS[USER]
    unlisted = Unlisted(account.stations)
    monkeypatch.setitem(sb.ACCOUNTS, USER, dataclasses.replace(account, stations=unlisted))
    await advance(hass, freezer, dt_util.utcnow() + timedelta(hours=6, minutes=1))
    assert config.state is ConfigEntryState.LOADED
    assert set(_source(config).plants) == {1001, 1002, 1003}
    assert _value(hass, "plant_1002:pv_power") > 0


@pytest.mark.parametrize("start", [datetime(2026, 6, 6, 12, 1, tzinfo=UTC)])
async def test_simulated_day(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """A day of every plant at the 2-minute interval: dusk, local midnight, dawn; counters
    never go back (the microinverters' too), today resets at midnight only; at most 400
    requests a plant, 4 logins."""
    config = await setup_integration(hass, entry(["1001", "1002", "1003"], scan_interval=2))
    await sandbox.delete("/_admin/requests")
    logins = sb.sandbox_of(sandbox.server.app).logins
    totals: dict[str, float] = {}
    today_seen: list[tuple[datetime, float]] = []
    offline_seen = set()
    micro = f"device_{sb.PLANTS[1001].inverters[0].id}"
    micro_seen: list[tuple[datetime, float]] = []
    midnight = datetime.combine(date(2026, 6, 7), time(0), AMSTERDAM).astimezone(UTC)
    now = start
    while now < start + timedelta(days=1):
        now += timedelta(minutes=1)
        await advance(hass, freezer, now)
        for key in (
            "plant_1001:pv_energy",
            "plant_1002:pv_energy",
            "plant_1003:battery_charged_energy",
            f"{micro}:pv_energy",
        ):
            value = _value(hass, key)
            assert value >= totals.get(key, 0.0), (now, key)
            totals[key] = value
        today_seen.append((now, _value(hass, "plant_1001:pv_energy_today")))
        micro_seen.append((now, _value(hass, f"{micro}:pv_energy_today")))
        for state in sb.PLANTS[1001].inverters:
            if _state(hass, f"device_{state.id}:device_status") == "offline":
                offline_seen.add(state.id)
                # An inverter the cloud shows offline makes nothing.
                assert _value(hass, f"device_{state.id}:pv_power") == 0.0, now
    # Dusk: every microinverter went offline; PV power unavailable at night.
    assert offline_seen == {inv.id for inv in sb.PLANTS[1001].inverters}
    # Today: grows, back to 0 only at local midnight.
    for seen in (today_seen, micro_seen):
        for (before, previous), (when, value) in itertools.pairwise(seen):
            if value < previous:
                assert before < midnight <= when, (when, value, previous)
    assert max(value for _, value in micro_seen) > 1  # kWh: a sunny June day
    # The microinverter's counter: the first afternoon, then the next morning on top.
    assert totals[f"{micro}:pv_energy"] == pytest.approx(
        max(value for when, value in micro_seen if when < midnight) + micro_seen[-1][1], abs=1e-5
    )
    # The held value is the latest upload asked for (at most one upload behind).
    held = _value(hass, "plant_1001:pv_energy_today")
    assert sb.today_energy(1001, now - timedelta(minutes=6)) / 1000 - 0.01 <= held
    assert held <= sb.today_energy(1001, now) / 1000 + 0.01
    paths = await _paths(sandbox)
    requests = sum(paths.values())
    assert requests <= 3 * 400, paths  # the budget: 400 a plant
    # One realtime answer per 5-minute upload, one device tree an hour, per plant.
    assert paths["/pvm-data/api/0/station/data/count_station_real_data"] <= 3 * 290
    assert paths["/pvm/api/0/station/select_device_of_tree"] <= 3 * 25
    # The microinverters' chart every 15 minutes while the sun is up (two micro plants).
    assert paths["/pvm-data/api/0/micro/data/count_by_day"] <= 2 * 75
    assert paths["/pvm/api/0/station/select_by_page"] <= 5
    assert sb.sandbox_of(sandbox.server.app).logins - logins <= 4
    assert config.state is ConfigEntryState.LOADED


# --- history ------------------------------------------------------------------------------------


async def test_statistics(
    recorder_mock: Any, hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """Every hour of each complete local day: the day's energy shared as its power curve
    shows (exact per hour); the next run resumes."""
    config = await setup_integration(hass, entry(["1001"], history_days=40))
    await async_wait_recording_done(hass)
    stat_id = "energy_hub:hoymiles_1001_pv_energy"
    first = dt_util.utcnow() - timedelta(days=41)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, first, None, {stat_id}, "hour", None, {"state", "sum"}
    )
    found = rows[stat_id]
    yesterday = dt_util.utcnow().astimezone(AMSTERDAM).date() - timedelta(days=1)
    first_day = datetime.fromtimestamp(found[0]["start"], UTC).astimezone(AMSTERDAM)
    assert first_day.hour == 0  # starts at a local midnight
    days = (yesterday - first_day.date()).days + 1
    assert days >= 39
    assert len(found) == 24 * days  # every hour, no gap (no clock change in May/June)
    total = 0.0
    by_day: dict[date, float] = {}
    for row in found:
        start = datetime.fromtimestamp(row["start"], UTC)
        assert row["state"] == pytest.approx(sb.hour_energy(1001, start) / 1000, abs=1e-5)
        local = start.astimezone(AMSTERDAM).date()
        by_day[local] = by_day.get(local, 0.0) + row["state"]
        total += row["state"]
        assert row["sum"] == pytest.approx(total, abs=1e-5)
    for day, energy in by_day.items():
        assert energy == pytest.approx(sb.day_energy(1001, day) / 1000, abs=1e-5)
    assert max(by_day) == yesterday

    # The next day: 24 more rows, nothing written twice.
    await sandbox.delete("/_admin/requests")
    await advance(hass, freezer, dt_util.utcnow() + timedelta(days=1))
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, first, None, {stat_id}, "hour", None, {"state", "sum"}
    )
    assert len(rows[stat_id]) == len(found) + 24
    paths = await _paths(sandbox)
    # A run asks for the months of its rewrite week (one or two requests) and a curve per day.
    assert paths.get("/pvm-data/api/0/station/data_fd/stat_g_a", 0) <= 4
    assert paths.get("/pvm-data/api/0/station/data/count_power_by_day", 0) <= 2 * 9
    assert config.runtime_data.history_written


async def test_statistics_without_curves(
    recorder_mock: Any,
    hass: HomeAssistant,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A day whose power curve is empty (a valid answer): its energy goes into the hour of its
    local midnight, every other hour 0; the day total stays exact."""
    monkeypatch.setattr(sb, "power_chart", lambda plant, day, now: b"")
    await setup_integration(hass, entry(["1001"], history_days=3))
    await async_wait_recording_done(hass)
    stat_id = "energy_hub:hoymiles_1001_pv_energy"
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        dt_util.utcnow() - timedelta(days=4),
        None,
        {stat_id},
        "hour",
        None,
        {"state"},
    )
    found = rows[stat_id]
    assert len(found) == 48  # two complete local days
    for row in found:
        start = datetime.fromtimestamp(row["start"], UTC).astimezone(AMSTERDAM)
        expected = sb.day_energy(1001, start.date()) / 1000 if start.hour == 0 else 0.0
        assert row["state"] == pytest.approx(expected, abs=1e-6)


async def test_smiles_home_account(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """An S-Miles Home account, refused on the installer endpoints, is served on the app's
    `_c` endpoints: the same devices and values; history stays on the installer paths."""
    home = "home@energy-hub.example"
    config = await setup_integration(hass, entry([], user=home))
    assert config.state is ConfigEntryState.LOADED
    flow = sb.flow_at(sb.published_slot(dt_util.utcnow()))
    soc = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"hoymiles_{home}:plant_1003:battery_soc"
    )
    assert soc is not None
    state = hass.states.get(soc)
    assert state is not None
    assert float(state.state) == pytest.approx(flow.soc, abs=0.1)
    battery = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"hoymiles_{home}:device_{sb.BATTERY_ID}"), config.entry_id
    )
    assert battery is not None
    assert battery.serial_number == sb.BATTERY_SERIAL
    paths = await _paths(sandbox)
    assert paths["/pvm/api/0/station/select_by_page"] == 1  # refused once, then never again
    assert paths["/pvmc/api/0/station/select_by_page_c"] == 1
    assert paths["/pvmc/api/0/station/find_c"] == 1
    assert paths["/pvmc/api/0/station/select_device_c"] == 1
    assert paths["/pvmc/api/0/station_data/count_station_real_data_c"] == 1
    assert "/pvm-data/api/0/station/data/count_station_real_data" not in paths
    source = config.runtime_data.source
    assert source.diagnostics(config.runtime_data.data)["data_endpoints"] == "home"


async def _hours(hass: HomeAssistant, stat_id: str, since: datetime) -> list[dict[str, Any]]:
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, since, None, {stat_id}, "hour", None, {"state", "sum"}
    )
    return list(rows.get(stat_id, []))


@pytest.mark.parametrize("fault", ["malformed_json", "broken_protobuf", "http_500"])
async def test_statistics_unreadable_curves(
    recorder_mock: Any,
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    """Power curves that cannot be read (truncated JSON, broken protobuf) on two days of a
    backfill: a failed fetch, never a day shaped on missing data. The days before are
    written, those days and the ones after are not (no midnight hour holding a whole day);
    the run is retried and then writes every hour exactly. An outage on those days (HTTP 500)
    ends the run the same way, keeping the days read before it."""
    emulator = sb.sandbox_of(sandbox.server.app)
    yesterday = dt_util.utcnow().astimezone(AMSTERDAM).date() - timedelta(days=1)
    bad = {yesterday - timedelta(days=5), yesterday - timedelta(days=3)}
    chart = sb.power_chart
    if fault == "malformed_json":
        emulator.malformed_curves.update(bad)
    else:

        def broken(plant: int, day: date, now: datetime) -> bytes:
            if day in bad and fault == "http_500":
                raise RuntimeError("curve service down")  # the sandbox answers HTTP 500
            return b"\x0a\x05ab" if day in bad else chart(plant, day, now)

        monkeypatch.setattr(sb, "power_chart", broken)
    config = await setup_integration(hass, entry(["1001"], history_days=10))
    await async_wait_recording_done(hass)
    stat_id = "energy_hub:hoymiles_1001_pv_energy"
    since = dt_util.utcnow() - timedelta(days=11)
    first_bad = datetime.combine(min(bad), time(0), AMSTERDAM).astimezone(UTC)
    found = await _hours(hass, stat_id, since)
    assert found
    starts = [datetime.fromtimestamp(row["start"], UTC) for row in found]
    assert max(starts) == first_bad - timedelta(hours=1)  # up to the day before the first
    for start, row in zip(starts, found, strict=True):
        assert row["state"] == pytest.approx(sb.hour_energy(1001, start) / 1000, abs=1e-5)
    assert config.runtime_data.history_failures == 1

    # The answers are readable again: the retry (a minute or two later) writes every hour.
    emulator.malformed_curves.clear()
    monkeypatch.setattr(sb, "power_chart", chart)
    await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=3))
    await async_wait_recording_done(hass)
    found = await _hours(hass, stat_id, since)
    first_day = datetime.fromtimestamp(found[0]["start"], UTC).astimezone(AMSTERDAM).date()
    assert len(found) == 24 * ((yesterday - first_day).days + 1)
    total = 0.0
    for row in found:
        start = datetime.fromtimestamp(row["start"], UTC)
        assert row["state"] == pytest.approx(sb.hour_energy(1001, start) / 1000, abs=1e-5)
        total += row["state"]
        assert row["sum"] == pytest.approx(total, abs=1e-5)
    assert config.runtime_data.history_failures == 0
