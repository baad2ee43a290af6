"""Time-of-use rates as readings: one piece for every tariff source (typed-in, Octopus...).

Rates are intervals of a price per kWh. Adjacent intervals with the same price form one
*run*: the current, previous and next rate are runs, so a flat night rate split into
half-hours is still one rate.
"""

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
import re
from typing import Any

from homeassistant.util import slugify

from .base import FlowError, Reading

HALF_HOUR = timedelta(minutes=30)


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


def half_hours(rates: Sequence[Rate]) -> list[Rate]:
    """The rates cut at every half hour (UTC :00 and :30), as half-hourly tariffs publish
    them: optimisers (Predbat, EMHASS) read one price per half hour."""
    out: list[Rate] = []
    for rate in rates:
        start = rate.start
        while start < rate.end:
            boundary = start.astimezone(UTC).replace(second=0, microsecond=0)
            boundary = boundary.replace(minute=30 if boundary.minute < 30 else 0)
            if boundary <= start:
                boundary += timedelta(hours=1)
            end = min(boundary, rate.end)
            out.append(Rate(start, end, rate.value))
            start = end
    return out


def public_rates(rates: Sequence[Rate], tz: tzinfo) -> list[dict[str, Any]]:
    """Rates as the Octopus Energy integration shows them, which Predbat and EMHASS read: one
    item per half hour, ``start`` and ``end`` in local ISO time with the offset,
    ``value_inc_vat`` the price per kWh in the currency (pounds, not pence)."""
    return [
        {
            "start": r.start.astimezone(tz).isoformat(),
            "end": r.end.astimezone(tz).isoformat(),
            "value_inc_vat": r.value,
        }
        for r in half_hours(rates)
    ]


def day_rate_readings(
    rates: Sequence[Rate],
    now: datetime,
    tz: tzinfo,
    *,
    device: str,
    event_kind: str,
    tariff_code: str | None,
) -> list[Reading]:
    """Yesterday's, today's and tomorrow's rates as day-rate events (``<event_kind>_<day>_
    day_rates``, the Octopus Energy integration's event types for its meters); a day whose
    rates are not held has none (the entity is unavailable)."""
    today = local_day(now, tz)
    days = {
        "previous": local_day(today[0] - timedelta(hours=1), tz),
        "current": today,
        "next": local_day(today[1], tz),
    }
    out: list[Reading] = []
    for day, (start, end) in days.items():
        held = _day_rates(rates, start, end)
        out.append(
            Reading(
                metric=f"{day}_day_rates",
                device=device,
                value=f"{event_kind}_{day}_day_rates" if held else None,
                attributes={"rates": public_rates(held, tz), "tariff_code": tariff_code},
            )
        )
    return out


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
    export: bool = False,
) -> list[Reading]:
    """Readings of a device's rates at ``now``.

    Always: current rate (attributes: today's and tomorrow's rates, also as ``rates``, the
    optimisers' shape), next rate and its start, and whether now is in the cheapest rate of
    the local day (``export``: in the highest, the best time to export). With ``full``:
    previous rate and today's minimum, maximum and time-weighted average.
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
    best = max((r.value for r in today), default=None) if export else cheapest
    value = current.value if current else None
    out = [
        Reading(
            metric="rate_current",
            device=device,
            value=value,
            unit=unit,
            attributes={
                "rates_today": _table(today),
                "rates_tomorrow": _table(tomorrow),
                "rates": public_rates([*today, *tomorrow], tz),
            },
        ),
        Reading(metric="rate_next", device=device, value=after.value if after else None, unit=unit),
        Reading(metric="rate_next_start", device=device, value=after.start if after else None),
        Reading(
            metric="highest_rate_now" if export else "cheapest_rate_now",
            device=device,
            value=(value == best) if value is not None and best is not None else None,
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


# --- standing windows ----------------------------------------------------------------------
#: The windows field of a tariff's options: one window per line.
CONF_WINDOWS = "windows"
MIN_WINDOW = timedelta(minutes=15)
MAX_WINDOW = timedelta(hours=12)
DAY_MINUTES = 24 * 60

_WINDOW = re.compile(
    r"^(?P<name>.+?)[\s,]+(?P<duration>\d[\d.]*\s*[hm][a-z]*(?:\s*\d+\s*m[a-z]*)?)[\s,]+"
    r"(?:(?:before|by)\s+(?P<before>\S+)|(?P<start>[^\s-]+)\s*-\s*(?P<end>\S+))$",
    re.IGNORECASE,
)
_DURATION = re.compile(
    r"^(?:(?P<hours>\d+(?:\.\d+)?)\s*h(?:ours?|rs?)?)?\s*"
    r"(?:(?P<minutes>\d+)\s*m(?:in(?:utes?|s)?)?)?$",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A standing window: ``duration`` within a daily period of local time, from ``start`` to
    ``end`` minutes after midnight (``end <= start``: the period crosses midnight; equal: the
    24 hours before ``end``)."""

    name: str
    duration: timedelta
    start: int
    end: int

    @property
    def slug(self) -> str:
        """The window's part of its entities' unique ids."""
        return slugify(self.name)


def _clock(text: str, line: int, field: str) -> int:
    match = _CLOCK.match(text)
    minutes = int(match[1]) * 60 + int(match[2]) if match else -1
    if not match or int(match[2]) > 59 or not 0 <= minutes <= DAY_MINUTES:
        raise FlowError("invalid_window_time", field, {"line": str(line), "text": text})
    return minutes


def _duration(text: str, line: int, field: str) -> timedelta:
    match = _DURATION.match(text.strip())
    hours = float(match["hours"] or 0) if match and (match["hours"] or match["minutes"]) else 0
    minutes = hours * 60 + int(match["minutes"] or 0) if match else 0
    duration = timedelta(minutes=minutes)
    if not match or minutes != int(minutes) or not MIN_WINDOW <= duration <= MAX_WINDOW:
        raise FlowError("invalid_window_length", field, {"line": str(line), "text": text})
    return duration


def parse_windows(text: str, field: str = CONF_WINDOWS) -> tuple[WindowSpec, ...]:
    """Parse a windows text, one window per line: a name, a length (``2h``, ``90m``,
    ``1h30m``) and when: ``before HH:MM`` (the 24 hours up to then) or ``HH:MM-HH:MM`` (may
    cross midnight). Blank lines and ``#`` comments are ignored. Raises FlowError (on
    ``field``) naming the line at fault."""
    windows: list[WindowSpec] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _WINDOW.match(line)
        name = match["name"].strip(" ,") if match else ""
        if not match or not slugify(name):
            raise FlowError("invalid_window", field, {"line": str(number), "text": raw.strip()})
        duration = _duration(match["duration"], number, field)
        if match["before"] is not None:
            start = end = _clock(match["before"], number, field) % DAY_MINUTES
        else:
            start = _clock(match["start"], number, field) % DAY_MINUTES
            end = _clock(match["end"], number, field) % DAY_MINUTES
        span = (end - start) % DAY_MINUTES or DAY_MINUTES
        if duration > timedelta(minutes=span):
            raise FlowError("window_too_long", field, {"line": str(number), "text": line})
        spec = WindowSpec(name, duration, start, end)
        if any(other.slug == spec.slug for other in windows):
            raise FlowError("window_name_twice", field, {"line": str(number), "text": name})
        windows.append(spec)
    return tuple(windows)


def _wall(day: date, minutes: int, tz: tzinfo) -> datetime:
    """``minutes`` after local midnight of ``day``, wall-clock (a clock change day keeps
    07:00 at 07:00), in UTC."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    return (midnight + timedelta(minutes=minutes)).astimezone(UTC)


def window_periods(spec: WindowSpec, now: datetime, tz: tzinfo) -> list[tuple[datetime, datetime]]:
    """The window's period running at ``now`` (if any) and the next: (start, end) in UTC."""
    local = now.astimezone(tz)
    first = local.date() - timedelta(days=1)
    periods: list[tuple[datetime, datetime]] = []
    for offset in range(4):
        day = first + timedelta(days=offset)
        start = _wall(day, spec.start, tz)
        crosses = spec.end <= spec.start
        end = _wall(day + timedelta(days=1) if crosses else day, spec.end, tz)
        if end > now:
            periods.append((start, end))
    return periods[:2]


@dataclass(frozen=True, slots=True)
class BestWindow:
    """A standing window's best run: ``price`` its time-weighted average per kWh;
    ``period_end`` the end of the period it was chosen in."""

    start: datetime
    end: datetime
    price: float
    period_end: datetime


@dataclass(slots=True)
class WindowState:
    """What a source remembers of one standing window: the run shown, and the end of the
    last period whose run has passed (each period has one run)."""

    shown: BestWindow | None = None
    ran_until: datetime | None = None


def best_window(
    spec: WindowSpec,
    rates_between: Callable[[datetime, datetime], Sequence[Rate] | None],
    now: datetime,
    tz: tzinfo,
    *,
    export: bool = False,
    state: WindowState | None = None,
) -> BestWindow | None:
    """The best run of ``spec`` from held rates, the cheapest (``export``: the dearest): in
    the rest of the period running now (from now to its end), or, once that period's run has
    passed (or too little of it is left), in the next period. A run that has started is kept
    to its end, whatever rates arrive meanwhile. None when no rates are held for it.

    ``state`` (updated) carries the run shown and the periods whose run has passed.
    """
    from ..planning import (  # noqa: PLC0415  (planning imports this module)
        NoWindowData,
        Objective,
        find_windows,
    )

    state = state if state is not None else WindowState()
    shown = state.shown
    if shown is not None and shown.start <= now < shown.end:
        return shown
    if shown is not None and shown.end <= now:
        state.ran_until = max(state.ran_until or shown.period_end, shown.period_end)
    sign = -1.0 if export else 1.0
    state.shown = None
    for start, end in window_periods(spec, now, tz):
        if state.ran_until is not None and end <= state.ran_until:
            continue  # this period's run has passed
        earliest = max(start, now.replace(second=0, microsecond=0))
        if end - earliest < spec.duration:
            continue
        held = rates_between(earliest, end) or []
        prices = [Rate(r.start, r.end, sign * r.value) for r in held]
        try:
            found = find_windows(
                objective=Objective.PRICE,
                duration=spec.duration,
                earliest=earliest,
                latest=end,
                prices=prices,
                count=1,
            )
        except NoWindowData:
            continue
        if found and (price := found[0].price) is not None:
            best = found[0]
            state.shown = BestWindow(best.start, best.end, round(sign * price, 6), end)
            return state.shown
    return None


def window_readings(
    specs: Sequence[WindowSpec],
    rates_between: Callable[[datetime, datetime], Sequence[Rate] | None],
    now: datetime,
    tz: tzinfo,
    *,
    device: str,
    unit: str,
    export: bool,
    states: MutableMapping[str, WindowState],
) -> list[Reading]:
    """Start, end and average price of each standing window's best run, and whether it runs
    now; ``states`` (per device and window) remember runs shown and passed."""
    out: list[Reading] = []
    for spec in specs:
        state = states.setdefault(f"{device}:{spec.slug}", WindowState())
        window = best_window(spec, rates_between, now, tz, export=export, state=state)
        common: Mapping[str, Any] = {"device": device, "variant": spec.slug, "label": spec.name}
        out += [
            Reading(metric="window_start", value=window.start if window else None, **common),
            Reading(metric="window_end", value=window.end if window else None, **common),
            Reading(
                metric="window_price",
                value=window.price if window else None,
                unit=unit,
                **common,
            ),
            Reading(
                metric="window_active",
                value=window.start <= now < window.end if window else None,
                **common,
            ),
        ]
    return out


def window_edges(states: Mapping[str, WindowState], now: datetime) -> list[datetime]:
    """When shown runs start or end after ``now`` (their readings change then)."""
    return [
        edge
        for state in states.values()
        if state.shown is not None
        for edge in (state.shown.start, state.shown.end)
        if edge > now
    ]


def persist_windows(states: Mapping[str, WindowState]) -> dict[str, Any]:
    """The standing windows' state as JSON (kept across restarts: a run that has passed is
    not shown again in its period, a running one is kept)."""
    out: dict[str, Any] = {}
    for key, state in states.items():
        shown = state.shown
        out[key] = {
            "ran_until": state.ran_until.isoformat() if state.ran_until else None,
            "shown": [
                shown.start.isoformat(),
                shown.end.isoformat(),
                shown.price,
                shown.period_end.isoformat(),
            ]
            if shown
            else None,
        }
    return out


def restore_windows(stored: Any) -> dict[str, WindowState]:
    """What :func:`persist_windows` kept; anything odd is left out."""
    states: dict[str, WindowState] = {}
    if not isinstance(stored, Mapping):
        return states
    for key, item in stored.items():
        try:
            ran = item.get("ran_until")
            shown = item.get("shown")
            states[str(key)] = WindowState(
                shown=BestWindow(
                    datetime.fromisoformat(shown[0]),
                    datetime.fromisoformat(shown[1]),
                    float(shown[2]),
                    datetime.fromisoformat(shown[3]),
                )
                if shown
                else None,
                ran_until=datetime.fromisoformat(ran) if ran else None,
            )
        except AttributeError, IndexError, TypeError, ValueError:
            continue
    return states
