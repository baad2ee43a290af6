"""The Elexon BMRS client: settlement periods (clock-change days too), every endpoint, envelopes."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aioresponses import aioresponses
import pytest
from yarl import URL

from custom_components.energy_hub.api.elexon import (
    ElexonClient,
    FuelInstRow,
    format_datetime,
    latest_mix,
    periods_in_day,
    settlement_day_start,
    settlement_period,
    settlement_period_start,
)
from custom_components.energy_hub.api.errors import (
    ApiConnectionError,
    ApiRateLimitedError,
    ApiResponseError,
)
from tests.conftest import load_json, url_re
from tests.elexon_mocks import ELEXON_URL

LONDON = ZoneInfo("Europe/London")
HALF_HOUR = timedelta(minutes=30)
TICK = timedelta(microseconds=1)
NOW = datetime(2025, 1, 15, 17, 52, 30, tzinfo=UTC)

# --- settlement periods ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "count", "first_start"),
    [
        (date(2025, 1, 15), 48, datetime(2025, 1, 15, 0, 0, tzinfo=UTC)),  # GMT
        (date(2025, 7, 1), 48, datetime(2025, 6, 30, 23, 0, tzinfo=UTC)),  # BST
        (date(2025, 3, 30), 46, datetime(2025, 3, 30, 0, 0, tzinfo=UTC)),  # clocks forward
        (date(2025, 10, 26), 50, datetime(2025, 10, 25, 23, 0, tzinfo=UTC)),  # clocks back
        (date(2026, 3, 29), 46, datetime(2026, 3, 29, 0, 0, tzinfo=UTC)),
        (date(2026, 10, 25), 50, datetime(2026, 10, 24, 23, 0, tzinfo=UTC)),
        (date(2025, 3, 31), 48, datetime(2025, 3, 30, 23, 0, tzinfo=UTC)),  # the day after
        (date(2025, 10, 27), 48, datetime(2025, 10, 27, 0, 0, tzinfo=UTC)),
    ],
)
def test_every_period_boundary(day: date, count: int, first_start: datetime) -> None:
    """Each period starts 30 minutes after the last, from local midnight; at every boundary
    the instant before belongs to the previous period (of the previous day, for period 1)."""
    assert periods_in_day(day) == count
    assert settlement_day_start(day) == first_start
    previous_day = day - timedelta(days=1)
    for period in range(1, count + 1):
        start = first_start + (period - 1) * HALF_HOUR
        assert settlement_period_start(day, period) == start
        current = settlement_period(start)
        assert current.settlement_date == day
        assert current.period == period
        assert current.start == start
        assert current.end == start + HALF_HOUR
        assert current.periods_in_day == count
        last_instant = settlement_period(start + HALF_HOUR - TICK)
        assert (last_instant.settlement_date, last_instant.period) == (day, period)
        before = settlement_period(start - TICK)
        expected = (day, period - 1) if period > 1 else (previous_day, periods_in_day(previous_day))
        assert (before.settlement_date, before.period) == expected
    after = settlement_period(first_start + count * HALF_HOUR)
    assert (after.settlement_date, after.period) == (day + timedelta(days=1), 1)


def test_clock_change_days_in_local_time() -> None:
    """Spring: 01:00 GMT is followed by 02:00 BST (period 3). Autumn: 01:00 BST (period 3) and
    01:00 GMT (period 5) both happen; period 50 starts at 23:30 GMT."""
    spring = settlement_period(datetime(2025, 3, 30, 2, 0, tzinfo=LONDON))
    assert (spring.period, spring.start) == (3, datetime(2025, 3, 30, 1, 0, tzinfo=UTC))
    assert settlement_period(datetime(2025, 3, 30, 23, 30, tzinfo=LONDON)).period == 46
    bst = settlement_period(datetime(2025, 10, 26, 1, 0, tzinfo=LONDON))  # fold=0: BST
    gmt = settlement_period(datetime(2025, 10, 26, 1, 0, fold=1, tzinfo=LONDON))
    assert (bst.period, gmt.period) == (3, 5)
    assert gmt.start == datetime(2025, 10, 26, 1, 0, tzinfo=UTC)
    last = settlement_period(datetime(2025, 10, 26, 23, 30, tzinfo=LONDON))
    assert (last.period, last.start) == (50, datetime(2025, 10, 26, 23, 30, tzinfo=UTC))


def test_settlement_period_any_timezone_and_errors() -> None:
    """Any aware instant works; naive ones and periods the day does not have are refused."""
    plus_five = timezone(timedelta(hours=5))
    period = settlement_period(datetime(2025, 1, 15, 22, 52, 30, tzinfo=plus_five))
    assert (period.settlement_date, period.period) == (date(2025, 1, 15), 36)
    with pytest.raises(ValueError, match="naive"):
        settlement_period(datetime(2025, 1, 15, 12, 0))
    with pytest.raises(ValueError, match="periods 1-46"):
        settlement_period_start(date(2025, 3, 30), 47)
    with pytest.raises(ValueError, match="periods 1-48"):
        settlement_period_start(date(2025, 1, 15), 0)
    assert settlement_period_start(date(2025, 10, 26), 50) == datetime(
        2025, 10, 26, 23, 30, tzinfo=UTC
    )


def test_format_datetime() -> None:
    """Times go out in UTC, to the second, with a Z."""
    local = datetime(2025, 7, 1, 12, 0, 5, 999, tzinfo=LONDON)
    assert format_datetime(local) == "2025-07-01T11:00:05Z"


# --- the endpoints --------------------------------------------------------------------------


async def _call(mock: Any, call: Any) -> Any:
    """Run ``call(client)`` with ``mock(mocked)`` registered; returns (result, requested URLs)."""
    async with aiohttp.ClientSession() as session:
        client = ElexonClient(session, ELEXON_URL)
        with aioresponses() as mocked:
            mock(mocked)
            result = await call(client)
            urls = [URL(str(url)) for (_, url), calls in mocked.requests.items() for _ in calls]
    assert client.request_count == len(urls)
    return result, urls


async def test_fuelinst_latest_interval() -> None:
    """The newest interval of the window, every fuel type in it, interconnectors included."""
    mix, urls = await _call(
        lambda m: m.get(
            url_re(ELEXON_URL, "/datasets/FUELINST"), payload=load_json("elexon/fuelinst.json")
        ),
        lambda c: c.latest_generation(datetime(2025, 1, 15, 17, 35, tzinfo=UTC), NOW),
    )
    [url] = urls
    assert url.path == "/bmrs/api/v1/datasets/FUELINST"
    assert dict(url.query) == {
        "publishDateTimeFrom": "2025-01-15T17:35:00Z",
        "publishDateTimeTo": "2025-01-15T17:52:30Z",
        "format": "json",
    }
    assert mix.start == datetime(2025, 1, 15, 17, 45, tzinfo=UTC)
    assert mix.end == datetime(2025, 1, 15, 17, 50, tzinfo=UTC)
    assert mix.publish_time == datetime(2025, 1, 15, 17, 50, tzinfo=UTC)
    assert (mix.settlement_date, mix.settlement_period) == (date(2025, 1, 15), 36)
    assert dict(mix.generation) == {
        "BIOMASS": 2249,
        "CCGT": 15234,
        "COAL": 0,
        "NPSHYD": 412,
        "NUCLEAR": 4120,
        "OCGT": 18,
        "OIL": 0,
        "OTHER": 512,
        "PS": 1436,
        "WIND": 6813,
        "INTELEC": 998,
        "INTEW": -250,
        "INTFR": 1504,
        "INTGRNL": -312,
        "INTIFA2": 992,
        "INTIRL": -402,
        "INTNED": 650,
        "INTNEM": 1006,
        "INTNSL": 1398,
        "INTVKL": -420,
    }


async def test_fuelinst_unknown_codes_and_odd_rows() -> None:
    """New codes are kept (upper-cased); rows without a fuel, figure or time are dropped."""
    row = {
        "dataset": "FUELINST",
        "publishTime": "2025-01-15T17:50:00Z",
        "startTime": "2025-01-15T17:45:00Z",
        "settlementDate": "2025-01-15",
        "settlementPeriod": 36,
    }
    payload = {
        "data": [
            row | {"fuelType": "INTLN", "generation": 640},
            row | {"fuelType": " bess ", "generation": "-75"},
            row | {"fuelType": "WIND", "generation": 6813.4},
            row | {"fuelType": "SOLAR", "generation": True},
            row | {"fuelType": "", "generation": 1},
            row | {"fuelType": "OIL", "generation": "n/a"},
            row | {"fuelType": "COAL", "generation": 0, "startTime": "yesterday"},
            row | {"fuelType": "NUCLEAR", "generation": [4100]},
            row | {"fuelType": "PS", "generation": 0, "startTime": "2025-01-15T17:45:00"},
            {"fuelType": "CCGT", "generation": 1, "startTime": 17},
            "junk",
        ]
    }
    rows, _ = await _call(
        lambda m: m.get(url_re(ELEXON_URL, "/datasets/FUELINST"), payload=payload),
        lambda c: c.fuelinst(NOW - timedelta(minutes=15), NOW),
    )
    assert [(r.fuel_type, r.generation) for r in rows] == [
        ("BESS", -75),
        ("INTLN", 640),
        ("PS", 0),  # a time without a zone is UTC
        ("WIND", 6813),
    ]
    assert rows[2].start == datetime(2025, 1, 15, 17, 45, tzinfo=UTC)


def test_latest_mix_prefers_the_later_publication() -> None:
    """A fuel published twice for the newest interval: the later publication wins."""
    start = datetime(2025, 1, 15, 17, 45, tzinfo=UTC)

    def row(fuel: str, mw: int, published: datetime | None, when: datetime = start) -> FuelInstRow:
        return FuelInstRow(fuel, mw, when, published, None, None)

    mix = latest_mix(
        [
            row("WIND", 7000, start + timedelta(minutes=6)),
            row("WIND", 6900, start + timedelta(minutes=5)),
            row("CCGT", 15000, None),
            row("WIND", 1, start + timedelta(minutes=1), start - timedelta(minutes=5)),
        ]
    )
    assert mix is not None
    assert dict(mix.generation) == {"CCGT": 15000, "WIND": 7000}
    assert mix.publish_time == start + timedelta(minutes=6)
    assert latest_mix([]) is None


async def test_openapi_examples() -> None:
    """The official schema examples (the three envelopes) parse."""
    async with aiohttp.ClientSession() as session:
        client = ElexonClient(session, ELEXON_URL)
        with aioresponses() as mocked:
            mocked.get(
                url_re(ELEXON_URL, "/datasets/FUELINST"),
                payload=load_json("elexon/openapi_fuelinst.json"),
            )
            mocked.get(
                url_re(ELEXON_URL, "/balancing/settlement/system-prices/2023-09-18/2"),
                payload=load_json("elexon/openapi_system_prices.json"),
            )
            mocked.get(
                url_re(ELEXON_URL, "/balancing/pricing/market-index"),
                payload=load_json("elexon/openapi_market_index.json"),
            )
            fuel = await client.fuelinst(NOW, NOW)
            prices = await client.system_prices(date(2023, 9, 18), 2)
            index = await client.market_index(date(2022, 9, 26), date(2022, 9, 26), provider=None)
    assert [(r.fuel_type, r.generation, r.settlement_period) for r in fuel] == [("BIOMASS", 0, 3)]
    [price] = prices
    assert (price.system_sell_price, price.system_buy_price) == (215.0, 215.0)
    assert price.start == datetime(2023, 9, 18, 0, 30, tzinfo=UTC)
    assert price.created == datetime(2023, 9, 17, 15, 31, 12, tzinfo=UTC)
    assert price.net_imbalance_volume == 291.9136
    assert price.price_derivation_code == "P"
    [row] = index
    assert (row.data_provider, row.price, row.volume) == ("N2EXMIDP", 678.12, 678.123)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"payload": load_json("elexon/generation_outturn_current.json")}, 3),  # bare array
        ({"payload": {"data": load_json("elexon/generation_outturn_current.json")}}, 3),
        (
            {
                "payload": {
                    "metadata": {"datasets": ["FUELINST"]},
                    "data": load_json("elexon/generation_outturn_current.json"),
                }
            },
            3,
        ),
        ({"payload": {"data": {"fuelType": "WIND", "currentUsage": 1}}}, 1),  # one object
        ({"payload": {"data": None}}, 0),
        ({"payload": {"metadata": {}}}, 0),
        ({"payload": []}, 0),
        ({"body": ""}, 0),
        ({"payload": [{"fuelType": None}, {"currentUsage": 3}, 7]}, 0),
    ],
)
async def test_envelopes(body: dict[str, Any], expected: int) -> None:
    """Bare arrays, ``data`` lists (with or without metadata), one object, nothing at all."""
    rows, _ = await _call(
        lambda m: m.get(url_re(ELEXON_URL, "/generation/outturn/current"), **body),
        lambda c: c.current_generation(),
    )
    assert len(rows) == expected


@pytest.mark.parametrize(
    "body",
    [{"payload": "FUELINST"}, {"payload": {"data": "none"}}, {"payload": 42}, {"body": "{'data'"}],
)
async def test_unreadable_bodies(body: dict[str, Any]) -> None:
    """Anything that is not one of the envelopes is a response error."""
    with pytest.raises(ApiResponseError):
        await _call(
            lambda m: m.get(url_re(ELEXON_URL, "/datasets/INDO"), **body),
            lambda c: c.demand("INDO", NOW - timedelta(hours=1), NOW),
        )


async def test_current_generation_snapshot() -> None:
    """The snapshot's figures per fuel type."""
    rows, urls = await _call(
        lambda m: m.get(
            url_re(ELEXON_URL, "/generation/outturn/current"),
            payload=load_json("elexon/generation_outturn_current.json"),
        ),
        lambda c: c.current_generation(),
    )
    assert dict(urls[0].query) == {"format": "json"}
    wind = rows[1]
    assert wind.fuel_type == "WIND"
    assert (wind.current_usage, wind.current_percentage) == (6813.0, 19.2)
    assert (wind.half_hour_usage, wind.half_hour_percentage) == (3433.0, 19.4)
    assert (wind.twenty_four_hour_usage, wind.twenty_four_hour_percentage) == (180622.0, 23.8)


async def test_demand_datasets() -> None:
    """INDO/ITSDO rows sorted oldest first; the latest."""
    itsdo = load_json("elexon/indo.json")
    for row in itsdo["data"]:
        del row["dataset"]

    def mock(mocked: aioresponses) -> None:
        mocked.get(url_re(ELEXON_URL, "/datasets/INDO"), payload=load_json("elexon/indo.json"))
        mocked.get(url_re(ELEXON_URL, "/datasets/ITSDO"), payload=itsdo)
        mocked.get(url_re(ELEXON_URL, "/datasets/INDO"), payload={"data": [{"demand": 1}]})

    async def call(client: ElexonClient) -> Any:
        return (
            await client.latest_demand("INDO", NOW - timedelta(hours=1), NOW),
            await client.demand("ITSDO", NOW - timedelta(hours=1), NOW),
            await client.latest_demand("INDO", NOW - timedelta(hours=1), NOW),
        )

    (latest, rows, nothing), urls = await _call(mock, call)
    assert latest.dataset == "INDO"
    assert (latest.demand, latest.settlement_period) == (35218, 35)
    assert latest.start == datetime(2025, 1, 15, 17, 0, tzinfo=UTC)
    assert latest.end == datetime(2025, 1, 15, 17, 30, tzinfo=UTC)
    assert latest.publish_time == datetime(2025, 1, 15, 17, 45, tzinfo=UTC)
    assert [(r.dataset, r.demand) for r in rows] == [
        ("ITSDO", 32954),
        ("ITSDO", 34107),
        ("ITSDO", 35218),
    ]
    assert nothing is None
    assert urls[0].path == "/bmrs/api/v1/datasets/INDO"
    assert dict(urls[0].query)["publishDateTimeFrom"] == "2025-01-15T16:52:30Z"


async def test_system_prices_day_and_period() -> None:
    """A day's prices or one period's; a missing start is computed; nonsense rows dropped."""
    day = {
        "metadata": {"datasets": ["DISEBSP"]},
        "data": [
            {
                "settlementDate": "2025-10-26",
                "settlementPeriod": 50,
                "systemSellPrice": 40.5,
                "systemBuyPrice": 41.5,
            },
            {
                "settlementDate": "2025-10-26",
                "settlementPeriod": 1,
                "systemSellPrice": 80,
                "systemBuyPrice": "81.25",
                "startTime": "2025-10-25T23:00:00Z",
            },
            {"settlementDate": "2025-10-26", "settlementPeriod": 51},
            {"settlementDate": "26/10/2025", "settlementPeriod": 2},
            {"settlementPeriod": 2},
        ],
    }

    def mock(mocked: aioresponses) -> None:
        mocked.get(
            url_re(ELEXON_URL, "/balancing/settlement/system-prices/2025-01-15/35"),
            payload=load_json("elexon/system_prices.json"),
        )
        mocked.get(
            url_re(ELEXON_URL, "/balancing/settlement/system-prices/2025-10-26"), payload=day
        )

    async def call(client: ElexonClient) -> Any:
        return (
            await client.system_prices(date(2025, 1, 15), 35),
            await client.system_prices(date(2025, 10, 26)),
        )

    (period, whole_day), urls = await _call(mock, call)
    [price] = period
    assert (price.settlement_date, price.settlement_period) == (date(2025, 1, 15), 35)
    assert (price.system_buy_price, price.system_sell_price) == (96.47, 96.47)
    assert price.end == datetime(2025, 1, 15, 17, 30, tzinfo=UTC)
    summary = [
        (p.settlement_period, p.start, p.system_sell_price, p.system_buy_price) for p in whole_day
    ]
    assert summary == [
        (1, datetime(2025, 10, 25, 23, 0, tzinfo=UTC), 80.0, 81.25),
        (50, datetime(2025, 10, 26, 23, 30, tzinfo=UTC), 40.5, 41.5),
    ]
    assert {url.path for url in urls} == {
        "/bmrs/api/v1/balancing/settlement/system-prices/2025-01-15/35",
        "/bmrs/api/v1/balancing/settlement/system-prices/2025-10-26",
    }


async def test_market_index() -> None:
    """One provider by default; rows sorted; both providers when asked."""
    payload = load_json("elexon/market_index.json")
    payload["data"].append({"startTime": "2025-01-15T17:00:00Z", "price": 1})  # no provider
    rows, urls = await _call(
        lambda m: m.get(url_re(ELEXON_URL, "/balancing/pricing/market-index"), payload=payload),
        lambda c: c.market_index(date(2025, 1, 15), date(2025, 1, 15), 35, 35),
    )
    assert dict(urls[0].query) == {
        "from": "2025-01-15",
        "to": "2025-01-15",
        "settlementPeriodFrom": "35",
        "settlementPeriodTo": "35",
        "dataProviders": "APXMIDP",
        "format": "json",
    }
    assert [(r.data_provider, r.price, r.volume) for r in rows] == [
        ("APXMIDP", 91.23, 1523.45),
        ("N2EXMIDP", 0.0, 0.0),
    ]
    assert rows[0].end == datetime(2025, 1, 15, 17, 30, tzinfo=UTC)
    _, urls = await _call(
        lambda m: m.get(url_re(ELEXON_URL, "/balancing/pricing/market-index"), payload={}),
        lambda c: c.market_index(date(2025, 1, 14), date(2025, 1, 15), provider=None),
    )
    assert "dataProviders" not in urls[0].query
    assert urls[0].query["settlementPeriodTo"] == "50"


async def test_http_errors() -> None:
    """The shared mapping: 5xx is a connection problem, 429 a rate limit, 400 a bad response."""
    for status, error in (
        (500, ApiConnectionError),
        (429, ApiRateLimitedError),
        (400, ApiResponseError),
    ):
        with pytest.raises(error):
            await _call(
                lambda m, s=status: m.get(url_re(ELEXON_URL, "/datasets/FUELINST"), status=s),
                lambda c: c.fuelinst(NOW, NOW),
            )
