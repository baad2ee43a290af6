"""Typed-in tariff bands and the shared rate readings, as pure functions."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_hub.sources.base import FlowError
from custom_components.energy_hub.sources.rates import (
    Rate,
    local_day,
    next_change,
    rate_readings,
    runs,
)
from custom_components.energy_hub.sources.tariff import Band, parse_bands, period_for, tariff_rates

LONDON = ZoneInfo("Europe/London")
FLUX = """
# Octopus Flux import, as typed from a config file
00:00-02:00 0.3072
02:00-05:00 0.18432
05:00-16:00 0.3072
16:00-19:00 0.43008
19:00-24:00 0.3072
"""


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_parse_flux() -> None:
    """Five bands, sorted, one undated period."""
    (period,) = parse_bands(FLUX)
    assert (period.valid_from, period.valid_until) == (None, None)
    assert period.bands == (
        Band(0, 120, 0.3072),
        Band(120, 300, 0.18432),
        Band(300, 960, 0.3072),
        Band(960, 1140, 0.43008),
        Band(1140, 1440, 0.3072),
    )


def test_parse_periods_and_midnight_crossing() -> None:
    """A tariff change is a ``from`` period; a band may cross midnight; separators vary."""
    periods = parse_bands(
        "00:30-07:30 0.09\n07:30 - 00:30 = 0.28\n\nfrom 2026-04-01 until 2026-09-30\n"
        "23:30-06:30: 0.08\n06:30-23:30 0.27\nfrom 2026-10-01\n00:00-24:00 -0.01\n"
    )
    assert len(periods) == 3
    assert periods[1].valid_from == date(2026, 4, 1)
    assert periods[1].bands == (Band(0, 390, 0.08), Band(390, 1410, 0.27), Band(1410, 1440, 0.08))
    assert periods[2].bands == (Band(0, 1440, -0.01),)
    assert period_for(periods, date(2026, 3, 31)) is periods[0]
    assert period_for(periods, date(2026, 4, 1)) is periods[1]
    assert period_for(periods, date(2026, 9, 30)) is periods[1]
    assert period_for(periods, date(2027, 1, 1)) is periods[2]
    dated_only = parse_bands("from 2026-04-01\n00:00-24:00 0.2\n")
    assert period_for(dated_only, date(2026, 3, 31)) is None


@pytest.mark.parametrize(
    ("text", "error", "placeholders"),
    [
        ("", "no_bands", {}),
        ("# nothing\n", "no_bands", {}),
        ("00:00-12:00 0.1\nbananas\n", "invalid_band", {"line": "2", "text": "bananas"}),
        ("00:00-25:00 0.1", "invalid_time", {"line": "1", "text": "25:00"}),
        ("00:00-12:61 0.1", "invalid_time", {"line": "1", "text": "12:61"}),
        ("0000-24:00 0.1", "invalid_time", {"line": "1", "text": "0000"}),
        ("00:00-24:00 cheap", "invalid_rate", {"line": "1", "text": "cheap"}),
        ("00:00-13:00 0.1\n12:00-24:00 0.2", "bands_overlap", {"line": "2"}),
        ("00:00-12:00 0.1\n13:00-24:00 0.2", "bands_gap", {"start": "12:00", "end": "13:00"}),
        ("00:00-12:00 0.1", "bands_gap", {"start": "12:00", "end": "24:00"}),
        ("from 2026-13-01\n00:00-24:00 0.1", "invalid_date", {"line": "1", "text": "2026-13-01"}),
        (
            "from 2026-05-01 until 2026-04-01\n00:00-24:00 0.1",
            "invalid_date",
            {"line": "1", "text": "from 2026-05-01 until 2026-04-01"},
        ),
        (
            "from 2026-01-01 until 2026-06-30\n00:00-24:00 0.1\nfrom 2026-06-01\n00:00-24:00 0.2",
            "periods_overlap",
            {},
        ),
        ("from 2026-01-01\n", "no_bands", {}),
    ],
)
def test_parse_errors(text: str, error: str, placeholders: dict[str, str]) -> None:
    """Each problem is its own error, with the line or times it is about."""
    with pytest.raises(FlowError) as caught:
        parse_bands(text)
    assert (caught.value.error, caught.value.field, caught.value.placeholders) == (
        error,
        "bands",
        placeholders,
    )


def test_rates_on_an_ordinary_day() -> None:
    """A winter day: local time is UTC."""
    rates = tariff_rates(
        parse_bands(FLUX), _utc("2026-01-15T00:00+00:00"), _utc("2026-01-16T00:00+00:00"), LONDON
    )
    assert rates[1] == Rate(_utc("2026-01-15T02:00+00:00"), _utc("2026-01-15T05:00+00:00"), 0.18432)
    assert len(rates) == 5


def test_rates_on_clock_change_days() -> None:
    """Bands follow the wall clock: 23 h and 25 h days, the 00:00-02:00 band 1 h or 3 h long."""
    flux = parse_bands(FLUX)
    spring = tariff_rates(
        flux, _utc("2026-03-29T00:00+00:00"), _utc("2026-03-29T12:00+00:00"), LONDON
    )
    assert spring[0] == Rate(_utc("2026-03-29T00:00+00:00"), _utc("2026-03-29T01:00+00:00"), 0.3072)
    assert spring[1] == Rate(
        _utc("2026-03-29T01:00+00:00"), _utc("2026-03-29T04:00+00:00"), 0.18432
    )
    assert spring[-1].end == _utc("2026-03-29T23:00+00:00")  # midnight BST
    assert sum((r.end - r.start for r in spring), timedelta()) == timedelta(hours=23)
    autumn = tariff_rates(
        flux, _utc("2026-10-25T00:00+01:00"), _utc("2026-10-25T12:00+00:00"), LONDON
    )
    assert autumn[0] == Rate(_utc("2026-10-24T23:00+00:00"), _utc("2026-10-25T02:00+00:00"), 0.3072)
    assert sum((r.end - r.start for r in autumn), timedelta()) == timedelta(hours=25)


def test_local_day_lengths() -> None:
    """Local days are 23, 24 or 25 hours."""
    start, end = local_day(_utc("2026-03-29T12:00+00:00"), LONDON)
    assert end - start == timedelta(hours=23)
    start, end = local_day(_utc("2026-10-25T12:00+00:00"), LONDON)
    assert end - start == timedelta(hours=25)


def test_runs_merge_equal_neighbours() -> None:
    """Equal adjacent rates are one rate; a gap splits them."""
    t = _utc("2026-01-15T00:00+00:00")
    half = timedelta(minutes=30)
    rates = [
        Rate(t, t + half, 1.0),
        Rate(t + half, t + 2 * half, 1.0),
        Rate(t + 3 * half, t + 4 * half, 1.0),
    ]
    assert runs(rates) == [Rate(t, t + 2 * half, 1.0), Rate(t + 3 * half, t + 4 * half, 1.0)]


def _values(now: str, full: bool = True) -> dict[str, object]:
    flux = parse_bands(FLUX)
    at = _utc(now)
    rates = tariff_rates(flux, at - timedelta(days=2), at + timedelta(days=2), LONDON)
    return {
        r.metric: r.value
        for r in rate_readings(rates, at, LONDON, device="t", unit="GBP/kWh", full=full)
    }


def test_rate_readings_at_band_edges() -> None:
    """At 16:00 exactly the peak starts; one tick before, the day rate still applies."""
    before = _values("2026-01-15T15:59:59+00:00")
    assert before["rate_current"] == 0.3072
    assert before["rate_next"] == 0.43008
    assert before["rate_next_start"] == _utc("2026-01-15T16:00+00:00")
    assert before["rate_previous"] == 0.18432
    assert before["cheapest_rate_now"] is False
    at = _values("2026-01-15T16:00:00+00:00")
    assert at["rate_current"] == 0.43008
    assert at["rate_next"] == 0.3072
    assert at["rate_next_start"] == _utc("2026-01-15T19:00+00:00")
    assert at["rate_previous"] == 0.3072
    assert (at["rate_min_today"], at["rate_max_today"]) == (0.18432, 0.43008)
    # (18 h * 0.3072 + 3 h * 0.18432 + 3 h * 0.43008) / 24 h: the cheap and peak hours cancel.
    assert at["rate_average_today"] == pytest.approx(0.3072, abs=1e-9)


def test_rate_readings_across_midnight() -> None:
    """19:00-24:00 and 00:00-02:00 share a price: one rate across midnight."""
    late = _values("2026-01-15T23:59:00+00:00", full=False)
    assert late["rate_current"] == 0.3072
    assert late["rate_next"] == 0.18432
    assert late["rate_next_start"] == _utc("2026-01-16T02:00+00:00")
    assert "rate_previous" not in late
    cheap = _values("2026-01-16T03:00:00+00:00")
    assert cheap["cheapest_rate_now"] is True


def test_next_change_and_no_rates() -> None:
    """The next edge after now; nothing known means no values."""
    flux = parse_bands(FLUX)
    now = _utc("2026-01-15T17:10+00:00")
    rates = tariff_rates(flux, now - timedelta(days=1), now + timedelta(days=1), LONDON)
    assert next_change(rates, now) == _utc("2026-01-15T19:00+00:00")
    empty = {r.metric: r.value for r in rate_readings([], now, LONDON, device="t", unit="GBP/kWh")}
    assert set(empty.values()) == {None}
