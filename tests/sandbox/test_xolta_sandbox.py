"""The XOLTA emulation: the B2C login pages and tokens, the App API, the house's energy."""

import base64
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
import hashlib
import json
import re
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
import pytest
from yarl import URL

from custom_components.energy_hub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiNotFoundError,
    ApiResponseError,
)
from custom_components.energy_hub.api.xolta import XoltaClient, parse_b2c_settings, pkce_pair
from sandbox import ManualClock, create_app
from sandbox.xolta import (
    API_SCOPE,
    AUTHORITY_PATH,
    BATTERY_CAPACITY_KWH,
    CLIENT_ID,
    interval_energy,
    minute_power,
    offline_windows,
    sandbox_of,
    soc_percent,
)

type Client = TestClient[web.Request, web.Application]

PREFIX = "/xolta"
AUTH = f"{PREFIX}{AUTHORITY_PATH}/B2C_1_sisu"
API = f"{PREFIX}/api"
USER = "demo@xolta.example"
PASSWORD = "xolta-sandbox"
SITE = "sandbox-house"
REDIRECT = "https://app.xolta.com/"
SUMMER = datetime(2026, 6, 23, 12, 17, tzinfo=UTC)


def xolta_client(client: Client, clock: ManualClock, **kwargs: Any) -> XoltaClient:
    kwargs.setdefault("username", USER)
    kwargs.setdefault("password", PASSWORD)
    return XoltaClient(
        client.session,
        base_url=str(client.make_url(API)),
        authority_url=str(client.make_url(f"{PREFIX}{AUTHORITY_PATH}")),
        clock=lambda: clock().timestamp(),
        **kwargs,
    )


@pytest.fixture
async def summer() -> AsyncIterator[tuple[Client, ManualClock]]:
    clock = ManualClock(SUMMER)
    async with TestClient(TestServer(create_app(clock=clock), host="127.0.0.1")) as client:
        yield client, clock


# --- B2C, by hand --------------------------------------------------------------------------------


def authorize_params(challenge: str, **changes: str) -> dict[str, str]:
    params = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "response_mode": "query",
        "scope": f"openid offline_access {API_SCOPE}",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st-1",
        "nonce": "n-1",
    }
    params.update(changes)
    return params


async def begin_login(session: aiohttp.ClientSession, base: URL, **changes: str) -> dict[str, str]:
    verifier, challenge = pkce_pair()
    async with session.get(
        base.join(URL(f"{AUTH}/oauth2/v2.0/authorize")),
        params=authorize_params(challenge, **changes),
        allow_redirects=False,
    ) as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "text/html"
        page = await response.text()
    csrf, tx = parse_b2c_settings(page)
    assert 'id="email"' in page.replace("'", '"')
    return {"csrf": csrf, "tx": tx, "verifier": verifier}


async def self_assert(
    session: aiohttp.ClientSession, base: URL, login: dict[str, str], password: str = PASSWORD
) -> tuple[int, Any]:
    async with session.post(
        base.join(URL(f"{AUTH}/SelfAsserted")),
        params={"tx": login["tx"], "p": "B2C_1_sisu"},
        headers={"X-CSRF-TOKEN": login["csrf"], "X-Requested-With": "XMLHttpRequest"},
        data={"request_type": "RESPONSE", "email": USER.upper(), "password": password},
    ) as response:
        return response.status, await response.json()


async def confirm(session: aiohttp.ClientSession, base: URL, login: dict[str, str]) -> URL:
    async with session.get(
        base.join(URL(f"{AUTH}/api/CombinedSigninAndSignup/confirmed")),
        params={
            "rememberMe": "false",
            "csrf_token": login["csrf"],
            "tx": login["tx"],
            "p": "B2C_1_sisu",
        },
        allow_redirects=False,
    ) as response:
        assert response.status == 302
        return URL(response.headers["Location"])


async def token(client: Client, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = await client.post(f"{AUTH.lower()}/oauth2/v2.0/token", data=form)
    body: dict[str, Any] = await response.json()
    return response.status, body


async def redeem(client: Client, code: str, verifier: str) -> tuple[int, dict[str, Any]]:
    return await token(
        client,
        {
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )


@pytest.fixture
async def jar_session(client: Client) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def test_authorize_page_settings_and_cookies(client: Client) -> None:
    _, challenge = pkce_pair()
    response = await client.get(
        f"{AUTH}/oauth2/v2.0/authorize", params=authorize_params(challenge), allow_redirects=False
    )
    assert response.status == 200
    page = await response.text()
    settings = json.loads(re.search(r"var SETTINGS = (\{.*\});", page).group(1))  # type: ignore[union-attr]
    assert settings["api"] == "CombinedSigninAndSignup"
    assert settings["transId"].startswith("StateProperties=")
    assert settings["hosts"]["policy"] == "B2C_1_sisu"
    cookies = response.cookies
    assert cookies["x-ms-cpim-csrf"].value == settings["csrf"]
    assert "x-ms-cpim-trans" in cookies
    assert any(name.startswith("x-ms-cpim-cache|") for name in cookies)


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"client_id": "someone-else"}, 400, "AADB2C90018"),
        ({"redirect_uri": "https://evil.example/"}, 400, "AADB2C90006"),
        ({"scope": "openid offline_access"}, 302, "AADB2C90117"),
        ({"code_challenge_method": "plain"}, 302, "AADB2C99059"),
        ({"response_type": "token"}, 302, "AADB2C90055"),
        ({"response_mode": "form_post"}, 302, "AADB2C90079"),
    ],
)
async def test_authorize_refusals(
    client: Client, changes: dict[str, str], status: int, error: str
) -> None:
    response = await client.get(
        f"{AUTH}/oauth2/v2.0/authorize",
        params=authorize_params("challenge", **changes),
        allow_redirects=False,
    )
    assert response.status == status
    text = response.headers.get("Location", "") if status == 302 else await response.text()
    assert error in URL(text).query.get("error_description", text) or error in text
    assert (
        await client.get(f"{PREFIX}{AUTHORITY_PATH}/B2C_1_other/oauth2/v2.0/authorize")
    ).status == 404


async def test_full_login_by_hand(client: Client, jar_session: aiohttp.ClientSession) -> None:
    """Cookies, CSRF, SelfAsserted JSON, the 302 with a code, PKCE, single-use codes."""
    base = client.make_url("/")
    login = await begin_login(jar_session, base, response_mode="fragment")
    # without the cookies the transaction is refused
    status, body = await self_assert(client.session, base, login)
    assert (status, body["status"]) == (400, "400")
    # a wrong CSRF header is refused too
    status, body = await self_assert(jar_session, base, login | {"csrf": "forged"})
    assert status == 400
    # wrong password: HTTP 200, status "400" in the JSON
    status, body = await self_assert(jar_session, base, login, password="wrong")
    assert (status, body["status"], body["errorCode"]) == (200, "400", "AADB2C90054")
    status, body = await self_assert(jar_session, base, login)
    assert (status, body) == (200, {"status": "200"})

    location = await confirm(jar_session, base, login)
    assert str(location).startswith(REDIRECT + "#")
    params = URL(f"/?{location.fragment}").query
    assert params["state"] == "st-1"
    code = params["code"]

    status, body = await redeem(client, code, "not-the-verifier")
    assert (status, body["error"]) == (400, "invalid_grant")
    assert body["error_description"].startswith("AADB2C90183")
    status, body = await redeem(client, code, login["verifier"])
    assert status == 200, body
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 86400
    claims = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    assert (claims["aud"], claims["azp"], claims["tfp"], claims["scp"], claims["ver"]) == (
        CLIENT_ID,
        CLIENT_ID,
        "B2C_1_sisu",
        "user_impersonation",
        "1.0",
    )
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["emails"] == [USER]
    status, body = await redeem(client, code, login["verifier"])  # codes are single-use
    assert (status, body["error"]) == (400, "invalid_grant")
    # the transaction is over: confirming again is refused
    response = await jar_session.get(
        base.join(URL(f"{AUTH}/api/CombinedSigninAndSignup/confirmed")),
        params={"csrf_token": login["csrf"], "tx": login["tx"], "p": "B2C_1_sisu"},
        allow_redirects=False,
    )
    assert response.status == 400


async def test_confirm_without_signing_in_is_denied(
    client: Client, jar_session: aiohttp.ClientSession
) -> None:
    base = client.make_url("/")
    login = await begin_login(jar_session, base)
    location = await confirm(jar_session, base, login)
    assert location.query["error"] == "access_denied"
    assert location.query["state"] == "st-1"


async def test_refresh_tokens_rotate_expire_and_can_be_revoked(
    client: Client,
    jar_session: aiohttp.ClientSession,
    clock: ManualClock,
    sandbox_app: web.Application,
) -> None:
    base = client.make_url("/")
    login = await begin_login(jar_session, base)
    await self_assert(jar_session, base, login)
    code = (await confirm(jar_session, base, login)).query["code"]
    _, tokens = await redeem(client, code, login["verifier"])
    first = tokens["refresh_token"]

    clock.advance(timedelta(hours=20))
    status, body = await token(client, {"grant_type": "refresh_token", "refresh_token": first})
    assert status == 200  # no client_id needed, as XOLTA's public client does it
    second = body["refresh_token"]
    assert second != first
    assert body["refresh_token_expires_in"] == 4 * 3600  # the session's fixed end, not renewed

    clock.advance(timedelta(hours=4))
    status, body = await token(client, {"grant_type": "refresh_token", "refresh_token": second})
    assert (status, body["error"]) == (400, "invalid_grant")
    assert body["error_description"].startswith("AADB2C90080")

    # a new login; then its tokens are revoked
    login = await begin_login(jar_session, base)
    await self_assert(jar_session, base, login)
    _, tokens = await redeem(
        client, (await confirm(jar_session, base, login)).query["code"], login["verifier"]
    )
    assert sandbox_of(sandbox_app).revoke_refresh_tokens(USER) == 1
    status, body = await token(
        client, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert body["error_description"].startswith("AADB2C90129")
    status, body = await token(client, {"grant_type": "refresh_token", "refresh_token": "made-up"})
    assert body["error"] == "invalid_grant"
    status, body = await token(client, {"grant_type": "password"})
    assert body["error"] == "unsupported_grant_type"
    status, body = await token(client, {"grant_type": "refresh_token", "client_id": "other"})
    assert body["error"] == "invalid_client"


# --- the App API ---------------------------------------------------------------------------


async def access_token(client: Client, clock: ManualClock) -> str:
    tokens = await xolta_client(client, clock).authenticate()
    return tokens.access_token


async def test_data_api_needs_a_valid_token(client: Client, clock: ManualClock) -> None:
    assert (await client.get(f"{API}/SiteGroup")).status == 401
    bad = {"Authorization": "Bearer abc.def.ghi"}
    assert (await client.get(f"{API}/SiteGroup", headers=bad)).status == 401
    bearer = {"Authorization": f"Bearer {await access_token(client, clock)}"}
    response = await client.get(f"{API}/SiteGroup", headers=bearer)
    assert await response.json() == {"sites": [{"siteId": SITE, "name": "Sandbox house"}]}
    clock.advance(timedelta(hours=1))  # the access token has expired
    response = await client.get(f"{API}/SiteGroup", headers=bearer)
    assert response.status == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]


async def test_data_api_validation(client: Client, clock: ManualClock) -> None:
    bearer = {"Authorization": f"Bearer {await access_token(client, clock)}"}

    async def summary(**params: str) -> tuple[int, Any]:
        query = {
            "siteId": SITE,
            "fromDateTime": "2026-11-23T00:00:00Z",
            "toDateTime": "2026-11-23T01:00:00Z",
            "resolutionMin": "10",
        } | params
        response = await client.get(f"{API}/GetDataSummary", params=query, headers=bearer)
        return response.status, await response.json()

    assert (await summary())[0] == 200
    assert (await summary(fromDateTime="2026-11-23"))[0] == 200  # a bare date is accepted
    assert (await summary(fromDateTime="2026-11-23T00:00:00+00:00Z"))[0] == 400  # the quirk
    assert (await summary(fromDateTime="2026-11-23T00:00:00.5Z"))[0] == 400
    assert (await summary(toDateTime="later"))[0] == 400
    assert (await summary(resolutionMin="7"))[0] == 400
    assert (await summary(resolutionMin="ten"))[0] == 400
    assert (await summary(toDateTime="2026-11-22T00:00:00Z"))[0] == 400
    status, body = await summary(
        fromDateTime="2026-10-01T00:00:00Z", toDateTime="2026-11-02T00:00:00Z"
    )
    assert status == 400
    assert body["status"] == 400
    assert (await summary(siteId="sandbox-cottage"))[0] == 404  # not this user's
    assert (await client.get(f"{API}/siteStatus", headers=bearer)).status == 400


async def test_empty_summaries_fault(
    client: Client, clock: ManualClock, sandbox_app: web.Application
) -> None:
    """`empty_summaries`: every summary answers an empty list (still validated), the status
    stays live; cleared, the same range answers every bucket again."""
    bearer = {"Authorization": f"Bearer {await access_token(client, clock)}"}
    end = clock().replace(minute=0, second=0, microsecond=0)
    query = {
        "siteId": SITE,
        "fromDateTime": (end - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "toDateTime": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resolutionMin": "10",
    }
    sandbox_of(sandbox_app).empty_summaries = True
    response = await client.get(f"{API}/GetDataSummary", params=query, headers=bearer)
    assert (response.status, await response.json()) == (200, {"telemetry": []})
    bad = query | {"resolutionMin": "7"}
    assert (await client.get(f"{API}/GetDataSummary", params=bad, headers=bearer)).status == 400
    status = await client.get(f"{API}/siteStatus", params={"siteId": SITE}, headers=bearer)
    assert (await status.json())["data"][0]["state"] in {"Running", "Offline"}
    sandbox_of(sandbox_app).empty_summaries = False
    response = await client.get(f"{API}/GetDataSummary", params=query, headers=bearer)
    assert len((await response.json())["telemetry"]) == 6


async def test_client_end_to_end(
    client: Client, clock: ManualClock, sandbox_app: web.Application
) -> None:
    """The real client against the emulation: login, sites, status, history, renewals."""
    xolta = xolta_client(client, clock, username=USER.title())
    assert [site.site_id for site in await xolta.sites()] == [SITE]
    assert len(client.session.cookie_jar) == 0  # the B2C cookies stayed in the login's own jar
    status = await xolta.site_status(SITE)
    assert status is not None
    assert status.running
    truth = minute_power(SITE, clock() - timedelta(minutes=1))
    assert status.battery_power_w == truth.battery_w
    assert status.grid_power_w == truth.grid_w
    assert status.measured_at == truth.start + timedelta(minutes=1)
    midnight = clock().replace(hour=0, minute=0)
    buckets = await xolta.interval_summaries(SITE, midnight, clock())
    assert len(buckets) == 109  # 00:10 ... 18:10, complete buckets only
    assert (xolta.login_count, xolta.request_count) == (1, 7)

    state = sandbox_of(sandbox_app)
    clock.advance(timedelta(minutes=56))  # inside the renewal margin: refresh first
    await xolta.sites()
    assert (xolta.login_count, xolta.refresh_count, state.refreshes) == (1, 1, 1)
    clock.advance(timedelta(hours=25))  # the login's refresh tokens are over: log in again
    await xolta.sites()
    assert (xolta.login_count, state.logins) == (2, 2)

    # wrong credentials, and a revoked session whose password changed meanwhile
    with pytest.raises(ApiAuthError):
        await xolta_client(client, clock, password="wrong").login()
    state.revoke_refresh_tokens()
    state.set_password(USER, "changed")
    clock.advance(timedelta(hours=1))
    with pytest.raises(ApiAuthError):
        await xolta.sites()
    with pytest.raises(ApiAuthError):
        await xolta_client(client, clock, username="nobody@example.com").login()


async def test_client_with_pasted_refresh_token(client: Client, clock: ManualClock) -> None:
    first = xolta_client(client, clock)
    tokens = await first.authenticate()
    pasted = xolta_client(
        client, clock, username=None, password=None, refresh_token=tokens.refresh_token
    )
    assert [site.site_id for site in await pasted.sites()] == [SITE]
    assert (pasted.login_count, pasted.refresh_count) == (0, 1)
    with pytest.raises(ApiNotFoundError):
        await pasted.site_status("sandbox-cottage")


async def test_client_sees_faults(client: Client, clock: ManualClock) -> None:
    xolta = xolta_client(client, clock)
    await client.put("/_admin/faults/xolta", json={"fault": "bad_auth"})
    with pytest.raises(ApiAuthError):
        await xolta.sites()
    await client.put("/_admin/faults/xolta", json={"fault": "http_500"})
    with pytest.raises(ApiConnectionError):
        await xolta.sites()
    await client.put("/_admin/faults/xolta", json={"fault": "malformed_json"})
    with pytest.raises(ApiResponseError):
        await xolta.sites()
    await client.delete("/_admin/faults/xolta")
    assert len(await xolta.sites()) == 1


# --- the house -----------------------------------------------------------------------------


async def test_buckets_balance_and_add_up_to_the_ground_truth(
    summer: tuple[Client, ManualClock],
) -> None:
    """Every bucket: grid = load - pv - battery. Their energies add up to the ground truth."""
    client, clock = summer
    xolta = xolta_client(client, clock)
    day = datetime(2026, 6, 22, tzinfo=UTC)
    for resolution in (1, 10, 15, 60):
        buckets = await xolta.interval_summaries(SITE, day, day + timedelta(days=1), resolution)
        assert len(buckets) == 1440 // resolution
        for bucket in buckets:
            if bucket.load_power_w is None:
                continue
            assert bucket.grid_power_w is not None
            assert bucket.pv_power_w is not None
            assert bucket.battery_power_w is not None
            balance = bucket.load_power_w - bucket.pv_power_w - bucket.battery_power_w
            assert bucket.grid_power_w == pytest.approx(balance, abs=0.002)
    buckets = await xolta.interval_summaries(SITE, day, day + timedelta(days=1), 10)
    truth = interval_energy(SITE, day, day + timedelta(days=1), online_only=True)
    assert sum(b.pv_kwh or 0 for b in buckets) == pytest.approx(truth.pv_kwh, abs=1e-6)
    assert sum(b.load_kwh or 0 for b in buckets) == pytest.approx(truth.load_kwh, abs=1e-6)
    net_grid = sum((b.grid_import_kwh or 0) - (b.grid_export_kwh or 0) for b in buckets)
    assert net_grid == pytest.approx(truth.grid_net_kwh, abs=1e-6)
    net_battery = sum((b.battery_discharge_kwh or 0) - (b.battery_charge_kwh or 0) for b in buckets)
    assert net_battery == pytest.approx(truth.battery_net_kwh, abs=1e-6)
    # per 10 minutes the import/export split is close to the per-minute truth
    imported = sum(b.grid_import_kwh or 0 for b in buckets)
    assert truth.grid_import_kwh - 0.1 < imported <= truth.grid_import_kwh + 1e-9
    # a sunny June day: the PV covers the house and more
    assert 15 < truth.pv_kwh < 40
    assert truth.grid_export_kwh > 3
    assert 4 < truth.battery_charge_kwh < 12


def test_energy_balance_state_of_charge_and_limits() -> None:
    """Minute by minute: exact balance, the battery's energy bookkeeping and its limits."""
    for first in (date(2026, 1, 10), date(2026, 3, 28), date(2026, 6, 20), date(2026, 10, 24)):
        for site in ("sandbox-house", "sandbox-cottage"):
            start = datetime(first.year, first.month, first.day, tzinfo=UTC)
            stored = soc_percent(site, start) / 100 * BATTERY_CAPACITY_KWH
            for minute in range(2 * 1440):
                power = minute_power(site, start + timedelta(minutes=minute))
                assert power.grid_w == power.load_w - power.pv_w - power.battery_w
                assert power.pv_w >= 0
                assert power.load_w > 0
                assert abs(power.battery_w) <= 5000
                stored -= power.battery_w / 60_000
                assert power.soc_percent == pytest.approx(stored / BATTERY_CAPACITY_KWH * 100)
                assert 5 - 1e-9 <= power.soc_percent <= 100 + 1e-9
            whole = interval_energy(site, start, start + timedelta(days=2))
            end_kwh = soc_percent(site, start + timedelta(days=2)) / 100 * BATTERY_CAPACITY_KWH
            start_kwh = soc_percent(site, start) / 100 * BATTERY_CAPACITY_KWH
            assert start_kwh - end_kwh == pytest.approx(whole.battery_net_kwh)
            assert whole.grid_net_kwh == pytest.approx(
                whole.load_kwh - whole.pv_kwh - whole.battery_net_kwh
            )


def test_partial_minutes_and_night() -> None:
    start = datetime(2026, 6, 21, 12, 0, 30, tzinfo=UTC)
    half = interval_energy(SITE, start, start + timedelta(seconds=30))
    whole = minute_power(SITE, start)
    assert half.pv_kwh == pytest.approx(whole.pv_w / 120_000)
    assert soc_percent(SITE, start) == pytest.approx(whole.soc_percent + whole.battery_w / 2 / 6000)
    assert minute_power(SITE, datetime(2026, 6, 21, 23, 0, tzinfo=UTC)).pv_w == 0
    assert minute_power(SITE, datetime(2026, 12, 21, 16, 0, tzinfo=UTC)).pv_w == 0
    with pytest.raises(KeyError):
        minute_power("nowhere", start)


async def test_outages_are_null_buckets(summer: tuple[Client, ManualClock]) -> None:
    client, clock = summer
    day = next(
        date(2026, 6, 1) + timedelta(days=n)
        for n in range(30)
        if offline_windows(SITE, date(2026, 6, 1) + timedelta(days=n))
    )
    [(down, up)] = offline_windows(SITE, day)
    assert down.minute in (0, 30)
    assert (up - down) in (timedelta(minutes=30), timedelta(minutes=60))
    xolta = xolta_client(client, clock, status_min_interval=0)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    buckets = await xolta.interval_summaries(SITE, midnight, midnight + timedelta(days=1))
    empty = [b for b in buckets if b.pv_power_w is None]
    assert [(b.start, b.end) for b in empty] == [
        (down + timedelta(minutes=10 * i), down + timedelta(minutes=10 * (i + 1)))
        for i in range((up - down) // timedelta(minutes=10))
    ]
    assert all(b.soc_percent is None and b.load_kwh is None for b in empty)
    full = interval_energy(SITE, midnight, midnight + timedelta(days=1))
    seen = interval_energy(SITE, midnight, midnight + timedelta(days=1), online_only=True)
    assert full.load_kwh > seen.load_kwh  # the house ran on while the cloud saw nothing
    clock.set(down + timedelta(minutes=5))
    status = await xolta.site_status(SITE)
    assert status is not None
    assert (status.state, status.running, status.battery_power_w) == ("Offline", False, None)


async def test_same_clock_gives_byte_identical_data() -> None:
    bodies = []
    for _ in range(2):
        clock = ManualClock(SUMMER)
        async with TestClient(TestServer(create_app(clock=clock), host="127.0.0.1")) as client:
            xolta = xolta_client(client, clock)
            token_ = (await xolta.authenticate()).access_token
            headers = {"Authorization": f"Bearer {token_}"}
            day = {
                "siteId": SITE,
                "fromDateTime": "2026-06-22T00:00:00Z",
                "toDateTime": "2026-06-23T00:00:00Z",
                "resolutionMin": "10",
                "CalculateConsumptionNeeded": "true",
            }
            summary = await client.get(f"{API}/GetDataSummary", params=day, headers=headers)
            status = await client.get(f"{API}/siteStatus", params={"siteId": SITE}, headers=headers)
            bodies.append((await summary.read(), await status.read()))
    assert bodies[0] == bodies[1]
    telemetry = json.loads(bodies[0][0])["telemetry"]
    assert list(telemetry[0]) == [
        "utcEndTime",
        "meterPvActivePowerAggAvgSiteSingle",
        "meterGridActivePowerAggAvgSiteSingle",
        "inverterActivePowerAggAvgSiteSum",
        "bmsSocRawArrayCloudTrimmedAggAvgSiteAvg",
        "calculatedConsumption",
    ]
    assert hashlib.sha256(bodies[0][0]).hexdigest() == hashlib.sha256(bodies[1][0]).hexdigest()
