"""The Aretas emulation: the REST shapes, the 10 kW BESS's telemetry and its ground truth."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
import itertools
import statistics
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
import pytest

from custom_components.energy_hub.api.aretas import (
    AretasClient,
    AretasReading,
    SensorCatalogue,
    integrate_power,
)
from custom_components.energy_hub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitedError,
)
from sandbox import ManualClock, create_app
from sandbox.aretas import (
    BAD_VOLTAGE,
    BESS_MAC,
    ENV_MAC,
    PASSWORD,
    SENTINEL,
    USERNAME,
    VI_LATE,
    VI_MAC,
    VI_TYPES,
    energy_between,
    offline_windows,
    power_w,
    sandbox_of,
    soc_percent,
    usable_capacity_kwh,
    vi_energy,
    vi_hourly_energy,
    vi_samples,
    vi_uncovered,
)

type Client = TestClient[web.Request, web.Application]

PREFIX = "/aretas"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAYS = [datetime(2026, 11, day, tzinfo=UTC) for day in (22, 23, 24)]


@pytest.fixture
def bess_clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def bess(bess_clock: ManualClock) -> AsyncIterator[Client]:
    app = create_app(clock=bess_clock)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def aretas_client(client: Client, password: str = PASSWORD) -> AretasClient:
    return AretasClient(client.session, USERNAME, password, base_url=str(client.make_url(PREFIX)))


async def token_for(client: Client) -> dict[str, str]:
    response = await client.post(
        f"{PREFIX}/authentication/j", json={"username": USERNAME, "password": PASSWORD}
    )
    assert response.status == 200
    assert response.content_type == "text/plain"
    return {"Authorization": f"Bearer {await response.text()}"}


# --- shapes ------------------------------------------------------------------------------------


async def test_login_variants(client: Client) -> None:
    headers = await token_for(client)
    assert (await client.get(f"{PREFIX}/greetings/isloggedin", headers=headers)).status == 200
    assert (await client.get(f"{PREFIX}/greetings/isloggedin")).status == 401
    response = await client.get(
        f"{PREFIX}/authentication/g", params={"username": USERNAME, "password": PASSWORD}
    )
    assert response.status == 200
    cookie = {"Cookie": f"X-Aretas-Bearer={await response.text()}"}
    assert (await client.get(f"{PREFIX}/greetings/isloggedin", headers=cookie)).status == 200
    wrong = {"username": USERNAME, "password": "nope"}
    response = await client.post(f"{PREFIX}/authentication/j", json=wrong)
    assert response.status == 401
    assert await response.json() == {"booleanResponse": False, "message": "not authorized"}
    assert (await client.post(f"{PREFIX}/authentication/j", data="x")).status == 400
    assert (await client.post(f"{PREFIX}/authentication/j", json=[1])).status == 400


async def test_location_view_and_latest(bess: Client) -> None:
    headers = await token_for(bess)
    assert (await bess.get(f"{PREFIX}/client/locationview")).status == 401
    view = await (await bess.get(f"{PREFIX}/client/locationview", headers=headers)).json()
    assert list(view) == ["id", "allMacs", "locationSensorViews"]
    assert view["allMacs"] == [BESS_MAC, ENV_MAC, VI_MAC]
    [location] = view["locationSensorViews"]
    assert {"location", "lastSensorReportTime", "buildingMapList", "sensorList"} <= set(location)
    bess_device, _, _ = location["sensorList"]
    assert bess_device["mac"] == BESS_MAC
    assert bess_device["status"]["_status"] == "ok"
    assert NOW.timestamp() * 1000 - bess_device["lastReportTime"] < 20_500

    response = await bess.post(
        f"{PREFIX}/sensorreport/latest", json=[str(BESS_MAC), ENV_MAC, 42, True], headers=headers
    )
    latest = await response.json()
    by_mac: dict[int, dict[int, dict[str, Any]]] = {}
    for item in latest:
        assert list(item) == ["mac", "type", "timestamp", "data"]
        by_mac.setdefault(item["mac"], {})[item["type"]] = item
    assert sorted(by_mac[BESS_MAC]) == [514, 516, 518, 520, 521, 530, 533]
    assert sorted(by_mac[ENV_MAC]) == [181, 246, 248]
    assert by_mac[BESS_MAC][533]["timestamp"] <= by_mac[BESS_MAC][530]["timestamp"]
    assert (
        await bess.post(f"{PREFIX}/sensorreport/latest", data="nope", headers=headers)
    ).status == 400


async def test_byrange_shape_filter_and_limit(bess: Client) -> None:
    headers = await token_for(bess)
    begin = int(datetime(2026, 11, 24, 6, tzinfo=UTC).timestamp() * 1000)
    params: list[tuple[str, str | int]] = [
        ("mac", BESS_MAC),
        ("begin", begin),
        ("end", begin + 600_000),
    ]
    response = await bess.get(f"{PREFIX}/sensordata/byrange", params=params, headers=headers)
    assert response.headers["X-AIR-Token"] == str(BESS_MAC)
    items = await response.json()
    assert all(list(item) == ["type", "timestamp", "data"] for item in items)  # no MAC
    assert {item["type"] for item in items} == {514, 516, 518, 520, 521, 530, 533}
    assert all(begin <= item["timestamp"] <= begin + 600_000 for item in items)
    assert items == sorted(items, key=lambda item: (item["timestamp"], item["type"]))

    filtered = [*params, ("type", 530), ("type", 514), ("limit", 7)]
    response = await bess.get(f"{PREFIX}/sensordata/byrange", params=filtered, headers=headers)
    limited = await response.json()
    assert len(limited) == 7
    assert {item["type"] for item in limited} == {514, 530}
    assert limited == [item for item in items if item["type"] in (514, 530)][:7]

    bad_queries: list[list[tuple[str, str | int]]] = [
        [("mac", BESS_MAC), ("begin", begin)],
        [("mac", "x"), ("begin", begin), ("end", begin)],
        [("mac", BESS_MAC), ("begin", begin), ("end", begin - 1)],
    ]
    for bad in bad_queries:
        response = await bess.get(f"{PREFIX}/sensordata/byrange", params=bad, headers=headers)
        assert response.status == 400
    other = [("mac", 7), ("begin", begin), ("end", begin + 1000)]
    response = await bess.get(f"{PREFIX}/sensordata/byrange", params=other, headers=headers)
    assert await response.json() == []
    future = [("mac", BESS_MAC), ("begin", int(NOW.timestamp() * 1000) + 1), ("end", 2**42)]
    response = await bess.get(f"{PREFIX}/sensordata/byrange", params=future, headers=headers)
    assert await response.json() == []  # nothing after "now"


async def test_catalogue_without_token(bess: Client) -> None:
    """Labels and units come from sensortype/list; the private type 533 is not in it."""
    catalogue = await aretas_client(bess).sensor_types()
    assert catalogue.get(533) is None
    power = catalogue.get(530)
    assert power is not None
    assert (power.quantity, power.units) == ("power", "kW")
    types = catalogue.types
    assert types[181].label == "Carbon Dioxide"  # from the verbatim sample (typeByte only)
    assert (types[516].units, types[514].units) == ("A", "%")


# --- the client against the emulation ------------------------------------------------------------


def type_of(catalogue: SensorCatalogue, quantity: str, label_word: str = "") -> int:
    """Find a type by what its units measure (and a word of its label), never by number."""
    [found] = [
        sensor
        for sensor in catalogue.types.values()
        if sensor.quantity == quantity and label_word.lower() in (sensor.label or "").lower()
    ]
    return found.type_id


def as_watts(readings: list[AretasReading], scale: float) -> list[tuple[datetime, float | None]]:
    return [(r.timestamp, None if r.value is None else r.value * scale) for r in readings]


async def test_trapezoidal_energy_matches_the_ground_truth(bess: Client) -> None:
    """Integrating the 20 s power samples by the trapezoidal rule, gaps over 10 minutes not
    bridged, lands within 0.5 % of the energy that flowed, per day and over three days."""
    client = aretas_client(bess)
    catalogue = await client.sensor_types()
    power_type = type_of(catalogue, "power")
    scale = catalogue.get(power_type).scale  # type: ignore[union-attr]
    assert scale == 1000.0
    readings = await client.readings(
        BESS_MAC, DAYS[0], DAYS[-1] + timedelta(days=1), types=[power_type]
    )
    assert client.request_count == 2 + 3 * 4  # catalogue, login, 6 h windows
    samples = as_watts(readings, scale)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(samples)]
    assert abs(statistics.median(gap.total_seconds() for gap in gaps) - 20) < 1
    assert sum(gap > timedelta(minutes=10) for gap in gaps) >= 1  # the device went offline
    assert any(timedelta(seconds=39) < gap < timedelta(seconds=61) for gap in gaps)  # lost samples
    assert any(offline_windows(BESS_MAC, day.date()) for day in DAYS)

    def check(start: datetime, end: datetime) -> tuple[float, float]:
        window = [s for s in samples if start <= s[0] < end]
        measured = integrate_power(window)
        truth = energy_between(BESS_MAC, window[0][0], window[-1][0])
        assert truth.charged_kwh > 5
        assert truth.discharged_kwh > 5
        assert measured.charged_kwh == pytest.approx(truth.charged_kwh, rel=0.005)
        assert measured.discharged_kwh == pytest.approx(truth.discharged_kwh, rel=0.005)
        bridged = integrate_power(window, max_gap=timedelta(days=1))
        return truth.discharged_kwh, bridged.discharged_kwh

    for day in DAYS:
        truth, bridged = check(day, day + timedelta(days=1))
        if offline_windows(BESS_MAC, day.date()):
            assert bridged > truth * 1.05  # bridging the outage would invent energy
    check(DAYS[0], DAYS[-1] + timedelta(days=1))


async def test_capacity_from_state_of_charge(bess: Client) -> None:
    """SoC follows the energy at the terminals: a discharge's energy over its SoC drop gives
    the usable capacity."""
    client = aretas_client(bess)
    catalogue = await client.sensor_types()
    power_type, soc_type = type_of(catalogue, "power"), type_of(catalogue, "percent", "soc")
    day = DAYS[2]
    readings = await client.readings(
        BESS_MAC, day, day + timedelta(days=1), types=[power_type, soc_type]
    )
    power = [r for r in readings if r.type_id == power_type]
    soc = {r.timestamp: r.value for r in readings if r.type_id == soc_type}
    start = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)  # before the morning discharge
    end = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # after it, before the midday charge
    window = [r for r in power if start <= r.timestamp <= end]
    energy = integrate_power(as_watts(window, 1000.0))
    assert energy.charged_kwh == 0
    drop = soc[window[0].timestamp] - soc[window[-1].timestamp]  # type: ignore[operator]
    estimate = energy.discharged_kwh / (drop / 100)
    assert estimate == pytest.approx(usable_capacity_kwh(BESS_MAC), rel=0.01)


async def test_token_expiry_and_faults(bess: Client, bess_clock: ManualClock) -> None:
    client = aretas_client(bess)
    await client.location_view()
    bess_clock.advance(timedelta(hours=13))  # tokens live 12 h here
    await client.location_view()
    assert client.login_count == 2
    assert sandbox_of(bess.app).revoke_tokens() == 2
    assert (await client.latest(BESS_MAC))[530].timestamp <= bess_clock()
    assert client.login_count == 3
    with pytest.raises(ApiAuthError):
        await aretas_client(bess, password="wrong").login()
    await bess.put("/_admin/faults/aretas", json={"fault": "rate_limit", "retry_after": 9})
    with pytest.raises(ApiRateLimitedError):
        await client.location_view()
    await bess.put("/_admin/faults/aretas", json={"fault": "html_502"})
    with pytest.raises(ApiConnectionError):
        await client.sensor_types(refresh=True)
    await bess.put("/_admin/faults/aretas", json={"fault": "bad_auth"})
    with pytest.raises(ApiAuthError):
        await client.location_view()
    await bess.delete("/_admin/faults/aretas")
    assert len((await client.location_view()).devices) == 3


# --- the battery model ---------------------------------------------------------------------------


def test_the_battery_is_believable() -> None:
    """Four cycles a day within the rating, SoC within bounds and back to 25 % at midnight,
    voltage x current = power."""
    for offset in range(0, 40, 3):
        day = date(2026, 1, 1) + timedelta(days=offset)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        assert soc_percent(BESS_MAC, midnight) == pytest.approx(25)
        assert soc_percent(BESS_MAC, midnight + timedelta(days=1)) == pytest.approx(25)
        whole = energy_between(BESS_MAC, midnight, midnight + timedelta(days=1))
        assert whole.charged_kwh == pytest.approx(whole.discharged_kwh)
        assert 10 < whole.charged_kwh < 35
        powers = [power_w(BESS_MAC, midnight + timedelta(minutes=m)) for m in range(1440)]
        assert max(abs(p) for p in powers) <= 10_000
        assert max(powers) > 8000
        assert min(powers) < -3500
        socs = [soc_percent(BESS_MAC, midnight + timedelta(minutes=m)) for m in range(0, 1440, 5)]
        assert min(socs) > 9.9
        assert max(socs) < 95.1
        runs = sum(1 for a, b in itertools.pairwise(powers) if a == 0 and b != 0)
        assert runs >= 4
    with pytest.raises(KeyError):
        usable_capacity_kwh(ENV_MAC)
    with pytest.raises(ValueError, match="before"):
        energy_between(BESS_MAC, NOW, NOW - timedelta(seconds=1))


async def test_samples_are_consistent(bess: Client) -> None:
    client = aretas_client(bess)
    day = DAYS[1]
    readings = await client.readings(BESS_MAC, day + timedelta(hours=6), day + timedelta(hours=9))
    by_time: dict[datetime, dict[int, float | None]] = {}
    for reading in readings:
        by_time.setdefault(reading.timestamp, {})[reading.type_id] = reading.value
    active = 0
    for moment, values in by_time.items():
        power, volts, amps = values[530], values[518], values[516]
        assert power is not None and volts is not None and amps is not None
        assert 300 < volts < 420
        assert abs(power) <= 10.2
        truth = power_w(BESS_MAC, moment) / 1000
        assert power == pytest.approx(truth, rel=0.005, abs=0.001)
        if abs(power) > 1:
            active += 1
            assert volts * amps / 1000 == pytest.approx(power, rel=0.01)
        assert values[520] is not None and -10 < values[520] < 40
        assert values[514] == pytest.approx(soc_percent(BESS_MAC, moment), abs=0.06)
    assert active > 100
    modes = [values[533] for values in by_time.values() if 533 in values]
    assert 30 < len(modes) < 40  # every 5 minutes
    assert set(modes) <= {0.0, 1.0, 2.0}


async def test_same_clock_gives_byte_identical_responses() -> None:
    bodies = []
    for _ in range(2):
        app = create_app(clock=ManualClock(NOW))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            headers = await token_for(client)
            params = {"mac": BESS_MAC, "begin": 1764000000000, "end": 1764003600000}
            response = await client.get(
                f"{PREFIX}/sensordata/byrange", params=params, headers=headers
            )
            latest = await client.post(
                f"{PREFIX}/sensorreport/latest", json=[BESS_MAC], headers=headers
            )
            bodies.append((await response.read(), await latest.read()))
    assert bodies[0] == bodies[1]


# --- the voltage/current device ------------------------------------------------------------------


async def test_voltage_current_device(bess: Client, bess_clock: ManualClock) -> None:
    """No power type; 10-30 minutes apart; sentinels; late samples only once they arrived; the
    daily outage leaves the 14:00 hour without samples."""
    headers = await token_for(bess)
    day = datetime(2026, 11, 24, tzinfo=UTC)
    begin, end = int(day.timestamp() * 1000), int((day + timedelta(days=1)).timestamp() * 1000)
    params: list[tuple[str, str | int]] = [("mac", VI_MAC), ("begin", begin), ("end", end)]
    response = await bess.get(f"{PREFIX}/sensordata/byrange", params=params, headers=headers)
    items = await response.json()
    assert {item["type"] for item in items} == set(VI_TYPES)
    stamps = sorted({item["timestamp"] for item in items})
    spacing = [(b - a) / 60_000 for a, b in itertools.pairwise(stamps)]
    outage = [s for s in spacing if s > 30]
    assert len(outage) == 1
    assert 150 <= outage[0] <= 200
    assert all(10 <= s <= 30 for s in spacing if s not in outage)
    hours = {datetime.fromtimestamp(s / 1000, UTC).hour for s in stamps}
    assert 14 not in hours
    assert any(item["data"] == SENTINEL for item in items if item["type"] == 516)
    assert any(item["data"] == BAD_VOLTAGE for item in items if item["type"] == 518)
    samples = vi_samples(day, day + timedelta(days=1))
    assert [int(s.at.timestamp() * 1000) for s in samples] == stamps
    # Late samples: not there before they arrive.
    late = next(s for s in samples if s.late and s.at > day + timedelta(hours=3))
    bess_clock.set(late.at + timedelta(minutes=59))
    params = [("mac", VI_MAC), ("begin", begin), ("end", end)]
    early = await (
        await bess.get(f"{PREFIX}/sensordata/byrange", params=params, headers=headers)
    ).json()
    seen = {item["timestamp"] for item in early}
    assert int(late.at.timestamp() * 1000) not in seen
    assert max(seen) > late.at.timestamp() * 1000  # later samples are there already
    latest = await (
        await bess.post(f"{PREFIX}/sensorreport/latest", json=[VI_MAC], headers=headers)
    ).json()
    assert {item["type"] for item in latest} == set(VI_TYPES)
    bess_clock.set(late.at + VI_LATE)
    again = await (
        await bess.get(f"{PREFIX}/sensordata/byrange", params=params, headers=headers)
    ).json()
    assert int(late.at.timestamp() * 1000) in {item["timestamp"] for item in again}


def test_voltage_current_ground_truth() -> None:
    """The V x I trapezoid: per hour it adds up to the whole; it is close to the energy that
    really flowed where nothing was left uncovered; the outage is uncovered time."""
    day = datetime(2026, 11, 24, tzinfo=UTC)
    whole = vi_energy(day, day + timedelta(days=1))
    hours = vi_hourly_energy(day, day + timedelta(days=1))
    assert day + timedelta(hours=14) not in hours
    assert sum(h.charged_kwh for h in hours.values()) == pytest.approx(whole.charged_kwh)
    assert sum(h.discharged_kwh for h in hours.values()) == pytest.approx(whole.discharged_kwh)
    morning = (day, day + timedelta(hours=12))
    truth = energy_between(VI_MAC, *morning)
    assert vi_energy(*morning).charged_kwh == pytest.approx(truth.charged_kwh, rel=0.05)
    assert vi_uncovered(day, day + timedelta(days=1)) > timedelta(hours=2, minutes=30)
    strict = vi_energy(day, day + timedelta(days=1), max_gap=timedelta(minutes=5))
    assert (strict.charged_kwh, strict.discharged_kwh) == (0.0, 0.0)  # samples are further apart
