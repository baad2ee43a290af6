"""The Carbon Intensity sandbox's range endpoints, read with the real client's
``intensity_history``, against the sandbox's ground truth (``intensity_truth``)."""

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
import pytest

from custom_components.energy_hub.api.carbon_intensity import (
    CarbonIntensityBadRequest,
    CarbonIntensityClient,
    IntensityPoint,
)
from custom_components.energy_hub.api.errors import ApiConnectionError, ApiRateLimitedError
from sandbox import ManualClock, create_app
from sandbox.carbon_intensity import intensity_truth, national_slot, regional_slot

from .conftest import CI

type Client = TestClient[web.Request, web.Application]

NOW = datetime(2026, 12, 1, 12, 17, tzinfo=UTC)
"""A December midday: the year before it holds both of 2026's clock changes."""
YEAR_START = datetime(2025, 12, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 12, 1, tzinfo=UTC)
HALF = timedelta(minutes=30)
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    app = create_app(clock=ManualClock(NOW))
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


def api(client: Client) -> CarbonIntensityClient:
    return CarbonIntensityClient(client.session, str(client.make_url(CI)))


async def read(
    client: Client, start: datetime, end: datetime, **place: Any
) -> tuple[list[IntensityPoint], int]:
    """Every half-hour ``intensity_history`` gives, and the sandbox's request count for it."""
    reader = api(client)
    await client.delete("/_admin/requests")
    points = [p async for chunk in reader.intensity_history(start, end, **place) for p in chunk]
    served = (await (await client.get("/_admin/requests")).json())["carbon_intensity"]["total"]
    assert served == reader.request_count
    return points, served


def assert_year(points: list[IntensityPoint], truth: dict[datetime, int]) -> None:
    """Every half-hour of the year once, in order, each the ground truth's value; the UK days
    of the clock changes have 46 and 50 half-hours, an ordinary day 48."""
    starts = [point.start for point in points]
    assert starts == [YEAR_START + i * HALF for i in range(365 * 48)]
    assert {point.start: point.value for point in points} == truth
    per_day = Counter(start.astimezone(LONDON).date().isoformat() for start in starts)
    assert per_day["2026-03-29"] == 46
    assert per_day["2026-10-25"] == 50
    assert per_day["2026-06-01"] == 48
    assert set(Counter(per_day.values())) == {46, 48, 50}


async def test_a_national_year_in_27_requests(client: Client) -> None:
    points, requests = await read(client, YEAR_START, YEAR_END)
    assert requests == 27
    truth = {
        YEAR_START + i * HALF: intensity_truth(YEAR_START + i * HALF, now=NOW)
        for i in range(365 * 48)
    }
    assert_year(points, truth)
    assert all(point.actual == point.value for point in points)  # all settled by NOW


async def test_a_regional_year_in_27_requests(client: Client) -> None:
    points, requests = await read(client, YEAR_START, YEAR_END, region_id=11)
    assert requests == 27
    truth = {
        YEAR_START + i * HALF: intensity_truth(YEAR_START + i * HALF, 11, now=NOW)
        for i in range(365 * 48)
    }
    assert_year(points, truth)
    assert all(point.actual is None for point in points)


async def test_postcode_ranges_are_their_regions(client: Client) -> None:
    start, end = datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 11, 10, tzinfo=UTC)
    by_postcode, requests = await read(client, start, end, postcode="bs16 1ab")
    by_region, _ = await read(client, start, end, region_id=11)
    assert requests == 2
    assert by_postcode == by_region
    assert len(by_postcode) == 21 * 48
    for point in by_postcode:
        assert point.value == intensity_truth(point.start, postcode="BS16", now=NOW)
        assert point.value == regional_slot(11, point.start).forecast
        assert point.index == regional_slot(11, point.start).index


async def test_every_endpoint_serves_the_same_half_hour(client: Client) -> None:
    """The range's half-hours are the forecasts and actuals fw48h, pt24h and the single-slot
    endpoint serve; the national figure turns from actual to forecast at the running slot."""
    start, end = NOW - timedelta(hours=20), NOW + timedelta(hours=20)
    national, _ = await read(client, start, end)
    regional, _ = await read(client, start, end, region_id=13)
    assert len(national) == len(regional) == 81  # 30 Nov 16:00 .. 2 Dec 08:00
    fw48h = (await (await client.get(f"{CI}/intensity/2026-11-30T16:00Z/fw48h")).json())["data"]
    pt24h = (await (await client.get(f"{CI}/intensity/2026-12-01T16:17Z/pt24h")).json())["data"]
    served = {item["from"]: item["intensity"] for item in (*pt24h, *fw48h)}
    regional_fw = await (
        await client.get(f"{CI}/regional/intensity/2026-11-30T16:00Z/fw48h/regionid/13")
    ).json()
    regional_served = {item["from"]: item["intensity"] for item in regional_fw["data"]["data"]}
    running = datetime(2026, 12, 1, 12, tzinfo=UTC)
    for point in national:
        item = served[point.start.strftime("%Y-%m-%dT%H:%MZ")]
        assert (point.forecast, point.actual, point.index) == (
            item["forecast"],
            item["actual"],
            item["index"],
        )
        assert (point.actual is not None) == (point.start <= running)
        assert point.value == intensity_truth(point.start, now=NOW)
        assert point.forecast == national_slot(point.start).forecast
    for point in regional:
        item = regional_served[point.start.strftime("%Y-%m-%dT%H:%MZ")]
        assert (point.forecast, point.index) == (item["forecast"], item["index"])
        assert point.value == intensity_truth(point.start, 13, now=NOW)
    [single] = (await (await client.get(f"{CI}/intensity/2026-12-01T09:40Z")).json())["data"]
    assert single["intensity"]["actual"] == intensity_truth(
        datetime(2026, 12, 1, 9, 30, tzinfo=UTC), now=NOW
    )


@pytest.mark.parametrize("place", ["", "/regionid/11", "/postcode/BS16"])
async def test_fourteen_days_at_most(client: Client, place: str) -> None:
    """Exactly 14 days is served; half an hour more is the documented 400 error body."""
    prefix = f"{CI}/regional/intensity" if place else f"{CI}/intensity"
    ok = await client.get(f"{prefix}/2026-11-01T00:00Z/2026-11-15T00:00Z{place}")
    assert ok.status == 200
    body = await ok.json()
    items = body["data"]["data"] if place else body["data"]
    assert len(items) == 14 * 48
    refused = await client.get(f"{prefix}/2026-11-01T00:00Z/2026-11-15T00:30Z{place}")
    assert refused.status == 400
    error = (await refused.json())["error"]
    assert error["code"] == "400 Bad Request"
    assert "14 days" in error["message"]


async def test_a_range_beyond_the_forecast_ends_early(client: Client) -> None:
    """Past the horizon (the running slot plus 48 h) there is nothing: a hole, not a guess
    (the client asks once more for the rest of a short answer, and gets nothing)."""
    points, requests = await read(client, NOW, NOW + timedelta(days=5), region_id=2)
    assert requests == 2
    running = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert [p.start for p in points] == [running + i * HALF for i in range(96)]


async def test_gaps_are_holes_in_every_range(client: Client) -> None:
    """A gap set through the admin API is missing from the ranges; the rest is unchanged."""
    response = await client.put("/_admin/carbon-intensity/gaps/2026-11-10T09:00Z/2026-11-10T11:00Z")
    assert await response.json() == {
        "gaps": [{"from": "2026-11-10T09:00Z", "to": "2026-11-10T11:00Z"}]
    }
    start, end = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 11, tzinfo=UTC)
    hole = {datetime(2026, 11, 10, 9, tzinfo=UTC) + i * HALF for i in range(4)}
    for place in ({}, {"region_id": 5}, {"postcode": "LS1"}):
        points, _ = await read(client, start, end, **place)
        assert [p.start for p in points] == [
            start + i * HALF for i in range(48) if start + i * HALF not in hole
        ]
        region = 5 if place else None
        assert all(p.value == intensity_truth(p.start, region, now=NOW) for p in points)
    assert (await (await client.get("/_admin/requests")).json())["carbon_intensity"]["total"] == 1
    assert await (await client.delete("/_admin/carbon-intensity/gaps")).json() == {"gaps": []}
    points, _ = await read(client, start, end)
    assert len(points) == 48
    bad = await client.put("/_admin/carbon-intensity/gaps/2026-11-10T11:00Z/2026-11-10T09:00Z")
    assert bad.status == 400


@pytest.mark.parametrize(
    ("fault", "raised"),
    [
        ("http_500", ApiConnectionError),
        ("html_502", ApiConnectionError),
        ("rate_limit", ApiRateLimitedError),
        ("error_200", ApiConnectionError),
    ],
)
async def test_faults_reach_the_range_endpoints(
    client: Client, fault: str, raised: type[Exception]
) -> None:
    """The sandbox's faults apply to the range endpoints; the chunks before one are kept."""
    reader = api(client)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    got: list[tuple[IntensityPoint, ...]] = []
    with pytest.raises(raised):
        async for chunk in reader.intensity_history(start, start + timedelta(days=20)):
            got.append(chunk)
            response = await client.put(
                "/_admin/faults/carbon_intensity", json={"fault": fault, "retry_after": 90}
            )
            assert response.status == 200
    assert [len(chunk) for chunk in got] == [671]
    assert reader.request_count == 2
    if fault == "error_200":
        second = await client.get(f"{CI}/intensity/2026-10-14T23:30Z/2026-10-21T00:00Z")
        assert second.status == 200
        assert (await second.json())["error"]["code"] == "500 Internal Server Error"


async def test_ground_truth_refuses_what_is_not_a_half_hour() -> None:
    with pytest.raises(ValueError, match="not the start of a half-hour"):
        intensity_truth(datetime(2026, 1, 1, 0, 10, tzinfo=UTC), now=NOW)
    with pytest.raises(ValueError, match="unknown region"):
        intensity_truth(datetime(2026, 1, 1, tzinfo=UTC), 99, now=NOW)
    with pytest.raises(ValueError, match="not on the GB grid"):
        intensity_truth(datetime(2026, 1, 1, tzinfo=UTC), postcode="BT1", now=NOW)
    future = datetime(2026, 12, 1, 13, tzinfo=UTC)
    assert intensity_truth(future, now=NOW) == national_slot(future).forecast


async def test_a_bad_range_is_the_clients_bad_request(client: Client) -> None:
    """A range the sandbox refuses reaches the caller as the API's 400 with its message."""
    reader = api(client)
    with pytest.raises(CarbonIntensityBadRequest) as caught:
        async for _ in reader.intensity_history(
            datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), region_id=12345
        ):
            pass
    assert caught.value.api_message is not None
