"""The XOLTA client at the HTTP level: the B2C login, token renewal, data parsing."""

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import hashlib
import json
import re
from typing import Any

import aiohttp
from aioresponses import CallbackResult, aioresponses
import pytest
from yarl import URL

from custom_components.energy_hub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitedError,
    ApiResponseError,
)
from custom_components.energy_hub.api.xolta import (
    DEFAULT_AUTHORITY_URL,
    DEFAULT_B2C,
    DEFAULT_BASE_URL,
    REFRESH_MARGIN,
    XoltaClient,
    XoltaTokens,
    format_time,
    jwt_claims,
    parse_b2c_settings,
    pkce_pair,
)
from tests.conftest import FIXTURES, load_json, url_re

API = DEFAULT_BASE_URL
AUTH = DEFAULT_AUTHORITY_URL
POLICY_URL = f"{AUTH}/B2C_1_sisu"
TOKEN_URL = f"{AUTH}/b2c_1_sisu/oauth2/v2.0/token"
LOGIN_PAGE = (FIXTURES / "xolta/login_page.html").read_text()
PAGE_CSRF = "Y3NyZi10b2tlbi1mcm9tLXRoZS1wYWdl"
PAGE_TX = "StateProperties=eyJUSUQiOiI2YmY4ZjQ1Yy0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAifQ"
T0 = 1_782_216_000.0  # 2026-06-23 12:00 UTC


class FakeClock:
    """Unix time that only moves when told."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def jwt(exp: float) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part({'exp': int(exp), 'scp': 'user_impersonation'})}.sig"


def token_body(clock: FakeClock, number: int, **extra: Any) -> dict[str, Any]:
    return {
        "access_token": jwt(clock.now + 3600) + f"-{number}",
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": f"refresh-{number}",
        "refresh_token_expires_in": 86400,
        **extra,
    }


class B2c:
    """Mocks for one B2C login; records what the client sent."""

    def __init__(
        self,
        mocked: aioresponses,
        clock: FakeClock,
        *,
        verdict: dict[str, Any] | None = None,
        number: int = 1,
        repeat: bool = False,
        self_asserted: dict[str, Any] | None = None,
        confirmed: Callable[..., CallbackResult] | None = None,
    ) -> None:
        self.authorize_query: dict[str, str] = {}
        self.self_asserted: dict[str, Any] = {}
        self.confirmed_query: dict[str, str] = {}
        self.redeem: dict[str, Any] = {}
        self.clock = clock
        self.number = number
        mocked.get(
            url_re(POLICY_URL, r"/oauth2/v2\.0/authorize"), callback=self._authorize, repeat=repeat
        )
        mocked.post(
            url_re(POLICY_URL, r"/SelfAsserted"),
            callback=self._self_asserted,
            repeat=repeat,
            **(self_asserted or {"payload": verdict or {"status": "200"}}),
        )
        mocked.get(
            url_re(POLICY_URL, r"/api/CombinedSigninAndSignup/confirmed"),
            callback=confirmed or self._confirmed,
            repeat=repeat,
        )

    def _authorize(self, url: URL, **kwargs: Any) -> CallbackResult:
        self.authorize_query = dict(url.query)
        return CallbackResult(body=LOGIN_PAGE, content_type="text/html")

    def _self_asserted(self, url: URL, **kwargs: Any) -> None:
        self.self_asserted = {"query": dict(url.query), **kwargs}

    def _confirmed(self, url: URL, **kwargs: Any) -> CallbackResult:
        self.confirmed_query = dict(url.query)
        state = self.authorize_query["state"]
        location = f"https://app.xolta.com/#state={state}&code=the-code-{self.number}"
        return CallbackResult(status=302, headers={"Location": location}, body="")

    def token_callback(self, url: URL, **kwargs: Any) -> CallbackResult:
        self.redeem = dict(kwargs["data"]) | {"headers": kwargs["headers"]}
        return CallbackResult(payload=token_body(self.clock, self.number))


def requests_of(mocked: aioresponses) -> dict[tuple[str, URL], list[Any]]:
    assert mocked.requests is not None
    return mocked.requests


def bearer_of(mocked: aioresponses, path: str) -> list[str]:
    """The Authorization headers sent to a data path, in order."""
    return [
        call.kwargs["headers"]["Authorization"]
        for (method, url), calls in requests_of(mocked).items()
        if method == "GET" and url.path.endswith(path)
        for call in calls
    ]


def make_client(
    session: aiohttp.ClientSession, clock: FakeClock, **kwargs: Any
) -> tuple[XoltaClient, list[XoltaTokens]]:
    seen: list[XoltaTokens] = []
    kwargs.setdefault("username", "user@example.com")
    kwargs.setdefault("password", "secret")
    client = XoltaClient(session, clock=clock, on_tokens=seen.append, **kwargs)
    return client, seen


# --- login -------------------------------------------------------------------------------------


async def test_login_success_then_sites() -> None:
    """The whole B2C dance: authorize page, SelfAsserted, confirmed, code, token, data."""
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client, seen = make_client(session, clock)
        with aioresponses() as mocked:
            b2c = B2c(mocked, clock)
            mocked.post(TOKEN_URL, callback=b2c.token_callback)
            mocked.get(f"{API}/SiteGroup", payload=load_json("xolta/site_group.json"))
            sites = await client.sites()
        assert len(session.cookie_jar) == 0  # nothing landed in the caller's jar

    assert [(site.site_id, site.name) for site in sites] == [
        ("XS-1001", "Home"),
        ("1002", None),
        ("XS-1003", "Cottage"),
    ]
    query = b2c.authorize_query
    assert query["client_id"] == DEFAULT_B2C.client_id
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == DEFAULT_B2C.redirect_uri
    assert query["scope"] == DEFAULT_B2C.scope
    assert query["code_challenge_method"] == "S256"
    # SelfAsserted: the page's CSRF token and transaction, the credentials as a form
    assert b2c.self_asserted["query"] == {"tx": PAGE_TX, "p": "B2C_1_sisu"}
    assert b2c.self_asserted["headers"]["X-CSRF-TOKEN"] == PAGE_CSRF
    assert b2c.self_asserted["headers"]["X-Requested-With"] == "XMLHttpRequest"
    assert b2c.self_asserted["data"] == {
        "request_type": "RESPONSE",
        "email": "user@example.com",
        "password": "secret",
    }
    assert b2c.confirmed_query == {
        "rememberMe": "false",
        "csrf_token": PAGE_CSRF,
        "tx": PAGE_TX,
        "p": "B2C_1_sisu",
    }
    # the code is redeemed with the PKCE verifier that matches the challenge
    redeem = b2c.redeem
    assert redeem["grant_type"] == "authorization_code"
    assert redeem["code"] == "the-code-1"
    assert redeem["redirect_uri"] == DEFAULT_B2C.redirect_uri
    challenge = base64.urlsafe_b64encode(hashlib.sha256(redeem["code_verifier"].encode()).digest())
    assert challenge.rstrip(b"=").decode() == query["code_challenge"]
    assert redeem["headers"]["Origin"] == "https://app.xolta.com"
    # tokens are kept, reported and used
    assert client.login_count == 1
    assert client.refresh_token == "refresh-1"
    assert [tokens.refresh_token for tokens in seen] == ["refresh-1"]
    assert seen[0].access_expires == clock.now + 3600
    assert seen[0].refresh_expires == clock.now + 86400
    assert bearer_of(mocked, "/SiteGroup") == [f"Bearer {seen[0].access_token}"]
    assert client.request_count == 5


async def test_wrong_password_is_an_auth_error() -> None:
    """SelfAsserted says status "400" (with HTTP 200): wrong credentials, nothing further."""
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client, seen = make_client(session, clock, password="wrong")
        with aioresponses() as mocked:
            verdict = {"status": "400", "errorCode": "AADB2C90054", "message": "Wrong password"}
            B2c(mocked, clock, verdict=verdict, repeat=True)
            with pytest.raises(ApiAuthError):
                await client.login()
            with pytest.raises(ApiAuthError):
                await client.authenticate()
    assert seen == []
    assert client.request_count == 4  # authorize + SelfAsserted, twice


async def test_self_asserted_success_without_json_body() -> None:
    """On success B2C may answer SelfAsserted with an empty or non-JSON body."""
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client, _ = make_client(session, clock)
        with aioresponses() as mocked:
            plain = {"body": "OK", "content_type": "text/html"}
            b2c = B2c(mocked, clock, self_asserted=plain)
            mocked.post(TOKEN_URL, callback=b2c.token_callback)
            tokens = await client.login()
    assert tokens.refresh_token == "refresh-1"


@pytest.mark.parametrize(
    ("location", "error"),
    [
        (None, ApiResponseError),  # an extra step (MFA, terms) instead of a redirect
        ("https://app.xolta.com/#error=access_denied&error_description=no", ApiAuthError),
        ("https://app.xolta.com/?error=server_error&error_description=AADB2C1", ApiResponseError),
        ("https://app.xolta.com/#code=abc&state=someone-else", ApiResponseError),
        ("https://app.xolta.com/#state=STATE", ApiResponseError),
    ],
)
async def test_confirmed_failures(location: str | None, error: type[Exception]) -> None:
    """Whatever the confirmed step answers instead of a code is an error, never a crash."""
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client, _ = make_client(session, clock)
        with aioresponses() as mocked:

            def confirmed(url: URL, **kwargs: Any) -> CallbackResult:
                if location is None:
                    return CallbackResult(body="<html>verify</html>", content_type="text/html")
                text = location.replace("STATE", b2c.authorize_query["state"])
                return CallbackResult(status=302, headers={"Location": text})

            b2c = B2c(mocked, clock, confirmed=confirmed)
            with pytest.raises(error):
                await client.login()


async def test_authorize_refused() -> None:
    """A redirect with an error (wrong scope) or an error page: a clear ApiResponseError."""
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client, _ = make_client(session, clock)
        with aioresponses() as mocked:
            authorize = url_re(POLICY_URL, r"/oauth2/v2\.0/authorize")
            mocked.get(
                authorize,
                status=302,
                headers={
                    "Location": "https://app.xolta.com/#error=invalid_request&"
                    "error_description=AADB2C90117%3A+The+scope+is+not+supported"
                },
            )
            mocked.get(
                authorize, status=400, body="<p>AADB2C90006: redirect</p>", content_type="text/html"
            )
            mocked.get(authorize, body="<html>no settings</html>", content_type="text/html")
            mocked.get(authorize, status=503, body="<html>down</html>", content_type="text/html")
            with pytest.raises(ApiResponseError, match="AADB2C90117"):
                await client.login()
            with pytest.raises(ApiResponseError, match="AADB2C90006"):
                await client.login()
            with pytest.raises(ApiResponseError, match="SETTINGS"):
                await client.login()
            with pytest.raises(ApiConnectionError):
                await client.login()


async def test_no_password_and_no_refresh_token() -> None:
    async with aiohttp.ClientSession() as session:
        client = XoltaClient(session)
        with pytest.raises(ApiAuthError):
            await client.authenticate()


# --- token renewal -----------------------------------------------------------------------------


async def logged_in(
    session: aiohttp.ClientSession, mocked: aioresponses, clock: FakeClock, **kwargs: Any
) -> tuple[XoltaClient, list[XoltaTokens]]:
    client, seen = make_client(session, clock, **kwargs)
    b2c = B2c(mocked, clock)
    mocked.post(TOKEN_URL, callback=b2c.token_callback)
    await client.login()
    return client, seen


def refresh_recorder(
    clock: FakeClock, sent: list[dict[str, Any]], number: int
) -> Callable[..., CallbackResult]:
    def callback(url: URL, **kwargs: Any) -> CallbackResult:
        sent.append(dict(kwargs["data"]))
        return CallbackResult(payload=token_body(clock, number))

    return callback


async def test_access_token_renewed_before_it_expires() -> None:
    """Within REFRESH_MARGIN of expiry the refresh token is used first; the rotated one kept."""
    clock = FakeClock()
    sent: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session:
        with aioresponses() as mocked:
            client, seen = await logged_in(session, mocked, clock)
            mocked.get(f"{API}/SiteGroup", payload={"sites": []}, repeat=True)
            mocked.post(TOKEN_URL, callback=refresh_recorder(clock, sent, 2))

            clock.now += 3600 - REFRESH_MARGIN - 1  # still fresh enough
            await client.sites()
            assert sent == []
            clock.now += 2  # inside the margin
            await client.sites()
    assert sent == [
        {
            "grant_type": "refresh_token",
            "refresh_token": "refresh-1",
            "client_id": DEFAULT_B2C.client_id,
            "scope": DEFAULT_B2C.scope,
        }
    ]
    assert client.refresh_token == "refresh-2"
    assert [tokens.refresh_token for tokens in seen] == ["refresh-1", "refresh-2"]
    assert bearer_of(mocked, "/SiteGroup") == [
        f"Bearer {seen[0].access_token}",
        f"Bearer {seen[1].access_token}",
    ]
    assert (client.login_count, client.refresh_count) == (1, 1)


async def test_access_expiry_from_the_jwt_when_expires_in_is_missing() -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client = XoltaClient(session, refresh_token="pasted", clock=clock)
        with aioresponses() as mocked:
            body = token_body(clock, 2)
            del body["expires_in"], body["refresh_token_expires_in"]
            body["access_token"] = jwt(clock.now + 1200)
            mocked.post(TOKEN_URL, payload=body)
            tokens = await client.authenticate()
    assert tokens.access_expires == clock.now + 1200
    assert tokens.refresh_expires is None
    assert jwt_claims(tokens.access_token)["scp"] == "user_impersonation"


async def test_pasted_refresh_token_is_used_without_a_password() -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client = XoltaClient(session, refresh_token="pasted", clock=clock)
        with aioresponses() as mocked:
            mocked.post(TOKEN_URL, payload=token_body(clock, 7))
            mocked.get(f"{API}/SiteGroup", payload={"sites": [{"siteId": "A"}]})
            sites = await client.sites()
    assert sites[0].site_id == "A"
    assert client.refresh_token == "refresh-7"
    assert (client.login_count, client.refresh_count) == (0, 1)


async def test_expired_refresh_token_logs_in_again_silently() -> None:
    """invalid_grant / AADB2C90080 from the token endpoint: a full login, then the data."""
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client, seen = make_client(session, clock, refresh_token="stale")
        with aioresponses() as mocked:
            mocked.post(TOKEN_URL, status=400, payload=load_json("xolta/token_error_expired.json"))
            b2c = B2c(mocked, clock, number=3)
            mocked.post(TOKEN_URL, callback=b2c.token_callback)
            mocked.get(f"{API}/SiteGroup", payload={"sites": []})
            assert await client.sites() == []
    assert (client.refresh_count, client.login_count) == (1, 1)
    assert client.refresh_token == "refresh-3"
    assert [tokens.refresh_token for tokens in seen] == ["refresh-3"]


async def test_refresh_token_known_to_be_expired_is_not_even_tried() -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        with aioresponses() as mocked:
            client, _ = await logged_in(session, mocked, clock)
            clock.now += 86400 + 1  # the refresh token's own lifetime is over
            b2c = B2c(mocked, clock, number=2)
            mocked.post(TOKEN_URL, callback=b2c.token_callback)
            await client.authenticate()
    assert (client.refresh_count, client.login_count) == (0, 2)


async def test_revoked_refresh_token_without_password_is_an_auth_error() -> None:
    """AADB2C90129 (revoked) with only a pasted refresh token: the user must act."""
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client = XoltaClient(session, refresh_token="revoked", clock=clock)
        with aioresponses() as mocked:
            mocked.post(TOKEN_URL, status=400, payload=load_json("xolta/token_error_revoked.json"))
            with pytest.raises(ApiAuthError):
                await client.sites()
    assert client.refresh_token is None


async def test_revoked_and_password_changed_is_an_auth_error() -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client, _ = make_client(session, clock, refresh_token="revoked")
        with aioresponses() as mocked:
            mocked.post(TOKEN_URL, status=400, payload=load_json("xolta/token_error_revoked.json"))
            B2c(mocked, clock, verdict={"status": "400", "message": "Your password is incorrect"})
            with pytest.raises(ApiAuthError):
                await client.site_status("XS-1001")


async def test_data_401_renews_once_then_gives_up() -> None:
    """A 401 from the data API renews the token and retries once; a second 401 is final."""
    clock = FakeClock()
    sent: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session:
        with aioresponses() as mocked:
            client, seen = await logged_in(session, mocked, clock)
            mocked.get(f"{API}/SiteGroup", status=401, payload={"title": "Unauthorized"})
            mocked.post(TOKEN_URL, callback=refresh_recorder(clock, sent, 2))
            mocked.get(f"{API}/SiteGroup", payload={"sites": []})
            assert await client.sites() == []
            assert len(sent) == 1

            mocked.get(f"{API}/SiteGroup", status=401, payload={}, repeat=True)
            mocked.post(TOKEN_URL, callback=refresh_recorder(clock, sent, 3))
            with pytest.raises(ApiAuthError):
                await client.sites()
    assert len(sent) == 2
    assert [tokens.refresh_token for tokens in seen] == ["refresh-1", "refresh-2", "refresh-3"]


async def test_token_endpoint_misconfiguration_and_outage() -> None:
    """Other 400s are a configuration problem; 5xx and 429 map like any request."""
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client = XoltaClient(session, refresh_token="rt", clock=clock)
        with aioresponses() as mocked:
            mocked.post(
                TOKEN_URL,
                status=400,
                payload={"error": "invalid_request", "error_description": "AADB2C90117: scope"},
            )
            mocked.post(TOKEN_URL, status=503, body="<html>down</html>", content_type="text/html")
            mocked.post(TOKEN_URL, status=429, headers={"Retry-After": "30"}, payload={})
            mocked.post(TOKEN_URL, body="not json", content_type="text/plain")
            mocked.post(TOKEN_URL, payload={"token_type": "Bearer"})
            with pytest.raises(ApiResponseError, match="AADB2C90117"):
                await client.authenticate()
            with pytest.raises(ApiConnectionError):
                await client.authenticate()
            with pytest.raises(ApiRateLimitedError) as limited:
                await client.authenticate()
            with pytest.raises(ApiResponseError):
                await client.authenticate()
            with pytest.raises(ApiResponseError, match="no access token"):
                await client.authenticate()
    assert limited.value.retry_after == 30


async def test_connection_errors_during_login() -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        client, _ = make_client(session, clock)
        with aioresponses() as mocked:
            authorize = url_re(POLICY_URL, r"/oauth2/v2\.0/authorize")
            mocked.get(authorize, exception=aiohttp.ClientConnectionError("refused"))
            mocked.get(authorize, exception=TimeoutError())
            with pytest.raises(ApiConnectionError):
                await client.login()
            with pytest.raises(ApiConnectionError):
                await client.login()


# --- data --------------------------------------------------------------------------------------


async def test_site_status_and_fair_use_cache() -> None:
    """kW become W with the same signs; a second call within a minute makes no request."""
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        with aioresponses() as mocked:
            client, _ = await logged_in(session, mocked, clock)
            status_url = re.compile(re.escape(f"{API}/siteStatus") + r"\?siteId=XS-1001$")
            mocked.get(status_url, payload=load_json("xolta/site_status.json"))
            mocked.get(status_url, payload={"data": []})
            first = await client.site_status("XS-1001")
            clock.now += 59
            assert await client.site_status("XS-1001") is first
            clock.now += 1
            assert await client.site_status("XS-1001") is None
    assert first is not None
    assert first.running
    assert first.soc_percent == 57.4
    assert first.battery_power_w == -1678.0  # charging
    assert first.pv_power_w == 2144.0
    assert first.grid_power_w == -91.0  # exporting
    assert first.load_power_w == 375.0
    assert first.measured_at == datetime(2026, 6, 23, 12, 17, tzinfo=UTC)
    assert client.request_count == 4 + 2  # the login, then two status requests


async def test_site_status_odd_values() -> None:
    """Nulls, strings and missing fields are "no value", never 0; negative PV is clamped."""
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        with aioresponses() as mocked:
            client, _ = await logged_in(session, mocked, clock, status_min_interval=0)
            status_url = url_re(API, r"/siteStatus")
            mocked.get(status_url, payload=load_json("xolta/site_status_odd.json"))
            mocked.get(status_url, payload={"data": {"state": None, "consumption": 1}})
            mocked.get(status_url, payload={"data": "nope"})
            odd = await client.site_status("XS-1001")
            single = await client.site_status("XS-1001")
            with pytest.raises(ApiResponseError):
                await client.site_status("XS-1001")
    assert odd is not None
    assert not odd.running
    assert odd.state == "Idling"
    assert odd.soc_percent == 61.5
    assert odd.battery_power_w is None
    assert odd.pv_power_w == 0.0
    assert odd.grid_power_w is None
    assert odd.load_power_w is None
    assert odd.measured_at is None
    assert single is not None
    assert (single.state, single.load_power_w, single.running) == (None, 1000.0, False)


async def test_interval_summaries() -> None:
    """Buckets parse to W and kWh, sorted, odd ones kept with None, unplaceable ones dropped."""
    clock = FakeClock()
    start = datetime(2026, 6, 23, tzinfo=UTC)
    async with aiohttp.ClientSession() as session:
        with aioresponses() as mocked:
            client, _ = await logged_in(session, mocked, clock)
            mocked.get(
                url_re(API, r"/GetDataSummary"), payload=load_json("xolta/data_summary.json")
            )
            buckets = await client.interval_summaries("XS-1001", start, start + timedelta(hours=1))
    (key, calls), *_ = (
        (k, v) for k, v in requests_of(mocked).items() if "GetDataSummary" in str(k)
    )
    assert dict(key[1].query) == {
        "siteId": "XS-1001",
        "CalculateConsumptionNeeded": "true",
        "fromDateTime": "2026-06-23T00:00:00Z",
        "toDateTime": "2026-06-23T01:00:00Z",
        "resolutionMin": "10",
    }
    assert len(calls) == 1
    assert [bucket.end.strftime("%H:%M") for bucket in buckets] == [
        "00:10",
        "00:20",
        "00:30",
        "00:40",
    ]
    first, second, empty, odd = buckets
    assert first.start == start
    assert (first.grid_import_kwh, first.grid_export_kwh) == (0.1, 0.0)
    assert (first.battery_charge_kwh, first.battery_discharge_kwh) == (0.05, 0.0)
    assert first.pv_kwh == 0.0
    assert first.load_kwh == 0.05
    assert (second.grid_import_kwh, second.grid_export_kwh) == (0.0, 0.2)
    assert second.battery_discharge_kwh == pytest.approx(1 / 6)
    assert second.soc_percent == 40.25
    for value in (
        empty.pv_power_w,
        empty.grid_power_w,
        empty.battery_power_w,
        empty.load_power_w,
        empty.soc_percent,
        empty.pv_kwh,
        empty.grid_import_kwh,
        empty.grid_export_kwh,
        empty.battery_charge_kwh,
        empty.battery_discharge_kwh,
        empty.load_kwh,
    ):
        assert value is None
    assert odd.pv_power_w == 250.0
    assert odd.grid_power_w is None  # a boolean is not a number
    assert odd.battery_power_w is None  # missing
    assert odd.soc_percent is None  # "full"


async def test_interval_summaries_long_range_is_split() -> None:
    """More than 31 days: one request per window, times in the format XOLTA accepts."""
    clock = FakeClock()
    start = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    async with aiohttp.ClientSession() as session:
        with aioresponses() as mocked:
            client, _ = await logged_in(session, mocked, clock)
            summary = url_re(API, r"/GetDataSummary")
            mocked.get(summary, payload={"telemetry": None})
            mocked.get(summary, payload={})
            assert await client.interval_summaries("S", start, start + timedelta(days=40), 60) == []
            mocked.get(summary, payload={"telemetry": {"x": 1}})
            with pytest.raises(ApiResponseError):
                await client.interval_summaries("S", start, start + timedelta(days=1))
    windows = [
        (url.query["fromDateTime"], url.query["toDateTime"], url.query["resolutionMin"])
        for (method, url) in requests_of(mocked)
        if url.path.endswith("GetDataSummary")
    ]
    assert windows[:2] == [
        ("2026-01-01T01:00:00Z", "2026-02-01T01:00:00Z", "60"),
        ("2026-02-01T01:00:00Z", "2026-02-10T01:00:00Z", "60"),
    ]
    with pytest.raises(ValueError, match="aware"):
        await client.interval_summaries("S", datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="positive"):
        await client.interval_summaries("S", start, start, 0)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"status": 500, "payload": {"title": "boom"}}, ApiConnectionError),
        (
            {"status": 502, "body": "<html>502</html>", "content_type": "text/html"},
            ApiConnectionError,
        ),
        ({"status": 429, "headers": {"Retry-After": "120"}}, ApiRateLimitedError),
        ({"status": 400, "payload": {"title": "bad time"}}, ApiResponseError),
        ({"status": 200, "body": '{"sites": [{"siteId": '}, ApiResponseError),
        ({"status": 200, "payload": {"sites": "none"}}, ApiResponseError),
        ({"status": 200, "body": ""}, ApiResponseError),
        ({"exception": aiohttp.ClientConnectionError("refused")}, ApiConnectionError),
    ],
)
async def test_data_error_mapping(kwargs: dict[str, Any], error: type[Exception]) -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        with aioresponses() as mocked:
            client, _ = await logged_in(session, mocked, clock)
            mocked.get(f"{API}/SiteGroup", **kwargs)
            with pytest.raises(error):
                await client.sites()


# --- helpers -----------------------------------------------------------------------------------


def test_format_time_is_naive_utc_with_z() -> None:
    moment = datetime(2024, 6, 6, 0, 0, 0, 123456, tzinfo=UTC) + timedelta(hours=-2)
    assert format_time(moment.astimezone()) == "2024-06-05T22:00:00Z"
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2024, 6, 5))


def test_parse_b2c_settings() -> None:
    assert parse_b2c_settings(LOGIN_PAGE) == (PAGE_CSRF, PAGE_TX)
    for page in (
        "<html></html>",
        "<script>var SETTINGS = {broken</script>",
        'var SETTINGS = {"csrf": "x"};',
        "var SETTINGS = [1];",
    ):
        with pytest.raises(ApiResponseError):
            parse_b2c_settings(page)


def test_pkce_and_jwt_helpers() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge == digest.decode()
    assert pkce_pair()[0] != verifier
    assert jwt_claims("not-a-jwt") == {}
    assert jwt_claims("a.!!!.c") == {}
    assert jwt_claims("a.WzFd.c") == {}  # "[1]": not an object
