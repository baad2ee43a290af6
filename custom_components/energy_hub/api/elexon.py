"""Client for the Elexon BMRS Insights Solution API (GB grid): generation, demand, prices.

No authentication. Three response envelopes exist (``{"data": [...]}`` for datasets,
``{"metadata": ..., "data": [...]}`` for the "opinionated" endpoints and a bare JSON array for
summaries); every method accepts all three. Settlement dates and periods follow the UK local
day: 48 half-hour periods, 46 on the day the clocks go forward and 50 on the day they go back.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from .errors import ApiResponseError
from .http import JsonApiClient
from .parse import iso_time as _parse_time, number as _number, rounded as _integer

DEFAULT_BASE_URL: Final = "https://data.elexon.co.uk/bmrs/api/v1"

LONDON: Final = ZoneInfo("Europe/London")
PERIOD: Final = timedelta(minutes=30)
FUELINST_INTERVAL: Final = timedelta(minutes=5)
#: Market index data providers; APX is the one with real prices (N2EX rows are often zero).
APX: Final = "APXMIDP"
N2EX: Final = "N2EXMIDP"

type DemandDataset = Literal["INDO", "ITSDO"]


# --- settlement periods --------------------------------------------------------------------------


def settlement_day_start(day: date) -> datetime:
    """The UTC instant a settlement day starts: midnight, UK local time."""
    return datetime.combine(day, time(0), LONDON).astimezone(UTC)


def periods_in_day(day: date) -> int:
    """48 half hours; 46 on the day the clocks go forward, 50 on the day they go back."""
    length = settlement_day_start(day + timedelta(days=1)) - settlement_day_start(day)
    return int(length / PERIOD)


@dataclass(frozen=True, slots=True)
class SettlementPeriod:
    """One settlement period: its UK settlement date, number (1-50) and UTC start."""

    settlement_date: date
    period: int
    start: datetime

    @property
    def end(self) -> datetime:
        """When the next period starts (UTC)."""
        return self.start + PERIOD

    @property
    def periods_in_day(self) -> int:
        """How many periods its settlement day has (46, 48 or 50)."""
        return periods_in_day(self.settlement_date)


def settlement_period(when: datetime) -> SettlementPeriod:
    """The settlement period that contains the instant ``when`` (timezone-aware).

    The settlement date is the UK local date; period 1 starts at local midnight and every
    period lasts 30 minutes of real time, so clock-change days have 46 or 50 periods.
    """
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when!r}: give a timezone-aware instant")
    day = when.astimezone(LONDON).date()
    day_start = settlement_day_start(day)
    index = int((when.astimezone(UTC) - day_start) // PERIOD)
    return SettlementPeriod(settlement_date=day, period=index + 1, start=day_start + index * PERIOD)


def settlement_period_start(day: date, period: int) -> datetime:
    """UTC start of period ``period`` of settlement date ``day``; ValueError if out of range."""
    count = periods_in_day(day)
    if not 1 <= period <= count:
        raise ValueError(f"{day.isoformat()} has settlement periods 1-{count}, not {period}")
    return settlement_day_start(day) + (period - 1) * PERIOD


# --- parsing -------------------------------------------------------------------------------------


def format_datetime(when: datetime) -> str:
    """A time the way the API wants it: UTC, seconds, ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _rows(body: Any) -> list[Mapping[str, Any]]:
    """The rows of any of the three envelopes; an empty answer has none.

    ``{"data": [...]}`` (datasets), ``{"metadata": ..., "data": [...]}`` and a bare array
    (summaries). Entries that are not objects are dropped.
    """
    if isinstance(body, Mapping):
        body = body.get("data")
        if isinstance(body, Mapping):  # one row where a list was expected
            body = [body]
    if body is None:
        return []
    if not isinstance(body, list):
        raise ApiResponseError(f"expected a list of rows, got {type(body).__name__}")
    return [row for row in body if isinstance(row, Mapping)]


# --- models --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FuelInstRow:
    """One FUELINST row: average MW of one fuel type over a 5-minute interval."""

    fuel_type: str
    generation: int
    start: datetime
    publish_time: datetime | None
    settlement_date: date | None
    settlement_period: int | None


@dataclass(frozen=True, slots=True)
class GenerationMix:
    """Every fuel type's FUELINST output for one 5-minute interval, MW by fuel code."""

    start: datetime
    publish_time: datetime | None
    settlement_date: date | None
    settlement_period: int | None
    generation: Mapping[str, int]

    @property
    def end(self) -> datetime:
        """End of the interval."""
        return self.start + FUELINST_INTERVAL


@dataclass(frozen=True, slots=True)
class FuelOutturn:
    """One fuel type of the current generation outturn snapshot.

    ``current_usage`` is MW for the latest 5 minutes; the half-hour and 24-hour usages are
    MWh over those windows (as the BMRS table shows them); percentages are of the total.
    """

    fuel_type: str
    current_usage: float | None
    current_percentage: float | None
    half_hour_usage: float | None
    half_hour_percentage: float | None
    twenty_four_hour_usage: float | None
    twenty_four_hour_percentage: float | None


@dataclass(frozen=True, slots=True)
class DemandRow:
    """A half-hour of initial demand outturn from the INDO or ITSDO dataset, MW."""

    dataset: str
    start: datetime
    publish_time: datetime | None
    settlement_date: date | None
    settlement_period: int | None
    demand: int

    @property
    def end(self) -> datetime:
        """End of the settlement period."""
        return self.start + PERIOD


@dataclass(frozen=True, slots=True)
class SystemPrice:
    """The imbalance (system) prices of one settlement period, GBP/MWh."""

    settlement_date: date
    settlement_period: int
    start: datetime
    created: datetime | None
    system_sell_price: float | None
    system_buy_price: float | None
    net_imbalance_volume: float | None
    price_derivation_code: str | None

    @property
    def end(self) -> datetime:
        """End of the settlement period."""
        return self.start + PERIOD


@dataclass(frozen=True, slots=True)
class MarketIndexPrice:
    """Market index data of one provider for one settlement period: GBP/MWh and MWh."""

    start: datetime
    data_provider: str
    settlement_date: date | None
    settlement_period: int | None
    price: float | None
    volume: float | None

    @property
    def end(self) -> datetime:
        """End of the settlement period."""
        return self.start + PERIOD


def _fuelinst_row(row: Mapping[str, Any]) -> FuelInstRow | None:
    fuel = row.get("fuelType")
    generation = _integer(row.get("generation"))
    start = _parse_time(row.get("startTime"))
    if not isinstance(fuel, str) or not fuel.strip() or generation is None or start is None:
        return None
    return FuelInstRow(
        fuel_type=fuel.strip().upper(),
        generation=generation,
        start=start,
        publish_time=_parse_time(row.get("publishTime")),
        settlement_date=_parse_date(row.get("settlementDate")),
        settlement_period=_integer(row.get("settlementPeriod")),
    )


def latest_mix(rows: Iterable[FuelInstRow]) -> GenerationMix | None:
    """The newest interval among ``rows``, every fuel type's output in it.

    Where a fuel appears twice for that interval, the later publication wins.
    """
    rows = list(rows)
    if not rows:
        return None
    start = max(row.start for row in rows)
    newest = sorted(
        (row for row in rows if row.start == start),
        key=lambda row: row.publish_time or row.start,
    )
    generation = {row.fuel_type: row.generation for row in newest}
    last = newest[-1]
    return GenerationMix(
        start=start,
        publish_time=last.publish_time,
        settlement_date=last.settlement_date,
        settlement_period=last.settlement_period,
        generation=generation,
    )


def _fuel_outturn(row: Mapping[str, Any]) -> FuelOutturn | None:
    fuel = row.get("fuelType")
    if not isinstance(fuel, str) or not fuel.strip():
        return None
    return FuelOutturn(
        fuel_type=fuel.strip().upper(),
        current_usage=_number(row.get("currentUsage")),
        current_percentage=_number(row.get("currentPercentage")),
        half_hour_usage=_number(row.get("halfHourUsage")),
        half_hour_percentage=_number(row.get("halfHourPercentage")),
        twenty_four_hour_usage=_number(row.get("twentyFourHourUsage")),
        twenty_four_hour_percentage=_number(row.get("twentyFourHourPercentage")),
    )


def _demand_row(row: Mapping[str, Any], dataset: str) -> DemandRow | None:
    start = _parse_time(row.get("startTime"))
    demand = _integer(row.get("demand"))
    if start is None or demand is None:
        return None
    name = row.get("dataset")
    return DemandRow(
        dataset=name if isinstance(name, str) else dataset,
        start=start,
        publish_time=_parse_time(row.get("publishTime")),
        settlement_date=_parse_date(row.get("settlementDate")),
        settlement_period=_integer(row.get("settlementPeriod")),
        demand=demand,
    )


def _system_price(row: Mapping[str, Any]) -> SystemPrice | None:
    day = _parse_date(row.get("settlementDate"))
    period = _integer(row.get("settlementPeriod"))
    if day is None or period is None:
        return None
    start = _parse_time(row.get("startTime"))
    if start is None:
        try:
            start = settlement_period_start(day, period)
        except ValueError:
            return None
    code = row.get("priceDerivationCode")
    return SystemPrice(
        settlement_date=day,
        settlement_period=period,
        start=start,
        created=_parse_time(row.get("createdDateTime")),
        system_sell_price=_number(row.get("systemSellPrice")),
        system_buy_price=_number(row.get("systemBuyPrice")),
        net_imbalance_volume=_number(row.get("netImbalanceVolume")),
        price_derivation_code=code if isinstance(code, str) else None,
    )


def _market_index(row: Mapping[str, Any]) -> MarketIndexPrice | None:
    start = _parse_time(row.get("startTime"))
    provider = row.get("dataProvider")
    if start is None or not isinstance(provider, str):
        return None
    return MarketIndexPrice(
        start=start,
        data_provider=provider.strip().upper(),
        settlement_date=_parse_date(row.get("settlementDate")),
        settlement_period=_integer(row.get("settlementPeriod")),
        price=_number(row.get("price")),
        volume=_number(row.get("volume")),
    )


def _parsed[T](rows: Iterable[T | None]) -> list[T]:
    return [row for row in rows if row is not None]


# --- the client ----------------------------------------------------------------------------------


class ElexonClient(JsonApiClient):
    """Elexon BMRS Insights Solution API. No authentication; always asks for JSON."""

    async def _get_rows(
        self, path: str, params: Mapping[str, str | int] | None = None
    ) -> list[Mapping[str, Any]]:
        body = await self._request_json(
            "GET", path, params={**(params or {}), "format": "json"}, allow_empty=True
        )
        return _rows(body)

    async def fuelinst(self, publish_from: datetime, publish_to: datetime) -> list[FuelInstRow]:
        """FUELINST rows published in ``[publish_from, publish_to]``, oldest interval first."""
        rows = await self._get_rows(
            "/datasets/FUELINST",
            {
                "publishDateTimeFrom": format_datetime(publish_from),
                "publishDateTimeTo": format_datetime(publish_to),
            },
        )
        parsed = _parsed(_fuelinst_row(row) for row in rows)
        return sorted(parsed, key=lambda row: (row.start, row.fuel_type))

    async def latest_generation(
        self, publish_from: datetime, publish_to: datetime
    ) -> GenerationMix | None:
        """The newest 5-minute interval published in the window, all fuel types, or None."""
        return latest_mix(await self.fuelinst(publish_from, publish_to))

    async def current_generation(self) -> list[FuelOutturn]:
        """The current generation outturn snapshot: every fuel type, now, last 30 min, 24 h."""
        rows = await self._get_rows("/generation/outturn/current")
        return _parsed(_fuel_outturn(row) for row in rows)

    async def demand(
        self, dataset: DemandDataset, publish_from: datetime, publish_to: datetime
    ) -> list[DemandRow]:
        """INDO (national) or ITSDO (transmission) demand published in the window, oldest first."""
        rows = await self._get_rows(
            f"/datasets/{dataset}",
            {
                "publishDateTimeFrom": format_datetime(publish_from),
                "publishDateTimeTo": format_datetime(publish_to),
            },
        )
        return sorted(_parsed(_demand_row(row, dataset) for row in rows), key=lambda r: r.start)

    async def latest_demand(
        self, dataset: DemandDataset, publish_from: datetime, publish_to: datetime
    ) -> DemandRow | None:
        """The newest half hour of ``dataset`` published in the window, or None."""
        rows = await self.demand(dataset, publish_from, publish_to)
        return rows[-1] if rows else None

    async def system_prices(
        self, settlement_date: date, period: int | None = None
    ) -> list[SystemPrice]:
        """System sell and buy prices of a settlement date, or of one of its periods."""
        path = f"/balancing/settlement/system-prices/{settlement_date.isoformat()}"
        if period is not None:
            path += f"/{period}"
        rows = await self._get_rows(path)
        return sorted(_parsed(_system_price(row) for row in rows), key=lambda r: r.start)

    async def market_index(
        self,
        date_from: date,
        date_to: date,
        period_from: int = 1,
        period_to: int = 50,
        provider: str | None = APX,
    ) -> list[MarketIndexPrice]:
        """Market index prices for settlement dates and periods (one provider, or both)."""
        params: dict[str, str | int] = {
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "settlementPeriodFrom": period_from,
            "settlementPeriodTo": period_to,
        }
        if provider is not None:
            params["dataProviders"] = provider
        rows = await self._get_rows("/balancing/pricing/market-index", params)
        parsed = _parsed(_market_index(row) for row in rows)
        return sorted(parsed, key=lambda r: (r.start, r.data_provider))
