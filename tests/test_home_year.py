"""A year of the Home source's outputs from the sandbox's Octopus account and Carbon
Intensity region, checked against the sandbox's ground truth.

The home reads Energy Hub's own Octopus statistics (import, export), prices the import with
the account's tariffs (Agile: every half-hour its own price) and weighs it with the region's
intensity history (27 range requests for the year). Both clock-change days lie in the year.
"""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_hub.const import DOMAIN
import sandbox.carbon_intensity as sb_carbon
import sandbox.octopus as sb

from .conftest import Sandbox, advance, setup_integration
from .entries import octopus_entry, regional_carbon_entry

UK = ZoneInfo("Europe/London")
HOUR = timedelta(hours=1)
HALF = timedelta(minutes=30)
START = datetime(2026, 6, 10, 11, 5, tzinfo=UTC)
REGION = 12  # South England (the sandbox's BS postcodes)
IMPORT = f"energy_hub:octopus_{sb.IMPORT_MPAN}_import_energy"
EXPORT = f"energy_hub:octopus_{sb.EXPORT_MPAN}_export_energy"
GAP = datetime(2026, 1, 14, 17, tzinfo=UTC)  # the intensity's two half-hours missing


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """Only statistics matter here: the entities' states stay out of the recorder."""
    return {"exclude": {"domains": ["sensor", "binary_sensor"]}}


async def rows_of(hass: HomeAssistant, stat_id: str) -> dict[datetime, tuple[float, float]]:
    """hour -> (state, sum)."""
    await async_wait_recording_done(hass)
    found = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        START - timedelta(days=400),
        None,
        {stat_id},
        "hour",
        None,
        {"state", "sum"},
    )
    return {
        datetime.fromtimestamp(r["start"], UTC): (float(r["state"]), float(r["sum"]))
        for r in found.get(stat_id, [])
    }


def truth_kwh(point: str, hour: datetime) -> float:
    return sb.half_hour_consumption(point, hour) + sb.half_hour_consumption(point, hour + HALF)


def truth_grams(hour: datetime) -> float:
    """The hour's mean regional intensity (its kWh split evenly over its half-hours)."""
    now = START
    return (
        sb_carbon.intensity_truth(hour, REGION, now=now)
        + sb_carbon.intensity_truth(hour + HALF, REGION, now=now)
    ) / 2


def truth_price(hour: datetime) -> float:
    """The hour's mean import price, GBP/kWh, from the tariff in force each half-hour."""
    pence = [sb.unit_rate(sb.tariff_code_at(sb.IMPORT_MPAN, at), at) for at in (hour, hour + HALF)]
    assert None not in pence
    return sum(p for p in pence if p is not None) / 2 / 100


def home_entry(carbon: str, tariff: str) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        unique_id="home_home",
        data={"source": "home", "name": "Home"},
        options={
            "carbon_entry": carbon,
            "tariff": tariff,
            "grid_import": IMPORT,
            "grid_export": EXPORT,
            "solar": [],
            "battery_charge": [],
            "battery_discharge": [],
            "grid_power": "",
            "solar_power": [],
            "battery_power": [],
            "devices": [IMPORT],
        },
    )


def check_continuous(
    rows: dict[datetime, tuple[float, float]], expected: dict[datetime, float], tolerance: float
) -> None:
    """Every expected hour, nothing else, each amount and the running sum within
    ``tolerance``."""
    assert sorted(rows) == sorted(expected)
    total = 0.0
    for at in sorted(expected):
        total += expected[at]
        state, running = rows[at]
        assert abs(state - expected[at]) < tolerance, at
        assert abs(running - total) < tolerance * 10, at


async def test_a_year_of_home_outputs_from_the_sandbox(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """Home consumption, the footprint of grid import, what export avoided and the cost of
    the import, for a year: each hour as the ground truth says (to the Wh, the gram and
    0.01 p), 23 and 25 hours on the clock-change days, an hour without intensity a gap, the
    intensity in 27 requests; the next day adds the new hours with one request (the gap is not
    asked again) and rewrites nothing it should not."""
    await hass.config.async_set_time_zone("Europe/London")
    octopus = await setup_integration(hass, octopus_entry(days=365, title="Octopus"))
    carbon = await setup_integration(hass, regional_carbon_entry(REGION))
    # An hour the Carbon Intensity API has no data for (an outage): a gap in the footprint.
    response = await sandbox.put(
        f"/_admin/carbon-intensity/gaps/{GAP:%Y-%m-%dT%H:%MZ}/{GAP + HOUR:%Y-%m-%dT%H:%MZ}"
    )
    assert response.status == 200
    home = await setup_integration(hass, home_entry(carbon.entry_id, octopus.entry_id))
    source = home.runtime_data.source
    assert source.request_count == 27

    imports = await rows_of(hass, IMPORT)
    exports = await rows_of(hass, EXPORT)
    hours = sorted(set(imports) & set(exports))
    assert len(hours) > 364 * 24

    consumption = {
        h: max(truth_kwh(sb.IMPORT_MPAN, h) - truth_kwh(sb.EXPORT_MPAN, h), 0.0) for h in hours
    }
    check_continuous(await rows_of(hass, "energy_hub:home_home_consumption"), consumption, 0.0005)
    footprint = {h: truth_kwh(sb.IMPORT_MPAN, h) * truth_grams(h) / 1000 for h in hours if h != GAP}
    check_continuous(await rows_of(hass, "energy_hub:home_home_grid_import_co2"), footprint, 0.0005)
    avoided = {h: truth_kwh(sb.EXPORT_MPAN, h) * truth_grams(h) / 1000 for h in hours if h != GAP}
    check_continuous(
        await rows_of(hass, "energy_hub:home_home_export_avoided_co2"), avoided, 0.0005
    )
    cost_id = f"energy_hub:home_home_cost_energy_hub_octopus_{sb.IMPORT_MPAN}_import_energy"
    cost = {h: truth_kwh(sb.IMPORT_MPAN, h) * truth_price(h) for h in sorted(imports)}
    check_continuous(await rows_of(hass, cost_id), cost, 0.00005)

    # The clock-change days: 25 and 23 hours of home consumption.
    written = await rows_of(hass, "energy_hub:home_home_consumption")
    for day, length in (("2025-10-26", 25), ("2026-03-29", 23)):
        start = datetime.fromisoformat(day).replace(tzinfo=UK).astimezone(UTC)
        end = (datetime.fromisoformat(day) + timedelta(days=1)).replace(tzinfo=UK).astimezone(UTC)
        assert len([h for h in written if start <= h < end]) == length, day

    # The next day: Octopus publishes yesterday; the home adds it, one range request.
    await advance(hass, freezer, START + timedelta(days=1, hours=2))
    await advance(hass, freezer, START + timedelta(days=1, hours=2, minutes=15))
    after = await rows_of(hass, "energy_hub:home_home_consumption")
    assert source.request_count == 28
    assert len(after) == len(written) + 24
    for at, (state, running) in written.items():
        assert after[at][0] == pytest.approx(state, abs=1e-6), at
        assert after[at][1] == pytest.approx(running, abs=1e-5), at

    # A restart: the new run rewrites the last week from one range request, nothing changes.
    assert await hass.config_entries.async_reload(home.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert home.runtime_data.source.request_count == 1
    again = await rows_of(hass, "energy_hub:home_home_consumption")
    assert again.keys() == after.keys()
    for at, (_state, running) in after.items():
        assert again[at][1] == pytest.approx(running, abs=1e-5), at
    footprint_again = await rows_of(hass, "energy_hub:home_home_grid_import_co2")
    total = 0.0
    for at in sorted(footprint_again):
        total += truth_kwh(sb.IMPORT_MPAN, at) * truth_grams(at) / 1000
        assert abs(footprint_again[at][1] - total) < 0.005, at
