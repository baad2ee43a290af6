"""Octopus Energy REST API v1 (api.octopus.energy), emulated.

Shapes follow `shared/vendor-apis/octopus.md` and its samples: paged lists
`{count, next, previous, results}` with absolute `next`/`previous` links built from the
request's host; consumption newest first unless `order_by=period`, its times in UK local time
with the offset (`+00:00` GMT, `+01:00` BST), so clock-change days have 46 and 50 half-hours;
rates newest first with UTC `Z` times, `valid_to` null for an open-ended price, and one row per
payment method for variable and fixed tariffs; `page_size` capped at 25 000 (consumption) and
1 500 (rates); DRF-style `{"detail": ...}` errors.

One account (`A-1B2C3D4E`, key `sk_live_sandbox`) in region C: an import meter on Agile (a new
Agile product from 2026-04-01), an export meter on Flux export, a SMETS2 gas meter (m³) on
yearly 12-month fixes, and a previous, moved-out property. Every number is a pure function of
the meter point or tariff and the time (sums of sines, the sun, hash-seeded noise), exposed as
`half_hour_consumption`, `unit_rate` and `standing_charge` so tests know the ground truth. The
clock only decides what is published: consumption up to the start of today (UK local), Agile
prices up to 23:00 tomorrow once it is 16:00 in the UK (else 23:00 today).

A fault switch makes one tariff's rates and standing charges answer 404, as the real API does
for some tracker and export products (the account still lists the tariff):

    GET    /_admin/octopus/unpublished-tariffs            {"tariffs": [...]}
    PUT    /_admin/octopus/unpublished-tariffs/{tariff}   its rates answer 404 from now on
    DELETE /_admin/octopus/unpublished-tariffs/{tariff}   published again

Another makes a meter point answer no readings at all (an export meter that never reports,
real for some SMETS1 export meters): its consumption is an empty page.

    GET    /_admin/octopus/silent-meters                  {"points": [...], "asked_from": [...]}
    PUT    /_admin/octopus/silent-meters/{point}          no readings from now on
    DELETE /_admin/octopus/silent-meters/{point}          readings again
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
import functools
import itertools
import math
import re
from typing import Final, Literal

from aiohttp import web
from aiohttp.typedefs import Handler
from yarl import URL

from .common import (
    SLOT,
    JSONObject,
    as_utc,
    clamp,
    floor_slot,
    json_response,
    noise,
    parse_timestamp,
    waves,
)
from .state import SandboxState

VENDOR: Final = "octopus"
MALFORMED_BODY: Final = '{"count": 17520, "next": null, "previous": null, "results": [{"consu'

API_KEY: Final = "sk_live_sandbox"
ACCOUNT_NUMBER: Final = "A-1B2C3D4E"
REGION: Final = "C"

IMPORT_MPAN: Final = "1900000000001"
IMPORT_SERIAL: Final = "21L1234567"
EXPORT_MPAN: Final = "1900000000002"
EXPORT_SERIAL: Final = "21L1234568"
GAS_MPRN: Final = "3000000001"
GAS_SERIAL: Final = "G4A00123456"

DATA_START: Final = datetime(2024, 1, 1, tzinfo=UTC)
"""Consumption and rates exist from here (UK midnight: GMT in January)."""

DEFAULT_PAGE_SIZE: Final = 100
CONSUMPTION_MAX_PAGE_SIZE: Final = 25_000
RATES_MAX_PAGE_SIZE: Final = 1_500

AGILE_PUBLISH_HOUR: Final = 16
"""UK local hour at which the next day's Agile prices (23:00 to 23:00) appear."""
PRICE_ANNOUNCE_AHEAD: Final = timedelta(days=30)
"""How long before a quarterly price change (variable tariffs, standing charges) it is listed."""

DIRECT_DEBIT: Final = "DIRECT_DEBIT"
NON_DIRECT_DEBIT: Final = "NON_DIRECT_DEBIT"
PAYMENT_METHODS: Final = (DIRECT_DEBIT, NON_DIRECT_DEBIT)
VAT: Final = 1.05

REGIONS: Final = "ABCDEFGHJKLMNP"
"""GSP group letters; tariffs exist for each (prices differ a little by region)."""

NOT_FOUND: Final = "Not found."
UNPUBLISHED_DETAIL: Final = "No EnergyProduct matches the given query."
"""Django's `get_object_or_404` wording, the other 404 body seen from the real API (the model
name in it is UNVERIFIED); the unknown tracker products answer `Not found.`."""
UNPUBLISHED: Final = web.AppKey("octopus_unpublished_tariffs", set[str])
"""Tariff codes whose rates answer 404 (on the root app; see `add_admin_routes`)."""
ADMIN_UNPUBLISHED: Final = "/_admin/octopus/unpublished-tariffs"
SILENT: Final = web.AppKey("octopus_silent_meters", set[str])
"""Meter points whose consumption answers no readings (on the root app)."""
SILENT_ASKED: Final = web.AppKey("octopus_silent_asked", list[str])
"""The `period_from` of every consumption request to a silent meter, in order."""
ADMIN_SILENT: Final = "/_admin/octopus/silent-meters"
NO_CREDENTIALS: Final = "Authentication credentials were not provided."
BAD_CREDENTIALS: Final = "Incorrect authentication credentials."
"""DRF's stock messages: the real API is Django REST framework (exact wording UNVERIFIED)."""

type Fuel = Literal["electricity", "gas"]
type Register = Literal["standard", "day", "night"]
type Kind = Literal["agile", "export_tou", "fixed", "variable"]

_RATE_PATHS: Final[Mapping[str, Register | None]] = {
    "standard-unit-rates": "standard",
    "day-unit-rates": "day",
    "night-unit-rates": "night",
    "standing-charges": None,
}


def error_body(status: int, message: str) -> JSONObject:
    """`{"detail": "..."}` as Django REST framework answers; a 401 always reads like Octopus's."""
    return {"detail": BAD_CREDENTIALS if status == 401 else message}


# --- UK local time --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _summer_time(year: int) -> tuple[datetime, datetime]:
    """BST: last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC (the rule of
    `common.uk_utc_offset_hours`, cached: it runs for every half-hour served)."""

    def last_sunday_0100(month: int) -> datetime:
        last_day = datetime(year, month + 1, 1, 1, tzinfo=UTC) - timedelta(days=1)
        return last_day - timedelta(days=(last_day.weekday() + 1) % 7)

    return last_sunday_0100(3), last_sunday_0100(10)


def uk_offset_hours(moment: datetime) -> int:
    """1 in British Summer Time, else 0 (`moment` must be aware)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}")
    start, end = _summer_time(moment.year)  # the year in any offset: BST is never at New Year
    return 1 if start <= moment < end else 0


_BST: Final = timezone(timedelta(hours=1))


def to_uk_local(moment: datetime) -> datetime:
    """`moment` with the UK's offset at that instant (a fixed-offset tzinfo)."""
    moment = as_utc(moment)
    return moment.astimezone(_BST if uk_offset_hours(moment) else UTC)


def uk_time(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """UTC instant of a UK wall-clock time (the first one when the clock goes back)."""
    wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
    for hours in (1, 0):
        candidate = wall - timedelta(hours=hours)
        if uk_offset_hours(candidate) == hours:
            return candidate
    return wall  # inside the spring-forward gap: never asked for by this module


def uk_date(moment: datetime) -> date:
    return to_uk_local(moment).date()


def format_local(moment: datetime) -> str:
    """`2024-05-07T00:30:00+01:00`: consumption times, UK local with the offset."""
    return to_uk_local(moment).isoformat()


def format_utc(moment: datetime) -> str:
    """`2024-05-07T21:30:00Z`: rate times."""
    return as_utc(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def format_agreement_time(moment: datetime) -> str:
    """Agreement and move-in times come as `Z` in winter and with `+01:00` in summer."""
    local = to_uk_local(moment)
    return format_utc(moment) if local.utcoffset() == timedelta(0) else local.isoformat()


def _local_hour(moment: datetime) -> float:
    local = to_uk_local(moment)
    return local.hour + local.minute / 60


def _season(moment: datetime) -> float:
    """+1 in mid-January, -1 in mid-July."""
    day_of_year = moment.timetuple().tm_yday
    return math.cos(2 * math.pi * (day_of_year - 15) / 365.25)


def _quarter_start(moment: datetime) -> datetime:
    """UK midnight starting the calendar quarter (price-cap period) containing `moment`."""
    local = uk_date(moment)
    return uk_time(date(local.year, 3 * ((local.month - 1) // 3) + 1, 1))


def _next_quarter(start: datetime) -> datetime:
    local = uk_date(start)
    month = local.month + 3
    return uk_time(date(local.year + (month > 12), (month - 1) % 12 + 1, 1))


# --- weather and the household --------------------------------------------------------------------

LATITUDE: Final = 51.5
LONGITUDE: Final = -0.1


def _sun(moment: datetime) -> float:
    """Sine of the sun's elevation over London (0 below the horizon)."""
    day_of_year = moment.timetuple().tm_yday + (moment.hour + moment.minute / 60) / 24
    declination = math.radians(23.44) * math.sin(2 * math.pi * (284 + day_of_year) / 365)
    solar_hour = moment.hour + moment.minute / 60 + LONGITUDE / 15
    hour_angle = math.radians(15 * (solar_hour - 12))
    lat = math.radians(LATITUDE)
    return max(
        0.0,
        math.sin(lat) * math.sin(declination)
        + math.cos(lat) * math.cos(declination) * math.cos(hour_angle),
    )


def _wind(moment: datetime) -> float:
    """GB wind capacity factor: fronts passing over days, windier in winter; 0.03-0.97."""
    days = moment.timestamp() / 86400
    level = 0.42 + waves(
        days, ((0.22, 4.3, 0.7), (0.13, 2.1, 2.1), (0.08, 9.7, 4.0), (0.04, 0.9, 1.3))
    )
    return clamp(level + 0.10 * _season(moment), 0.03, 0.97)


@functools.lru_cache(maxsize=4096)
def _daily_weather(day: date) -> tuple[float, float]:
    """(cloud transmission 0.15-1, mean outdoor temperature in C) for a UK day."""
    days = (day - date(2024, 1, 1)).days
    season = math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365.25)
    clouds = clamp(
        0.6 + waves(days, ((0.2, 3.3, 0.4), (0.12, 1.7, 2.0))) + 0.25 * noise("clouds", day),
        0.15,
        1.0,
    )
    temperature = (
        11.0 - 7.0 * season + waves(days, ((2.5, 6.1, 1.0), (1.5, 2.3, 0.2)))
    ) + 1.5 * noise("temperature", day)
    return clouds, temperature


_HOUSE_BY_LOCAL_HOUR: Final = (
    0.12, 0.10, 0.09, 0.09, 0.09, 0.10, 0.16, 0.30, 0.32, 0.22, 0.18, 0.17,
    0.22, 0.18, 0.15, 0.16, 0.24, 0.38, 0.46, 0.42, 0.34, 0.28, 0.22, 0.16,
)  # fmt: skip
"""kWh per half-hour through a weekday (local clock): morning and evening peaks."""

PV_KWP: Final = 4.0


def _household_demand(start: datetime) -> float:
    """kWh the house uses in the half-hour starting at `start`."""
    mid = start + SLOT / 2
    local = to_uk_local(mid)
    hour = local.hour + local.minute / 60
    low = _HOUSE_BY_LOCAL_HOUR[int(hour) % 24]
    high = _HOUSE_BY_LOCAL_HOUR[(int(hour) + 1) % 24]
    shape = low + (high - low) * (hour - int(hour))
    if local.weekday() >= 5 and 9 <= hour < 16:
        shape *= 1.35  # at home at the weekend
    stamp = int(start.timestamp())
    demand = shape * (1 + 0.25 * _season(mid)) * (1 + 0.22 * noise("demand", stamp))
    kick = noise("appliance", stamp)
    if 7 <= hour < 22 and kick > 0.9:  # kettle, oven, washing machine...
        demand += 0.3 + 6 * (kick - 0.9)
    return max(0.02, demand)


def _solar(start: datetime) -> float:
    """kWh the roof's PV makes in the half-hour starting at `start`."""
    mid = start + SLOT / 2
    clouds, _ = _daily_weather(uk_date(mid))
    passing = clamp(clouds + 0.15 * noise("passing", int(start.timestamp())), 0.1, 1.0)
    return PV_KWP * 0.5 * 0.82 * math.pow(_sun(mid), 1.15) * passing


@functools.lru_cache(maxsize=65536)
def _balance(start: datetime) -> tuple[float, float]:
    """(household demand, PV output) in kWh for the half-hour starting at `start`."""
    return _household_demand(start), _solar(start)


def _import_kwh(start: datetime) -> float:
    demand, solar = _balance(start)
    return round(max(0.0, demand - solar), 3)


def _export_kwh(start: datetime) -> float:
    demand, solar = _balance(start)
    return round(max(0.0, solar - demand), 3)


_GAS_KWH_PER_M3: Final = 1.02264 * 39.5 / 3.6


def _gas_m3(start: datetime) -> float:
    """m³ in the half-hour starting at `start`: heating on a timer, hot water, cooking."""
    mid = start + SLOT / 2
    local = to_uk_local(mid)
    hour = local.hour + local.minute / 60
    _, temperature = _daily_weather(local.date())
    heating_day_kwh = 3.4 * max(0.0, 16.0 - temperature)
    kwh = 0.0
    if 6 <= hour < 9:
        kwh += heating_day_kwh * 0.45 / 6
    elif 16.5 <= hour < 22.5:
        kwh += heating_day_kwh * 0.55 / 12
    if 6.5 <= hour < 7.5 or 18 <= hour < 19:
        kwh += 1.6  # hot water
    if 17.5 <= hour < 18.5:
        kwh += 0.5  # the hob
    if kwh == 0:
        return 0.0
    kwh *= 1 + 0.2 * noise("gas", int(start.timestamp()))
    return round(kwh / _GAS_KWH_PER_M3, 3)


# --- products and tariffs -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    kind: Kind
    available_from: datetime
    forms: frozenset[str]  # "E-1R", "E-2R", "G-1R"
    # base prices in p exc VAT: unit rates by register, then the standing charge per day
    standard: float = 0.0
    day: float = 0.0
    night: float = 0.0
    gas: float = 0.0
    standing_electricity: float = 0.0
    standing_gas: float = 0.0
    # Agile: wholesale multiplier and 16:00-19:00 adder; Flux export: band prices
    multiplier: float = 0.0
    peak_adder: float = 0.0
    bands: tuple[tuple[int, int, float], ...] = ()

    @property
    def rates_from(self) -> datetime:
        return max(DATA_START, self.available_from)


_FLUX_BANDS: Final = ((2, 5, 8.2), (5, 16, 14.6), (16, 19, 26.9), (19, 26, 14.6))
"""Flux export (UK local hours, p/kWh, no VAT): off-peak, day, peak, day until 02:00."""

PRODUCTS: Final[Mapping[str, Product]] = {
    product.code: product
    for product in (
        Product(
            "AGILE-23-12-06",
            "agile",
            uk_time(date(2023, 12, 6)),
            frozenset({"E-1R"}),
            standing_electricity=45.0,
            multiplier=2.2,
            peak_adder=11.0,
        ),
        Product(
            "AGILE-24-10-01",
            "agile",
            uk_time(date(2024, 10, 1)),
            frozenset({"E-1R"}),
            standing_electricity=47.5,
            multiplier=2.0,
            peak_adder=13.0,
        ),
        Product(
            "FLUX-EXPORT-23-02-14",
            "export_tou",
            uk_time(date(2023, 2, 14)),
            frozenset({"E-1R"}),
            bands=_FLUX_BANDS,
        ),
        Product(
            "VAR-22-11-01",
            "variable",
            uk_time(date(2022, 11, 1)),
            frozenset({"E-1R", "E-2R", "G-1R"}),
            standard=24.05,
            day=30.0,
            night=12.6,
            gas=5.68,
            standing_electricity=45.6,
            standing_gas=27.6,
        ),
        *(
            Product(
                f"OE-FIX-12M-{year % 100:02d}-06-01",
                "fixed",
                uk_time(date(year, 6, 1)),
                frozenset({"E-1R", "G-1R"}),
                standard=21.5 + 0.8 * (year - 2023) + noise("fix", year),
                gas=5.1 + 0.25 * (year - 2023) + 0.3 * noise("fix gas", year),
                standing_electricity=44.0 + 1.5 * (year - 2023),
                standing_gas=27.0 + 1.2 * (year - 2023),
            )
            for year in range(2023, 2027)
        ),
    )
}
"""Every product the sandbox serves rates for, in every region."""

_REGION_FACTORS: Final[Mapping[str, float]] = {
    letter: round(1.0 + 0.06 * noise("region", letter), 3) for letter in REGIONS
}


@dataclass(frozen=True, slots=True)
class Tariff:
    code: str
    product: Product
    fuel: Fuel
    registers: str  # "1R" / "2R"
    region: str

    @property
    def region_factor(self) -> float:
        return _REGION_FACTORS[self.region]

    @property
    def has_vat(self) -> bool:
        return self.product.kind != "export_tou"


_TARIFF_CODE: Final = re.compile(
    r"^(?P<fuel>[EG])-(?P<registers>[12]R)-(?P<product>[A-Z0-9-]+)-(?P<region>[A-Z])$"
)


def find_tariff(tariff_code: str) -> Tariff | None:
    """The sandbox tariff a code names, or None (unknown product, region or register form)."""
    match = _TARIFF_CODE.match(tariff_code)
    if match is None:
        return None
    product = PRODUCTS.get(match["product"])
    form = f"{match['fuel']}-{match['registers']}"
    if product is None or form not in product.forms or match["region"] not in REGIONS:
        return None
    fuel: Fuel = "electricity" if match["fuel"] == "E" else "gas"
    return Tariff(tariff_code, product, fuel, match["registers"], match["region"])


def tariff_code(product_code: str, form: str = "E-1R", region: str = REGION) -> str:
    return f"{form}-{product_code}-{region}"


# --- prices ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _wholesale(start: datetime) -> float:
    """Day-ahead price (p/kWh) of the half-hour: residual demand after wind and sun."""
    mid = start + SLOT / 2
    hour = _local_hour(mid)
    local = to_uk_local(mid)
    season = _season(mid)
    low = _HOUSE_BY_LOCAL_HOUR[int(hour) % 24]
    high = _HOUSE_BY_LOCAL_HOUR[(int(hour) + 1) % 24]
    demand = 0.55 + 1.0 * (low + (high - low) * (hour - int(hour)))  # ~0.64-1.01
    demand *= (1 + 0.12 * season) * (0.9 if local.weekday() >= 5 else 1.0)
    clouds, _ = _daily_weather(local.date())
    surplus = demand - 0.75 * _wind(mid) - 0.5 * _sun(mid) * clouds - 0.366  # 0 on average
    slope = 20.0 if surplus < 0 else 14.0  # windy, sunny, quiet hours push it below zero
    return 8.5 + slope * surplus + 0.8 * noise("wholesale", int(start.timestamp()))


def _agile_exc(tariff: Tariff, start: datetime) -> float:
    product = tariff.product
    price = product.multiplier * _wholesale(start) * tariff.region_factor
    if 16 <= _local_hour(start) < 19:
        price += product.peak_adder * tariff.region_factor
    return round(min(price, 100 / VAT), 2)


def _quarter_factor(product: Product, quarter: datetime) -> float:
    """Variable prices and standing charges move with each price-cap quarter."""
    quarters = (uk_date(quarter).year - 2024) * 4 + (uk_date(quarter).month - 1) // 3
    return 1.0 + 0.01 * quarters + 0.05 * noise("quarter", product.code, quarters)


def _band_at(tariff: Tariff, moment: datetime) -> tuple[datetime, datetime, float]:
    """The Flux export row containing `moment`: (valid_from, valid_to, p/kWh). A row is priced
    for the quarter it starts in."""
    local = to_uk_local(moment)
    hour = local.hour + local.minute / 60
    for first, last, price in tariff.product.bands:
        if first <= hour < last:
            day = local.date()
        elif first <= hour + 24 < last:
            day = local.date() - timedelta(days=1)
        else:
            continue
        row_from = uk_time(day + timedelta(days=first // 24), first % 24)
        row_to = uk_time(day + timedelta(days=last // 24), last % 24)
        factor = _quarter_factor(tariff.product, _quarter_start(row_from))
        return row_from, row_to, round(price * factor * tariff.region_factor, 2)
    raise AssertionError("the bands cover the day")  # pragma: no cover


def _flat_unit_exc(tariff: Tariff, register: Register, start: datetime) -> float:
    """Variable (quarterly) or fixed (constant) unit rate, direct debit, exc VAT."""
    product = tariff.product
    if tariff.fuel == "gas":
        base = product.gas
    else:
        base = {"standard": product.standard, "day": product.day, "night": product.night}[register]
    factor = _quarter_factor(product, _quarter_start(start)) if product.kind == "variable" else 1.0
    return round(base * factor * tariff.region_factor, 3)


def _standing_exc(tariff: Tariff, start: datetime) -> float | None:
    product = tariff.product
    if product.kind == "export_tou":
        return None
    base = product.standing_gas if tariff.fuel == "gas" else product.standing_electricity
    if tariff.registers == "2R":
        base += 0.5
    factor = 1.0 if product.kind == "fixed" else _quarter_factor(product, _quarter_start(start))
    return round(base * factor * tariff.region_factor, 3)


def _non_direct_debit(value: float) -> float:
    return round(value * 1.07, 3)


def _with_vat(value: float, tariff: Tariff) -> float:
    return round(value * VAT, 4) if tariff.has_vat else value


def _register_ok(tariff: Tariff, register: Register | None) -> bool:
    if register is None:
        return True
    if tariff.product.kind in ("agile", "export_tou") or tariff.fuel == "gas":
        return register == "standard"
    return (register == "standard") == (tariff.registers == "1R")


def unit_rate(
    tariff_code: str,
    start: datetime,
    *,
    register: Register = "standard",
    payment_method: str = DIRECT_DEBIT,
    inc_vat: bool = True,
) -> float | None:
    """Ground truth: the unit rate (p/kWh) in force at `start`, whether or not it is published
    yet at the sandbox's clock. None for an unknown tariff, a register it does not have, or a
    time before its rates begin. Agile and Flux have one price whatever the payment method."""
    tariff = find_tariff(tariff_code)
    start = as_utc(start)
    if tariff is None or not _register_ok(tariff, register) or start < tariff.product.rates_from:
        return None
    kind = tariff.product.kind
    if kind == "agile":
        value = _agile_exc(tariff, floor_slot(start))
    elif kind == "export_tou":
        row_from, _, value = _band_at(tariff, start)
        if row_from < tariff.product.rates_from:
            return None
    else:
        value = _flat_unit_exc(tariff, register, start)
        if payment_method != DIRECT_DEBIT:
            value = _non_direct_debit(value)
    return _with_vat(value, tariff) if inc_vat else value


def standing_charge(
    tariff_code: str,
    day: date | datetime,
    *,
    payment_method: str = DIRECT_DEBIT,
    inc_vat: bool = True,
) -> float | None:
    """Ground truth: the standing charge (p/day) for a UK day (or at an instant). None for an
    unknown tariff, an export tariff (they have none) or before the product's rates begin."""
    moment = as_utc(day) if isinstance(day, datetime) else uk_time(day)
    tariff = find_tariff(tariff_code)
    if tariff is None or moment < tariff.product.rates_from:
        return None
    value = _standing_exc(tariff, moment)
    if value is None:
        return None
    if payment_method != DIRECT_DEBIT:
        value = _non_direct_debit(value)
    return _with_vat(value, tariff) if inc_vat else value


def agile_published_until(now: datetime) -> datetime:
    """End of the last published Agile half-hour: 23:00 UK tomorrow from 16:00 UK, else today."""
    local = to_uk_local(now)
    day = local.date() + timedelta(days=1 if local.hour >= AGILE_PUBLISH_HOUR else 0)
    return uk_time(day, 23)


def consumption_available_until(now: datetime) -> datetime:
    """Consumption is listed up to the start of today, UK local time (a day late)."""
    return uk_time(uk_date(now))


# --- the account ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgreementSpec:
    tariff_code: str
    valid_from: datetime
    valid_to: datetime | None

    def covers(self, moment: datetime) -> bool:
        return self.valid_from <= moment and (self.valid_to is None or moment < self.valid_to)


@dataclass(frozen=True, slots=True)
class MeterPointSpec:
    fuel: Fuel
    point: str
    serial: str
    agreements: tuple[AgreementSpec, ...]
    consumption: Callable[[datetime], float]
    is_export: bool = False


def _agreements(*rows: tuple[str, date, date | None]) -> tuple[AgreementSpec, ...]:
    return tuple(
        AgreementSpec(code, uk_time(first), None if last is None else uk_time(last))
        for code, first, last in rows
    )


MOVED_IN: Final = date(2023, 6, 15)
AGILE_CHANGE: Final = date(2026, 4, 1)

METER_POINTS: Final[Mapping[str, MeterPointSpec]] = {
    spec.point: spec
    for spec in (
        MeterPointSpec(
            "electricity",
            IMPORT_MPAN,
            IMPORT_SERIAL,
            _agreements(
                (tariff_code("VAR-22-11-01"), MOVED_IN, date(2023, 12, 15)),
                (tariff_code("AGILE-23-12-06"), date(2023, 12, 15), AGILE_CHANGE),
                (tariff_code("AGILE-24-10-01"), AGILE_CHANGE, None),
            ),
            _import_kwh,
        ),
        MeterPointSpec(
            "electricity",
            EXPORT_MPAN,
            EXPORT_SERIAL,
            _agreements((tariff_code("FLUX-EXPORT-23-02-14"), MOVED_IN, None)),
            _export_kwh,
            is_export=True,
        ),
        MeterPointSpec(
            "gas",
            GAS_MPRN,
            GAS_SERIAL,
            _agreements(
                *(
                    (
                        tariff_code(f"OE-FIX-12M-{year % 100:02d}-06-01", "G-1R"),
                        date(year, 6, 15),
                        date(year + 1, 6, 15),
                    )
                    for year in range(2023, 2027)
                ),
                (tariff_code("VAR-22-11-01", "G-1R"), date(2027, 6, 15), None),
            ),
            _gas_m3,
        ),
    )
}
"""The account's live meter points by MPAN/MPRN."""

IMPORT_TARIFF_CHANGE: Final = uk_time(AGILE_CHANGE)


def half_hour_consumption(meter_point: str, start: datetime) -> float:
    """Ground truth: what the meter recorded in the half-hour containing `start` (kWh; m³ for
    the gas meter; the export meter's figure is energy exported). KeyError for an unknown
    meter point. Defined for any time; the API lists it from 2024 once a day has passed."""
    return METER_POINTS[meter_point].consumption(floor_slot(start))


def tariff_code_at(meter_point: str, moment: datetime) -> str | None:
    """Ground truth: the tariff code of the meter point's agreement at `moment`."""
    moment = as_utc(moment)
    spec = METER_POINTS[meter_point]
    return next((a.tariff_code for a in spec.agreements if a.covers(moment)), None)


def _agreement_json(agreement: AgreementSpec) -> JSONObject:
    return {
        "tariff_code": agreement.tariff_code,
        "valid_from": format_agreement_time(agreement.valid_from),
        "valid_to": None
        if agreement.valid_to is None
        else format_agreement_time(agreement.valid_to),
    }


def _electricity_point_json(spec: MeterPointSpec) -> JSONObject:
    return {
        "mpan": spec.point,
        "profile_class": 1,
        "consumption_standard": 1900 if spec.is_export else 3100,
        "meters": [
            {
                "serial_number": spec.serial,
                "registers": [
                    {"identifier": "1", "rate": "STANDARD", "is_settlement_register": True}
                ],
            }
        ],
        "agreements": [_agreement_json(agreement) for agreement in spec.agreements],
        "is_export": spec.is_export,
    }


def account_json(now: datetime) -> JSONObject:
    """The account as `GET /v1/accounts/A-1B2C3D4E/` lists it at `now` (agreements that start
    in the future are not listed yet)."""

    def visible(point: str) -> MeterPointSpec:
        """Agreements more than a month ahead are not listed; the last listed one is then
        open-ended."""
        spec = METER_POINTS[point]
        shown = [a for a in spec.agreements if a.valid_from <= now + PRICE_ANNOUNCE_AHEAD]
        if shown and len(shown) < len(spec.agreements):
            shown[-1] = replace(shown[-1], valid_to=None)
        return replace(spec, agreements=tuple(shown))

    import_point, export_point, gas_point = (
        visible(point) for point in (IMPORT_MPAN, EXPORT_MPAN, GAS_MPRN)
    )
    current: JSONObject = {
        "id": 4_815_162,
        "moved_in_at": format_agreement_time(uk_time(MOVED_IN)),
        "moved_out_at": None,
        "address_line_1": "1 Sandbox Row",
        "address_line_2": "",
        "address_line_3": "",
        "town": "LONDON",
        "county": "",
        "postcode": "N1 9SB",
        "electricity_meter_points": [
            _electricity_point_json(import_point),
            _electricity_point_json(export_point),
        ],
        "gas_meter_points": [
            {
                "mprn": gas_point.point,
                "consumption_standard": 9600,
                "meters": [{"serial_number": gas_point.serial}],
                "agreements": [_agreement_json(a) for a in gas_point.agreements],
            }
        ],
    }
    previous: JSONObject = {
        "id": 2_718_281,
        "moved_in_at": "2019-09-02T00:00:00+01:00",
        "moved_out_at": format_agreement_time(uk_time(MOVED_IN)),
        "address_line_1": "Flat 2",
        "address_line_2": "7 Old Street",
        "address_line_3": "",
        "town": "LONDON",
        "county": "",
        "postcode": "EC1V 9AA",
        "electricity_meter_points": [
            {
                "mpan": "1900000000099",
                "profile_class": 1,
                "consumption_standard": 2400,
                "meters": [
                    {
                        "serial_number": "18P0000099",
                        "registers": [
                            {"identifier": "1", "rate": "STANDARD", "is_settlement_register": True}
                        ],
                    }
                ],
                "agreements": [
                    {
                        "tariff_code": tariff_code("VAR-22-11-01"),
                        "valid_from": "2022-11-01T00:00:00Z",
                        "valid_to": format_agreement_time(uk_time(MOVED_IN)),
                    }
                ],
                "is_export": False,
            }
        ],
        "gas_meter_points": [],
    }
    return {"number": ACCOUNT_NUMBER, "properties": [current, previous]}


# --- rate rows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateRow:
    value_exc_vat: float
    value_inc_vat: float
    valid_from: datetime
    valid_to: datetime | None
    payment_method: str | None

    def as_json(self) -> JSONObject:
        return {
            "value_exc_vat": self.value_exc_vat,
            "value_inc_vat": self.value_inc_vat,
            "valid_from": format_utc(self.valid_from),
            "valid_to": None if self.valid_to is None else format_utc(self.valid_to),
            "payment_method": self.payment_method,
        }


class _Rows(ABC):
    """A newest-first list of rows that can be paged without building all of it."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def page(self, offset: int, limit: int) -> list[JSONObject]:
        """Rows `offset` to `offset + limit` (newest first), as JSON."""


class _ListRows(_Rows):
    def __init__(self, rows: Sequence[RateRow]) -> None:
        order = {DIRECT_DEBIT: 0, None: 1, NON_DIRECT_DEBIT: 2}
        self._rows = sorted(
            rows, key=lambda row: (-row.valid_from.timestamp(), order[row.payment_method])
        )

    def __len__(self) -> int:
        return len(self._rows)

    def page(self, offset: int, limit: int) -> list[JSONObject]:
        return [row.as_json() for row in self._rows[offset : offset + limit]]


class _AgileRows(_Rows):
    """One row per half-hour in `[first, end)`, computed on demand."""

    def __init__(self, tariff: Tariff, first: datetime, end: datetime) -> None:
        self._tariff = tariff
        self._end = end
        self._count = max(0, int((end - first) / SLOT))

    def __len__(self) -> int:
        return self._count

    def page(self, offset: int, limit: int) -> list[JSONObject]:
        rows = []
        for index in range(offset, min(offset + limit, self._count)):
            start = self._end - (index + 1) * SLOT
            exc = _agile_exc(self._tariff, start)
            rows.append(RateRow(exc, round(exc * VAT, 4), start, start + SLOT, None).as_json())
        return rows


def _overlaps(row: RateRow, first: datetime, end: datetime) -> bool:
    return row.valid_from < end and (row.valid_to is None or row.valid_to > first)


def _band_rows(tariff: Tariff, first: datetime, end: datetime) -> list[RateRow]:
    """Flux export: a row per band per UK day, those overlapping `[first, end)`."""
    rows = []
    day = uk_date(max(first, tariff.product.rates_from)) - timedelta(days=1)
    while uk_time(day) < end:
        for band_from, _, _ in tariff.product.bands:
            row_from, row_to, value = _band_at(tariff, uk_time(day, band_from))
            row = RateRow(value, value, row_from, row_to, None)
            if row_from >= tariff.product.rates_from and _overlaps(row, first, end):
                rows.append(row)
        day += timedelta(days=1)
    return rows


def _price_periods(product: Product, now: datetime) -> list[tuple[datetime, datetime | None]]:
    """(valid_from, valid_to) of each announced price; the last is open-ended."""
    if product.kind == "fixed":
        return [(product.rates_from, None)]
    starts = [product.rates_from]
    following = _next_quarter(_quarter_start(product.rates_from))
    while following <= now + PRICE_ANNOUNCE_AHEAD:
        starts.append(following)
        following = _next_quarter(following)
    return [(start, nxt) for start, nxt in itertools.pairwise(starts)] + [(starts[-1], None)]


def _flat_rows(
    tariff: Tariff, register: Register | None, first: datetime, end: datetime, now: datetime
) -> list[RateRow]:
    """Variable/fixed unit rates or any standing charge: a row per payment method per price."""
    rows = []
    for valid_from, valid_to in _price_periods(tariff.product, now):
        if register is None:
            base = _standing_exc(tariff, valid_from)
            if base is None:
                return []
        else:
            base = _flat_unit_exc(tariff, register, valid_from)
        for method in PAYMENT_METHODS:
            value = base if method == DIRECT_DEBIT else _non_direct_debit(base)
            row = RateRow(value, _with_vat(value, tariff), valid_from, valid_to, method)
            if _overlaps(row, first, end):
                rows.append(row)
    return rows


def rate_rows(
    tariff: Tariff,
    register: Register | None,
    period_from: datetime | None,
    period_to: datetime | None,
    now: datetime,
) -> _Rows:
    """The rows a rates endpoint lists at `now` overlapping `[period_from, period_to)`;
    `register` None means the standing charges."""
    first = period_from or tariff.product.rates_from
    kind = tariff.product.kind
    if register is not None and kind == "agile":
        end = agile_published_until(now)
        if period_to is not None:
            end = min(end, _ceil_slot(period_to))
        return _AgileRows(tariff, max(floor_slot(first), tariff.product.rates_from), end)
    if register is not None and kind == "export_tou":
        end = uk_time(uk_date(now) + timedelta(days=2))  # today's and tomorrow's rows
        return _ListRows(_band_rows(tariff, first, min(end, period_to or end)))
    return _ListRows(_flat_rows(tariff, register, first, period_to or _FAR_FUTURE, now))


_FAR_FUTURE: Final = datetime(9999, 1, 1, tzinfo=UTC)


def _ceil_slot(moment: datetime) -> datetime:
    floored = floor_slot(moment)
    return floored if floored == moment else floored + SLOT


# --- request handling -----------------------------------------------------------------------------


class _BadRequest(Exception):
    """Raised by the parsers; becomes a 400 with a DRF-style field error body."""

    def __init__(self, body: JSONObject) -> None:
        super().__init__(str(body))
        self.body = body


class _NotFound(Exception):
    """Becomes a 404 `{"detail": "Not found."}`."""


class _Unauthorized(Exception):
    """Becomes a 401 with the DRF message and a `WWW-Authenticate` challenge."""


def _query_time(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if text is None or text == "":
        return None
    moment = parse_timestamp(text)
    if moment is None:
        raise _BadRequest({name: ["Enter a valid date/time."]})
    return moment


def _period(request: web.Request) -> tuple[datetime | None, datetime | None]:
    period_from = _query_time(request, "period_from")
    period_to = _query_time(request, "period_to")
    if period_to is not None and period_from is None:
        raise _BadRequest({"period_to": ["period_to requires period_from."]})
    return period_from, period_to


def _positive_int(text: str | None) -> int | None:
    return int(text) if text is not None and re.fullmatch(r"[0-9]{1,9}", text) else None


def paged_response(
    request: web.Request,
    count: int,
    fetch: Callable[[int, int], list[JSONObject]],
    max_page_size: int,
) -> web.Response:
    """DRF page-number pagination: `page` from 1, `page_size` capped at `max_page_size`."""
    size = _positive_int(request.query.get("page_size")) or DEFAULT_PAGE_SIZE
    size = min(size, max_page_size)
    page_text = request.query.get("page")
    page = 1 if page_text is None else _positive_int(page_text)
    pages = max(1, math.ceil(count / size))
    if page is None or not 1 <= page <= pages:
        raise _NotFound("Invalid page.")
    offset = (page - 1) * size
    url: URL = request.url
    next_url = str(url.update_query(page=str(page + 1))) if page < pages else None
    if page == 1:
        previous = None
    elif page == 2:
        previous = str(url.without_query_params("page"))
    else:
        previous = str(url.update_query(page=str(page - 1)))
    return json_response(
        {
            "count": count,
            "next": next_url,
            "previous": previous,
            "results": fetch(offset, min(size, count - offset)),
        }
    )


def _consumption_item(spec: MeterPointSpec, start: datetime) -> JSONObject:
    return {
        "consumption": spec.consumption(start),
        "interval_start": format_local(start),
        "interval_end": format_local(start + SLOT),
    }


class _Handlers:
    def __init__(self, state: SandboxState) -> None:
        self._state = state

    async def account(self, request: web.Request) -> web.Response:
        _authenticate(request, required=True)
        if request.match_info["account"].upper() != ACCOUNT_NUMBER:
            raise _NotFound(NOT_FOUND)
        return json_response(account_json(self._state.now()))

    async def consumption(self, request: web.Request) -> web.Response:
        _authenticate(request, required=True)
        info = request.match_info
        spec = METER_POINTS.get(info["point"])
        if spec is None or spec.fuel != info["fuel"] or spec.serial != info["serial"]:
            raise _NotFound(NOT_FOUND)
        period_from, period_to = _period(request)
        order = request.query.get("order_by", "-period")
        if order not in ("period", "-period"):
            raise _BadRequest(
                {
                    "order_by": [
                        f"Select a valid choice. {order} is not one of the available choices."
                    ]
                }
            )
        if "group_by" in request.query:
            raise _BadRequest({"group_by": ["The sandbox serves half-hours only."]})
        first = max(DATA_START, _ceil_slot(period_from) if period_from else DATA_START)
        end = consumption_available_until(self._state.now())
        if period_to is not None:
            end = min(end, _ceil_slot(period_to))
        count = max(0, int((end - first) / SLOT))
        if spec.point in request.config_dict.get(SILENT, set()):
            count = 0
            request.config_dict[SILENT_ASKED].append(request.query.get("period_from", ""))

        def fetch(offset: int, limit: int) -> list[JSONObject]:
            if order == "period":
                starts = (first + index * SLOT for index in range(offset, offset + limit))
            else:
                starts = (end - (index + 1) * SLOT for index in range(offset, offset + limit))
            return [_consumption_item(spec, start) for start in starts]

        return paged_response(request, count, fetch, CONSUMPTION_MAX_PAGE_SIZE)

    async def rates(self, request: web.Request) -> web.Response:
        _authenticate(request, required=False)
        info = request.match_info
        tariff = find_tariff(info["tariff"])
        if tariff is None or tariff.product.code != info["product"] or tariff.fuel != info["fuel"]:
            raise _NotFound(NOT_FOUND)
        if tariff.code in request.config_dict.get(UNPUBLISHED, set()):
            raise _NotFound(UNPUBLISHED_DETAIL)
        register = _RATE_PATHS[info["kind"]]
        if not _register_ok(tariff, register):
            if tariff.registers == "2R":
                raise _BadRequest({"detail": "This tariff has day and night rates."})
            raise _BadRequest({"detail": "This tariff has no day and night rates."})
        period_from, period_to = _period(request)
        rows = rate_rows(tariff, register, period_from, period_to, self._state.now())
        return paged_response(request, len(rows), rows.page, RATES_MAX_PAGE_SIZE)


def _authenticate(request: web.Request, *, required: bool) -> None:
    """The key is the Basic user name (any password). Public endpoints take no key, but a
    wrong one is still refused (as Django REST framework does)."""
    header = request.headers.get("Authorization")
    if header is None:
        if required:
            raise _Unauthorized(NO_CREDENTIALS)
        return
    if basic_auth_user(header) != API_KEY:
        raise _Unauthorized(BAD_CREDENTIALS)


def basic_auth_user(header: str) -> str | None:
    """The user name of a `Basic` Authorization header, None if it is not one."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return None
    user, colon, _ = decoded.partition(":")
    return user if colon else None


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _BadRequest as err:
        return json_response(err.body, status=400)
    except _NotFound as err:
        return json_response({"detail": str(err)}, status=404)
    except _Unauthorized as err:
        return json_response(
            {"detail": str(err)}, status=401, headers={"WWW-Authenticate": 'Basic realm="api"'}
        )


def add_routes(app: web.Application, state: SandboxState) -> None:
    """Mount the API on `app` (the vendor's subapp: paths are relative to its prefix)."""
    handlers = _Handlers(state)
    app.middlewares.append(_errors)
    kinds = "|".join(_RATE_PATHS)
    app.router.add_routes(
        [
            web.get("/v1/accounts/{account}/", handlers.account),
            web.get(
                "/v1/{fuel:electricity|gas}-meter-points/{point}/meters/{serial}/consumption/",
                handlers.consumption,
            ),
            web.get(
                f"/v1/products/{{product}}/{{fuel:electricity|gas}}-tariffs/{{tariff}}/{{kind:{kinds}}}/",
                handlers.rates,
            ),
        ]
    )


def add_admin_routes(app: web.Application, state: SandboxState) -> None:
    """The unpublished-tariff switch, on the root app under `/_admin` (never counted as an
    Octopus request, never faulted)."""
    unpublished: set[str] = set()
    app[UNPUBLISHED] = unpublished

    def listing(request: web.Request) -> web.Response:
        return json_response({"tariffs": sorted(unpublished)})

    async def show(request: web.Request) -> web.Response:
        return listing(request)

    async def unpublish(request: web.Request) -> web.Response:
        unpublished.add(request.match_info["tariff"].strip().upper())
        return listing(request)

    async def publish(request: web.Request) -> web.Response:
        unpublished.discard(request.match_info["tariff"].strip().upper())
        return listing(request)

    app.router.add_routes(
        [
            web.get(ADMIN_UNPUBLISHED, show),
            web.put(f"{ADMIN_UNPUBLISHED}/{{tariff}}", unpublish),
            web.delete(f"{ADMIN_UNPUBLISHED}/{{tariff}}", publish),
        ]
    )
    silent: set[str] = set()
    asked: list[str] = []
    app[SILENT] = silent
    app[SILENT_ASKED] = asked

    def silent_listing() -> web.Response:
        return json_response({"points": sorted(silent), "asked_from": list(asked)})

    async def show_silent(request: web.Request) -> web.Response:
        return silent_listing()

    async def silence(request: web.Request) -> web.Response:
        silent.add(request.match_info["point"].strip())
        return silent_listing()

    async def unsilence(request: web.Request) -> web.Response:
        silent.discard(request.match_info["point"].strip())
        return silent_listing()

    app.router.add_routes(
        [
            web.get(ADMIN_SILENT, show_silent),
            web.put(f"{ADMIN_SILENT}/{{point}}", silence),
            web.delete(f"{ADMIN_SILENT}/{{point}}", unsilence),
        ]
    )
