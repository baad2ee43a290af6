"""energy_hub.find_window: the best windows from held prices and intensities, no request.

Expected windows are found here independently of custom_components/energy_hub/planning.py:
every whole-minute start is tried, the data minute by minute from the sandbox's ground truth
(its Agile and Flux prices, its national intensities) or from the typed-in bands read in local
time, the best window then the best overlapping none chosen before it.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest

from custom_components.energy_hub.planning import (
    NoWindowData,
    Objective,
    find_windows,
)
from custom_components.energy_hub.sources.rates import Rate
from sandbox.carbon_intensity import national_actual, national_slot
import sandbox.octopus as sb_octopus

from .carbon_intensity_mocks import national_entry
from .conftest import DOMAIN, Sandbox, sandbox_requests, setup_integration
from .entries import octopus_entry, tariff_entry

UK = ZoneInfo("Europe/London")
MINUTE = timedelta(minutes=1)
SLOT = timedelta(minutes=30)
#: Scores equal to 9 decimals are a tie: the earlier window wins (as documented).
TIE = 9

type PerMinute = Callable[[datetime], float | None]


@pytest.fixture(autouse=True)
async def london(hass: HomeAssistant) -> None:
    """Sandbox households are British."""
    await hass.config.async_set_time_zone("Europe/London")
    hass.config.currency = "GBP"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _floor_slot(when: datetime) -> datetime:
    return when.replace(minute=when.minute - when.minute % 30, second=0, microsecond=0)


def agile_price(when: datetime) -> float | None:
    """The import meter's price (GBP/kWh) as the sandbox publishes it, None once unpublished."""
    if when >= sb_octopus.agile_published_until(dt_util.utcnow()):
        return None
    tariff = sb_octopus.tariff_code_at(sb_octopus.IMPORT_MPAN, when)
    assert tariff is not None
    pence = sb_octopus.unit_rate(tariff, when)
    return None if pence is None else round(pence / 100, 6)


def flux_export_price(when: datetime) -> float | None:
    """The export meter's price (GBP/kWh)."""
    tariff = sb_octopus.tariff_code_at(sb_octopus.EXPORT_MPAN, when)
    assert tariff is not None
    pence = sb_octopus.unit_rate(tariff, when)
    return None if pence is None else round(pence / 100, 6)


def national_intensity(now: datetime, horizon: datetime) -> PerMinute:
    """The national figure the source shows: the settled actual for the slot running at
    ``now``, the forecast after it, none after ``horizon`` (fw48h's extent)."""

    def at(when: datetime) -> float | None:
        start = _floor_slot(when)
        if start >= horizon:
            return None
        slot = national_slot(start)
        return float(national_actual(slot) if start <= now else slot.forecast)

    return at


def reference(
    *,
    earliest: datetime,
    latest: datetime,
    duration: timedelta,
    price: PerMinute | None,
    intensity: PerMinute | None,
    objective: str,
    carbon_price: float = 0.0,
    count: int = 3,
) -> list[dict[str, Any]]:
    """The expected windows, by trying every whole-minute start."""
    minutes = int((latest - earliest) / MINUTE)
    size = int(duration / MINUTE)
    grid = [earliest + i * MINUTE for i in range(minutes)]
    prices = [price(t) if price else None for t in grid]
    intensities = [intensity(t) if intensity else None for t in grid]
    found: list[tuple[float, int, float | None, float | None]] = []
    for first in range(minutes - size + 1):
        p = prices[first : first + size]
        g = intensities[first : first + size]
        avg_p = None if None in p else sum(v for v in p if v is not None) / size
        avg_g = None if None in g else sum(v for v in g if v is not None) / size
        if objective == "price":
            score = avg_p
        elif objective == "carbon":
            score = avg_g
        else:
            score = (
                None if avg_p is None or avg_g is None else avg_p + avg_g * carbon_price / 1_000_000
            )
        if score is not None:
            found.append((round(score, TIE), first, avg_p, avg_g))
    found.sort(key=lambda item: (item[0], item[1]))
    chosen: list[tuple[float, int, float | None, float | None]] = []
    for item in found:
        if len(chosen) == count:
            break
        if all(item[1] + size <= c[1] or item[1] >= c[1] + size for c in chosen):
            chosen.append(item)
    return [
        {
            "start": dt_util.as_local(grid[first]).isoformat(),
            "end": dt_util.as_local(grid[first] + duration).isoformat(),
            "average_price": avg_p,
            "average_intensity": avg_g,
        }
        for _, first, avg_p, avg_g in chosen
    ]


def assert_windows(answer: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Same windows; averages equal to the answer's rounding (6 decimals, 1 for g/kWh)."""
    assert [(w["start"], w["end"]) for w in answer] == [(w["start"], w["end"]) for w in expected]
    for got, want in zip(answer, expected, strict=True):
        for key, decimals in (("average_price", 6), ("average_intensity", 1)):
            if want[key] is None:
                assert got[key] is None
            else:
                assert got[key] == pytest.approx(want[key], abs=0.5 * 10**-decimals + 1e-12)


async def find(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """Call the action and return its answer."""
    answer = await hass.services.async_call(
        DOMAIN, "find_window", data, blocking=True, return_response=True
    )
    assert answer is not None
    return dict(answer)


async def refused(hass: HomeAssistant, **data: Any) -> ServiceValidationError:
    """Call the action, which must refuse with a translated ServiceValidationError."""
    with pytest.raises(ServiceValidationError) as caught:
        await find(hass, **data)
    return caught.value


async def _sandbox_totals(sandbox: Sandbox) -> tuple[int, int]:
    return (
        (await sandbox_requests(sandbox, "octopus"))["total"],
        (await sandbox_requests(sandbox, "carbon_intensity"))["total"],
    )


# --- the planning module alone ------------------------------------------------------------


def test_partial_half_hours_are_weighted_by_time() -> None:
    """From 18:17, a 45-minute window over half-hours of 0.10, 0.40, 0.10: its averages count
    each half-hour for the minutes it covers; starts on edges or ending on them are tried."""
    base = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    prices = [
        Rate(base, base + SLOT, 0.10),
        Rate(base + SLOT, base + 2 * SLOT, 0.40),
        Rate(base + 2 * SLOT, base + 3 * SLOT, 0.10),
    ]
    windows = find_windows(
        objective=Objective.PRICE,
        duration=timedelta(minutes=45),
        earliest=base + timedelta(minutes=17),
        latest=None,
        prices=prices,
    )
    # 18:17-19:02: 13 min at 0.10, 30 at 0.40, 2 at 0.10; 18:45-19:30: 15 at 0.40, 30 at 0.10.
    assert [(w.start, w.end) for w in windows] == [
        (base + timedelta(minutes=45), base + timedelta(minutes=90)),
    ]
    assert windows[0].price == pytest.approx((15 * 0.40 + 30 * 0.10) / 45, abs=1e-15)
    # Only one: every other 45-minute window from 18:17 overlaps it.


def test_a_window_may_end_on_a_half_hour() -> None:
    """Half-hours of 0.20, 0.10, 0.50: the best 45 minutes are 18:15-19:00 (15 min at 0.20, 30
    at 0.10): it starts on no half-hour but ends on one. No other 45 minutes of the 90 with
    data fit beside it."""
    base = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    prices = [
        Rate(base + i * SLOT, base + (i + 1) * SLOT, value)
        for i, value in enumerate((0.20, 0.10, 0.50))
    ]
    windows = find_windows(
        objective=Objective.PRICE,
        duration=timedelta(minutes=45),
        earliest=base,
        latest=None,
        prices=prices,
    )
    assert [(w.start, w.end) for w in windows] == [
        (base + timedelta(minutes=15), base + timedelta(minutes=60)),
    ]
    assert windows[0].price == pytest.approx((15 * 0.20 + 30 * 0.10) / 45, abs=1e-15)


def test_gap_in_intensity_is_never_bridged() -> None:
    """A missing half-hour splits the forecast: no window spans it; the blend needs both."""
    base = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    points = [(base + i * SLOT, base + (i + 1) * SLOT, float(v)) for i, v in enumerate([50, 40])]
    points += [(base + 3 * SLOT, base + 4 * SLOT, 10.0), (base + 4 * SLOT, base + 5 * SLOT, 90.0)]
    prices = [Rate(base, base + 5 * SLOT, 0.2)]
    windows = find_windows(
        objective=Objective.BLEND,
        duration=timedelta(hours=1),
        earliest=base,
        latest=base + 5 * SLOT,
        prices=prices,
        intensities=points,
        carbon_price=100.0,
    )
    assert [(w.start, w.intensity) for w in windows] == [(base, 45.0), (base + 3 * SLOT, 50.0)]
    assert windows[0].score == pytest.approx(0.2 + 45 * 100 / 1e6, abs=1e-15)
    with pytest.raises(NoWindowData) as caught:
        find_windows(
            objective=Objective.CARBON,
            duration=timedelta(hours=2),
            earliest=base,
            latest=None,
            intensities=points,
        )
    assert caught.value.until == base + 5 * SLOT


# --- through Home Assistant, on sandbox data --------------------------------------------------


async def test_octopus_and_carbon_windows_before_a_deadline(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """At 18:17 on a November evening (tomorrow's Agile prices are out), each objective's
    three windows before 07:00 equal the independent search over the sandbox's prices and
    intensities; cost and CO2 of 7.5 kWh follow the averages; no request is made."""
    octopus = await setup_integration(hass, octopus_entry(days=1))
    carbon = await setup_integration(hass, national_entry())
    now = dt_util.utcnow()
    before = await _sandbox_totals(sandbox)
    earliest = now
    latest = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 07:00 GMT
    intensity = national_intensity(now, _floor_slot(now) + 96 * SLOT)

    answer = await find(
        hass,
        duration={"hours": 2},
        latest_end="07:00",
        objective="price",
        tariff_entry_id=octopus.entry_id,
        carbon_entry_id=carbon.entry_id,
        kwh=7.5,
    )
    expected = reference(
        earliest=earliest,
        latest=latest,
        duration=timedelta(hours=2),
        price=agile_price,
        intensity=intensity,
        objective="price",
    )
    assert answer["objective"] == "price"
    assert answer["duration_minutes"] == 120
    assert answer["currency"] == "GBP"
    assert_windows(answer["windows"], expected)
    assert len(answer["windows"]) == 3
    for window, want in zip(answer["windows"], expected, strict=True):
        # 7.5 kWh spread over the window: GBP to 4 decimals, kg to 3.
        assert window["cost"] == pytest.approx(7.5 * want["average_price"], abs=5e-5 + 1e-12)
        assert window["co2"] == pytest.approx(
            7.5 * want["average_intensity"] / 1000, abs=5e-4 + 1e-12
        )

    answer = await find(
        hass,
        duration={"minutes": 90},
        latest_end="2026-11-24 07:00:00",
        objective="carbon",
        carbon_entry_id=carbon.entry_id,
    )
    expected = reference(
        earliest=earliest,
        latest=latest,
        duration=timedelta(minutes=90),
        price=None,
        intensity=intensity,
        objective="carbon",
    )
    assert_windows(answer["windows"], expected)
    assert "cost" not in answer["windows"][0]

    answer = await find(
        hass,
        duration={"hours": 3, "minutes": 15},
        latest_end="07:00",
        objective="blend",
        carbon_price=250,
        tariff_entry_id=octopus.entry_id,
        carbon_entry_id=carbon.entry_id,
    )
    expected = reference(
        earliest=earliest,
        latest=latest,
        duration=timedelta(hours=3, minutes=15),
        price=agile_price,
        intensity=intensity,
        objective="blend",
        carbon_price=250,
    )
    assert_windows(answer["windows"], expected)
    for window, want in zip(answer["windows"], expected, strict=True):
        assert window["average_blended_price"] == pytest.approx(
            want["average_price"] + want["average_intensity"] * 250 / 1e6, abs=5e-7 + 1e-12
        )

    # The export meter's Flux prices (the same account), by MPAN: ending by 07:00 too.
    answer = await find(
        hass,
        duration={"hours": 1},
        latest_end="07:00",
        tariff_entry_id=octopus.entry_id,
        meter=sb_octopus.EXPORT_MPAN,
    )
    expected = reference(
        earliest=earliest,
        latest=latest,
        duration=timedelta(hours=1),
        price=flux_export_price,
        intensity=None,
        objective="price",
    )
    assert_windows(answer["windows"], expected)

    assert await _sandbox_totals(sandbox) == before


async def test_agile_before_tomorrows_prices_are_out(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """At 10:00 UK time Agile is held until 23:00 tonight: windows before 07:00 tomorrow end
    by 23:00; a window asked for tomorrow night is refused, saying until when prices exist."""
    freezer.move_to("2026-11-23T10:00:00+00:00")
    octopus = await setup_integration(hass, octopus_entry(days=1))
    before = await _sandbox_totals(sandbox)
    assert sb_octopus.agile_published_until(dt_util.utcnow()) == _utc("2026-11-23T23:00Z")

    answer = await find(
        hass,
        duration={"hours": 2},
        latest_end="07:00",
        tariff_entry_id=octopus.entry_id,
    )
    expected = reference(
        earliest=dt_util.utcnow(),
        latest=_utc("2026-11-24T07:00Z"),
        duration=timedelta(hours=2),
        price=agile_price,
        intensity=None,
        objective="price",
    )
    assert_windows(answer["windows"], expected)
    assert all(w["end"] <= "2026-11-23T23:00:00+00:00" for w in answer["windows"])

    err = await refused(
        hass,
        duration={"hours": 2},
        earliest_start="2026-11-24 00:00:00",
        latest_end="2026-11-24 07:00:00",
        tariff_entry_id=octopus.entry_id,
    )
    assert err.translation_key == "no_window_data"
    assert err.translation_placeholders == {
        "minutes": "120",
        "start": "2026-11-24 00:00 GMT",
        "end": "2026-11-24 07:00 GMT",
        "entries": sb_octopus.ACCOUNT_NUMBER,
        "until": "2026-11-23 23:00 GMT",
    }
    assert str(err) == (
        "No 120-minute window between 2026-11-24 00:00 GMT and 2026-11-24 07:00 GMT has data "
        f"yet: what {sb_octopus.ACCOUNT_NUMBER} hold reaches 2026-11-23 23:00 GMT. Octopus "
        "Agile prices for the next day come out around 16:00 UK time; the carbon forecast "
        "reaches 48 hours ahead"
    )
    assert await _sandbox_totals(sandbox) == before


async def test_windows_across_the_clock_change_and_a_forecast_gap(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """The night BST ends (25 October 2026), a typed-in tariff's 00:00-02:00 band lasts three
    hours: the best 3-hour window is all of it, from 00:00 BST to 02:00 GMT. With the national
    forecast missing 03:00-04:00 UTC (a sandbox gap), no carbon window spans that hour."""
    freezer.move_to("2026-10-24T20:00:00+00:00")
    gap = ("2026-10-25T03:00Z", "2026-10-25T04:00Z")
    assert (await sandbox.put(f"/_admin/carbon-intensity/gaps/{gap[0]}/{gap[1]}")).status == 200
    tariff = await setup_integration(
        hass, tariff_entry("00:00-02:00 0.10\n02:00-24:00 0.30", name="Night saver")
    )
    carbon = await setup_integration(hass, national_entry())
    before = await _sandbox_totals(sandbox)
    now = dt_util.utcnow()

    def band_price(when: datetime) -> float:
        return 0.10 if when.astimezone(UK).hour < 2 else 0.30

    answer = await find(
        hass,
        duration={"hours": 3},
        latest_end="2026-10-25 12:00:00",
        tariff_entry_id=tariff.entry_id,
        kwh=2,
    )
    assert [(w["start"], w["end"]) for w in answer["windows"]] == [
        ("2026-10-25T00:00:00+01:00", "2026-10-25T02:00:00+00:00"),
        ("2026-10-24T21:00:00+01:00", "2026-10-25T00:00:00+01:00"),
        ("2026-10-25T02:00:00+00:00", "2026-10-25T05:00:00+00:00"),
    ]
    assert [w["average_price"] for w in answer["windows"]] == [0.1, 0.3, 0.3]
    assert [w["cost"] for w in answer["windows"]] == [0.2, 0.6, 0.6]
    assert [w["co2"] for w in answer["windows"]] == [None, None, None]
    expected = reference(
        earliest=now,
        latest=_utc("2026-10-25T11:00Z"),
        duration=timedelta(hours=3),
        price=band_price,
        intensity=None,
        objective="price",
    )
    assert_windows(answer["windows"], expected)

    held = national_intensity(now, _floor_slot(now) + 96 * SLOT)

    def intensity(when: datetime) -> float | None:
        return None if _utc(gap[0]) <= when < _utc(gap[1]) else held(when)

    for objective, extra in (("carbon", {}), ("blend", {"carbon_price": 1000})):
        answer = await find(
            hass,
            duration={"minutes": 150},
            earliest_start="2026-10-25 00:30:00",
            latest_end="2026-10-25 09:00:00",
            objective=objective,
            tariff_entry_id=tariff.entry_id,
            carbon_entry_id=carbon.entry_id,
            **extra,
        )
        expected = reference(
            earliest=_utc("2026-10-24T23:30Z"),
            latest=_utc("2026-10-25T09:00Z"),
            duration=timedelta(minutes=150),
            price=band_price,
            intensity=intensity,
            objective=objective,
            carbon_price=float(extra.get("carbon_price", 0)),
        )
        assert_windows(answer["windows"], expected)
        for window in answer["windows"]:
            start, end = _utc(window["start"]), _utc(window["end"])
            assert end <= _utc(gap[0]) or start >= _utc(gap[1])
    assert await _sandbox_totals(sandbox) == before


async def test_refusals_are_translated(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """Each mistake is a ServiceValidationError with its translated text, before any data are
    read: durations out of range, a window longer than its span, an objective without the entry
    it needs, the wrong kind of entry, an unknown meter, an unknown or unloaded entry, and no
    data held at all."""
    freezer.move_to("2026-11-23T18:17:00+00:00")
    tariff = await setup_integration(hass, tariff_entry("00:00-24:00 0.25"))
    carbon = await setup_integration(hass, national_entry())
    octopus = await setup_integration(hass, octopus_entry(days=1))
    before = await _sandbox_totals(sandbox)
    base = {"tariff_entry_id": tariff.entry_id}

    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"duration": {"minutes": 10}, **base},
            "invalid_window_duration",
            "A window lasts 15 minutes to 12 hours, not 10 minutes.",
        ),
        (
            {"duration": {"hours": 12, "minutes": 30}, **base},
            "invalid_window_duration",
            "A window lasts 15 minutes to 12 hours, not 750 minutes.",
        ),
        (
            {"duration": {"hours": 3}, "latest_end": "20:00", **base},
            "window_too_long",
            "A 180-minute window does not fit between 2026-11-23 18:17 GMT and "
            "2026-11-23 20:00 GMT.",
        ),
        (
            {"duration": {"hours": 1}},
            "window_needs_tariff",
            "The objective price needs a tariff: choose an Octopus Energy or typed-in tariff "
            "entry.",
        ),
        (
            {"duration": {"hours": 1}, "objective": "blend", "carbon_price": 50, **base},
            "window_needs_carbon",
            "The objective blend needs a Carbon Intensity entry.",
        ),
        (
            {
                "duration": {"hours": 1},
                "objective": "blend",
                "carbon_entry_id": carbon.entry_id,
                **base,
            },
            "window_needs_carbon_price",
            "The blend objective needs a carbon price (per tonne of CO2).",
        ),
        (
            {"duration": {"hours": 1}, "tariff_entry_id": carbon.entry_id},
            "not_a_tariff_entry",
            "Great Britain holds no tariff rates: choose an Octopus Energy or typed-in tariff "
            "entry.",
        ),
        (
            {"duration": {"hours": 1}, "objective": "carbon", "carbon_entry_id": tariff.entry_id},
            "not_a_carbon_entry",
            "Flux import is not a Carbon Intensity entry.",
        ),
        (
            {"duration": {"hours": 1}, "tariff_entry_id": octopus.entry_id, "meter": "gas"},
            "unknown_meter",
            f"{sb_octopus.ACCOUNT_NUMBER} has no electricity meter gas: use import, export or "
            "the meter's MPAN.",
        ),
        (
            {
                "duration": {"hours": 1},
                "objective": "carbon",
                "carbon_entry_id": carbon.entry_id,
                "earliest_start": "2026-11-26 00:00:00",
                "latest_end": "2026-11-26 06:00:00",
            },
            "no_window_data",
            "No 60-minute window between 2026-11-26 00:00 GMT and 2026-11-26 06:00 GMT has "
            "data yet: what Great Britain hold reaches 2026-11-25 18:00 GMT. Octopus Agile "
            "prices for the next day come out around 16:00 UK time; the carbon forecast "
            "reaches 48 hours ahead.",
        ),
    ]
    for data, key, text in cases:
        err = await refused(hass, **data)
        assert (err.translation_domain, err.translation_key) == (DOMAIN, key), data
        assert str(err) == text.removesuffix(".")  # Home Assistant drops the final stop

    err = await refused(hass, duration={"hours": 1}, tariff_entry_id="no-such-entry")
    assert err.translation_key == "service_config_entry_not_found"
    assert await hass.config_entries.async_unload(tariff.entry_id)
    err = await refused(hass, duration={"hours": 1}, **base)
    assert err.translation_key == "service_config_entry_not_loaded"
    assert await _sandbox_totals(sandbox) == before


async def test_no_data_held_at_all(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """An Octopus export meter whose tariff Octopus does not publish holds no rates: the
    action says so instead of answering nothing."""
    await sandbox.put(
        f"/_admin/octopus/unpublished-tariffs/{sb_octopus.tariff_code('FLUX-EXPORT-23-02-14')}"
    )
    octopus = await setup_integration(hass, octopus_entry(days=1))
    err = await refused(
        hass, duration={"hours": 1}, tariff_entry_id=octopus.entry_id, meter="export"
    )
    assert err.translation_key == "no_window_data_held"
    assert str(err) == (
        f"{sb_octopus.ACCOUNT_NUMBER} hold no data from now to 2026-11-25 18:17 GMT, so no "
        "60-minute window can be found"
    )
