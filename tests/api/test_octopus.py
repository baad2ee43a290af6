"""The Octopus Energy client at the HTTP level (aioresponses)."""

import base64
from datetime import UTC, datetime, timedelta, timezone
import re
from typing import Any

import aiohttp
from aioresponses import aioresponses
import pytest
from yarl import URL

from custom_components.energy_hub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiNotFoundError,
    ApiRateLimitedError,
    ApiResponseError,
)
from custom_components.energy_hub.api.octopus import (
    CONSUMPTION_PAGE_SIZE,
    DEFAULT_BASE_URL,
    DIRECT_DEBIT,
    NON_DIRECT_DEBIT,
    RATES_PAGE_SIZE,
    Agreement,
    Fuel,
    OctopusClient,
    Rate,
    RateRegister,
    format_time,
    parse_tariff_code,
    rate_at,
    select_payment_method,
)
from tests.conftest import load_json, url_re

BASE = DEFAULT_BASE_URL
KEY = "sk_live_test_key"
MPAN, SERIAL = "1100009640372", "22L4344979"
CONSUMPTION = f"/v1/electricity-meter-points/{MPAN}/meters/{SERIAL}/consumption/"
AGILE = "E-1R-AGILE-24-10-01-C"
AGILE_RATES = f"/v1/products/AGILE-24-10-01/electricity-tariffs/{AGILE}/standard-unit-rates/"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def calls(mocked: aioresponses) -> list[tuple[URL, dict[str, Any]]]:
    """The requests made (URL with its query, request kwargs), grouped by URL in the order
    each URL was first requested."""
    return [
        (url, call.kwargs) for (_, url), requests in mocked.requests.items() for call in requests
    ]


def path_re(path: str, base: str = BASE) -> re.Pattern[str]:
    return url_re(base, re.escape(path))


def page(results: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    return {"count": len(results), "next": next_url, "previous": None, "results": results}


# --- tariff codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "fuel", "registers", "product", "region", "dual"),
    [
        ("E-1R-AGILE-24-10-01-C", Fuel.ELECTRICITY, "1R", "AGILE-24-10-01", "C", False),
        ("E-2R-VAR-22-11-01-A", Fuel.ELECTRICITY, "2R", "VAR-22-11-01", "A", True),
        ("G-1R-SUPER-GREEN-24M-21-07-30-A", Fuel.GAS, "1R", "SUPER-GREEN-24M-21-07-30", "A", False),
        ("G-1R-OE-FIX-12M-26-06-01-C", Fuel.GAS, "1R", "OE-FIX-12M-26-06-01", "C", False),
        ("E-1R-FLUX-EXPORT-23-02-14-P", Fuel.ELECTRICITY, "1R", "FLUX-EXPORT-23-02-14", "P", False),
        ("E-FLAT2R-SILVER-23-12-06-A", Fuel.ELECTRICITY, "FLAT2R", "SILVER-23-12-06", "A", False),
        (
            "V2G-EXPORT-12M-FIXED-22-12-01-C",
            Fuel.ELECTRICITY,
            None,
            "V2G-EXPORT-12M-FIXED-22-12-01",
            "C",
            False,
        ),
        (" e-1r-agile-flex-22-11-25-b ", Fuel.ELECTRICITY, "1R", "AGILE-FLEX-22-11-25", "B", False),
    ],
)
def test_parse_tariff_code(
    code: str, fuel: Fuel, registers: str | None, product: str, region: str, dual: bool
) -> None:
    """Fuel, registers, product and region; 2R is day/night, FLAT2R is not; no prefix = E."""
    parsed = parse_tariff_code(code)
    assert (parsed.fuel, parsed.registers, parsed.product_code, parsed.region) == (
        fuel,
        registers,
        product,
        region,
    )
    assert parsed.is_dual_register is dual
    assert parsed.code == code.strip().upper()


@pytest.mark.parametrize(
    "code",
    [
        "",
        "AGILE",
        "E-1R-AGILE-24-10-01-CC",
        "BUS-PANELP-12M-FIXED-SEPTEMBER2029",
        "X-1R-FOO-A",
        "-C",
    ],
)
def test_parse_tariff_code_rejects(code: str) -> None:
    with pytest.raises(ValueError, match="tariff code"):
        parse_tariff_code(code)


def test_format_time() -> None:
    """Times go out in UTC with Z; a naive time is refused rather than guessed."""
    bst = timezone(timedelta(hours=1))
    assert format_time(datetime(2026, 7, 1, 0, 0, tzinfo=bst)) == "2026-06-30T23:00:00Z"
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 7, 1))


# --- account ------------------------------------------------------------------------------------


async def test_account_official_example() -> None:
    """The documented account: key sent as the Basic user, times in UTC, agreements sorted."""
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(f"{BASE}/v1/accounts/B-1234A1A1/", payload=load_json("octopus/account.json"))
            account = await client.account(" b-1234a1a1 ")
            [(url, kwargs)] = calls(mocked)
    assert str(url) == f"{BASE}/v1/accounts/B-1234A1A1/"
    expected = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert kwargs["headers"]["Authorization"] == expected
    assert client.request_count == 1

    assert account.number == "B-1234A1A1"
    prop = account.current_property
    assert prop is not None
    assert prop.id == 1234567
    assert prop.moved_in_at == utc(2020, 11, 30)
    assert prop.address_lines == ("10 Downing Street",)
    assert prop.postcode == "W1 1AA"
    [point] = prop.electricity_meter_points
    assert (point.mpan, point.is_export, point.profile_class) == ("1000000000000", False, 1)
    assert point.serial_numbers == ("1111111111", "2222222222")
    assert point.meters[0].registers[0].is_settlement_register is True
    assert [a.tariff_code for a in point.agreements] == [
        "E-1R-VAR-20-09-22-N",
        "E-1R-VAR-21-09-29-N",
        "E-1R-VAR-22-11-01-N",
    ]
    # "+01:00" agreement boundaries come back in UTC
    assert point.agreements[1].valid_to == utc(2023, 3, 31, 23)
    assert point.agreements[2].valid_from == utc(2023, 3, 31, 23)
    assert point.agreements[2].valid_to is None
    current = point.agreement_at(utc(2026, 1, 1))
    assert current is not None
    assert current.tariff is not None
    assert current.tariff.product_code == "VAR-22-11-01"
    assert point.agreement_at(utc(2019, 1, 1)) is None
    assert point.agreement_at(utc(2023, 3, 31, 22, 59)) == point.agreements[1]
    [gas] = prop.gas_meter_points
    assert gas.mprn == "1234567890"
    assert gas.serial_numbers == ("12345678901234", "09876543210987")
    assert gas.agreements[-1].tariff_code == "G-1R-VAR-22-11-01-N"


async def test_account_with_export_and_moved_out_property() -> None:
    """Export is its own meter point; a moved-out property is not the current one."""
    body = load_json("octopus/account.with_export.json")
    old = dict(body["properties"][0], id=1, moved_out_at="2014-09-05T00:00:00+01:00")
    body["properties"].insert(0, old)
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(f"{BASE}/v1/accounts/A-68XX9999/", payload=body)
            account = await client.account("A-68XX9999")
    assert len(account.properties) == 2
    prop = account.current_property
    assert prop is not None
    assert prop.id == 23445
    assert prop.moved_in_at == datetime(2014, 9, 5, 20, 37, 46, 732538, tzinfo=UTC)
    assert prop.address_lines == ("XXXXXXX", "YYYYYYY", "ZZZZZZZ")
    [imported] = [point for point in prop.electricity_meter_points if not point.is_export]
    [exported] = [point for point in prop.electricity_meter_points if point.is_export]
    assert imported.serial_numbers == ("ESESESESES",)  # listed twice, once per register
    assert (exported.mpan, exported.serial_numbers) == ("EXPORT_MPAN", ("EXPORT_SN",))
    agreement = exported.agreement_at(utc(2026, 1, 1))
    assert agreement is not None
    assert agreement.tariff_code == "E-1R-VAR-17-01-11-A"


def test_agreement_helpers() -> None:
    agreement = Agreement("E-1R-AGILE-24-10-01-C", utc(2026, 3, 31, 23), None)
    assert agreement.is_active(utc(2026, 3, 31, 23))
    assert not agreement.is_active(utc(2026, 3, 31, 22, 59))
    assert agreement.tariff is not None
    assert agreement.tariff.region == "C"
    assert Agreement("BUS-PANELP-12M-FIXED-SEPTEMBER2029", None, None).tariff is None


async def test_account_numbers_may_be_numbers_and_junk_is_skipped() -> None:
    body = {
        "number": "A-1",
        "properties": [
            {
                "moved_out_at": None,
                "electricity_meter_points": [
                    {"mpan": 1900000000001, "meters": [{"serial_number": 42}, "junk"]},
                    "junk",
                ],
                "gas_meter_points": None,
            },
            "junk",
        ],
    }
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(f"{BASE}/v1/accounts/A-1/", payload=body)
            mocked.get(f"{BASE}/v1/accounts/A-2/", payload={"number": "A-2", "properties": [{}]})
            mocked.get(f"{BASE}/v1/accounts/A-3/", payload=[])
            account = await client.account("A-1")
            [point] = account.properties[0].electricity_meter_points
            assert (point.mpan, point.serial_numbers, point.agreements) == (
                "1900000000001",
                ("42",),
                (),
            )
            assert account.properties[0].gas_meter_points == ()
            empty = await client.account("A-2")
            assert empty.properties[0].electricity_meter_points == ()
            with pytest.raises(ApiResponseError):
                await client.account("A-3")


# --- consumption --------------------------------------------------------------------------------


async def test_consumption_converts_local_times_to_utc_and_sorts() -> None:
    """BST times (+01:00) become UTC; newest-first results come back oldest first."""
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(
                path_re(CONSUMPTION), payload=load_json("octopus/consumption.electricity.bst.json")
            )
            intervals = await client.electricity_consumption(
                MPAN, SERIAL, utc(2024, 5, 6, 21), utc(2024, 5, 7, 0)
            )
            [(url, kwargs)] = calls(mocked)
    assert url.path == CONSUMPTION
    assert dict(url.query) == {
        "period_from": "2024-05-06T21:00:00Z",
        "period_to": "2024-05-07T00:00:00Z",
        "page_size": str(CONSUMPTION_PAGE_SIZE),
        "order_by": "period",
    }
    assert "Authorization" in kwargs["headers"]
    assert [i.interval_start for i in intervals] == [
        utc(2024, 5, 6, 21, 30),
        utc(2024, 5, 6, 22),
        utc(2024, 5, 6, 22, 30),
        utc(2024, 5, 6, 23),
        utc(2024, 5, 6, 23, 30),
    ]
    assert all(i.interval_start.tzinfo is UTC for i in intervals)
    assert intervals[0].interval_end == utc(2024, 5, 6, 22)
    assert [i.consumption for i in intervals] == [0.512, 0.451, 0.201, 0.58, 0.113]


@pytest.mark.parametrize(
    ("fixture", "first", "count"),
    [
        ("octopus/consumption.clock_change_spring.json", utc(2026, 3, 28, 23, 30), 5),
        ("octopus/consumption.clock_change_autumn.json", utc(2026, 10, 24, 23), 6),
    ],
)
async def test_consumption_on_clock_change_days(fixture: str, first: datetime, count: int) -> None:
    """Across both clock changes the local times map onto consecutive UTC half-hours: the
    hour that does not exist in March is skipped, the one that repeats in October is not
    merged."""
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(CONSUMPTION), payload=load_json(fixture))
            intervals = await client.electricity_consumption(
                MPAN, SERIAL, first, first + count * timedelta(minutes=30)
            )
    assert [i.interval_start for i in intervals] == [
        first + n * timedelta(minutes=30) for n in range(count)
    ]
    assert all(i.interval_end - i.interval_start == timedelta(minutes=30) for i in intervals)


async def test_consumption_follows_next_from_our_own_base_url() -> None:
    """`next` is followed until null; its host is dropped, so a prefixed base URL (sandbox,
    white-label) keeps working and the key never goes to another host."""
    base = "https://kraken.example/octopus"
    page1 = load_json("octopus/consumption.paginated.page1.json")
    page2 = load_json("octopus/consumption.paginated.page2.json")
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, base, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(CONSUMPTION, base), payload=page1)
            mocked.get(path_re(CONSUMPTION, base), payload=page2)
            intervals = await client.electricity_consumption(
                MPAN, SERIAL, utc(2026, 3, 5), utc(2026, 3, 6), page_size=2
            )
            made = calls(mocked)
    assert client.request_count == 2
    assert [str(url.with_query(None)) for url, _ in made] == [f"{base}{CONSUMPTION}"] * 2
    assert dict(made[0][0].query)["page_size"] == "2"
    assert dict(made[1][0].query) == {"page": "2", "page_size": "2"}
    assert all("Authorization" in kwargs["headers"] for _, kwargs in made)
    assert [i.interval_start for i in intervals] == [
        utc(2026, 3, 5, 22),
        utc(2026, 3, 5, 22, 30),
        utc(2026, 3, 5, 23),
        utc(2026, 3, 5, 23, 30),
    ]
    assert [i.consumption for i in intervals] == [0.198, 0.312, 0.456, 0.234]


async def test_consumption_filters_the_window_and_deduplicates() -> None:
    """Extra intervals outside [from, to) are dropped; a repeated interval is kept once."""
    results = [
        {"consumption": c, "interval_start": start, "interval_end": end}
        for c, start, end in (
            (1.0, "2026-01-01T23:30:00Z", "2026-01-02T00:00:00Z"),
            (2.0, "2026-01-02T00:00:00Z", "2026-01-02T00:30:00Z"),
            (3.0, "2026-01-02T00:00:00+00:00", "2026-01-02T00:30:00Z"),
            (4.0, "2026-01-02T00:30:00Z", "2026-01-02T01:00:00Z"),
            (5.0, "2026-01-02T01:00:00Z", "2026-01-02T01:30:00Z"),
        )
    ]
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(CONSUMPTION), payload=page(results))
            mocked.get(path_re(CONSUMPTION), payload=page(results))
            bounded = await client.electricity_consumption(
                MPAN, SERIAL, utc(2026, 1, 2), utc(2026, 1, 2, 1)
            )
            open_ended = await client.electricity_consumption(MPAN, SERIAL, utc(2026, 1, 2))
            url, _ = calls(mocked)[1]
    assert [i.consumption for i in bounded] == [2.0, 4.0]
    assert [i.consumption for i in open_ended] == [2.0, 4.0, 5.0]
    assert "period_to" not in url.query


async def test_gas_consumption_and_empty_answers() -> None:
    """Gas has its own path; no results (`count: 0`, or no `results` at all) is an empty list."""
    path = "/v1/gas-meter-points/3000000001/meters/G4A00123456/consumption/"
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(
                path_re(path),
                payload=page(
                    [
                        {
                            "consumption": 0.121,
                            "interval_start": "2026-01-05T07:00:00Z",
                            "interval_end": "2026-01-05T07:30:00Z",
                        }
                    ]
                ),
            )
            mocked.get(path_re(path), payload=page([]))
            mocked.get(path_re(path), payload={"count": 0, "next": None, "previous": None})
            [interval] = await client.gas_consumption("3000000001", "G4A00123456", utc(2026, 1, 5))
            assert await client.gas_consumption("3000000001", "G4A00123456", utc(2026, 1, 5)) == []
            assert await client.gas_consumption("3000000001", "G4A00123456", utc(2026, 1, 5)) == []
    assert (interval.consumption, interval.interval_start) == (0.121, utc(2026, 1, 5, 7))


async def test_a_year_of_consumption_is_one_request() -> None:
    """page_size 25000 holds a year of half-hours: one request for a whole-year backfill."""
    start = utc(2025, 11, 23)
    year = [
        {
            "consumption": 0.1,
            "interval_start": (start + n * timedelta(minutes=30)).isoformat(),
            "interval_end": (start + (n + 1) * timedelta(minutes=30)).isoformat(),
        }
        for n in range(365 * 48)
    ]
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(CONSUMPTION), payload=page(year))
            intervals = await client.electricity_consumption(
                MPAN, SERIAL, start, start + timedelta(days=365), page_size=10**6
            )
            [(url, _)] = calls(mocked)
    assert len(intervals) == 17520
    assert client.request_count == 1
    assert url.query["page_size"] == "25000"  # capped at what the API allows


# --- rates --------------------------------------------------------------------------------------


async def test_agile_unit_rates() -> None:
    """Half-hour rows, no payment method, UTC, sorted oldest first; 1500-row pages."""
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(
                path_re(AGILE_RATES), payload=load_json("octopus/standard_unit_rates.agile.json")
            )
            rates = await client.unit_rates(AGILE, utc(2024, 5, 7, 19, 30), utc(2024, 5, 7, 22))
            [(url, kwargs)] = calls(mocked)
    assert url.path == AGILE_RATES
    assert dict(url.query) == {
        "page_size": str(RATES_PAGE_SIZE),
        "period_from": "2024-05-07T19:30:00Z",
        "period_to": "2024-05-07T22:00:00Z",
    }
    assert "Authorization" in kwargs["headers"]
    assert [r.valid_from for r in rates] == [
        utc(2024, 5, 7, 19, 30) + n * timedelta(minutes=30) for n in range(5)
    ]
    assert rates[0] == Rate(21.47, 22.5435, utc(2024, 5, 7, 19, 30), utc(2024, 5, 7, 20), None)
    assert rate_at(rates, utc(2024, 5, 7, 21, 10)) == rates[3]
    assert rate_at(rates, utc(2024, 5, 7, 22)) is None


async def test_rates_follow_next_pages() -> None:
    rows = [
        {
            "value_exc_vat": float(n),
            "value_inc_vat": round(n * 1.05, 4),
            "valid_from": (utc(2026, 1, 1) + n * timedelta(minutes=30)).isoformat(),
            "valid_to": (utc(2026, 1, 1) + (n + 1) * timedelta(minutes=30)).isoformat(),
            "payment_method": None,
        }
        for n in range(4)
    ]
    next_url = f"{BASE}{AGILE_RATES}?page=2&page_size=1500&period_from=2026-01-01T00%3A00%3A00Z"
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(AGILE_RATES), payload=page(rows[2:][::-1], next_url))
            mocked.get(path_re(AGILE_RATES), payload=page(rows[:2][::-1]))
            rates = await client.unit_rates(AGILE, utc(2026, 1, 1))
            second, _ = calls(mocked)[1]
    assert [r.value_exc_vat for r in rates] == [0.0, 1.0, 2.0, 3.0]
    assert dict(second.query) == {
        "page": "2",
        "page_size": "1500",
        "period_from": "2026-01-01T00:00:00Z",
    }
    assert client.request_count == 2


async def test_day_and_night_rates_pick_direct_debit() -> None:
    """2R tariffs use day-/night-unit-rates; of the payment-method pairs, direct debit is kept
    (or what the caller asks for, or all of them)."""
    code = "E-2R-VAR-22-11-01-A"
    day_path = f"/v1/products/VAR-22-11-01/electricity-tariffs/{code}/day-unit-rates/"
    night_path = day_path.replace("day-unit", "night-unit")
    body = load_json("octopus/day_unit_rates.payment_methods.json")
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(day_path), payload=body, repeat=True)
            mocked.get(path_re(night_path), payload=page([]))
            direct = await client.unit_rates(code, register=RateRegister.DAY)
            other = await client.unit_rates(
                code, register=RateRegister.DAY, payment_method=NON_DIRECT_DEBIT
            )
            every = await client.unit_rates(code, register=RateRegister.DAY, payment_method=None)
            assert await client.unit_rates(code, register=RateRegister.NIGHT) == []
            url, _ = calls(mocked)[0]
    assert dict(url.query) == {"page_size": "1500"}
    assert [(r.valid_from, r.value_exc_vat, r.payment_method) for r in direct] == [
        (utc(2024, 1, 1), 35.414, DIRECT_DEBIT),
        (utc(2024, 3, 31, 23), 30.008, DIRECT_DEBIT),
    ]
    assert direct[-1].valid_to is None
    assert [r.value_exc_vat for r in other] == [36.144, 30.654]
    assert len(every) == 4


async def test_standing_charges_electricity_and_gas() -> None:
    electricity = (
        "/v1/products/VAR-22-11-01/electricity-tariffs/E-1R-VAR-22-11-01-A/standing-charges/"
    )
    gas = "/v1/products/VAR-22-11-01/gas-tariffs/G-1R-VAR-22-11-01-A/standing-charges/"
    body = load_json("octopus/standing_charges.json")
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(electricity), payload=body)
            mocked.get(path_re(gas), payload=body)
            charges = await client.standing_charges(
                "E-1R-VAR-22-11-01-A", utc(2024, 1, 1), utc(2025, 1, 1)
            )
            gas_charges = await client.standing_charges("G-1R-VAR-22-11-01-A")
            made = calls(mocked)
    assert [url.path for url, _ in made] == [electricity, gas]
    assert [(c.value_inc_vat, c.payment_method) for c in charges] == [
        (42.0105, DIRECT_DEBIT),
        (47.8485, DIRECT_DEBIT),
    ]
    assert rate_at(charges, utc(2030, 1, 1)) == charges[1]  # open-ended
    assert gas_charges == charges


async def test_gas_unit_rates_and_overrides() -> None:
    """Gas tariffs use gas-tariffs; a tariff code whose product cannot be derived needs the
    product code (and fuel) from the caller."""
    gas = (
        "/v1/products/OE-FIX-12M-26-06-01/gas-tariffs/G-1R-OE-FIX-12M-26-06-01-C"
        "/standard-unit-rates/"
    )
    business = "BUS-PANELP-12M-FIXED-SEPTEMBER2029"
    business_path = (
        f"/v1/products/BUS-PANELP-12M-FIXED-SEPTEMBER2022/electricity-tariffs/{business}"
        "/standard-unit-rates/"
    )
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(gas), payload=page([]))
            mocked.get(path_re(business_path), payload=page([]))
            assert await client.unit_rates("g-1r-oe-fix-12m-26-06-01-c") == []
            assert (
                await client.unit_rates(
                    business,
                    product_code="BUS-PANELP-12M-FIXED-SEPTEMBER2022",
                    fuel=Fuel.ELECTRICITY,
                )
                == []
            )
            with pytest.raises(ValueError, match="tariff code"):
                await client.unit_rates(business)
            with pytest.raises(ValueError, match="period_to needs period_from"):
                await client.unit_rates(AGILE, period_to=utc(2026, 1, 1))
    assert client.request_count == 2


def test_select_payment_method() -> None:
    """Preferred method where present, else the first one present; rows without a method stay."""

    def rate(day: int, method: str | None) -> Rate:
        return Rate(1.0, 1.05, utc(2026, 1, day), None, method)

    only_ndd = [rate(2, NON_DIRECT_DEBIT), rate(1, NON_DIRECT_DEBIT)]
    assert select_payment_method(only_ndd) == only_ndd[::-1]
    mixed = [rate(1, "PREPAYMENT"), rate(1, NON_DIRECT_DEBIT), rate(3, None)]
    assert select_payment_method(mixed) == [rate(1, NON_DIRECT_DEBIT), rate(3, None)]
    both = [rate(1, NON_DIRECT_DEBIT), rate(1, DIRECT_DEBIT), rate(2, None)]
    assert select_payment_method(both) == [rate(1, DIRECT_DEBIT), rate(2, None)]
    assert select_payment_method(both, NON_DIRECT_DEBIT) == [
        rate(1, NON_DIRECT_DEBIT),
        rate(2, None),
    ]
    assert len(select_payment_method(both, None)) == 3
    assert select_payment_method([]) == []


# --- errors -------------------------------------------------------------------------------------


def item(**changes: Any) -> dict[str, Any]:
    """A consumption interval, with some fields changed."""
    return {
        "consumption": 0.1,
        "interval_start": "2026-01-01T00:00:00Z",
        "interval_end": "2026-01-01T00:30:00Z",
    } | changes


HTML_403 = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">'
    "<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD>"
    "<BODY><H1>403 ERROR</H1>Request blocked. Generated by cloudfront (CloudFront)</BODY></HTML>"
)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"status": 401, "payload": {"detail": "Invalid API key."}}, ApiAuthError),
        ({"status": 401, "body": "<html>401</html>", "content_type": "text/html"}, ApiAuthError),
        ({"status": 403, "payload": {"detail": "Forbidden."}}, ApiAuthError),
        ({"status": 403, "body": '{"detail": "x"}', "content_type": "text/plain"}, ApiAuthError),
        ({"status": 403, "body": HTML_403, "content_type": "text/html"}, ApiConnectionError),
        ({"status": 403, "body": HTML_403, "content_type": ""}, ApiConnectionError),
        ({"status": 403, "body": ""}, ApiConnectionError),
        ({"status": 404, "payload": {"detail": "Not found."}}, ApiNotFoundError),
        (
            {"status": 404, "body": "<h1>Not Found</h1>", "content_type": "text/html"},
            ApiNotFoundError,
        ),
        (
            {"status": 400, "payload": {"period_from": ["Enter a valid date/time."]}},
            ApiResponseError,
        ),
        ({"status": 500, "payload": {"detail": "boom"}}, ApiConnectionError),
        (
            {"status": 502, "body": "<html>502</html>", "content_type": "text/html"},
            ApiConnectionError,
        ),
        ({"status": 200, "body": '{"count": 1, "results": [{"consu'}, ApiResponseError),
        ({"status": 200, "body": ""}, ApiResponseError),
        ({"status": 200, "payload": [1, 2]}, ApiResponseError),
        ({"status": 200, "payload": {"results": {"a": 1}}}, ApiResponseError),
        ({"status": 200, "payload": {"results": ["junk"]}}, ApiResponseError),
        ({"status": 200, "payload": page([item(consumption="1")])}, ApiResponseError),
        ({"status": 200, "payload": page([item(consumption=True)])}, ApiResponseError),
        ({"status": 200, "payload": page([item(consumption=None)])}, ApiResponseError),
        (
            {"status": 200, "payload": page([item(interval_start="2026-01-01T00:00:00")])},
            ApiResponseError,
        ),
        ({"status": 200, "payload": page([item(interval_start="yesterday")])}, ApiResponseError),
        ({"status": 200, "payload": page([item(interval_end=None)])}, ApiResponseError),
        ({"exception": aiohttp.ClientConnectionError("refused")}, ApiConnectionError),
        ({"exception": TimeoutError()}, ApiConnectionError),
    ],
)
async def test_error_mapping(kwargs: dict[str, Any], error: type[Exception]) -> None:
    """401 is the key; 403 only with a JSON body (an HTML 403 is CloudFront, temporary);
    404 whatever the body; everything else as the shared mapping."""
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(CONSUMPTION), **kwargs)
            with pytest.raises(error) as raised:
                await client.electricity_consumption(MPAN, SERIAL, utc(2026, 1, 1))
    assert KEY not in str(raised.value)
    assert client.request_count == 1


@pytest.mark.parametrize(
    "body",
    [
        {"detail": "Not found."},
        {"detail": "No EnergyProduct matches the given query."},
        {"detail": "No ElectricityTariff matches the given query."},
    ],
)
@pytest.mark.parametrize("kind", ["standard-unit-rates", "standing-charges"])
async def test_unpublished_tariff_is_not_found(body: dict[str, str], kind: str) -> None:
    """The shapes a tariff Octopus does not publish answers with (tracker and some export
    products): not found, one request, nothing else tried."""
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        tariff = "E-1R-SILVER-FLEX-22-11-25-J"
        path = f"/v1/products/SILVER-FLEX-22-11-25/electricity-tariffs/{tariff}/{kind}/"
        with aioresponses() as mocked:
            mocked.get(path_re(path), status=404, payload=body)
            fetch = client.unit_rates if kind == "standard-unit-rates" else client.standing_charges
            with pytest.raises(ApiNotFoundError, match="HTTP 404"):
                await fetch(tariff, utc(2026, 1, 1), utc(2026, 1, 2))
    assert client.request_count == 1


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({"Retry-After": "120"}, 120),
        ({"Retry-After": "Mon, 23 Nov 2099 12:02:00 GMT"}, None),
        ({}, 60),
        ({"Retry-After": "soon"}, 60),
    ],
)
async def test_rate_limited_carries_retry_after(
    headers: dict[str, str], retry_after: float | None
) -> None:
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(AGILE_RATES), status=429, headers=headers, payload={"detail": "x"})
            with pytest.raises(ApiRateLimitedError) as raised:
                await client.unit_rates(AGILE)
    if retry_after is None:  # an HTTP date: the time until then
        assert raised.value.retry_after is not None
        assert raised.value.retry_after > 10**8
    else:
        assert raised.value.retry_after == retry_after


async def test_error_on_a_later_page_is_raised() -> None:
    next_url = f"{BASE}{AGILE_RATES}?page=2"
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(AGILE_RATES), payload=page([], next_url))
            mocked.get(path_re(AGILE_RATES), status=429, headers={"Retry-After": "5"})
            with pytest.raises(ApiRateLimitedError):
                await client.unit_rates(AGILE)
    assert client.request_count == 2


@pytest.mark.parametrize(
    "next_url",
    [
        f"{BASE}{AGILE_RATES}?page_size=1500",  # the same page again
        "https://api.octopus.energy/graphql/?page=2",  # not a /v1/ path
    ],
)
async def test_broken_next_links_stop(next_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(path_re(AGILE_RATES), payload=page([], next_url), repeat=True)
            with pytest.raises(ApiResponseError, match=r"next link|does not end"):
                await client.unit_rates(AGILE)
    assert client.request_count <= 2


async def test_endless_pagination_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("custom_components.energy_hub.api.octopus.MAX_PAGES", 3)
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            for number in range(2, 6):
                mocked.get(
                    path_re(AGILE_RATES), payload=page([], f"{BASE}{AGILE_RATES}?page={number}")
                )
            with pytest.raises(ApiResponseError, match="does not end"):
                await client.unit_rates(AGILE)
    assert client.request_count == 3


async def test_identifiers_stay_one_path_segment() -> None:
    """Typed identifiers are quoted: a stray slash or question mark cannot change the path."""
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(session, api_key=KEY)
        with aioresponses() as mocked:
            mocked.get(re.compile(r".*"), status=404, repeat=True)
            with pytest.raises(ApiNotFoundError):
                await client.account("A-1/../x?y")
            with pytest.raises(ApiNotFoundError):
                await client.gas_consumption(" 3000000001 ", "G4/A", utc(2026, 1, 1))
            [(account_url, _), (gas_url, _)] = calls(mocked)
    assert account_url.raw_path == "/v1/accounts/A-1%2F..%2FX%3FY/"
    assert not account_url.query
    assert gas_url.raw_path == "/v1/gas-meter-points/3000000001/meters/G4%2FA/consumption/"
