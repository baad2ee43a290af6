"""The Hoymiles emulation: login scheme, shapes and believable deterministic plants, and the
Energy Hub client working against it."""

from array import array
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2.low_level import Type, hash_secret_raw
import pytest

from custom_components.energy_hub.api.errors import (
    ApiAuthError,
    ApiNotFoundError,
    ApiRateLimitedError,
)
from custom_components.energy_hub.api.hoymiles import (
    DeviceKind,
    HoymilesAccountLockedError,
    HoymilesClient,
    LoginVariant,
    argon2id_hex,
    md5_sha256,
)
from custom_components.energy_hub.api.protobuf import Message, decode
from sandbox import FaultKind, ManualClock, SandboxState, create_app
from sandbox.faults import Fault
from sandbox.hoymiles import (
    ACCOUNTS,
    APP_VERSION_LOW,
    COMMISSIONED,
    DEMO_USER,
    MALFORMED_BODY,
    MANY_USER,
    MAX_PAGE_SIZE,
    PASSWORD,
    TOKEN_LIFETIME,
    day_energy,
    flow_at,
    hour_energy,
    inverter_grid_frequency,
    inverter_grid_voltage,
    inverter_power,
    inverter_temperature,
    inverter_today_energy,
    inverters_at,
    micro_chart_labels,
    plant_power,
    published_slot,
    quarter_power,
    sandbox_of,
    today_energy,
)
from tests.conftest import load_json

from .conftest import NOW

type Client = TestClient[web.Request, web.Application]

HOYMILES = "/hoymiles"
BALCONY, BARN, HYBRID = 1001, 1002, 1003
NOON = datetime(2026, 6, 21, 11, 2, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def post(client: Client, path: str, body: Any, token: str | None = None) -> Any:
    headers = {"Authorization": token} if token else {}
    response = await client.post(HOYMILES + path, json=body, headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def raw_login(client: Client, user: str = DEMO_USER) -> str:
    pre = (await post(client, "/iam/pub/3/auth/pre-insp", {"u": user}))["data"]
    ch = argon2id_hex(PASSWORD, pre["a"]) if pre["a"] else md5_sha256(PASSWORD)
    answer = await post(client, "/iam/pub/3/auth/login", {"u": user, "ch": ch, "n": pre["n"]})
    token: str = answer["data"]["token"]
    return token


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def make_client(
    client: Client, session: aiohttp.ClientSession, user: str = DEMO_USER, password: str = PASSWORD
) -> HoymilesClient:
    return HoymilesClient(session, user, password, base_url=str(client.make_url(HOYMILES)))


# --- login ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "variant", "stations"),
    [
        ("demo@energy-hub.example", LoginVariant.V3_ARGON2ID, [BALCONY, BARN, HYBRID]),
        ("dotted@energy-hub.example", LoginVariant.V3_MD5_SHA256, [BALCONY]),
        ("sha@energy-hub.example", LoginVariant.V3_SHA256, [BARN]),
        ("home@energy-hub.example", LoginVariant.HOME_C, [HYBRID]),
        ("legacy@energy-hub.example", LoginVariant.V0_MD5, [BALCONY]),
    ],
)
async def test_every_login_variant(
    client: Client,
    session: aiohttp.ClientSession,
    user: str,
    variant: LoginVariant,
    stations: list[int],
) -> None:
    """One account per scheme; the client finds each by its documented order."""
    hoymiles = make_client(client, session, user.upper())
    assert [station.id for station in await hoymiles.stations()] == stations
    assert hoymiles.login_variant is variant
    assert hoymiles.login_url == str(client.make_url(HOYMILES))
    assert sandbox_of(client.app).logins == 1


async def test_argon2id_is_checked(client: Client) -> None:
    """pre-insp gives a salt and a single-use nonce; only Argon2id (t=3, 32 MiB, p=1) passes."""
    region = await post(client, "/iam/pub/0/c/region_c", {"email": DEMO_USER})
    assert region["data"] == {"login_url": str(client.make_url(HOYMILES)), "dc": 1}
    unknown = await post(client, "/iam/pub/0/c/region_c", {"email": "nobody@example.com"})
    assert unknown["data"]["dc"] == -1

    pre = await post(client, "/iam/pub/3/auth/pre-insp", {"u": DEMO_USER})
    assert pre["status"] == "0"
    data = pre["data"]
    assert list(data) == ["n", "a", "v", "dc", "f", "t"]
    assert (data["v"], data["f"], data["t"], len(data["a"])) == (3, 0, 159, 32)
    salt = bytes.fromhex(data["a"])
    wrong_params = hash_secret_raw(PASSWORD.encode(), salt, 2, 32768, 1, 32, Type.ID).hex()
    argon2i = hash_secret_raw(PASSWORD.encode(), salt, 3, 32768, 1, 32, Type.I).hex()
    for ch in (wrong_params, argon2i, md5_sha256(PASSWORD)):
        pre = (await post(client, "/iam/pub/3/auth/pre-insp", {"u": DEMO_USER}))["data"]
        refused = await post(
            client, "/iam/pub/3/auth/login", {"u": DEMO_USER, "ch": ch, "n": pre["n"]}
        )
        assert refused == {
            "status": "1",
            "message": "Invalid credentials",
            "data": None,
            "systemNotice": None,
        }
    pre = (await post(client, "/iam/pub/3/auth/pre-insp", {"u": DEMO_USER}))["data"]
    good = {"u": DEMO_USER, "ch": argon2id_hex(PASSWORD, pre["a"]), "n": pre["n"]}
    answer = await post(client, "/iam/pub/3/auth/login", good)
    assert answer["status"] == "0"
    assert answer["data"]["token"]
    again = await post(client, "/iam/pub/3/auth/login", good)  # the nonce is spent
    assert again["status"] == "1"
    assert "nonce" in again["message"]
    assert sandbox_of(client.app).argon2_checks == 4


async def test_salt_less_and_legacy_answers(client: Client) -> None:
    pre = (await post(client, "/iam/pub/3/auth/pre-insp", {"u": "dotted@energy-hub.example"}))[
        "data"
    ]
    assert (pre["a"], pre["v"]) == (None, 2)
    home = await post(
        client,
        "/iam/pub/0/auth/login",
        {"user_name": DEMO_USER, "password": "x"},
    )
    assert home["message"] == "Your app version is low. Please update to the latest version."
    pre = (await post(client, "/iam/pub/3/auth/pre-insp", {"u": "home@energy-hub.example"}))["data"]
    only_home = await post(
        client,
        "/iam/pub/3/auth/login",
        {"u": "home@energy-hub.example", "ch": "x", "n": pre["n"]},
    )
    assert only_home["message"] == "Can only login to the S-Miles Home."


async def test_wrong_password_and_lockout(
    client: Client, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    with pytest.raises(ApiAuthError, match="Invalid credentials"):
        await make_client(client, session, password="wrong").login()
    for _ in range(4):  # the fifth failure in a row locks the account
        pre = (await post(client, "/iam/pub/3/auth/pre-insp", {"u": DEMO_USER}))["data"]
        body = {"u": DEMO_USER, "ch": "0" * 64, "n": pre["n"]}
        answer = await post(client, "/iam/pub/3/auth/login", body)
        assert answer["message"] == "Invalid credentials"
    with pytest.raises(HoymilesAccountLockedError) as caught:
        await make_client(client, session).login()
    assert isinstance(caught.value, ApiRateLimitedError)
    assert caught.value.retry_after == 1800.0
    clock.advance(timedelta(minutes=31))
    assert await make_client(client, session).login() is LoginVariant.V3_ARGON2ID


async def test_login_knobs_and_method_answers(client: Client) -> None:
    """Only a wrong password counts as a failed login; a legacy account is told "7" by the
    newer methods; `min_app_version` gates by User-Agent; `bare_pre_insp` drops the
    envelope."""
    sandbox = sandbox_of(client.app)
    legacy = "legacy@energy-hub.example"
    pre = (await post(client, "/iam/pub/3/auth/pre-insp", {"u": legacy}))["data"]
    v3 = await post(client, "/iam/pub/3/auth/login", {"u": legacy, "ch": "x", "n": pre["n"]})
    home = await post(client, "/iam/pub/0/c/login_c", {"user_name": legacy, "password": "x"})
    assert (v3["status"], home["status"]) == ("7", "7")
    assert sandbox.failed_logins == 0
    wrong = await post(client, "/iam/pub/0/auth/login", {"user_name": legacy, "password": "x"})
    assert wrong["message"] == "Invalid credentials"
    assert sandbox.failed_logins == 1

    sandbox.min_app_version = "2.10.1"
    for agent, low in (("sma/ad/2.10.0/159/1", True), ("sma/ad/2.10.1/159/1", False)):
        response = await client.post(
            HOYMILES + "/iam/pub/0/c/login_c",
            json={"user_name": "home@energy-hub.example", "password": md5_sha256(PASSWORD)},
            headers={"User-Agent": agent},
        )
        answer = await response.json()
        assert (answer["message"] == APP_VERSION_LOW) is low
    assert sandbox.failed_logins == 1
    sandbox.min_app_version = None

    sandbox.bare_pre_insp = True
    bare = await post(client, "/iam/pub/3/auth/pre-insp", {"u": DEMO_USER})
    assert list(bare) == ["n", "a", "v", "dc", "f", "t"]


async def test_plant_list_pages(client: Client) -> None:
    """At most `MAX_PAGE_SIZE` plants a page whatever is asked, with the account's total."""
    token = await raw_login(client, MANY_USER)
    ids: list[int] = []
    for page in (1, 2, 3, 4):
        body = {"page": page, "page_size": 100}
        data = (await post(client, "/pvm/api/0/station/select_by_page", body, token))["data"]
        assert data["total"] == 25
        assert len(data["list"]) == [MAX_PAGE_SIZE, MAX_PAGE_SIZE, 5, 0][page - 1]
        ids += [item["id"] for item in data["list"]]
    assert ids == list(range(1004, 1029))
    assert ACCOUNTS[MANY_USER].stations == tuple(ids)


async def test_malformed_curves(client: Client) -> None:
    token = await raw_login(client)
    day = date(2026, 11, 20)
    sandbox_of(client.app).malformed_curves.add(day)
    response = await client.post(
        HOYMILES + "/pvm-data/api/0/station/data/count_power_by_day",
        json={"sid": BALCONY, "date": day.isoformat()},
        headers={"Authorization": token},
    )
    assert response.content_type == "application/json"
    assert await response.text() == MALFORMED_BODY


async def test_tokens_expire(
    client: Client, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A token lives `TOKEN_LIFETIME`; then (or when revoked) one silent re-login."""
    sandbox = sandbox_of(client.app)
    hoymiles = make_client(client, session)
    await hoymiles.station_realtime(BALCONY)
    clock.advance(TOKEN_LIFETIME - timedelta(minutes=1))
    await hoymiles.station_realtime(BALCONY)
    assert (hoymiles.login_count, sandbox.logins) == (1, 1)
    clock.advance(timedelta(minutes=1))
    await hoymiles.station_realtime(BALCONY)
    assert (hoymiles.login_count, sandbox.logins) == (2, 2)
    assert sandbox.expire_tokens() == 1
    await hoymiles.device_tree(BALCONY)
    assert (hoymiles.login_count, sandbox.logins) == (3, 3)

    token = await raw_login(client)
    expired = await post(
        client, "/pvm-data/api/0/station/data/count_station_real_data", {"sid": 1001}, "nope"
    )
    assert expired == load_json("hoymiles/error_token_verify.json")
    denied = await post(client, "/pvm/api/0/station/find", {"id": 4242}, token)
    assert (denied["status"], denied["message"]) == ("3", "No Permission.")


async def test_no_permission_through_the_client(
    client: Client, session: aiohttp.ClientSession
) -> None:
    hoymiles = make_client(client, session, "dotted@energy-hub.example")
    with pytest.raises(ApiNotFoundError):
        await hoymiles.station_realtime(BARN)


async def test_faults(
    client: Client, session: aiohttp.ClientSession, sandbox_state: SandboxState
) -> None:
    sandbox_state.faults.set("hoymiles", Fault(FaultKind.RATE_LIMIT, 90))
    with pytest.raises(ApiRateLimitedError) as caught:
        await make_client(client, session).login()
    assert caught.value.retry_after == 90.0


# --- shapes --------------------------------------------------------------------------------------


async def test_shapes_match_the_samples(client: Client) -> None:
    token = await raw_login(client)
    pv_only = load_json("hoymiles/count_station_real_data.pv_only.json")
    reflux = load_json("hoymiles/count_station_real_data.with_reflux.json")
    body = await post(
        client, "/pvm-data/api/0/station/data/count_station_real_data", {"sid": BALCONY}, token
    )
    assert list(body) == list(pv_only)
    assert list(body["data"]) == list(pv_only["data"])
    assert all(isinstance(body["data"][key], str) for key in ("today_eq", "total_eq", "capacitor"))
    body = await post(
        client, "/pvm-data/api/0/station/data/count_station_real_data", {"sid": HYBRID}, token
    )
    assert set(body["data"]["reflux_station_data"]) == set(reflux["data"]["reflux_station_data"])

    tree = await post(client, "/pvm/api/0/station/select_device_of_tree", {"id": BALCONY}, token)
    sample = load_json("hoymiles/station_select_device_of_tree.micro.json")["data"][0]
    assert set(tree["data"][0]) == set(sample)
    assert set(tree["data"][0]["children"][0]) == set(sample["children"][0])
    assert set(tree["data"][0]["children"][0]["extend_data"]) == set(
        sample["children"][0]["extend_data"]
    )

    find = await post(client, "/pvm/api/0/station/find", {"id": BARN}, token)
    assert find["data"]["timezone"]["name"] == "Europe/Berlin"
    assert set(find["data"]) <= set(load_json("hoymiles/station_find.json")["data"])
    page = await post(
        client, "/pvm/api/0/station/select_by_page", {"page": 2, "page_size": 2}, token
    )
    assert (page["data"]["total"], [s["id"] for s in page["data"]["list"]]) == (3, [HYBRID])


# --- plants --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("plant", "count", "dtus"), [(BALCONY, 8, 1), (BARN, 40, 2)])
async def test_micro_plants(
    client: Client,
    session: aiohttp.ClientSession,
    clock: ManualClock,
    plant: int,
    count: int,
    dtus: int,
) -> None:
    """At a summer noon every inverter is up and the plant is the sum of its inverters."""
    clock.set(NOON)
    hoymiles = make_client(client, session)
    details = await hoymiles.station_details(plant)
    tree = await hoymiles.device_tree(plant)
    realtime = await hoymiles.station_realtime(plant, details.timezone)
    assert len(tree.microinverters) == count
    assert len(tree.of_kind(DeviceKind.DTU)) == dtus
    assert all(inverter.connected for inverter in tree.microinverters)
    assert len({inverter.serial for inverter in tree.microinverters}) == count
    slot = published_slot(NOON)
    states = inverters_at(plant, slot)
    assert [state.id for state in states] == [inverter.id for inverter in tree.microinverters]
    assert realtime.pv_power_w == plant_power(plant, slot)
    assert realtime.pv_power_w == pytest.approx(sum(state.power_w for state in states), abs=1)
    assert realtime.pv_power_w is not None
    assert details.capacity_kwp is not None
    assert 0.1 < realtime.pv_power_w / (details.capacity_kwp * 1000) < 0.95
    assert realtime.data_time == slot + timedelta(minutes=5, seconds=37)
    assert realtime.today_energy_wh == today_energy(plant, NOON)
    assert realtime.energy_flow is None


async def test_dusk_inverters_go_offline_one_by_one(
    client: Client, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    hoymiles = make_client(client, session)
    for plant, count in ((BALCONY, 8), (BARN, 40)):
        online = []
        moment = utc(2026, 11, 23, 13, 30)
        while moment <= utc(2026, 11, 23, 16, 30):
            clock.set(moment)
            tree = await hoymiles.device_tree(plant)
            online.append(sum(bool(inverter.connected) for inverter in tree.microinverters))
            assert online[-1] == sum(
                s.connected for s in inverters_at(plant, published_slot(moment))
            )
            moment += timedelta(minutes=5)
        assert online[0] == count
        assert online[-1] == 0
        assert online == sorted(online, reverse=True)
        steps = [a - b for a, b in itertools.pairwise(online) if a != b]
        assert len(steps) >= min(count, 8) // 2  # one by one, not all at once
    realtime = await hoymiles.station_realtime(BARN)
    assert realtime.pv_power_w is None  # the cloud sends null when nothing reports
    assert realtime.today_energy_wh == day_energy(BARN, date(2026, 11, 23))


async def test_hybrid_plant(
    client: Client, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    hoymiles = make_client(client, session)
    tree = await hoymiles.device_tree(HYBRID)
    [inverter] = tree.of_kind(DeviceKind.HYBRID_INVERTER)
    [battery] = tree.of_kind(DeviceKind.BATTERY)
    [meter] = tree.of_kind(DeviceKind.METER)
    assert battery.parent_id == inverter.id
    assert meter.kind is DeviceKind.METER
    assert inverter.model == "HYS-4.6LV-EUG1"
    details = await hoymiles.station_details(HYBRID)
    assert (details.has_energy_flow, details.battery_capacity_kwh) == (True, 5.0)
    for moment in (NOW, NOON, utc(2026, 11, 23, 12, 0), utc(2026, 3, 29, 1, 7)):
        clock.set(moment)
        realtime = await hoymiles.station_realtime(HYBRID, details.timezone)
        flow = realtime.energy_flow
        assert flow is not None
        truth = flow_at(published_slot(moment))
        assert flow.pv_power_w == truth.pv_w
        assert flow.battery_power_w == -truth.bms_w
        assert flow.grid_power_w == -truth.grid_w
        assert flow.load_power_w is not None and flow.pv_power_w is not None
        assert flow.battery_power_w is not None and flow.grid_power_w is not None
        # Energy Hub signs: load = PV + grid import + battery discharge
        assert flow.load_power_w == pytest.approx(
            flow.pv_power_w + flow.grid_power_w + flow.battery_power_w, abs=0.2
        )
        assert flow.battery_soc_percent is not None
        assert 10 <= flow.battery_soc_percent <= 100
        assert flow.grid_import.today_wh == flow.grid_import_today_wh
        assert flow.grid_import.total_wh is not None and flow.grid_import.year_wh is not None
        assert flow.grid_import.total_wh >= flow.grid_import.year_wh


async def test_history_for_the_past_year(client: Client, session: aiohttp.ClientSession) -> None:
    hoymiles = make_client(client, session)
    start = date(2025, 11, 23)
    today = date(2026, 11, 23)
    before = hoymiles.request_count
    days = await hoymiles.daily_generation(BALCONY, start, today)
    assert hoymiles.request_count - before - 3 == 13  # 3 for the login, 1 a month
    assert [day.day for day in days] == [start + timedelta(days=n) for n in range(366)]
    assert [day.pv_energy_wh for day in days[:-1]] == [
        day_energy(BALCONY, d.day) for d in days[:-1]
    ]
    realtime = await hoymiles.station_realtime(BALCONY)
    assert days[-1].pv_energy_wh == realtime.today_energy_wh == today_energy(BALCONY, NOW)
    november = sum(day.pv_energy_wh or 0 for day in days if day.day >= date(2026, 11, 1))
    assert realtime.month_energy_wh == pytest.approx(november, abs=0.5)
    summer = max(days, key=lambda day: day.pv_energy_wh or 0)
    assert summer.day.month in (5, 6, 7, 8)
    winter = [day.pv_energy_wh or 0 for day in days if day.day.month == 12]
    assert max(winter) < (summer.pv_energy_wh or 0) / 2
    assert await hoymiles.daily_generation(BALCONY, date(2024, 1, 1), date(2024, 1, 31)) == []
    assert start >= COMMISSIONED

    hybrid = await hoymiles.daily_generation(HYBRID, date(2026, 6, 1), date(2026, 6, 30))
    assert [day.pv_energy_wh for day in hybrid] == [day_energy(HYBRID, d.day) for d in hybrid]


async def test_deterministic(clock: ManualClock) -> None:
    """Two sandboxes at the same instant serve the same bytes."""
    bodies = []
    for _ in range(2):
        async with TestClient(TestServer(create_app(clock=clock), host="127.0.0.1")) as client:
            token = await raw_login(client)
            response = await client.post(
                HOYMILES + "/pvm-data/api/0/station/data/count_station_real_data",
                json={"sid": HYBRID},
                headers={"Authorization": token},
            )
            tree = await client.post(
                HOYMILES + "/pvm/api/0/station/select_device_of_tree",
                json={"id": BARN},
                headers={"Authorization": token},
            )
            bodies.append((await response.read(), await tree.read()))
    assert bodies[0] == bodies[1]
    assert plant_power(BARN, NOON) == plant_power(BARN, NOON)
    assert day_energy(BALCONY, date(2026, 6, 21)) > 20_000


async def test_a_day_of_polling_stays_in_budget(
    client: Client, session: aiohttp.ClientSession, clock: ManualClock, sandbox_state: SandboxState
) -> None:
    """A 5-minute poll of the plant plus an hourly device tree and a daily history request:
    well under 400 requests and 4 logins a day, whatever the number of inverters."""
    clock.set(utc(2026, 11, 24, 0, 1))
    hoymiles = make_client(client, session)
    state = sandbox_state
    state.requests.reset()
    for step in range(288):
        await hoymiles.station_realtime(BARN)
        if step % 12 == 0:
            await hoymiles.device_tree(BARN)
        if step == 6:
            await hoymiles.daily_generation(BARN, date(2026, 11, 23), date(2026, 11, 23))
        clock.advance(timedelta(minutes=5))
    total = state.requests.total("hoymiles")
    assert total == hoymiles.request_count
    assert hoymiles.login_count <= 4
    assert total <= 400
    # region once; each re-login costs pre-insp + login and the one call refused before it
    assert total == 288 + 24 + 1 + 1 + 2 * hoymiles.login_count + (hoymiles.login_count - 1)
    assert ACCOUNTS[DEMO_USER].stations == (BALCONY, BARN, HYBRID)


# --- protobuf charts -----------------------------------------------------------------------------

MICRO_CHART = "/pvm-data/api/0/micro/data/count_by_day"
POWER_CHART = "/pvm-data/api/0/station/data/count_power_by_day"
QUOTAS = ["MI_POWER", "MI_TEMPERATURE", "MI_NET_V", "MI_NET_RATE"]
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SOLSTICE = date(2026, 6, 21)


def f32(value: float) -> float:
    """`value` as a packed float32 carries it."""
    return array("f", [value])[0]


async def post_chart(client: Client, path: str, body: Any, token: str) -> Message:
    response = await client.post(HOYMILES + path, json=body, headers={"Authorization": token})
    assert response.status == 200
    assert response.content_type == "application/octet-stream"
    return decode(await response.read())


def instants(day: date, labels: list[str]) -> list[datetime]:
    """UTC instants of plant-local `HH:MM` labels in time order (a repeated hour: the later)."""
    out: list[datetime] = []
    for label in labels:
        hour, minute = map(int, label.split(":"))
        candidates = sorted(
            datetime(
                day.year, day.month, day.day, hour, minute, fold=fold, tzinfo=AMSTERDAM
            ).astimezone(UTC)
            for fold in (0, 1)
        )
        out.append(next(c for c in candidates if not out or c > out[-1]))
    return out


def micro_ids(plant: int) -> list[int]:
    return [state.id for state in inverters_at(plant, NOON)]


def series_of(chart: Message, count: int) -> list[tuple[str | None, int | None, list[float]]]:
    return [(s.string(1), s.integer(3), s.floats(2, count)) for s in chart.messages(2)]


@pytest.mark.parametrize("plant", [BALCONY, BARN])
async def test_micro_chart_is_the_inverters_day(client: Client, plant: int) -> None:
    """One series per (quota, micro) in the order asked; MI_POWER is `inverters_at` slot by slot,
    the labels run from the first to the last slot in which any inverter is awake."""
    token = await raw_login(client)
    ids = micro_ids(plant)
    asked = [ids[3], 4242, ids[0], 1003_101, *ids[1:3]]
    body = {"sid": plant, "date": "2026-06-21", "mi_list": asked, "quota": [*QUOTAS, "MI_X"]}
    chart = await post_chart(client, MICRO_CHART, body, token)
    labels = chart.strings(1)
    assert chart.string(3) == "2026-06-21"
    assert labels == micro_chart_labels(plant, SOLSTICE, NOW)
    slots = instants(SOLSTICE, labels)
    assert [b - a for a, b in itertools.pairwise(slots)] == [timedelta(minutes=5)] * (
        len(slots) - 1
    )
    awake = [any(s.connected for s in inverters_at(plant, slot)) for slot in slots]
    assert all(awake)
    for outside in (slots[0] - timedelta(minutes=5), slots[-1] + timedelta(minutes=5)):
        assert not any(s.connected for s in inverters_at(plant, outside))
    assert 150 < len(labels) < 230
    series = series_of(chart, len(labels))
    expected_ids = [ids[3], ids[0], *ids[1:3]]
    assert [(kind, did) for kind, did, _ in series] == [
        (quota, did) for quota in QUOTAS for did in expected_ids
    ]
    assert all(len(values) == len(labels) for _, _, values in series)
    by_key = {(kind, did): values for kind, did, values in series}
    states = [{s.id: s for s in inverters_at(plant, slot)} for slot in slots]
    for did in expected_ids:
        assert by_key["MI_POWER", did] == [f32(state[did].power_w) for state in states]
        assert by_key["MI_POWER", did] == [f32(inverter_power(plant, did, t)) for t in slots]
        assert by_key["MI_TEMPERATURE", did] == [
            f32(inverter_temperature(plant, did, t)) for t in slots
        ]
        assert by_key["MI_NET_V", did] == [f32(inverter_grid_voltage(plant, did, t)) for t in slots]
        assert by_key["MI_NET_RATE", did] == [
            f32(inverter_grid_frequency(plant, did, t)) for t in slots
        ]
        assert all(220 < v < 240 for v in by_key["MI_NET_V", did])
        assert all(49.949 < hz < 50.051 for hz in by_key["MI_NET_RATE", did])
        assert len(set(by_key["MI_NET_V", did])) > 10
    # the first inverter to wake makes the first label: the others wake one by one after it
    assert 0 < sum(s.connected for s in states[0].values()) < len(ids)
    assert 0 < sum(s.connected for s in states[-1].values()) < len(ids)


async def test_micro_chart_doubles_with_pb_ver_1(client: Client) -> None:
    token = await raw_login(client)
    ids = micro_ids(BALCONY)
    body = {"sid": BALCONY, "date": "2026-06-21", "mi_list": ids[:2], "quota": ["MI_POWER"]}
    singles = await post_chart(client, MICRO_CHART, body, token)
    doubles = await post_chart(client, MICRO_CHART, body | {"pb_ver": 1}, token)
    assert singles.strings(1) == doubles.strings(1)
    count = len(doubles.strings(1))
    for single, double in zip(singles.messages(2), doubles.messages(2), strict=True):
        assert len(single.floats(2)) == count  # 4 bytes a value
        assert len(double.floats(2)) == 2 * count  # 8 bytes a value, read as float32
        did = double.integer(3)
        assert did is not None
        slots = instants(SOLSTICE, doubles.strings(1))
        assert double.floats(2, count) == [inverter_power(BALCONY, did, t) for t in slots]
        assert single.floats(2) == [f32(v) for v in double.floats(2, count)]
    other = await post_chart(client, MICRO_CHART, body | {"pb_ver": 0}, token)
    assert other.messages(2)[0].fields == singles.messages(2)[0].fields


async def test_micro_chart_today_and_dusk(client: Client, clock: ManualClock) -> None:
    """Today's chart stops at the published slot and grows; at dusk it ends with the last
    inverter to sleep. Before dawn (and for the future) the chart is empty."""
    token = await raw_login(client)
    ids = micro_ids(BARN)
    today = date(2026, 11, 23)
    body = {"sid": BARN, "date": "2026-11-23", "mi_list": ids, "quota": ["MI_POWER"]}
    clock.set(utc(2026, 11, 23, 5, 0))
    dawn = await post_chart(client, MICRO_CHART, body, token)
    assert dawn.fields.keys() == {3}
    assert dawn.string(3) == "2026-11-23"

    clock.set(utc(2026, 11, 23, 12, 7))
    midday = await post_chart(client, MICRO_CHART, body, token)
    labels = midday.strings(1)
    slots = instants(today, labels)
    assert slots[-1] == published_slot(utc(2026, 11, 23, 12, 7)) == utc(2026, 11, 23, 12, 0)
    energy = {did: sum(values) * 5 / 60 for _, did, values in series_of(midday, len(labels))}
    for did in ids:
        assert energy[did] == pytest.approx(
            inverter_today_energy(BARN, did, utc(2026, 11, 23, 12, 7)), abs=0.01
        )

    clock.set(NOW)
    evening = await post_chart(client, MICRO_CHART, body, token)
    full = evening.strings(1)
    assert full[: len(labels)] == labels
    assert [s.floats(2)[: len(labels)] for s in evening.messages(2)] == [
        s.floats(2) for s in midday.messages(2)
    ]
    last = instants(today, full)[-1]
    assert any(s.connected for s in inverters_at(BARN, last))
    assert not any(s.connected for s in inverters_at(BARN, last + timedelta(minutes=5)))
    assert last < utc(2026, 11, 23, 17, 0)
    # at dusk the inverters go to sleep one by one: the last slot has zeros and a live one
    final = [s.floats(2)[-1] for s in evening.messages(2)]
    assert 0 < sum(value > 0 for value in final) < len(ids)
    assert inverter_today_energy(BARN, ids[0], NOW) == pytest.approx(
        sum(evening.messages(2)[0].floats(2)) * 5 / 60, abs=0.01
    )
    truth = [
        s.power_w for t in instants(today, full) for s in inverters_at(BARN, t) if s.id == ids[0]
    ]
    assert inverter_today_energy(BARN, ids[0], NOW) == round(sum(truth) * 5 / 60, 3)
    future = await post_chart(client, MICRO_CHART, body | {"date": "2026-11-24"}, token)
    assert future.fields.keys() == {3}
    early = await post_chart(client, MICRO_CHART, body | {"date": "2025-09-30"}, token)
    assert early.fields.keys() == {3}


async def test_micro_chart_temperature(client: Client) -> None:
    """Believable °C: within 5-80 on a summer day, hotter under load; colder in winter."""
    token = await raw_login(client)
    ids = micro_ids(BALCONY)
    for day, low, high in (("2026-06-21", 5, 80), ("2026-01-15", -15, 40)):
        body = {
            "sid": BALCONY,
            "date": day,
            "mi_list": ids,
            "quota": ["MI_POWER", "MI_TEMPERATURE"],
        }
        chart = await post_chart(client, MICRO_CHART, body, token)
        series = series_of(chart, len(chart.strings(1)))
        power = {did: values for kind, did, values in series if kind == "MI_POWER"}
        temperature = {did: values for kind, did, values in series if kind == "MI_TEMPERATURE"}
        for did in ids:
            assert all(low <= t <= high for t in temperature[did])
            ranked = sorted(zip(power[did], temperature[did], strict=True))
            quarter = len(ranked) // 4
            cool = sum(t for _, t in ranked[:quarter]) / quarter
            hot = sum(t for _, t in ranked[-quarter:]) / quarter
            assert hot > cool + 3
    summer = max(inverter_temperature(BALCONY, ids[0], utc(2026, 6, 21, h)) for h in range(24))
    winter = max(inverter_temperature(BALCONY, ids[0], utc(2026, 1, 15, h)) for h in range(24))
    assert 30 < summer < 70
    assert winter < summer - 10


async def test_micro_chart_without_micros(client: Client) -> None:
    """The hybrid inverter and unknown ids get no series; a hybrid plant has no micro chart."""
    token = await raw_login(client)
    body = {"sid": HYBRID, "date": "2026-06-21", "mi_list": [1003_101], "quota": QUOTAS}
    chart = await post_chart(client, MICRO_CHART, body, token)
    assert chart.fields.keys() == {3}
    body = {"sid": BALCONY, "date": "2026-06-21", "mi_list": [1003_101, 1], "quota": QUOTAS}
    chart = await post_chart(client, MICRO_CHART, body, token)
    assert chart.strings(1) == micro_chart_labels(BALCONY, SOLSTICE, NOW)
    assert chart.messages(2) == []
    body = {"sid": BALCONY, "date": "2026-06-21", "mi_list": micro_ids(BALCONY), "quota": ["X"]}
    chart = await post_chart(client, MICRO_CHART, body, token)
    assert chart.messages(2) == []


def power_points(chart: Message) -> list[tuple[str, float]]:
    pd = chart.message(2)
    assert pd is not None
    assert pd.string(1) == "grid_power"
    labels = chart.strings(1)
    power = pd.floats(2)
    assert len(labels) == len(power)
    return list(zip(labels, power, strict=True))


def check_power_day(plant: int, day: date, points: list[tuple[str, float]]) -> None:
    """Quarter points are `quarter_power`; summed per UTC hour they are `hour_energy`, over
    the day `day_energy`; outside the span, whole hours at 0."""
    labels = [label for label, _ in points]
    moments = instants(day, labels)
    assert all(a < b for a, b in itertools.pairwise(moments))
    lit = [index for index, (_, watts) in enumerate(points) if watts > 0]
    quarters = [(moments[i], points[i][1]) for i in range(lit[0], lit[-1] + 1)]
    first, last = quarters[0][0], quarters[-1][0]
    assert [m for m, _ in quarters] == [
        first + n * timedelta(minutes=15) for n in range(len(quarters))
    ]
    for moment, (label, watts) in zip(moments, points, strict=True):
        if first <= moment <= last:
            assert watts == f32(quarter_power(plant, moment))
        else:
            assert (label.endswith(":00"), moment.minute, watts) == (True, 0, 0.0)
            assert quarter_power(plant, moment) == 0
    by_hour: dict[datetime, float] = {}
    for moment, watts in quarters:
        hour = moment.replace(minute=0)
        by_hour[hour] = by_hour.get(hour, 0.0) + watts * 0.25
    start = moments[0]
    hours = 23 if day == date(2026, 3, 29) else 25 if day == date(2026, 10, 25) else 24
    for n in range(hours):
        hour = start + timedelta(hours=n)
        assert by_hour.get(hour, 0.0) == pytest.approx(hour_energy(plant, hour), abs=0.01)
    total = sum(watts for _, watts in quarters) * 0.25
    assert total == pytest.approx(day_energy(plant, day), abs=0.06)
    assert sum(hour_energy(plant, start + timedelta(hours=n)) for n in range(hours)) == (
        pytest.approx(day_energy(plant, day), abs=0.06)
    )
    assert moments[-1] == start + timedelta(hours=hours - 1)  # the night hours to 23:00


@pytest.mark.parametrize("plant", [BALCONY, BARN, HYBRID])
async def test_power_chart_of_a_day(client: Client, plant: int) -> None:
    token = await raw_login(client)
    chart = await post_chart(client, POWER_CHART, {"sid": plant, "date": "2026-06-21"}, token)
    assert chart.string(3) == "2026-06-21"
    points = power_points(chart)
    check_power_day(plant, SOLSTICE, points)
    labels = [label for label, _ in points]
    assert labels[:5] == ["00:00", "01:00", "02:00", "03:00", "04:00"]
    assert labels[-2:] == ["22:00", "23:00"]
    assert len([label for label in labels if label[3:] != "00"]) > 40  # quarters: :15 :30 :45
    assert day_energy(plant, SOLSTICE) > 10_000


@pytest.mark.parametrize(("day", "repeated"), [(date(2026, 3, 29), 0), (date(2026, 10, 25), 2)])
async def test_power_chart_on_clock_change_days(client: Client, day: date, repeated: int) -> None:
    """23 or 25 hours: no `02:00` in spring, two (in time order) in autumn."""
    token = await raw_login(client)
    for plant in (BALCONY, BARN, HYBRID):
        chart = await post_chart(
            client, POWER_CHART, {"sid": plant, "date": day.isoformat()}, token
        )
        points = power_points(chart)
        labels = [label for label, _ in points]
        assert labels.count("02:00") == repeated
        moments = instants(day, labels)
        if repeated:
            first, second = (
                m for m, label in zip(moments, labels, strict=True) if label == "02:00"
            )
            assert second - first == timedelta(hours=1)
        check_power_day(plant, day, points)


async def test_power_chart_today(client: Client, clock: ManualClock) -> None:
    """Only complete published quarters; night hours once their first quarter is published;
    today's chart is the start of the day's final one."""
    token = await raw_login(client)
    body = {"sid": BARN, "date": "2026-11-23"}
    clock.set(utc(2026, 11, 23, 3, 20))  # 04:20 local, the 04:10 slot is published
    night = power_points(await post_chart(client, POWER_CHART, body, token))
    assert night == [(f"{h:02d}:00", 0.0) for h in range(5)]
    clock.set(utc(2026, 11, 23, 3, 24))
    assert power_points(await post_chart(client, POWER_CHART, body, token)) == night

    clock.set(utc(2026, 11, 23, 11, 22))  # 12:22 local: the 12:15 slot is the newest published
    midday = power_points(await post_chart(client, POWER_CHART, body, token))
    [quarter] = instants(date(2026, 11, 23), ["12:00"])
    assert midday[-1] == ("12:00", f32(quarter_power(BARN, quarter)))  # not 12:15: incomplete
    clock.set(utc(2026, 11, 24, 9))
    token = await raw_login(client)  # the old one has expired
    final = power_points(await post_chart(client, POWER_CHART, body, token))
    assert final[: len(midday)] == midday
    check_power_day(BARN, date(2026, 11, 23), final)
    clock.set(NOW)  # 19:17 local: the quarters are done, night hours up to 19:00
    evening = power_points(await post_chart(client, POWER_CHART, body, token))
    assert evening == final[: len(evening)]
    assert evening[-1][0] == "19:00"
    future = await post_chart(client, POWER_CHART, {"sid": BARN, "date": "2026-11-24"}, token)
    assert future.fields.keys() == {3}
    assert future.string(3) == "2026-11-24"
    early = await post_chart(client, POWER_CHART, {"sid": BARN, "date": "2025-09-30"}, token)
    assert early.fields.keys() == {3}


async def test_a_year_of_power_charts(client: Client) -> None:
    """Every day since commissioning adds up to the day's counter, and fast."""
    token = await raw_login(client)
    day = COMMISSIONED
    while day < NOW.date():
        chart = await post_chart(
            client, POWER_CHART, {"sid": BALCONY, "date": day.isoformat()}, token
        )
        total = sum(watts for _, watts in power_points(chart)) * 0.25
        assert total == pytest.approx(day_energy(BALCONY, day), abs=0.06)
        day += timedelta(days=1)


async def test_chart_errors(client: Client) -> None:
    """JSON envelopes: token 100, foreign plant 3, bad body 2."""
    token = await raw_login(client)
    good = {"sid": BALCONY, "date": "2026-06-21", "mi_list": [1001_101], "quota": ["MI_POWER"]}
    for path in (MICRO_CHART, POWER_CHART):
        assert await post(client, path, good, "nope") == load_json(
            "hoymiles/error_token_verify.json"
        )
        for sid in (BARN, 4242):
            denied = await post(
                client,
                path,
                good | {"sid": sid},
                await raw_login(client, "dotted@energy-hub.example"),
            )
            assert (denied["status"], denied["message"]) == ("3", "No Permission.")
        for bad in (
            {"date": "2026-06-21"},
            good | {"sid": "1001"},
            good | {"sid": True},
            good | {"date": "21.06.2026"},
            good | {"date": 20260621},
            {k: v for k, v in good.items() if k != "date"},
        ):
            refused = await post(client, path, bad, token)
            assert (refused["status"], refused["message"]) == ("2", "Parameter error.")
        response = await client.post(HOYMILES + path, data=b"{", headers={"Authorization": token})
        assert (await response.json())["status"] == "2"
    for bad in (
        {k: v for k, v in good.items() if k != "mi_list"},
        {k: v for k, v in good.items() if k != "quota"},
        good | {"mi_list": ["1001101"]},
        good | {"mi_list": 1001101},
        good | {"quota": "MI_POWER"},
        good | {"quota": [1]},
    ):
        refused = await post(client, MICRO_CHART, bad, token)
        assert (refused["status"], refused["message"]) == ("2", "Parameter error.")
    sandbox_of(client.app).expire_tokens()
    for path in (MICRO_CHART, POWER_CHART):
        expired = await post(client, path, good, token)
        assert expired["status"] == "100"


# --- S-Miles Home accounts -----------------------------------------------------------------------

HOME_USER = "home@energy-hub.example"
HOME_ONLY = {
    "status": "1",
    "message": "This account can only be used for logging in to the S-Miles Home app.",
    "data": None,
}
STATIONS = "/pvm/api/0/station/select_by_page"
FIND = "/pvm/api/0/station/find"
TREE = "/pvm/api/0/station/select_device_of_tree"
REALTIME = "/pvm-data/api/0/station/data/count_station_real_data"
HISTORY = "/pvm-data/api/0/station/data_fd/stat_g_a"
STATIONS_C = "/pvmc/api/0/station/select_by_page_c"
FIND_C = "/pvmc/api/0/station/find_c"
TREE_C = "/pvmc/api/0/station/select_device_c"
REALTIME_C = "/pvmc/api/0/station_data/count_station_real_data_c"
MICRO_CHART_C = "/pvmc/api/0/micro_data/count_by_day_c"


async def home_login(client: Client) -> str:
    """The S-Miles Home login (`login_c`, dotted password hash)."""
    body = {"user_name": HOME_USER, "password": md5_sha256(PASSWORD)}
    answer = await post(client, "/iam/pub/0/c/login_c", body)
    token: str = answer["data"]["token"]
    return token


async def post_raw(client: Client, path: str, body: Any, token: str) -> tuple[int, str, bytes]:
    """HTTP status, content type and body bytes, whatever the status."""
    response = await client.post(HOYMILES + path, json=body, headers={"Authorization": token})
    return response.status, response.content_type, await response.read()


def chart_body(plant: int) -> dict[str, Any]:
    ids = micro_ids(plant) if plant != HYBRID else [1003_101]
    return {"sid": plant, "date": "2026-11-23", "mi_list": ids, "quota": QUOTAS}


async def test_home_account_refused_on_installer_endpoints(client: Client) -> None:
    """HTTP 403 on select_by_page, status "1" (HTTP 200) on the other data endpoints; the
    history endpoints still answer, exactly as they answer an installer account."""
    home = await home_login(client)
    demo = await raw_login(client)
    response = await client.post(
        HOYMILES + STATIONS, json={"page": 1, "page_size": 20}, headers={"Authorization": home}
    )
    assert (response.status, response.content_type) == (403, "application/json")
    assert await response.json() == HOME_ONLY
    for path, body in (
        (FIND, {"id": HYBRID}),
        (TREE, {"id": HYBRID}),
        (REALTIME, {"sid": HYBRID}),
        (MICRO_CHART, chart_body(HYBRID)),
        (FIND, {}),  # refused whatever the body
    ):
        assert await post(client, path, body, home) == HOME_ONLY, path
    assert (await post(client, STATIONS, {"page": 1, "page_size": 20}, demo))["status"] == "0"

    month = {"sid": HYBRID, "mode": 2, "date": "2026-06"}
    history = await post(client, HISTORY, month, home)
    assert history["status"] == "0"
    assert len(history["data"]["list"]) == 30
    assert history == await post(client, HISTORY, month, demo)
    day = {"sid": HYBRID, "date": "2026-06-21"}
    chart = await post_raw(client, POWER_CHART, day, home)
    assert chart[:2] == (200, "application/octet-stream")
    assert chart == await post_raw(client, POWER_CHART, day, demo)
    check_power_day(HYBRID, SOLSTICE, power_points(decode(chart[2])))

    sandbox_of(client.app).expire_tokens()  # a dead Home token is a dead token, not a refusal
    for path in (STATIONS, FIND, TREE, REALTIME, MICRO_CHART):
        assert await post(client, path, {"sid": HYBRID, "id": HYBRID}, home) == load_json(
            "hoymiles/error_token_verify.json"
        )


def installer_free(node: dict[str, Any]) -> None:
    """A `select_device_c` node: no installer keys, children under `devices`."""
    assert {"model_no", "soft_ver", "hard_ver", "children"}.isdisjoint(node)
    for child in node["devices"]:
        installer_free(child)


def same_devices(home: list[dict[str, Any]], installer: list[dict[str, Any]]) -> None:
    """The Home tree is the installer tree: same nodes, nesting and shared fields."""
    assert len(home) == len(installer)
    for mine, theirs in zip(home, installer, strict=True):
        for key in ("id", "sn", "vc", "dtu_sn", "type", "version", "replace_num", "warn_data"):
            assert mine[key] == theirs[key], key
        extend = dict(theirs["extend_data"])
        if theirs["soft_ver"]:
            major, minor, patch = (int(p) for p in theirs["soft_ver"][1:].split("."))
            extend["soft_num"] = major * 10_000 + minor * 100 + patch
        assert mine["extend_data"] == extend
        same_devices(mine["devices"], theirs["children"])


@pytest.mark.parametrize(
    ("user", "plants"), [(HOME_USER, [HYBRID]), (DEMO_USER, [BALCONY, BARN, HYBRID])]
)
async def test_home_endpoints_answer_every_account(
    client: Client, clock: ManualClock, user: str, plants: list[int]
) -> None:
    """The `_c` twins answer Home and installer tokens alike: the installer answers (read with
    the demo account at the same clock) with ids under `sid`, trees under `devices`."""
    token = await home_login(client) if user == HOME_USER else await raw_login(client, user)
    demo = await raw_login(client)

    page = await post(client, STATIONS_C, {"page": 1, "page_size": 20}, token)
    assert page["status"] == "0"
    assert [item["sid"] for item in page["data"]["list"]] == plants
    assert page["data"]["total"] == len(plants)
    installer = {
        item["id"]: item
        for item in (await post(client, STATIONS, {"page": 1, "page_size": 20}, demo))["data"][
            "list"
        ]
    }
    for item in page["data"]["list"]:
        assert "id" not in item
        expected = {k: v for k, v in installer[item["sid"]].items() if k != "id"}
        assert {k: v for k, v in item.items() if k != "sid"} == expected
    if user == DEMO_USER:
        second = await post(client, STATIONS_C, {"page": 2, "page_size": 2}, token)
        assert (second["data"]["total"], [s["sid"] for s in second["data"]["list"]]) == (
            3,
            [HYBRID],
        )

    for plant in plants:
        find = (await post(client, FIND_C, {"sid": plant}, token))["data"]
        full = (await post(client, FIND, {"id": plant}, demo))["data"]
        assert find["sid"] == plant
        assert {"id", "latitude", "longitude", "local_time"}.isdisjoint(find)
        zone = "Europe/Berlin" if plant == BARN else "Europe/Amsterdam"
        assert find["timezone"] == {"tz_name": "UTC+01", "name": zone}
        dropped = {"id", "latitude", "longitude", "local_time", "timezone"}
        assert {k: v for k, v in find.items() if k not in {"sid", "timezone"}} == {
            k: v for k, v in full.items() if k not in dropped
        }
        assert (find["name"], find["capacitor"]) == (full["name"], full["capacitor"])

        tree = (await post(client, TREE_C, {"sid": plant}, token))["data"]
        for node in tree:
            installer_free(node)
        same_devices(tree, (await post(client, TREE, {"id": plant}, demo))["data"])

        for moment in (NOW, NOON):
            clock.set(moment)
            assert await post(client, REALTIME_C, {"sid": plant}, token) == await post(
                client, REALTIME, {"sid": plant}, demo
            )
        clock.set(NOW)

        chart = await post_raw(client, MICRO_CHART_C, chart_body(plant), token)
        assert chart[:2] == (200, "application/octet-stream")
        assert chart == await post_raw(client, MICRO_CHART, chart_body(plant), demo)
        with_doubles = chart_body(plant) | {"pb_ver": 1, "date": "2026-06-21"}
        assert await post_raw(client, MICRO_CHART_C, with_doubles, token) == await post_raw(
            client, MICRO_CHART, with_doubles, demo
        )


async def test_home_trees_exactly(client: Client) -> None:
    """The hybrid house through `select_device_c`: DTU -> inverter -> battery, and the meter;
    firmware as `soft_num`, the battery (no version) without one."""
    token = await home_login(client)
    [dtu] = (await post(client, TREE_C, {"sid": HYBRID}, token))["data"]
    assert (dtu["id"], dtu["sn"], dtu["type"], dtu["dtu_sn"]) == (
        1003_001,
        "4162A0031001",
        1,
        "4162A0031001",
    )
    assert dtu["extend_data"] == {"soft_num": 10110}
    inverter, meter = dtu["devices"]
    assert (inverter["id"], inverter["sn"], inverter["type"]) == (1003_101, "1HYS0031001", 6)
    assert inverter["extend_data"] == {"status": 1, "role": 0, "soft_num": 10110}
    assert inverter["warn_data"] == {"connect": True, "warn": False}
    [battery] = inverter["devices"]
    assert (battery["id"], battery["sn"], battery["type"], battery["devices"]) == (
        1003_201,
        "1BAT0031001",
        10,
        [],
    )
    assert battery["extend_data"] == {"bms_type": 1, "bms_capacitor": "5.0"}
    assert (meter["id"], meter["sn"], meter["type"], meter["devices"]) == (
        1003_301,
        "1DDS0031001",
        7,
        [],
    )
    demo = await raw_login(client)
    [micro_dtu] = (await post(client, TREE_C, {"sid": BALCONY}, demo))["data"]
    assert len(micro_dtu["devices"]) == 8
    assert all(node["type"] == 3 and node["devices"] == [] for node in micro_dtu["devices"])
    assert micro_dtu["devices"][0]["extend_data"]["soft_num"] == 10110


async def test_home_endpoint_errors(client: Client) -> None:
    """Token 100, foreign plant 3, a bad `sid` as the installer twin answers it."""
    home = await home_login(client)
    demo = await raw_login(client)
    dotted = await raw_login(client, "dotted@energy-hub.example")
    plant_paths = (FIND_C, TREE_C, REALTIME_C, MICRO_CHART_C)
    for path in plant_paths:
        for token, sid in ((home, BALCONY), (home, 4242), (dotted, HYBRID)):
            denied = await post(client, path, chart_body(HYBRID) | {"sid": sid}, token)
            assert (denied["status"], denied["message"]) == ("3", "No Permission."), path
    twins = {FIND_C: (FIND, "id"), TREE_C: (TREE, "id"), REALTIME_C: (REALTIME, "sid")}
    for path, (twin, key) in twins.items():
        for bad in ({}, {"sid": "1003"}, {"sid": True}):
            refused = await post(client, path, bad, home)
            twin_bad = {key: bad["sid"]} if bad else {}
            assert refused == await post(client, twin, twin_bad, demo), (path, bad)
            assert refused["status"] == "3"
    for bad in (
        {k: v for k, v in chart_body(BALCONY).items() if k != "sid"},
        chart_body(BALCONY) | {"sid": "1001"},
        chart_body(BALCONY) | {"date": "21.06.2026"},
    ):
        refused = await post(client, MICRO_CHART_C, bad, demo)
        assert refused == await post(client, MICRO_CHART, bad, demo)
        assert (refused["status"], refused["message"]) == ("2", "Parameter error.")
    for bad_page in ({"page": 0}, {"page": "1"}, {"page_size": -1}):
        refused = await post(client, STATIONS_C, bad_page, home)
        assert refused == await post(client, STATIONS, bad_page, demo)
        assert refused["status"] == "2"

    sandbox_of(client.app).expire_tokens()
    for token in (home, demo):
        for path in (STATIONS_C, *plant_paths):
            expired = await post(client, path, chart_body(HYBRID), token)
            assert expired == load_json("hoymiles/error_token_verify.json"), path
        assert await post(client, FIND_C, {"sid": HYBRID}, "nope") == load_json(
            "hoymiles/error_token_verify.json"
        )
