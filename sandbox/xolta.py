"""XOLTA home-battery cloud (App API + its Azure AD B2C login), emulated.

Shapes follow `shared/vendor-apis/xolta.md`. Two real hosts live under one prefix:

    /xolta/b2c/<tenant id>/...    the B2C tenant (authority): authorize page, SelfAsserted,
                                  CombinedSigninAndSignup/confirmed, token endpoint
    /xolta/api/...                the App API: SiteGroup, siteStatus, GetDataSummary

so a client is given `authority_url = <sandbox>/xolta/b2c/<tenant>` and
`base_url = <sandbox>/xolta/api`.

The B2C emulation is stateful per app (`XoltaSandbox`, see `sandbox_of`): cookies
(`x-ms-cpim-csrf`, `x-ms-cpim-trans`, `x-ms-cpim-cache|..`), the CSRF token and transaction id
of the page's `var SETTINGS`, the SelfAsserted JSON (`"status": "400"` for wrong credentials,
HTTP 200 either way), the 302 to the redirect URI with a code (query or fragment), PKCE,
single-use codes, 1 h access tokens (HS256 JWTs shaped like XOLTA's) and rotating refresh
tokens whose session ends 24 h after the login (SPA-style fixed lifetime), after which the
token endpoint answers `invalid_grant` / `AADB2C90080`.

The house data is a pure function of the site and the minute: PV from the sun over Aarhus and
clouds, a household load with appliance spikes, and a 10 kWh / 5 kW battery in
self-consumption mode (a 40 W dead band), which between 22:00 and 24:00 UTC moves to
the next day's start level. Every minute is whole watts and balances exactly:
`grid = load - pv - battery` (battery + discharging, grid + importing, as XOLTA signs them).
About one day in five has a 30- or 60-minute upload outage (aligned to the half hour): the
house keeps running but the cloud has no data, so those buckets are null. Buckets are
averages of the minutes the cloud holds; `interval_energy` is the ground truth.
"""

from __future__ import annotations

from array import array
import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import functools
import hashlib
import hmac
import html
import json
import math
import re
from typing import Any, Final
from urllib.parse import urlencode
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from . import xolta_official
from .common import (
    JSONObject,
    as_utc,
    clamp,
    dumps,
    json_response,
    noise,
    parse_timestamp,
    uk_utc_offset_hours,
    waves,
)
from .state import SandboxState

VENDOR: Final = "xolta"
MALFORMED_BODY: Final = '{"telemetry": [{"utcEndTime": '

TENANT_ID: Final = "145c2c43-a8da-46ab-b5da-1d4de444ed82"
POLICY: Final = "B2C_1_sisu"
CLIENT_ID: Final = "f8f7bb12-d70a-4b5b-bab6-9321da1a83a3"
API_SCOPE: Final = f"https://xolta.onmicrosoft.com/{CLIENT_ID}/user_impersonation"
"""The API scope the emulated tenant knows (the client's UNVERIFIED default, mirrored)."""
REDIRECT_URIS: Final = ("https://app.xolta.com/", "https://app.xolta.com")
ISSUER: Final = f"https://xolta.b2clogin.com/{TENANT_ID}/v2.0/"

AUTHORITY_PATH: Final = f"/b2c/{TENANT_ID}"
"""The authority below the vendor prefix: `authority_url = <sandbox>/xolta` + this."""
API_PATH: Final = "/api"
"""The App API below the vendor prefix: `base_url = <sandbox>/xolta` + this."""

ACCESS_TOKEN_LIFETIME: Final = timedelta(hours=1)
REFRESH_TOKEN_LIFETIME: Final = timedelta(hours=24)
"""Fixed (non-sliding) life of a login's refresh tokens, as B2C gives single-page apps."""
CODE_LIFETIME: Final = timedelta(minutes=10)
TRANSACTION_LIFETIME: Final = timedelta(minutes=30)
MAX_SUMMARY_RANGE: Final = timedelta(days=31)
"""Longest `GetDataSummary` range (UNVERIFIED for XOLTA; longer gets HTTP 400)."""

_SECRET: Final = b"energy-hub-sandbox-xolta"
"""Signs the sandbox's JWTs (HS256). Not a secret of anyone: the sandbox is local."""

BATTERY_CAPACITY_KWH: Final = 10.0
BATTERY_POWER_W: Final = 5000
_CAPACITY_WMIN: Final = 600_000  # 10 kWh in watt-minutes
_RESERVE_WMIN: Final = 30_000  # 5 %
_MINUTES: Final = 1440
_SCHEDULE_FROM: Final = 22 * 60  # minute of the UTC day the night schedule starts


# --- accounts and sites --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Site:
    site_id: str
    name: str
    pv_kwp: float
    annual_load_kwh: float
    seed: int
    latitude: float = 56.15  # Aarhus
    longitude: float = 10.21


@dataclass(frozen=True, slots=True)
class Account:
    password: str
    sites: tuple[str, ...]


SITES: Final[Mapping[str, Site]] = {
    "sandbox-house": Site("sandbox-house", "Sandbox house", 6.0, 4500.0, seed=1),
    "sandbox-cottage": Site("sandbox-cottage", "Sandbox cottage", 3.5, 2800.0, seed=2),
}

ACCOUNTS: Final[Mapping[str, Account]] = {
    "demo@xolta.example": Account("xolta-sandbox", ("sandbox-house",)),
    "two.sites@xolta.example": Account("xolta-sandbox", ("sandbox-house", "sandbox-cottage")),
}
"""Username -> password and sites. Usernames are matched case-insensitively, as B2C does."""


# --- the house model ---------------------------------------------------------------------------

_LOAD_BY_LOCAL_HOUR: Final = (
    0.55, 0.50, 0.48, 0.47, 0.48, 0.55, 0.80, 1.10, 1.00, 0.85, 0.80, 0.80,
    0.85, 0.80, 0.80, 0.85, 1.05, 1.50, 1.70, 1.50, 1.25, 1.05, 0.85, 0.65,
)  # fmt: skip
_LOAD_SHAPE_MEAN: Final = sum(_LOAD_BY_LOCAL_HOUR) / 24


@dataclass(frozen=True, slots=True)
class MinutePower:
    """One minute of a site (constant power within it), whole watts, XOLTA's signs."""

    start: datetime
    pv_w: int
    load_w: int
    battery_w: int
    grid_w: int
    soc_percent: float  # at the end of the minute
    online: bool  # the cloud received this minute


@dataclass(frozen=True, slots=True)
class SiteEnergy:
    """Energy that flowed in an interval (kWh), each direction on its own."""

    pv_kwh: float
    load_kwh: float
    grid_import_kwh: float
    grid_export_kwh: float
    battery_charge_kwh: float
    battery_discharge_kwh: float

    @property
    def grid_net_kwh(self) -> float:
        """Import minus export."""
        return self.grid_import_kwh - self.grid_export_kwh

    @property
    def battery_net_kwh(self) -> float:
        """Discharge minus charge."""
        return self.battery_discharge_kwh - self.battery_charge_kwh


@dataclass(frozen=True)
class _Day:
    """One UTC day of a site, minute by minute (compact int arrays: many days are cached)."""

    pv: array[int]
    load: array[int]
    battery: array[int]
    grid: array[int]
    stored: array[int]  # watt-minutes at the end of each minute
    online: tuple[bool, ...]

    @functools.cached_property
    def flows(self) -> tuple[array[int], ...]:
        """pv, load, grid import, grid export, battery charge, battery discharge (W)."""
        return (
            self.pv,
            self.load,
            array("i", (max(0, value) for value in self.grid)),
            array("i", (max(0, -value) for value in self.grid)),
            array("i", (max(0, -value) for value in self.battery)),
            array("i", (max(0, value) for value in self.battery)),
        )


def _site(site_id: str) -> Site:
    try:
        return SITES[site_id]
    except KeyError:
        raise KeyError(f"unknown sandbox XOLTA site {site_id!r}") from None


def _midnight_stored(site: Site, day: date) -> int:
    """Watt-minutes in the battery at 00:00 UTC of `day` (15-25 %)."""
    share = 0.20 + 0.05 * noise("xolta-midnight", site.seed, day.toordinal())
    return round(_CAPACITY_WMIN * share)


def offline_windows(site_id: str, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """Upload outages of `day` (UTC): the cloud has no data for these minutes."""
    site = _site(site_id)
    ordinal = day.toordinal()
    if noise("xolta-offline", site.seed, ordinal) < 0.6:  # about one day in five
        return ()
    slot = 12 + int((noise("xolta-offline-at", site.seed, ordinal) + 1) / 2 * 28)  # 06:00-19:30
    length = 60 if noise("xolta-offline-len", site.seed, ordinal) > 0 else 30
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=30 * slot)
    return ((start, start + timedelta(minutes=length)),)


_MASK64: Final = (1 << 64) - 1


def _jitter(*parts: int) -> float:
    """A stable pseudo-random number in [-1, 1) from integers (splitmix64; cheaper than
    `common.noise`, for per-minute values)."""
    state = 0x9E3779B97F4A7C15
    for part in parts:
        state = (state ^ (part & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        state ^= state >> 31
    state = (state + 0x9E3779B97F4A7C15) * 0x94D049BB133111EB & _MASK64
    state ^= state >> 29
    return state / 2**63 - 1.0


def _pv_curve(site: Site, midnight: datetime) -> list[int]:
    """PV watts for each minute of the UTC day starting at `midnight`."""
    day_of_year = midnight.timetuple().tm_yday + 0.5
    declination = math.radians(23.44) * math.sin(2 * math.pi * (284 + day_of_year) / 365)
    lat = math.radians(site.latitude)
    sin_part = math.sin(lat) * math.sin(declination)
    cos_part = math.cos(lat) * math.cos(declination)
    first = int(midnight.timestamp())
    clear_by_block = [
        clamp(
            0.62
            + waves(
                (first + block * 900) / 86400 + site.seed / 5, ((0.28, 2.7, 0.4), (0.14, 0.8, 1.2))
            )
            + 0.12 * noise("xolta-clouds", site.seed, first // 900 + block),
            0.08,
            1.0,
        )
        for block in range(96)
    ]
    peak = site.pv_kwp * 1000 * 0.84
    curve: list[int] = []
    for index in range(_MINUTES):
        solar_hour = (index + 0.5) / 60 + site.longitude / 15
        sun = sin_part + cos_part * math.cos(math.radians(15 * (solar_hour - 12)))
        if sun <= 0:
            curve.append(0)
            continue
        flicker = 1 + 0.04 * _jitter(site.seed, 1, first // 60 + index)
        watts = peak * math.pow(sun, 1.15) * clear_by_block[index // 15] * flicker
        curve.append(max(0, round(watts)))
    return curve


def _load_curve(site: Site, midnight: datetime) -> list[int]:
    """Household watts for each minute of the UTC day starting at `midnight`."""
    winter = math.cos(2 * math.pi * (midnight.timetuple().tm_yday - 15) / 365.25)
    base = site.annual_load_kwh * 1000 / 8760 * 0.85 * (1 + 0.15 * winter)
    offsets = [1 + uk_utc_offset_hours(midnight + timedelta(hours=h)) for h in range(24)]  # CET
    first_minute = int(midnight.timestamp()) // 60
    appliance = []
    for block in range(288):
        key = first_minute // 5 + block
        on = noise("xolta-appliance", site.seed, key) > 0.92
        appliance.append(1000 + 1200 * abs(noise("xolta-appliance-w", site.seed, key)) if on else 0)
    curve: list[int] = []
    for index in range(_MINUTES):
        hour = (index / 60 + offsets[index // 60]) % 24
        low = _LOAD_BY_LOCAL_HOUR[int(hour)]
        high = _LOAD_BY_LOCAL_HOUR[(int(hour) + 1) % 24]
        shape = (low + (high - low) * (hour - int(hour))) / _LOAD_SHAPE_MEAN
        load = base * shape * (1 + 0.10 * _jitter(site.seed, 2, first_minute + index))
        curve.append(max(120, round(load + appliance[index // 5])))
    return curve


@functools.lru_cache(maxsize=400)
def _day(site_id: str, day: date) -> _Day:
    site = _site(site_id)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    stored = _midnight_stored(site, day)
    target = _midnight_stored(site, day + timedelta(days=1))
    outages = [
        (int((start - midnight).total_seconds()) // 60, int((end - midnight).total_seconds()) // 60)
        for start, end in offline_windows(site_id, day)
    ]
    pv = _pv_curve(site, midnight)
    load = _load_curve(site, midnight)
    battery: list[int] = []
    grid: list[int] = []
    stored_after: list[int] = []
    remaining = 0
    for index in range(_MINUTES):
        if index >= _SCHEDULE_FROM:
            if index == _SCHEDULE_FROM:
                remaining = stored - target
            power = round(remaining / (_MINUTES - index))  # reaches `target` at 24:00
            remaining -= power
        else:
            # self-consumption: cover the house's deficit, absorb the surplus
            want = load[index] - pv[index]
            want = 0 if abs(want) < 40 else max(-BATTERY_POWER_W, min(BATTERY_POWER_W, want))
            if want > 0:
                power = min(want, stored - _RESERVE_WMIN)
            else:
                power = max(want, -(_CAPACITY_WMIN - stored))
        stored -= power
        battery.append(power)
        grid.append(load[index] - pv[index] - power)
        stored_after.append(stored)
    online = tuple(not any(a <= index < b for a, b in outages) for index in range(_MINUTES))
    return _Day(
        array("i", pv),
        array("i", load),
        array("i", battery),
        array("i", grid),
        array("i", stored_after),
        online,
    )


def _floor_minute(moment: datetime) -> datetime:
    moment = as_utc(moment)
    return moment.replace(second=0, microsecond=0)


def _minutes_between(start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """(minute start, share of that minute inside [start, end)) for every minute touched."""
    start, end = as_utc(start), as_utc(end)
    shares: list[tuple[datetime, float]] = []
    minute = _floor_minute(start)
    while minute < end:
        next_minute = minute + timedelta(minutes=1)
        inside = (min(end, next_minute) - max(start, minute)).total_seconds() / 60
        if inside > 0:
            shares.append((minute, inside))
        minute = next_minute
    return shares


def minute_power(site_id: str, moment: datetime) -> MinutePower:
    """The minute of `site_id` that contains `moment` (ground truth)."""
    minute = _floor_minute(moment)
    day = _day(site_id, minute.date())
    index = minute.hour * 60 + minute.minute
    return MinutePower(
        start=minute,
        pv_w=day.pv[index],
        load_w=day.load[index],
        battery_w=day.battery[index],
        grid_w=day.grid[index],
        soc_percent=day.stored[index] / _CAPACITY_WMIN * 100,
        online=day.online[index],
    )


def soc_percent(site_id: str, moment: datetime) -> float:
    """The battery's exact state of charge at `moment` (power is constant within a minute)."""
    minute = minute_power(site_id, moment)
    share = (as_utc(moment) - minute.start).total_seconds() / 60
    before = minute.soc_percent + minute.battery_w / _CAPACITY_WMIN * 100
    return before - share * minute.battery_w / _CAPACITY_WMIN * 100


def interval_energy(
    site_id: str, start: datetime, end: datetime, *, online_only: bool = False
) -> SiteEnergy:
    """Exactly the energy that flowed in [start, end) (ground truth, kWh).

    `online_only`: count only the minutes the cloud holds, i.e. what the API's buckets can
    tell (their per-bucket averages times duration add up to this for the net flows; the
    import/export split here is per minute, finer than any bucket).
    """
    start, end = as_utc(start), as_utc(end)
    totals = [0.0] * 6  # watt-minutes
    first_full = _floor_minute(start)
    if first_full < start:
        first_full += timedelta(minutes=1)
    last_full = max(first_full, _floor_minute(end))
    partial = [(start, min(end, first_full)), (max(start, last_full), end)]
    for piece_start, piece_end in partial if first_full < end else [(start, end)]:
        for minute, share in _minutes_between(piece_start, piece_end):
            power = minute_power(site_id, minute)
            if online_only and not power.online:
                continue
            day = _day(site_id, minute.date())
            index = minute.hour * 60 + minute.minute
            for slot, column in enumerate(day.flows):
                totals[slot] += column[index] * share
    moment = first_full
    while moment < last_full:
        midnight = moment.replace(hour=0, minute=0)
        stop = min(last_full, midnight + timedelta(days=1))
        day = _day(site_id, midnight.date())
        first = moment.hour * 60 + moment.minute
        last = first + int((stop - moment).total_seconds()) // 60
        online = day.online[first:last]
        for slot, column in enumerate(day.flows):
            values = column[first:last]
            if online_only:
                totals[slot] += sum(v for v, ok in zip(values, online, strict=True) if ok)
            else:
                totals[slot] += sum(values)
        moment = stop
    return SiteEnergy(*(value / 60_000 for value in totals))


# --- JSON shapes ---------------------------------------------------------------------------------


def _kw(watts: float) -> float:
    return round(watts / 1000, 6)


def status_record(site_id: str, now: datetime) -> JSONObject:
    """`siteStatus`'s record: the last complete minute (the device uploads once a minute)."""
    minute = minute_power(site_id, _floor_minute(now) - timedelta(minutes=1))
    if not minute.online:
        return {
            "state": "Offline",
            "bmsSocRawArrayCloudTrimmedAggAvg": None,
            "inverterActivePowerAggAvg": None,
            "meterPvActivePowerAggAvg": None,
            "meterGridActivePowerAggAvg": None,
            "consumption": None,
            "utcEndTime": None,
        }
    return {
        "state": "Running",
        "bmsSocRawArrayCloudTrimmedAggAvg": round(minute.soc_percent, 1),
        "inverterActivePowerAggAvg": _kw(minute.battery_w),
        "meterPvActivePowerAggAvg": _kw(minute.pv_w),
        "meterGridActivePowerAggAvg": _kw(minute.grid_w),
        "consumption": _kw(minute.load_w),
        "utcEndTime": _format(minute.start + timedelta(minutes=1)),
    }


def summary_record(
    site_id: str, end: datetime, resolution_min: int, consumption: bool
) -> JSONObject:
    """One `GetDataSummary` bucket ending at `end`: averages of the minutes the cloud holds."""
    sums = [0, 0, 0, 0]
    soc = 0.0
    count = 0
    for minute, _ in _minutes_between(end - timedelta(minutes=resolution_min), end):
        power = minute_power(site_id, minute)
        if not power.online:
            continue
        count += 1
        sums[0] += power.pv_w
        sums[1] += power.grid_w
        sums[2] += power.battery_w
        sums[3] += power.load_w
        soc += power.soc_percent
    record: JSONObject = {"utcEndTime": _format(end)}
    values: list[float | None] = (
        [_kw(total / count) for total in sums] if count else [None, None, None, None]
    )
    record["meterPvActivePowerAggAvgSiteSingle"] = values[0]
    record["meterGridActivePowerAggAvgSiteSingle"] = values[1]
    record["inverterActivePowerAggAvgSiteSum"] = values[2]
    record["bmsSocRawArrayCloudTrimmedAggAvgSiteAvg"] = round(soc / count, 2) if count else None
    if consumption:
        record["calculatedConsumption"] = values[3]
    return record


def _format(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_body(status: int, message: str) -> JSONObject:
    """An ASP.NET Core problem-details body (UNVERIFIED for XOLTA: no error body is public)."""
    return {"type": "about:blank", "title": message, "status": status}


def _problem(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=dumps(error_body(status, message)),
        status=status,
        content_type="application/problem+json",
        headers=headers,
    )


# --- tokens --------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _subject(username: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"xolta-sandbox:{username}"))


def make_jwt(claims: Mapping[str, Any]) -> str:
    """An HS256 JWT signed with the sandbox's key."""
    header = _b64url(dumps({"typ": "JWT", "alg": "HS256", "kid": "sandbox"}).encode())
    payload = _b64url(dumps(dict(claims)).encode())
    signature = hmac.new(_SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def read_jwt(token: str) -> JSONObject | None:
    """The claims of a JWT this sandbox signed, or None (bad shape or signature)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = hmac.new(_SECRET, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_b64url_decode(parts[2]), expected):
            return None
        claims = json.loads(_b64url_decode(parts[1]))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


@dataclass(slots=True)
class _Transaction:
    tid: str
    csrf: str
    redirect_uri: str
    response_mode: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str
    created: datetime
    username: str | None = None


@dataclass(slots=True)
class _Code:
    username: str
    redirect_uri: str
    code_challenge: str
    scope: str
    nonce: str | None
    expires: datetime
    used: bool = False


@dataclass(slots=True)
class _LoginSession:
    username: str
    expires: datetime
    offline: bool
    revoked: bool = False


@dataclass(slots=True)
class XoltaSandbox:
    """The emulation's mutable state in one app: passwords, B2C transactions, codes, tokens.

    Tests reach it with `sandbox_of(app)` to change a password, revoke refresh tokens,
    shorten lifetimes or make the summaries answer empty (`empty_summaries`); everything
    else is derived from the app's clock.
    """

    state: SandboxState
    passwords: dict[str, str] = field(
        default_factory=lambda: {name: account.password for name, account in ACCOUNTS.items()}
    )
    access_token_lifetime: timedelta = ACCESS_TOKEN_LIFETIME
    refresh_token_lifetime: timedelta = REFRESH_TOKEN_LIFETIME
    logins: int = 0
    """Codes redeemed (full logins completed)."""
    refreshes: int = 0
    """Refresh-token grants honoured."""
    empty_summaries: bool = False
    """Fault: `GetDataSummary` answers `{"telemetry": []}` whatever the range, as a cloud whose
    summaries lag behind does ("not yet"); the data are all there once it is cleared."""
    _counter: int = 0
    _transactions: dict[str, _Transaction] = field(default_factory=dict)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _refresh_tokens: dict[str, int] = field(default_factory=dict)
    _sessions: list[_LoginSession] = field(default_factory=list)

    def set_password(self, username: str, password: str) -> None:
        self.passwords[username.lower()] = password

    def revoke_refresh_tokens(self, username: str | None = None) -> int:
        """Revoke every refresh token (of `username`); returns how many live login sessions
        were revoked."""
        count = 0
        now = self.state.now()
        for session in self._sessions:
            live = not session.revoked and session.expires > now
            if live and username in (None, session.username):
                session.revoked = True
                count += 1
        return count

    def _new_id(self, kind: str, size: int = 24) -> str:
        self._counter += 1
        stamp = self.state.now().isoformat()
        digest = hmac.new(_SECRET, f"{kind}:{self._counter}:{stamp}".encode(), hashlib.sha256)
        return _b64url(digest.digest())[:size]

    # --- issuing -------------------------------------------------------------------------

    def _access_token(self, username: str, nonce: str | None) -> str:
        now = int(self.state.now().timestamp())
        claims: JSONObject = {
            "iss": ISSUER,
            "exp": now + int(self.access_token_lifetime.total_seconds()),
            "nbf": now,
            "aud": CLIENT_ID,
            "sub": _subject(username),
            "emails": [username],
            "tfp": POLICY,
            "nonce": nonce or "",
            "scp": "user_impersonation",
            "azp": CLIENT_ID,
            "ver": "1.0",
            "iat": now,
        }
        return make_jwt(claims)

    def _token_response(self, session_index: int, nonce: str | None, scope: str) -> JSONObject:
        session = self._sessions[session_index]
        now = self.state.now()
        access = self._access_token(session.username, nonce)
        lifetime = int(self.access_token_lifetime.total_seconds())
        body: JSONObject = {
            "access_token": access,
            "id_token": make_jwt(
                {"iss": ISSUER, "aud": CLIENT_ID, "sub": _subject(session.username)}
                | {"exp": int(now.timestamp()) + lifetime, "emails": [session.username]}
            ),
            "token_type": "Bearer",
            "not_before": int(now.timestamp()),
            "expires_in": lifetime,
            "expires_on": int(now.timestamp()) + lifetime,
            "resource": CLIENT_ID,
            "id_token_expires_in": lifetime,
            "scope": scope,
        }
        if session.offline:
            token = self._new_id("refresh", 64)
            self._refresh_tokens[token] = session_index
            body["refresh_token"] = token
            body["refresh_token_expires_in"] = max(0, int((session.expires - now).total_seconds()))
        return body

    def user_for_access_token(self, token: str) -> str | None:
        """The user an unexpired access token of this sandbox belongs to."""
        claims = read_jwt(token)
        if claims is None or claims.get("aud") != CLIENT_ID:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= self.state.now().timestamp():
            return None
        emails = claims.get("emails")
        username = emails[0] if isinstance(emails, list) and emails else None
        return username if isinstance(username, str) and username in self.passwords else None


SANDBOX_KEY: Final = web.AppKey("xolta_sandbox", XoltaSandbox)


def sandbox_of(app: web.Application) -> XoltaSandbox:
    """The XOLTA emulation's state in an app made by `create_app` (or in its own subapp)."""
    if SANDBOX_KEY in app:
        return app[SANDBOX_KEY]
    for resource in app.router.resources():
        subapp = resource.get_info().get("app")
        if isinstance(subapp, web.Application) and SANDBOX_KEY in subapp:
            return subapp[SANDBOX_KEY]
    raise LookupError("no XOLTA sandbox in this app")


# --- B2C -----------------------------------------------------------------------------------------


def _b2c_error(error: str, code: str, message: str, now: datetime) -> web.Response:
    description = (
        f"{code}: {message}\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\n"
        f"Timestamp: {now.strftime('%Y-%m-%d %H:%M:%SZ')}\r\n"
    )
    return json_response({"error": error, "error_description": description}, status=400)


def _redirect(uri: str, mode: str, params: Mapping[str, str]) -> web.Response:
    separator = "#" if mode == "fragment" else ("&" if "?" in uri else "?")
    return web.Response(status=302, headers={"Location": f"{uri}{separator}{urlencode(params)}"})


def _error_page(status: int, message: str) -> web.Response:
    body = (
        "<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
        f"<div id='api'><h1>Sorry, but we're having trouble signing you in.</h1>"
        f"<p>{html.escape(message)}</p></div></body></html>"
    )
    return web.Response(text=body, status=status, content_type="text/html")


def _login_page(settings: JSONObject) -> str:
    return (
        "<!DOCTYPE html>\n<html><head><title>Sign in</title>\n"
        '<script type="text/javascript">\n//<![CDATA[\n'
        f"var SETTINGS = {dumps(settings)};\n"
        "//]]>\n</script></head>\n<body><div id='api' data-name='Unified'>\n"
        "<form id='localAccountForm' action='JavaScript:void(0);'>\n"
        "<input type='email' id='email' name='Email Address'/>\n"
        "<input type='password' id='password' name='Password'/>\n"
        "<button id='next' type='submit'>Sign in</button>\n"
        "</form></div></body></html>\n"
    )


def _trans_cookie(tid: str) -> str:
    return _b64url(dumps({"TID": tid}).encode())


def _tx_param(tid: str) -> str:
    return "StateProperties=" + _b64url(dumps({"TID": tid}).encode())


def _tid_from_tx(tx: str) -> str | None:
    prefix = "StateProperties="
    if not tx.startswith(prefix):
        return None
    try:
        value = json.loads(_b64url_decode(tx[len(prefix) :]))
    except ValueError:
        return None
    tid = value.get("TID") if isinstance(value, dict) else None
    return tid if isinstance(tid, str) else None


def _tid_from_cookie(value: str | None) -> str | None:
    if not value:
        return None
    try:
        decoded = json.loads(_b64url_decode(value))
    except ValueError:
        return None
    tid = decoded.get("TID") if isinstance(decoded, dict) else None
    return tid if isinstance(tid, str) else None


class _B2c:
    def __init__(self, sandbox: XoltaSandbox) -> None:
        self._sandbox = sandbox

    def _now(self) -> datetime:
        return self._sandbox.state.now()

    @staticmethod
    def _policy_ok(request: web.Request) -> bool:
        return request.match_info["policy"].lower() == POLICY.lower()

    async def authorize(self, request: web.Request) -> web.Response:
        if not self._policy_ok(request):
            return _error_page(404, "AADB2C90008: The policy does not exist.")
        query = request.query
        if query.get("client_id") != CLIENT_ID:
            return _error_page(
                400, "AADB2C90018: The client id specified in the request is not registered."
            )
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in REDIRECT_URIS:
            return _error_page(
                400, "AADB2C90006: The redirect URI provided in the request is not registered."
            )
        mode = query.get("response_mode", "query")
        state = query.get("state")

        def refuse(error: str, message: str) -> web.Response:
            params = {"error": error, "error_description": message}
            if state is not None:
                params["state"] = state
            return _redirect(redirect_uri, "fragment" if mode == "fragment" else "query", params)

        if mode not in ("query", "fragment"):
            return refuse("invalid_request", "AADB2C90079: response_mode is not supported.")
        if query.get("response_type") != "code":
            return refuse("unsupported_response_type", "AADB2C90055: Use response_type=code.")
        scopes = query.get("scope", "").split()
        if "openid" not in scopes or API_SCOPE not in scopes:
            return refuse(
                "invalid_request",
                f"AADB2C90117: The scope '{' '.join(scopes)}' provided in the request is not "
                "supported.",
            )
        challenge = query.get("code_challenge", "")
        if not challenge or query.get("code_challenge_method") != "S256":
            return refuse(
                "invalid_request", "AADB2C99059: The supplied request must present a code_challenge"
            )
        sandbox = self._sandbox
        tid = str(uuid.UUID(bytes=hashlib.sha256(sandbox._new_id("tid").encode()).digest()[:16]))
        csrf = sandbox._new_id("csrf", 64)
        sandbox._transactions[tid] = _Transaction(
            tid=tid,
            csrf=csrf,
            redirect_uri=redirect_uri,
            response_mode=mode,
            scope=" ".join(scopes),
            state=state,
            nonce=query.get("nonce"),
            code_challenge=challenge,
            created=self._now(),
        )
        tenant_path = f"/xolta.onmicrosoft.com/{POLICY}"
        settings: JSONObject = {
            "remoteResource": "https://xolta.b2clogin.com/static/unified.html",
            "retryLimit": 7,
            "trimSpacesInPassword": True,
            "api": "CombinedSigninAndSignup",
            "csrf": csrf,
            "transId": _tx_param(tid),
            "pageViewId": tid,
            "suppressElementCss": False,
            "isPageViewIdSentWithHeader": False,
            "allowAutoFocusOnPasswordField": True,
            "pageMode": 0,
            "config": {"showSignupLink": "True", "operatingMode": "Email"},
            "hosts": {"tenant": tenant_path, "policy": POLICY, "static": "/static/"},
            "locale": {"lang": "en"},
            "xhrSettings": {"retryEnabled": False},
        }
        response = web.Response(text=_login_page(settings), content_type="text/html")
        secure = request.secure
        for name, value in (
            ("x-ms-cpim-csrf", csrf),
            ("x-ms-cpim-trans", _trans_cookie(tid)),
            (f"x-ms-cpim-cache|{tid[:8]}_0", _b64url(dumps({"TID": tid, "I": 0}).encode())),
        ):
            response.set_cookie(name, value, path="/", httponly=True, secure=secure)
        return response

    def _transaction(self, request: web.Request, tx: str, csrf: str) -> _Transaction | str:
        """The transaction a SelfAsserted/confirmed request belongs to, or why it is refused."""
        tid = _tid_from_tx(tx)
        transaction = self._sandbox._transactions.get(tid or "")
        if transaction is None:
            return "unknown or missing transaction (tx)"
        if self._now() - transaction.created > TRANSACTION_LIFETIME:
            return "the transaction has expired"
        if _tid_from_cookie(request.cookies.get("x-ms-cpim-trans")) != tid:
            return "the x-ms-cpim-trans cookie is missing or belongs to another transaction"
        cookie_csrf = request.cookies.get("x-ms-cpim-csrf")
        if not cookie_csrf or cookie_csrf != transaction.csrf or csrf != cookie_csrf:
            return "the CSRF token does not match the x-ms-cpim-csrf cookie"
        return transaction

    async def self_asserted(self, request: web.Request) -> web.Response:
        if not self._policy_ok(request) or request.query.get("p", "").lower() != POLICY.lower():
            return _error_page(404, "AADB2C90008: The policy does not exist.")
        found = self._transaction(
            request, request.query.get("tx", ""), request.headers.get("X-CSRF-TOKEN", "")
        )
        if isinstance(found, str):
            return json_response({"status": "400", "message": f"Request blocked: {found}."}, 400)
        form = await request.post()
        username = str(form.get("email", "")).strip().lower()
        password = str(form.get("password", ""))
        if form.get("request_type") != "RESPONSE":
            return json_response({"status": "400", "message": "Bad request_type."}, 400)
        known = self._sandbox.passwords.get(username)
        if known is None:
            return json_response(
                {
                    "status": "400",
                    "errorCode": "AADB2C90053",
                    "message": "We can't seem to find your account.",
                }
            )
        if not hmac.compare_digest(known, password):
            return json_response(
                {
                    "status": "400",
                    "errorCode": "AADB2C90054",
                    "message": "Your password is incorrect.",
                }
            )
        found.username = username
        return json_response({"status": "200"})

    async def confirmed(self, request: web.Request) -> web.Response:
        query = request.query
        if not self._policy_ok(request) or query.get("p", "").lower() != POLICY.lower():
            return _error_page(404, "AADB2C90008: The policy does not exist.")
        found = self._transaction(request, query.get("tx", ""), query.get("csrf_token", ""))
        if isinstance(found, str):
            return _error_page(400, f"Request blocked: {found}.")
        del self._sandbox._transactions[found.tid]
        params: dict[str, str] = {}
        if found.username is None:
            params = {
                "error": "access_denied",
                "error_description": "AADB2C90091: The user has not signed in.",
            }
        else:
            code = self._sandbox._new_id("code", 48)
            self._sandbox._codes[code] = _Code(
                username=found.username,
                redirect_uri=found.redirect_uri,
                code_challenge=found.code_challenge,
                scope=found.scope,
                nonce=found.nonce,
                expires=self._now() + CODE_LIFETIME,
            )
            params = {"code": code}
        if found.state is not None:
            params["state"] = found.state
        return _redirect(found.redirect_uri, found.response_mode, params)

    async def token(self, request: web.Request) -> web.Response:
        if not self._policy_ok(request):
            return _error_page(404, "AADB2C90008: The policy does not exist.")
        form = await request.post()
        values = {key: str(value) for key, value in form.items()}
        now = self._now()
        client_id = values.get("client_id")
        if client_id not in (None, CLIENT_ID):
            return _b2c_error(
                "invalid_client", "AADB2C90018", "The client id is not registered.", now
            )
        match values.get("grant_type"):
            case "authorization_code":
                return self._redeem_code(values, now)
            case "refresh_token":
                return self._redeem_refresh(values, now)
            case _:
                return _b2c_error(
                    "unsupported_grant_type", "AADB2C90086", "The grant type is not supported.", now
                )

    def _redeem_code(self, values: Mapping[str, str], now: datetime) -> web.Response:
        sandbox = self._sandbox
        grant = sandbox._codes.get(values.get("code", ""))
        if grant is None or grant.used:
            return _b2c_error(
                "invalid_grant", "AADB2C90088", "The provided grant has not been issued.", now
            )
        if grant.expires <= now:
            return _b2c_error(
                "invalid_grant",
                "AADB2C90080",
                "The provided grant has expired. Please re-authenticate and try again.",
                now,
            )
        if values.get("redirect_uri") != grant.redirect_uri:
            return _b2c_error(
                "invalid_grant", "AADB2C90006", "The redirect URI does not match.", now
            )
        verifier = values.get("code_verifier", "")
        if _b64url(hashlib.sha256(verifier.encode()).digest()) != grant.code_challenge:
            return _b2c_error(
                "invalid_grant", "AADB2C90183", "The supplied code_verifier is invalid.", now
            )
        grant.used = True
        sandbox._sessions.append(
            _LoginSession(
                username=grant.username,
                expires=now + sandbox.refresh_token_lifetime,
                offline="offline_access" in grant.scope.split(),
            )
        )
        sandbox.logins += 1
        return json_response(
            sandbox._token_response(len(sandbox._sessions) - 1, grant.nonce, grant.scope)
        )

    def _redeem_refresh(self, values: Mapping[str, str], now: datetime) -> web.Response:
        sandbox = self._sandbox
        index = sandbox._refresh_tokens.get(values.get("refresh_token", ""))
        if index is None:
            return _b2c_error(
                "invalid_grant", "AADB2C90088", "The provided grant has not been issued.", now
            )
        session = sandbox._sessions[index]
        if session.revoked:
            return _b2c_error(
                "invalid_grant",
                "AADB2C90129",
                "The provided grant has been revoked. Please reauthenticate and try again.",
                now,
            )
        if session.expires <= now:
            return _b2c_error(
                "invalid_grant",
                "AADB2C90080",
                "The provided grant has expired. Please re-authenticate and try again. "
                f"Current time: {int(now.timestamp())}, "
                f"Grant expiration time: {int(session.expires.timestamp())}",
                now,
            )
        sandbox.refreshes += 1
        scope = values.get("scope") or f"openid offline_access {API_SCOPE}"
        return json_response(sandbox._token_response(index, None, scope))


# --- the App API ---------------------------------------------------------------------------------


class _BadRequest(Exception):
    """A 400 with a problem-details body."""


def _parse_time(name: str, text: str | None) -> datetime:
    if not text:
        raise _BadRequest(f"The {name} field is required.")
    if text.count("+") or re.search(r"\.\d", text):
        # the quirk: '...+00:00Z' and fractional seconds are refused
        raise _BadRequest(f"The value '{text}' is not valid for {name}.")
    moment = parse_timestamp(text)
    if moment is None:
        raise _BadRequest(f"The value '{text}' is not valid for {name}.")
    return moment


class _Api:
    def __init__(self, sandbox: XoltaSandbox) -> None:
        self._sandbox = sandbox

    def _user(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self._sandbox.user_for_access_token(token.strip())

    @staticmethod
    def _unauthorized() -> web.Response:
        return _problem(401, "Unauthorized", {"WWW-Authenticate": 'Bearer error="invalid_token"'})

    def _site(self, request: web.Request, username: str) -> str:
        site_id = request.query.get("siteId", "")
        if not site_id:
            raise _BadRequest("The siteId field is required.")
        sites = {name.lower(): account.sites for name, account in ACCOUNTS.items()}
        if site_id not in sites.get(username, ()):
            raise web.HTTPNotFound(
                text=dumps(error_body(404, f"Site '{site_id}' not found")),
                content_type="application/problem+json",
            )
        return site_id

    async def site_group(self, request: web.Request) -> web.Response:
        username = self._user(request)
        if username is None:
            return self._unauthorized()
        account = next(a for name, a in ACCOUNTS.items() if name.lower() == username)
        return json_response(
            {"sites": [{"siteId": site, "name": SITES[site].name} for site in account.sites]}
        )

    async def site_status(self, request: web.Request) -> web.Response:
        username = self._user(request)
        if username is None:
            return self._unauthorized()
        site_id = self._site(request, username)
        return json_response({"data": [status_record(site_id, self._sandbox.state.now())]})

    async def data_summary(self, request: web.Request) -> web.Response:
        username = self._user(request)
        if username is None:
            return self._unauthorized()
        site_id = self._site(request, username)
        return summary_response(self._sandbox, site_id, request.query)


def summary_response(sandbox: XoltaSandbox, site_id: str, query: Mapping[str, str]) -> web.Response:
    """`GetDataSummary`'s answer for `site_id` (App API and official API alike)."""
    start = _parse_time("fromDateTime", query.get("fromDateTime"))
    end = _parse_time("toDateTime", query.get("toDateTime"))
    resolution_text = query.get("resolutionMin", "")
    if not re.fullmatch(r"[0-9]{1,4}", resolution_text):
        raise _BadRequest(f"The value '{resolution_text}' is not valid for resolutionMin.")
    resolution = int(resolution_text)
    if resolution == 0 or resolution > _MINUTES or _MINUTES % resolution:
        raise _BadRequest("resolutionMin must divide a day (1, 5, 10, 15, 30, 60, ...).")
    if end <= start:
        raise _BadRequest("toDateTime must be after fromDateTime.")
    if end - start > MAX_SUMMARY_RANGE:
        raise _BadRequest("The range may not exceed 31 days.")
    consumption = query.get("CalculateConsumptionNeeded", "false").lower() == "true"
    if sandbox.empty_summaries:
        return json_response({"telemetry": []})
    step = timedelta(minutes=resolution)
    now = sandbox.state.now()
    last = min(end, now)
    epoch = int(start.timestamp())
    first_end = datetime.fromtimestamp(epoch - epoch % (resolution * 60), UTC) + step
    telemetry = []
    bucket_end = first_end
    while bucket_end <= last:
        telemetry.append(summary_record(site_id, bucket_end, resolution, consumption))
        bucket_end += step
    return json_response({"telemetry": telemetry})


@web.middleware
async def _bad_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _BadRequest as err:
        return _problem(400, str(err))


def add_routes(app: web.Application, state: SandboxState) -> None:
    """Mount the B2C tenant and the App API on `app` (the vendor's subapp)."""
    sandbox = XoltaSandbox(state)
    app[SANDBOX_KEY] = sandbox
    b2c = _B2c(sandbox)
    api = _Api(sandbox)
    app.middlewares.append(_bad_requests)
    policy = f"{AUTHORITY_PATH}/{{policy}}"
    app.router.add_routes(
        [
            web.get(f"{policy}/oauth2/v2.0/authorize", b2c.authorize),
            web.post(f"{policy}/SelfAsserted", b2c.self_asserted),
            web.get(f"{policy}/api/CombinedSigninAndSignup/confirmed", b2c.confirmed),
            web.post(f"{policy}/oauth2/v2.0/token", b2c.token),
            web.get(f"{API_PATH}/SiteGroup", api.site_group),
            web.get(f"{API_PATH}/siteStatus", api.site_status),
            web.get(f"{API_PATH}/GetDataSummary", api.data_summary),
        ]
    )
    xolta_official.add_routes(app, state)
