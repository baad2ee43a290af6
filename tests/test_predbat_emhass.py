"""Rates and carbon forecasts read the way Predbat and EMHASS read them.

Predbat (springfall2008/batpred, ``apps/predbat/fetch.py`` ``fetch_octopus_rates`` and
``fetch_carbon_intensity``, ``apps/predbat/utils.py`` ``minute_data``): given
``metric_octopus_import: sensor.<meter>_current_rate``, it reads the ``rates`` attribute of
``event.<meter>_previous_day_rates``, ``..._current_day_rates`` and ``..._next_day_rates``
(the entity id with ``_current_rate`` replaced and ``sensor.`` turned into ``event.``); items
with ``start``/``end``/``value_inc_vat`` are taken as pounds (scaled by 100 to pence) and laid
out minute by minute from local midnight. For carbon it reads the ``forecast`` attribute's
``from``/``to``/``intensity``, minute by minute from now. Both read Home Assistant's states
as JSON (its REST/websocket API): so do these tests.

EMHASS (davidusb-geek/emhass, ``docs/forecasts.md``): ``load_cost_forecast`` and
``prod_price_forecast`` are lists of prices per optimisation step (30 minutes by default)
passed as runtime parameters, built with Home Assistant templates from a price entity's
attributes: the README's templates are rendered here by Home Assistant itself.

Expected values come from the sandbox's ground truth (``sandbox.octopus.unit_rate``,
``sandbox.carbon_intensity.intensity_truth``) and the typed-in tariff's bands.
"""

from datetime import UTC, datetime, timedelta
import json
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import get_instance, history
from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import JSONEncoder
from homeassistant.helpers.template import Template
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from sandbox.carbon_intensity import intensity_truth
import sandbox.octopus as sb_octopus

from .carbon_intensity_mocks import national_entry
from .conftest import advance, setup_integration, state_of
from .entries import octopus_entry, tariff_entry

UK = ZoneInfo("Europe/London")
SLOT = timedelta(minutes=30)
START = datetime(2026, 6, 10, 16, 30, tzinfo=UTC)  # 17:30 BST: tomorrow's Agile is out
IMPORT = "sensor.octopus_electricity_import_0001_current_rate"
EXPORT = "sensor.octopus_electricity_export_0002_current_rate"
FLUX = (
    "00:00-02:00 0.3072\n02:00-05:00 0.18432\n05:00-16:00 0.3072\n"
    "16:00-19:00 0.43008\n19:00-24:00 0.3072"
)

#: The README's EMHASS call (a rest_command payload for naive-mpc-optim): the prices of the
#: half-hours still to come, at most 48, as load_cost_forecast and prod_price_forecast.
EMHASS_PAYLOAD = """
{%- set ns = namespace(load=[], prod=[]) -%}
{%- for r in state_attr('sensor.octopus_electricity_import_0001_current_rate', 'rates')
      if as_datetime(r.end) > now() -%}
  {%- set ns.load = ns.load + [r.value_inc_vat] -%}
{%- endfor -%}
{%- for r in state_attr('sensor.octopus_electricity_export_0002_current_rate', 'rates')
      if as_datetime(r.end) > now() -%}
  {%- set ns.prod = ns.prod + [r.value_inc_vat] -%}
{%- endfor -%}
{%- set steps = [ns.load | length, ns.prod | length, 48] | min -%}
{{ {"load_cost_forecast": ns.load[:steps], "prod_price_forecast": ns.prod[:steps],
    "prediction_horizon": steps} | tojson }}
"""


@pytest.fixture(autouse=True)
async def london(hass: HomeAssistant) -> None:
    """Sandbox households are British."""
    await hass.config.async_set_time_zone("Europe/London")
    hass.config.currency = "GBP"


# --- Predbat, as its code reads ------------------------------------------------------------


def get_state_wrapper(hass: HomeAssistant, entity_id: str, attribute: str) -> Any:
    """An attribute as Predbat gets it: through Home Assistant's JSON API."""
    state = hass.states.get(entity_id)
    if state is None:
        return None
    return json.loads(json.dumps(state.as_dict(), cls=JSONEncoder))["attributes"].get(attribute)


def minute_data(
    history_items: list[dict[str, Any]],
    days: int,
    now: datetime,
    state_key: str,
    last_updated_key: str,
    *,
    to_key: str,
    scale: float = 1.0,
) -> dict[int, float]:
    """Predbat's ``minute_data`` for forward data with an end key: each item's value for
    every minute from its start to its end, minutes counted from ``now``, within +-days."""
    mdata: dict[int, float] = {}
    for item in history_items:
        if state_key not in item or last_updated_key not in item:
            continue
        try:
            state = float(item[state_key]) * scale
            start = datetime.fromisoformat(item[last_updated_key]).replace(second=0, microsecond=0)
        except ValueError, TypeError:
            continue
        to_time = datetime.fromisoformat(item[to_key])
        minutes = int((start - now).total_seconds() / 60)
        minutes_to = int((to_time - now).total_seconds() / 60)
        for minute in range(minutes, minutes_to):
            if -days * 24 * 60 <= minute <= days * 24 * 60:
                mdata[minute] = state
    return mdata


def fetch_octopus_rates(
    hass: HomeAssistant, entity_id: str, midnight: datetime, forecast_days: int = 2
) -> tuple[dict[int, float], list[dict[str, Any]]]:
    """Predbat's ``fetch_octopus_rates``: the day-rate events next to a ``_current_rate``
    sensor, keys chosen from the first item, pounds scaled to pence."""
    data_all: list[dict[str, Any]] = []
    if "_current_rate" in entity_id:
        prev_rate_id = entity_id.replace("_current_rate", "_previous_day_rates").replace(
            "sensor.", "event."
        )
        data_all += get_state_wrapper(hass, prev_rate_id, "rates") or []
        current_rate_id = entity_id.replace("_current_rate", "_current_day_rates").replace(
            "sensor.", "event."
        )
    else:
        current_rate_id = entity_id
    data_all += get_state_wrapper(hass, current_rate_id, "rates") or []
    if "_current_rate" in entity_id:
        next_rate_id = entity_id.replace("_current_rate", "_next_day_rates").replace(
            "sensor.", "event."
        )
        data_all += get_state_wrapper(hass, next_rate_id, "rates") or []
    assert data_all
    rate_key, from_key, to_key, scale = "rate", "from", "to", 1.0
    if rate_key not in data_all[0]:
        rate_key, from_key, to_key = "value_inc_vat", "valid_from", "valid_to"
    if from_key not in data_all[0]:
        from_key, to_key, scale = "start", "end", 100.0
    rates = minute_data(
        data_all, forecast_days + 1, midnight, rate_key, from_key, to_key=to_key, scale=scale
    )
    return rates, data_all


def pence(mpan: str, when: datetime) -> float:
    """Ground truth: the meter's unit rate (p/kWh inc VAT) at ``when``."""
    tariff = sb_octopus.tariff_code_at(mpan, when)
    assert tariff is not None
    value = sb_octopus.unit_rate(tariff, when)
    assert value is not None
    return value


@pytest.mark.usefixtures("sandbox")
async def test_predbat_reads_octopus_day_rate_events(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """``metric_octopus_import: sensor.octopus_electricity_import_0001_current_rate`` (and the
    export meter's): Predbat's reading gives every minute from yesterday's local midnight to
    the end of what is published (23:00 BST tomorrow) the sandbox's price in pence; the
    events carry the tariff code and Predbat's event type, and fire again only on change."""
    await setup_integration(hass, octopus_entry(days=1))
    now = dt_util.utcnow()
    midnight = datetime(2026, 6, 10, tzinfo=UK)
    # Agile to 23:00 BST tomorrow (published at 16:00); Flux export's bands to midnight.
    meters = (
        (IMPORT, sb_octopus.IMPORT_MPAN, sb_octopus.agile_published_until(now), 48 + 48 + 46),
        (EXPORT, sb_octopus.EXPORT_MPAN, midnight + timedelta(days=2), 3 * 48),
    )
    for entity_id, mpan, until, slots in meters:
        rates, items = fetch_octopus_rates(hass, entity_id, midnight)
        first = midnight - timedelta(days=1)
        assert len(items) == slots == int((until - first) / SLOT)
        assert sorted(rates) == list(range(-24 * 60, slots * 30 - 24 * 60))
        for index in range(slots):
            start = first + index * SLOT
            minute = int((start - midnight).total_seconds() // 60)
            expected = pence(mpan, start)
            for offset in (0, 29):
                assert rates[minute + offset] == pytest.approx(expected, abs=1e-4)
        # The shape: ISO times in local time with the offset, pounds.
        assert items[48 + 35] == {
            "start": "2026-06-10T17:30:00+01:00",
            "end": "2026-06-10T18:00:00+01:00",
            "value_inc_vat": round(pence(mpan, now) / 100, 6),
        }

    current = hass.states.get("event.octopus_electricity_import_0001_current_day_rates")
    assert current is not None
    assert current.attributes["event_type"] == "octopus_energy_electricity_current_day_rates"
    assert current.attributes["tariff_code"] == sb_octopus.tariff_code_at(
        sb_octopus.IMPORT_MPAN, now
    )
    gas = hass.states.get("event.octopus_gas_0001_current_day_rates")
    assert gas is not None
    assert gas.attributes["event_type"] == "octopus_energy_gas_current_day_rates"
    # The sensor carries today's and tomorrow's, as the current and next day events do.
    assert get_state_wrapper(hass, IMPORT, "rates") == (
        get_state_wrapper(hass, "event.octopus_electricity_import_0001_current_day_rates", "rates")
        + get_state_wrapper(hass, "event.octopus_electricity_import_0001_next_day_rates", "rates")
    )

    # Fired again only when the rates change: not at the next half hour, but at midnight.
    fired = current.state
    await advance(hass, freezer, "2026-06-10T17:00:00+00:00")
    assert state_of(hass, "event.octopus_electricity_import_0001_current_day_rates") == fired
    await advance(hass, freezer, "2026-06-10T23:00:00+00:00")  # midnight BST
    moved = hass.states.get("event.octopus_electricity_import_0001_current_day_rates")
    assert moved is not None
    assert moved.state != fired
    assert moved.attributes["rates"][0]["start"] == "2026-06-11T00:00:00+01:00"
    # Tomorrow's (12 June) Agile prices come at 16:00: until then, no next-day event.
    assert state_of(hass, "event.octopus_electricity_import_0001_next_day_rates") == "unavailable"


async def test_predbat_reads_a_typed_in_tariff(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A typed-in tariff's ``sensor.flux_import_current_rate`` works in Predbat the same way:
    half-hourly items over yesterday, today and tomorrow with the bands' prices."""
    freezer.move_to("2026-11-23T18:17:00+00:00")
    await setup_integration(hass, tariff_entry(FLUX))
    midnight = datetime(2026, 11, 23, tzinfo=UK)
    rates, items = fetch_octopus_rates(hass, "sensor.flux_import_current_rate", midnight)
    assert len(items) == 3 * 48
    bands = [(0, 120, 30.72), (120, 300, 18.432), (300, 960, 30.72), (960, 1140, 43.008)]
    bands += [(1140, 1440, 30.72)]
    for minute in range(-24 * 60, 48 * 60):
        of_day = minute % (24 * 60)
        expected = next(p for lo, hi, p in bands if lo <= of_day < hi)
        assert rates[minute] == pytest.approx(expected, abs=1e-9)
    state = hass.states.get("event.flux_import_next_day_rates")
    assert state is not None
    assert state.attributes["event_type"] == "energy_hub_tariff_next_day_rates"


# --- EMHASS, as its documentation passes prices ----------------------------------------------


@pytest.mark.usefixtures("sandbox")
async def test_emhass_templates_give_the_next_48_half_hours(hass: HomeAssistant) -> None:
    """The README's payload, rendered by Home Assistant at 17:30 BST, gives the next 48
    half-hours' import (Agile) and export (Flux export) prices in pounds, the running half
    hour first: what EMHASS takes as load_cost_forecast and prod_price_forecast."""
    await setup_integration(hass, octopus_entry(days=1))
    now = dt_util.utcnow()
    payload = json.loads(Template(EMHASS_PAYLOAD, hass).async_render(parse_result=False))
    assert payload == {
        "load_cost_forecast": [
            round(pence(sb_octopus.IMPORT_MPAN, now + i * SLOT) / 100, 6) for i in range(48)
        ],
        "prod_price_forecast": [
            round(pence(sb_octopus.EXPORT_MPAN, now + i * SLOT) / 100, 6) for i in range(48)
        ],
        "prediction_horizon": 48,
    }


@pytest.mark.usefixtures("sandbox")
async def test_emhass_horizon_follows_published_prices(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """At 11:00 BST tomorrow's Agile prices are not out: the payload holds the 24 half-hours
    to 23:00 BST and says so in prediction_horizon (EMHASS wants lists that long)."""
    freezer.move_to("2026-06-10T10:00:00+00:00")
    await setup_integration(hass, octopus_entry(days=1))
    now = dt_util.utcnow()
    payload = json.loads(Template(EMHASS_PAYLOAD, hass).async_render(parse_result=False))
    assert payload["prediction_horizon"] == 24
    assert payload["load_cost_forecast"] == [
        round(pence(sb_octopus.IMPORT_MPAN, now + i * SLOT) / 100, 6) for i in range(24)
    ]
    assert len(payload["prod_price_forecast"]) == 24


# --- carbon intensity, as Predbat reads it -------------------------------------------------


@pytest.mark.usefixtures("sandbox")
async def test_predbat_reads_the_carbon_forecast(hass: HomeAssistant) -> None:
    """``carbon_intensity: sensor.great_britain_grid_carbon_intensity``: Predbat's reading of
    the forecast (``from``, ``to``, ``intensity``) gives each minute ahead the intensity the
    API serves for its half hour (the settled actual for the running one)."""
    await setup_integration(hass, national_entry())
    now = dt_util.utcnow()
    forecast = get_state_wrapper(hass, "sensor.great_britain_grid_carbon_intensity", "forecast")
    assert forecast
    assert {"start", "end", "intensity", "index", "from", "to"} == set(forecast[0])
    carbon = minute_data(forecast, 2, now, "intensity", "from", to_key="to")
    running = now.replace(minute=now.minute - now.minute % 30, second=0, microsecond=0)
    for index in range(len(forecast)):
        start = running + index * SLOT
        minute = max(int((start - now).total_seconds() // 60), 0)
        assert carbon[minute] == intensity_truth(start, now=now), start
    assert len(forecast) == 96


# --- big attributes stay out of the recorder ---------------------------------------------


@pytest.mark.usefixtures("sandbox")
async def test_rate_tables_stay_out_of_the_recorder(hass: HomeAssistant) -> None:
    """The recorder stores the rate sensors' and events' states without ``rates`` (nor the
    older tables), while their small attributes are kept."""
    await setup_integration(hass, octopus_entry(days=1))
    await async_wait_recording_done(hass)
    entity_ids = [IMPORT, "event.octopus_electricity_import_0001_current_day_rates"]
    for entity_id in entity_ids:
        assert "rates" in hass.states.get(entity_id).attributes  # type: ignore[union-attr]
    recorded = await get_instance(hass).async_add_executor_job(
        history.get_significant_states,
        hass,
        START - timedelta(hours=1),
        None,
        entity_ids,
    )
    sensor, event = (recorded[entity_id][-1] for entity_id in entity_ids)
    assert sensor.attributes["friendly_name"] == "Octopus electricity import 0001 Current rate"
    assert not {"rates", "rates_today", "rates_tomorrow"} & set(sensor.attributes)
    assert event.attributes["event_type"] == "octopus_energy_electricity_current_day_rates"
    assert "tariff_code" in event.attributes
    assert "rates" not in event.attributes
