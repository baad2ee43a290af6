"""The Carbon Intensity emulation: shapes as the real API, believable and consistent data."""

from datetime import UTC, datetime, timedelta
import statistics
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
import pytest

from sandbox import ManualClock, create_app
from sandbox.carbon_intensity import (
    FUEL_FACTORS,
    REGIONS,
    national_slot,
    regional_slot,
)

from .conftest import CI, NOW

type Client = TestClient[web.Request, web.Application]

NINE_FUELS = {"biomass", "coal", "imports", "gas", "nuclear", "other", "hydro", "solar", "wind"}
INDEXES = {"very low", "low", "moderate", "high", "very high"}

REGION_NAMES = {
    1: ("North Scotland", "Scottish Hydro Electric Power Distribution"),
    2: ("South Scotland", "SP Distribution"),
    3: ("North West England", "Electricity North West"),
    4: ("North East England", "NPG North East"),
    5: ("Yorkshire", "NPG Yorkshire"),
    6: ("North Wales and Merseyside", "SP Manweb"),
    7: ("South Wales", "WPD South Wales"),
    8: ("West Midlands", "WPD West Midlands"),
    9: ("East Midlands", "WPD East Midlands"),
    10: ("East England", "UKPN East"),
    11: ("South West England", "WPD South West"),
    12: ("South England", "SSE South"),
    13: ("London", "UKPN London"),
    14: ("South East England", "UKPN South East"),
    15: ("England", "England"),
    16: ("Scotland", "Scotland"),
    17: ("Wales", "Wales"),
}


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(CI + path)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


def minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)


def tenths(mix: list[dict[str, Any]]) -> int:
    return sum(round(item["perc"] * 10) for item in mix)


def index_for(value: int) -> str:
    for upper, name in ((25, "very low"), (90, "low"), (170, "moderate"), (230, "high")):
        if value < upper:
            return name
    return "very high"


def assert_consecutive(items: list[dict[str, Any]], first: datetime) -> None:
    for number, item in enumerate(items):
        assert item["from"] == minute(first + number * timedelta(minutes=30))
        assert item["to"] == minute(first + (number + 1) * timedelta(minutes=30))


def assert_national_item(item: dict[str, Any]) -> None:
    assert list(item) == ["from", "to", "intensity"]
    assert list(item["intensity"]) == ["forecast", "actual", "index"]
    assert isinstance(item["intensity"]["forecast"], int)
    assert item["intensity"]["index"] == index_for(item["intensity"]["forecast"])


def assert_regional_slot(item: dict[str, Any]) -> None:
    assert list(item) == ["from", "to", "intensity", "generationmix"]
    assert list(item["intensity"]) == ["forecast", "index"]  # no "actual" for regions
    assert item["intensity"]["index"] in INDEXES
    assert {entry["fuel"] for entry in item["generationmix"]} == NINE_FUELS
    assert tenths(item["generationmix"]) == 1000


# --- national intensity ---------------------------------------------------------------------


async def test_current_intensity(client: Client) -> None:
    body = await get_json(client, "/intensity")
    assert list(body) == ["data"]
    assert isinstance(body["data"], list)
    [item] = body["data"]
    assert_national_item(item)
    assert item["from"] == "2026-11-23T18:00Z"
    assert item["to"] == "2026-11-23T18:30Z"
    actual, forecast = item["intensity"]["actual"], item["intensity"]["forecast"]
    assert isinstance(actual, int)  # the running slot already shows an actual
    assert abs(actual - forecast) <= 0.08 * forecast + 1


async def test_factors_are_the_documented_sample(client: Client) -> None:
    body = await get_json(client, "/intensity/factors")
    assert body == {
        "data": [
            {
                "Biomass": 120,
                "Coal": 937,
                "Dutch Imports": 474,
                "French Imports": 53,
                "Gas (Combined Cycle)": 394,
                "Gas (Open Cycle)": 651,
                "Hydro": 0,
                "Irish Imports": 458,
                "Nuclear": 0,
                "Oil": 935,
                "Other": 300,
                "Pumped Storage": 0,
                "Solar": 0,
                "Wind": 0,
            }
        ]
    }


@pytest.mark.parametrize(
    "from_text", ["2026-11-23T18:00Z", "2026-11-23T18:00:00Z", "2026-11-23T18:17Z"]
)
async def test_fw48h_starts_at_the_slot_containing_from(client: Client, from_text: str) -> None:
    body = await get_json(client, f"/intensity/{from_text}/fw48h")
    items = body["data"]
    assert len(items) == 96
    assert_consecutive(items, datetime(2026, 11, 23, 18, tzinfo=UTC))
    for item in items:
        assert_national_item(item)
    assert isinstance(items[0]["intensity"]["actual"], int)  # current slot (now = 18:17)
    assert all(item["intensity"]["actual"] is None for item in items[1:])


async def test_actual_is_set_up_to_the_running_slot(client: Client) -> None:
    items = (await get_json(client, "/intensity/2026-11-23T12:00Z/fw24h"))["data"]
    assert len(items) == 48
    settled = [item["intensity"]["actual"] is not None for item in items]
    # 12:00 ... 18:00 (the running slot) have an actual: 13 slots
    assert settled == [True] * 13 + [False] * 35


async def test_pt24h_is_the_48_slots_before(client: Client) -> None:
    items = (await get_json(client, "/intensity/2026-11-23T18:17Z/pt24h"))["data"]
    assert len(items) == 48
    assert_consecutive(items, datetime(2026, 11, 22, 18, tzinfo=UTC))
    assert items[-1]["to"] == "2026-11-23T18:00Z"
    assert all(isinstance(item["intensity"]["actual"], int) for item in items)


async def test_from_to_range(client: Client) -> None:
    items = (await get_json(client, "/intensity/2026-11-20T00:00Z/2026-11-21T00:00Z"))["data"]
    assert len(items) == 48
    assert_consecutive(items, datetime(2026, 11, 20, tzinfo=UTC))
    fourteen = "/intensity/2026-11-01T00:00Z/2026-11-15T00:00Z"
    assert len((await get_json(client, fourteen))["data"]) == 14 * 48


@pytest.mark.parametrize(
    "path",
    [
        "/intensity/2026-11-01T00:00Z/2026-11-15T00:30Z",  # over 14 days
        "/intensity/2026-11-02T00:00Z/2026-11-01T00:00Z",  # backwards
        "/intensity/yesterday/fw48h",
        "/intensity/2026-11-23T18:00Z/fw12h",
        "/intensity/2026-13-01T00:00Z",
        "/generation/2026-11-01T00:00Z/2026-12-01T00:00Z",
        "/regional/intensity/nonsense/fw48h/postcode/BS16",
        "/regional/regionid/%C2%B2",
        "/intensity/date/2026-02-30",
        "/intensity/date/2026-11-23/49",
    ],
)
async def test_bad_requests_get_the_documented_error_body(client: Client, path: str) -> None:
    body = await get_json(client, path, status=400)
    assert list(body) == ["error"]
    assert body["error"]["code"] == "400 Bad Request"
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]


async def test_single_slot_and_date_endpoints(client: Client) -> None:
    [item] = (await get_json(client, "/intensity/2026-11-23T09:45Z"))["data"]
    assert item["from"] == "2026-11-23T09:30Z"
    today = (await get_json(client, "/intensity/date"))["data"]
    assert len(today) == 48
    assert today[0]["from"] == "2026-11-23T00:00Z"
    assert today == (await get_json(client, "/intensity/date/2026-11-23"))["data"]
    [period] = (await get_json(client, "/intensity/date/2026-11-23/37"))["data"]
    assert period == today[36]
    assert period["from"] == "2026-11-23T18:00Z"


# --- generation -------------------------------------------------------------------------------


async def test_current_generation_has_the_documented_list_shape(client: Client) -> None:
    body = await get_json(client, "/generation")
    assert isinstance(body["data"], list)
    [item] = body["data"]
    assert list(item) == ["from", "to", "generationmix"]
    assert item["from"] == "2026-11-23T18:00Z"
    fuels = [entry["fuel"] for entry in item["generationmix"]]
    assert fuels[:9] == [
        "gas",
        "coal",
        "biomass",
        "nuclear",
        "hydro",
        "imports",
        "other",
        "wind",
        "solar",
    ]
    assert set(fuels) <= NINE_FUELS | {"storage"}
    assert tenths(item["generationmix"]) == 1000
    assert all(list(entry) == ["fuel", "perc"] for entry in item["generationmix"])


async def test_generation_ranges(client: Client) -> None:
    items = (await get_json(client, "/generation/2026-11-23T18:00Z/pt24h"))["data"]
    assert len(items) == 48
    assert_consecutive(items, datetime(2026, 11, 22, 18, tzinfo=UTC))
    items = (await get_json(client, "/generation/2026-11-23T00:00Z/2026-11-24T00:00Z"))["data"]
    assert len(items) == 48
    assert_consecutive(items, datetime(2026, 11, 23, tzinfo=UTC))
    for item in items:
        assert tenths(item["generationmix"]) == 1000
    # pumped storage shows up in the national mix around the evening peak, and only then
    with_storage = [
        item for item in items if "storage" in {e["fuel"] for e in item["generationmix"]}
    ]
    assert 0 < len(with_storage) < 48
    for item in with_storage:
        storage = next(e["perc"] for e in item["generationmix"] if e["fuel"] == "storage")
        assert 0 <= storage <= 1.5


# --- regional ---------------------------------------------------------------------------------


async def test_regional_postcode_is_a_one_element_list(client: Client) -> None:
    body = await get_json(client, "/regional/postcode/bs16")
    assert isinstance(body["data"], list)
    [region] = body["data"]
    assert list(region) == ["regionid", "dnoregion", "shortname", "postcode", "data"]
    assert region["regionid"] == 11
    assert region["shortname"] == "South West England"
    assert region["dnoregion"] == "WPD South West"
    assert region["postcode"] == "BS16"
    [slot] = region["data"]
    assert slot["from"] == "2026-11-23T18:00Z"
    assert_regional_slot(slot)


async def test_regional_regionid_has_no_postcode(client: Client) -> None:
    [region] = (await get_json(client, "/regional/regionid/1"))["data"]
    assert list(region) == ["regionid", "dnoregion", "shortname", "data"]
    assert (region["regionid"], region["shortname"]) == (1, "North Scotland")
    assert_regional_slot(region["data"][0])
    for name, regionid in (("england", 15), ("scotland", 16), ("wales", 17)):
        [aggregate] = (await get_json(client, f"/regional/{name}"))["data"]
        assert aggregate["regionid"] == regionid


@pytest.mark.parametrize(("window", "count"), [("fw48h", 96), ("fw24h", 48), ("pt24h", 48)])
async def test_regional_intensity_window_is_an_object(
    client: Client, window: str, count: int
) -> None:
    body = await get_json(client, f"/regional/intensity/2026-11-23T18:17Z/{window}/postcode/BS16")
    assert isinstance(body["data"], dict)  # an OBJECT here, unlike every other endpoint
    region = body["data"]
    assert list(region) == ["regionid", "dnoregion", "shortname", "postcode", "data"]
    assert (region["regionid"], region["postcode"]) == (11, "BS16")
    slots = region["data"]
    assert len(slots) == count
    first = datetime(2026, 11, 23, 18, tzinfo=UTC)
    assert_consecutive(slots, first - timedelta(hours=24) if window == "pt24h" else first)
    for slot in slots:
        assert_regional_slot(slot)

    by_id = await get_json(client, f"/regional/intensity/2026-11-23T18:17Z/{window}/regionid/11")
    assert list(by_id["data"]) == ["regionid", "dnoregion", "shortname", "data"]
    assert by_id["data"]["data"] == slots


async def test_regional_intensity_all_regions(client: Client) -> None:
    body = await get_json(client, "/regional/intensity/2026-11-23T18:00Z/2026-11-23T19:00Z")
    assert [item["from"] for item in body["data"]] == ["2026-11-23T18:00Z", "2026-11-23T18:30Z"]
    assert [r["regionid"] for r in body["data"][0]["regions"]] == list(range(1, 18))


async def test_regional_lists_every_region(client: Client) -> None:
    body = await get_json(client, "/regional")
    [item] = body["data"]
    assert list(item) == ["from", "to", "regions"]
    assert item["from"] == "2026-11-23T18:00Z"
    regions = item["regions"]
    assert [r["regionid"] for r in regions] == list(range(1, 18))
    for region in regions:
        assert list(region) == ["regionid", "dnoregion", "shortname", "intensity", "generationmix"]
        assert (region["shortname"], region["dnoregion"]) == REGION_NAMES[region["regionid"]]
        assert list(region["intensity"]) == ["forecast", "index"]
        assert tenths(region["generationmix"]) == 1000


POSTCODE_REGIONS = {
    1: "AB10 IV2 KW15 PH1 PA1 DD1 HS1 ZE1",
    2: "EH1 G1 G12 KA1 ML1 DG1 TD1 FK1 KY1",
    3: "M1 M60 PR1 BB1 BL1 WN1 WA1 OL1 SK1 LA1 CA1 FY1",
    4: "NE1 DH1 SR1 TS1 DL1",
    5: "LS1 BD1 HX1 HD1 HG1 YO1 S1 S10 DN1 HU1 WF1",
    6: "L1 L36 CH1 LL11 SY1 CW1",
    7: "CF10 NP10 SA1 LD1",
    8: "B1 B15 WV1 WS1 DY1 CV1 WR1 HR1 ST1 TF1",
    9: "NG1 DE1 LE1 LN1 NN1 PE1",
    10: "CB1 CO1 IP1 NR1 CM1 SG1 LU1 MK1",
    11: "BS16 BA1 EX1 PL1 TQ1 TR1 TA1 GL1",
    12: "SO14 PO1 BH1 SP1 RG41 OX1 GU1 SN1 DT1",
    13: "E1 EC1A N1 NW1 SE1 SW1A W1A WC2H",
    14: "BN1 CT1 ME1 TN1 RH1 CR0 BR1 DA1 KT1 SM1 TW1",
}


async def test_postcode_areas_map_to_regions(client: Client) -> None:
    for regionid, codes in POSTCODE_REGIONS.items():
        for outward in codes.split():
            [region] = (await get_json(client, f"/regional/postcode/{outward.lower()}"))["data"]
            assert (outward, region["regionid"]) == (outward, regionid)
            assert region["postcode"] == outward


async def test_unknown_postcode_gives_400_no_match_or_200_without_data(client: Client) -> None:
    """The real API: 400 "No postcode match" from the lookup (W7), empty 200 from windows."""
    for outward in ("ZZ9", "BT1", "JE2", "IM1"):  # valid syntax, not on the GB grid
        assert await get_json(client, f"/regional/postcode/{outward}", status=400) == {
            "error": {"code": "400 Bad Request", "message": "No postcode match can be found."}
        }
        window = f"/regional/intensity/2026-11-23T18:00Z/fw48h/postcode/{outward}"
        response = await client.get(CI + window)
        assert response.status == 200
        assert await response.read() == b""


async def test_invalid_postcode_gives_400(client: Client) -> None:
    for postcode in ("12AB", "B", "BS16%201AB", "ABC1", "BS", "B1234", "B-1"):
        body = await get_json(client, f"/regional/postcode/{postcode}", status=400)
        assert body["error"]["code"] == "400 Bad Request"
        window = f"/regional/intensity/2026-11-23T18:00Z/fw48h/postcode/{postcode}"
        body = await get_json(client, window, status=400)
        assert body["error"]["code"] == "400 Bad Request"


async def test_regionid_out_of_range_or_invalid(client: Client) -> None:
    assert await get_json(client, "/regional/regionid/99") == {"data": []}
    await get_json(client, "/regional/regionid/abc", status=400)


# --- determinism and consistency ----------------------------------------------------------------

PATHS = [
    "/intensity",
    "/intensity/2026-11-23T18:17Z/fw48h",
    "/intensity/2026-11-23T18:17Z/pt24h",
    "/generation",
    "/generation/2026-11-23T18:00Z/pt24h",
    "/regional",
    "/regional/postcode/BS16",
    "/regional/intensity/2026-11-23T18:00Z/fw48h/postcode/BS16",
    "/regional/intensity/2026-11-23T18:00Z/fw48h/regionid/15",
]


async def test_same_clock_gives_byte_identical_responses() -> None:
    bodies: list[list[bytes]] = []
    for _ in range(2):
        app = create_app(clock=ManualClock(NOW))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            bodies.append([await (await client.get(CI + path)).read() for path in PATHS])
    assert bodies[0] == bodies[1]


async def test_clock_moves_the_current_slot(client: Client, clock: ManualClock) -> None:
    before = (await get_json(client, "/intensity"))["data"][0]
    clock.advance(timedelta(minutes=30))
    after = (await get_json(client, "/intensity"))["data"][0]
    assert (before["from"], after["from"]) == ("2026-11-23T18:00Z", "2026-11-23T18:30Z")
    slots = (await get_json(client, "/intensity/2026-11-23T18:00Z/fw24h"))["data"]
    assert slots[1]["intensity"]["actual"] is not None  # 18:30 is running now
    assert slots[2]["intensity"]["actual"] is None


async def test_every_endpoint_agrees_on_a_slot(client: Client) -> None:
    fw48h = (await get_json(client, "/intensity/2026-11-23T18:00Z/fw48h"))["data"]
    fw24h = (await get_json(client, "/intensity/2026-11-23T19:00Z/fw24h"))["data"]
    assert fw48h[2] == fw24h[0]
    assert fw48h[2]["from"] == "2026-11-23T19:00Z"
    assert fw48h[2:50] == fw24h
    current = (await get_json(client, "/intensity"))["data"][0]
    assert current == fw48h[0]
    pt24h = (await get_json(client, "/intensity/2026-11-24T18:00Z/pt24h"))["data"]
    assert pt24h == fw48h[0:48]  # all of these are in the future: same forecasts, no actual

    # the national forecast is the national mix weighted by the factors
    generation = (await get_json(client, "/generation"))["data"][0]
    mix = {entry["fuel"]: entry["perc"] for entry in generation["generationmix"]}
    expected = round(sum(perc * FUEL_FACTORS[fuel] for fuel, perc in mix.items()) / 100)
    assert current["intensity"]["forecast"] == expected
    ranged = (await get_json(client, "/generation/2026-11-23T18:00Z/2026-11-23T18:30Z"))["data"]
    assert ranged == [generation]

    # regional: fw48h for a region agrees with the current-slot endpoints
    window = "/regional/intensity/2026-11-23T18:17Z/fw48h/postcode/NG1"
    slots = (await get_json(client, window))["data"]["data"]
    [postcode] = (await get_json(client, "/regional/postcode/NG1"))["data"]
    [by_id] = (await get_json(client, "/regional/regionid/9"))["data"]
    assert postcode["data"][0] == slots[0] == by_id["data"][0]
    regions = (await get_json(client, "/regional"))["data"][0]["regions"]
    east_midlands = next(r for r in regions if r["regionid"] == 9)
    assert east_midlands["intensity"] == slots[0]["intensity"]
    assert east_midlands["generationmix"] == slots[0]["generationmix"]
    later = "/regional/intensity/2026-11-23T20:00Z/fw24h/regionid/9"
    assert (await get_json(client, later))["data"]["data"][0] == slots[4]


# --- the data model -----------------------------------------------------------------------------


def test_mix_sums_to_exactly_100_and_forecast_follows_the_factors() -> None:
    start = datetime(2026, 3, 25, tzinfo=UTC)  # crosses the start of BST on 29 March
    for step in range(0, 8 * 48, 3):
        moment = start + step * timedelta(minutes=30)
        slots = [national_slot(moment)] + [regional_slot(r, moment) for r in REGIONS]
        for slot in slots:
            assert sum(round(perc * 10) for perc in slot.mix.values()) == 1000
            assert all(perc >= 0 for perc in slot.mix.values())
            assert all(round(perc, 1) == perc for perc in slot.mix.values())
            weighted = sum(perc * FUEL_FACTORS[fuel] for fuel, perc in slot.mix.items())
            assert slot.forecast == round(weighted / 100)
            assert slot.index == index_for(slot.forecast)


def test_the_national_curve_is_believable() -> None:
    def mean_by_hour(first: datetime, days: int) -> dict[int, float]:
        by_hour: dict[int, list[int]] = {}
        for step in range(days * 48):
            moment = first + step * timedelta(minutes=30)
            by_hour.setdefault(moment.hour, []).append(national_slot(moment).forecast)
        return {hour: statistics.mean(values) for hour, values in by_hour.items()}

    winter = mean_by_hour(datetime(2026, 1, 5, tzinfo=UTC), 28)
    evening = statistics.mean(winter[h] for h in (16, 17, 18))
    assert evening > statistics.mean(winter[h] for h in (2, 3, 4)) + 30
    assert evening > statistics.mean(winter[h] for h in (11, 12, 13)) + 20

    summer = mean_by_hour(datetime(2026, 6, 8, tzinfo=UTC), 28)
    assert statistics.mean(summer[h] for h in (11, 12, 13)) < summer[2] - 15  # solar

    values = [
        national_slot(datetime(2026, 1, 1, tzinfo=UTC) + step * timedelta(hours=5)).forecast
        for step in range(365 * 24 // 5)
    ]
    assert 25 <= min(values) < 80
    assert 200 < max(values) <= 320
    assert 80 < statistics.median(values) < 170


def test_solar_follows_the_sun_and_regions_differ() -> None:
    midnight = datetime(2026, 6, 21, tzinfo=UTC)
    summer_noon = datetime(2026, 6, 21, 12, tzinfo=UTC)
    winter_noon = datetime(2026, 12, 21, 12, tzinfo=UTC)
    assert national_slot(midnight).mix["solar"] == 0
    assert national_slot(winter_noon + timedelta(hours=6)).mix["solar"] == 0
    assert national_slot(summer_noon).mix["solar"] > 15
    assert national_slot(summer_noon).mix["solar"] > national_slot(winter_noon).mix["solar"]
    assert "storage" not in regional_slot(13, datetime(2026, 11, 23, 18, tzinfo=UTC)).mix

    def mean_forecast(regionid: int) -> float:
        first = datetime(2026, 2, 1, tzinfo=UTC)
        steps = range(0, 60 * 48, 5)
        return statistics.mean(
            regional_slot(regionid, first + s * timedelta(minutes=30)).forecast for s in steps
        )

    scotland, midlands, london = mean_forecast(16), mean_forecast(8), mean_forecast(13)
    assert scotland < 80 < 150 < midlands
    assert scotland < london
    sw_solar = regional_slot(11, summer_noon).mix["solar"]
    assert sw_solar > regional_slot(1, summer_noon).mix["solar"]


async def test_unknown_paths_are_404(client: Client) -> None:
    response = await client.get(f"{CI}/nothing/here")
    assert response.status == 404
