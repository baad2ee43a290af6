"""Client for the Octopus Energy (Kraken) REST API v1: account, consumption, tariff rates.

Pure aiohttp. The API key is sent as the HTTP Basic user name with an empty password. Every
time in a model is an aware UTC datetime: consumption comes with a UK local offset and rates
in UTC; both are converted on parsing. Rates are in pence (p/kWh, standing charges p/day).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import json
import re
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlsplit

import aiohttp

from .errors import ApiAuthError, ApiConnectionError, ApiNotFoundError, ApiResponseError
from .http import DEFAULT_TIMEOUT, JsonApiClient
from .parse import iso_time, text_or_id

DEFAULT_BASE_URL: Final = "https://api.octopus.energy"

CONSUMPTION_PAGE_SIZE: Final = 25_000
"""The largest page the consumption endpoints serve: a year of half-hours in one request."""
RATES_PAGE_SIZE: Final = 1_500
"""The largest page the unit-rate and standing-charge endpoints serve."""
MAX_PAGES: Final = 500
"""A guard against a server whose ``next`` links never end."""

DIRECT_DEBIT: Final = "DIRECT_DEBIT"
NON_DIRECT_DEBIT: Final = "NON_DIRECT_DEBIT"

_TARIFF_CODE = re.compile(
    r"^(?:(?P<fuel>[A-Z])-(?P<registers>[0-9A-Z]+)-)?(?P<product>[A-Z0-9-]+)-(?P<region>[A-Z])$"
)


class Fuel(StrEnum):
    """The fuel of a tariff; the value is the word used in the API paths."""

    ELECTRICITY = "electricity"
    GAS = "gas"


class RateRegister(StrEnum):
    """Which unit-rate list to fetch; the value is the path segment."""

    STANDARD = "standard-unit-rates"
    DAY = "day-unit-rates"
    NIGHT = "night-unit-rates"


@dataclass(frozen=True, slots=True)
class TariffCode:
    """A tariff code taken apart: ``E-1R-AGILE-24-10-01-C``."""

    code: str
    fuel: Fuel
    #: ``1R``, ``2R``, ``FLAT2R``...; None when the code has no fuel/register prefix.
    registers: str | None
    product_code: str
    #: The GSP group letter (``A``..``P``).
    region: str

    @property
    def is_dual_register(self) -> bool:
        """Day/night (Economy 7 style): rates come from day- and night-unit-rates only."""
        return self.registers is not None and self.registers.startswith("2")


def parse_tariff_code(code: str) -> TariffCode:
    """Split a tariff code into fuel, registers, product code and region.

    ``E-1R-AGILE-24-10-01-C`` -> electricity, ``1R``, ``AGILE-24-10-01``, ``C``;
    ``G-1R-SUPER-GREEN-24M-21-07-30-A`` -> gas; ``E-2R-VAR-22-11-01-A`` is dual register;
    a code without the prefix (``V2G-EXPORT-12M-FIXED-22-12-01-C``) is taken as electricity.
    The product code is not always derivable (some business tariffs): callers that know it
    (e.g. from the product's links) pass it to the rate methods instead. Raises ValueError.
    """
    text = code.strip().upper()
    match = _TARIFF_CODE.match(text)
    if match is None:
        raise ValueError(f"not a tariff code: {code!r}")
    letter = match["fuel"]
    if letter in (None, "E"):
        fuel = Fuel.ELECTRICITY
    elif letter == "G":
        fuel = Fuel.GAS
    else:
        raise ValueError(f"unknown fuel {letter!r} in tariff code {code!r}")
    return TariffCode(
        code=text,
        fuel=fuel,
        registers=match["registers"],
        product_code=match["product"],
        region=match["region"],
    )


# --- models ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Agreement:
    """A tariff a meter point was (or is) on, from ``valid_from`` to ``valid_to`` (None: open)."""

    tariff_code: str
    valid_from: datetime | None
    valid_to: datetime | None

    @property
    def tariff(self) -> TariffCode | None:
        """The parsed tariff code, None when it cannot be parsed."""
        try:
            return parse_tariff_code(self.tariff_code)
        except ValueError:
            return None

    def is_active(self, at: datetime) -> bool:
        """Whether the agreement covers ``at``."""
        return (self.valid_from is None or self.valid_from <= at) and (
            self.valid_to is None or at < self.valid_to
        )


@dataclass(frozen=True, slots=True)
class MeterRegister:
    identifier: str
    rate: str | None
    is_settlement_register: bool


@dataclass(frozen=True, slots=True)
class Meter:
    serial_number: str
    registers: tuple[MeterRegister, ...] = ()


@dataclass(frozen=True, slots=True)
class MeterPoint:
    """What electricity and gas meter points share."""

    meters: tuple[Meter, ...]
    agreements: tuple[Agreement, ...]
    consumption_standard: int | None

    @property
    def serial_numbers(self) -> tuple[str, ...]:
        """Distinct meter serial numbers, in the order listed."""
        return tuple(dict.fromkeys(meter.serial_number for meter in self.meters))

    def agreement_at(self, at: datetime) -> Agreement | None:
        """The agreement covering ``at`` (the latest starting one if several do)."""
        active = [agreement for agreement in self.agreements if agreement.is_active(at)]
        return max(active, key=_agreement_start, default=None)


@dataclass(frozen=True, slots=True)
class ElectricityMeterPoint(MeterPoint):
    mpan: str
    is_export: bool
    profile_class: int | None


@dataclass(frozen=True, slots=True)
class GasMeterPoint(MeterPoint):
    mprn: str


@dataclass(frozen=True, slots=True)
class Property:
    """An address the account has (or had) supply at."""

    id: int | None
    moved_in_at: datetime | None
    moved_out_at: datetime | None
    address_lines: tuple[str, ...]
    town: str | None
    postcode: str | None
    electricity_meter_points: tuple[ElectricityMeterPoint, ...]
    gas_meter_points: tuple[GasMeterPoint, ...]


@dataclass(frozen=True, slots=True)
class Account:
    number: str
    properties: tuple[Property, ...]

    @property
    def current_property(self) -> Property | None:
        """The first property not moved out of (None when every one has been)."""
        return next((prop for prop in self.properties if prop.moved_out_at is None), None)


@dataclass(frozen=True, slots=True)
class ConsumptionInterval:
    """Energy used (or exported) in one interval: kWh, or m³ for SMETS2 gas meters."""

    consumption: float
    interval_start: datetime
    interval_end: datetime


@dataclass(frozen=True, slots=True)
class Rate:
    """A unit rate (p/kWh) or standing charge (p/day) from ``valid_from`` to ``valid_to``."""

    value_exc_vat: float
    value_inc_vat: float
    valid_from: datetime
    #: None: open-ended (the price holds until a new one is published).
    valid_to: datetime | None
    payment_method: str | None

    def covers(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)


def select_payment_method(
    rates: Iterable[Rate], preferred: str | None = DIRECT_DEBIT
) -> list[Rate]:
    """Keep one payment method's rows (plus rows without one), sorted by ``valid_from``.

    Variable and fixed tariffs list a row per payment method for the same period. When rows
    for ``preferred`` exist, rows for other methods go; otherwise the alphabetically first
    method present is kept, so the choice is deterministic. ``preferred=None`` keeps all rows.
    """
    rows = list(rates)
    methods = {rate.payment_method for rate in rows if rate.payment_method is not None}
    if preferred is not None and methods:
        keep = preferred if preferred in methods else min(methods)
        rows = [rate for rate in rows if rate.payment_method in (None, keep)]
    return sorted(rows, key=lambda rate: (rate.valid_from, rate.payment_method or ""))


def rate_at(rates: Sequence[Rate], at: datetime) -> Rate | None:
    """The rate covering ``at`` (the latest starting one if several do), or None."""
    covering = [rate for rate in rates if rate.covers(at)]
    return max(covering, key=lambda rate: rate.valid_from, default=None)


# --- parsing -----------------------------------------------------------------------------------


def format_time(when: datetime) -> str:
    """A query-string time: UTC with seconds and ``Z``. Naive datetimes are refused."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when!r}: pass an aware time")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> datetime:
    # A time without an offset is refused: it would be in the API's own default zone.
    parsed = iso_time(value, naive_is_utc=False)
    if parsed is None:
        raise ApiResponseError(f"bad time or no offset: {value!r}")
    return parsed


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else _parse_time(value)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiResponseError(f"expected a number for {what}, got {value!r}")
    return float(value)


def _optional_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _identifier(value: Any, what: str) -> str:
    """MPANs, MPRNs and serials: strings, though some payloads carry numbers."""
    if (found := text_or_id(value)) is None:
        raise ApiResponseError(f"missing {what}")
    return found


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _agreement_start(agreement: Agreement) -> datetime:
    return agreement.valid_from or datetime.min.replace(tzinfo=UTC)


def _parse_agreements(items: Any) -> tuple[Agreement, ...]:
    agreements = [
        Agreement(
            tariff_code=_identifier(item.get("tariff_code"), "tariff_code"),
            valid_from=_optional_time(item.get("valid_from")),
            valid_to=_optional_time(item.get("valid_to")),
        )
        for item in _objects(items)
    ]
    return tuple(sorted(agreements, key=_agreement_start))


def _parse_meters(items: Any) -> tuple[Meter, ...]:
    return tuple(
        Meter(
            serial_number=_identifier(item.get("serial_number"), "serial_number"),
            registers=tuple(
                MeterRegister(
                    identifier=str(register.get("identifier", "")),
                    rate=_text(register.get("rate")),
                    is_settlement_register=register.get("is_settlement_register") is True,
                )
                for register in _objects(item.get("registers"))
            ),
        )
        for item in _objects(items)
    )


def _parse_property(item: Mapping[str, Any]) -> Property:
    lines = tuple(
        line.strip()
        for key in ("address_line_1", "address_line_2", "address_line_3")
        if isinstance(line := item.get(key), str) and line.strip()
    )
    return Property(
        id=_optional_int(item.get("id")),
        moved_in_at=_optional_time(item.get("moved_in_at")),
        moved_out_at=_optional_time(item.get("moved_out_at")),
        address_lines=lines,
        town=_text(item.get("town")),
        postcode=_text(item.get("postcode")),
        electricity_meter_points=tuple(
            ElectricityMeterPoint(
                mpan=_identifier(point.get("mpan"), "mpan"),
                is_export=point.get("is_export") is True,
                profile_class=_optional_int(point.get("profile_class")),
                consumption_standard=_optional_int(point.get("consumption_standard")),
                meters=_parse_meters(point.get("meters")),
                agreements=_parse_agreements(point.get("agreements")),
            )
            for point in _objects(item.get("electricity_meter_points"))
        ),
        gas_meter_points=tuple(
            GasMeterPoint(
                mprn=_identifier(point.get("mprn"), "mprn"),
                consumption_standard=_optional_int(point.get("consumption_standard")),
                meters=_parse_meters(point.get("meters")),
                agreements=_parse_agreements(point.get("agreements")),
            )
            for point in _objects(item.get("gas_meter_points"))
        ),
    )


def _parse_account(body: Any) -> Account:
    if not isinstance(body, Mapping):
        raise ApiResponseError("expected an account object")
    return Account(
        number=_identifier(body.get("number"), "account number"),
        properties=tuple(_parse_property(item) for item in _objects(body.get("properties"))),
    )


def _parse_interval(item: Any) -> ConsumptionInterval:
    if not isinstance(item, Mapping):
        raise ApiResponseError(f"expected a consumption interval, got {type(item).__name__}")
    return ConsumptionInterval(
        consumption=_number(item.get("consumption"), "consumption"),
        interval_start=_parse_time(item.get("interval_start")),
        interval_end=_parse_time(item.get("interval_end")),
    )


def _parse_rate(item: Any) -> Rate:
    if not isinstance(item, Mapping):
        raise ApiResponseError(f"expected a rate, got {type(item).__name__}")
    return Rate(
        value_exc_vat=_number(item.get("value_exc_vat"), "value_exc_vat"),
        value_inc_vat=_number(item.get("value_inc_vat"), "value_inc_vat"),
        valid_from=_parse_time(item.get("valid_from")),
        valid_to=_optional_time(item.get("valid_to")),
        payment_method=_text(item.get("payment_method")),
    )


def _page(body: Any) -> tuple[list[Any], str | None]:
    """``results`` (absent means none) and the ``next`` link of a paged list."""
    if not isinstance(body, Mapping):
        raise ApiResponseError("expected a paged list object")
    results = body.get("results")
    if results is None:
        results = []
    if not isinstance(results, list):
        raise ApiResponseError("'results' is not a list")
    link = body.get("next")
    return results, link if isinstance(link, str) and link else None


def _segment(value: str) -> str:
    """A user-typed identifier as one path segment (a stray ``/`` or ``?`` cannot escape)."""
    return quote(value.strip(), safe="")


def _is_json(body: str, content_type: str) -> bool:
    if "json" in content_type.lower():
        return True
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


# --- the client --------------------------------------------------------------------------------


class OctopusClient(JsonApiClient):
    """Octopus Energy REST API v1, authenticated with the customer's API key."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """``base_url`` without ``/v1`` (the paths carry it); the key is never logged."""
        super().__init__(session, base_url, timeout=timeout)
        # Basic auth with the key as user and no password (``aiohttp.BasicAuth`` is deprecated)
        self._headers = {"Authorization": aiohttp.encode_basic_auth(api_key, "")}

    def _raise_for_status(
        self, status: int, body: str, content_type: str, retry_after: str | None
    ) -> None:
        """Octopus quirks first: 401 is always the key; 403 is the key only with a JSON body
        (an HTML 403 is a CloudFront block page that clears by itself); 404 with any body."""
        if status == 401:
            raise ApiAuthError(f"{self.base_url} rejected the API key (HTTP 401)")
        if status == 403:
            if body.strip() and _is_json(body, content_type):
                raise ApiAuthError(f"{self.base_url} refused the API key (HTTP 403)")
            raise ApiConnectionError(f"{self.base_url} blocked the request (HTTP 403, not JSON)")
        if status == 404:
            raise ApiNotFoundError(f"Not found (HTTP 404): {body[:200]}")
        super()._raise_for_status(status, body, content_type, retry_after)

    async def account(self, account_number: str) -> Account:
        """The account's properties, meter points, meters and tariff agreements."""
        number = _segment(account_number.strip().upper())
        body = await self._request_json("GET", f"/v1/accounts/{number}/", headers=self._headers)
        return _parse_account(body)

    async def electricity_consumption(
        self,
        mpan: str,
        serial_number: str,
        period_from: datetime,
        period_to: datetime | None = None,
        *,
        page_size: int = CONSUMPTION_PAGE_SIZE,
    ) -> list[ConsumptionInterval]:
        """Half-hours (kWh) in ``[period_from, period_to)``, oldest first, times in UTC.

        An export MPAN gives the energy exported.
        """
        path = (
            f"/v1/electricity-meter-points/{_segment(mpan)}"
            f"/meters/{_segment(serial_number)}/consumption/"
        )
        return await self._consumption(path, period_from, period_to, page_size)

    async def gas_consumption(
        self,
        mprn: str,
        serial_number: str,
        period_from: datetime,
        period_to: datetime | None = None,
        *,
        page_size: int = CONSUMPTION_PAGE_SIZE,
    ) -> list[ConsumptionInterval]:
        """Half-hours in ``[period_from, period_to)``, oldest first: kWh (SMETS1) or m³
        (SMETS2), the API does not say which."""
        path = (
            f"/v1/gas-meter-points/{_segment(mprn)}/meters/{_segment(serial_number)}/consumption/"
        )
        return await self._consumption(path, period_from, period_to, page_size)

    async def unit_rates(
        self,
        tariff_code: str,
        period_from: datetime | None = None,
        period_to: datetime | None = None,
        *,
        register: RateRegister = RateRegister.STANDARD,
        payment_method: str | None = DIRECT_DEBIT,
        product_code: str | None = None,
        fuel: Fuel | None = None,
    ) -> list[Rate]:
        """Unit rates (p/kWh) overlapping the period, sorted by ``valid_from``.

        Dual-register tariffs have ``DAY`` and ``NIGHT`` registers only. ``product_code`` and
        ``fuel`` override what the tariff code says (needed when it cannot be parsed).
        """
        return await self._rates(
            tariff_code,
            register.value,
            period_from,
            period_to,
            payment_method=payment_method,
            product_code=product_code,
            fuel=fuel,
        )

    async def standing_charges(
        self,
        tariff_code: str,
        period_from: datetime | None = None,
        period_to: datetime | None = None,
        *,
        payment_method: str | None = DIRECT_DEBIT,
        product_code: str | None = None,
        fuel: Fuel | None = None,
    ) -> list[Rate]:
        """Standing charges (p/day) overlapping the period, sorted by ``valid_from``."""
        return await self._rates(
            tariff_code,
            "standing-charges",
            period_from,
            period_to,
            payment_method=payment_method,
            product_code=product_code,
            fuel=fuel,
        )

    async def _consumption(
        self, path: str, period_from: datetime, period_to: datetime | None, page_size: int
    ) -> list[ConsumptionInterval]:
        params: dict[str, str | int] = {
            "period_from": format_time(period_from),
            "page_size": max(1, min(page_size, CONSUMPTION_PAGE_SIZE)),
            "order_by": "period",
        }
        if period_to is not None:
            params["period_to"] = format_time(period_to)
        start = period_from.astimezone(UTC)
        end = period_to.astimezone(UTC) if period_to is not None else None
        by_start: dict[datetime, ConsumptionInterval] = {}
        for item in await self._all_results(path, params):
            interval = _parse_interval(item)
            # the API can answer slightly outside the window; it may also repeat an interval
            if interval.interval_start < start or (
                end is not None and interval.interval_start >= end
            ):
                continue
            by_start.setdefault(interval.interval_start, interval)
        return [by_start[key] for key in sorted(by_start)]

    async def _rates(
        self,
        tariff_code: str,
        endpoint: str,
        period_from: datetime | None,
        period_to: datetime | None,
        *,
        payment_method: str | None,
        product_code: str | None,
        fuel: Fuel | None,
    ) -> list[Rate]:
        code = tariff_code.strip().upper()
        if product_code is None or fuel is None:
            parsed = parse_tariff_code(code)
            product_code = product_code or parsed.product_code
            fuel = fuel or parsed.fuel
        if period_to is not None and period_from is None:
            raise ValueError("period_to needs period_from")
        params: dict[str, str | int] = {"page_size": RATES_PAGE_SIZE}
        if period_from is not None:
            params["period_from"] = format_time(period_from)
        if period_to is not None:
            params["period_to"] = format_time(period_to)
        path = (
            f"/v1/products/{_segment(product_code)}/{fuel.value}-tariffs/{_segment(code)}"
            f"/{endpoint}/"
        )
        rates: dict[tuple[datetime, str | None], Rate] = {}
        for item in await self._all_results(path, params):
            rate = _parse_rate(item)
            rates.setdefault((rate.valid_from, rate.payment_method), rate)
        return select_payment_method(rates.values(), payment_method)

    async def _all_results(self, path: str, params: Mapping[str, str | int]) -> list[Any]:
        """Every page's ``results``, following ``next`` until it is null."""
        results: list[Any] = []
        seen: set[tuple[str, tuple[tuple[str, str | int], ...]]] = set()
        request: tuple[str, Mapping[str, str | int]] | None = (path, params)
        while request is not None:
            key = (request[0], tuple(sorted(request[1].items())))
            if key in seen or len(seen) >= MAX_PAGES:
                raise ApiResponseError(f"pagination of {path} does not end")
            seen.add(key)
            body = await self._request_json(
                "GET", request[0], params=request[1], headers=self._headers
            )
            page, link = _page(body)
            results.extend(page)
            request = _follow(link) if link is not None else None
        return results


def _follow(link: str) -> tuple[str, dict[str, str | int]]:
    """The path (from ``/v1/``) and query of a ``next`` link, to request from our base URL.

    The link's host is dropped on purpose: the key is only ever sent to the configured server,
    and a server behind a prefix or proxy (the sandbox, white-label hosts) still works.
    """
    parts = urlsplit(link)
    index = parts.path.find("/v1/")
    if index < 0:
        raise ApiResponseError(f"unexpected next link {link!r}")
    return parts.path[index:], dict(parse_qsl(parts.query, keep_blank_values=True))
