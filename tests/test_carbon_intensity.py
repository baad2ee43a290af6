"""Carbon Intensity through Home Assistant: entities, exact values, schedule, outages."""

from datetime import timedelta
import logging
from typing import Any

from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest

from .carbon_intensity_mocks import (
    GENERATION,
    NATIONAL_FW48H,
    mock_national,
    mock_regional,
    national_entry,
    regional_entry,
    setup_national,
)
from .conftest import CI_URL, DOMAIN, advance, load_json, request_count, setup_integration, state_of

PREFIX = "sensor.great_britain_grid"


async def test_flow_postcode_refused_with_400_is_unknown_postcode(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """The API answers an outward code it cannot match (W7) with HTTP 400 "No postcode match
    can be found.": the form says unknown postcode, not cannot connect; another postcode works."""
    freezer.move_to("2025-10-22T23:40:00+00:00")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "carbon_intensity"}
    )
    flow_id = result["flow_id"]
    mock_api.get(
        f"{CI_URL}/regional/postcode/W7",
        status=400,
        payload={
            "error": {"code": "400 Bad Request", "message": "No postcode match can be found."}
        },
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"postcode": "W7 1AA", "advanced": {}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"postcode": "unknown_postcode"}
    assert request_count(mock_api) == 1

    sample = load_json("carbon_intensity/regional_postcode_NG1.json")
    sample["data"][0] |= {"regionid": 11, "shortname": "South West England", "postcode": "BS16"}
    mock_api.get(f"{CI_URL}/regional/postcode/BS16", payload=sample)
    mock_regional(mock_api)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"postcode": "BS16 1AB", "advanced": {}}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"source": "carbon_intensity", "postcode": "BS16", "region_id": 11}
    await hass.async_block_till_done()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_national_sensors_exact(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Every national sensor shows the fixture's value for 12:10 UTC on 20 January 2018."""
    entry = await setup_national(hass, mock_api, freezer)
    assert entry.state is ConfigEntryState.LOADED

    intensity = hass.states.get(f"{PREFIX}_carbon_intensity")
    assert intensity is not None
    assert intensity.state == "263"  # the settled actual, not the forecast (266)
    assert intensity.attributes["unit_of_measurement"] == "gCO2/kWh"
    assert intensity.attributes["state_class"] == "measurement"
    forecast = intensity.attributes["forecast"]
    assert len(forecast) == 96
    assert forecast[0] == {
        "start": "2018-01-20T12:00:00+00:00",
        "end": "2018-01-20T12:30:00+00:00",
        "intensity": 263,
        "index": "moderate",
        "from": "2018-01-20T12:00:00+00:00",
        "to": "2018-01-20T12:30:00+00:00",
    }
    assert forecast[22] == {
        "start": "2018-01-20T23:00:00+00:00",
        "end": "2018-01-20T23:30:00+00:00",
        "intensity": 80,
        "index": "low",
        "from": "2018-01-20T23:00:00+00:00",
        "to": "2018-01-20T23:30:00+00:00",
    }
    index = hass.states.get(f"{PREFIX}_carbon_intensity_index")
    assert index is not None
    assert index.state == "moderate"
    assert index.attributes["options"] == ["very_low", "low", "moderate", "high", "very_high"]

    expected_shares = {
        "gas_share": "43.6",
        "coal_share": "0.7",
        "biomass_share": "4.2",
        "nuclear_share": "17.6",
        "hydro_share": "1.1",
        "imports_share": "6.5",
        "other_share": "0.3",
        "wind_share": "6.8",
        "solar_share": "18.1",
        "renewable_share": "30.2",  # wind + solar + hydro + biomass
        "fossil_share": "44.3",  # gas + coal
    }
    for suffix, value in expected_shares.items():
        assert state_of(hass, f"{PREFIX}_{suffix}") == value, suffix
        assert hass.states.get(f"{PREFIX}_{suffix}").attributes["unit_of_measurement"] == "%"

    # Greenest 3 h within 24 h: 22:00-01:00 (average 90); the greener 09:00-12:00 on the 22nd
    # is beyond 24 h.
    start = hass.states.get(f"{PREFIX}_greenest_window_start")
    assert start is not None
    assert start.state == "2018-01-20T22:00:00+00:00"
    assert start.attributes["end"] == "2018-01-21T01:00:00+00:00"
    assert start.attributes["hours"] == 3
    assert state_of(hass, f"{PREFIX}_greenest_window_intensity") == "90.0"
    assert state_of(hass, "binary_sensor.great_britain_grid_greenest_window_now") == STATE_OFF
    assert state_of(hass, f"{PREFIX}_data_last_retrieved") == "2018-01-20T12:10:00+00:00"
    assert request_count(mock_api) == 2


async def test_entities_device_and_defaults(
    hass: HomeAssistant,
    mock_api: aioresponses,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """One service device; minor fuels disabled by default; the diagnostic sensor categorised."""
    entry = await setup_national(hass, mock_api, freezer)

    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert len(devices) == 1
    device = devices[0]
    assert device.name == "Great Britain grid"
    assert device.manufacturer == "NESO"
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert {e.device_id for e in entities} == {device.id}
    disabled = sorted(e.entity_id for e in entities if e.disabled_by is not None)
    assert disabled == [
        f"{PREFIX}_coal_share",
        f"{PREFIX}_hydro_share",
        f"{PREFIX}_other_share",
    ]
    assert len(entities) == 17  # 16 sensors and the window binary sensor
    last = entity_registry.async_get(f"{PREFIX}_data_last_retrieved")
    assert last is not None
    assert last.entity_category is er.EntityCategory.DIAGNOSTIC
    assert last.unique_id == "carbon_intensity_national:grid:last_retrieved"
    assert hass.states.get(f"{PREFIX}_coal_share") is None


async def test_regional_sensors_from_real_sample(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """The real South West England payload: forecast only, mix per slot, 1 h window."""
    freezer.move_to("2025-10-22T23:40:00+00:00")
    mock_regional(mock_api)
    await setup_integration(hass, regional_entry())
    prefix = "sensor.south_west_england_grid"
    assert state_of(hass, f"{prefix}_carbon_intensity") == "162"
    assert state_of(hass, f"{prefix}_carbon_intensity_index") == "moderate"
    assert state_of(hass, f"{prefix}_imports_share") == "44.2"
    assert state_of(hass, f"{prefix}_wind_share") == "21.3"
    assert state_of(hass, f"{prefix}_renewable_share") == "21.8"  # 21.3 wind + 0.1 hydro + 0.4
    assert state_of(hass, f"{prefix}_fossil_share") == "32.9"
    forecast = hass.states.get(f"{prefix}_carbon_intensity").attributes["forecast"]
    assert [slot["intensity"] for slot in forecast] == [162, 164, 165, 161]
    # 1 h windows: (162,164)=163, (164,165)=164.5, (165,161)=163: a tie goes to the earliest.
    assert state_of(hass, f"{prefix}_greenest_window_start") == "2025-10-22T23:30:00+00:00"
    assert state_of(hass, f"{prefix}_greenest_window_intensity") == "163.0"
    assert request_count(mock_api) == 1


async def test_updates_on_the_half_hour_and_ticks_without_requests(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Readings move to the new slot at :30 from held data; the fetch follows 10 s later."""
    freezer.move_to("2018-01-20T12:10:00+00:00")
    mock_national(mock_api)
    await setup_integration(hass, national_entry())
    assert request_count(mock_api) == 2

    await advance(hass, freezer, "2018-01-20T12:29:59+00:00")
    assert request_count(mock_api) == 2
    assert state_of(hass, f"{PREFIX}_carbon_intensity") == "263"

    await advance(hass, freezer, "2018-01-20T12:30:00+00:00")
    assert state_of(hass, f"{PREFIX}_carbon_intensity") == "240"  # slot 2's forecast
    assert request_count(mock_api) == 2

    await advance(hass, freezer, "2018-01-20T12:30:11+00:00")
    assert request_count(mock_api) == 4
    assert state_of(hass, f"{PREFIX}_data_last_retrieved") == "2018-01-20T12:30:11+00:00"


async def test_window_turns_on_when_it_starts(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """The binary sensor is on from the window's first half hour."""
    freezer.move_to("2018-01-20T21:50:00+00:00")
    mock_national(mock_api)
    await setup_integration(hass, national_entry())
    entity_id = "binary_sensor.great_britain_grid_greenest_window_now"
    assert state_of(hass, entity_id) == STATE_OFF
    await advance(hass, freezer, "2018-01-20T22:00:00+00:00")
    assert state_of(hass, entity_id) == STATE_ON
    state = hass.states.get(entity_id)
    assert state.attributes["start"] == "2018-01-20T22:00:00+00:00"
    assert state.attributes["end"] == "2018-01-21T01:00:00+00:00"


async def test_simulated_day_request_budget(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """A region makes exactly one request per half hour: 48 a day after the first."""
    freezer.move_to("2025-10-22T23:40:00+00:00")
    mock_regional(mock_api)
    await setup_integration(hass, regional_entry())
    start = dt_util.utcnow()
    for minute in range(1, 24 * 60 + 1):
        await advance(hass, freezer, start + timedelta(minutes=minute))
    assert request_count(mock_api) == 1 + 48


def _numbered_forecast() -> dict[str, Any]:
    """The national sample with a distinct forecast per slot (200 + its index), no actuals."""
    payload = load_json("carbon_intensity/national_fw48h.json")
    for number, item in enumerate(payload["data"]):
        item["intensity"] |= {"forecast": 200 + number, "actual": None}
    return payload


async def test_outage_shows_held_forecast_for_two_hours(
    hass: HomeAssistant,
    mock_api: aioresponses,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """HTTP 500 from 13:00: the held forecast stays shown, slot by slot, with its age, for
    2 hours after the last good fetch (12:30:40), retried with backoff; then unavailable;
    back by itself when the API answers again. Requests counted minute by minute."""
    caplog.set_level(logging.INFO, logger="custom_components.energy_hub")
    freezer.move_to("2018-01-20T12:10:00+00:00")
    mock_api.get(NATIONAL_FW48H, payload=_numbered_forecast(), repeat=True)
    mock_api.get(
        GENERATION, payload=load_json("carbon_intensity/generation_current.json"), repeat=True
    )
    await setup_integration(hass, national_entry())
    entity_id = f"{PREFIX}_carbon_intensity"
    assert state_of(hass, entity_id) == "200"
    await advance(hass, freezer, "2018-01-20T12:30:40+00:00")
    assert request_count(mock_api) == 4
    assert state_of(hass, entity_id) == "201"

    mock_api.clear()
    mock_api.get(NATIONAL_FW48H, status=500, repeat=True)
    # Minute by minute from 12:31:40 to 15:02:40: (minute, requests so far, state, age).
    seen: list[tuple[str, int, str, Any]] = []
    start = dt_util.parse_datetime("2018-01-20T12:30:40+00:00")
    assert start is not None
    for minute in range(1, 153):
        when = start + timedelta(minutes=minute)
        if when.strftime("%H:%M") == "14:50":  # the API answers again
            mock_api.clear()
            mock_api.get(NATIONAL_FW48H, payload=_numbered_forecast(), repeat=True)
            mock_api.get(
                GENERATION,
                payload=load_json("carbon_intensity/generation_current.json"),
                repeat=True,
            )
        await advance(hass, freezer, when.isoformat())
        state = hass.states.get(entity_id)
        assert state is not None
        if when.strftime("%H:%M") == "14:29":
            assert state.attributes["data_retrieved"] == "2018-01-20T12:30:40+00:00"
            assert state.attributes["forecast"][0]["start"] == "2018-01-20T14:00:00+00:00"
            index = hass.states.get(f"{PREFIX}_carbon_intensity_index")
            assert index.state == "very_high"
            assert index.attributes["data_age_minutes"] == 91
            window = hass.states.get(f"{PREFIX}_greenest_window_intensity")
            assert window.attributes["data_age_minutes"] == 91
            # The national mix is for its own half hour (12:00-12:30): not shown as now.
            assert state_of(hass, f"{PREFIX}_gas_share") == STATE_UNAVAILABLE
            assert state_of(hass, f"{PREFIX}_data_last_retrieved") == "2018-01-20T12:30:40+00:00"
        seen.append(
            (
                when.strftime("%H:%M"),
                request_count(mock_api),
                state.state,
                state.attributes.get("data_age_minutes"),
            )
        )
    by_minute = {minute: (count, value, age) for minute, count, value, age in seen}
    # The minutes with requests: retries 1, 2, 4, 8, 16, 30 minutes after the first failure
    # at 13:00:40 (instead of one fetch per half hour).
    asked_at = [m for m, count, _, _ in seen if count != by_minute.get(_prev(m), (4,))[0]]
    assert asked_at[:7] == ["13:00", "13:01", "13:03", "13:07", "13:15", "13:31", "14:01"]
    # Held forecast for the slot running now; its age as of the last retry or half-hour tick.
    assert by_minute["13:00"] == (5, "202", 30)
    assert by_minute["13:29"] == (9, "202", 45)
    assert by_minute["13:30"] == (9, "203", 60)
    assert by_minute["14:00"] == (10, "204", 90)
    assert by_minute["14:29"] == (11, "204", 91)
    # Two hours after the last good fetch: unavailable at once, from held data (no request).
    assert by_minute["14:30"] == (11, STATE_UNAVAILABLE, None)
    # The next retry fails: the coordinator's backoff takes over (1, 2, 4 minutes...).
    # 14:50 the API answers: the retry due at 15:02 (16 minutes) brings it back.
    assert asked_at[7:] == ["14:31", "14:32", "14:34", "14:38", "14:46", "15:02"]
    assert by_minute["15:01"] == (16, STATE_UNAVAILABLE, None)
    assert by_minute["15:02"] == (18, "206", None)
    assert state_of(hass, f"{PREFIX}_gas_share") == "43.6"
    failures = [r for r in caplog.records if "Error fetching" in r.getMessage()]
    recoveries = [r for r in caplog.records if "recovered" in r.getMessage()]
    held = [r for r in caplog.records if "showing the forecast" in r.getMessage()]
    assert (len(held), len(failures), len(recoveries)) == (1, 1, 1)
    assert all(r.levelno <= logging.INFO for r in held + recoveries)
    # Back on the half-hour schedule.
    await advance(hass, freezer, "2018-01-20T15:29:59+00:00")
    assert request_count(mock_api) == 18
    await advance(hass, freezer, "2018-01-20T15:30:11+00:00")
    assert request_count(mock_api) == 20


def _prev(minute: str) -> str:
    hours, minutes = divmod(int(minute[:2]) * 60 + int(minute[3:]) - 1, 60)
    return f"{hours:02d}:{minutes:02d}"


async def test_rate_limit_honours_retry_after(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """429 with Retry-After: the next attempt waits as long as the service asked (the held
    forecast shown meanwhile); the answer after it is fresh again (no age attribute)."""
    freezer.move_to("2018-01-20T12:10:00+00:00")
    mock_national(mock_api)
    await setup_integration(hass, national_entry())
    mock_api.clear()
    mock_api.get(NATIONAL_FW48H, status=429, headers={"Retry-After": "600"}, repeat=True)
    before = request_count(mock_api)
    await advance(hass, freezer, "2018-01-20T12:30:11+00:00")
    assert request_count(mock_api) - before == 1
    # Meanwhile the held forecast shows the new half hour, 20 minutes old.
    state = hass.states.get(f"{PREFIX}_carbon_intensity")
    assert (state.state, state.attributes["data_age_minutes"]) == ("240", 20)
    await advance(hass, freezer, "2018-01-20T12:39:00+00:00")
    assert request_count(mock_api) - before == 1
    mock_api.clear()
    mock_national(mock_api)
    await advance(hass, freezer, "2018-01-20T12:40:13+00:00")
    assert request_count(mock_api) - before == 3
    state = hass.states.get(f"{PREFIX}_carbon_intensity")
    assert state.state == "240"
    assert "data_age_minutes" not in state.attributes


async def test_generation_missing_keeps_intensity(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """No mix today (empty body): intensity still shows, no share entities are created."""
    freezer.move_to("2018-01-20T12:10:00+00:00")
    mock_api.get(NATIONAL_FW48H, payload={"data": []})
    mock_api.get(GENERATION, body="")
    await setup_integration(hass, national_entry())
    assert state_of(hass, f"{PREFIX}_carbon_intensity") == STATE_UNAVAILABLE
    assert state_of(hass, f"{PREFIX}_greenest_window_start") == STATE_UNAVAILABLE
    assert hass.states.get(f"{PREFIX}_gas_share") is None
    assert hass.states.get(f"{PREFIX}_renewable_share") is None
