"""The Carbon Intensity client and the shared HTTP error mapping, at the HTTP level."""

from datetime import UTC, datetime

import aiohttp
from aioresponses import aioresponses
import pytest

from custom_components.energy_hub.api.carbon_intensity import (
    CarbonIntensityBadRequest,
    CarbonIntensityClient,
    format_time,
    outward_code,
    slot_start,
)
from custom_components.energy_hub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiNotFoundError,
    ApiRateLimitedError,
    ApiResponseError,
)
from custom_components.energy_hub.api.http import parse_retry_after
from tests.conftest import CI_URL, load_json

NOW = datetime(2018, 1, 20, 12, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BS16", "BS16"),
        ("bs16 1ab", "BS16"),
        ("  SW1A  1AA ", "SW1A"),
        ("SW1A1AA", "SW1A"),
        ("NG1", "NG1"),
        ("M1", "M1"),
        ("ec1a 1bb", "EC1A"),
    ],
)
def test_outward_code(raw: str, expected: str) -> None:
    """Full postcodes, with or without a space, reduce to the outward code."""
    assert outward_code(raw) == expected


@pytest.mark.parametrize("raw", ["", "12345", "BS16 XYZ", "B", "BS16 1AB 2", "ABC1", "Z Z"])
def test_outward_code_rejects(raw: str) -> None:
    """Anything that is not a postcode is refused."""
    with pytest.raises(ValueError, match="not a postcode"):
        outward_code(raw)


def test_time_helpers() -> None:
    """Slots start on the half hour; times are sent in UTC to the minute."""
    assert slot_start(datetime(2018, 1, 20, 12, 29, 59, tzinfo=UTC)) == datetime(
        2018, 1, 20, 12, 0, tzinfo=UTC
    )
    assert format_time(datetime(2018, 1, 20, 12, 30, 45, tzinfo=UTC)) == "2018-01-20T12:30Z"


async def test_national_forecast_and_generation() -> None:
    """Slots parse with actual where known; the generation list shape is read."""
    async with aiohttp.ClientSession() as session:
        client = CarbonIntensityClient(session, CI_URL)
        with aioresponses() as mocked:
            mocked.get(
                f"{CI_URL}/intensity/2018-01-20T12:10Z/fw48h",
                payload=load_json("carbon_intensity/national_fw48h.json"),
            )
            mocked.get(
                f"{CI_URL}/generation",
                payload=load_json("carbon_intensity/generation_current.json"),
            )
            slots = await client.national_forecast(NOW)
            mix = await client.national_generation()
    assert len(slots) == 96
    assert (slots[0].forecast, slots[0].actual, slots[0].intensity, slots[0].index) == (
        266,
        263,
        263,
        "moderate",
    )
    assert slots[1].actual is None
    assert slots[1].intensity == 240
    assert mix is not None
    assert mix.start == datetime(2018, 1, 20, 12, 0, tzinfo=UTC)
    assert dict(mix.mix) == {
        "gas": 43.6,
        "coal": 0.7,
        "biomass": 4.2,
        "nuclear": 17.6,
        "hydro": 1.1,
        "imports": 6.5,
        "other": 0.3,
        "wind": 6.8,
        "solar": 18.1,
    }
    assert client.request_count == 2


async def test_generation_object_shape_and_odd_values() -> None:
    """An object ``data``, unknown fuels and junk entries are handled; empty is None."""
    async with aiohttp.ClientSession() as session:
        client = CarbonIntensityClient(session, CI_URL)
        with aioresponses() as mocked:
            mocked.get(
                f"{CI_URL}/generation",
                payload={
                    "data": {
                        "from": "2018-01-20T12:00Z",
                        "to": "2018-01-20T12:30Z",
                        "generationmix": [
                            {"fuel": "Wind", "perc": 60},
                            {"fuel": "batteries", "perc": 1.5},
                            {"fuel": "gas", "perc": None},
                            {"fuel": "solar", "perc": True},
                            "junk",
                        ],
                    }
                },
            )
            mocked.get(f"{CI_URL}/generation", body="")
            mix = await client.national_generation()
            assert await client.national_generation() is None
    assert mix is not None
    assert dict(mix.mix) == {"wind": 60.0, "batteries": 1.5}


async def test_regional() -> None:
    """Region lookup (list shape) and the regional forecast (object shape)."""
    async with aiohttp.ClientSession() as session:
        client = CarbonIntensityClient(session, CI_URL)
        with aioresponses() as mocked:
            mocked.get(
                f"{CI_URL}/regional/postcode/NG1",
                payload=load_json("carbon_intensity/regional_postcode_NG1.json"),
            )
            mocked.get(f"{CI_URL}/regional/postcode/ZZ9", payload={"data": []})
            mocked.get(
                f"{CI_URL}/regional/intensity/2025-10-22T23:40Z/fw48h/regionid/11",
                payload=load_json("carbon_intensity/regional_fw48h_BS16.json"),
            )
            mocked.get(f"{CI_URL}/regional/intensity/2025-10-22T23:40Z/fw48h/regionid/12", body="")
            region = await client.region_for_postcode("ng1 5ab")
            with pytest.raises(ApiNotFoundError):
                await client.region_for_postcode("ZZ9")
            forecast = await client.regional_forecast(
                datetime(2025, 10, 22, 23, 40, tzinfo=UTC), 11
            )
            with pytest.raises(ApiNotFoundError):
                await client.regional_forecast(datetime(2025, 10, 22, 23, 40, tzinfo=UTC), 12)
    assert (region.region_id, region.short_name, region.dno_region, region.postcode) == (
        9,
        "East Midlands",
        "WPD East Midlands",
        "NG1",
    )
    assert forecast.region.short_name == "South West England"
    assert len(forecast.slots) == 4
    first = forecast.slots[0]
    assert (first.forecast, first.actual, first.index) == (162, None, "moderate")
    assert first.mix["imports"] == 44.2


#: The API's answer for an outward code it cannot match (W7, carbon-intensity/api-definitions#10).
NO_POSTCODE_MATCH = {
    "error": {"code": "400 Bad Request", "message": "No postcode match can be found."}
}


async def test_postcode_refused_with_400_is_unknown() -> None:
    """HTTP 400 "No postcode match" for a well-formed outward code: not found, with the
    API's reason; a 400 elsewhere stays a bad request carrying it."""
    async with aiohttp.ClientSession() as session:
        client = CarbonIntensityClient(session, CI_URL)
        with aioresponses() as mocked:
            mocked.get(f"{CI_URL}/regional/postcode/W7", status=400, payload=NO_POSTCODE_MATCH)
            mocked.get(
                f"{CI_URL}/intensity/2018-01-20T12:10Z/fw48h", status=400, payload=NO_POSTCODE_MATCH
            )
            with pytest.raises(ApiNotFoundError, match="No postcode match can be found"):
                await client.region_for_postcode("w7 1aa")
            with pytest.raises(CarbonIntensityBadRequest) as refused:
                await client.national_forecast(NOW)
    assert refused.value.api_message == "No postcode match can be found."
    assert isinstance(refused.value, ApiResponseError)
    assert client.request_count == 2


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        (
            {"status": 500, "payload": {"error": {"code": "500", "message": "x"}}},
            ApiConnectionError,
        ),
        (
            {"status": 502, "body": "<html>502</html>", "content_type": "text/html"},
            ApiConnectionError,
        ),
        (
            {"status": 403, "body": "<html>denied</html>", "content_type": "text/html"},
            ApiConnectionError,
        ),
        ({"status": 401, "payload": {"detail": "no"}}, ApiAuthError),
        ({"status": 403, "payload": {"detail": "no"}}, ApiAuthError),
        ({"status": 404, "payload": {"detail": "no"}}, ApiNotFoundError),
        ({"status": 400, "payload": {"error": {"code": "400"}}}, ApiResponseError),
        ({"status": 400, "body": "not json"}, ApiResponseError),
        (
            {"status": 400, "body": "<html>400</html>", "content_type": "text/html"},
            ApiConnectionError,
        ),
        ({"status": 200, "body": '{"data": [{"from": '}, ApiResponseError),
        ({"status": 200, "payload": {"data": [{"from": "yesterday"}]}}, ApiResponseError),
        ({"status": 200, "payload": [1, 2]}, ApiResponseError),
        ({"exception": aiohttp.ClientConnectionError("refused")}, ApiConnectionError),
        ({"exception": TimeoutError()}, ApiConnectionError),
    ],
)
async def test_error_mapping(kwargs: dict[str, object], error: type[Exception]) -> None:
    """Every failure becomes one of the api errors, never a raw aiohttp or JSON error."""
    async with aiohttp.ClientSession() as session:
        client = CarbonIntensityClient(session, CI_URL)
        with aioresponses() as mocked:
            mocked.get(f"{CI_URL}/intensity/2018-01-20T12:10Z/fw48h", **kwargs)  # type: ignore[arg-type]
            with pytest.raises(error):
                await client.national_forecast(NOW)


async def test_rate_limited_carries_retry_after() -> None:
    """429 keeps the server's delay, or a default when it gives none."""
    async with aiohttp.ClientSession() as session:
        client = CarbonIntensityClient(session, CI_URL)
        with aioresponses() as mocked:
            url = f"{CI_URL}/generation"
            mocked.get(url, status=429, headers={"Retry-After": "120"})
            mocked.get(url, status=429)
            with pytest.raises(ApiRateLimitedError) as first:
                await client.national_generation()
            with pytest.raises(ApiRateLimitedError) as second:
                await client.national_generation()
    assert first.value.retry_after == 120
    assert second.value.retry_after == 60


def test_parse_retry_after() -> None:
    """Seconds or an HTTP date; junk is None."""
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Mon, 23 Nov 2026 12:02:00 GMT", now) == 120
    assert parse_retry_after("Mon, 23 Nov 2026 11:00:00 GMT", now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
