"""Time-of-use rates as readings: one piece for every tariff source (typed-in, Octopus...).

Rates are intervals of a price per kWh. Adjacent intervals with the same price form one
*run*: the current, previous and next rate are runs, so a flat night rate split into
half-hours is still one rate.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from .base import Reading


@dataclass(frozen=True, slots=True)
class Rate:
    """A price per kWh from ``start`` (inclusive) to ``end`` (exclusive)."""

    start: datetime
    end: datetime
    value: float


def runs(rates: Sequence[Rate]) -> list[Rate]:
    """Merge adjacent, equal-priced rates (rates must be sorted and not overlap)."""
    merged: list[Rate] = []
    for rate in rates:
        last = merged[-1] if merged else None
        if last and last.end == rate.start and last.value == rate.value:
            merged[-1] = Rate(last.start, rate.end, last.value)
        else:
            merged.append(rate)
    return merged


def local_day(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the local day containing ``now``: 23, 24 or 25 hours long.

    UTC, because Python subtracts two times of one ZoneInfo as wall-clock times.
    """
    local = now.astimezone(tz)
    start = datetime(local.year, local.month, local.day, tzinfo=tz)
    following = start + timedelta(days=1, hours=3)
    end = datetime(following.year, following.month, following.day, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _day_rates(rates: Sequence[Rate], start: datetime, end: datetime) -> list[Rate]:
    return [
        Rate(max(r.start, start), min(r.end, end), r.value)
        for r in rates
        if r.end > start and r.start < end
    ]


def _table(rates: Sequence[Rate]) -> list[dict[str, Any]]:
    return [
        {"start": r.start.isoformat(), "end": r.end.isoformat(), "value": r.value} for r in rates
    ]


def next_change(rates: Sequence[Rate], now: datetime) -> datetime | None:
    """The next instant a rate begins or ends after ``now``."""
    edges = (edge for rate in rates for edge in (rate.start, rate.end) if edge > now)
    return min(edges, default=None)


def rate_readings(
    rates: Sequence[Rate],
    now: datetime,
    tz: tzinfo,
    *,
    device: str,
    unit: str,
    full: bool = True,
) -> list[Reading]:
    """Readings of a device's rates at ``now``.

    Always: current rate (attributes: today's and tomorrow's rates), next rate and its start,
    and whether now is in the cheapest rate of the local day. With ``full``: previous rate and
    today's minimum, maximum and time-weighted average.
    """
    merged = runs(sorted(rates, key=lambda r: r.start))
    index = next((i for i, r in enumerate(merged) if r.start <= now < r.end), None)
    current = merged[index] if index is not None else None
    after = merged[index + 1] if index is not None and index + 1 < len(merged) else None
    if index is None:
        after = next((r for r in merged if r.start > now), None)
    before = merged[index - 1] if index else None
    if before is not None and current is not None and before.end != current.start:
        before = None
    day_start, day_end = local_day(now, tz)
    today = _day_rates(rates, day_start, day_end)
    tomorrow_end = local_day(day_end, tz)[1]
    tomorrow = _day_rates(rates, day_end, tomorrow_end)
    cheapest = min((r.value for r in today), default=None)
    value = current.value if current else None
    out = [
        Reading(
            metric="rate_current",
            device=device,
            value=value,
            unit=unit,
            attributes={"rates_today": _table(today), "rates_tomorrow": _table(tomorrow)},
        ),
        Reading(metric="rate_next", device=device, value=after.value if after else None, unit=unit),
        Reading(metric="rate_next_start", device=device, value=after.start if after else None),
        Reading(
            metric="cheapest_rate_now",
            device=device,
            value=(value == cheapest) if value is not None and cheapest is not None else None,
        ),
    ]
    if full:
        covered = sum((r.end - r.start).total_seconds() for r in today)
        average = (
            sum(r.value * (r.end - r.start).total_seconds() for r in today) / covered
            if covered
            else None
        )
        out += [
            Reading(
                metric="rate_previous",
                device=device,
                value=before.value if before else None,
                unit=unit,
            ),
            Reading(metric="rate_min_today", device=device, value=cheapest, unit=unit),
            Reading(
                metric="rate_max_today",
                device=device,
                value=max((r.value for r in today), default=None),
                unit=unit,
            ),
            Reading(
                metric="rate_average_today",
                device=device,
                value=round(average, 6) if average is not None else None,
                unit=unit,
            ),
        ]
    return out
