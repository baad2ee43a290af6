"""The Hoymiles emulation: login scheme, shapes and believable deterministic plants, and the
Energy Hub client working against it."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
import itertools
from typing import Any

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
from sandbox import FaultKind, ManualClock, SandboxState, create_app
from sandbox.faults import Fault
from sandbox.hoymiles import (
    ACCOUNTS,
    COMMISSIONED,
    DEMO_USER,
    PASSWORD,
    TOKEN_LIFETIME,
    day_energy,
    flow_at,
    inverters_at,
    plant_power,
    published_slot,
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
    ch = argon2id_hex(PASSWORD, pre["a"])
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
    assert len(tree.dtus) == dtus
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
    [inverter] = tree.hybrid_inverters
    [battery] = tree.batteries
    [meter] = tree.meters
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
