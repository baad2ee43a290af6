"""Helpers shared by every vendor emulation: clocks, half-hour slot maths, JSON, noise.

Nothing in here knows about a particular vendor. All times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
import hashlib
from http import HTTPStatus
import json
import math
from typing import Any, Final

from aiohttp import web

type Clock = Callable[[], datetime]
"""Returns the sandbox's idea of "now" as an aware datetime (converted to UTC on use)."""

type JSONObject = dict[str, Any]

SLOT: Final = timedelta(minutes=30)
SLOT_SECONDS: Final = 1800
SLOTS_PER_DAY: Final = 48


def utc_now() -> datetime:
    """The real clock, the default for `create_app`."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Convert an aware datetime to UTC; refuse naive ones (they hide timezone bugs)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: the sandbox clock must be timezone-aware")
    return moment.astimezone(UTC)


class ManualClock:
    """A clock for tests: frozen at a given instant until `set` or `advance` moves it."""

    def __init__(self, now: datetime) -> None:
        self._now = as_utc(now)

    def __call__(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = as_utc(now)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


# --- half-hour slots -------------------------------------------------------------------------


def floor_slot(moment: datetime, slot: timedelta = SLOT) -> datetime:
    """Start of the slot (aligned to the Unix epoch, so to :00/:30 for half hours) containing
    `moment`."""
    moment = as_utc(moment)
    seconds = int(slot.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def slot_starts(first: datetime, count: int, slot: timedelta = SLOT) -> Iterator[datetime]:
    """`count` consecutive slot starts from the slot containing `first`."""
    start = floor_slot(first, slot)
    for index in range(count):
        yield start + index * slot


def slot_starts_between(
    start: datetime, end: datetime, slot: timedelta = SLOT
) -> Iterator[datetime]:
    """Starts of the slots from the one containing `start` up to those beginning before `end`."""
    current = floor_slot(start, slot)
    while current < end:
        yield current
        current += slot


def format_minute(moment: datetime) -> str:
    """`2026-11-23T18:00Z`: UTC with minute precision, as GB grid APIs print times."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%MZ")


def parse_timestamp(text: str) -> datetime | None:
    """Parse a timestamp from a URL leniently; None if it is not one.

    Accepts `2026-11-23T18:00Z`, `2026-11-23T18:00:00Z`, `2026-11-23T18:17Z`, offsets such as
    `+01:00` (converted to UTC), a bare date (midnight) and no zone at all (taken as UTC).
    """
    text = text.strip()
    if not text or len(text) > 40:
        return None
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(text: str) -> date | None:
    """`YYYY-MM-DD` or None."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def uk_utc_offset_hours(moment: datetime) -> int:
    """1 during British Summer Time (last Sunday of March 01:00 UTC to last Sunday of October
    01:00 UTC), else 0. Computed, so it needs no tz database."""
    moment = as_utc(moment)

    def last_sunday_0100(year: int, month: int) -> datetime:
        last_day = datetime(year, month + 1, 1, 1, tzinfo=UTC) - timedelta(days=1)
        return last_day - timedelta(days=(last_day.weekday() + 1) % 7)

    start = last_sunday_0100(moment.year, 3)
    end = last_sunday_0100(moment.year, 10)
    return 1 if start <= moment < end else 0


# --- deterministic "noise" -------------------------------------------------------------------


def noise(*parts: object) -> float:
    """A stable pseudo-random number in [-1, 1) derived only from `parts` (never `hash()`, which
    is salted per process). A date or time reads the same under a frozen test clock, whose
    classes (``FakeDate``, ``HAFakeDatetime``) would otherwise change the text and the data."""
    text = repr(parts).replace("HAFakeDate", "FakeDate").replace("FakeDate", "datetime.date")
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**63 - 1.0


def waves(x: float, terms: tuple[tuple[float, float, float], ...]) -> float:
    """Sum of `amplitude * sin(2*pi*x/period + phase)` for (amplitude, period, phase) terms."""
    return sum(amp * math.sin(2 * math.pi * x / period + phase) for amp, period, phase in terms)


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def round_shares(raw: dict[str, float], decimals: int = 1) -> dict[str, float]:
    """Percentages of `raw` rounded to `decimals` that sum exactly to 100 (in units of the last
    decimal); the rounding error goes to the largest share. Whole values come back as floats."""
    scale = 10**decimals
    total = sum(raw.values())
    if total <= 0:
        raise ValueError("shares must have a positive total")
    units = {key: round(value / total * 100 * scale) for key, value in raw.items()}
    largest = max(units, key=lambda key: units[key])
    units[largest] += 100 * scale - sum(units.values())
    return {key: value / scale for key, value in units.items()}


# --- JSON responses --------------------------------------------------------------------------


def dumps(payload: Any) -> str:
    """Compact, deterministic JSON (same payload -> same bytes)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compact_number(value: float) -> int | float:
    """`0.0` -> `0`, `43.6` -> `43.6`: some vendors print whole numbers without a decimal."""
    return int(value) if value.is_integer() else value


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=dumps(payload), status=status, content_type="application/json", headers=headers
    )


def empty_json_response(status: int = 200) -> web.Response:
    """A JSON response with an empty body (what some vendors send for "no data")."""
    return web.Response(body=b"", status=status, content_type="application/json")


def status_line(status: int) -> str:
    """`400 Bad Request`."""
    return f"{status} {HTTPStatus(status).phrase}"
