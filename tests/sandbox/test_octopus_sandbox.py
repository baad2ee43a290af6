"""The Octopus emulation: shapes, auth and paging as the real API, believable deterministic data,
and the Energy Hub client working against it."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
import statistics
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
import pytest

from custom_components.energy_hub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiNotFoundError,
    ApiRateLimitedError,
    ApiResponseError,
)
from custom_components.energy_hub.api.octopus import OctopusClient, RateRegister
from sandbox import STATE_KEY, ManualClock, create_app
from sandbox.octopus import (
    ACCOUNT_NUMBER,
    API_KEY,
    DATA_START,
    EXPORT_MPAN,
    EXPORT_SERIAL,
    GAS_MPRN,
    GAS_SERIAL,
    IMPORT_MPAN,
    IMPORT_SERIAL,
    MALFORMED_BODY,
    agile_published_until,
    consumption_available_until,
    half_hour_consumption,
    standing_charge,
    tariff_code_at,
    to_uk_local,
    uk_time,
    unit_rate,
)

from .conftest import NOW

type Client = TestClient[web.Request, web.Application]

OCTOPUS = "/octopus"
AUTH = {"Authorization": aiohttp.encode_basic_auth(API_KEY, "")}
LONDON = ZoneInfo("Europe/London")
HALF_HOUR = timedelta(minutes=30)

IMPORT_PATH = f"/v1/electricity-meter-points/{IMPORT_MPAN}/meters/{IMPORT_SERIAL}/consumption/"
EXPORT_PATH = f"/v1/electricity-meter-points/{EXPORT_MPAN}/meters/{EXPORT_SERIAL}/consumption/"
GAS_PATH = f"/v1/gas-meter-points/{GAS_MPRN}/meters/{GAS_SERIAL}/consumption/"
AGILE = "E-1R-AGILE-24-10-01-C"
OLD_AGILE = "E-1R-AGILE-23-12-06-C"
FLUX = "E-1R-FLUX-EXPORT-23-02-14-C"
GAS_FIX = "G-1R-OE-FIX-12M-26-06-01-C"


def rates_path(tariff: str, kind: str = "standard-unit-rates") -> str:
    fuel = "gas" if tariff.startswith("G") else "electricity"
    product = tariff[5:-2]
    return f"/v1/products/{product}/{fuel}-tariffs/{tariff}/{kind}/"


async def get_json(
    client: Client,
    path: str,
    params: dict[str, str] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = AUTH,
) -> Any:
    response = await client.get(OCTOPUS + path, params=params, headers=headers)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def london_midnight(day: date) -> datetime:
    """UK midnight from the tz database: an oracle independent of the sandbox's own maths."""
    return datetime(day.year, day.month, day.day, tzinfo=LONDON).astimezone(UTC)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
async def octopus(client: Client) -> AsyncIterator[OctopusClient]:
    """The Energy Hub client pointed at the in-process sandbox."""
    async with aiohttp.ClientSession() as session:
        yield OctopusClient(session, str(client.make_url(OCTOPUS)), api_key=API_KEY)


# --- auth and account -------------------------------------------------------------------------


async def test_account_needs_the_key(client: Client) -> None:
    response = await client.get(f"{OCTOPUS}/v1/accounts/{ACCOUNT_NUMBER}/")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="api"'
    assert await response.json() == {"detail": "Authentication credentials were not provided."}
    for header in (
        aiohttp.encode_basic_auth("sk_live_wrong", ""),
        "Basic not-base64!",
        "Bearer " + API_KEY,
    ):
        body = await get_json(
            client,
            f"/v1/accounts/{ACCOUNT_NUMBER}/",
            status=401,
            headers={"Authorization": header},
        )
        assert body == {"detail": "Incorrect authentication credentials."}
    body = await get_json(client, "/v1/accounts/A-00000000/", status=404)
    assert body == {"detail": "Not found."}


async def test_account_shape(client: Client) -> None:
    body = await get_json(client, f"/v1/accounts/{ACCOUNT_NUMBER}/")
    assert list(body) == ["number", "properties"]
    assert body["number"] == ACCOUNT_NUMBER
    current, previous = body["properties"]
    assert list(current) == [
        "id",
        "moved_in_at",
        "moved_out_at",
        "address_line_1",
        "address_line_2",
        "address_line_3",
        "town",
        "county",
        "postcode",
        "electricity_meter_points",
        "gas_meter_points",
    ]
    assert current["moved_out_at"] is None
    assert previous["moved_out_at"] == "2023-06-15T00:00:00+01:00"
    imported, exported = current["electricity_meter_points"]
    assert list(imported) == [
        "mpan",
        "profile_class",
        "consumption_standard",
        "meters",
        "agreements",
        "is_export",
    ]
    assert (imported["mpan"], imported["is_export"]) == (IMPORT_MPAN, False)
    assert imported["meters"][0]["serial_number"] == IMPORT_SERIAL
    assert imported["agreements"] == [
        {
            "tariff_code": "E-1R-VAR-22-11-01-C",
            "valid_from": "2023-06-15T00:00:00+01:00",
            "valid_to": "2023-12-15T00:00:00Z",
        },
        {
            "tariff_code": OLD_AGILE,
            "valid_from": "2023-12-15T00:00:00Z",
            "valid_to": "2026-04-01T00:00:00+01:00",
        },
        {"tariff_code": AGILE, "valid_from": "2026-04-01T00:00:00+01:00", "valid_to": None},
    ]
    assert (exported["mpan"], exported["is_export"]) == (EXPORT_MPAN, True)
    assert exported["meters"][0]["serial_number"] == EXPORT_SERIAL
    assert exported["agreements"] == [
        {"tariff_code": FLUX, "valid_from": "2023-06-15T00:00:00+01:00", "valid_to": None}
    ]
    [gas] = current["gas_meter_points"]
    assert list(gas) == ["mprn", "consumption_standard", "meters", "agreements"]
    assert (gas["mprn"], gas["meters"]) == (GAS_MPRN, [{"serial_number": GAS_SERIAL}])
    # yearly fixes; the one starting in June 2027 is not listed yet, so the last is open-ended
    assert [a["tariff_code"] for a in gas["agreements"]] == [
        f"G-1R-OE-FIX-12M-{year}-06-01-C" for year in (23, 24, 25, 26)
    ]
    assert gas["agreements"][-1]["valid_to"] is None


async def test_account_through_the_client(octopus: OctopusClient, clock: ManualClock) -> None:
    account = await octopus.account(ACCOUNT_NUMBER.lower())
    prop = account.current_property
    assert prop is not None
    [imported] = [point for point in prop.electricity_meter_points if not point.is_export]
    [exported] = [point for point in prop.electricity_meter_points if point.is_export]
    [gas] = prop.gas_meter_points
    assert (imported.mpan, imported.serial_numbers) == (IMPORT_MPAN, (IMPORT_SERIAL,))
    agreement = imported.agreement_at(NOW)
    assert agreement is not None
    assert agreement.tariff_code == AGILE == tariff_code_at(IMPORT_MPAN, NOW)
    change = utc(2026, 3, 31, 23)  # 2026-04-01 00:00 BST
    assert imported.agreements[-1].valid_from == change
    before = imported.agreement_at(change - HALF_HOUR)
    assert before is not None
    assert before.tariff_code == OLD_AGILE == tariff_code_at(IMPORT_MPAN, change - HALF_HOUR)
    exported_agreement = exported.agreement_at(NOW)
    assert exported_agreement is not None
    assert exported_agreement.tariff_code == FLUX
    gas_agreement = gas.agreement_at(NOW)
    assert gas_agreement is not None
    assert gas_agreement.tariff_code == GAS_FIX == tariff_code_at(GAS_MPRN, NOW)

    clock.set(utc(2027, 6, 1))  # the roll-over to a variable tariff is now listed
    account = await octopus.account(ACCOUNT_NUMBER)
    assert account.current_property is not None
    [gas] = account.current_property.gas_meter_points
    assert gas.agreements[-1].tariff_code == "G-1R-VAR-22-11-01-C"
    assert gas.agreements[-2].valid_to == utc(2027, 6, 14, 23)

    with pytest.raises(ApiNotFoundError):
        await octopus.account("A-00000000")


# --- consumption --------------------------------------------------------------------------------


async def test_consumption_newest_first_and_a_day_late(client: Client) -> None:
    body = await get_json(client, IMPORT_PATH)
    assert list(body) == ["count", "next", "previous", "results"]
    # every half-hour from 2024-01-01 to the start of today (UK), nothing later
    assert body["count"] == int((utc(2026, 11, 23) - DATA_START) / HALF_HOUR)
    assert len(body["results"]) == 100  # the default page size
    newest = body["results"][0]
    assert list(newest) == ["consumption", "interval_start", "interval_end"]
    assert newest["interval_start"] == "2026-11-22T23:30:00+00:00"
    assert newest["interval_end"] == "2026-11-23T00:00:00+00:00"
    starts = [parse(item["interval_start"]) for item in body["results"]]
    assert starts == sorted(starts, reverse=True)
    for item in body["results"]:
        start = parse(item["interval_start"])
        assert item["consumption"] == half_hour_consumption(IMPORT_MPAN, start)
        assert parse(item["interval_end"]) - start == HALF_HOUR


@pytest.mark.parametrize(
    ("now", "newest"),
    [
        (utc(2026, 11, 23, 23, 59), "2026-11-22T23:30:00+00:00"),
        (utc(2026, 11, 24), "2026-11-23T23:30:00+00:00"),
        (utc(2026, 7, 10, 22, 59), "2026-07-09T23:30:00+01:00"),  # 23:59 BST
        (utc(2026, 7, 10, 23), "2026-07-10T23:30:00+01:00"),  # midnight BST
    ],
)
async def test_consumption_arrives_at_uk_midnight(
    client: Client, clock: ManualClock, now: datetime, newest: str
) -> None:
    clock.set(now)
    body = await get_json(client, GAS_PATH, {"page_size": "1"})
    assert body["results"][0]["interval_start"] == newest
    end = consumption_available_until(now)
    assert end == london_midnight(now.astimezone(LONDON).date())
    assert parse(newest) == end - HALF_HOUR


async def test_consumption_pages_follow_next(client: Client) -> None:
    params = {
        "period_from": "2026-11-01T00:00:00Z",
        "period_to": "2026-11-02T00:00:00Z",
        "order_by": "period",
        "page_size": "20",
    }
    first = await get_json(client, EXPORT_PATH, params)
    assert first["count"] == 48
    assert first["previous"] is None
    next_url = first["next"]
    base = str(client.make_url(OCTOPUS + EXPORT_PATH))
    assert next_url.startswith(base + "?")  # absolute, from the request's host
    assert "page=2" in next_url
    assert "page_size=20" in next_url
    items = list(first["results"])
    pages = 1
    while next_url is not None:
        response = await client.session.get(next_url, headers=AUTH)
        assert response.status == 200
        body = await response.json()
        assert body["previous"] is not None
        items += body["results"]
        next_url = body["next"]
        pages += 1
    assert pages == 3
    assert [parse(item["interval_start"]) for item in items] == [
        utc(2026, 11, 1) + n * HALF_HOUR for n in range(48)
    ]
    await get_json(client, EXPORT_PATH, params | {"page": "4"}, status=404)
    await get_json(client, EXPORT_PATH, params | {"page": "0"}, status=404)


async def test_consumption_page_size_is_capped_at_25000(client: Client) -> None:
    body = await get_json(client, GAS_PATH, {"page_size": "30000"})
    assert body["count"] > 25000
    assert len(body["results"]) == 25000
    assert "page=2" in body["next"]


async def test_consumption_errors(client: Client) -> None:
    wrong_serial = IMPORT_PATH.replace(IMPORT_SERIAL, EXPORT_SERIAL)
    assert await get_json(client, wrong_serial, status=404) == {"detail": "Not found."}
    gas_as_electricity = GAS_PATH.replace("gas-meter-points", "electricity-meter-points")
    await get_json(client, gas_as_electricity, status=404)
    await get_json(client, IMPORT_PATH, status=401, headers={})
    body = await get_json(client, IMPORT_PATH, {"period_from": "yesterday"}, status=400)
    assert body == {"period_from": ["Enter a valid date/time."]}
    await get_json(client, IMPORT_PATH, {"period_to": "2026-01-01T00:00:00Z"}, status=400)
    await get_json(client, IMPORT_PATH, {"order_by": "consumption"}, status=400)
    await get_json(client, IMPORT_PATH, {"group_by": "day"}, status=400)
    before = await get_json(client, IMPORT_PATH, {"period_from": "2020-01-01T00:00:00Z"})
    assert before["count"] == int((utc(2026, 11, 23) - DATA_START) / HALF_HOUR)
    future = await get_json(client, IMPORT_PATH, {"period_from": "2027-01-01T00:00:00Z"})
    assert (future["count"], future["next"], future["results"]) == (0, None, [])


def clock_change_days() -> list[tuple[date, int]]:
    days = []
    for year in (2024, 2025, 2026):
        for month, count in ((3, 46), (10, 50)):
            last = date(year, month, 31)
            days.append((last - timedelta(days=(last.weekday() + 1) % 7), count))
    return days


@pytest.mark.parametrize(("day", "count"), clock_change_days())
async def test_clock_change_days_have_46_or_50_half_hours(
    client: Client, day: date, count: int
) -> None:
    start, end = london_midnight(day), london_midnight(day + timedelta(days=1))
    body = await get_json(
        client,
        IMPORT_PATH,
        {"period_from": start.isoformat(), "period_to": end.isoformat(), "order_by": "period"},
    )
    assert body["count"] == len(body["results"]) == count
    for number, item in enumerate(body["results"]):
        start_utc = start + number * HALF_HOUR
        expected = start_utc.astimezone(LONDON).isoformat()  # the tz database's offset
        assert item["interval_start"] == expected
        assert item["interval_end"] == (start_utc + HALF_HOUR).astimezone(LONDON).isoformat()
    offsets = [item["interval_start"][-6:] for item in body["results"]]
    assert set(offsets) == {"+00:00", "+01:00"}
    if count == 50:  # 01:00-02:00 happens twice, once in BST and once in GMT
        wall = [item["interval_start"][11:16] for item in body["results"]]
        assert wall.count("01:00") == wall.count("01:30") == 2
    else:
        assert "01:00" not in {item["interval_start"][11:16] for item in body["results"]}


def test_uk_local_time_agrees_with_the_tz_database() -> None:
    moment = utc(2024, 1, 1)
    while moment < utc(2028, 1, 1):
        assert to_uk_local(moment).utcoffset() == moment.astimezone(LONDON).utcoffset()
        moment += timedelta(hours=5)
    for day in (date(2026, 3, 29), date(2026, 10, 25), date(2026, 6, 1), date(2027, 1, 1)):
        assert uk_time(day) == london_midnight(day)
        at_four = datetime(day.year, day.month, day.day, 16, tzinfo=LONDON)
        assert uk_time(day, 16) == at_four.astimezone(UTC)


# --- rates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "last_end"),
    [
        (utc(2026, 11, 23, 15, 59), utc(2026, 11, 23, 23)),
        (utc(2026, 11, 23, 16), utc(2026, 11, 24, 23)),
        (utc(2026, 7, 10, 14, 59), utc(2026, 7, 10, 22)),  # 15:59 BST: until 23:00 BST today
        (utc(2026, 7, 10, 15), utc(2026, 7, 11, 22)),  # 16:00 BST: tomorrow's are out
    ],
)
async def test_tomorrows_agile_prices_appear_at_4pm(
    client: Client, clock: ManualClock, now: datetime, last_end: datetime
) -> None:
    clock.set(now)
    body = await get_json(client, rates_path(AGILE), {"page_size": "1"})
    [newest] = body["results"]
    assert newest["valid_to"] == last_end.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert agile_published_until(now) == last_end
    tomorrow_noon = now.astimezone(LONDON).replace(hour=12, minute=0) + timedelta(days=1)
    window = {
        "period_from": tomorrow_noon.isoformat(),
        "period_to": (tomorrow_noon + HALF_HOUR).isoformat(),
    }
    body = await get_json(client, rates_path(AGILE), window)
    assert body["count"] == (1 if now.astimezone(LONDON).hour >= 16 else 0)


async def test_agile_day_of_prices(client: Client) -> None:
    """48 half-hour prices per day, newest first, UTC, matching the ground truth; negative
    on a windy, sunny spring weekend."""
    day = {"period_from": "2025-05-10T23:00:00Z", "period_to": "2025-05-11T23:00:00Z"}
    body = await get_json(client, rates_path(AGILE), day)
    assert body["count"] == 48
    rows = body["results"]
    assert list(rows[0]) == [
        "value_exc_vat",
        "value_inc_vat",
        "valid_from",
        "valid_to",
        "payment_method",
    ]
    assert rows[0]["valid_from"] == "2025-05-11T22:30:00Z"
    assert rows[-1]["valid_from"] == "2025-05-10T23:00:00Z"
    for row in rows:
        start = parse(row["valid_from"])
        assert parse(row["valid_to"]) - start == HALF_HOUR
        assert row["payment_method"] is None
        assert row["value_inc_vat"] == round(row["value_exc_vat"] * 1.05, 4)
        assert row["value_inc_vat"] == unit_rate(AGILE, start)
        assert row["value_exc_vat"] == unit_rate(AGILE, start, inc_vat=False)
    values = [row["value_inc_vat"] for row in rows]
    assert len(set(values)) > 40
    assert min(values) < 0  # plunge pricing, never clamped
    peak = [r["value_inc_vat"] for r in rows if 15 <= parse(r["valid_from"]).hour < 18]
    assert statistics.mean(peak) > statistics.mean(values)

    # a clock-change "Agile day" (23:00 to 23:00 UK) has 46 rows
    spring = {"period_from": "2026-03-28T23:00:00Z", "period_to": "2026-03-29T22:00:00Z"}
    assert (await get_json(client, rates_path(AGILE), spring))["count"] == 46


async def test_rates_are_public_but_a_wrong_key_is_refused(client: Client) -> None:
    params = {"period_from": "2026-11-23T00:00:00Z", "period_to": "2026-11-23T01:00:00Z"}
    assert (await get_json(client, rates_path(AGILE), params, headers={}))["count"] == 2
    wrong = {"Authorization": aiohttp.encode_basic_auth("sk_live_wrong", "")}
    await get_json(client, rates_path(AGILE), params, status=401, headers=wrong)


async def test_rates_page_size_is_capped_at_1500(client: Client) -> None:
    body = await get_json(client, rates_path(AGILE), {"page_size": "5000"})
    assert len(body["results"]) == 1500
    assert body["count"] > 1500
    assert "page=2" in body["next"]
    later = await get_json(client, rates_path(AGILE), {"page_size": "5000", "page": "2"})
    assert parse(later["results"][0]["valid_from"]) == (
        parse(body["results"][-1]["valid_from"]) - HALF_HOUR
    )
    assert later["previous"] == str(client.make_url(OCTOPUS + rates_path(AGILE))) + (
        "?page_size=5000"
    )


async def test_standing_charges_have_both_payment_methods(client: Client) -> None:
    body = await get_json(client, rates_path(AGILE, "standing-charges"))
    rows = body["results"]
    assert {row["payment_method"] for row in rows} == {"DIRECT_DEBIT", "NON_DIRECT_DEBIT"}
    assert rows[0]["valid_to"] is None
    assert rows[1]["valid_to"] is None
    assert rows[0]["valid_from"] == "2026-09-30T23:00:00Z"  # the October 2026 quarter
    for row in rows:
        day = parse(row["valid_from"])
        assert row["value_inc_vat"] == standing_charge(
            AGILE, day, payment_method=row["payment_method"]
        )
    direct = [row for row in rows if row["payment_method"] == "DIRECT_DEBIT"]
    other = [row for row in rows if row["payment_method"] == "NON_DIRECT_DEBIT"]
    assert all(d["value_inc_vat"] < o["value_inc_vat"] for d, o in zip(direct, other, strict=True))
    assert standing_charge(AGILE, date(2026, 11, 23)) == direct[0]["value_inc_vat"]
    assert standing_charge(FLUX, date(2026, 11, 23)) is None
    assert (await get_json(client, rates_path(FLUX, "standing-charges")))["count"] == 0


async def test_flux_export_has_three_bands_and_no_vat(client: Client) -> None:
    day = {"period_from": "2026-11-22T00:00:00Z", "period_to": "2026-11-23T00:00:00Z"}
    rows = (await get_json(client, rates_path(FLUX), day))["results"]
    # 19:00 on the 21st to 02:00, then 02:00-05:00, 05:00-16:00, 16:00-19:00, 19:00-02:00
    assert [(row["valid_from"][11:16], row["valid_to"][11:16]) for row in rows] == [
        ("19:00", "02:00"),
        ("16:00", "19:00"),
        ("05:00", "16:00"),
        ("02:00", "05:00"),
        ("19:00", "02:00"),
    ]
    assert len({row["value_inc_vat"] for row in rows}) == 3
    assert all(row["value_inc_vat"] == row["value_exc_vat"] for row in rows)
    peak, day_rate, off_peak = (row["value_inc_vat"] for row in rows[1:4])
    assert peak > day_rate > off_peak > 0
    for row in rows:
        assert unit_rate(FLUX, parse(row["valid_from"])) == row["value_inc_vat"]
    # published for today and tomorrow only
    newest = (await get_json(client, rates_path(FLUX), {"page_size": "1"}))["results"][0]
    assert newest["valid_from"] == "2026-11-24T19:00:00Z"


async def test_fixed_and_variable_rates(client: Client) -> None:
    fixed = (await get_json(client, rates_path(GAS_FIX)))["results"]
    assert [(row["payment_method"], row["valid_to"]) for row in fixed] == [
        ("DIRECT_DEBIT", None),
        ("NON_DIRECT_DEBIT", None),
    ]
    assert fixed[0]["value_inc_vat"] == unit_rate(GAS_FIX, NOW)
    assert fixed[1]["value_inc_vat"] == unit_rate(GAS_FIX, NOW, payment_method="NON_DIRECT_DEBIT")

    dual = "E-2R-VAR-22-11-01-C"
    body = await get_json(client, rates_path(dual), status=400)
    assert body == {"detail": "This tariff has day and night rates."}
    await get_json(client, rates_path("E-1R-VAR-22-11-01-C", "day-unit-rates"), status=400)
    await get_json(client, rates_path(AGILE, "night-unit-rates"), status=400)
    since = {"period_from": "2026-01-01T00:00:00Z"}
    night = (await get_json(client, rates_path(dual, "night-unit-rates"), since))["results"]
    day = (await get_json(client, rates_path(dual, "day-unit-rates"), since))["results"]
    assert len(night) == len(day) == 8  # four quarters of 2026, two payment methods each
    assert all(n["value_inc_vat"] < d["value_inc_vat"] for n, d in zip(night, day, strict=True))
    assert night[0]["value_inc_vat"] == unit_rate(dual, NOW, register="night")
    assert unit_rate(dual, NOW) is None  # no standard register on a 2R tariff


@pytest.mark.parametrize(
    "path",
    [
        "/v1/products/NOPE-1/electricity-tariffs/E-1R-NOPE-1-C/standard-unit-rates/",
        "/v1/products/AGILE-24-10-01/electricity-tariffs/E-1R-AGILE-23-12-06-C/standard-unit-rates/",
        "/v1/products/AGILE-24-10-01/gas-tariffs/E-1R-AGILE-24-10-01-C/standard-unit-rates/",
        "/v1/products/AGILE-24-10-01/electricity-tariffs/E-1R-AGILE-24-10-01-I/standard-unit-rates/",
        "/v1/products/AGILE-24-10-01/electricity-tariffs/E-2R-AGILE-24-10-01-C/standard-unit-rates/",
    ],
)
async def test_unknown_tariffs_are_404(client: Client, path: str) -> None:
    assert await get_json(client, path, status=404) == {"detail": "Not found."}


async def test_a_tariff_can_be_unpublished(client: Client, octopus: OctopusClient) -> None:
    """The fault switch: one tariff's unit rates and standing charges answer 404 with Django's
    body while the account still lists it; other tariffs answer; the switch itself is not an
    Octopus request; DELETE publishes it again."""
    admin = "/_admin/octopus/unpublished-tariffs"
    response = await client.put(f"{admin}/{AGILE.lower()}")
    assert await response.json() == {"tariffs": [AGILE]}
    await client.delete("/_admin/requests")
    missing = {"detail": "No EnergyProduct matches the given query."}
    assert await get_json(client, rates_path(AGILE), status=404) == missing
    assert await get_json(client, rates_path(AGILE, "standing-charges"), status=404) == missing
    assert await get_json(client, rates_path(OLD_AGILE), {"page_size": "1"}) != missing
    account = await get_json(client, f"/v1/accounts/{ACCOUNT_NUMBER}/")
    codes = {
        agreement["tariff_code"]
        for point in account["properties"][0]["electricity_meter_points"]
        for agreement in point["agreements"]
    }
    assert AGILE in codes
    with pytest.raises(ApiNotFoundError, match="No EnergyProduct matches"):
        await octopus.unit_rates(AGILE, NOW - timedelta(days=1), NOW)
    counts = await (await client.get("/_admin/requests")).json()
    assert counts["octopus"]["total"] == 5
    assert (await (await client.get(admin)).json()) == {"tariffs": [AGILE]}
    await client.delete(f"{admin}/{AGILE}")
    assert (await (await client.get(admin)).json()) == {"tariffs": []}
    rows = await octopus.unit_rates(AGILE, NOW - timedelta(days=1), NOW)
    assert rows[0].value_inc_vat == unit_rate(AGILE, rows[0].valid_from)


# --- the household ------------------------------------------------------------------------------


def mean_by_local_hour(meter: str, first: date, days: int) -> dict[int, float]:
    by_hour: dict[int, list[float]] = {}
    start = london_midnight(first)
    for step in range(days * 48):
        moment = start + step * HALF_HOUR
        by_hour.setdefault(moment.astimezone(LONDON).hour, []).append(
            half_hour_consumption(meter, moment)
        )
    return {hour: statistics.mean(values) for hour, values in by_hour.items()}


def test_the_household_is_believable() -> None:
    winter = mean_by_local_hour(IMPORT_MPAN, date(2026, 1, 5), 21)
    summer = mean_by_local_hour(IMPORT_MPAN, date(2026, 6, 8), 21)
    night = statistics.mean(winter[h] for h in (2, 3, 4))
    assert statistics.mean(winter[h] for h in (17, 18, 19)) > 2.5 * night  # evening peak
    assert statistics.mean(winter[h] for h in (7, 8)) > 1.5 * night  # morning peak
    assert sum(winter.values()) > 1.5 * sum(summer.values())  # seasonal
    assert all(value >= 0 for value in summer.values())

    solar = mean_by_local_hour(EXPORT_MPAN, date(2026, 6, 8), 21)
    assert all(solar[h] == 0 for h in (0, 1, 2, 3, 22, 23))
    assert solar[13] > 0.2
    winter_solar = mean_by_local_hour(EXPORT_MPAN, date(2026, 1, 5), 21)
    assert sum(solar.values()) > 5 * sum(winter_solar.values())

    gas_winter = mean_by_local_hour(GAS_MPRN, date(2026, 1, 5), 21)
    gas_summer = mean_by_local_hour(GAS_MPRN, date(2026, 7, 6), 21)
    assert sum(gas_winter.values()) > 3 * sum(gas_summer.values())
    assert gas_winter[3] == 0  # the heating is off at night
    assert 0.1 < max(gas_winter.values()) < 1.5  # m³ per half-hour, not kWh


# --- determinism, faults, the client end to end --------------------------------------------------

PATHS = [
    f"/v1/accounts/{ACCOUNT_NUMBER}/",
    IMPORT_PATH + "?page_size=500",
    GAS_PATH + "?period_from=2026-10-24T23:00:00Z&period_to=2026-10-26T00:00:00Z",
    rates_path(AGILE) + "?page_size=200",
    rates_path(FLUX),
    rates_path(AGILE, "standing-charges"),
]


async def test_same_clock_gives_byte_identical_responses() -> None:
    """Two sandboxes with the same clock answer alike; links follow the Host header."""
    headers = AUTH | {"Host": "octopus.sandbox:8765"}
    bodies: list[list[bytes]] = []
    for _ in range(2):
        app = create_app(clock=ManualClock(NOW))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            bodies.append(
                [await (await client.get(OCTOPUS + p, headers=headers)).read() for p in PATHS]
            )
    assert bodies[0] == bodies[1]
    assert (
        b'"next":"http://octopus.sandbox:8765/octopus/v1/electricity-meter-points/'
        in (bodies[0][1])
    )


async def test_faults_through_the_client(
    client: Client, octopus: OctopusClient, sandbox_app: web.Application
) -> None:
    async def set_fault(fault: str) -> None:
        response = await client.put("/_admin/faults/octopus", json={"fault": fault})
        assert response.status == 200

    await set_fault("bad_auth")
    body = await get_json(client, IMPORT_PATH, status=401)
    assert body == {"detail": "Incorrect authentication credentials."}
    with pytest.raises(ApiAuthError):
        await octopus.account(ACCOUNT_NUMBER)
    await set_fault("malformed_json")
    response = await client.get(OCTOPUS + IMPORT_PATH, headers=AUTH)
    assert await response.text() == MALFORMED_BODY
    with pytest.raises(ApiResponseError):
        await octopus.electricity_consumption(IMPORT_MPAN, IMPORT_SERIAL, NOW - timedelta(days=1))
    await set_fault("rate_limit")
    with pytest.raises(ApiRateLimitedError) as raised:
        await octopus.unit_rates(AGILE, NOW)
    assert raised.value.retry_after == 60
    for fault in ("http_500", "html_502"):
        await set_fault(fault)
        with pytest.raises(ApiConnectionError):
            await octopus.standing_charges(AGILE)
    await client.delete("/_admin/faults/octopus")
    assert (await octopus.standing_charges(AGILE))[-1].valid_to is None
    assert sandbox_app[STATE_KEY].requests.total("octopus") == 8


async def test_a_year_backfill_in_the_fewest_requests(
    client: Client, octopus: OctopusClient, sandbox_app: web.Application
) -> None:
    """A year of import and export half-hours, Agile prices across the product change, Flux
    export prices and standing charges: 17 requests, and the ground truth throughout."""
    end = london_midnight(date(2026, 11, 23))
    start = end - timedelta(days=365)
    change = utc(2026, 3, 31, 23)

    account = await octopus.account(ACCOUNT_NUMBER)
    imported = await octopus.electricity_consumption(IMPORT_MPAN, IMPORT_SERIAL, start, end)
    exported = await octopus.electricity_consumption(EXPORT_MPAN, EXPORT_SERIAL, start, end)
    old_agile = await octopus.unit_rates(OLD_AGILE, start, change)
    new_agile = await octopus.unit_rates(AGILE, change, end)
    flux = await octopus.unit_rates(FLUX, start, end)
    old_standing = await octopus.standing_charges(OLD_AGILE, start, change)
    new_standing = await octopus.standing_charges(AGILE, change, end)

    assert account.number == ACCOUNT_NUMBER
    assert len(imported) == len(exported) == 365 * 48
    assert imported[0].interval_start == start
    assert imported[-1].interval_end == end
    assert [i.interval_start for i in imported[::997]] == [
        start + n * 997 * HALF_HOUR for n in range(len(imported[::997]))
    ]
    for interval in imported[::97]:
        assert interval.consumption == half_hour_consumption(IMPORT_MPAN, interval.interval_start)
    for interval in exported[::89]:
        assert interval.consumption == half_hour_consumption(EXPORT_MPAN, interval.interval_start)
    assert [r.valid_from for r in old_agile] == [
        start + n * HALF_HOUR for n in range(int((change - start) / HALF_HOUR))
    ]
    assert new_agile[0].valid_from == change
    assert new_agile[-1].valid_to == end
    for rate in (old_agile + new_agile)[::113]:
        code = tariff_code_at(IMPORT_MPAN, rate.valid_from)
        assert code is not None
        assert rate.value_inc_vat == unit_rate(code, rate.valid_from)
    assert 365 * 4 <= len(flux) <= 1500
    assert all(r.payment_method == "DIRECT_DEBIT" for r in old_standing + new_standing)
    assert {r.value_inc_vat for r in new_standing} == {
        standing_charge(AGILE, r.valid_from) for r in new_standing
    }

    agile_pages = -(-len(old_agile) // 1500) + -(-len(new_agile) // 1500)
    assert agile_pages == 13
    assert octopus.request_count == 1 + 1 + 1 + agile_pages + 1 + 1 + 1 == 19
    assert sandbox_app[STATE_KEY].requests.total("octopus") == octopus.request_count


async def test_rates_through_the_client_pick_direct_debit(octopus: OctopusClient) -> None:
    rates = await octopus.unit_rates(
        "E-2R-VAR-22-11-01-C", utc(2026, 1, 1), register=RateRegister.NIGHT
    )
    assert [r.payment_method for r in rates] == ["DIRECT_DEBIT"] * 4
    assert [r.valid_from for r in rates] == [
        utc(2026, 1, 1),
        utc(2026, 3, 31, 23),
        utc(2026, 6, 30, 23),
        utc(2026, 9, 30, 23),
    ]
    assert rates[-1].valid_to is None
    gas = await octopus.unit_rates(GAS_FIX, payment_method="NON_DIRECT_DEBIT")
    assert [r.value_inc_vat for r in gas] == [
        unit_rate(GAS_FIX, NOW, payment_method="NON_DIRECT_DEBIT")
    ]
