"""Elexon BMRS Insights Solution API (data.elexon.co.uk/bmrs/api/v1), emulated.

Shapes follow `shared/vendor-apis/elexon.md` and its samples: dataset endpoints answer
`{"data": [...]}`, the "opinionated" ones `{"metadata": {"datasets": [...]}, "data": [...]}` and
the current generation snapshot a bare array; times are UTC `...Z`; settlement dates and periods
follow the UK local day (46 periods when the clocks go forward, 50 when they go back).

The grid is a pure function of the clock. Every 5-minute interval has a national demand
(a daily and seasonal curve less embedded solar and wind) and an output per fuel type whose sum,
interconnector flows included (imports positive, exports negative), is exactly that demand:
wind follows passing weather fronts, pumped storage pumps at night and generates at the peaks,
interconnectors import when Great Britain is short and export when it is windy, and gas (CCGT)
fills the rest. Half-hourly demand outturn is the average of its six intervals; system and
market index prices follow the demand left after wind. What a request sees is only what is
published by the clock's "now": FUELINST at the end of each 5-minute interval, demand and
prices 15 minutes after the end of each settlement period.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import functools
from http import HTTPStatus
import math
from types import MappingProxyType
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from .common import (
    SLOT,
    JSONObject,
    clamp,
    floor_slot,
    json_response,
    noise,
    parse_date,
    parse_timestamp,
    uk_utc_offset_hours,
    waves,
)
from .state import SandboxState

VENDOR: Final = "elexon"
MALFORMED_BODY: Final = '{"data":[{"dataset":"FUELINST","publishTime":"2026-11-23T18:'

INTERVAL: Final = timedelta(minutes=5)
"""FUELINST's averaging interval; each one is published when it ends."""
PUBLISH_LAG: Final = timedelta(minutes=15)
"""Demand outturn, system prices and market index data appear this long after the period ends."""
MAX_PUBLISH_RANGE: Final = timedelta(days=1)
MAX_SETTLEMENT_DAYS: Final = 7
PERIODS_MAX: Final = 50

DOMESTIC_FUELS: Final = (
    "BIOMASS",
    "CCGT",
    "COAL",
    "NPSHYD",
    "NUCLEAR",
    "OCGT",
    "OIL",
    "OTHER",
    "PS",
    "WIND",
)
"""Transmission-metered fuel types (no SOLAR: GB solar is embedded and lowers demand instead)."""


@dataclass(frozen=True, slots=True)
class Link:
    """An interconnector: capacity (MW), how much it imports on balance, how strongly it
    follows GB's need, and a phase for its own slow swings."""

    code: str
    capacity: int
    bias: float
    sensitivity: float
    phase: float


LINKS: Final = (
    Link("INTELEC", 1000, 0.55, 0.35, 0.4),
    Link("INTEW", 500, -0.25, 0.6, 1.3),
    Link("INTFR", 2000, 0.5, 0.4, 2.0),
    Link("INTGRNL", 500, -0.2, 0.6, 2.9),
    Link("INTIFA2", 1000, 0.45, 0.4, 3.6),
    Link("INTIRL", 500, -0.3, 0.5, 4.4),
    Link("INTNED", 1000, 0.25, 0.6, 5.1),
    Link("INTNEM", 1000, 0.3, 0.6, 5.8),
    Link("INTNSL", 1400, 0.35, 0.8, 0.9),
    Link("INTVKL", 1400, 0.05, 0.9, 3.2),
)
"""GB's interconnectors (France, Ireland, Northern Ireland, Netherlands, Belgium, Norway,
Denmark) with Elexon's fuel-type codes."""

FUEL_TYPES: Final = DOMESTIC_FUELS + tuple(link.code for link in LINKS)

CCGT_MIN: Final = 1500
"""Gas never runs below this (stability); wind is curtailed instead."""
CCGT_PEAK: Final = 11000
"""Above this much gas, open-cycle peakers (OCGT) take up to half of the rest (at most 600 MW)."""

_DEMAND_BY_LOCAL_HOUR: Final = (
    0.66, 0.62, 0.60, 0.59, 0.60, 0.64, 0.72, 0.83, 0.90, 0.92, 0.92, 0.91,
    0.90, 0.89, 0.88, 0.90, 0.95, 1.02, 1.04, 0.98, 0.91, 0.84, 0.77, 0.70,
)  # fmt: skip
"""Underlying GB demand through a local (clock) day, relative to the early-evening peak."""


def error_body(status: int, message: str) -> JSONObject:
    """An RFC 7807 problem, as the API's ASP.NET stack answers errors."""
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": message,
    }


def _error(status: int, message: str) -> web.Response:
    return json_response(error_body(status, message), status=status)


# --- settlement periods (UK rules, computed without a tz database) ----------------------------


def day_start(day: date) -> datetime:
    """UTC start of settlement date `day`: midnight UK local time (clocks change at 01:00 UTC,
    so midnight is never ambiguous)."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return midnight - timedelta(hours=uk_utc_offset_hours(midnight - timedelta(hours=1)))


def periods_in_day(day: date) -> int:
    return int((day_start(day + timedelta(days=1)) - day_start(day)) / SLOT)


def settlement(moment: datetime) -> tuple[date, int]:
    """(settlement date, period) of the period containing `moment` (UTC)."""
    local = moment + timedelta(hours=uk_utc_offset_hours(moment))
    day = local.date()
    return day, int((moment - day_start(day)) / SLOT) + 1


def period_start(day: date, period: int) -> datetime:
    return day_start(day) + (period - 1) * SLOT


# --- the grid model -----------------------------------------------------------------------------


def _days(moment: datetime) -> float:
    return moment.timestamp() / 86400


def _day_of_year(moment: datetime) -> float:
    return moment.timetuple().tm_yday + (moment.hour + moment.minute / 60) / 24


def _local_hour(moment: datetime) -> tuple[float, int]:
    """Hour of the UK clock (0-24) and weekday."""
    local = moment + timedelta(hours=uk_utc_offset_hours(moment))
    return local.hour + local.minute / 60, local.weekday()


def wind_factor(moment: datetime) -> float:
    """GB wind capacity factor: fronts over days, windier in winter; 0.04-0.95."""
    winter = math.cos(2 * math.pi * (_day_of_year(moment) - 15) / 365.25)
    level = 0.40 + 0.10 * winter
    level += waves(_days(moment), ((0.22, 3.7, 0.4), (0.12, 1.9, 2.5), (0.07, 8.3, 1.1)))
    return clamp(level, 0.04, 0.95)


def sunshine(moment: datetime) -> float:
    """Embedded solar output per capacity: a daylight bell (longer and higher in summer),
    dimmed by cloud; 0 at night."""
    season = math.sin(2 * math.pi * (_day_of_year(moment) - 80) / 365.25)  # +1 at midsummer
    day_hours = 12 + 4.3 * season
    sunrise = 12.2 - day_hours / 2  # solar noon in GB is about 12:10 UTC
    hour = moment.hour + moment.minute / 60
    if not sunrise < hour < sunrise + day_hours:
        return 0.0
    bell = math.pow(math.sin(math.pi * (hour - sunrise) / day_hours), 1.5)
    clouds = clamp(0.65 + waves(_days(moment), ((0.2, 2.7, 0.8), (0.1, 1.1, 2.2))), 0.2, 1.0)
    return bell * (0.675 + 0.325 * season) * clouds


def national_demand(moment: datetime) -> float:
    """MW drawn from the transmission system: underlying demand less embedded solar and wind."""
    hour, weekday = _local_hour(moment)
    low = _DEMAND_BY_LOCAL_HOUR[int(hour) % 24]
    high = _DEMAND_BY_LOCAL_HOUR[(int(hour) + 1) % 24]
    shape = low + (high - low) * (hour - int(hour))
    winter = math.cos(2 * math.pi * (_day_of_year(moment) - 15) / 365.25)
    weekend = 0.91 if weekday >= 5 else 1.0
    underlying = 30000 * shape * (1 + 0.13 * winter) * weekend
    return underlying - 9500 * sunshine(moment) - 4500 * wind_factor(moment)


def _pumped_storage(moment: datetime, wind: float) -> float:
    hour, _ = _local_hour(moment)
    if 6.5 <= hour < 9.5:
        return 900 * math.sin(math.pi * (hour - 6.5) / 3)
    if 16 <= hour < 20.5:
        return 1700 * math.sin(math.pi * (hour - 16) / 4.5)
    if 0.5 <= hour < 5.5:
        return -1300 * math.sin(math.pi * (hour - 0.5) / 5) * (0.5 + 0.5 * wind)
    return 0.0


@dataclass(frozen=True, slots=True)
class Interval:
    """One 5-minute FUELINST interval: MW per fuel type (interconnectors: import positive)."""

    start: datetime
    generation: Mapping[str, int]

    @property
    def publish_time(self) -> datetime:
        return self.start + INTERVAL

    @property
    def demand(self) -> int:
        """National demand: every output added up, exports and pumping counted negative."""
        return sum(self.generation.values())

    @property
    def exports(self) -> int:
        return -sum(min(0, self.generation[link.code]) for link in LINKS)

    @property
    def pumping(self) -> int:
        return -min(0, self.generation["PS"])


@functools.lru_cache(maxsize=16384)
def interval(start: datetime) -> Interval:
    """The grid over the 5 minutes from `start` (a multiple of 5 minutes, UTC)."""
    mid = start + INTERVAL / 2
    stamp = int(start.timestamp())
    days = _days(mid)
    demand = round(national_demand(mid) * (1 + 0.004 * noise("demand", stamp)))
    wind_cf = wind_factor(mid)
    wind = round(20000 * wind_cf * (1 + 0.02 * noise("wind", stamp)))
    out = {
        "BIOMASS": round(900 + 1500 * clamp((demand - 16000) / 18000, 0, 1)),
        "COAL": 0,
        "NPSHYD": round(180 + 420 * wind_cf + 15 * noise("hydro", stamp)),
        "NUCLEAR": round(4200 + 450 * math.sin(2 * math.pi * days / 37 + 1)),
        "OCGT": 0,
        "OIL": 0,
        "OTHER": round(420 + 80 * math.sin(2 * math.pi * days / 5)),
        "PS": round(_pumped_storage(mid, wind_cf)),
        "WIND": wind,
    }
    tight = clamp((demand - wind - 6000) / 22000, 0, 1)  # 0: windy and quiet, 1: calm peak
    for link in LINKS:
        level = link.bias + link.sensitivity * (tight - 0.5) * 2
        level += 0.12 * math.sin(2 * math.pi * days / 2.9 + link.phase)
        level += 0.03 * noise(link.code, stamp)
        out[link.code] = round(link.capacity * clamp(level, -1, 1))
    ccgt = demand - sum(out.values())
    if ccgt < CCGT_MIN:  # too much wind for the demand: curtail it
        out["WIND"] -= min(out["WIND"], CCGT_MIN - ccgt)
        ccgt = demand - sum(out.values())
    if ccgt > CCGT_PEAK:
        out["OCGT"] = min(600, round((ccgt - CCGT_PEAK) / 2))
        ccgt -= out["OCGT"]
    out["CCGT"] = ccgt
    ordered = {fuel: out[fuel] for fuel in FUEL_TYPES}
    return Interval(start=start, generation=MappingProxyType(ordered))


def period_intervals(start: datetime) -> list[Interval]:
    """The six intervals of the settlement period starting at `start`."""
    return [interval(start + index * INTERVAL) for index in range(6)]


@dataclass(frozen=True, slots=True)
class HalfHour:
    """A settlement period: demand outturn and prices."""

    start: datetime
    settlement_date: date
    period: int
    indo: int
    itsdo: int
    wind: int
    system_price: float
    niv: float
    market_price: float
    market_volume: float

    @property
    def end(self) -> datetime:
        return self.start + SLOT

    @property
    def publish_time(self) -> datetime:
        return self.end + PUBLISH_LAG


@functools.lru_cache(maxsize=4096)
def half_hour(start: datetime) -> HalfHour:
    """The settlement period starting at `start` (a half-hour boundary, UTC)."""
    intervals = period_intervals(start)
    stamp = int(start.timestamp())
    indo = round(sum(item.demand for item in intervals) / 6)
    pumping = sum(item.pumping for item in intervals) / 6
    exports = sum(item.exports for item in intervals) / 6
    winter = math.cos(2 * math.pi * (_day_of_year(start) - 15) / 365.25)
    itsdo = round(indo + 500 + 100 * winter + pumping + exports)
    wind = round(sum(item.generation["WIND"] for item in intervals) / 6)
    tight = clamp((indo - wind - 8000) / 20000, -0.6, 1.3)
    base = 45 + 85 * tight
    settlement_date, period = settlement(start)
    return HalfHour(
        start=start,
        settlement_date=settlement_date,
        period=period,
        indo=indo,
        itsdo=itsdo,
        wind=wind,
        system_price=round(base + 22 * noise("sbp", stamp), 2),
        niv=round(300 * math.sin(stamp / 86400 * 2 * math.pi / 0.7) + 120 * noise("niv", stamp), 4),
        market_price=round(0.85 * base + 10 + 4 * noise("mid", stamp), 2),
        market_volume=round(900 + 2000 * indo / 35000 + 150 * noise("volume", stamp), 3),
    )


# --- JSON shapes -------------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    """`2026-11-23T18:00:00Z`, as the Insights API prints times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fuelinst_rows(item: Interval, fuels: Iterable[str] | None = None) -> list[JSONObject]:
    settlement_date, period = settlement(item.start)
    wanted = set(fuels) if fuels else None
    return [
        {
            "dataset": "FUELINST",
            "publishTime": format_time(item.publish_time),
            "startTime": format_time(item.start),
            "settlementDate": settlement_date.isoformat(),
            "settlementPeriod": period,
            "fuelType": fuel,
            "generation": generation,
        }
        for fuel, generation in item.generation.items()
        if wanted is None or fuel in wanted
    ]


def demand_row(item: HalfHour, dataset: str) -> JSONObject:
    return {
        "dataset": dataset,
        "publishTime": format_time(item.publish_time),
        "startTime": format_time(item.start),
        "settlementDate": item.settlement_date.isoformat(),
        "settlementPeriod": item.period,
        "demand": item.indo if dataset == "INDO" else item.itsdo,
    }


def demand_outturn_row(item: HalfHour) -> JSONObject:
    return {
        "publishTime": format_time(item.publish_time),
        "startTime": format_time(item.start),
        "settlementDate": item.settlement_date.isoformat(),
        "settlementPeriod": item.period,
        "initialDemandOutturn": item.indo,
        "initialTransmissionSystemDemandOutturn": item.itsdo,
    }


def system_price_row(item: HalfHour) -> JSONObject:
    """All the fields of the documented row; a single imbalance price (SSP == SBP)."""
    short = item.niv > 0
    offers = round(max(0.0, item.niv) + 350 + 2 * abs(item.niv), 4)
    bids = round(min(0.0, item.niv) - 350 - 2 * abs(item.niv), 4)
    return {
        "settlementDate": item.settlement_date.isoformat(),
        "settlementPeriod": item.period,
        "startTime": format_time(item.start),
        "createdDateTime": format_time(item.publish_time),
        "systemSellPrice": item.system_price,
        "systemBuyPrice": item.system_price,
        "bsadDefaulted": False,
        "priceDerivationCode": "P" if short else "N",
        "reserveScarcityPrice": 0,
        "netImbalanceVolume": item.niv,
        "sellPriceAdjustment": 0,
        "buyPriceAdjustment": 0,
        "replacementPrice": None,
        "replacementPriceReferenceVolume": None,
        "totalAcceptedOfferVolume": offers,
        "totalAcceptedBidVolume": bids,
        "totalAdjustmentSellVolume": 0,
        "totalAdjustmentBuyVolume": 0,
        "totalSystemTaggedAcceptedOfferVolume": round(offers - 1, 4),
        "totalSystemTaggedAcceptedBidVolume": bids,
        "totalSystemTaggedAdjustmentSellVolume": None,
        "totalSystemTaggedAdjustmentBuyVolume": 0,
    }


MARKET_PROVIDERS: Final = ("APXMIDP", "N2EXMIDP")


def market_index_row(item: HalfHour, provider: str) -> JSONObject:
    """APX carries the price; N2EX rows are zero, as users of the real API report."""
    apx = provider == "APXMIDP"
    return {
        "startTime": format_time(item.start),
        "dataProvider": provider,
        "settlementDate": item.settlement_date.isoformat(),
        "settlementPeriod": item.period,
        "price": item.market_price if apx else 0,
        "volume": item.market_volume if apx else 0,
    }


# --- request handling ----------------------------------------------------------------------------


class _BadRequest(Exception):
    """Raised by the parsers; becomes a 400 with a problem body."""


def _time_param(request: web.Request, name: str) -> datetime:
    text = request.query.get(name)
    if text is None:
        raise _BadRequest(f"The {name} field is required.")
    moment = parse_timestamp(text)
    if moment is None:
        raise _BadRequest(f"The value '{text}' is not valid for {name}.")
    return moment


def _date_value(text: str, name: str) -> date:
    day = parse_date(text.strip()[:10])
    if day is None:
        raise _BadRequest(f"The value '{text}' is not valid for {name}: use yyyy-MM-dd.")
    return day


def _date_param(request: web.Request, name: str) -> date:
    text = request.query.get(name)
    if text is None:
        raise _BadRequest(f"The {name} field is required.")
    return _date_value(text, name)


def _period_value(text: str, name: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= PERIODS_MAX:
        raise _BadRequest(f"The value '{text}' is not valid for {name}: use 1-{PERIODS_MAX}.")
    return int(text)


def _dates(first: date, last: date, limit: int) -> list[date]:
    if last < first:
        raise _BadRequest("The 'to' date must not be before the 'from' date.")
    if (last - first).days >= limit:
        raise _BadRequest(f"The date range must not exceed {limit} days.")
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _check_format(request: web.Request) -> None:
    fmt = request.query.get("format", "json").lower()
    if fmt != "json":
        raise _BadRequest(f"The sandbox only serves format=json, not '{fmt}'.")


def _publish_window(request: web.Request, step: timedelta, offset: timedelta) -> list[datetime]:
    """Publication times in `[publishDateTimeFrom, publishDateTimeTo]` on the `offset + k*step`
    grid (before the clock check)."""
    first = _time_param(request, "publishDateTimeFrom")
    last = _time_param(request, "publishDateTimeTo")
    if last < first:
        raise _BadRequest("publishDateTimeTo must not be before publishDateTimeFrom.")
    if last - first > MAX_PUBLISH_RANGE:
        raise _BadRequest("The publish time range must not exceed 1 day.")
    moment = floor_slot(first - offset, step) + offset
    if moment < first:
        moment += step
    times = []
    while moment <= last:
        times.append(moment)
        moment += step
    return times


def _day_periods(day: date, periods: set[int] | None) -> Iterator[datetime]:
    for period in range(1, periods_in_day(day) + 1):
        if periods is None or period in periods:
            yield period_start(day, period)


class _Handlers:
    def __init__(self, state: SandboxState) -> None:
        self._state = state

    def _now(self) -> datetime:
        return self._state.now()

    def _published_interval(self, start: datetime) -> bool:
        return start + INTERVAL <= self._now()

    def _published_half_hour(self, start: datetime) -> bool:
        return start + SLOT + PUBLISH_LAG <= self._now()

    def _latest_interval(self) -> datetime:
        return floor_slot(self._now(), INTERVAL) - INTERVAL

    def _latest_half_hour(self) -> datetime:
        return floor_slot(self._now() - PUBLISH_LAG) - SLOT

    async def fuelinst(self, request: web.Request) -> web.Response:
        _check_format(request)
        query = request.query
        fuels = [fuel.upper() for fuel in query.getall("fuelType", [])]
        by_publish = "publishDateTimeFrom" in query or "publishDateTimeTo" in query
        by_settlement = "settlementDateFrom" in query or "settlementDateTo" in query
        if by_publish and by_settlement:
            raise _BadRequest("Publish time and settlement date filters cannot be combined.")
        if by_publish:
            starts = [
                moment - INTERVAL for moment in _publish_window(request, INTERVAL, timedelta(0))
            ]
        elif by_settlement:
            days = _dates(
                _date_param(request, "settlementDateFrom"),
                _date_param(request, "settlementDateTo"),
                2,
            )
            periods = {
                _period_value(p, "settlementPeriod") for p in query.getall("settlementPeriod", [])
            }
            starts = [
                first + index * INTERVAL
                for day in days
                for first in _day_periods(day, periods or None)
                for index in range(6)
            ]
        else:
            raise _BadRequest("Give publishDateTimeFrom/To or settlementDateFrom/To.")
        rows = [
            row
            for start in starts
            if self._published_interval(start)
            for row in fuelinst_rows(interval(start), fuels)
        ]
        return json_response({"data": rows})

    async def generation_current(self, request: web.Request) -> web.Response:
        """Latest interval (MW), last half hour and last 24 hours (MWh), with percentages."""
        _check_format(request)
        fuels = {fuel.upper() for fuel in request.query.getall("fuelType", [])}
        latest = self._latest_interval()
        current = interval(latest).generation
        half = [interval(latest - index * INTERVAL).generation for index in range(6)]
        day = [interval(latest - index * INTERVAL).generation for index in range(288)]

        def mwh(items: list[Mapping[str, int]], fuel: str) -> float:
            return sum(item[fuel] for item in items) * INTERVAL.total_seconds() / 3600

        def percentage(value: float, total: float) -> float:
            return round(max(0.0, value) / total * 100, 1) if total > 0 else 0.0

        totals = {
            "current": sum(max(0, mw) for mw in current.values()),
            "half": sum(max(0.0, mwh(half, fuel)) for fuel in FUEL_TYPES),
            "day": sum(max(0.0, mwh(day, fuel)) for fuel in FUEL_TYPES),
        }
        rows = []
        for fuel in FUEL_TYPES:
            if fuels and fuel not in fuels:
                continue
            half_mwh, day_mwh = mwh(half, fuel), mwh(day, fuel)
            rows.append(
                {
                    "dataset": "FUELINST",
                    "fuelType": fuel,
                    "currentUsage": current[fuel],
                    "currentPercentage": percentage(current[fuel], totals["current"]),
                    "halfHourUsage": round(half_mwh),
                    "halfHourPercentage": percentage(half_mwh, totals["half"]),
                    "twentyFourHourUsage": round(day_mwh),
                    "twentyFourHourPercentage": percentage(day_mwh, totals["day"]),
                }
            )
        return json_response(rows)

    async def demand_dataset(self, request: web.Request) -> web.Response:
        """INDO or ITSDO published in a window; without one, the latest published."""
        _check_format(request)
        dataset = request.match_info["dataset"]
        if "publishDateTimeFrom" in request.query or "publishDateTimeTo" in request.query:
            starts = [
                moment - SLOT - PUBLISH_LAG
                for moment in _publish_window(request, SLOT, PUBLISH_LAG)
            ]
        else:
            starts = [self._latest_half_hour()]
        rows = [
            demand_row(half_hour(start), dataset)
            for start in starts
            if self._published_half_hour(start)
        ]
        return json_response({"data": rows})

    async def demand_outturn(self, request: web.Request) -> web.Response:
        _check_format(request)
        days = _dates(
            _date_param(request, "settlementDateFrom"),
            _date_param(request, "settlementDateTo"),
            MAX_SETTLEMENT_DAYS,
        )
        periods = {
            _period_value(text, "settlementPeriod")
            for text in request.query.getall("settlementPeriod", [])
        }
        rows = [
            demand_outturn_row(half_hour(start))
            for day in days
            for start in _day_periods(day, periods or None)
            if self._published_half_hour(start)
        ]
        return json_response({"metadata": {"datasets": ["INDO", "ITSDO"]}, "data": rows})

    async def system_prices(self, request: web.Request) -> web.Response:
        _check_format(request)
        day = _date_value(request.match_info["date"], "settlementDate")
        period_text = request.match_info.get("period")
        periods = {_period_value(period_text, "settlementPeriod")} if period_text else None
        rows = [
            system_price_row(half_hour(start))
            for start in _day_periods(day, periods)
            if self._published_half_hour(start)
        ]
        return json_response({"metadata": {"datasets": ["DISEBSP"]}, "data": rows})

    def _market_index_rows(self, request: web.Request) -> list[JSONObject]:
        _check_format(request)
        query = request.query
        providers = [p.upper() for p in query.getall("dataProviders", [])] or list(MARKET_PROVIDERS)
        unknown = set(providers) - set(MARKET_PROVIDERS)
        if unknown:
            raise _BadRequest(f"Unknown data provider(s): {', '.join(sorted(unknown))}.")
        if "settlementPeriodFrom" in query or "settlementPeriodTo" in query:
            days = _dates(_date_param(request, "from"), _date_param(request, "to"), 7)
            first = _period_value(query.get("settlementPeriodFrom", "1"), "settlementPeriodFrom")
            last = _period_value(query.get("settlementPeriodTo", "50"), "settlementPeriodTo")
            starts = [
                start for day in days for start in _day_periods(day, set(range(first, last + 1)))
            ]
        else:
            begin = _time_param(request, "from")
            end = _time_param(request, "to")
            _dates(begin.date(), end.date(), 7)
            moment = floor_slot(begin)
            if moment < begin:
                moment += SLOT
            starts = []
            while moment <= end:
                starts.append(moment)
                moment += SLOT
        return [
            market_index_row(half_hour(start), provider)
            for start in sorted(starts, reverse=True)  # newest first
            if self._published_half_hour(start)
            for provider in MARKET_PROVIDERS
            if provider in providers
        ]

    async def market_index(self, request: web.Request) -> web.Response:
        rows = self._market_index_rows(request)
        return json_response({"metadata": {"datasets": ["MID"]}, "data": rows})

    async def mid_dataset(self, request: web.Request) -> web.Response:
        rows = [{"dataset": "MID", **row} for row in self._market_index_rows(request)]
        return json_response({"data": rows})


@web.middleware
async def _bad_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _BadRequest as err:
        return _error(400, str(err))


def add_routes(app: web.Application, state: SandboxState) -> None:
    """Mount the API on `app` (the vendor's subapp: paths are relative to its prefix)."""
    handlers = _Handlers(state)
    app.middlewares.append(_bad_requests)
    prices = "/balancing/settlement/system-prices/{date}"
    app.router.add_routes(
        [
            web.get("/datasets/FUELINST", handlers.fuelinst),
            web.get("/datasets/{dataset:INDO|ITSDO}", handlers.demand_dataset),
            web.get("/datasets/MID", handlers.mid_dataset),
            web.get("/generation/outturn/current", handlers.generation_current),
            web.get("/demand/outturn", handlers.demand_outturn),
            web.get(prices, handlers.system_prices),
            web.get(prices + "/{period}", handlers.system_prices),
            web.get("/balancing/pricing/market-index", handlers.market_index),
        ]
    )
