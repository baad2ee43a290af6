"""Elexon BMRS through Home Assistant: entities, exact values, schedule, budget, outages."""

from datetime import timedelta
import logging
from typing import Any

from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest

from .conftest import advance, load_json, request_count, setup_integration, state_of
from .elexon_mocks import (
    FUELINST,
    INDO,
    MARKET_INDEX,
    NOW,
    SYSTEM_PRICES,
    elexon_entry,
    mock_elexon,
    requested_urls,
    requests_by_dataset,
    setup_elexon,
)

PREFIX = "sensor.elexon_bmrs"


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """Simulated days write thousands of states; the recorder committing each one would
    dominate the run time and is not what these tests are about."""
    return {"exclude": {"entity_globs": [f"{PREFIX}_*"]}}


def _state(hass: HomeAssistant, name: str) -> str:
    return state_of(hass, f"{PREFIX}_{name}")


def _attributes(hass: HomeAssistant, name: str) -> dict[str, Any]:
    state = hass.states.get(f"{PREFIX}_{name}")
    assert state is not None, name
    return dict(state.attributes)


def _fuelinst_with(*rows: tuple[str, int]) -> dict[str, Any]:
    """The FUELINST fixture plus rows for the newest interval (new fuel codes, say)."""
    payload = load_json("elexon/fuelinst.json")
    template = payload["data"][0]
    payload["data"] += [template | {"fuelType": fuel, "generation": mw} for fuel, mw in rows]
    return payload


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_sensors_exact(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Every sensor shows the fixtures' value at 17:52:30 UTC on 15 January 2025."""
    entry = await setup_elexon(hass, mock_api, freezer)
    assert entry.state is ConfigEntryState.LOADED
    assert requests_by_dataset(mock_api) == {
        "FUELINST": 1,
        "INDO": 1,
        "system_prices": 1,
        "market_index": 1,
    }

    expected = {
        "biomass_generation": "2249",
        "gas_ccgt_generation": "15234",
        "coal_generation": "0",
        "hydro_generation": "412",
        "nuclear_generation": "4120",
        "gas_ocgt_generation": "18",
        "oil_generation": "0",
        "other_generation": "512",
        "pumped_storage_generation": "1436",
        "wind_generation": "6813",
        "france_eleclink_interconnector": "998",
        "ireland_east_west_interconnector": "-250",
        "france_ifa_interconnector": "1504",
        "ireland_greenlink_interconnector": "-312",
        "france_ifa2_interconnector": "992",
        "northern_ireland_moyle_interconnector": "-402",
        "netherlands_britned_interconnector": "650",
        "belgium_nemo_link_interconnector": "1006",
        "norway_north_sea_link_interconnector": "1398",
        "denmark_viking_link_interconnector": "-420",
        "total_generation": "30794",  # domestic fuels, interconnectors excluded
        "fossil_share": "49.5",  # (CCGT 15234 + OCGT 18) / 30794
        "renewable_share": "30.8",  # (wind 6813 + hydro 412 + biomass 2249) / 30794
        "national_demand": "35218",  # INDO, period 35
        "system_buy_price": "96.47",
        "system_sell_price": "96.47",
        "market_index_price": "91.23",  # APX; the N2EX row is zero
        "settlement_period": "36",
        "data_last_retrieved": "2025-01-15T17:52:30+00:00",
    }
    for name, value in expected.items():
        assert _state(hass, name) == value, name

    wind = _attributes(hass, "wind_generation")
    assert wind["unit_of_measurement"] == "MW"
    assert wind["device_class"] == "power"
    assert wind["state_class"] == "measurement"
    assert wind["friendly_name"] == "Elexon BMRS Wind generation"
    ifa = _attributes(hass, "france_ifa_interconnector")
    assert ifa["friendly_name"] == "Elexon BMRS France (IFA) interconnector"
    assert (ifa["country"], ifa["link"], ifa["fuel_type"]) == ("France", "IFA", "INTFR")
    assert ifa["unit_of_measurement"] == "MW"
    assert _attributes(hass, "total_generation")["start"] == "2025-01-15T17:45:00+00:00"
    assert _attributes(hass, "fossil_share")["unit_of_measurement"] == "%"
    demand = _attributes(hass, "national_demand")
    assert demand["unit_of_measurement"] == "MW"
    assert (demand["settlement_date"], demand["settlement_period"]) == ("2025-01-15", 35)
    assert demand["start"] == "2025-01-15T17:00:00+00:00"
    buy = _attributes(hass, "system_buy_price")
    assert buy["unit_of_measurement"] == "GBP/MWh"
    assert buy["state_class"] == "measurement"
    assert buy["settlement_period"] == 35
    assert _attributes(hass, "market_index_price")["volume"] == 1523.45
    period = _attributes(hass, "settlement_period")
    assert period["periods_in_day"] == 48
    assert (period["start"], period["end"]) == (
        "2025-01-15T17:30:00+00:00",
        "2025-01-15T18:00:00+00:00",
    )


async def test_device_entities_and_defaults(
    hass: HomeAssistant,
    mock_api: aioresponses,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """One service device; minor fuels disabled by default; diagnostics categorised."""
    entry = await setup_elexon(hass, mock_api, freezer)

    [device] = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert device.name == "Elexon BMRS"
    assert device.manufacturer == "Elexon"
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert {e.device_id for e in entities} == {device.id}
    assert len(entities) == 10 + 10 + 3 + 1 + 3 + 2  # fuels, links, totals, demand, prices, diag
    disabled = sorted(e.entity_id for e in entities if e.disabled_by is not None)
    assert disabled == [
        f"{PREFIX}_coal_generation",
        f"{PREFIX}_gas_ocgt_generation",
        f"{PREFIX}_hydro_generation",
        f"{PREFIX}_oil_generation",
        f"{PREFIX}_other_generation",
        f"{PREFIX}_pumped_storage_generation",
    ]
    for name in ("settlement_period", "data_last_retrieved"):
        registered = entity_registry.async_get(f"{PREFIX}_{name}")
        assert registered is not None
        assert registered.entity_category is er.EntityCategory.DIAGNOSTIC
    unique_ids = {e.unique_id for e in entities}
    assert {
        "elexon:grid:generation_ccgt",
        "elexon:grid:interconnector_ifa",
        "elexon:grid:national_demand",
        "elexon:grid:settlement_period",
    } <= unique_ids


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_unknown_fuel_codes_become_their_own_sensors(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """A new interconnector and a new fuel type get generic sensors; solar its own."""
    freezer.move_to(NOW)
    mock_elexon(mock_api, fuelinst=_fuelinst_with(("INTLN", 640), ("BESS", -75), ("SOLAR", 120)))
    await setup_integration(hass, elexon_entry())
    assert _state(hass, "intln_interconnector") == "640"
    assert _attributes(hass, "intln_interconnector")["fuel_type"] == "INTLN"
    assert _state(hass, "bess_generation") == "-75"
    assert _state(hass, "solar_generation") == "120"
    # Solar counts as renewable; a negative output adds nothing to the total.
    assert _state(hass, "total_generation") == "30914"
    assert _state(hass, "renewable_share") == str(round((6813 + 412 + 2249 + 120) / 30914 * 100, 1))


async def test_no_domestic_generation_no_shares(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """An interval with only interconnector rows: total 0, shares unknown (not 0 %)."""
    freezer.move_to(NOW)
    payload = load_json("elexon/fuelinst.json")
    payload["data"] = [row for row in payload["data"] if row["fuelType"].startswith("INT")]
    mock_elexon(mock_api, fuelinst=payload)
    await setup_integration(hass, elexon_entry())
    assert _state(hass, "total_generation") == "0"
    assert _state(hass, "fossil_share") == STATE_UNAVAILABLE
    assert _state(hass, "renewable_share") == STATE_UNAVAILABLE
    assert _state(hass, "france_ifa_interconnector") == "1504"


async def test_new_fuel_code_appears_later(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """A code that appears after setup gets an entity without a reload."""
    await setup_elexon(hass, mock_api, freezer)
    assert hass.states.get(f"{PREFIX}_intln_interconnector") is None
    mock_api.clear()
    mock_elexon(mock_api, fuelinst=_fuelinst_with(("INTLN", -500)))
    await advance(hass, freezer, "2025-01-15T17:56:05+00:00")
    assert _state(hass, "intln_interconnector") == "-500"


async def test_schedule_five_minutes_half_hours_and_ticks(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """FUELINST a minute after each 5 minutes; demand and prices at :16 and :46; the settlement
    period turns at the half hour from held data."""
    await setup_elexon(hass, mock_api, freezer)
    assert request_count(mock_api) == 4

    await advance(hass, freezer, "2025-01-15T17:55:55+00:00")
    assert request_count(mock_api) == 4
    await advance(hass, freezer, "2025-01-15T17:56:01+00:00")
    assert requests_by_dataset(mock_api)["FUELINST"] == 2
    assert request_count(mock_api) == 5
    assert _state(hass, "data_last_retrieved") == "2025-01-15T17:56:01+00:00"
    [*_, url] = sorted(
        (u for u in requested_urls(mock_api) if u.path.endswith("FUELINST")),
        key=lambda u: u.query["publishDateTimeTo"],
    )
    assert url.query["publishDateTimeFrom"] == "2025-01-15T17:40:00Z"

    await advance(hass, freezer, "2025-01-15T17:59:59+00:00")
    assert _state(hass, "settlement_period") == "36"
    await advance(hass, freezer, "2025-01-15T18:00:00+00:00")
    assert _state(hass, "settlement_period") == "37"
    assert request_count(mock_api) == 5  # the tick made no request
    await advance(hass, freezer, "2025-01-15T18:01:01+00:00")
    assert request_count(mock_api) == 6  # FUELINST only; INDO waits for Elexon to publish

    for minute in range(6, 16, 5):
        await advance(hass, freezer, f"2025-01-15T18:{minute:02d}:01+00:00")
    assert request_count(mock_api) == 8
    await advance(hass, freezer, "2025-01-15T18:16:01+00:00")
    assert requests_by_dataset(mock_api) == {
        "FUELINST": 6,
        "INDO": 2,
        "system_prices": 2,
        "market_index": 2,
    }
    paths = sorted(u.path for u in requested_urls(mock_api) if "system-prices" in u.path)
    assert paths == [
        "/bmrs/api/v1/balancing/settlement/system-prices/2025-01-15/35",
        "/bmrs/api/v1/balancing/settlement/system-prices/2025-01-15/36",
    ]
    market = [u for u in requested_urls(mock_api) if u.path.endswith("market-index")]
    assert sorted(u.query["settlementPeriodFrom"] for u in market) == ["35", "36"]


async def test_simulated_day_request_budget(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """A day costs 288 FUELINST requests and 48 per half-hourly dataset, no more."""
    await setup_elexon(hass, mock_api, freezer)
    start = dt_util.utcnow()
    for minute in range(1, 24 * 60 + 1):
        await advance(hass, freezer, start + timedelta(minutes=minute))
    assert requests_by_dataset(mock_api) == {
        "FUELINST": 1 + 288,
        "INDO": 1 + 48,
        "system_prices": 1 + 48,
        "market_index": 1 + 48,
    }
    assert request_count(mock_api) == 4 + 432


@pytest.mark.parametrize(
    ("first", "periods"),
    [
        ("2025-03-30T00:00:00+00:00", 46),  # clocks forward: 23 hours
        # Clocks back (50 periods): test_elexon_e2e.py runs that day against the sandbox.
    ],
)
async def test_clock_change_day(
    hass: HomeAssistant,
    mock_api: aioresponses,
    freezer: FrozenDateTimeFactory,
    first: str,
    periods: int,
) -> None:
    """The settlement period runs 1..46 or 1..50 and prices are asked for each period of the
    day by its number; still one request per publication: 6 FUELINST per period."""
    day_start = dt_util.parse_datetime(first)
    assert day_start is not None
    length = periods * 30  # minutes
    freezer.move_to(day_start - timedelta(minutes=20))
    mock_elexon(mock_api)
    await setup_integration(hass, elexon_entry())
    # One step a minute and 10 seconds after each 5 minutes (when FUELINST is due); the
    # settlement period has turned at the half hour before.
    seen = []
    counts = {}
    for minute in range(-19, length + 46, 5):
        await advance(hass, freezer, day_start + timedelta(minutes=minute, seconds=10))
        counts[minute] = requests_by_dataset(mock_api)
        if minute % 30 == 1 and minute < length:
            seen.append(int(_state(hass, "settlement_period")))
    assert seen == list(range(1, periods + 1))
    # The day's FUELINST intervals are fetched during the day (from 00:01 local); its periods'
    # half-hourly data from 46 minutes in (period 1 is published 15 minutes after it ends) to
    # 46 minutes after the day.
    assert counts[length - 4]["FUELINST"] - counts[-4]["FUELINST"] == 6 * periods
    for dataset in ("INDO", "system_prices", "market_index"):
        assert counts[length + 41][dataset] - counts[41][dataset] == periods, dataset
    day = (day_start + timedelta(hours=12)).date().isoformat()
    asked = [
        u.path.rsplit("/", 2)[-2:] for u in requested_urls(mock_api) if "system-prices" in u.path
    ]
    assert sorted(int(period) for date, period in asked if date == day) == list(
        range(1, periods + 1)
    )


async def test_groups_off_are_not_fetched(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Generation and prices off: FUELINST still serves the interconnectors, prices are not
    asked for, and their sensors are not created."""
    await setup_elexon(hass, mock_api, freezer, generation_sensors=False, price_sensors=False)
    assert requests_by_dataset(mock_api) == {"FUELINST": 1, "INDO": 1}
    assert _state(hass, "france_ifa_interconnector") == "1504"
    assert _state(hass, "national_demand") == "35218"
    for name in ("wind_generation", "total_generation", "fossil_share", "system_buy_price"):
        assert hass.states.get(f"{PREFIX}_{name}") is None, name


async def test_only_demand(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Every group off: only demand, half-hourly; nothing in between but the tick."""
    freezer.move_to(NOW)
    mock_elexon(mock_api)
    await setup_integration(
        hass,
        elexon_entry(generation_sensors=False, interconnector_sensors=False, price_sensors=False),
    )
    assert requests_by_dataset(mock_api) == {"INDO": 1}
    assert hass.states.get(f"{PREFIX}_france_ifa_interconnector") is None
    await advance(hass, freezer, "2025-01-15T18:15:55+00:00")
    assert request_count(mock_api) == 1
    assert _state(hass, "settlement_period") == "37"
    await advance(hass, freezer, "2025-01-15T18:16:01+00:00")
    assert requests_by_dataset(mock_api) == {"INDO": 2}


async def test_empty_answers_keep_held_data_until_stale(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Elexon answering with no rows keeps the last figures; once too old they go unavailable
    (generation after 30 minutes, half-hourly data after 3 hours)."""
    await setup_elexon(hass, mock_api, freezer)
    mock_api.clear()
    for url in (FUELINST, INDO, SYSTEM_PRICES, MARKET_INDEX):
        mock_api.get(url, payload={"data": []}, repeat=True)
    await advance(hass, freezer, "2025-01-15T18:16:01+00:00")
    assert _state(hass, "wind_generation") == "6813"
    assert _state(hass, "france_ifa_interconnector") == "1504"
    assert _state(hass, "system_buy_price") == "96.47"
    await advance(hass, freezer, "2025-01-15T18:21:01+00:00")  # interval ended 17:50
    assert _state(hass, "wind_generation") == STATE_UNAVAILABLE
    assert _state(hass, "france_ifa_interconnector") == STATE_UNAVAILABLE
    assert _state(hass, "total_generation") == STATE_UNAVAILABLE
    assert _state(hass, "renewable_share") == STATE_UNAVAILABLE
    assert _state(hass, "national_demand") == "35218"
    await advance(hass, freezer, "2025-01-15T20:31:01+00:00")  # period ended 17:30
    assert _state(hass, "national_demand") == STATE_UNAVAILABLE
    assert _state(hass, "system_sell_price") == STATE_UNAVAILABLE
    assert _state(hass, "market_index_price") == STATE_UNAVAILABLE
    assert _state(hass, "settlement_period") == "42"


async def test_period_not_priced_yet_is_not_a_failure(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """A 404 for one period's system prices keeps the last price and the entry healthy."""
    await setup_elexon(hass, mock_api, freezer)
    mock_api.clear()
    mock_elexon(mock_api, skip={"system_prices"})
    mock_api.get(SYSTEM_PRICES, status=404, payload={"status": 404}, repeat=True)
    await advance(hass, freezer, "2025-01-15T18:16:01+00:00")
    assert _state(hass, "system_buy_price") == "96.47"
    assert _state(hass, "wind_generation") == "6813"
    assert _state(hass, "data_last_retrieved") == "2025-01-15T18:16:01+00:00"


async def test_nothing_published_at_setup(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """Empty answers at setup: the fixed sensors exist but are unavailable; no per-fuel ones."""
    freezer.move_to(NOW)
    mock_api.get(FUELINST, body="")
    mock_api.get(INDO, payload={"data": []})
    mock_api.get(SYSTEM_PRICES, payload={"metadata": {"datasets": ["DISEBSP"]}, "data": []})
    mock_api.get(MARKET_INDEX, payload=load_json("elexon/market_index.json")["data"][:1])
    await setup_integration(hass, elexon_entry())
    for name in ("total_generation", "national_demand", "system_buy_price", "market_index_price"):
        assert _state(hass, name) == STATE_UNAVAILABLE, name
    assert hass.states.get(f"{PREFIX}_wind_generation") is None
    assert _state(hass, "settlement_period") == "36"


async def test_outage_unavailable_then_recovers(
    hass: HomeAssistant,
    mock_api: aioresponses,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Elexon failing makes the sensors unavailable, retries back off, and it recovers."""
    caplog.set_level(logging.INFO, logger="custom_components.energy_hub")
    await setup_elexon(hass, mock_api, freezer)
    mock_api.clear()
    mock_api.get(FUELINST, status=503, repeat=True)
    before = request_count(mock_api)
    await advance(hass, freezer, "2025-01-15T17:56:01+00:00")
    assert _state(hass, "wind_generation") == STATE_UNAVAILABLE
    assert _state(hass, "national_demand") == STATE_UNAVAILABLE
    assert request_count(mock_api) - before == 1
    await advance(hass, freezer, "2025-01-15T17:57:02+00:00")  # 1 minute
    assert request_count(mock_api) - before == 2
    await advance(hass, freezer, "2025-01-15T17:58:03+00:00")
    assert request_count(mock_api) - before == 2
    await advance(hass, freezer, "2025-01-15T17:59:03+00:00")  # then 2
    assert request_count(mock_api) - before == 3

    mock_api.clear()
    mock_elexon(mock_api)
    before = request_count(mock_api)
    await advance(hass, freezer, "2025-01-15T18:03:04+00:00")  # then 4
    assert _state(hass, "wind_generation") == "6813"
    assert _state(hass, "settlement_period") == "37"
    assert request_count(mock_api) - before == 1  # only FUELINST was due
    assert len([r for r in caplog.records if "Error fetching" in r.getMessage()]) == 1
    assert len([r for r in caplog.records if "recovered" in r.getMessage()]) == 1
    # Back on the schedule.
    await advance(hass, freezer, "2025-01-15T18:05:55+00:00")
    assert request_count(mock_api) - before == 1
    await advance(hass, freezer, "2025-01-15T18:06:01+00:00")
    assert request_count(mock_api) - before == 2


async def test_rate_limited_prices(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """A 429 on one dataset fails the update; the retry waits as long as Elexon asked and
    fetches again what was due."""
    await setup_elexon(hass, mock_api, freezer)
    mock_api.clear()
    mock_elexon(mock_api, skip={"system_prices"})
    mock_api.get(SYSTEM_PRICES, status=429, headers={"Retry-After": "300"}, repeat=True)
    before = requests_by_dataset(mock_api)
    await advance(hass, freezer, "2025-01-15T18:16:01+00:00")
    assert _state(hass, "system_buy_price") == STATE_UNAVAILABLE
    assert requests_by_dataset(mock_api) - before == {
        "FUELINST": 1,
        "INDO": 1,
        "system_prices": 1,
    }
    await advance(hass, freezer, "2025-01-15T18:20:59+00:00")
    assert requests_by_dataset(mock_api) - before == {
        "FUELINST": 1,
        "INDO": 1,
        "system_prices": 1,
    }
    mock_api.clear()
    mock_elexon(mock_api)
    before = requests_by_dataset(mock_api)
    await advance(hass, freezer, "2025-01-15T18:21:03+00:00")
    assert requests_by_dataset(mock_api) - before == {
        "FUELINST": 1,
        "INDO": 1,
        "system_prices": 1,
        "market_index": 1,
    }
    assert _state(hass, "system_buy_price") == "96.47"


async def test_diagnostics_summary(
    hass: HomeAssistant, mock_api: aioresponses, freezer: FrozenDateTimeFactory
) -> None:
    """The source's part of the diagnostics: what is held and when each dataset was asked."""
    entry = await setup_elexon(hass, mock_api, freezer)
    coordinator = entry.runtime_data
    assert coordinator.source.request_count == 4
    # Woken before anything is due: nothing asked, the same data back.
    now = dt_util.utcnow() + timedelta(minutes=3)
    assert await coordinator.source.async_update(coordinator.data, now) is coordinator.data
    assert coordinator.source.request_count == 4
    summary = coordinator.source.diagnostics(coordinator.data)
    assert summary["datasets"] == ["FUELINST", "INDO", "system_prices", "market_index"]
    assert summary["fetched"] == {
        "FUELINST": "2025-01-15T17:50:00+00:00",
        "INDO": "2025-01-15T17:45:00+00:00",
        "system_prices": "2025-01-15T17:45:00+00:00",
        "market_index": "2025-01-15T17:45:00+00:00",
    }
    assert summary["generation"]["mw"]["WIND"] == 6813
    assert summary["demand"] == {"start": "2025-01-15T17:00:00+00:00", "mw": 35218}
    assert summary["system_price"]["buy"] == 96.47
    assert summary["market_index"]["price"] == 91.23
    assert coordinator.source.diagnostics(None) == {}
    empty = type(coordinator.data)()
    assert coordinator.source.diagnostics(empty)["generation"] is None
