"""Client for the XOLTA home-battery cloud: the "App" API behind app.xolta.com.

Sign conventions (every Energy Hub client): battery power is positive when the battery
discharges and negative when it charges; grid power is positive when importing and negative
when exporting; PV power is never negative. XOLTA already uses the same signs
(``inverterActivePower*`` < 0 = charging, ``meterGridActivePower*`` < 0 = export), so battery
and grid values pass through unchanged; a negative PV reading (meter standby noise) is clamped
to 0. Powers are converted from XOLTA's kW to W; state of charge stays in %.

Authentication is the Azure AD B2C user flow ``B2C_1_sisu``, done in-process over HTTP
(authorization code + PKCE, no browser):

1. GET ``{authority}/{policy}/oauth2/v2.0/authorize``: an HTML page whose ``var SETTINGS``
   carries ``csrf`` and ``transId``; B2C sets its ``x-ms-cpim-*`` cookies.
2. POST ``{authority}/{policy}/SelfAsserted?tx=..&p=..`` with the credentials and the CSRF
   token: JSON ``{"status": "200"}``; ``"400"`` means wrong username or password.
3. GET ``{authority}/{policy}/api/CombinedSigninAndSignup/confirmed`` (redirects are not
   followed): a 302 to the redirect URI carrying ``code`` (query or fragment).
4. POST ``{authority}/{policy}/oauth2/v2.0/token`` redeems the code: access token (1 h) and
   refresh token.

The access token is renewed from the refresh token :data:`REFRESH_MARGIN` before it expires;
a rejected refresh token (B2C ``invalid_grant``, e.g. ``AADB2C90080`` expired) starts a full
login when the password is known, else raises :class:`ApiAuthError`. Instead of a password
the user may paste a refresh token (``refresh_token=``); every rotated refresh token is handed
to ``on_tokens`` so the caller can store it.

Cookies: one login needs a cookie jar, but the caller's session (Home Assistant's shared one)
must not collect B2C cookies. Each login therefore runs in a short-lived
``aiohttp.ClientSession`` that borrows the caller's connector (``connector_owner=False``: closing
it leaves the connector alone) and owns a private ``aiohttp.CookieJar``, dropped when the login
ends. Token and data requests go through the caller's session and carry no cookies.

Fair use: XOLTA asks for the current state at most once a minute; :meth:`site_status` answers
from its cache for :data:`STATUS_MIN_INTERVAL` after a fetch.

The constants the public record does not confirm (API scope, redirect URI, response mode,
``Origin`` header) live in :class:`B2cSettings` / :data:`DEFAULT_B2C`.
"""

import asyncio
import base64
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
import json
import logging
import re
import secrets
import time
from typing import Any
import uuid

import aiohttp
from yarl import URL

from .errors import ApiAuthError, ApiConnectionError, ApiResponseError
from .http import DEFAULT_TIMEOUT, JsonApiClient
from .parse import iso_time as _time, number as _number, text_or_id as _text

_LOGGER = logging.getLogger(__name__)

TENANT_ID = "145c2c43-a8da-46ab-b5da-1d4de444ed82"  # VERIFIED
DEFAULT_AUTHORITY_URL = f"https://xolta.b2clogin.com/{TENANT_ID}"
"""The B2C tenant; the policy's endpoints hang below it (VERIFIED host and tenant id)."""
DEFAULT_BASE_URL = (
    "https://xoltarmcluster2.northeurope.cloudapp.azure.com:19081"
    "/Xolta.Rm.Base.App/Xolta.Rm.Base.Api/api"
)
"""The App API (VERIFIED; note the Service Fabric port 19081)."""

REFRESH_MARGIN = 300.0
"""Renew the access token this many seconds before it expires."""
DEFAULT_ACCESS_LIFETIME = 3600.0
"""Access-token lifetime when neither ``expires_in`` nor the JWT says (VERIFIED: 1 h)."""
STATUS_MIN_INTERVAL = 60.0
"""XOLTA's fair-use rule: the current state at most once a minute per site."""
SUMMARY_WINDOW = timedelta(days=31)
"""Longest range asked of ``GetDataSummary`` in one request (UNVERIFIED; longer are split)."""
DEFAULT_RESOLUTION_MIN = 10
"""The resolution XOLTA's own app and the public integration use (VERIFIED)."""


@dataclass(frozen=True, slots=True)
class B2cSettings:
    """The B2C application XOLTA's web app signs in with: every login constant in one place.

    Only ``policy`` is VERIFIED and ``client_id`` INFERRED (the ``aud``/``azp`` of a real
    access token). ``scope``, ``redirect_uri``, ``response_mode`` and ``origin`` are UNVERIFIED
    guesses: pin them by reading the ``/authorize`` request of app.xolta.com in a browser's
    devtools and correct them here (or pass other settings to the client).
    """

    client_id: str = "f8f7bb12-d70a-4b5b-bab6-9321da1a83a3"
    policy: str = "B2C_1_sisu"
    #: UNVERIFIED. The token's ``aud`` is the web app itself and its ``scp`` is
    #: ``user_impersonation``, so the app exposes its own API; B2C's default App ID URI is
    #: ``https://<tenant>.onmicrosoft.com/<client id>``. ``offline_access`` asks for a refresh
    #: token.
    scope: str = (
        "openid offline_access "
        "https://xolta.onmicrosoft.com/f8f7bb12-d70a-4b5b-bab6-9321da1a83a3/user_impersonation"
    )
    #: UNVERIFIED: the SPA's registered redirect URI.
    redirect_uri: str = "https://app.xolta.com/"
    #: UNVERIFIED: MSAL.js single-page apps use "fragment"; the code is read from either.
    response_mode: str = "fragment"
    #: UNVERIFIED: B2C wants an Origin header on token requests for SPA redirect URIs.
    origin: str | None = "https://app.xolta.com"

    @property
    def token_path(self) -> str:
        """The token endpoint below the authority (lower-case policy, as XOLTA's app calls it)."""
        return f"/{self.policy.lower()}/oauth2/v2.0/token"


DEFAULT_B2C = B2cSettings()


# --- models ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class XoltaTokens:
    """What a login or a renewal gave us; ``*_expires`` are Unix times (None: not said)."""

    access_token: str
    access_expires: float
    refresh_token: str | None
    refresh_expires: float | None = None


@dataclass(frozen=True, slots=True)
class XoltaSite:
    """One site (a house with a XOLTA battery) of the account."""

    site_id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class XoltaStatus:
    """The site's current state (one-minute averages). Power in W, signs as the module says."""

    state: str | None
    soc_percent: float | None
    battery_power_w: float | None
    pv_power_w: float | None
    grid_power_w: float | None
    load_power_w: float | None
    measured_at: datetime | None = None

    @property
    def running(self) -> bool:
        """XOLTA's values are only meaningful while the system is ``Running``."""
        return self.state is not None and self.state.strip().lower() == "running"


@dataclass(frozen=True, slots=True)
class XoltaInterval:
    """One ``GetDataSummary`` bucket: average powers (W) over ``start``..``end``.

    The energies (kWh) are average power times duration, split by sign; None where XOLTA
    has no value for the bucket.
    """

    end: datetime
    duration: timedelta
    pv_power_w: float | None
    grid_power_w: float | None
    battery_power_w: float | None
    load_power_w: float | None
    soc_percent: float | None

    @property
    def start(self) -> datetime:
        return self.end - self.duration

    def _energy(self, power_w: float | None, sign: int) -> float | None:
        if power_w is None:
            return None
        return max(0.0, sign * power_w) * self.duration.total_seconds() / 3_600_000

    @property
    def pv_kwh(self) -> float | None:
        return self._energy(self.pv_power_w, +1)

    @property
    def load_kwh(self) -> float | None:
        return self._energy(self.load_power_w, +1)

    @property
    def grid_import_kwh(self) -> float | None:
        return self._energy(self.grid_power_w, +1)

    @property
    def grid_export_kwh(self) -> float | None:
        return self._energy(self.grid_power_w, -1)

    @property
    def battery_discharge_kwh(self) -> float | None:
        return self._energy(self.battery_power_w, +1)

    @property
    def battery_charge_kwh(self) -> float | None:
        return self._energy(self.battery_power_w, -1)


# --- parsing helpers ---------------------------------------------------------------------------


def format_time(when: datetime) -> str:
    """``2024-06-05T22:00:00Z``: naive UTC plus a literal Z, no offset, no microseconds.

    XOLTA answers HTTP 400 to anything else (a ``+00:00Z`` suffix broke a public client).
    """
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when!r}: pass an aware datetime")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _kw_to_w(value: Any) -> float | None:
    number = _number(value)
    return None if number is None else round(number * 1000.0, 3)


def _pv_w(value: Any) -> float | None:
    power = _kw_to_w(value)
    return None if power is None else max(0.0, power)


def _parse_status(record: Mapping[str, Any]) -> XoltaStatus:
    state = record.get("state")
    return XoltaStatus(
        state=state.strip() if isinstance(state, str) and state.strip() else None,
        soc_percent=_number(record.get("bmsSocRawArrayCloudTrimmedAggAvg")),
        battery_power_w=_kw_to_w(record.get("inverterActivePowerAggAvg")),
        pv_power_w=_pv_w(record.get("meterPvActivePowerAggAvg")),
        grid_power_w=_kw_to_w(record.get("meterGridActivePowerAggAvg")),
        load_power_w=_kw_to_w(record.get("consumption")),
        measured_at=_time(record.get("utcEndTime")),
    )


async def collect_summaries(
    fetch: Callable[[datetime, datetime], Awaitable[Any]],
    start: datetime,
    end: datetime,
    resolution_min: int,
    *,
    strict: bool,
) -> list[XoltaInterval]:
    """``GetDataSummary`` over ``(start, end]`` in windows of :data:`SUMMARY_WINDOW` (``fetch``
    asks for one window, whichever API), each bucket once, sorted by time. ``strict``: a
    ``telemetry`` that is not a list is an error (else it counts as no data)."""
    duration = timedelta(minutes=resolution_min)
    by_end: dict[datetime, XoltaInterval] = {}
    window_start = start
    while window_start < end:
        window_end = min(end, window_start + SUMMARY_WINDOW)
        body = await fetch(window_start, window_end)
        telemetry = body.get("telemetry") if isinstance(body, Mapping) else None
        if telemetry is None:
            telemetry = []
        if not isinstance(telemetry, list):
            if strict:
                raise ApiResponseError("GetDataSummary: expected {'telemetry': [...]}")
            telemetry = []
        for record in telemetry:
            if isinstance(record, Mapping):
                interval = _parse_interval(record, duration)
                if interval is not None:
                    by_end[interval.end] = interval
        window_start = window_end
    return [by_end[key] for key in sorted(by_end)]


def _parse_interval(record: Mapping[str, Any], duration: timedelta) -> XoltaInterval | None:
    end = _time(record.get("utcEndTime"))
    if end is None:
        return None
    return XoltaInterval(
        end=end,
        duration=duration,
        pv_power_w=_pv_w(record.get("meterPvActivePowerAggAvgSiteSingle")),
        grid_power_w=_kw_to_w(record.get("meterGridActivePowerAggAvgSiteSingle")),
        battery_power_w=_kw_to_w(record.get("inverterActivePowerAggAvgSiteSum")),
        load_power_w=_kw_to_w(record.get("calculatedConsumption")),
        soc_percent=_number(record.get("bmsSocRawArrayCloudTrimmedAggAvgSiteAvg")),
    )


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (only to read ``exp``); {} when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(raw)
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_pair() -> tuple[str, str]:
    """A PKCE ``(code_verifier, code_challenge)`` for the S256 method."""
    verifier = _b64url(secrets.token_bytes(48))  # 64 characters
    return verifier, _b64url(hashlib.sha256(verifier.encode()).digest())


_SETTINGS_RE = re.compile(r"var\s+SETTINGS\s*=\s*")


def parse_b2c_settings(page: str) -> tuple[str, str]:
    """``(csrf, transId)`` from the ``var SETTINGS = {...};`` of a B2C page."""
    match = _SETTINGS_RE.search(page)
    if match is None:
        raise ApiResponseError("The XOLTA login page has no SETTINGS (has B2C changed it?)")
    try:
        settings, _ = json.JSONDecoder().raw_decode(page, match.end())
    except ValueError as err:
        raise ApiResponseError("The XOLTA login page's SETTINGS are not JSON") from err
    csrf = settings.get("csrf") if isinstance(settings, dict) else None
    trans_id = settings.get("transId") if isinstance(settings, dict) else None
    if not isinstance(csrf, str) or not csrf or not isinstance(trans_id, str) or not trans_id:
        raise ApiResponseError("The XOLTA login page's SETTINGS lack csrf or transId")
    return csrf, trans_id


def _redirect_params(location: str) -> dict[str, str]:
    """The parameters of a redirect to the app: query and fragment (``response_mode``)."""
    url = URL(location)
    params = dict(url.query)
    if url.fragment:
        params.update(URL(f"/?{url.fragment}").query)
    return params


def _b2c_code(description: str) -> str | None:
    match = re.search(r"AADB2C\d+", description)
    return match.group(0) if match else None


# --- the client --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Raw:
    status: int
    body: str
    content_type: str
    location: str | None
    retry_after: str | None


class _GrantRejected(Exception):
    """The token endpoint refused the refresh token (expired, revoked, unknown)."""


class XoltaClient(JsonApiClient):
    """XOLTA App API with the B2C login. ``base_url`` is the data API, ``authority_url`` B2C."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        username: str | None = None,
        password: str | None = None,
        *,
        refresh_token: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        authority_url: str = DEFAULT_AUTHORITY_URL,
        b2c: B2cSettings = DEFAULT_B2C,
        timeout: float = DEFAULT_TIMEOUT,
        status_min_interval: float = STATUS_MIN_INTERVAL,
        on_tokens: Callable[[XoltaTokens], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Give a username and password, or a refresh token (or both: the password is then
        the fallback when the refresh token is rejected). ``clock`` returns Unix time."""
        super().__init__(session, base_url, timeout=timeout)
        self.authority_url = authority_url.rstrip("/")
        self.b2c = b2c
        self._username = username
        self._password = password
        self._on_tokens = on_tokens
        self._clock = clock
        self._status_min_interval = status_min_interval
        self._tokens: XoltaTokens | None = None
        self._refresh_token = refresh_token
        self._refresh_expires: float | None = None
        self._token_lock = asyncio.Lock()
        self._status_cache: dict[str, tuple[float, XoltaStatus | None]] = {}
        self.login_count = 0
        self.refresh_count = 0

    @property
    def refresh_token(self) -> str | None:
        """The latest refresh token (rotated on every renewal): store this one."""
        return self._refresh_token

    # --- public API ------------------------------------------------------------------------

    async def authenticate(self) -> XoltaTokens:
        """Make sure a usable access token is held: renew it or log in as needed."""
        return await self._valid_tokens()

    async def login(self) -> XoltaTokens:
        """A full B2C login with username and password (ApiAuthError when they are wrong)."""
        async with self._token_lock:
            return await self._login()

    async def sites(self) -> list[XoltaSite]:
        """The account's sites (``GET SiteGroup``)."""
        body = await self._get("/SiteGroup")
        items = body.get("sites") if isinstance(body, Mapping) else None
        if not isinstance(items, list):
            raise ApiResponseError("SiteGroup: expected {'sites': [...]}")
        sites: list[XoltaSite] = []
        for item in items:
            if not isinstance(item, Mapping):
                continue
            site_id = _text(item.get("siteId"))
            if site_id is None:
                continue
            name = _text(item.get("name")) or _text(item.get("siteName"))
            sites.append(XoltaSite(site_id=site_id, name=name))
        return sites

    async def site_status(self, site_id: str) -> XoltaStatus | None:
        """The site's current state (``GET siteStatus``); None when XOLTA has no record.

        Answered from a cache for ``status_min_interval`` seconds after each fetch (fair use).
        """
        now = self._clock()
        cached = self._status_cache.get(site_id)
        if cached is not None and now - cached[0] < self._status_min_interval:
            return cached[1]
        body = await self._get("/siteStatus", {"siteId": site_id})
        data = body.get("data") if isinstance(body, Mapping) else None
        if isinstance(data, Mapping):
            data = [data]
        if not isinstance(data, list):
            raise ApiResponseError("siteStatus: expected {'data': [...]}")
        record = data[0] if data else None
        status = _parse_status(record) if isinstance(record, Mapping) else None
        self._status_cache[site_id] = (now, status)
        return status

    async def interval_summaries(
        self,
        site_id: str,
        start: datetime,
        end: datetime,
        resolution_min: int = DEFAULT_RESOLUTION_MIN,
    ) -> list[XoltaInterval]:
        """Buckets of ``resolution_min`` minutes ending in ``(start, end]`` (``GetDataSummary``),
        sorted by time; ranges longer than :data:`SUMMARY_WINDOW` take several requests."""
        if resolution_min <= 0:
            raise ValueError("resolution_min must be positive")
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be aware datetimes")

        async def window(window_start: datetime, window_end: datetime) -> Any:
            return await self._get(
                "/GetDataSummary",
                {
                    "siteId": site_id,
                    "CalculateConsumptionNeeded": "true",
                    "fromDateTime": format_time(window_start),
                    "toDateTime": format_time(window_end),
                    "resolutionMin": resolution_min,
                },
            )

        return await collect_summaries(window, start, end, resolution_min, strict=True)

    # --- data requests ---------------------------------------------------------------------

    async def _get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """GET with the bearer; a 401 renews the token (or logs in) and retries once."""
        tokens = await self._valid_tokens()
        try:
            return await self._request_json(
                "GET", path, params=params, headers=self._bearer(tokens), allow_empty=True
            )
        except ApiAuthError:
            tokens = await self._valid_tokens(rejected=tokens)
            return await self._request_json(
                "GET", path, params=params, headers=self._bearer(tokens), allow_empty=True
            )

    @staticmethod
    def _bearer(tokens: XoltaTokens) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.access_token}", "Cache-Control": "no-cache"}

    # --- tokens ----------------------------------------------------------------------------

    async def _valid_tokens(self, rejected: XoltaTokens | None = None) -> XoltaTokens:
        """A usable access token. ``rejected``: the data API refused that one (HTTP 401)."""
        async with self._token_lock:
            tokens = self._tokens
            if tokens is not None:
                if rejected is None and tokens.access_expires - self._clock() > REFRESH_MARGIN:
                    return tokens
                if rejected is not None and tokens is not rejected:
                    return tokens  # renewed by someone else while we waited
            if self._refresh_token is not None and not self._refresh_token_expired():
                try:
                    return await self._refresh()
                except _GrantRejected as err:
                    _LOGGER.debug("XOLTA refresh token rejected (%s): logging in again", err)
                    self._refresh_token = None
            return await self._login()

    def _refresh_token_expired(self) -> bool:
        return self._refresh_expires is not None and self._refresh_expires <= self._clock()

    async def _refresh(self) -> XoltaTokens:
        assert self._refresh_token is not None
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "client_id": self.b2c.client_id,
            "scope": self.b2c.scope,
        }
        self.refresh_count += 1
        return await self._token_request(form, refreshing=True)

    async def _login(self) -> XoltaTokens:
        if not self._username or not self._password:
            raise ApiAuthError("XOLTA: the refresh token was rejected and no password is stored")
        self.login_count += 1
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        connector = self._session.connector
        if connector is None or self._session.closed:
            raise ApiConnectionError("The HTTP session is closed")
        cookie_jar = aiohttp.CookieJar(unsafe=True)  # unsafe: also keep cookies of IP hosts
        async with aiohttp.ClientSession(
            connector=connector,
            connector_owner=False,
            cookie_jar=cookie_jar,
            headers=self._session.headers,
        ) as login_session:
            code = await self._b2c_code(login_session, challenge, state)
        form = {
            "grant_type": "authorization_code",
            "client_id": self.b2c.client_id,
            "code": code,
            "redirect_uri": self.b2c.redirect_uri,
            "code_verifier": verifier,
            "scope": self.b2c.scope,
        }
        try:
            return await self._token_request(form, refreshing=False)
        except _GrantRejected as err:
            raise ApiResponseError(f"XOLTA refused the authorization code: {err}") from err

    async def _b2c_code(self, session: aiohttp.ClientSession, challenge: str, state: str) -> str:
        """Steps 1-3 of the login: the authorization code."""
        policy = self.b2c.policy
        base = f"{self.authority_url}/{policy}"
        page = await self._raw(
            session,
            "GET",
            f"{base}/oauth2/v2.0/authorize",
            params={
                "client_id": self.b2c.client_id,
                "response_type": "code",
                "redirect_uri": self.b2c.redirect_uri,
                "response_mode": self.b2c.response_mode,
                "scope": self.b2c.scope,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": state,
                "nonce": str(uuid.uuid4()),
            },
        )
        if page.status in (301, 302, 303, 307, 308):
            params = _redirect_params(page.location or "")
            raise ApiResponseError(
                "XOLTA's login refused the request: "
                f"{params.get('error', '?')} {params.get('error_description', '')}".strip()
            )
        self._check(page)
        csrf, trans_id = parse_b2c_settings(page.body)

        answer = await self._raw(
            session,
            "POST",
            f"{base}/SelfAsserted",
            params={"tx": trans_id, "p": policy},
            headers={
                "X-CSRF-TOKEN": csrf,
                "X-Requested-With": "XMLHttpRequest",
                "Accept": "application/json, text/javascript, */*; q=0.01",
            },
            data={
                "request_type": "RESPONSE",
                "email": self._username or "",
                "password": self._password or "",
            },
        )
        self._check(answer)
        try:
            verdict: Any = json.loads(answer.body) if answer.body.strip() else {}
        except ValueError:
            verdict = {}  # success may come with an empty or non-JSON body
        status = str(verdict.get("status", "200")) if isinstance(verdict, Mapping) else "200"
        if status == "400":
            raise ApiAuthError("XOLTA rejected the username or password")
        if status != "200":
            raise ApiResponseError(f"XOLTA's login answered status {status}")

        confirmed = await self._raw(
            session,
            "GET",
            f"{base}/api/CombinedSigninAndSignup/confirmed",
            params={"rememberMe": "false", "csrf_token": csrf, "tx": trans_id, "p": policy},
        )
        self._check(confirmed)
        if confirmed.location is None:
            raise ApiResponseError(
                "XOLTA's login did not redirect with a code (an extra step such as MFA?); "
                "paste a refresh token instead"
            )
        params = _redirect_params(confirmed.location)
        if "error" in params:
            description = params.get("error_description", "")
            if params["error"] == "access_denied":
                raise ApiAuthError(f"XOLTA denied the login: {description}")
            raise ApiResponseError(f"XOLTA's login failed: {params['error']} {description}")
        if params.get("state") != state:
            raise ApiResponseError("XOLTA's login redirect carried a foreign state")
        code = params.get("code")
        if not code:
            raise ApiResponseError("XOLTA's login redirect carried no code")
        return code

    async def _token_request(self, form: Mapping[str, str], *, refreshing: bool) -> XoltaTokens:
        headers = {"Accept": "application/json"}
        if self.b2c.origin:
            headers["Origin"] = self.b2c.origin
        answer = await self._raw(
            self._session,
            "POST",
            f"{self.authority_url}{self.b2c.token_path}",
            headers=headers,
            data=dict(form),
        )
        if answer.status == 400 or (refreshing and answer.status == 401):
            try:
                error: Any = json.loads(answer.body)
            except ValueError:
                error = {}
            if not isinstance(error, Mapping):
                error = {}
            description = str(error.get("error_description", ""))
            if answer.status == 401 or error.get("error") == "invalid_grant":
                raise _GrantRejected(_b2c_code(description) or description[:80])
            raise ApiResponseError(
                f"XOLTA's token endpoint refused the request: {error.get('error')} "
                f"{description.splitlines()[0] if description else ''}".strip()
            )
        self._check(answer)
        try:
            body: Any = json.loads(answer.body)
        except ValueError as err:
            raise ApiResponseError("Malformed JSON from XOLTA's token endpoint") from err
        if not isinstance(body, Mapping):
            raise ApiResponseError("XOLTA's token endpoint answered without an object")
        return self._store(body)

    def _store(self, body: Mapping[str, Any]) -> XoltaTokens:
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise ApiResponseError("XOLTA's token endpoint gave no access token")
        now = self._clock()
        expires_in = _number(body.get("expires_in"))
        if expires_in is not None:
            access_expires = now + expires_in
        else:
            exp = _number(jwt_claims(access).get("exp"))
            access_expires = exp if exp is not None else now + DEFAULT_ACCESS_LIFETIME
        refresh = body.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            self._refresh_token = refresh
            refresh_in = _number(body.get("refresh_token_expires_in"))
            self._refresh_expires = None if refresh_in is None else now + refresh_in
        tokens = XoltaTokens(
            access_token=access,
            access_expires=access_expires,
            refresh_token=self._refresh_token,
            refresh_expires=self._refresh_expires,
        )
        self._tokens = tokens
        if self._on_tokens is not None:
            self._on_tokens(tokens)
        return tokens

    # --- raw HTTP (HTML pages, form posts, redirects not followed) --------------------------

    async def _raw(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> _Raw:
        """One request whose body is returned as text; redirects are never followed."""
        self.request_count += 1
        _LOGGER.debug("%s %s", method, url)  # no query: it carries CSRF tokens
        try:
            async with session.request(
                method,
                url,
                params=params,
                headers=headers,
                data=data,
                allow_redirects=False,
                timeout=self._timeout,
            ) as resp:
                return _Raw(
                    status=resp.status,
                    body=await resp.text(),
                    content_type=resp.headers.get("Content-Type", ""),
                    location=resp.headers.get("Location"),
                    retry_after=resp.headers.get("Retry-After"),
                )
        except TimeoutError as err:
            raise ApiConnectionError(f"Timed out talking to {URL(url).host}") from err
        except aiohttp.ClientError as err:
            raise ApiConnectionError(f"Cannot reach {URL(url).host}: {err}") from err

    def _check(self, answer: _Raw) -> None:
        """Map an HTTP error of a B2C or token request; B2C's 400/404 pages are refusals."""
        if answer.status in (400, 404):
            code = _b2c_code(answer.body) or f"HTTP {answer.status}"
            raise ApiResponseError(f"XOLTA's login refused the request ({code})")
        if answer.status >= 400:
            self._raise_for_status(
                answer.status, answer.body, answer.content_type, answer.retry_after
            )
