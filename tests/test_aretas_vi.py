"""Aretas: a battery whose device reports voltage and current but no power type.

The sandbox's `VI_MAC` reports state of charge, current and voltage every 10-30 minutes, with
sentinels (65535 A, 6553.5 V), samples that reach the platform two hours late, and an outage
every day from 13:10 to 15:40 UTC. `sandbox.aretas.vi_energy` / `vi_hourly_energy` /
`vi_uncovered` are the notebook's method (power = V x I, trapezoid, split at the zero crossing,
gaps over an hour not bridged) computed by the sandbox on what the device sent: counters,
statistics, capacity and the uncovered-time attribute are checked against them, to the Wh.
"""

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_hub.sources.aretas import AretasSource
import sandbox.aretas as sb

from .conftest import Sandbox, advance
from .entries import aretas_entry

HOUR = timedelta(hours=1)
MAC = sb.VI_MAC
PREFIX = "sensor.bess_voltage_and_current"
START = datetime(2026, 6, 10, 0, 0, tzinfo=UTC)
DAY = datetime(2026, 6, 10, tzinfo=UTC)
WH = 0.0005  # kWh: "exact to the Wh"


async def _hourly(hass: HomeAssistant, stat: str, start: datetime, end: datetime) -> dict:
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, start, end, {stat}, "hour", None, {"state"}
    )
    return {datetime.fromtimestamp(r["start"], UTC): r["state"] for r in rows.get(stat, [])}


def _capacity_truth(after: datetime) -> float:
    """The notebook's capacity for the first discharge run after `after`: the energy it gave
    between its first and last samples over the SoC it dropped between them."""
    samples = [
        s for s in sb.vi_samples(after, after + 12 * HOUR) if s.power_w is not None and not s.late
    ]
    first = next(i for i, s in enumerate(samples) if s.power_w >= 100)  # type: ignore[operator]
    end = next(
        i
        for i, s in enumerate(samples)
        if i > first and s.power_w <= -100  # type: ignore[operator]
    )
    run = samples[first:end]
    energy = sb.vi_energy(run[0].at, run[-1].at, live=True).discharged_kwh
    return energy / (run[0].soc - run[-1].soc) * 100


async def test_voltage_times_current_day(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """A day of a voltage/current battery: power, counters to the Wh, uncovered time, hourly
    statistics to the Wh with no row for the hour without samples and late samples in their
    hour, the capacity; sentinels never shown, stale readings unavailable."""
    config = aretas_entry(mac=MAC, max_gap=None)
    config.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    source = config.runtime_data.source
    assert isinstance(source, AretasSource)
    assert hass.states.get(f"{PREFIX}_battery_power") is not None
    bad = next(
        s
        for s in sb.vi_samples(DAY + 8 * HOUR, DAY + 20 * HOUR)
        if s.voltage == sb.BAD_VOLTAGE and not s.late
    )
    before_bad = [s for s in sb.vi_samples(bad.at - HOUR, bad.at) if s.at < bad.at and not s.late][
        -1
    ]
    in_outage = DAY + timedelta(hours=14, minutes=30)
    counting_from = source.last_point[0] if source.last_point else None
    await sandbox.delete("/_admin/requests")
    moment = START
    end = DAY + timedelta(hours=26, minutes=30)
    checked = set()
    while moment < end:
        moment += timedelta(minutes=5)
        await advance(hass, freezer, moment)
        if counting_from is None and source.last_point is not None:
            counting_from = source.last_point[0]
        voltage = hass.states.get(f"{PREFIX}_hv_bat_voltage").state
        current = hass.states.get(f"{PREFIX}_hv_bat_current_1").state
        assert voltage not in ("6553.5", "65535.0")
        assert current not in ("6553.5", "65535.0")
        if bad.at < moment <= bad.at + timedelta(minutes=5):
            # The newest voltage is out of range: the sensor keeps the one before.
            assert float(voltage) == before_bad.voltage
            checked.add("sentinel")
        if moment == in_outage:
            # The device has been silent since 13:00: its readings are not "now" any more.
            assert voltage == STATE_UNAVAILABLE
            assert hass.states.get(f"{PREFIX}_battery_power").state == STATE_UNAVAILABLE
            assert hass.states.get(f"{PREFIX}_battery_energy_charged").state != STATE_UNAVAILABLE
            checked.add("stale")
        if moment == DAY + timedelta(hours=17, minutes=5):
            power = float(hass.states.get(f"{PREFIX}_battery_power").state)
            last = [s for s in sb.vi_samples(moment - HOUR, moment) if not s.late][-1]
            assert last.power_w is not None
            assert power == round(last.power_w, 1)
            checked.add("power")
    assert checked == {"sentinel", "stale", "power"}
    # One request per update (318), one per hourly history run (26: the last day re-read in
    # one request); the 12-hour sandbox token expires twice (a 401, a login, the retry).
    body = await (await sandbox.get("/_admin/requests")).json()
    assert dict(body["aretas"]["paths"]) == {
        "/sensordata/byrange": 318 + 26 + 1,
        "/authentication/j": 2,
        "/client/locationview": 1 + 1,
        "/sensortype/list": 1,
    }

    # Counters: the trapezoid of V x I over the samples as they came (late ones bridged).
    assert counting_from is not None
    assert source.last_point is not None
    live = sb.vi_energy(counting_from, source.last_point[0], live=True)
    charged = hass.states.get(f"{PREFIX}_battery_energy_charged")
    discharged = hass.states.get(f"{PREFIX}_battery_energy_discharged")
    assert float(charged.state) == pytest.approx(live.charged_kwh, abs=WH)
    assert float(discharged.state) == pytest.approx(live.discharged_kwh, abs=WH)
    assert live.charged_kwh > 15
    assert live.discharged_kwh > 15
    midnight = dt_util.start_of_local_day(dt_util.as_local(moment))
    uncovered = sb.vi_uncovered(midnight, moment)
    assert uncovered > 2 * HOUR  # the outage
    assert charged.attributes["uncovered_minutes_today"] == round(uncovered.total_seconds() / 60, 1)
    assert discharged.attributes["integrated_until"] == source.last_point[0]

    # Statistics of the UTC day: every sample counted, late ones in their own hour.
    await async_wait_recording_done(hass)
    truth = sb.vi_hourly_energy(DAY, DAY + 24 * HOUR)
    assert DAY + 14 * HOUR not in truth  # no sample in that hour
    late_hours = {
        s.at.replace(minute=0, second=0, microsecond=0)
        for s in sb.vi_samples(DAY, DAY + 24 * HOUR)
        if s.late and s.power_w is not None
    }
    corrected = [
        h
        for h in late_hours
        if abs(
            sb.vi_energy(h, h + HOUR, live=True).charged_kwh
            + sb.vi_energy(h, h + HOUR, live=True).discharged_kwh
            - truth[h].charged_kwh
            - truth[h].discharged_kwh
        )
        > 0.01
    ]
    assert corrected  # a late sample changes its hour by more than 10 Wh
    for key in ("battery_charged_energy", "battery_discharged_energy"):
        hours = await _hourly(hass, f"energy_hub:aretas_{MAC}_{key}", DAY, DAY + 24 * HOUR)
        assert sorted(hours) == sorted(truth)
        assert DAY + 14 * HOUR not in hours
        for hour, value in hours.items():
            split = truth[hour]
            wanted = split.charged_kwh if key == "battery_charged_energy" else split.discharged_kwh
            assert value == pytest.approx(wanted, abs=WH), hour

    # Capacity: the evening discharge's energy over its SoC drop.
    estimate = float(hass.states.get(f"{PREFIX}_estimated_usable_capacity").state)
    expected = _capacity_truth(DAY + 16 * HOUR)
    assert estimate == pytest.approx(expected, abs=0.001)
    assert estimate == pytest.approx(sb.usable_capacity_kwh(MAC), rel=0.1)
