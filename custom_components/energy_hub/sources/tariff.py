"""A time-of-use tariff the user types in: bands of local time with a price per kWh.

The bands are a text, one band per line, so a whole tariff fits in one field::

    00:00-02:00 0.3072
    02:00-05:00 0.18432
    05:00-16:00 0.3072
    16:00-19:00 0.43008
    19:00-24:00 0.3072

A tariff change is a second period, introduced by a ``from`` line (``until`` optional)::

    from 2026-04-01
    00:00-24:00 0.245

Bands before any ``from`` line apply until the first period that starts. Blank lines and
``#`` comments are ignored. A band may cross midnight (``23:30-06:30``).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
import itertools
import math
import re
from typing import Any, ClassVar

from homeassistant.helpers import selector
from homeassistant.util import dt as dt_util, slugify
import voluptuous as vol

from ..const import CONF_SOURCE, DOMAIN
from .base import (
    CredentialsStep,
    DeviceSpec,
    EntrySpec,
    EntryUpdate,
    FlowError,
    FlowStep,
    FormSpec,
    Reading,
    Source,
)
from .rates import (
    CONF_WINDOWS,
    Rate,
    WindowState,
    day_rate_readings,
    local_day,
    next_change,
    parse_windows,
    persist_windows,
    rate_readings,
    restore_windows,
    window_edges,
    window_readings,
)

KEY = "tariff"
CONF_NAME = "name"
CONF_DIRECTION = "direction"
CONF_CURRENCY = "currency"
CONF_BANDS = "bands"
DIRECTIONS = ("import", "export")
DAY_MINUTES = 24 * 60
#: The largest price per kWh taken (in any currency: 1,500 IDR/kWh is a real tariff).
MAX_RATE = 1_000_000.0

_BAND = re.compile(r"^(\S+?)\s*-\s*(\S+?)\s*[=:]?\s+(\S+)$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_PERIOD = re.compile(r"^from\s+(\S+)(?:\s+until\s+(\S+))?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Band:
    """Minutes after local midnight: [start, end) at ``rate`` per kWh."""

    start: int
    end: int
    rate: float


@dataclass(frozen=True, slots=True)
class Period:
    """Bands that apply from ``valid_from`` to ``valid_until`` (local dates, inclusive)."""

    valid_from: date | None
    valid_until: date | None
    bands: tuple[Band, ...]

    def applies(self, day: date) -> bool:
        """Whether this period's bands apply on ``day``."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


def _minutes(text: str, line: int) -> int:
    match = _TIME.match(text)
    if not match or int(match[2]) > 59 or int(match[1]) * 60 + int(match[2]) > DAY_MINUTES:
        raise FlowError("invalid_time", CONF_BANDS, {"line": str(line), "text": text})
    return int(match[1]) * 60 + int(match[2])


def _date(text: str, line: int) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise FlowError("invalid_date", CONF_BANDS, {"line": str(line), "text": text}) from err


def _rate(text: str, line: int) -> float:
    """A price per kWh: a finite number (negative for plunge pricing), at most MAX_RATE."""
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or abs(rate) > MAX_RATE:
        raise FlowError("invalid_rate", CONF_BANDS, {"line": str(line), "text": text})
    return rate


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _check_day(bands: list[tuple[Band, int]]) -> tuple[Band, ...]:
    """Bands must cover 00:00-24:00 once; returns them sorted."""
    pieces: list[tuple[int, int, int]] = []  # (start, end, line)
    for band, line in bands:
        if band.start < band.end:
            pieces.append((band.start, band.end, line))
        else:  # crosses midnight
            pieces += [(band.start, DAY_MINUTES, line), (0, band.end, line)]
    pieces = sorted(p for p in pieces if p[0] < p[1])
    if not pieces:
        raise FlowError("no_bands", CONF_BANDS)
    edge = 0
    for start, end, line in pieces:
        if start < edge:
            raise FlowError("bands_overlap", CONF_BANDS, {"line": str(line)})
        if start > edge:
            raise FlowError("bands_gap", CONF_BANDS, {"start": _hhmm(edge), "end": _hhmm(start)})
        edge = end
    if edge < DAY_MINUTES:
        raise FlowError("bands_gap", CONF_BANDS, {"start": _hhmm(edge), "end": "24:00"})
    rates = {line: band.rate for band, line in bands}
    return tuple(Band(start, end, rates[line]) for start, end, line in pieces)


def parse_bands(text: str) -> tuple[Period, ...]:
    """Parse the bands text; raise FlowError (field ``bands``) naming the line at fault."""
    periods: list[Period] = []
    header: tuple[date | None, date | None] = (None, None)
    current: list[tuple[Band, int]] = []

    def close() -> None:
        if current or header != (None, None):
            periods.append(Period(header[0], header[1], _check_day(current)))

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if period := _PERIOD.match(line):
            close()
            current = []
            start = _date(period[1], number)
            until = _date(period[2], number) if period[2] else None
            if until is not None and until < start:
                raise FlowError("invalid_date", CONF_BANDS, {"line": str(number), "text": line})
            header = (start, until)
            continue
        band = _BAND.match(line)
        if not band:
            raise FlowError("invalid_band", CONF_BANDS, {"line": str(number), "text": raw.strip()})
        rate = _rate(band[3], number)
        current.append((Band(_minutes(band[1], number), _minutes(band[2], number), rate), number))
    close()
    if not periods:
        raise FlowError("no_bands", CONF_BANDS)
    dated = sorted((p for p in periods if p.valid_from), key=lambda p: p.valid_from or date.min)
    for earlier, later in itertools.pairwise(dated):
        # An open-ended period simply ends where the next one starts.
        if earlier.valid_until is not None and earlier.valid_until >= (
            later.valid_from or date.min
        ):
            raise FlowError("periods_overlap", CONF_BANDS)
    return tuple(periods)


def period_for(periods: tuple[Period, ...], day: date) -> Period | None:
    """The period that applies on ``day``: the latest-starting dated one, else the undated."""
    dated = [p for p in periods if p.valid_from is not None and p.applies(day)]
    if dated:
        return max(dated, key=lambda p: p.valid_from or date.min)
    undated = [p for p in periods if p.valid_from is None]
    starts = [p.valid_from for p in periods if p.valid_from is not None]
    if undated and not any(start <= day for start in starts):
        return undated[0]
    return None


def tariff_rates(
    periods: tuple[Period, ...], start: datetime, end: datetime, tz: tzinfo
) -> list[Rate]:
    """Rates (UTC) over the local days touching [start, end)."""
    rates: list[Rate] = []
    day = start.astimezone(tz).date()
    while datetime(day.year, day.month, day.day, tzinfo=tz) < end:
        if (period := period_for(periods, day)) is not None:
            midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
            for band in period.bands:
                # Wall-clock arithmetic: on clock-change days a band stretches or shrinks.
                band_start = (midnight + timedelta(minutes=band.start)).astimezone(UTC)
                band_end = (midnight + timedelta(minutes=band.end)).astimezone(UTC)
                if band_end > band_start:
                    rates.append(Rate(band_start, band_end, band.rate))
        day += timedelta(days=1)
    return rates


@dataclass(frozen=True, slots=True)
class TariffData:
    """The parsed tariff."""

    periods: tuple[Period, ...]


class TariffSource(Source[TariffData]):
    """A typed-in time-of-use tariff: no account, no requests."""

    key: ClassVar[str] = KEY
    flow_steps: ClassVar[tuple[str, ...]] = (KEY,)

    def setup(self) -> None:
        """Name, direction and currency from the entry; bands and windows from its options."""
        self.name = str(self.data[CONF_NAME])
        self.direction = str(self.data[CONF_DIRECTION])
        self.currency = str(self.data[CONF_CURRENCY])
        self.windows = parse_windows(str(self.options.get(CONF_WINDOWS) or ""))
        #: What each standing window showed and which periods' runs have passed.
        self._windows: dict[str, WindowState] = {}

    @classmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        """Name, import or export, currency, bands."""
        return FormSpec(
            step_id=step_id,
            schema=vol.Schema(
                {
                    vol.Required(CONF_NAME): selector.TextSelector(),
                    vol.Required(CONF_DIRECTION, default="import"): selector.SelectSelector(
                        selector.SelectSelectorConfig(
                            options=list(DIRECTIONS), translation_key=CONF_DIRECTION
                        )
                    ),
                    vol.Optional(CONF_CURRENCY): selector.TextSelector(),
                    vol.Required(CONF_BANDS): _bands_selector(),
                }
            ),
        )

    @classmethod
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec:
        """Validate; one entry per name and direction."""
        name, currency = _name_and_currency(step.user_input, step.hass.config.currency)
        options = cls.validate_options({CONF_BANDS: step.user_input[CONF_BANDS]})
        direction = str(step.user_input[CONF_DIRECTION])
        return EntrySpec(
            title=name,
            unique_id=_unique_id(name, direction),
            data={
                CONF_SOURCE: KEY,
                CONF_NAME: name,
                CONF_DIRECTION: direction,
                CONF_CURRENCY: currency,
            },
            options=options,
        )

    reconfigure_step_id: ClassVar[str] = f"{KEY}_reconfigure"

    @classmethod
    def reconfigure_schema(cls) -> vol.Schema:
        """The name and the currency (the bands are options; import or export stays)."""
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Optional(CONF_CURRENCY): selector.TextSelector(),
            }
        )

    @classmethod
    def reconfigure_values(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The stored name and currency."""
        return {CONF_NAME: data.get(CONF_NAME), CONF_CURRENCY: data.get(CONF_CURRENCY)}

    @classmethod
    async def async_reconfigure_submit(cls, step: CredentialsStep) -> EntryUpdate:
        """Checked as when added; a new name is refused when another tariff of the same
        direction has it."""
        name, currency = _name_and_currency(step.user_input, step.hass.config.currency)
        direction = str(step.data[CONF_DIRECTION])
        unique_id = _unique_id(name, direction)
        other = step.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, unique_id)
        if other is not None and unique_id != _unique_id(str(step.data[CONF_NAME]), direction):
            raise FlowError("tariff_already_added", CONF_NAME, {"title": other.title})
        return EntryUpdate(
            unique_id=unique_id,
            data={CONF_NAME: name, CONF_CURRENCY: currency},
            title=name,
            same_entry=False,
        )

    @classmethod
    def options_schema(cls) -> vol.Schema:
        """Edit the bands and the standing windows."""
        return vol.Schema(
            {
                vol.Required(CONF_BANDS): _bands_selector(),
                vol.Optional(CONF_WINDOWS): _bands_selector(),
            }
        )

    @classmethod
    def validate_options(cls, user_input: dict[str, Any]) -> dict[str, Any]:
        """The bands and windows must parse; they are stored as typed, trimmed (no windows:
        no key)."""
        text = str(user_input.get(CONF_BANDS, ""))
        parse_bands(text)
        windows = str(user_input.get(CONF_WINDOWS) or "").strip()
        parse_windows(windows)
        return {CONF_BANDS: text.strip()} | ({CONF_WINDOWS: windows} if windows else {})

    def persist(self) -> Mapping[str, Any] | None:
        """The standing windows' runs shown and passed; None without windows."""
        if not self.windows:
            return None
        return {"windows": persist_windows(self._windows)}

    def restore(self, stored: Mapping[str, Any]) -> None:
        """Take back the standing windows' state."""
        self._windows = restore_windows(stored.get("windows"))

    @property
    def request_count(self) -> int:
        """A typed-in tariff makes no requests."""
        return 0

    async def async_update(self, previous: TariffData | None, now: datetime) -> TariffData:
        """Parse the bands (validated when they were entered)."""
        return TariffData(periods=parse_bands(str(self.options[CONF_BANDS])))

    def next_update(self, data: TariffData, now: datetime) -> datetime:
        """Nothing to fetch: readings move on ticks."""
        return now + timedelta(days=1)

    def _rates(self, data: TariffData, now: datetime) -> list[Rate]:
        tz = dt_util.get_default_time_zone()
        day_start, day_end = local_day(now, tz)
        return tariff_rates(
            data.periods, day_start - timedelta(days=1), day_end + timedelta(days=1, hours=2), tz
        )

    def next_tick(self, data: TariffData, now: datetime) -> datetime | None:
        """The next band edge, or a standing window's start or end if sooner."""
        edges = [next_change(self._rates(data, now), now), *window_edges(self._windows, now)]
        return min((edge for edge in edges if edge is not None), default=None)

    def devices(self, data: TariffData) -> list[DeviceSpec]:
        """The tariff as a service device."""
        return [
            DeviceSpec(
                key="tariff",
                name=self.name,
                manufacturer="Energy Hub",
                model=f"Time-of-use tariff ({self.direction})",
                service=True,
            )
        ]

    def readings(self, data: TariffData, now: datetime) -> list[Reading]:
        """Current and next price, when the next starts, cheapest band now (export: highest);
        the day-rate events; the standing windows."""
        tz = dt_util.get_default_time_zone()
        rates = self._rates(data, now)
        unit = f"{self.currency}/kWh"
        export = self.direction == "export"
        return [
            *rate_readings(rates, now, tz, device="tariff", unit=unit, full=False, export=export),
            *day_rate_readings(
                rates, now, tz, device="tariff", event_kind="energy_hub_tariff", tariff_code=None
            ),
            *window_readings(
                self.windows,
                lambda start, end: self.rates_between(data, start, end),
                now,
                tz,
                device="tariff",
                unit=unit,
                export=export,
                states=self._windows,
            ),
        ]

    def diagnostics(self, data: TariffData | None) -> dict[str, Any]:
        """The periods as parsed."""
        if data is None:
            return {}
        return {
            "periods": [
                {
                    "valid_from": p.valid_from.isoformat() if p.valid_from else None,
                    "valid_until": p.valid_until.isoformat() if p.valid_until else None,
                    "bands": [[_hhmm(b.start), _hhmm(b.end), b.rate] for b in p.bands],
                }
                for p in data.periods
            ]
        }

    def rates_between(
        self, data: TariffData, start: datetime, end: datetime, meter: str | None = None
    ) -> list[Rate] | None:
        """The typed-in rates (the tariff's currency per kWh) over [start, end), clipped, in
        local time as typed (clock changes included). A tariff has one meter: ``meter`` is
        not read."""
        rates = tariff_rates(data.periods, start, end, dt_util.get_default_time_zone())
        return [
            Rate(max(rate.start, start), min(rate.end, end), rate.value)
            for rate in rates
            if rate.end > start and rate.start < end
        ]


def _unique_id(name: str, direction: str) -> str:
    """One tariff entry per name and direction."""
    return f"{KEY}_{slugify(name)}_{direction}"


def _name_and_currency(user_input: Mapping[str, Any], default_currency: str) -> tuple[str, str]:
    """The name (not empty) and the currency (three letters; empty: Home Assistant's)."""
    name = str(user_input.get(CONF_NAME) or "").strip()
    if not name:
        raise FlowError("invalid_name", CONF_NAME)
    currency = str(user_input.get(CONF_CURRENCY) or default_currency).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise FlowError("invalid_currency", CONF_CURRENCY)
    return name, currency


def _bands_selector() -> selector.TextSelector:
    return selector.TextSelector(selector.TextSelectorConfig(multiline=True))
