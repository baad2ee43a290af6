"""Standing windows: named in a tariff's options, shown as sensors and a binary sensor.

A window is a name, a length and when (``before 07:00``: the 24 hours up to 07:00;
``22:00-08:00``: between two local times). Each shows the best run of its period from the
held rates, the cheapest (for an export meter the dearest), from now to the period's end; once
that run has passed, the next period's. Expected runs are found here independently of the
integration's planning code: every whole-minute start is tried, the price minute by minute
from the sandbox's ground truth (``sandbox.octopus.unit_rate``) or the typed-in bands.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest

from custom_components.energy_hub.sources.base import FlowError
from custom_components.energy_hub.sources.rates import parse_windows
import sandbox.octopus as sb_octopus

from .conftest import Sandbox, advance, setup_integration, state_of
from .entries import octopus_entry, tariff_entry

UK = ZoneInfo("Europe/London")
MINUTE = timedelta(minutes=1)
EN = json.loads(
    (Path(__file__).parents[1] / "custom_components/energy_hub/translations/en.json").read_text()
)
FLUX = (
    "00:00-02:00 0.3072\n02:00-05:00 0.18432\n05:00-16:00 0.3072\n"
    "16:00-19:00 0.43008\n19:00-24:00 0.3072"
)
FLUX_BANDS = [(0, 120, 0.3072), (120, 300, 0.18432), (300, 960, 0.3072)]
FLUX_BANDS += [(960, 1140, 0.43008), (1140, 1440, 0.3072)]

type PerMinute = Callable[[datetime], float | None]


@pytest.fixture(autouse=True)
async def london(hass: HomeAssistant) -> None:
    """Sandbox households are British."""
    await hass.config.async_set_time_zone("Europe/London")
    hass.config.currency = "GBP"


def flux_price(when: datetime) -> float:
    """The typed-in Flux bands, read in local time."""
    local = when.astimezone(UK)
    minute = local.hour * 60 + local.minute
    return next(rate for start, end, rate in FLUX_BANDS if start <= minute < end)


def octopus_price(mpan: str) -> PerMinute:
    """A meter's price (GBP/kWh, as the source rounds pence / 100) from the sandbox's ground
    truth, None where it is not published yet at the frozen clock."""

    def at(when: datetime) -> float | None:
        if when >= sb_octopus.agile_published_until(dt_util.utcnow()):
            return None
        tariff = sb_octopus.tariff_code_at(mpan, when)
        assert tariff is not None
        pence = sb_octopus.unit_rate(tariff, when)
        return None if pence is None else round(pence / 100, 6)

    return at


def best(
    price: PerMinute,
    earliest: datetime,
    latest: datetime,
    duration: timedelta,
    *,
    dearest: bool = False,
) -> tuple[str, str, float]:
    """The cheapest (``dearest``: the dearest) run by trying every whole-minute start in
    [earliest, latest]; ties to the earliest. (start, end) as the timestamp sensors show."""
    size = int(duration / MINUTE)
    grid = [earliest + i * MINUTE for i in range(int((latest - earliest) / MINUTE))]
    prices = [price(t) for t in grid]
    found: list[tuple[float, int, float]] = []
    for first in range(len(grid) - size + 1):
        window = prices[first : first + size]
        if None in window:
            continue
        average = sum(v for v in window if v is not None) / size
        found.append((round(-average if dearest else average, 9), first, average))
    _, first, average = min(found)
    start = grid[first]
    return start.isoformat(), (start + duration).isoformat(), average


def shown(hass: HomeAssistant, prefix: str, name: str) -> tuple[str, str, float]:
    """A window's start, end and average rate as its sensors show them."""
    return (
        state_of(hass, f"sensor.{prefix}_{name}_window_start"),
        state_of(hass, f"sensor.{prefix}_{name}_window_end"),
        float(state_of(hass, f"sensor.{prefix}_{name}_window_average_rate")),
    )


def assert_window(got: tuple[str, str, float], want: tuple[str, str, float]) -> None:
    """Same start and end; the average as the sensor rounds it (6 decimals)."""
    assert got[:2] == want[:2]
    assert got[2] == pytest.approx(want[2], abs=5e-7)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- the text format ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error", "placeholders"),
    [
        ("Dishwasher 2h", "invalid_window", {"line": "1", "text": "Dishwasher 2h"}),
        ("# EV\n2h before 07:00", "invalid_window", {"line": "2", "text": "2h before 07:00"}),
        ("EV 13h before 07:00", "invalid_window_length", {"line": "1", "text": "13h"}),
        ("EV 10m before 07:00", "invalid_window_length", {"line": "1", "text": "10m"}),
        ("EV 4h 25:00-08:00", "invalid_window_time", {"line": "1", "text": "25:00"}),
        ("EV 4h 22:00-01:00", "window_too_long", {"line": "1", "text": "EV 4h 22:00-01:00"}),
        (
            "Wash 1h before 7:00\nwash 2h by 08:00",
            "window_name_twice",
            {"line": "2", "text": "wash"},
        ),
    ],
)
def test_bad_lines_name_their_line(text: str, error: str, placeholders: dict[str, str]) -> None:
    """Each error names the line (and what is wrong on it), with a text that uses exactly
    those placeholders, in the options and in the first form."""
    with pytest.raises(FlowError) as caught:
        parse_windows(text)
    assert (caught.value.error, caught.value.field) == (error, "windows")
    assert caught.value.placeholders == placeholders
    for section in ("options", "config"):
        message = EN[section]["error"][error]
        assert message.format(**placeholders) != message  # every placeholder is used


def test_formats() -> None:
    """Lengths in hours, minutes or both; ``before``/``by`` a time, or between two times
    (crossing midnight); commas allowed; comments and blank lines ignored."""
    windows = parse_windows(
        "Dishwasher, 2 h, before 07:00\n\n# the car\nEV 4h 22:00-08:00\nWash 1h30m by 6:30\n"
        "Heat pump 90m 00:00-24:00"
    )
    assert [(w.name, w.slug, w.duration, w.start, w.end) for w in windows] == [
        ("Dishwasher", "dishwasher", timedelta(hours=2), 420, 420),
        ("EV", "ev", timedelta(hours=4), 1320, 480),
        ("Wash", "wash", timedelta(minutes=90), 390, 390),
        ("Heat pump", "heat_pump", timedelta(minutes=90), 0, 0),
    ]


# --- a typed-in tariff, through the options form -----------------------------------------


async def test_tariff_windows_from_options_run_and_move_on(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Monday 18:17 GMT: the windows typed in the options become sensors equal to the search
    over the bands; each binary sensor is on exactly while its run runs; once a run has
    passed, the next period's is shown (once per period, never twice)."""
    freezer.move_to("2026-11-23T18:17:00+00:00")
    entry = await setup_integration(hass, tariff_entry(FLUX))
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "tariff"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"bands": FLUX, "windows": "Dishwasher 2h before 07:00\nEV four hours 22:00-08:00"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"windows": "invalid_window"}
    assert result["description_placeholders"] == {
        "line": "2",
        "text": "EV four hours 22:00-08:00",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"bands": FLUX, "windows": " Dishwasher 2h before 07:00\nEV 4h 22:00-08:00 \n"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options == {
        "bands": FLUX,
        "windows": "Dishwasher 2h before 07:00\nEV 4h 22:00-08:00",
    }

    now = dt_util.utcnow()
    dishwasher = best(flux_price, now, _utc("2026-11-24T07:00+00:00"), timedelta(hours=2))
    ev = best(
        flux_price, _utc("2026-11-23T22:00+00:00"), _utc("2026-11-24T08:00+00:00"), 4 * 60 * MINUTE
    )
    assert dishwasher == ("2026-11-24T02:00:00+00:00", "2026-11-24T04:00:00+00:00", 0.18432)
    assert ev[:2] == ("2026-11-24T01:00:00+00:00", "2026-11-24T05:00:00+00:00")
    assert_window(shown(hass, "flux_import", "dishwasher"), dishwasher)
    assert_window(shown(hass, "flux_import", "ev"), ev)
    dishwasher_now = "binary_sensor.flux_import_dishwasher_window_now"
    ev_now = "binary_sensor.flux_import_ev_window_now"
    assert state_of(hass, dishwasher_now) == "off"
    assert state_of(hass, ev_now) == "off"
    price = hass.states.get("sensor.flux_import_dishwasher_window_average_rate")
    assert price is not None
    assert price.attributes["unit_of_measurement"] == "GBP/kWh"
    assert price.attributes["friendly_name"] == "Flux import Dishwasher window average rate"

    # On exactly while each runs (the window edges are timer wake-ups of their own).
    await advance(hass, freezer, "2026-11-24T00:59:59+00:00")
    assert (state_of(hass, ev_now), state_of(hass, dishwasher_now)) == ("off", "off")
    await advance(hass, freezer, "2026-11-24T01:00:00+00:00")
    assert (state_of(hass, ev_now), state_of(hass, dishwasher_now)) == ("on", "off")
    await advance(hass, freezer, "2026-11-24T02:00:00+00:00")
    assert (state_of(hass, ev_now), state_of(hass, dishwasher_now)) == ("on", "on")
    await advance(hass, freezer, "2026-11-24T04:00:00+00:00")
    assert (state_of(hass, ev_now), state_of(hass, dishwasher_now)) == ("on", "off")
    # The dishwasher's period (to 07:00) has had its run: tomorrow's is shown, not 05:00-07:00.
    assert_window(
        shown(hass, "flux_import", "dishwasher"),
        best(
            flux_price,
            _utc("2026-11-24T07:00+00:00"),
            _utc("2026-11-25T07:00+00:00"),
            timedelta(hours=2),
        ),
    )
    assert state_of(hass, "sensor.flux_import_dishwasher_window_start") == (
        "2026-11-25T02:00:00+00:00"
    )
    # A restart keeps that (else 04:30-06:30 would be the rest of the period's best).
    freezer.move_to("2026-11-24T04:30:00+00:00")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, "sensor.flux_import_dishwasher_window_start") == (
        "2026-11-25T02:00:00+00:00"
    )
    assert (state_of(hass, ev_now), state_of(hass, dishwasher_now)) == ("on", "off")
    await advance(hass, freezer, "2026-11-24T05:00:00+00:00")
    assert (state_of(hass, ev_now), state_of(hass, dishwasher_now)) == ("off", "off")
    assert_window(
        shown(hass, "flux_import", "ev"),
        best(
            flux_price,
            _utc("2026-11-24T22:00+00:00"),
            _utc("2026-11-25T08:00+00:00"),
            timedelta(hours=4),
        ),
    )

    # Clearing the field removes the windows (and their entities' values).
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"bands": FLUX})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options == {"bands": FLUX}
    assert state_of(hass, "sensor.flux_import_ev_window_start") == "unavailable"


# --- an Octopus account, import and export ------------------------------------------------

START = datetime(2026, 6, 10, 16, 30, tzinfo=UTC)  # 17:30 BST: tomorrow's Agile is out


@pytest.mark.usefixtures("sandbox")
async def test_octopus_import_cheapest_export_dearest(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """An Octopus account's options name import windows (the cheapest Agile run) and export
    windows (the dearest Flux export run, running now: on at once); the export meter shows
    "highest rate now" in place of "cheapest rate now"; values equal the search over the
    sandbox's ground truth."""
    entry = await setup_integration(hass, octopus_entry(days=1))
    assert (
        hass.states.get("binary_sensor.octopus_electricity_export_0002_cheapest_rate_now") is None
    )
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "octopus"
    base = {"backfill_days": 1, "gas_calorific_value": 39.5, "gas_meter_unit": "m3"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        base
        | {"windows": "Dishwasher 2h before 07:00", "export_windows": "Battery\nX 3h 9:00-25:00"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"export_windows": "invalid_window"}
    assert result["description_placeholders"] == {"line": "1", "text": "Battery"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        base
        | {
            "windows": "Dishwasher 2h before 07:00\nEV 4h 22:00-08:00",
            "export_windows": "Battery 2h 16:00-20:00",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)

    now = dt_util.utcnow()
    agile = octopus_price(sb_octopus.IMPORT_MPAN)
    export = octopus_price(sb_octopus.EXPORT_MPAN)
    imp = "octopus_electricity_import_0001"
    exp = "octopus_electricity_export_0002"
    # Before 07:00 BST: from now to 06:00 UTC tomorrow; EV: 21:00 to 07:00 UTC.
    assert_window(
        shown(hass, imp, "dishwasher"),
        best(agile, now, _utc("2026-06-11T07:00+01:00"), timedelta(hours=2)),
    )
    assert_window(
        shown(hass, imp, "ev"),
        best(
            agile, _utc("2026-06-10T22:00+01:00"), _utc("2026-06-11T08:00+01:00"), 4 * 60 * MINUTE
        ),
    )
    battery = best(export, now, _utc("2026-06-10T20:00+01:00"), timedelta(hours=2), dearest=True)
    # Flux export's peak is 16:00-19:00 BST: the dearest 2 h from now starts now, in the peak.
    assert battery[:2] == ("2026-06-10T16:30:00+00:00", "2026-06-10T18:30:00+00:00")
    assert_window(shown(hass, exp, "battery"), battery)
    assert state_of(hass, f"binary_sensor.{exp}_battery_window_now") == "on"
    assert state_of(hass, f"binary_sensor.{imp}_dishwasher_window_now") == "off"
    # Each meter has only its own windows.
    assert hass.states.get(f"sensor.{exp}_dishwasher_window_start") is None
    assert hass.states.get(f"sensor.{imp}_battery_window_start") is None

    # Highest rate now: the export price now is today's (UK day's) highest.
    day = [_utc("2026-06-10T00:00+01:00") + i * 30 * MINUTE for i in range(48)]
    highest = max(p for t in day if (p := export(t)) is not None)
    assert export(now) == highest
    assert state_of(hass, f"binary_sensor.{exp}_highest_rate_now") == "on"
    await advance(hass, freezer, "2026-06-10T18:30:00+00:00")  # 19:30 BST: off-peak
    assert state_of(hass, f"binary_sensor.{exp}_highest_rate_now") == "off"
    assert state_of(hass, f"binary_sensor.{exp}_battery_window_now") == "off"
    # The battery's period has had its run: tomorrow's peak is shown.
    assert_window(
        shown(hass, exp, "battery"),
        best(
            export,
            _utc("2026-06-11T16:00+01:00"),
            _utc("2026-06-11T20:00+01:00"),
            timedelta(hours=2),
            dearest=True,
        ),
    )
    # The import meter keeps "cheapest rate now" under its old unique id.
    assert hass.states.get(f"binary_sensor.{imp}_cheapest_rate_now") is not None
    assert hass.states.get(f"binary_sensor.{imp}_highest_rate_now") is None
