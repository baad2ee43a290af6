"""Octopus Energy through Home Assistant, against the in-process sandbox.

The sandbox's clock is Home Assistant's frozen clock; its ground-truth functions say what
every half-hour consumed and cost, so statistics are checked exactly.
"""

from datetime import UTC, datetime, timedelta
import itertools
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_hub.api.errors import ApiConnectionError
from custom_components.energy_hub.api.octopus import OctopusClient
from custom_components.energy_hub.const import DOMAIN
import sandbox.octopus as sb

from .conftest import Sandbox, advance, sandbox_requests, setup_integration, start_flow
from .entries import octopus_entry as entry

UK = ZoneInfo("Europe/London")
HOUR = timedelta(hours=1)
HALF = timedelta(minutes=30)
IMPORT, EXPORT, GAS = sb.IMPORT_MPAN, sb.EXPORT_MPAN, sb.GAS_MPRN
#: When the sandbox starts (the ``start`` fixture; a test may parametrize it).
START = datetime(2026, 6, 10, 11, 5, tzinfo=UTC)


async def _requests(sandbox: Sandbox) -> int:
    return int((await sandbox_requests(sandbox, "octopus"))["total"])


async def _hours(
    hass: HomeAssistant, key: str, first: datetime, end: datetime
) -> dict[datetime, tuple[float, float]]:
    """Hourly (state, sum) rows of ``energy_hub:<key>`` in [first, end)."""
    await async_wait_recording_done(hass)
    stat = f"energy_hub:{key}"
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, first, end, {stat}, "hour", None, {"state", "sum"}
    )
    return {
        datetime.fromtimestamp(r["start"], UTC): (r["state"], r["sum"]) for r in rows.get(stat, [])
    }


def _truth_hour(point: str, hour: datetime) -> float:
    return sb.half_hour_consumption(point, hour) + sb.half_hour_consumption(point, hour + HALF)


def _cost_hour(point: str, hour: datetime, m3: bool = False) -> float:
    total = 0.0
    for start in (hour, hour + HALF):
        amount = sb.half_hour_consumption(point, start)
        if m3:
            amount = amount * 1.02264 * 39.5 / 3.6
        rate = sb.unit_rate(sb.tariff_code_at(point, start), start)
        total += amount * round(rate / 100, 6)
    return total


def _uk_midnight(day: datetime) -> datetime:
    local = day.astimezone(UK)
    return datetime(local.year, local.month, local.day, tzinfo=UK).astimezone(UTC)


# --- config flow ------------------------------------------------------------------------------


async def test_config_flow_errors_and_success(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Format checked before any call; wrong key, unknown account, outage; then it works."""
    flow_id = await start_flow(hass, "octopus")

    async def submit(key: str, number: str) -> Any:
        return await hass.config_entries.flow.async_configure(
            flow_id, {"api_key": key, "account_number": number, "advanced": {}}
        )

    result = await submit(sb.API_KEY, "12345678")
    assert result["errors"] == {"account_number": "invalid_account_number"}
    assert await _requests(sandbox) == 0
    result = await submit("sk_live_wrong", sb.ACCOUNT_NUMBER)
    assert result["errors"] == {"api_key": "invalid_auth"}
    result = await submit(sb.API_KEY, "A-99999999")
    assert result["errors"] == {"account_number": "account_not_found"}
    await sandbox.put("/_admin/faults/octopus", json={"fault": "http_500"})
    result = await submit(sb.API_KEY, sb.ACCOUNT_NUMBER)
    assert result["errors"] == {"base": "cannot_connect"}
    await sandbox.delete("/_admin/faults/octopus")
    with patch("custom_components.energy_hub.async_setup_entry", return_value=True):
        result = await submit(f" {sb.API_KEY} ", "a-1b2c3d4e")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "A-1B2C3D4E"
    assert result["data"] == {
        "source": "octopus",
        "api_key": sb.API_KEY,
        "account_number": "A-1B2C3D4E",
    }
    assert result["options"] == {
        "backfill_days": 365,
        "gas_calorific_value": 39.5,
        "gas_meter_unit": "m3",
    }

    flow_id = await start_flow(hass, "octopus")
    result = await submit(sb.API_KEY, sb.ACCOUNT_NUMBER)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "octopus_already_configured"


async def test_reauth_and_reconfigure(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """A rejected key starts reauth; a new key is checked; reconfigure changes it too."""
    config = await setup_integration(hass, entry(days=1))
    await sandbox.put("/_admin/faults/octopus", json={"fault": "bad_auth"})
    await advance(hass, freezer, start + timedelta(hours=6, minutes=1))  # the account refresh
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["step_id"] for f in flows] == ["reauth_confirm"]
    await sandbox.delete("/_admin/faults/octopus")
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"api_key": "sk_live_wrong"}
    )
    assert result["errors"] == {"api_key": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"api_key": sb.API_KEY}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)

    result = await config.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": sb.API_KEY}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert config.state is ConfigEntryState.LOADED


# --- entities -------------------------------------------------------------------------------


async def test_meters_rates_and_standing_charges(
    hass: HomeAssistant, sandbox: Sandbox, device_registry: dr.DeviceRegistry, start: datetime
) -> None:
    """A device per meter; rates, standing charge and tariff equal the sandbox's."""
    config = await setup_integration(hass, entry(days=2))
    devices = {
        d.name: d for d in dr.async_entries_for_config_entry(device_registry, config.entry_id)
    }
    assert set(devices) == {
        "Octopus electricity import 0001",
        "Octopus electricity export 0002",
        "Octopus gas 0001",
    }
    tariff = sb.tariff_code_at(IMPORT, start)
    slot = start.replace(minute=0)
    prefix = "sensor.octopus_electricity_import_0001"
    assert hass.states.get(f"{prefix}_tariff").state == tariff
    current = hass.states.get(f"{prefix}_current_rate")
    assert float(current.state) == round(sb.unit_rate(tariff, slot) / 100, 6)
    assert current.attributes["unit_of_measurement"] == "GBP/kWh"
    # Agile days run 23:00-23:00 UK: before 16:00 the last hour of today is not out yet.
    assert len(current.attributes["rates_today"]) == 46
    assert len(current.attributes["rates_tomorrow"]) == 0
    assert float(hass.states.get(f"{prefix}_next_rate").state) == round(
        sb.unit_rate(tariff, slot + HALF) / 100, 6
    )
    assert float(hass.states.get(f"{prefix}_previous_rate").state) == round(
        sb.unit_rate(tariff, slot - HALF) / 100, 6
    )
    assert hass.states.get(f"{prefix}_next_rate_start").state == (slot + HALF).isoformat()
    charge = hass.states.get(f"{prefix}_standing_charge")
    assert float(charge.state) == round(sb.standing_charge(tariff, start) / 100, 6)
    assert charge.attributes["unit_of_measurement"] == "GBP/day"
    today = [sb.unit_rate(tariff, _uk_midnight(start) + i * HALF) for i in range(48)]
    assert float(hass.states.get(f"{prefix}_today_s_lowest_rate").state) == round(
        min(today) / 100, 6
    )
    assert float(hass.states.get(f"{prefix}_today_s_highest_rate").state) == round(
        max(today) / 100, 6
    )
    assert (
        hass.states.get("binary_sensor.octopus_electricity_import_0001_cheapest_rate_now")
        is not None
    )
    assert (
        hass.states.get("binary_sensor.octopus_gas_0001_cheapest_rate_now") is None
    )  # fixed price
    gas_tariff = sb.tariff_code_at(GAS, start)
    assert float(hass.states.get("sensor.octopus_gas_0001_current_rate").state) == round(
        sb.unit_rate(gas_tariff, start) / 100, 6
    )
    assert (
        hass.states.get(f"{prefix}_latest_consumption_reading").state
        == _uk_midnight(start).isoformat()
    )


async def test_rates_tick_and_request_budget(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """Rates change at every half hour with no request; a whole day stays within 30 requests."""
    await setup_integration(hass, entry(days=1))
    tariff = sb.tariff_code_at(IMPORT, start)
    entity_id = "sensor.octopus_electricity_import_0001_current_rate"
    await sandbox.delete("/_admin/requests")
    slot = start.replace(minute=30)
    await advance(hass, freezer, slot)
    assert float(hass.states.get(entity_id).state) == round(sb.unit_rate(tariff, slot) / 100, 6)
    assert await _requests(sandbox) == 0
    # A simulated day, minute by minute.
    for minute in range(1, 24 * 60):
        await advance(hass, freezer, slot + timedelta(minutes=minute))
    paths = (await (await sandbox.get("/_admin/requests")).json())["octopus"]["paths"]
    agile = f"/v1/products/AGILE-24-10-01/electricity-tariffs/{tariff}/standard-unit-rates/"
    consumption = f"/v1/electricity-meter-points/{IMPORT}/meters/{sb.IMPORT_SERIAL}/consumption/"
    # 4 account refreshes, tomorrow's Agile prices once (16:00 UK), gas rates once (daily
    # check of its fixed price), each meter's new day of consumption once: 10, well within 30.
    assert paths[f"/v1/accounts/{sb.ACCOUNT_NUMBER}/"] == 4
    assert paths[agile] == 1
    assert paths[consumption] == 1
    assert sum(paths.values()) == 10
    # Today's rates are complete after 16:00 (Agile days run 23:00-23:00 UK).
    assert len(hass.states.get(entity_id).attributes["rates_today"]) == 46


# --- statistics -----------------------------------------------------------------------------


@pytest.mark.parametrize("start", [datetime(2026, 6, 10, 11, 5, tzinfo=UTC)])
async def test_statistics_ordinary_day_exact(
    hass: HomeAssistant, sandbox: Sandbox, start: datetime
) -> None:
    """Every hour of a whole UK day: energy and cost (with the standing charge at midnight)."""
    config = await setup_integration(hass, entry(days=3))
    day = _uk_midnight(start - timedelta(days=1))
    hours = [day + i * HOUR for i in range(24)]
    energy = await _hours(hass, f"octopus_{IMPORT}_import_energy", day, day + 24 * HOUR)
    cost = await _hours(hass, f"octopus_{IMPORT}_import_cost", day, day + 24 * HOUR)
    assert list(energy) == hours
    tariff = sb.tariff_code_at(IMPORT, day)
    standing = round(sb.standing_charge(tariff, day) / 100, 6)
    for hour in hours:
        assert energy[hour][0] == pytest.approx(_truth_hour(IMPORT, hour), abs=1e-6)
        expected = _cost_hour(IMPORT, hour) + (standing if hour == day else 0.0)
        assert cost[hour][0] == pytest.approx(expected, abs=1e-6)
    day_energy = energy[hours[-1]][1] - energy[hours[0]][1] + energy[hours[0]][0]
    assert day_energy == pytest.approx(sum(_truth_hour(IMPORT, h) for h in hours), abs=1e-5)
    exported = await _hours(hass, f"octopus_{EXPORT}_export_energy", day, day + 24 * HOUR)
    paid = await _hours(hass, f"octopus_{EXPORT}_export_compensation", day, day + 24 * HOUR)
    assert [v[0] for v in exported.values()] == pytest.approx(
        [_truth_hour(EXPORT, h) for h in hours], abs=1e-6
    )
    assert [v[0] for v in paid.values()] == pytest.approx(
        [_cost_hour(EXPORT, h) for h in hours], abs=1e-6
    )
    volume = await _hours(hass, f"octopus_{GAS}_gas_volume", day, day + 24 * HOUR)
    gas_kwh = await _hours(hass, f"octopus_{GAS}_gas_energy", day, day + 24 * HOUR)
    assert [v[0] for v in volume.values()] == pytest.approx(
        [_truth_hour(GAS, h) for h in hours], abs=1e-6
    )
    assert [v[0] for v in gas_kwh.values()] == pytest.approx(
        [_truth_hour(GAS, h) * 1.02264 * 39.5 / 3.6 for h in hours], abs=1e-6
    )
    ids = {
        i["statistic_id"]: i
        for i in await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    }
    assert (
        ids[f"energy_hub:octopus_{IMPORT}_import_energy"]["statistics_unit_of_measurement"] == "kWh"
    )
    assert (
        ids[f"energy_hub:octopus_{IMPORT}_import_cost"]["statistics_unit_of_measurement"] == "GBP"
    )
    assert ids[f"energy_hub:octopus_{GAS}_gas_volume"]["unit_class"] == "volume"
    assert config.runtime_data.history_written[f"energy_hub:octopus_{IMPORT}_import_energy"] > 48


@pytest.mark.parametrize(
    ("start", "day", "hours"),
    [
        (datetime(2026, 3, 31, 9, 0, tzinfo=UTC), datetime(2026, 3, 29, 0, 0, tzinfo=UTC), 23),
        (datetime(2026, 10, 27, 9, 0, tzinfo=UTC), datetime(2026, 10, 24, 23, 0, tzinfo=UTC), 25),
    ],
)
async def test_statistics_clock_change_days(
    hass: HomeAssistant, sandbox: Sandbox, start: datetime, day: datetime, hours: int
) -> None:
    """The UK days of 46 and 50 half-hours: 23 and 25 hourly rows, totals exact."""
    await setup_integration(hass, entry(days=4))
    end = day + hours * HOUR
    energy = await _hours(hass, f"octopus_{IMPORT}_import_energy", day, end)
    cost = await _hours(hass, f"octopus_{IMPORT}_import_cost", day, end)
    assert len(energy) == hours
    assert list(energy) == [day + i * HOUR for i in range(hours)]
    truth = [sb.half_hour_consumption(IMPORT, day + i * HALF) for i in range(hours * 2)]
    assert sum(v[0] for v in energy.values()) == pytest.approx(sum(truth), abs=1e-5)
    tariff = sb.tariff_code_at(IMPORT, day)
    standing = round(sb.standing_charge(tariff, day) / 100, 6)
    expected_cost = sum(_cost_hour(IMPORT, day + i * HOUR) for i in range(hours)) + standing
    assert sum(v[0] for v in cost.values()) == pytest.approx(expected_cost, abs=1e-5)


async def test_late_correction_lands_without_spike(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    start: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A half-hour corrected three days later is rewritten; later sums shift, no duplicate."""
    await setup_integration(hass, entry(days=5))
    key = f"octopus_{IMPORT}_import_energy"
    fixed = _uk_midnight(start - timedelta(days=3)) + 10 * HOUR
    before = await _hours(hass, key, fixed - 48 * HOUR, start)
    original = sb._consumption_item

    def corrected(spec: Any, at: datetime) -> Any:
        item = original(spec, at)
        if spec.point == IMPORT and at == fixed:
            item["consumption"] = round(item["consumption"] + 2.5, 3)
        return item

    monkeypatch.setattr(sb, "_consumption_item", corrected)
    # The next history run: after the next UK midnight, plus 30 minutes.
    await advance(hass, freezer, _uk_midnight(start + timedelta(days=1)) + timedelta(minutes=31))
    after = await _hours(hass, key, fixed - 48 * HOUR, start + timedelta(days=1))
    assert after[fixed][0] == pytest.approx(before[fixed][0] + 2.5, abs=1e-6)
    assert after[fixed - HOUR] == before[fixed - HOUR]
    rows = sorted(after.items())
    for (_, (_, prev_sum)), (_, (state, total)) in itertools.pairwise(rows):
        assert total == pytest.approx(prev_sum + state, abs=1e-6)
    assert len(rows) == len(set(after))


async def test_restart_mid_backfill_loses_nothing(
    hass: HomeAssistant, sandbox: Sandbox, start: datetime
) -> None:
    """Gas history fails on the first run (a restart cut it short); after the restart every
    statistic is complete and no hour is written twice."""
    real = OctopusClient.gas_consumption
    calls = 0

    async def flaky(self: OctopusClient, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ApiConnectionError("cut short")
        return await real(self, *args, **kwargs)

    with patch.object(OctopusClient, "gas_consumption", flaky):
        config = await setup_integration(hass, entry(days=10))
        first = _uk_midnight(start - timedelta(days=9))
        assert await _hours(hass, f"octopus_{GAS}_gas_volume", first, start) == {}
        imported = await _hours(hass, f"octopus_{IMPORT}_import_energy", first - 24 * HOUR, start)
        assert await hass.config_entries.async_reload(config.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
    volume = await _hours(hass, f"octopus_{GAS}_gas_volume", first - 24 * HOUR, start)
    again = await _hours(hass, f"octopus_{IMPORT}_import_energy", first - 24 * HOUR, start)
    assert again == imported  # rewritten identically, nothing twice
    available = _uk_midnight(start)
    expected_hours = int((available - (start - timedelta(days=10)).replace(minute=0)) / HOUR)
    assert len(volume) == expected_hours
    assert sum(v[0] for v in volume.values()) == pytest.approx(
        sum(_truth_hour(GAS, h) for h in volume), abs=1e-5
    )


async def test_diagnostics_hide_key_account_and_meters(
    hass: HomeAssistant, sandbox: Sandbox, hass_client: Any
) -> None:
    """No API key, account number, MPAN, MPRN or serial in the download."""
    from pytest_homeassistant_custom_component.components.diagnostics import (
        get_diagnostics_for_config_entry,
    )

    config = await setup_integration(hass, entry(days=1))
    diag = await get_diagnostics_for_config_entry(hass, hass_client, config)
    text = str(diag)
    for secret in (sb.API_KEY, sb.ACCOUNT_NUMBER, IMPORT, EXPORT, GAS, sb.IMPORT_SERIAL):
        assert secret not in text
    assert diag["data"]["meters"][0]["kind"] == "import"
    assert diag["coordinator"]["requests_made"] > 0
