"""The Elexon BMRS emulation: shapes as the real API, a consistent grid, clock-change days."""

from datetime import UTC, date, datetime, timedelta
import itertools
import statistics
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
import pytest

from custom_components.energy_hub.api.elexon import settlement_period
from sandbox import ManualClock, create_app
from sandbox.elexon import (
    FUEL_TYPES,
    LINKS,
    MALFORMED_BODY,
    day_start,
    half_hour,
    interval,
    period_intervals,
    periods_in_day,
    settlement,
)

from .conftest import NOW

type Client = TestClient[web.Request, web.Application]

BMRS = "/elexon"
FIVE = timedelta(minutes=5)
HALF = timedelta(minutes=30)
FUELINST_KEYS = [
    "dataset",
    "publishTime",
    "startTime",
    "settlementDate",
    "settlementPeriod",
    "fuelType",
    "generation",
]


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(BMRS + path)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# --- FUELINST -----------------------------------------------------------------------------------


async def test_fuelinst_by_publish_time(client: Client) -> None:
    """Every fuel type of every interval published in the window, up to "now" (18:17)."""
    body = await get_json(
        client,
        "/datasets/FUELINST?publishDateTimeFrom=2026-11-23T18:00:00Z"
        "&publishDateTimeTo=2026-11-23T19:00:00Z&format=json",
    )
    assert list(body) == ["data"]
    rows = body["data"]
    assert all(list(row) == FUELINST_KEYS for row in rows)
    publish_times = sorted({row["publishTime"] for row in rows})
    assert publish_times == [
        "2026-11-23T18:00:00Z",
        "2026-11-23T18:05:00Z",
        "2026-11-23T18:10:00Z",
        "2026-11-23T18:15:00Z",
    ]
    assert len(rows) == 4 * len(FUEL_TYPES)
    newest = [row for row in rows if row["startTime"] == "2026-11-23T18:10:00Z"]
    assert [row["fuelType"] for row in newest] == list(FUEL_TYPES)
    assert {(row["settlementDate"], row["settlementPeriod"]) for row in newest} == {
        ("2026-11-23", 37)
    }
    model = interval(datetime(2026, 11, 23, 18, 10, tzinfo=UTC))
    assert {row["fuelType"]: row["generation"] for row in newest} == dict(model.generation)
    assert all(isinstance(row["generation"], int) for row in rows)


async def test_fuelinst_by_settlement_period_and_fuel(client: Client) -> None:
    """Settlement date and period filters, fuel type filter (repeated keys)."""
    body = await get_json(
        client,
        "/datasets/FUELINST?settlementDateFrom=2026-11-23&settlementDateTo=2026-11-23"
        "&settlementPeriod=36&settlementPeriod=37&fuelType=WIND&fuelType=intfr",
    )
    starts = sorted({row["startTime"] for row in body["data"]})
    # Period 36 (17:30-18:00) in full, period 37 up to the interval published by 18:17.
    assert starts == [
        stamp(datetime(2026, 11, 23, 17, 30, tzinfo=UTC) + i * FIVE) for i in range(9)
    ]
    assert {row["fuelType"] for row in body["data"]} == {"WIND", "INTFR"}


async def test_current_generation_snapshot(client: Client) -> None:
    """A bare array, one row per fuel type; now in MW, half hour and day in MWh."""
    rows = await get_json(client, "/generation/outturn/current")
    assert isinstance(rows, list)
    assert [row["fuelType"] for row in rows] == list(FUEL_TYPES)
    latest = interval(datetime(2026, 11, 23, 18, 10, tzinfo=UTC))
    assert {row["fuelType"]: row["currentUsage"] for row in rows} == dict(latest.generation)
    wind = next(row for row in rows if row["fuelType"] == "WIND")
    half = sum(
        interval(datetime(2026, 11, 23, 18, 10, tzinfo=UTC) - i * FIVE).generation["WIND"]
        for i in range(6)
    )
    assert wind["halfHourUsage"] == round(half / 12)
    assert 95 <= sum(row["currentPercentage"] for row in rows) <= 105
    assert 95 <= sum(row["twentyFourHourPercentage"] for row in rows) <= 105
    only = await get_json(client, "/generation/outturn/current?fuelType=CCGT")
    assert [row["fuelType"] for row in only] == ["CCGT"]


# --- demand ---------------------------------------------------------------------------------------


async def test_demand_datasets(client: Client) -> None:
    """INDO/ITSDO by publish window, and the latest without one; 15 minutes after the period."""
    body = await get_json(
        client,
        "/datasets/INDO?publishDateTimeFrom=2026-11-23T17:00:00Z"
        "&publishDateTimeTo=2026-11-23T18:17:00Z",
    )
    rows = body["data"]
    assert [(row["publishTime"], row["startTime"], row["settlementPeriod"]) for row in rows] == [
        ("2026-11-23T17:15:00Z", "2026-11-23T16:30:00Z", 34),
        ("2026-11-23T17:45:00Z", "2026-11-23T17:00:00Z", 35),
        ("2026-11-23T18:15:00Z", "2026-11-23T17:30:00Z", 36),
    ]
    assert rows[-1] == {
        "dataset": "INDO",
        "publishTime": "2026-11-23T18:15:00Z",
        "startTime": "2026-11-23T17:30:00Z",
        "settlementDate": "2026-11-23",
        "settlementPeriod": 36,
        "demand": half_hour(datetime(2026, 11, 23, 17, 30, tzinfo=UTC)).indo,
    }
    latest = await get_json(client, "/datasets/ITSDO")
    [row] = latest["data"]
    assert (row["dataset"], row["settlementPeriod"]) == ("ITSDO", 36)
    assert row["demand"] > rows[-1]["demand"]


async def test_demand_outturn(client: Client) -> None:
    """INDO and ITSDO together, with metadata, published periods only."""
    body = await get_json(
        client, "/demand/outturn?settlementDateFrom=2026-11-23&settlementDateTo=2026-11-23"
    )
    assert body["metadata"] == {"datasets": ["INDO", "ITSDO"]}
    assert [row["settlementPeriod"] for row in body["data"]] == list(range(1, 37))
    last = body["data"][-1]
    model = half_hour(datetime(2026, 11, 23, 17, 30, tzinfo=UTC))
    assert last["initialDemandOutturn"] == model.indo
    assert last["initialTransmissionSystemDemandOutturn"] == model.itsdo
    some = await get_json(
        client,
        "/demand/outturn?settlementDateFrom=2026-11-22&settlementDateTo=2026-11-23"
        "&settlementPeriod=48&settlementPeriod=1",
    )
    assert [(r["settlementDate"], r["settlementPeriod"]) for r in some["data"]] == [
        ("2026-11-22", 1),
        ("2026-11-22", 48),
        ("2026-11-23", 1),
    ]


# --- prices ---------------------------------------------------------------------------------------


async def test_system_prices(client: Client) -> None:
    """A day's published periods, or one; the documented row; a single imbalance price."""
    body = await get_json(client, "/balancing/settlement/system-prices/2026-11-23")
    assert body["metadata"] == {"datasets": ["DISEBSP"]}
    assert [row["settlementPeriod"] for row in body["data"]] == list(range(1, 37))
    [row] = (await get_json(client, "/balancing/settlement/system-prices/2026-11-23/36"))["data"]
    assert row == body["data"][-1]
    model = half_hour(datetime(2026, 11, 23, 17, 30, tzinfo=UTC))
    assert row["systemSellPrice"] == row["systemBuyPrice"] == model.system_price
    assert row["startTime"] == "2026-11-23T17:30:00Z"
    assert row["createdDateTime"] == "2026-11-23T18:15:00Z"
    assert len(row) == 22  # every documented field
    # Not published yet, or a period the day does not have: no rows.
    for path in ("2026-11-23/37", "2026-11-22/49", "2026-11-24"):
        body = await get_json(client, f"/balancing/settlement/system-prices/{path}")
        assert body["data"] == [], path


async def test_market_index(client: Client) -> None:
    """By settlement period or by time; newest first; APX priced, N2EX zero."""
    body = await get_json(
        client,
        "/balancing/pricing/market-index?from=2026-11-23&to=2026-11-23"
        "&settlementPeriodFrom=35&settlementPeriodTo=36",
    )
    assert body["metadata"] == {"datasets": ["MID"]}
    rows = body["data"]
    assert [(r["settlementPeriod"], r["dataProvider"]) for r in rows] == [
        (36, "APXMIDP"),
        (36, "N2EXMIDP"),
        (35, "APXMIDP"),
        (35, "N2EXMIDP"),
    ]
    model = half_hour(datetime(2026, 11, 23, 17, 30, tzinfo=UTC))
    assert (rows[0]["price"], rows[0]["volume"]) == (model.market_price, model.market_volume)
    assert (rows[1]["price"], rows[1]["volume"]) == (0, 0)
    by_time = await get_json(
        client,
        "/balancing/pricing/market-index?from=2026-11-23T16:45:00Z&to=2026-11-23T18:17:00Z"
        "&dataProviders=APXMIDP",
    )
    assert [r["startTime"] for r in by_time["data"]] == [
        "2026-11-23T17:30:00Z",
        "2026-11-23T17:00:00Z",
    ]
    dataset = await get_json(
        client, "/datasets/MID?from=2026-11-23&to=2026-11-23&settlementPeriodTo=1"
    )
    assert [(r["dataset"], r["settlementPeriod"]) for r in dataset["data"]] == [
        ("MID", 1),
        ("MID", 1),
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/datasets/FUELINST",
        "/datasets/FUELINST?publishDateTimeFrom=2026-11-23T18:00Z&settlementDateFrom=2026-11-23",
        "/datasets/FUELINST?publishDateTimeFrom=2026-11-23T18:00Z",
        "/datasets/FUELINST?publishDateTimeFrom=soon&publishDateTimeTo=2026-11-23T18:00Z",
        "/datasets/FUELINST?publishDateTimeFrom=2026-11-23T18:00Z&publishDateTimeTo=2026-11-23T17:00Z",
        "/datasets/FUELINST?publishDateTimeFrom=2026-11-20T18:00Z&publishDateTimeTo=2026-11-23T17:00Z",
        "/datasets/FUELINST?settlementDateFrom=2026-11-20&settlementDateTo=2026-11-23",
        "/datasets/FUELINST?settlementDateFrom=2026-11-23&settlementDateTo=2026-11-23&settlementPeriod=51",
        "/datasets/FUELINST?settlementDateFrom=23/11/2026&settlementDateTo=2026-11-23",
        "/datasets/INDO?publishDateTimeFrom=2026-11-23T18:00Z&publishDateTimeTo=2026-11-23T18:00Z&format=xml",
        "/demand/outturn?settlementDateFrom=2026-11-23",
        "/demand/outturn?settlementDateFrom=2026-11-24&settlementDateTo=2026-11-23",
        "/demand/outturn?settlementDateFrom=2026-11-01&settlementDateTo=2026-11-23",
        "/balancing/settlement/system-prices/2026-11-23/0",
        "/balancing/settlement/system-prices/yesterday",
        "/balancing/pricing/market-index?from=2026-11-23",
        "/balancing/pricing/market-index?from=2026-11-23&to=2026-11-23&dataProviders=EPEX",
        "/balancing/pricing/market-index?from=2026-11-23&to=2026-11-23&settlementPeriodFrom=x",
    ],
)
async def test_bad_requests(client: Client, path: str) -> None:
    """Bad parameters get a 400 with a problem body."""
    body = await get_json(client, path, status=400)
    assert body["status"] == 400
    assert body["title"] == "Bad Request"
    assert body["detail"]


async def test_faults_use_the_vendor_shapes(client: Client) -> None:
    """The error body and the truncated body of the fault switches look like Elexon's."""
    await client.put("/_admin/faults/elexon", json={"fault": "http_500"})
    body = await get_json(client, "/datasets/INDO", status=500)
    assert (body["status"], body["title"]) == (500, "Internal Server Error")
    await client.put("/_admin/faults/elexon", json={"fault": "malformed_json"})
    response = await client.get(BMRS + "/datasets/INDO")
    assert await response.text() == MALFORMED_BODY
    await client.delete("/_admin/faults/elexon")
    assert (await client.get(BMRS + "/datasets/INDO")).status == 200


async def test_same_clock_same_bytes() -> None:
    """Responses are a pure function of the clock."""
    bodies = []
    for _ in range(2):
        async with TestClient(
            TestServer(create_app(clock=ManualClock(NOW)), host="127.0.0.1")
        ) as c:
            response = await c.get(BMRS + "/generation/outturn/current")
            bodies.append(await response.read())
    assert bodies[0] == bodies[1]


async def test_the_clock_moves_what_is_published(client: Client, clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 23, 18, 44, 59, tzinfo=UTC))
    [row] = (await get_json(client, "/datasets/INDO"))["data"]
    assert row["settlementPeriod"] == 36
    clock.set(datetime(2026, 11, 23, 18, 45, tzinfo=UTC))
    [row] = (await get_json(client, "/datasets/INDO"))["data"]
    assert row["settlementPeriod"] == 37


# --- the model ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "count"),
    [(date(2026, 11, 23), 48), (date(2026, 3, 29), 46), (date(2026, 10, 25), 50)],
)
async def test_clock_change_days(client: Client, clock: ManualClock, day: date, count: int) -> None:
    """46 and 50 periods, contiguous from local midnight, labelled as the client computes."""
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    body = await get_json(client, f"/balancing/settlement/system-prices/{day.isoformat()}")
    rows = body["data"]
    assert periods_in_day(day) == count
    assert [row["settlementPeriod"] for row in rows] == list(range(1, count + 1))
    starts = [parse(row["startTime"]) for row in rows]
    assert starts[0] == day_start(day)
    assert all(b - a == HALF for a, b in itertools.pairwise(starts))
    assert starts[-1] + HALF == day_start(day + timedelta(days=1))
    for row in rows:
        period = settlement_period(parse(row["startTime"]))
        assert (period.settlement_date.isoformat(), period.period) == (
            row["settlementDate"],
            row["settlementPeriod"],
        )
    body = await get_json(
        client,
        f"/datasets/FUELINST?settlementDateFrom={day}&settlementDateTo={day}&fuelType=WIND",
    )
    assert len(body["data"]) == 6 * count


def test_labels_agree_with_the_client_every_5_minutes_around_the_changes() -> None:
    """The sandbox's own UK rules and the client's zoneinfo agree on every interval."""
    for first in (datetime(2026, 3, 28, 20, tzinfo=UTC), datetime(2026, 10, 24, 20, tzinfo=UTC)):
        for index in range(12 * 30):
            moment = first + index * FIVE
            period = settlement_period(moment)
            assert settlement(moment) == (period.settlement_date, period.period), moment


def test_fuels_add_up_to_demand_and_demand_outturn() -> None:
    """Each interval's outputs (exports and pumping negative) sum to its demand; INDO is the
    half-hour average; ITSDO adds pumping, exports and station load."""
    start = datetime(2026, 11, 23, tzinfo=UTC)
    for index in range(7 * 48):
        period = start + index * HALF
        intervals = period_intervals(period)
        for item in intervals:
            assert sum(item.generation.values()) == item.demand
            assert item.generation["CCGT"] >= 0
            assert item.generation["WIND"] >= 0
        model = half_hour(period)
        assert abs(model.indo - statistics.mean(i.demand for i in intervals)) <= 0.5
        assert model.itsdo > model.indo


def test_a_believable_week() -> None:
    """Demand peaks in the evening and dips at night; wind varies; interconnectors import and
    export; pumped storage pumps at night and generates at the peak; prices follow demand."""
    start = datetime(2026, 1, 12, tzinfo=UTC)  # a winter Monday
    halves = [half_hour(start + index * HALF) for index in range(7 * 48)]
    demand = [h.indo for h in halves]
    assert 15000 < min(demand) < 22000
    assert 32000 < max(demand) < 40000
    monday = halves[:48]
    assert max(monday, key=lambda h: h.indo).start.hour in (17, 18)
    assert min(monday, key=lambda h: h.indo).start.hour in range(2, 6)
    winds = [h.wind for h in halves]
    assert max(winds) - min(winds) > 3000
    flows = [interval(start + index * FIVE).generation for index in range(0, 7 * 288, 6)]
    for link in LINKS:
        values = [flow[link.code] for flow in flows]
        assert max(values) <= link.capacity
        assert min(values) >= -link.capacity
    assert any(flow[link.code] > 0 for flow in flows for link in LINKS)
    assert any(flow[link.code] < 0 for flow in flows for link in LINKS)
    assert min(flow["PS"] for flow in flows) < -300
    assert max(flow["PS"] for flow in flows) > 1000
    residual = [h.indo - h.wind for h in halves]
    assert statistics.correlation(residual, [h.system_price for h in halves]) > 0.6
    assert statistics.correlation(residual, [h.market_price for h in halves]) > 0.8
    assert statistics.correlation(demand, [h.market_price for h in halves]) > 0.3


def test_peakers_run_at_a_few_winter_peaks() -> None:
    """Open-cycle gas runs only when gas is already high: a few winter evenings."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    january = [interval(start + index * HALF).generation for index in range(31 * 48)]
    running = [item for item in january if item["OCGT"] > 0]
    assert 0 < len(running) < len(january) * 0.05
    assert all(0 < item["OCGT"] <= 600 for item in running)
    assert all(item["CCGT"] >= 11000 for item in running)


def test_solar_lowers_summer_midday_demand() -> None:
    """Embedded solar: a June midday needs less from the grid than the morning before it."""
    morning = half_hour(datetime(2026, 6, 17, 7, 0, tzinfo=UTC)).indo
    midday = half_hour(datetime(2026, 6, 17, 12, 0, tzinfo=UTC)).indo
    assert midday < morning
