"""Aretas battery storage through Home Assistant, against the in-process sandbox.

`sandbox.aretas.energy_between` is the exact energy the battery took and gave and
`usable_capacity_kwh` its capacity: counters, statistics and the estimate are checked against
them.
"""

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_hub.api.aretas import (
    AretasReading,
    SensorCatalogue,
    SensorType,
)
from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.sources.aretas import (
    AretasData,
    AretasSource,
    CapacityTracker,
    hourly_energy,
)
from custom_components.energy_hub.sources.base import FlowStep
import sandbox.aretas as sb

from .conftest import Sandbox, advance, sandbox_requests, setup_integration
from .entries import aretas_entry as entry

HOUR = timedelta(hours=1)
MAC = sb.BESS_MAC
PREFIX = "sensor.bess_10_kw_24_kwh"


@pytest.fixture
def start() -> datetime:
    """Frozen time at the start of a test."""
    return datetime(2026, 6, 10, 0, 0, 30, tzinfo=UTC)


def _source(config: MockConfigEntry) -> AretasSource:
    source = config.runtime_data.source
    assert isinstance(source, AretasSource)
    return source


async def _paths(sandbox: Sandbox) -> dict[str, int]:
    return dict((await sandbox_requests(sandbox, "aretas"))["paths"])


# --- config flow ------------------------------------------------------------------------------


async def test_flow_errors_device_step_and_success(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Wrong password, outage; then the device among the account's devices."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "aretas"}
    )
    flow_id = result["flow_id"]

    async def submit(password: str) -> Any:
        return await hass.config_entries.flow.async_configure(
            flow_id, {"username": sb.USERNAME, "password": password, "advanced": {}}
        )

    result = await submit("wrong")
    assert result["errors"] == {"base": "invalid_credentials"}
    await sandbox.put("/_admin/faults/aretas", json={"fault": "http_500"})
    result = await submit(sb.PASSWORD)
    assert result["errors"] == {"base": "cannot_connect"}
    await sandbox.delete("/_admin/faults/aretas")
    result = await submit(sb.PASSWORD)
    assert result["step_id"] == "aretas_device"
    with patch("custom_components.energy_hub.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(flow_id, {"mac": str(MAC)})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == sb.DEVICES[MAC]
    assert result["data"]["mac"] == MAC
    assert result["options"] == {"history_days": 7, "max_gap_minutes": 60}
    assert AretasSource.flow_form("aretas_device", None).schema is not None
    state: dict[str, Any] = {"devices": {"1": "x"}, "data": {}}
    with pytest.raises(Exception, match="device_not_found"):
        await AretasSource.async_flow_submit(
            FlowStep(
                hass=hass,
                session=None,  # type: ignore[arg-type]
                step_id="aretas_device",
                user_input={"mac": "2"},
                state=state,
            )
        )


async def test_token_expiry_relogin_and_reauth(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """A revoked token: silent re-login. A changed password: reauth, then it recovers."""
    config = await setup_integration(hass, entry())
    emulator = sb.sandbox_of(sandbox.server.app)
    logins = emulator.logins
    emulator.revoke_tokens()
    await advance(hass, freezer, start + timedelta(minutes=1))
    assert emulator.logins == logins + 1
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    emulator.passwords[sb.USERNAME] = "changed"
    emulator.revoke_tokens()
    await advance(hass, freezer, start + timedelta(minutes=2))
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["step_id"] for f in flows] == ["reauth_confirm"]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["errors"] == {"password": "invalid_credentials"}
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"password": "changed"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert config.state is ConfigEntryState.LOADED


# --- entities ---------------------------------------------------------------------------------


async def test_a_sensor_per_reported_type(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Names and units from the catalogue; a type it does not list still gets a sensor."""
    await setup_integration(hass, entry())
    soc = hass.states.get(f"{PREFIX}_hv_bat_soc")
    assert soc.attributes["unit_of_measurement"] == "%"
    power = hass.states.get(f"{PREFIX}_bess_dc_power")
    assert power.attributes["unit_of_measurement"] == "kW"
    latest = sb.latest_values(MAC, dt_util.utcnow())
    assert float(power.state) == latest[sb.T_POWER][1]
    unknown = hass.states.get(f"{PREFIX}_type_533")
    assert unknown is not None
    assert "unit_of_measurement" not in unknown.attributes
    charged = hass.states.get(f"{PREFIX}_battery_energy_charged")
    assert charged.attributes["state_class"] == "total_increasing"
    assert float(charged.state) == 0.0
    assert hass.states.get(f"{PREFIX}_estimated_usable_capacity").state == STATE_UNAVAILABLE


def test_odd_values_and_restore() -> None:
    """Missing values and sentinels are not readings: the samples either side are bridged;
    junk persisted state is ignored."""
    source = AretasSource(None, entry().data, {})  # type: ignore[arg-type]
    catalogue = SensorCatalogue({530: SensorType(530, "Power", "kW")})
    data = AretasData(catalogue=catalogue, device=None)
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    source.last_point = (t0, 1000.0)
    source._take(
        data,
        [
            AretasReading(MAC, 530, t0 + timedelta(seconds=20), None),
            AretasReading(MAC, 530, t0 + timedelta(seconds=30), 65535.0),
            AretasReading(MAC, 530, t0 + timedelta(seconds=40), 2.0),
            AretasReading(MAC, 530, t0 + timedelta(seconds=60), 2.0),
        ],
    )
    assert source.counters["battery_discharged_energy"] == pytest.approx(
        (1500 * 40 + 2000 * 20) / 3.6e6
    )
    assert data.latest[530].value == 2.0
    readings = {r.key: r for r in source.readings(data, t0)}
    assert readings[f"{MAC}:device_reading:530"].unit == "kW"
    source.restore({"counters": "junk", "last_point": [1]})
    assert source.counters == {"battery_charged_energy": 0.0, "battery_discharged_energy": 0.0}
    assert source.last_point is None
    tracker = CapacityTracker()
    tracker.step(-5000, 20.0, 0, 0, gap=False)
    tracker.step(-5000, 70.0, 10.0, 0, gap=False)
    tracker.step(5000, 70.0, 0, 0, gap=False)
    assert tracker.estimate_kwh is None  # a charge run: the notebook's capacity is discharge's
    tracker.step(5000, 30.0, 0, 8.0, gap=False)
    tracker.step(-5000, 30.0, 0, 0, gap=False)
    assert tracker.estimate_kwh == pytest.approx(20.0)
    assert CapacityTracker.from_dict(tracker.to_dict()) == tracker


async def test_day_counters_capacity_restart_statistics(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """A day with a restart part-way: counters within 0.5 % of the energy that flowed, the
    capacity within 2 %, one request per update; statistics read back exactly. (Gaps over 10
    minutes not bridged: this battery stops while its device is offline.)"""
    config = await setup_integration(hass, entry(days=1, max_gap=10))
    source = _source(config)
    assert source.last_point is not None
    counting_from = source.last_point[0]
    await sandbox.delete("/_admin/requests")
    minute = start
    restart_at = start + timedelta(hours=7, minutes=10)  # in the morning discharge
    updates = 0
    while minute < start + timedelta(hours=24):
        minute += timedelta(minutes=1 if minute < start + HOUR else 10)
        await advance(hass, freezer, minute)
        updates += 1
        if minute == start + HOUR:
            assert await _paths(sandbox) == {"/sensordata/byrange": 60}
        if minute == restart_at:
            assert await hass.config_entries.async_unload(config.entry_id)
            minute += timedelta(minutes=30)  # Home Assistant is down, the battery is not
            freezer.move_to(minute)
            assert await hass.config_entries.async_setup(config.entry_id)
            await hass.async_block_till_done(wait_background_tasks=True)
            source = _source(config)
    assert source.last_point is not None
    truth = sb.energy_between(MAC, counting_from, source.last_point[0])
    charged = source.counters["battery_charged_energy"]
    discharged = source.counters["battery_discharged_energy"]
    assert charged == pytest.approx(truth.charged_kwh, rel=0.005)
    assert discharged == pytest.approx(truth.discharged_kwh, rel=0.005)
    state = hass.states.get(f"{PREFIX}_battery_energy_discharged")
    assert float(state.state) == pytest.approx(discharged, abs=1e-5)
    estimate = float(hass.states.get(f"{PREFIX}_estimated_usable_capacity").state)
    assert estimate == pytest.approx(sb.usable_capacity_kwh(MAC), rel=0.02)

    # Statistics of the day before setup (written at setup) and of the day (after midnight).
    await async_wait_recording_done(hass)
    day = start.replace(hour=0, minute=0, second=0) - timedelta(days=1)
    samples = sb.samples(
        MAC, int((day - HOUR).timestamp() * 1000), int((day + 2 * 24 * HOUR).timestamp() * 1000)
    )
    points = [
        (datetime.fromtimestamp(ms / 1000, UTC), value * 1000)
        for ms, values in samples
        for type_id, value in values
        if type_id == sb.T_POWER
    ]
    expected = hourly_energy(points, day, day + 24 * HOUR, timedelta(minutes=10))
    for index, key in enumerate(("battery_charged_energy", "battery_discharged_energy")):
        stat = f"energy_hub:aretas_{MAC}_{key}"
        rows = await get_instance(hass).async_add_executor_job(
            statistics_during_period,
            hass,
            day,
            day + 24 * HOUR,
            {stat},
            "hour",
            None,
            {"state", "sum"},
        )
        hours = {datetime.fromtimestamp(r["start"], UTC): r["state"] for r in rows[stat]}
        assert list(hours) == [day + i * HOUR for i in range(24)]
        for hour, value in hours.items():
            split = expected[hour]
            wanted_hour = split.charged_kwh if index == 0 else split.discharged_kwh
            assert value == pytest.approx(round(wanted_hour, 6), abs=1e-6)
        truth_day = sb.energy_between(MAC, day, day + 24 * HOUR)
        wanted = truth_day.charged_kwh if index == 0 else truth_day.discharged_kwh
        assert sum(hours.values()) == pytest.approx(wanted, rel=0.005)
        # The day of the run, hour by hour as it went (23 complete hours).
        today = day + 24 * HOUR
        rows = await get_instance(hass).async_add_executor_job(
            statistics_during_period,
            hass,
            today,
            today + 24 * HOUR,
            {stat},
            "hour",
            None,
            {"state", "sum"},
        )
        assert len(rows[stat]) == 23
        truth_today = sb.energy_between(MAC, today, today + 23 * HOUR)
        wanted = truth_today.charged_kwh if index == 0 else truth_today.discharged_kwh
        assert sum(r["state"] for r in rows[stat]) == pytest.approx(wanted, rel=0.005)


async def test_options_and_diagnostics(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Options are clamped; diagnostics summarise what is held."""
    assert AretasSource.validate_options({"history_days": 0, "max_gap_minutes": 1000}) == {
        "history_days": 1,
        "max_gap_minutes": 240,
    }
    assert AretasSource.options_schema() is not None
    config = await setup_integration(hass, entry())
    diagnostics = _source(config).diagnostics(config.runtime_data.data)
    assert sb.T_POWER in diagnostics["types"]
    assert diagnostics["power_from"] == [sb.T_POWER]
    assert diagnostics["max_gap_minutes"] == 60
    assert diagnostics["logins"] == 1


# --- gaps, late samples, stale readings (a power-type device) ---------------------------------


class _StubClient:
    """Answers ``readings`` from a list the test changes (samples arriving late)."""

    def __init__(self, readings: list[AretasReading]) -> None:
        self.held = readings
        self.asked: list[tuple[datetime, datetime]] = []

    async def readings(
        self, mac: int, start: datetime, end: datetime, **kwargs: Any
    ) -> list[AretasReading]:
        self.asked.append((start, end))
        return sorted(
            (r for r in self.held if start <= r.timestamp <= end),
            key=lambda r: (r.timestamp, r.type_id),
        )


def _kw(when: datetime, kw: float, type_id: int = 530) -> AretasReading:
    return AretasReading(MAC, type_id, when, kw)


async def test_history_gaps_and_late_samples() -> None:
    """An hour without samples has no row (never 0 kWh); gaps up to the option are bridged;
    a sample that arrives late corrects its hour on the next run; a sentinel is no sample."""
    source = AretasSource(None, entry(days=2).data, {"history_days": 2, "max_gap_minutes": 60})  # type: ignore[arg-type]
    catalogue = SensorCatalogue({530: SensorType(530, "Power", "kW", range_min=-10, range_max=10)})
    data = AretasData(catalogue=catalogue, device=None, reported={530})
    day = datetime(2026, 6, 1, tzinfo=UTC)
    minutes = [(0, 2.0), (25, 2.0), (50, 65535.0), (70, 2.0), (95, 2.0)]  # 25-minute reports
    minutes += [(240, -3.0), (265, -3.0), (290, -3.0)]  # nothing from 01:35 to 04:00
    stub = _StubClient([_kw(day + timedelta(minutes=m), v) for m, v in minutes])
    source.client = stub  # type: ignore[assignment]

    async def run(now: datetime) -> dict[str, dict[datetime, float]]:
        return {
            series.spec.key.split("_", 2)[2]: dict(series.hours)
            async for series in source.async_history(data, day, now)
        }

    first = await run(day + timedelta(hours=6))
    charged, discharged = first["battery_charged_energy"], first["battery_discharged_energy"]
    # 00:00-01:35 at 2 kW (the 45-minute gap around the sentinel bridged), 04:00-04:50 at -3 kW
    assert discharged == {day: 2.0, day + HOUR: round(2.0 * 35 / 60, 6), day + 4 * HOUR: 0.0}
    assert charged == {day: 0.0, day + HOUR: 0.0, day + 4 * HOUR: 2.5}
    assert day + 2 * HOUR not in charged  # no sample: no row, not 0 kWh
    assert day + 3 * HOUR not in charged
    # A sample of 01:40 (0 kW) arrives late: the next run reads the last day again.
    stub.held.append(_kw(day + timedelta(minutes=100), 0.0))
    second = await run(day + timedelta(hours=7))
    assert second["battery_discharged_energy"][day + HOUR] == round((2.0 * 35 + 1.0 * 5) / 60, 6)
    assert stub.asked[-1][0] <= day + HOUR
    # With 10 minutes as the limit none of the 25-minute pairs is bridged.
    strict = AretasSource(None, entry().data, {"max_gap_minutes": 10})  # type: ignore[arg-type]
    strict.client = stub  # type: ignore[assignment]
    hours = [s async for s in strict.async_history(data, day, day + timedelta(hours=6))]
    # only the 5 minutes from 01:35 to the late 01:40 sample
    assert hours[0].hours == {day + HOUR: 0.0}
    assert hours[1].hours == {day + HOUR: round(1.0 * 5 / 60, 6)}


def test_stale_readings_and_uncovered_time() -> None:
    """A latest reading three reporting intervals old is not "now"; a gap over the limit is
    counted as uncovered time, not energy."""
    source = AretasSource(None, entry().data, {"max_gap_minutes": 60})  # type: ignore[arg-type]
    catalogue = SensorCatalogue({530: SensorType(530, "Power", "kW")})
    data = AretasData(catalogue=catalogue, device=None)
    t0 = dt_util.start_of_local_day(datetime(2026, 6, 1, 12, tzinfo=UTC)).astimezone(UTC)
    t0 += timedelta(hours=1)
    source._take(data, [_kw(t0 + timedelta(minutes=20 * i), 1.0) for i in range(4)])
    source._take(data, [_kw(t0 + timedelta(minutes=200), 1.0)])  # 2 h 20 min later
    assert source.counters["battery_discharged_energy"] == pytest.approx(1.0)
    assert source.stale_after(530) == timedelta(hours=1)  # 3 x the median spacing (20 min)

    def value(now: datetime, key: str) -> Any:
        return {r.key: r for r in source.readings(data, now)}[key]

    now = t0 + timedelta(minutes=200 + 30)
    assert value(now, f"{MAC}:device_reading:530").value == 1.0
    assert value(now, f"{MAC}:battery_power").value == 1000.0
    counter = value(now, f"{MAC}:battery_discharged_energy")
    assert counter.attributes["uncovered_minutes_today"] == 140.0
    later = t0 + timedelta(minutes=200 + 61)
    assert value(later, f"{MAC}:device_reading:530").value is None
    assert value(later, f"{MAC}:battery_power").value is None
    assert value(later, f"{MAC}:battery_discharged_energy").value == 1.0


async def test_gap_option_in_the_options_form(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """The options form offers the gap limit (labelled and explained in en.json); a new value
    reaches the source after the reload."""
    config = await setup_integration(hass, entry())
    result = await hass.config_entries.options.async_init(config.entry_id)
    assert {str(key) for key in result["data_schema"].schema} == {
        "history_days",
        "max_gap_minutes",
    }
    translations = json.loads(
        (
            Path(__file__).parents[1] / "custom_components/energy_hub/translations/en.json"
        ).read_text()
    )["options"]["step"]["aretas"]
    assert translations["data"]["max_gap_minutes"] == "Longest gap to bridge"
    assert "uncovered_minutes_today" in translations["data_description"]["max_gap_minutes"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"history_days": 1, "max_gap_minutes": 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert config.options == {"history_days": 1, "max_gap_minutes": 30}
    assert _source(config).max_gap == timedelta(minutes=30)
