"""The automation blueprints in blueprints/automation/energy_hub: each one validated with Home
Assistant's blueprint schema, importable by its source URL, and run as a real automation on
sandbox data with the clock moved on."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
import shutil
from typing import Any

from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.importer import fetch_blueprint_from_url
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, yaml as yaml_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
)

import sandbox.hoymiles as sb_hoymiles
import sandbox.xolta as sb_xolta
import sandbox.xolta_official as sbo

from .carbon_intensity_mocks import national_entry
from .conftest import DOMAIN, Sandbox, advance, sandbox_requests, setup_integration, state_of
from .entries import (
    XOLTA_SITE,
    hoymiles_entry,
    octopus_entry,
    tariff_entry,
    xolta_entry,
    xolta_official_entry,
)
from .test_find_window import agile_price, national_intensity, reference

BLUEPRINTS = Path(__file__).parents[1] / "blueprints" / "automation" / "energy_hub"
NAMES = (
    "run_in_best_window.yaml",
    "switch_on_cheap_rate.yaml",
    "microinverter_silent.yaml",
    "battery_low_before_peak.yaml",
    "charge_battery_in_best_window.yaml",
)
REPOSITORY = "https://github.com/energy-hub/energy-hub"
SLOT = timedelta(minutes=30)
IMPORT_RATE = "sensor.octopus_electricity_import_0001_current_rate"
LOAD = "input_boolean.load"


@pytest.fixture(autouse=True)
async def london(hass: HomeAssistant) -> None:
    """Sandbox households are British; time triggers read local time."""
    await hass.config.async_set_time_zone("Europe/London")
    hass.config.currency = "GBP"


def _load(name: str) -> dict[str, Any]:
    data = yaml_util.load_yaml_dict(BLUEPRINTS / name)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("name", NAMES)
def test_blueprint_is_valid(name: str) -> None:
    """Home Assistant's automation blueprint schema takes it; every input it uses is declared;
    it names its source in this repository, for import by URL."""
    blueprint = Blueprint(
        _load(name), expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    assert blueprint.domain == "automation"
    assert blueprint.name.startswith("Energy Hub - ")
    assert blueprint.metadata["description"]
    assert blueprint.metadata["source_url"] == (
        f"{REPOSITORY}/blob/main/blueprints/automation/energy_hub/{name}"
    )
    assert set(blueprint.inputs) >= set(yaml_util.extract_inputs(blueprint.data))


async def test_blueprints_import_by_url(hass: HomeAssistant, mock_api: aioresponses) -> None:
    """The import dialog's path: the source URL is fetched as raw GitHub content (mocked here)
    and parsed into the same blueprint, suggested as energy-hub/<name>."""
    for name in NAMES:
        raw = f"https://raw.githubusercontent.com/energy-hub/energy-hub/main/blueprints/automation/energy_hub/{name}"
        mock_api.get(raw, body=(BLUEPRINTS / name).read_text())
        url = f"{REPOSITORY}/blob/main/blueprints/automation/energy_hub/{name}"
        imported = await fetch_blueprint_from_url(hass, url)
        assert imported.suggested_filename == f"energy-hub/{name.removesuffix('.yaml')}"
        assert imported.blueprint.domain == "automation"
        assert imported.blueprint.metadata["source_url"] == url


def _copy(target: Path, names: list[str]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(BLUEPRINTS / name, target / name)


async def _automations(hass: HomeAssistant, *uses: tuple[str, str, dict[str, Any]]) -> None:
    """The blueprints copied into the configuration, then one automation per (alias,
    blueprint, inputs); each must load (on), not stay unavailable with a config error."""
    target = Path(hass.config.path("blueprints", "automation", "energy_hub"))
    await hass.async_add_executor_job(_copy, target, [name for _, name, _ in uses])
    config = [
        {
            "alias": alias,
            "id": alias,
            "use_blueprint": {"path": f"energy_hub/{name}", "input": inputs},
        }
        for alias, name, inputs in uses
    ]
    assert await async_setup_component(hass, "automation", {"automation": config})
    await hass.async_block_till_done()
    for alias, _, _ in uses:
        assert state_of(hass, f"automation.{alias}") == STATE_ON


async def _helpers(hass: HomeAssistant, *booleans: str) -> None:
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "persistent_notification", {})
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {name: {"name": name} for name in booleans}}
    )


async def _stop_automations(hass: HomeAssistant) -> None:
    """Turn the automations off: their time triggers stop (no timer outlives the test)."""
    await hass.services.async_call("automation", "turn_off", {"entity_id": "all"}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _advance_running(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    when: datetime,
    entity_id: str,
    expected: str,
) -> None:
    """Move the clock while an automation run waits in a delay (``async_block_till_done``
    would wait for that run): then ``entity_id`` must be ``expected``, at once when it does
    not change, else within a few loop turns."""
    changed = asyncio.Event()
    unsub = async_track_state_change_event(hass, [entity_id], lambda _: changed.set())
    freezer.move_to(when)
    async_fire_time_changed(hass)
    try:
        if state_of(hass, entity_id) != expected:
            for _ in range(2000):
                if changed.is_set():
                    break
                await asyncio.sleep(0)
        else:
            for _ in range(50):  # loop turns, no time passes: nothing may have changed
                await asyncio.sleep(0)
    finally:
        unsub()
    assert state_of(hass, entity_id) == expected, when


def _notifications(hass: HomeAssistant) -> list[tuple[str, str]]:
    """(title, message) of every persistent notification."""
    return [
        (str(n["title"]), str(n["message"]))
        for n in persistent_notification._async_get_or_create_notifications(hass).values()
    ]


@pytest.mark.parametrize("start", [datetime(2026, 11, 23, 18, 17, tzinfo=UTC)])
async def test_run_in_best_window(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """Planned at 18:30 for a 2-hour run before 07:00, blended at 100 GBP/t: the switch turns
    on exactly when the best window (found independently from the sandbox's Agile prices and
    national forecast) starts and off when it ends, not a minute before."""
    await _helpers(hass, "load")
    octopus = await setup_integration(hass, octopus_entry(days=1))
    carbon = await setup_integration(hass, national_entry())
    now = dt_util.utcnow()
    await _automations(
        hass,
        (
            "dishwasher",
            "run_in_best_window.yaml",
            {
                "load": LOAD,
                "plan_at": "18:30:00",
                "deadline": "07:00:00",
                "run_for": {"hours": 2, "minutes": 0, "seconds": 0},
                "objective": "blend",
                "tariff_entry": octopus.entry_id,
                "carbon_entry": carbon.entry_id,
                "carbon_price": 100,
            },
        ),
    )
    plan_at = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
    best = reference(
        earliest=plan_at,
        latest=datetime(2026, 11, 24, 7, 0, tzinfo=UTC),
        duration=timedelta(hours=2),
        price=agile_price,
        intensity=national_intensity(now, now.replace(minute=0) + 96 * SLOT),
        objective="blend",
        carbon_price=100,
        count=1,
    )[0]
    start, end = datetime.fromisoformat(best["start"]), datetime.fromisoformat(best["end"])
    assert plan_at < start
    for when, expected in (
        (plan_at, STATE_OFF),
        (start - timedelta(minutes=1), STATE_OFF),
        (start, STATE_ON),
        (end - timedelta(minutes=1), STATE_ON),
        (end, STATE_OFF),
    ):
        await _advance_running(hass, freezer, when, LOAD, expected)
    await hass.async_block_till_done(wait_background_tasks=True)  # the run has ended
    assert hass.states.get("automation.dishwasher").attributes["current"] == 0
    await _stop_automations(hass)


@pytest.mark.parametrize("start", [datetime(2026, 11, 23, 18, 17, tzinfo=UTC)])
async def test_switch_on_cheap_rate(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """On the Agile import rate with tonight's median as the price, the switch is on in exactly
    the half-hours the sandbox prices below it; on a typed-in tariff with 0 (negative only), in
    exactly its negative band."""
    await _helpers(hass, "load", "negative")
    await setup_integration(hass, octopus_entry(days=1))
    await setup_integration(
        hass, tariff_entry("00:00-02:00 -0.02\n02:00-24:00 0.25", name="Plunge")
    )
    first = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    halves = [first + i * SLOT for i in range(26)]  # 18:00 to 07:00
    prices = [agile_price(t) for t in halves]
    assert None not in prices
    median = sorted(p for p in prices if p is not None)[len(prices) // 2]
    await _automations(
        hass,
        (
            "cheap",
            "switch_on_cheap_rate.yaml",
            {"rate_sensor": IMPORT_RATE, "below": median, "load": LOAD},
        ),
        (
            "plunge",
            "switch_on_cheap_rate.yaml",
            {
                "rate_sensor": "sensor.plunge_current_rate",
                "below": 0,
                "load": "input_boolean.negative",
            },
        ),
    )
    # As Home Assistant starting would: the switches follow the rates from then on.
    for alias in ("cheap", "plunge"):
        await hass.services.async_call(
            "automation", "trigger", {"entity_id": f"automation.{alias}"}, blocking=True
        )
    seen = set()
    for when, price in zip(halves, prices, strict=True):
        if when > dt_util.utcnow():
            await advance(hass, freezer, when)
        assert price is not None
        expected = STATE_ON if price < median else STATE_OFF
        seen.add(expected)
        assert state_of(hass, LOAD) == expected, when
        negative = (
            STATE_ON if when.astimezone(dt_util.get_default_time_zone()).hour < 2 else STATE_OFF
        )
        assert state_of(hass, "input_boolean.negative") == negative, when
    assert seen == {STATE_ON, STATE_OFF}
    await _stop_automations(hass)


BROKEN = sb_hoymiles.PLANTS[1001].inverters[2]
FAULT = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("start", [datetime(2026, 6, 6, 11, 1, tzinfo=UTC)])
async def test_microinverter_silent(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One microinverter of the sandbox's first plant stops at 12:00 (its chart reads 0 W from
    then on) while the plant makes over a kilowatt: one notification, naming only it, comes
    once it has been silent for 30 minutes of what the cloud shows, and none before."""
    real = sb_hoymiles._series

    def broken(plant_id: int, inv: Any, quota: str, micro_day: Any, span: range) -> list[float]:
        values = real(plant_id, inv, quota, micro_day, span)
        if inv.id != BROKEN.id or quota != "MI_POWER":
            return values
        cut = FAULT.timestamp()
        return [
            0.0 if micro_day.start + 300 * i >= cut else v
            for v, i in zip(values, span, strict=True)
        ]

    monkeypatch.setattr(sb_hoymiles, "_series", broken)
    await _helpers(hass)
    calls: list[tuple[ServiceCall, str]] = []  # each call and the plant's power then
    config = await setup_integration(hass, hoymiles_entry(["1001"]))
    registry = er.async_get(hass)

    def entity(key: str) -> str:
        entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{config.unique_id}:{key}")
        assert entity_id is not None, key
        return entity_id

    plant = entity("plant_1001:pv_power")

    async def phone(call: ServiceCall) -> None:
        calls.append((call, state_of(hass, plant)))

    hass.services.async_register("notify", "phone", phone)
    inverters = [entity(f"device_{inv.id}:pv_power") for inv in sb_hoymiles.PLANTS[1001].inverters]
    await _automations(
        hass,
        (
            "silent",
            "microinverter_silent.yaml",
            {
                "plant_power": plant,
                "inverters": inverters,
                "plant_above": 100,
                "silent_for": {"hours": 0, "minutes": 30, "seconds": 0},
                "notify_action": "notify.phone",
            },
        ),
    )
    silent_since: datetime | None = None
    when = dt_util.utcnow()
    while when < FAULT + timedelta(hours=2) and not calls:
        when += timedelta(minutes=1)
        await advance(hass, freezer, when)
        quiet = float(state_of(hass, entity(f"device_{BROKEN.id}:pv_power"))) < 1
        if quiet and silent_since is None:
            silent_since = when
        assert not calls or (silent_since and when >= silent_since + timedelta(minutes=30))
    assert silent_since is not None and silent_since >= FAULT
    assert len(calls) == 1
    call, plant_power = calls[0]
    assert when == silent_since + timedelta(minutes=30)
    plant_state = hass.states.get(plant)
    assert plant_state is not None
    assert float(plant_power) > 1000
    name = hass.states.get(entity(f"device_{BROKEN.id}:pv_power"))
    assert name is not None
    assert call.data == {
        "title": "Microinverter silent",
        "message": (
            f"{name.attributes['friendly_name']} produced nothing while "
            f"{plant_state.attributes['friendly_name']} produces {plant_power} W."
        ),
    }
    # No other inverter was ever silent.
    for other in sb_hoymiles.PLANTS[1001].inverters:
        if other.id != BROKEN.id:
            assert float(state_of(hass, entity(f"device_{other.id}:pv_power"))) > 1
    await _stop_automations(hass)


@pytest.mark.parametrize("start", [datetime(2026, 6, 6, 14, 59, 45, tzinfo=UTC)])
async def test_battery_low_before_peak(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """At 16:00 (BST) the XOLTA battery's charge is checked: below a level one point above
    it, a persistent notification says so with the charge shown; below a level one point
    under it, nothing."""
    await _helpers(hass)
    await setup_integration(hass, xolta_entry())
    soc_entity = "sensor.xolta_sandbox_house_battery_state_of_charge"
    soc = float(state_of(hass, soc_entity))
    minute = sb_xolta.minute_power(XOLTA_SITE, start.replace(second=0) - timedelta(minutes=1))
    assert soc == round(minute.soc_percent, 1)
    high, low = int(soc) + 1, int(soc) - 1
    await _automations(
        hass,
        (
            "low_battery",
            "battery_low_before_peak.yaml",
            {"soc_sensor": soc_entity, "check_at": "16:00:00", "below": high},
        ),
        (
            "very_low_battery",
            "battery_low_before_peak.yaml",
            {"soc_sensor": soc_entity, "check_at": "16:00:00", "below": low},
        ),
    )
    await advance(hass, freezer, datetime(2026, 6, 6, 14, 59, 59, tzinfo=UTC))
    assert _notifications(hass) == []
    await advance(hass, freezer, datetime(2026, 6, 6, 15, 0, 0, tzinfo=UTC))
    name = hass.states.get(soc_entity)
    assert name is not None
    assert _notifications(hass) == [
        (
            "Battery low before the evening peak",
            f"{name.attributes['friendly_name']} is at {soc} %, below {high} %.",
        )
    ]
    await _stop_automations(hass)


XOLTA_MODE = "select.xolta_sandbox_house_battery_mode"
XOLTA_SOC = "sensor.xolta_sandbox_house_battery_state_of_charge"
XOLTA_COMMAND = "/external/api/SendStateModeCommand"
XOLTA_STATUS = "/external/api/deviceStatus"
#: Percent of the sandbox's 10 kWh battery per watt-minute.
PERCENT_PER_WMIN = 100 / sbo.CAPACITY_WMIN


def _xolta_commands(sandbox: Sandbox) -> list[tuple[str, float | None, str | None]]:
    """The commands the official API received: (name, setpoint kW, the setpoint's time)."""
    out: list[tuple[str, float | None, str | None]] = []
    for command in sbo.official_of(sandbox.server.app).commands:
        payload = command.get("Payload")
        point = payload["setPoint"]["1"] if isinstance(payload, dict) else None
        out.append(
            (
                str(command["CommandName"]),
                point["batteryActivePower"] if point else None,
                point["utcTime"] if point else None,
            )
        )
    return out


@pytest.mark.parametrize("start", [datetime(2026, 11, 23, 18, 17, tzinfo=UTC)])
@pytest.mark.parametrize(
    ("objective", "hours", "power", "target", "previous"),
    [
        ("price", 2, 2500, 90, "self_consumption"),  # the window's end comes first
        ("blend", 3, 4000, 40, "idle"),  # the target charge comes first
    ],
)
async def test_charge_battery_in_best_window(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    objective: str,
    hours: int,
    power: int,
    target: int,
    previous: str,
) -> None:
    """Planned at 18:30 for a charge before 07:00: the XOLTA battery (official API) is sent
    to external control at ``power`` exactly when the best window (found independently from
    the sandbox's Agile prices and national forecast) starts, charges by exactly ``power``
    for each minute until the window ends or the status shows the target charge, then returns
    to the mode it had before; no command is sent twice."""
    await _helpers(hass)
    octopus = await setup_integration(hass, octopus_entry(days=1))
    carbon = await setup_integration(hass, national_entry())
    xolta = await setup_integration(hass, xolta_official_entry())
    now = dt_util.utcnow()
    battery = sbo.official_of(sandbox.server.app).battery(XOLTA_SITE)
    before: list[tuple[str, float | None, str | None]] = []
    if previous == "idle":
        await hass.services.async_call(
            "select", "select_option", {"entity_id": XOLTA_MODE, "option": "idle"}, blocking=True
        )
        before = [("GoToState_Idling", None, None)]
        assert _xolta_commands(sandbox) == before
    await _automations(
        hass,
        (
            "charge",
            "charge_battery_in_best_window.yaml",
            {
                "battery_entry": xolta.entry_id,
                "power": power,
                "target_soc": target,
                "plan_at": "18:30:00",
                "deadline": "07:00:00",
                "run_for": {"hours": hours, "minutes": 0, "seconds": 0},
                "objective": objective,
                "tariff_entry": octopus.entry_id,
                "carbon_entry": carbon.entry_id,
                "carbon_price": 100,
            },
        ),
    )
    plan_at = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
    best = reference(
        earliest=plan_at,
        latest=datetime(2026, 11, 24, 7, 0, tzinfo=UTC),
        duration=timedelta(hours=hours),
        price=agile_price,
        intensity=national_intensity(now, now.replace(minute=0) + 96 * SLOT),
        objective=objective,
        carbon_price=100,
        count=1,
    )[0]
    start, end = datetime.fromisoformat(best["start"]), datetime.fromisoformat(best["end"])
    assert plan_at < start
    # The charge starts from what the model holds: the house model's charge until the first
    # command, then (idle) the charge held since it.
    soc0 = sb_xolta.soc_percent(XOLTA_SITE, start if previous != "idle" else now)
    await sandbox_requests(sandbox, "xolta", reset=True)

    await _advance_running(hass, freezer, plan_at, XOLTA_MODE, previous)
    assert hass.states.get("automation.charge").attributes["current"] == 1  # waiting
    await _advance_running(hass, freezer, start - timedelta(minutes=1), XOLTA_MODE, previous)
    assert _xolta_commands(sandbox) == before

    await advance(hass, freezer, start)  # the run ends with the action
    assert hass.states.get("automation.charge").attributes["current"] == 0
    assert state_of(hass, XOLTA_MODE) == "external_control"
    charging = [
        *before,
        *([("GoToState_Running", None, None)] if previous == "idle" else []),
        ("GoToMode_ExternalControl", -power / 1000, start.strftime("%Y-%m-%dT%H:%M:%SZ")),
    ]
    assert _xolta_commands(sandbox) == charging
    assert float(state_of(hass, XOLTA_SOC)) == round(soc0, 2)
    # The minute's update coincides with the action at the start: whether it reads the status
    # once more depends on which runs first. From here on the reads are counted exactly.
    statuses = (await sandbox_requests(sandbox, "xolta"))["paths"][XOLTA_STATUS]

    minute = 0
    while len(_xolta_commands(sandbox)) == len(charging):
        minute += 1
        assert minute <= hours * 60
        await advance(hass, freezer, start + timedelta(minutes=minute))
        charged = soc0 + power * minute * PERCENT_PER_WMIN
        assert float(state_of(hass, XOLTA_SOC)) == round(charged, 2), minute
        assert battery.soc_percent(dt_util.utcnow()) == pytest.approx(charged, abs=1e-9)
    returned = {
        "self_consumption": ("GoToMode_SelfConsumption", None, None),
        "idle": ("GoToState_Idling", None, None),
    }[previous]
    assert _xolta_commands(sandbox) == [*charging, returned]
    assert state_of(hass, XOLTA_MODE) == previous
    if previous == "idle":
        assert battery.state == sbo.IDLING
    else:
        assert (battery.state, battery.mode) == (sbo.RUNNING, sbo.SELF_CONSUMPTION)
    if target > soc0 + power * hours * 60 * PERCENT_PER_WMIN:
        assert minute == hours * 60  # back exactly at the window's end
    else:  # the first minute whose status shows the target
        assert minute == next(
            m
            for m in range(1, hours * 60)
            if round(soc0 + power * m * PERCENT_PER_WMIN, 2) >= target
        )
    await advance(hass, freezer, end + timedelta(minutes=5))
    assert _xolta_commands(sandbox) == [*charging, returned]  # nothing more, nothing twice
    counts = (await sandbox_requests(sandbox, "xolta"))["paths"]
    assert counts[XOLTA_COMMAND] == len(charging) - len(before) + 1
    # Since the start: one status at each minute's update of the charge, one fresh status
    # confirming the return, one at the update after the window; plus one when the return
    # and a minute's update fall on the same instant and the update runs first (an ordering
    # the test cannot fix: both are due at that minute).
    await _stop_automations(hass)
    assert statuses + minute + 1 + 1 <= counts[XOLTA_STATUS] <= statuses + minute + 1 + 2
