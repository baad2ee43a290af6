"""The Carbon Intensity client's range reader (``intensity_history``) against the real answers'
shapes: the regional wrapper, null actuals, numbers as strings, empty and short answers, the
half-hour ending at ``{from}`` that every range answer also carries, errors in an HTTP 200."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import re
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aioresponses import CallbackResult, aioresponses
import pytest
from yarl import URL

from custom_components.energy_hub.api.carbon_intensity import (
    MAX_RANGE,
    CarbonIntensityBadRequest,
    CarbonIntensityClient,
    IntensityPoint,
)
from custom_components.energy_hub.api.errors import (
    ApiConnectionError,
    ApiRateLimitedError,
    ApiResponseError,
)
from tests.carbon_intensity_mocks import mock_intensity_history
from tests.conftest import CI_URL

HALF = timedelta(minutes=30)
LONDON = ZoneInfo("Europe/London")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def forecast_of(start: datetime) -> int:
    """A made-up forecast that differs for every half-hour of a year."""
    return 100 + int(start.timestamp() // 1800) % 997


def actual_of(start: datetime) -> int:
    return forecast_of(start) - 7


def real_items(
    from_: datetime, to: datetime, *, actual: bool, national: bool = True
) -> list[dict[str, Any]]:
    """Items as the real range endpoints give them: every half-hour whose END is in
    [from, to], so the first is the half-hour that ends at ``from`` (captures of
    /intensity/2026-08-01T00:00Z/2026-08-06T00:00Z: 241 half-hours from 07-31T23:30Z)."""
    items = []
    start = from_ - HALF
    while start + HALF <= to:
        intensity: dict[str, Any] = {"forecast": forecast_of(start), "index": "moderate"}
        if national:
            intensity["actual"] = actual_of(start) if actual else None
        items.append({"from": minute(start), "to": minute(start + HALF), "intensity": intensity})
        start += HALF
    return items


def span_of(url: URL) -> tuple[datetime, datetime]:
    match = re.search(r"/intensity/([^/]+)/([^/]+)", url.path)
    assert match is not None
    return (
        datetime.strptime(match[1], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC),
        datetime.strptime(match[2], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC),
    )


type Answer = Callable[[datetime, datetime], Any]


def answer_with(answer: Answer, urls: list[URL]) -> Callable[..., CallbackResult]:
    def callback(url: URL, **kwargs: Any) -> CallbackResult:
        urls.append(url)
        return CallbackResult(payload=answer(*span_of(url)))

    return callback


NATIONAL_RANGE = re.compile(re.escape(CI_URL) + r"/intensity/[^/]+/[^/]+$")
REGIONAL_RANGE = re.compile(re.escape(CI_URL) + r"/regional/intensity/[^/]+/[^/]+/\w+/\w+$")


async def history(
    start: datetime, end: datetime, **place: Any
) -> tuple[list[tuple[IntensityPoint, ...]], int]:
    """Every chunk ``intensity_history`` yields, and the requests it made."""
    async with aiohttp.ClientSession() as session:
        client = CarbonIntensityClient(session, CI_URL)
        chunks = [chunk async for chunk in client.intensity_history(start, end, **place)]
    return chunks, client.request_count


def flat(chunks: list[tuple[IntensityPoint, ...]]) -> list[IntensityPoint]:
    return [point for chunk in chunks for point in chunk]


async def test_a_year_national_in_27_requests_each_half_hour_once() -> None:
    """A year is 27 requests of at most 14 days, contiguous; the half-hour each answer adds
    before ``{from}`` (the previous request's last) is dropped, so none is doubled."""
    start, end = at("2025-12-01T00:00"), at("2026-12-01T00:00")
    urls: list[URL] = []
    with aioresponses() as mocked:
        mocked.get(
            NATIONAL_RANGE,
            callback=answer_with(lambda a, b: {"data": real_items(a, b, actual=True)}, urls),
            repeat=True,
        )
        chunks, requests = await history(start, end)
    assert requests == len(urls) == 27
    spans = [span_of(url) for url in urls]
    assert spans[0][0] == start
    assert spans[-1][1] == end
    assert all(b - a <= MAX_RANGE for a, b in spans)
    assert all(spans[i][1] == spans[i + 1][0] for i in range(26))
    assert all(re.fullmatch(r"/intensity/\d{4}-\d\d-\d\dT\d\d:\d\dZ/[^/]+Z", u.path) for u in urls)
    points = flat(chunks)
    starts = [point.start for point in points]
    assert len(starts) == len(set(starts)) == 365 * 48
    assert starts == [start + i * HALF for i in range(365 * 48)]
    assert all(point.value == point.actual == actual_of(point.start) for point in points)
    assert all(point.forecast == forecast_of(point.start) for point in points)
    assert all(point.end == point.start + HALF for point in points)


async def test_clock_change_days_are_46_and_50_half_hours() -> None:
    """UTC throughout: the UK days of 29 March and 25 October 2026 have 46 and 50 half-hours."""
    for day, count in (("2026-03-29", 46), ("2026-10-25", 50)):
        local = datetime.fromisoformat(day).replace(tzinfo=LONDON)
        end = local + timedelta(days=1)  # wall-clock arithmetic: the next local midnight
        urls: list[URL] = []
        with aioresponses() as mocked:
            mocked.get(
                NATIONAL_RANGE,
                callback=answer_with(lambda a, b: {"data": real_items(a, b, actual=True)}, urls),
            )
            chunks, _ = await history(local, end)
        points = flat(chunks)
        assert len(points) == count
        assert points[0].start == local.astimezone(UTC)
        assert points[-1].end == end.astimezone(UTC)
        assert {p.start.astimezone(LONDON).date().isoformat() for p in points} == {day}
        assert [url.path for url in urls] == [
            f"/intensity/{minute(local.astimezone(UTC))}/{minute(end.astimezone(UTC))}"
        ]


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda region: {"data": region}, id="object (the API's answer)"),
        pytest.param(lambda region: {"data": [region]}, id="list of one region (the docs)"),
    ],
)
async def test_regional_wrappers(wrap: Callable[[dict[str, Any]], Any]) -> None:
    """The regional range answer is read from either wrapper; forecast only, no actual."""
    start, end = at("2026-01-10T00:00"), at("2026-01-11T00:00")
    urls: list[URL] = []

    def answer(a: datetime, b: datetime) -> Any:
        region = {"regionid": 11, "shortname": "South West England", "postcode": "BS16"}
        return wrap(region | {"data": real_items(a, b, actual=False, national=False)})

    with aioresponses() as mocked:
        mocked.get(REGIONAL_RANGE, callback=answer_with(answer, urls), repeat=True)
        by_id, _ = await history(start, end, region_id=11)
        by_postcode, _ = await history(start, end, postcode="bs16 1ab")
    assert [url.path for url in urls] == [
        "/regional/intensity/2026-01-10T00:00Z/2026-01-11T00:00Z/regionid/11",
        "/regional/intensity/2026-01-10T00:00Z/2026-01-11T00:00Z/postcode/BS16",
    ]
    for chunks in (by_id, by_postcode):
        points = flat(chunks)
        assert [p.start for p in points] == [start + i * HALF for i in range(48)]
        assert all(p.actual is None and p.value == forecast_of(p.start) for p in points)
        assert {p.index for p in points} == {"moderate"}


async def test_null_actual_strings_and_repeats() -> None:
    """A null or absent actual falls back to the forecast; numbers may come as strings; a
    half-hour given twice counts once (the first: api-definitions issue 17 shows a real one)."""
    start = at("2026-02-01T10:00")
    items = [
        {"from": "2026-02-01T09:30Z", "to": "2026-02-01T10:00Z", "intensity": {"forecast": 1}},
        {
            "from": "2026-02-01T10:00Z",
            "to": "2026-02-01T10:30Z",
            "intensity": {"forecast": "181", "actual": "175", "index": "Moderate "},
        },
        {
            "from": "2026-02-01T10:30Z",
            "to": "2026-02-01T11:00Z",
            "intensity": {"forecast": 150, "actual": None, "index": "low"},
        },
        {
            "from": "2026-02-01T10:30Z",
            "to": "2026-02-01T11:00Z",
            "intensity": {"forecast": 999, "actual": 999, "index": "very high"},
        },
        {"from": "2026-02-01T11:00Z", "to": "2026-02-01T11:30Z", "intensity": {"forecast": 90.4}},
        {"from": "2026-02-01T11:30Z", "to": "2026-02-01T12:00Z", "intensity": {"index": "low"}},
    ]
    with aioresponses() as mocked:
        mocked.get(
            f"{CI_URL}/intensity/2026-02-01T10:00Z/2026-02-01T12:00Z", payload={"data": items}
        )
        mocked.get(f"{CI_URL}/intensity/2026-02-01T11:30Z/2026-02-01T12:00Z", payload={"data": []})
        chunks, requests = await history(start, at("2026-02-01T12:00"))
    assert requests == 2  # 11:30 had no figure: asked once more
    assert [(p.start, p.forecast, p.actual, p.value, p.index) for p in flat(chunks)] == [
        (at("2026-02-01T10:00"), 181, 175, 175, "moderate"),
        (at("2026-02-01T10:30"), 150, None, 150, "low"),
        (at("2026-02-01T11:00"), 90, None, 90, None),
    ]  # 11:30 has no figure: a hole, not a zero


async def test_unreadable_items_are_holes() -> None:
    """Items without a time on the half-hour or without an intensity are skipped, not guessed."""
    items: list[Any] = [
        "junk",
        {"from": "2026-02-01T10:10Z", "to": "2026-02-01T10:40Z", "intensity": {"forecast": 5}},
        {"from": None, "to": "2026-02-01T10:30Z", "intensity": {"forecast": 5}},
        {"from": "2026-02-01T10:00Z", "to": "2026-02-01T10:30Z", "intensity": 5},
        {"from": "2026-02-01T10:30Z", "to": "2026-02-01T11:00Z", "intensity": {"forecast": 77}},
    ]
    with aioresponses() as mocked:
        mocked.get(
            f"{CI_URL}/intensity/2026-02-01T10:00Z/2026-02-01T11:00Z", payload={"data": items}
        )
        chunks, _ = await history(at("2026-02-01T10:00"), at("2026-02-01T11:00"))
    assert [(p.start, p.value) for p in flat(chunks)] == [(at("2026-02-01T10:30"), 77)]


@pytest.mark.parametrize(
    ("body", "place"),
    [
        ({"data": []}, {}),
        ({"data": None}, {}),
        ({"data": []}, {"region_id": 3}),
        (
            {"data": {"regionid": 3, "shortname": "North West England", "data": []}},
            {"region_id": 3},
        ),
        ({"data": [{"regionid": 3, "data": []}]}, {"region_id": 3}),
        ("", {"postcode": "M1"}),
    ],
)
async def test_empty_answers_yield_empty_chunks(body: Any, place: dict[str, Any]) -> None:
    """No data is an empty chunk per request (an empty body too, as for an unknown postcode)."""
    start = at("2026-01-01T00:00")
    with aioresponses() as mocked:
        pattern = REGIONAL_RANGE if place else NATIONAL_RANGE
        if isinstance(body, str):
            mocked.get(pattern, body=body, repeat=True)
        else:
            mocked.get(pattern, payload=body, repeat=True)
        chunks, requests = await history(start, start + timedelta(days=20), **place)
    assert chunks == [(), ()]
    assert requests == 2


async def test_an_answer_cut_at_the_new_year_is_asked_again() -> None:
    """A regional range across a new year stops at the year's end (jnioche/carbonintensity-api
    issue 6): the rest of that span is asked once more, so the year's turn has no hole."""
    start = at("2022-12-20T00:00")
    cut = at("2023-01-01T00:00")
    urls: list[URL] = []

    def answer(a: datetime, b: datetime) -> Any:
        items = real_items(a, min(b, cut) if a < cut else b, actual=False, national=False)
        return {"data": {"regionid": 11, "data": items}}

    with aioresponses() as mocked:
        mocked.get(REGIONAL_RANGE, callback=answer_with(answer, urls), repeat=True)
        chunks, requests = await history(start, start + timedelta(days=20), region_id=11)
    second = start + MAX_RANGE - HALF
    assert [url.path for url in urls] == [
        f"/regional/intensity/{minute(start)}/{minute(second)}/regionid/11",
        f"/regional/intensity/{minute(cut)}/{minute(second)}/regionid/11",
        f"/regional/intensity/{minute(second)}/2023-01-09T00:00Z/regionid/11",
    ]
    assert requests == 3
    assert [len(chunk) for chunk in chunks] == [671, 20 * 48 - 671]
    assert [p.start for p in flat(chunks)] == [start + i * HALF for i in range(20 * 48)]
    assert all(p.value == forecast_of(p.start) for p in flat(chunks))


async def test_a_range_that_ends_early_leaves_holes() -> None:
    """What the API does not have, even when asked again, stays missing (never filled in);
    the next span is asked as usual. One more request per short answer, none for an empty one."""
    start = at("2026-04-01T00:00")
    stop = at("2026-04-05T12:00")  # the API has nothing from here until the 16th
    resume = at("2026-04-16T00:00")
    urls: list[URL] = []

    def answer(a: datetime, b: datetime) -> Any:
        items = real_items(a, b, actual=True)
        return {"data": [i for i in items if not stop <= at(i["from"][:-1]) < resume]}

    with aioresponses() as mocked:
        mocked.get(NATIONAL_RANGE, callback=answer_with(answer, urls), repeat=True)
        chunks, requests = await history(start, start + timedelta(days=30))
        empty, none_again = await history(stop, stop + timedelta(days=2))
    second = start + MAX_RANGE - HALF
    assert [url.path for url in urls[:4]] == [
        f"/intensity/{minute(start)}/{minute(second)}",
        f"/intensity/{minute(stop)}/{minute(second)}",  # once more for the rest: nothing
        f"/intensity/{minute(second)}/{minute(second + MAX_RANGE - HALF)}",
        f"/intensity/{minute(second + MAX_RANGE - HALF)}/2026-05-01T00:00Z",
    ]
    assert requests == 4
    starts = [p.start for p in flat(chunks)]
    expected = [start + i * HALF for i in range(30 * 48)]
    assert starts == [s for s in expected if not stop <= s < resume]
    assert all(p.value == actual_of(p.start) for p in flat(chunks))
    assert (empty, none_again) == ([()], 1)


async def test_odd_bounds() -> None:
    """Bounds off the half-hour take the half-hours that overlap them; no request for nothing."""
    urls: list[URL] = []
    with aioresponses() as mocked:
        mocked.get(
            NATIONAL_RANGE,
            callback=answer_with(lambda a, b: {"data": real_items(a, b, actual=False)}, urls),
            repeat=True,
        )
        chunks, requests = await history(at("2026-05-01T10:17"), at("2026-05-01T11:05"))
        nothing, none = await history(at("2026-05-01T10:00"), at("2026-05-01T10:00"))
    assert requests == 1
    assert [url.path for url in urls] == ["/intensity/2026-05-01T10:00Z/2026-05-01T11:30Z"]
    assert [p.start for p in flat(chunks)] == [
        at("2026-05-01T10:00"),
        at("2026-05-01T10:30"),
        at("2026-05-01T11:00"),
    ]
    assert all(p.value == p.forecast for p in flat(chunks))
    assert (nothing, none) == ([], 0)
    local = datetime(2026, 5, 1, 11, 17, tzinfo=LONDON)  # 10:17 UTC
    with aioresponses() as mocked:
        mocked.get(f"{CI_URL}/intensity/2026-05-01T10:00Z/2026-05-01T10:30Z", payload={"data": []})
        assert await history(local, local + timedelta(minutes=1)) == ([()], 1)


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        ({"code": "400 Bad Request", "message": "Invalid date range"}, CarbonIntensityBadRequest),
        (
            {"code": "500 Internal Server Error", "message": "Requested resource not found."},
            ApiConnectionError,
        ),
        ({"code": "429 Too Many Requests", "message": "slow down"}, ApiRateLimitedError),
        ({"message": "something"}, ApiResponseError),
        ("broken", ApiResponseError),
    ],
)
async def test_errors_inside_http_200(error: Any, raised: type[Exception]) -> None:
    """An ``{"error": ...}`` body in an HTTP 200 is an error, after the chunks already given."""
    start = at("2026-03-01T00:00")
    second = start + MAX_RANGE - HALF
    got: list[tuple[IntensityPoint, ...]] = []
    async with aiohttp.ClientSession() as session:
        client = CarbonIntensityClient(session, CI_URL)
        with aioresponses() as mocked:
            mocked.get(
                f"{CI_URL}/intensity/{minute(start)}/{minute(second)}",
                payload={"data": real_items(start, second, actual=True)},
            )
            mocked.get(
                f"{CI_URL}/intensity/{minute(second)}/{minute(start + timedelta(days=20))}",
                payload={"error": error},
            )
            with pytest.raises(raised) as caught:
                async for chunk in client.intensity_history(start, start + timedelta(days=20)):
                    got.append(chunk)
    assert len(got) == 1
    assert len(got[0]) == 671
    assert client.request_count == 2
    if isinstance(caught.value, CarbonIntensityBadRequest):
        assert caught.value.api_message == "Invalid date range"


async def test_http_400_for_a_bad_range() -> None:
    """The API's 400 (a range it refuses) keeps its message."""
    with aioresponses() as mocked:
        mocked.get(
            NATIONAL_RANGE,
            status=400,
            payload={"error": {"code": "400 Bad Request", "message": "Invalid date range"}},
        )
        with pytest.raises(CarbonIntensityBadRequest) as caught:
            await history(at("2026-03-01T00:00"), at("2026-03-02T00:00"))
    assert caught.value.api_message == "Invalid date range"


async def test_refused_arguments() -> None:
    """Naive times, a region and a postcode at once, or no postcode at all: ValueError."""
    with pytest.raises(ValueError, match="timezone-aware"):
        await history(datetime(2026, 1, 1), at("2026-01-02T00:00"))
    with pytest.raises(ValueError, match="not both"):
        await history(at("2026-01-01T00:00"), at("2026-01-02T00:00"), region_id=1, postcode="M1")
    with pytest.raises(ValueError, match="not a postcode"):
        await history(at("2026-01-01T00:00"), at("2026-01-02T00:00"), postcode="12345")
    with pytest.raises(ValueError, match="forecast or an actual"):
        IntensityPoint(at("2026-01-01T00:00"), at("2026-01-01T00:30"), None, None, None)


@pytest.mark.parametrize("regional", [False, True])
async def test_the_shared_history_mock(regional: bool) -> None:
    """``mock_intensity_history`` (for Home Assistant-level tests) answers as the real API."""
    start = at("2026-03-28T00:00")
    hole = at("2026-03-29T05:00")
    urls: list[URL] = []
    with aioresponses() as mocked:
        mock_intensity_history(
            mocked,
            lambda s: None if s == hole else forecast_of(s),
            regional=regional,
            requests=urls,
        )
        place = {"region_id": 11} if regional else {}
        chunks, requests = await history(start, start + timedelta(days=3), **place)
    assert requests == len(urls) == 1
    points = flat(chunks)
    assert [p.start for p in points] == [
        start + i * HALF for i in range(3 * 48) if start + i * HALF != hole
    ]
    assert all(p.value == forecast_of(p.start) for p in points)
    assert all((p.actual is None) == regional for p in points)
