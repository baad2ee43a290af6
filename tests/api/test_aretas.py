"""The Aretas client at the HTTP level: token login, location view, readings, catalogue."""

from datetime import UTC, datetime, timedelta
import json
from typing import Any

import aiohttp
from aioresponses import CallbackResult, aioresponses
import pytest
from yarl import URL

from custom_components.energy_hub.api.aretas import (
    DEFAULT_BASE_URL,
    AretasClient,
    SensorCatalogue,
    SensorType,
    integrate_power,
    join_power,
    to_ms,
)
from custom_components.energy_hub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitedError,
    ApiResponseError,
)
from tests.conftest import load_json, url_re

BASE = DEFAULT_BASE_URL
LOGIN = f"{BASE}/authentication/j"
MAC = 1000000101
START = datetime(2026, 11, 23, tzinfo=UTC)


def client_for(session: aiohttp.ClientSession) -> AretasClient:
    return AretasClient(session, "user@example.com", "secret")


def requests_of(mocked: aioresponses) -> dict[tuple[str, URL], list[Any]]:
    assert mocked.requests is not None
    return mocked.requests


def sent_headers(mocked: aioresponses, path: str) -> list[dict[str, str]]:
    return [
        call.kwargs["headers"]
        for (_, url), calls in requests_of(mocked).items()
        if url.path.endswith(path)
        for call in calls
    ]


# --- login -------------------------------------------------------------------------------------


async def test_login_then_token_reused() -> None:
    """POST authentication/j with JSON; the plain-text token is the bearer until refused."""
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.post(LOGIN, body="tok-1\n", content_type="text/plain")
            mocked.get(url_re(BASE, "/client/locationview"), payload={}, repeat=True)
            await client.location_view()
            await client.location_view(invalidate_cache=True)
    [login] = requests_of(mocked)[("POST", URL(LOGIN))]
    assert login.kwargs["json"] == {"username": "user@example.com", "password": "secret"}
    assert [h["Authorization"] for h in sent_headers(mocked, "/client/locationview")] == [
        "Bearer tok-1",
        "Bearer tok-1",
    ]
    assert (client.login_count, client.request_count) == (1, 3)
    assert ("GET", URL(f"{BASE}/client/locationview?invalidateCache=true")) in requests_of(mocked)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": 401, "payload": {"booleanResponse": False, "message": "not authorized"}},
        {
            "status": 403,
            "body": "<html><body>HTTP Status 403</body></html>",
            "content_type": "text/html",
        },
        {"status": 200, "payload": {"booleanResponse": False, "message": "not authorized"}},
    ],
)
async def test_wrong_password(kwargs: dict[str, Any]) -> None:
    """401 or 403 (even as a servlet's HTML page) at login: the credentials are wrong."""
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.post(LOGIN, **kwargs)
            with pytest.raises(ApiAuthError):
                await client.login()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"body": "", "content_type": "text/plain"}, ApiResponseError),
        ({"body": "<html>login</html>", "content_type": "text/html"}, ApiResponseError),
        ({"body": "two words", "content_type": "text/plain"}, ApiResponseError),
        ({"payload": {"token": "x"}}, ApiResponseError),
        ({"body": '{"broken', "content_type": "application/json"}, ApiResponseError),
        ({"status": 500, "body": "oops"}, ApiConnectionError),
        ({"status": 429, "headers": {"Retry-After": "5"}}, ApiRateLimitedError),
        ({"exception": aiohttp.ClientConnectionError("refused")}, ApiConnectionError),
        ({"exception": TimeoutError()}, ApiConnectionError),
    ],
)
async def test_login_odd_answers(kwargs: dict[str, Any], error: type[Exception]) -> None:
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.post(LOGIN, **kwargs)
            with pytest.raises(error):
                await client.login()


async def test_json_string_token_is_accepted() -> None:
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.post(LOGIN, payload="tok-json")
            mocked.post(url_re(BASE, "/sensorreport/latest"), payload=[])
            assert await client.latest(MAC) == {}
    assert sent_headers(mocked, "/sensorreport/latest")[0]["Authorization"] == "Bearer tok-json"


async def test_expired_token_logs_in_again_once() -> None:
    """401/403 on a call made with a cached token: log in again and retry once."""
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.post(LOGIN, body="tok-1", content_type="text/plain")
            mocked.post(LOGIN, body="tok-2", content_type="text/plain")
            view = url_re(BASE, "/client/locationview")
            mocked.get(view, payload={})
            mocked.get(view, status=401, payload={"message": "expired"})
            mocked.get(view, payload={})
            await client.location_view()
            await client.location_view()
            assert client.login_count == 2
            # a token refused right after a fresh login is not retried in a loop
            mocked.get(view, status=403, payload={"message": "no"})
            mocked.post(LOGIN, body="tok-3", content_type="text/plain")
            mocked.get(view, status=403, payload={"message": "no"})
            with pytest.raises(ApiAuthError):
                await client.location_view()
    assert [h["Authorization"] for h in sent_headers(mocked, "/client/locationview")] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
        "Bearer tok-2",
        "Bearer tok-3",
    ]
    assert client.login_count == 3


async def test_first_login_refused_mid_request() -> None:
    """The first call logs in; if that fresh token is refused there is no second login."""
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.post(LOGIN, body="tok-1", content_type="text/plain")
            mocked.get(url_re(BASE, "/client/locationview"), status=401, payload={})
            with pytest.raises(ApiAuthError):
                await client.location_view()
    assert client.login_count == 1


# --- data --------------------------------------------------------------------------------------


async def test_location_view() -> None:
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.post(LOGIN, body="tok", content_type="text/plain")
            mocked.get(
                url_re(BASE, "/client/locationview"), payload=load_json("aretas/locationview.json")
            )
            account = await client.location_view()
    assert account.client_id == "00000000000000000000000000000002"
    assert account.macs == (1000000101, 1000000102)
    assert [location.location_id for location in account.locations] == [
        "00000000000000000000000000000001",
        "00000000000000000000000000000009",
    ]
    site, empty = account.locations
    assert (site.description, site.city, site.country) == ("Example Site", "Example City", "Canada")
    assert site.last_report == datetime.fromtimestamp(1764000000, UTC)
    assert (empty.description, empty.last_report, empty.devices) == (None, None, ())
    bess, other = site.devices
    assert (bess.mac, bess.description, bess.status) == (1000000101, "BESS", "ok")
    assert bess.location_id == "00000000000000000000000000000001"
    assert bess.last_report == datetime.fromtimestamp(1764000000, UTC)
    assert (other.mac, other.description, other.last_report, other.status) == (
        1000000102,
        None,
        None,
        None,
    )
    assert account.device(1000000102) is other
    assert account.device(42) is None
    assert len(account.devices) == 2


async def test_location_view_wrong_shape() -> None:
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.post(LOGIN, body="tok", content_type="text/plain")
            mocked.get(url_re(BASE, "/client/locationview"), payload=[1])
            mocked.get(url_re(BASE, "/client/locationview"), payload={"allMacs": "x"})
            with pytest.raises(ApiResponseError):
                await client.location_view()
            account = await client.location_view()
    assert (account.client_id, account.macs, account.locations) == (None, (), ())


async def test_latest_for_a_device() -> None:
    """One reading per type, the newest; nulls and junk strings are None, never 0."""
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.post(LOGIN, body="tok", content_type="text/plain")
            latest_url = f"{BASE}/sensorreport/latest"
            mocked.post(latest_url, payload=load_json("aretas/latest.json"))
            mocked.post(latest_url, body="")
            mocked.post(latest_url, payload={"not": "a list"})
            latest = await client.latest(1000000001)
            assert await client.latest(1000000001) == {}
            with pytest.raises(ApiResponseError):
                await client.latest(1000000001)
    [call, *_] = requests_of(mocked)[("POST", URL(latest_url))]
    assert call.kwargs["json"] == [1000000001]
    assert sorted(latest) == [96, 181, 242, 248, 514, 516, 518]
    assert latest[181].value == 447  # the newer of two
    assert latest[181].timestamp == datetime(2022, 10, 4, 13, 10, 15, 167000, tzinfo=UTC)
    assert latest[514].value is None
    assert latest[516].value == 12.5
    assert latest[518].value is None
    assert 520 not in latest  # no timestamp: cannot be placed
    assert 530 not in latest  # another device


async def test_readings_paged_by_time_window() -> None:
    """A day in 6 h windows; a full window continues from its last timestamp; no duplicates."""
    end = START + timedelta(days=1)
    requests: list[dict[str, Any]] = []

    def byrange(url: URL, **kwargs: Any) -> CallbackResult:
        query = url.query
        requests.append(
            {
                "begin": int(query["begin"]),
                "end": int(query["end"]),
                "limit": int(query["limit"]),
                "types": query.getall("type"),
                "air": kwargs["headers"]["X-AIR-Token"],
            }
        )
        begin, stop, limit = int(query["begin"]), int(query["end"]), int(query["limit"])
        stamps = range(begin - begin % 60_000 + 60_000, stop + 1, 60_000)  # one a minute
        items = [
            {"type": type_id, "timestamp": stamp, "data": stamp % 7}
            for stamp in stamps
            for type_id in (530, 514)
        ][:limit]
        return CallbackResult(payload=items, headers={"X-AIR-Token": str(MAC)})  # type: ignore[arg-type]

    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.post(LOGIN, body="tok", content_type="text/plain")
            mocked.get(url_re(BASE, "/sensordata/byrange"), callback=byrange, repeat=True)
            readings = await client.readings(MAC, START, end, types=[530, 514, 530], limit=500)

    windows = [(r["begin"], r["end"]) for r in requests]
    six_hours = 6 * 3600 * 1000
    assert windows[0] == (to_ms(START), to_ms(START) + six_hours)
    assert windows[-1][1] == to_ms(end)
    # 360 minutes x 2 types = 720 readings per window > 500: each window takes two requests,
    # the second from the last timestamp of the first
    assert len(requests) == 8
    assert requests[1]["begin"] == to_ms(START) + 250 * 60_000
    assert {tuple(r["types"]) for r in requests} == {("514", "530")}
    assert {r["air"] for r in requests} == {str(MAC)}
    assert {r["limit"] for r in requests} == {500}
    assert len(readings) == 24 * 60 * 2
    assert len({(r.timestamp, r.type_id) for r in readings}) == len(readings)
    assert readings == sorted(readings, key=lambda r: (r.timestamp, r.type_id))
    assert {r.mac for r in readings} == {MAC}  # items without a MAC belong to the one asked
    assert readings[0].timestamp == START + timedelta(minutes=1)


async def test_readings_odd_values_and_errors() -> None:
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.post(LOGIN, body="tok", content_type="text/plain")
            byrange = url_re(BASE, "/sensordata/byrange")
            stamp = to_ms(START) + 1000
            mocked.get(
                byrange,
                payload=[
                    {"type": 530, "timestamp": stamp, "data": None},
                    {"type": 516, "timestamp": stamp, "data": "-3.5"},
                    {"type": 518, "timestamp": stamp, "data": "NaN"},
                    {"type": 514, "timestamp": stamp},
                    {"type": 520, "timestamp": stamp, "data": True},
                    {"type": 521, "timestamp": None, "data": 20},
                    {"timestamp": stamp, "data": 1},
                    {"mac": 1, "type": 530, "timestamp": stamp, "data": 1},
                    {"mac": str(MAC), "type": 525, "timestamp": stamp, "data": 90},
                ],
            )
            readings = await client.readings(MAC, START, START + timedelta(minutes=5))
            mocked.get(byrange, body="")
            assert await client.readings(MAC, START, START + timedelta(minutes=5)) == []
            mocked.get(byrange, payload={"x": 1})
            with pytest.raises(ApiResponseError):
                await client.readings(MAC, START, START + timedelta(minutes=5))
            # more readings than `limit` in one millisecond cannot be paged
            same_ms = [{"type": t, "timestamp": stamp} for t in (1, 2)]
            mocked.get(byrange, payload=same_ms, repeat=True)
            with pytest.raises(ApiResponseError, match="one millisecond"):
                await client.readings(MAC, START, START + timedelta(minutes=5), limit=2)
    assert {(r.type_id, r.value) for r in readings} == {
        (530, None),
        (516, -3.5),
        (518, None),
        (514, None),
        (520, None),
        (525, 90.0),
    }
    with pytest.raises(ValueError, match="positive"):
        await client.readings(MAC, START, START, window=timedelta(0))
    with pytest.raises(ValueError, match="naive"):
        to_ms(datetime(2026, 1, 1))


# --- the catalogue -----------------------------------------------------------------------------


async def test_sensor_catalogue_lookup() -> None:
    """Labels and units come from sensortype/list; an unknown type is None; no token needed."""
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            types_url = f"{BASE}/sensortype/list"
            mocked.get(types_url, payload=load_json("aretas/sensortype_list.json"))
            mocked.get(types_url, payload=[load_json("aretas/sensortype_co2.json")])
            catalogue = await client.sensor_types()
            assert await client.sensor_types() is catalogue  # cached
            refreshed = await client.sensor_types(refresh=True)
    assert "Authorization" not in sent_headers(mocked, "/sensortype/list")[0]
    assert client.login_count == 0
    assert sorted(catalogue.types) == [181, 514, 516, 518, 520, 524, 530, 600]
    assert len(catalogue) == 8
    co2 = catalogue.get(181)
    assert co2 is not None
    assert (co2.label, co2.units, co2.char_code, co2.enabled) == (
        "Carbon Dioxide",
        "ppm",
        "CO2",
        True,
    )
    assert (co2.range_min, co2.range_max) == (300, 10000)
    assert (co2.quantity, co2.scale) == (None, None)
    power = catalogue.get(530)
    assert power is not None
    assert (power.label, power.units) == ("BESS DC Power", "kW")
    assert (power.quantity, power.scale, power.description) == ("power", 1000.0, "Battery DC power")
    current = catalogue.get(516)
    assert current is not None
    assert (current.range_min, current.range_max, current.quantity) == (-200, 200, "current")
    voltage = catalogue.get(518)
    assert voltage is not None
    assert (voltage.units, voltage.enabled, voltage.quantity) == ("V", None, "voltage")
    assert catalogue.get(520) == SensorType(520, "HV Bat Temp 1", "°C", "EV_BAT_TEMP_1")
    assert [catalogue.types[t].quantity for t in (520, 514)] == ["temperature", "percent"]
    shunts = catalogue.get(524)
    assert shunts is not None
    assert (shunts.label, shunts.units) == ("Cell shunts", None)
    nameless = catalogue.get(600)
    assert nameless is not None
    assert (nameless.label, nameless.units) == (None, "furlongs")
    # an unknown type (private, or newer than the catalogue): no label, no units
    assert catalogue.get(533) is None
    assert 533 not in catalogue
    assert 530 in catalogue
    assert sorted(refreshed.types) == [181]
    assert SensorCatalogue().get(1) is None


async def test_catalogue_errors() -> None:
    async with aiohttp.ClientSession() as session:
        client = client_for(session)
        with aioresponses() as mocked:
            mocked.get(f"{BASE}/sensortype/list", payload={"types": []})
            with pytest.raises(ApiResponseError):
                await client.sensor_types()


# --- integration -------------------------------------------------------------------------------


def test_integrate_power() -> None:
    """Trapezoids, split at zero crossings; gaps and missing values are not bridged."""
    t = [START + timedelta(seconds=20 * i) for i in range(8)]
    constant = integrate_power([(t[0], 3600.0), (t[1], 3600.0)])
    assert constant.discharged_kwh == pytest.approx(0.02)
    assert constant.charged_kwh == 0
    assert constant.covered == timedelta(seconds=20)
    # from +1800 W to -1800 W: half the interval each way
    crossing = integrate_power([(t[1], -1800.0), (t[0], 1800.0)])
    assert crossing.discharged_kwh == pytest.approx(1800 / 2 * 10 / 3_600_000)
    assert crossing.charged_kwh == pytest.approx(crossing.discharged_kwh)
    charging = integrate_power([(t[0], -1000.0), (t[1], -3000.0), (t[2], 0.0), (t[3], 0.0)])
    assert charging.charged_kwh == pytest.approx((2000 * 20 + 1500 * 20) / 3_600_000)
    assert charging.discharged_kwh == 0
    gap = START + timedelta(minutes=11)
    gapped = integrate_power([(t[0], 1000.0), (gap, 1000.0), (gap + timedelta(seconds=20), 1000.0)])
    assert gapped.discharged_kwh == pytest.approx(1000 * 20 / 3_600_000)
    assert gapped.covered == timedelta(seconds=20)
    bridged = integrate_power([(t[0], 1000.0), (gap, 1000.0)], max_gap=timedelta(minutes=15))
    assert bridged.discharged_kwh == pytest.approx(1000 * 660 / 3_600_000)
    holes = integrate_power([(t[0], 1000.0), (t[1], None), (t[2], 1000.0), (t[2], 5.0)])
    assert (holes.charged_kwh, holes.discharged_kwh) == (0, 0)
    assert integrate_power([]).covered == timedelta(0)


def test_sentinels_and_out_of_range_are_not_readings() -> None:
    """65535 and friends, and values beyond the catalogue's rangeHint, are not readings."""
    catalogue = SensorCatalogue(
        {
            516: SensorType(516, "HV Bat Current 1", "A", range_min=-200, range_max=200),
            518: SensorType(518, "HV Bat Voltage", "V", range_min=0, range_max=450),
            530: SensorType(530, "Power", "kW"),
        }
    )
    assert catalogue.accepts(516, -12.5)
    assert catalogue.accepts(516, 200.0)
    assert not catalogue.accepts(516, 65535.0)
    assert not catalogue.accepts(516, -200.5)
    assert not catalogue.accepts(518, 6553.5)
    assert not catalogue.accepts(518, -1.0)
    assert not catalogue.accepts(518, None)
    assert catalogue.accepts(530, 9999.0)  # no range given: only sentinels are refused
    assert not catalogue.accepts(530, 32767.0)
    assert catalogue.accepts(533, 2.0)  # not in the catalogue
    assert not catalogue.accepts(533, 65535.0)


def test_join_power() -> None:
    """V x I at the timestamps both have; exact duplicates count once, conflicts not at all."""
    t = [START + timedelta(minutes=10 * i) for i in range(5)]
    volts = [(t[0], 350.0), (t[1], 351.0), (t[1], 351.0), (t[2], 352.0), (t[3], 353.0)]
    amps = [(t[0], -10.0), (t[1], 2.0), (t[2], 4.0), (t[2], 5.0), (t[4], 1.0)]
    assert join_power(volts, amps) == [(t[0], -3500.0), (t[1], 702.0)]
    assert join_power([], amps) == []


def test_fixtures_are_json() -> None:
    """The catalogue fixture keeps the published CO2 sample's shape (typeByte, no type)."""
    sample = load_json("aretas/sensortype_co2.json")
    assert "type" not in sample
    assert sample["typeByte"] == 181
    assert json.loads(json.dumps(load_json("aretas/sensortype_list.json")))[0]["typeByte"] == 181
