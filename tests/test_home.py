"""The Home source: household outputs computed from other statistics.

Every figure is computed again here, independently, from the inputs the test wrote.
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.energy import data as energy_data
from homeassistant.components.energy.data import async_get_manager
from homeassistant.components.energy.validate import async_validate
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.recorder import get_instance
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.energy_hub.api.carbon_intensity import IntensityPoint
from custom_components.energy_hub.const import DOMAIN
import sandbox.octopus as sb_octopus

from .conftest import Sandbox, advance, setup_integration, start_flow, state_of
from .entries import octopus_entry, regional_carbon_entry, tariff_entry

HOUR = timedelta(hours=1)
HALF = timedelta(minutes=30)
T0 = datetime(2026, 3, 27, tzinfo=UTC)  # the clock goes forward on 29 March
DAYS = 4
NOW = T0 + timedelta(days=DAYS, hours=11, minutes=20)

IMPORT = "test:grid_import"
EXPORT = "test:grid_export"
SOLAR = "test:solar"
CHARGE = "test:battery_charge"
DISCHARGE = "test:battery_discharge"


def _imported(hour: int) -> float:
    return round(0.2 + (hour * 37 % 11) / 10, 3)


def _exported(hour: int) -> float:
    return round((hour * 13 % 7) / 20, 3) if 8 <= hour % 24 <= 16 else 0.0


def _solar(hour: int) -> float:
    return round(0.3 + (hour * 7 % 5) / 4, 3)


def _charge(hour: int) -> float:
    return round((hour * 3 % 4) / 5, 3) if hour % 24 < 6 else 0.0


def _discharge(hour: int) -> float:
    return round((hour * 5 % 3) / 4, 3) if 17 <= hour % 24 <= 22 else 0.0


HOURS = DAYS * 24 + 10  # the inputs reach 10:00 UTC on the last day
GAP = 30  # the import has no row for this hour (the meter's gap)
SOLAR_END = HOURS - 2  # the solar statistic has not reached the last two hours yet


def inputs() -> dict[str, dict[datetime, float]]:
    """Every input's hourly amounts: import with a gap, solar only by day (no night rows),
    solar lagging."""
    out: dict[str, dict[datetime, float]] = {
        s: {} for s in (IMPORT, EXPORT, SOLAR, CHARGE, DISCHARGE)
    }
    for h in range(HOURS):
        at = T0 + h * HOUR
        if h != GAP:
            out[IMPORT][at] = _imported(h)
        out[EXPORT][at] = _exported(h)
        if 6 <= h % 24 <= 18 and h < SOLAR_END:
            out[SOLAR][at] = _solar(h)
        out[CHARGE][at] = _charge(h)
        out[DISCHARGE][at] = _discharge(h)
    return out


async def import_statistics(
    hass: HomeAssistant, series: Mapping[str, Mapping[datetime, float]]
) -> None:
    """Write each input as an external statistic of another integration ("test")."""
    for stat_id, hours in series.items():
        total = 0.0
        rows = []
        for at, amount in sorted(hours.items()):
            total += amount
            rows.append(StatisticData(start=at, state=amount, sum=round(total, 6)))
        async_add_external_statistics(
            hass,
            StatisticMetaData(
                mean_type=StatisticMeanType.NONE,
                has_sum=True,
                name=stat_id,
                source="test",
                statistic_id=stat_id,
                unit_class="energy",
                unit_of_measurement="kWh",
            ),
            rows,
        )
    await async_wait_recording_done(hass)


def expected_consumption(series: Mapping[str, Mapping[datetime, float]]) -> dict[datetime, float]:
    """Independently: every hour the grid meters reached with an import row; solar missing
    (night, or not there yet) counts as nothing."""
    until = min(max(series[IMPORT]) + HOUR, max(series[EXPORT]) + HOUR)
    out = {}
    for at, imported in series[IMPORT].items():
        if at + HOUR > until:
            continue
        value = (
            imported
            - series[EXPORT][at]
            + series[SOLAR].get(at, 0.0)
            + series[DISCHARGE][at]
            - series[CHARGE][at]
        )
        out[at] = max(value, 0.0)
    return out


async def stored(hass: HomeAssistant, stat_id: str) -> dict[datetime, tuple[float, float]]:
    """hour -> (state, sum) of one statistic."""
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, T0 - HOUR, None, {stat_id}, "hour", None, {"state", "sum"}
    )
    return {
        datetime.fromtimestamp(row["start"], UTC): (row["state"], row["sum"])
        for row in rows.get(stat_id, [])
    }


def home_entry(carbon: str = "", **options: Any) -> MockConfigEntry:
    """A home reading the test's statistics."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        unique_id="home_home",
        data={"source": "home", "name": "Home"},
        options={
            "carbon_entry": carbon,
            "grid_import": IMPORT,
            "grid_export": EXPORT,
            "solar": [SOLAR],
            "battery_charge": [CHARGE],
            "battery_discharge": [DISCHARGE],
            "grid_power": "",
            "solar_power": [],
            "battery_power": [],
            **options,
        },
    )


async def test_home_consumption_from_any_statistics(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Import - export + solar + discharge - charge, hour by hour; the import's gap stays a
    gap; solar's night (no rows) counts as nothing; the sum is continuous."""
    await hass.config.async_set_time_zone("Europe/London")
    freezer.move_to(NOW)
    series = inputs()
    await import_statistics(hass, series)
    await setup_integration(hass, home_entry())

    rows = await stored(hass, "energy_hub:home_home_consumption")
    expected = expected_consumption(series)
    assert T0 + GAP * HOUR not in rows
    assert set(rows) == set(expected)
    total = 0.0
    for at in sorted(expected):
        total += expected[at]
        state, running = rows[at]
        assert round(state, 3) == round(expected[at], 3), at
        assert round(running, 3) == round(total, 3), at
    # The sensors follow the statistics: today (UTC+1 from 29 March) and this month.
    today_start = datetime(2026, 3, 30, 23, tzinfo=UTC)
    today = sum(v for at, v in expected.items() if at >= today_start)
    assert float(state_of(hass, "sensor.home_consumption_today")) == round(today, 3)
    assert float(state_of(hass, "sensor.home_consumption_this_month")) == round(
        sum(expected.values()), 3
    )


async def test_home_consumption_catches_up_when_the_lagging_input_does(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Solar rows that arrive late replace the hours computed without them at the next hourly
    run; the sum stays continuous and nothing is written twice."""
    await hass.config.async_set_time_zone("Europe/London")
    freezer.move_to(NOW)
    series = inputs()
    await import_statistics(hass, series)
    await setup_integration(hass, home_entry())
    before = await stored(hass, "energy_hub:home_home_consumption")

    late = T0 + SOLAR_END * HOUR  # solar's 08:00 row comes late
    assert before[late][0] == round(expected_consumption(series)[late], 6)
    series[SOLAR][late] = 0.75
    await import_statistics(hass, {SOLAR: series[SOLAR]})
    await advance(hass, freezer, NOW + HOUR)

    after = await stored(hass, "energy_hub:home_home_consumption")
    expected = expected_consumption(series)
    assert set(after) == set(expected) == set(before)
    assert round(after[late][0], 3) == round(before[late][0] + 0.75, 3)
    total = 0.0
    for at in sorted(expected):
        total += expected[at]
        assert round(after[at][1], 3) == round(total, 3), at


def intensity_of(at: datetime) -> int:
    """The test's carbon intensity of a half-hour (g/kWh)."""
    return 100 + int(at.timestamp() // 1800) % 17 * 9


async def fake_history(
    self: Any, start: datetime, end: datetime, *, region_id: int | None = None
) -> AsyncIterator[Sequence[IntensityPoint]]:
    """The range endpoint, as the client gives it: chunks of half-hours."""
    at = start
    chunk: list[IntensityPoint] = []
    while at < end:
        value = intensity_of(at)
        chunk.append(
            IntensityPoint(start=at, end=at + HALF, forecast=value, actual=None, index=None)
        )
        at += HALF
    yield chunk


async def test_carbon_footprint_of_import_export_and_solar(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """kg CO2 per hour: the hour's import times its half-hours' mean intensity; what export
    and self-consumed solar avoided; exact to the gram."""
    await hass.config.async_set_time_zone("Europe/London")
    freezer.move_to(NOW)
    series = inputs()
    await import_statistics(hass, series)
    carbon = regional_carbon_entry()
    carbon.add_to_hass(hass)
    with patch(
        "custom_components.energy_hub.api.carbon_intensity.CarbonIntensityClient.intensity_history",
        fake_history,
    ):
        await setup_integration(hass, home_entry(carbon=carbon.entry_id))

    until = min(max(series[IMPORT]), max(series[EXPORT])) + HOUR
    expect: dict[str, dict[datetime, float]] = {"import": {}, "export": {}, "solar": {}}
    for at, imported in series[IMPORT].items():
        if at + HOUR > until:
            continue
        grams = (intensity_of(at) + intensity_of(at + HALF)) / 2
        expect["import"][at] = imported * grams / 1000
        expect["export"][at] = series[EXPORT][at] * grams / 1000
        used = max(series[SOLAR].get(at, 0.0) - series[EXPORT][at], 0.0)
        expect["solar"][at] = used * grams / 1000
    for name, stat in (
        ("import", "grid_import_co2"),
        ("export", "export_avoided_co2"),
        ("solar", "solar_avoided_co2"),
    ):
        rows = await stored(hass, f"energy_hub:home_home_{stat}")
        assert set(rows) == set(expect[name]), name
        total = 0.0
        for at in sorted(expect[name]):
            total += expect[name][at]
            assert abs(rows[at][0] - expect[name][at]) < 0.0005, (name, at)  # the gram
            assert abs(rows[at][1] - total) < 0.0005, (name, at)


async def test_flow_defaults_from_the_energy_dashboard(hass: HomeAssistant) -> None:
    """The form offers what the Energy dashboard names and the Carbon Intensity entry; the
    user only confirms."""
    carbon = regional_carbon_entry()
    carbon.add_to_hass(hass)
    manager = await async_get_manager(hass)
    await manager.async_update(
        {
            "energy_sources": [
                {
                    "type": "grid",
                    "stat_energy_from": IMPORT,
                    "stat_energy_to": EXPORT,
                    "stat_cost": None,
                    "entity_energy_price": None,
                    "number_energy_price": None,
                    "stat_compensation": None,
                    "entity_energy_price_export": None,
                    "number_energy_price_export": None,
                    "cost_adjustment_day": 0.0,
                },
                {"type": "solar", "stat_energy_from": SOLAR, "config_entry_solar_forecast": None},
                {"type": "battery", "stat_energy_from": DISCHARGE, "stat_energy_to": CHARGE},
            ]
        }
    )
    flow_id = await start_flow(hass, "home")
    with (
        patch(
            "custom_components.energy_hub.api.carbon_intensity.CarbonIntensityClient.intensity_history",
            fake_history,
        ),
        patch(
            "custom_components.energy_hub.sources.carbon_intensity.CarbonIntensitySource.async_update"
        ),
    ):
        result = await hass.config_entries.flow.async_configure(flow_id, {})
        await hass.async_block_till_done(wait_background_tasks=True)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Home"
    assert result["options"] == {
        "carbon_entry": carbon.entry_id,
        "tariff": "",
        "grid_import": IMPORT,
        "grid_export": EXPORT,
        "solar": [SOLAR],
        "battery_charge": [CHARGE],
        "battery_discharge": [DISCHARGE],
        "grid_power": "",
        "solar_power": [],
        "battery_power": [],
        "devices": [],
    }


BANDS = "00:00-05:30 0.12\n05:30-16:15 0.28\n16:15-19:00 0.41\n19:00-24:00 0.28"
DEVICE = "test:ev_charger"


def band_price(at: datetime) -> float:
    """The typed-in tariff's price at a UTC minute, read from the bands in UK time."""
    local = at.astimezone(ZoneInfo("Europe/London"))
    minute = local.hour * 60 + local.minute
    if minute < 5 * 60 + 30:
        return 0.12
    if minute < 16 * 60 + 15:
        return 0.28
    if minute < 19 * 60:
        return 0.41
    return 0.28


def hour_price(hour: datetime) -> float:
    """Independently: the mean of the hour's sixty minutes' prices."""
    return sum(band_price(hour + timedelta(minutes=m)) for m in range(60)) / 60


async def test_battery_value_and_the_cost_of_anything(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Discharged kWh x the rate minus charged kWh x the rate when it charged; any energy
    statistic priced hour by hour (a band ending at 16:15 is weighted by the minute, the
    clock change of 29 March is in local time); exact to 0.01 p."""
    await hass.config.async_set_time_zone("Europe/London")
    freezer.move_to(NOW)
    series = inputs()
    series[DEVICE] = {T0 + h * HOUR: round((h % 5) * 1.4, 3) for h in range(HOURS - 7)}
    await import_statistics(hass, series)
    tariff = await setup_integration(hass, tariff_entry(BANDS, name="Home tariff"))
    await setup_integration(hass, home_entry(tariff=tariff.entry_id, devices=[DEVICE]))

    battery = "test_battery_discharge"
    rows = await stored(hass, f"energy_hub:home_home_battery_value_{battery}")
    value_hours = sorted(set(series[CHARGE]) | set(series[DISCHARGE]))
    assert sorted(rows) == value_hours
    total = 0.0
    for at in value_hours:
        value = (series[DISCHARGE][at] - series[CHARGE][at]) * hour_price(at)
        total += value
        assert abs(rows[at][0] - value) < 0.00005, at  # 0.01 p, in pounds
        assert abs(rows[at][1] - total) < 0.00005, at

    rows = await stored(hass, "energy_hub:home_home_cost_test_ev_charger")
    assert sorted(rows) == sorted(series[DEVICE])
    total = 0.0
    for at, kwh in sorted(series[DEVICE].items()):
        total += kwh * hour_price(at)
        assert abs(rows[at][1] - total) < 0.00005, at
    meta = await get_instance(hass).async_add_executor_job(
        list_statistic_ids, hass, {"energy_hub:home_home_cost_test_ev_charger"}
    )
    assert meta[0]["statistics_unit_of_measurement"] == "GBP"
    assert meta[0]["name"] == "Home cost of test:ev_charger"
    # Today's battery value, in GBP, on the home's device.
    today_start = datetime(2026, 3, 30, 23, tzinfo=UTC)
    today = sum(
        (series[DISCHARGE][at] - series[CHARGE][at]) * hour_price(at)
        for at in value_hours
        if at >= today_start
    )
    state = hass.states.get("sensor.home_battery_1_value_today")
    assert state is not None
    assert float(state.state) == round(today, 3)
    assert state.attributes["unit_of_measurement"] == "GBP"


async def test_live_home_power_and_emissions_rate(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Home power = grid + solar + battery power (kW converted), never negative; the
    emissions rate = grid import power x the current half-hour's intensity; both follow the
    power sensors as they change (no request); unknown while a sensor is."""
    freezer.move_to(NOW)
    carbon = regional_carbon_entry()
    carbon.add_to_hass(hass)
    hass.states.async_set("sensor.grid_power", "1200", {"unit_of_measurement": "W"})
    hass.states.async_set("sensor.pv_power", "0.8", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.battery_power", "-300", {"unit_of_measurement": "W"})
    entry = home_entry(
        carbon=carbon.entry_id,
        grid_power="sensor.grid_power",
        solar_power=["sensor.pv_power"],
        battery_power=["sensor.battery_power"],
    )
    with patch(
        "custom_components.energy_hub.api.carbon_intensity.CarbonIntensityClient.intensity_history",
        fake_history,
    ):
        await setup_integration(hass, entry)
        slot = NOW.replace(minute=0)  # 05:20 -> the 05:00 half-hour... (NOW is hh:20)
        entry.runtime_data.source.provisional[slot] = 180.0
        assert float(state_of(hass, "sensor.home_power")) == 1200 + 800 - 300
        hass.states.async_set("sensor.grid_power", "-500", {"unit_of_measurement": "W"})
        await hass.async_block_till_done()
        assert float(state_of(hass, "sensor.home_power")) == 0  # exporting more than made
        assert float(state_of(hass, "sensor.home_emissions_rate")) == 0
        hass.states.async_set("sensor.grid_power", "2000", {"unit_of_measurement": "W"})
        await hass.async_block_till_done()
        assert float(state_of(hass, "sensor.home_power")) == 2500
        assert float(state_of(hass, "sensor.home_emissions_rate")) == 2000 * 180 / 1000
        hass.states.async_set("sensor.pv_power", "unavailable")
        await hass.async_block_till_done()
        assert state_of(hass, "sensor.home_power") == "unavailable"


async def test_options_turn_outputs_on_and_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Options change any input: without export the export's output goes; the same
    statistic as two inputs is refused with its text; the entry reloads with the new inputs."""
    freezer.move_to(NOW)
    await import_statistics(hass, inputs())
    entry = await setup_integration(hass, home_entry())
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    assert flow["type"] is FlowResultType.FORM
    # What the form sends: the fields left filled in (an emptied field is not sent).
    options = {k: v for k, v in entry.options.items() if v not in ("", []) and k != "grid_export"}
    options["solar"] = [IMPORT]
    result = await hass.config_entries.options.async_configure(flow["flow_id"], options)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"solar": "statistic_twice"}
    options["solar"] = [SOLAR]
    result = await hass.config_entries.options.async_configure(flow["flow_id"], options)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options["grid_export"] == ""
    rows = await stored(hass, "energy_hub:home_home_consumption")
    series = inputs()
    # Without the export meter, consumption is import + solar + discharge - charge.
    at = T0 + 12 * HOUR
    assert rows[at][0] == round(
        max(
            series[IMPORT][at] + series[SOLAR][at] + series[DISCHARGE][at] - series[CHARGE][at],
            0,
        ),
        6,
    )


async def test_reconfigure_renames_the_home_keeping_its_statistics(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Reconfigure renames the home (title, unique id); its statistics keep their ids and
    go on; a name another home has is refused with its text."""
    freezer.move_to(NOW)
    await import_statistics(hass, inputs())
    entry = home_entry()
    entry.add_to_hass(hass)
    other = MockConfigEntry(
        domain=DOMAIN,
        title="Cottage",
        unique_id="home_cottage",
        data={"source": "home", "name": "Cottage", "slug": "cottage"},
        options={},
    )
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    before = await stored(hass, "energy_hub:home_home_consumption")

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "home_reconfigure"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"name": "Cottage"})
    assert result["errors"] == {"name": "home_already_added"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Main house"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.title == "Main house"
    assert entry.unique_id == "home_main_house"
    assert entry.data["slug"] == "home"
    after = await stored(hass, "energy_hub:home_home_consumption")
    assert after == before
    assert state_of(hass, "sensor.home_consumption_today")  # the entity id stays


async def test_the_energy_dashboard_takes_the_home_statistic(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Wired into the Energy dashboard (2026.11: the home consumption card's ``home`` source,
    with the home power sensor; 2026.10: an individual device), ``energy/validate`` reports
    no issue."""
    freezer.move_to(NOW)
    await import_statistics(hass, inputs())
    hass.states.async_set("sensor.grid_power", "1200", {"unit_of_measurement": "W"})
    entry = await setup_integration(hass, home_entry(grid_power="sensor.grid_power"))
    assert float(state_of(hass, "sensor.home_power")) == 1200
    manager = await async_get_manager(hass)
    consumption = "energy_hub:home_home_consumption"
    if hasattr(energy_data, "HomeSourceType"):  # Home Assistant 2026.11
        await manager.async_update(
            {
                "energy_sources": [
                    {
                        "type": "home",
                        "stat_energy_to": consumption,
                        "stat_rate": "sensor.home_power",
                    }
                ]
            }
        )
    else:
        await manager.async_update({"device_consumption": [{"stat_consumption": consumption}]})
    # An hour on, Home Assistant has compiled the power sensor's statistics.
    await async_wait_recording_done(hass)
    freezer.move_to(NOW + HOUR)
    do_adhoc_statistics(hass, start=NOW.replace(minute=NOW.minute - NOW.minute % 5))
    await async_wait_recording_done(hass)
    # What the websocket command energy/validate answers.
    issues = (await async_validate(hass)).as_dict()
    assert all(not source for source in issues["energy_sources"]), issues
    assert all(not device for device in issues["device_consumption"]), issues
    assert issues[
        "energy_sources" if hasattr(energy_data, "HomeSourceType") else "device_consumption"
    ]
    await hass.config_entries.async_unload(entry.entry_id)  # nothing runs after the recorder


async def test_flow_defaults_from_an_octopus_account(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """With no grid in the Energy dashboard yet, the form offers the Octopus account's import
    and export statistics and its tariff: confirming is enough."""
    octopus = await setup_integration(hass, octopus_entry(days=1))
    flow_id = await start_flow(hass, "home")
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert (
        result["options"]["grid_import"]
        == f"energy_hub:octopus_{sb_octopus.IMPORT_MPAN}_import_energy"
    )
    assert (
        result["options"]["grid_export"]
        == f"energy_hub:octopus_{sb_octopus.EXPORT_MPAN}_export_energy"
    )
    assert result["options"]["tariff"] == octopus.entry_id
    # Octopus publishes yesterday: nothing of today is known yet, so today has no value (not
    # 0); this month has.
    assert state_of(hass, "sensor.home_consumption_today") == "unavailable"
    assert float(state_of(hass, "sensor.home_consumption_this_month")) > 0
