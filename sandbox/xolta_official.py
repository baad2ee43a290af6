"""XOLTA's official ("External") API, emulated: client-credentials tokens, device status and
state/mode commands, with a battery that follows them.

Mounted by `sandbox.xolta.add_routes` under the XOLTA prefix:

    /xolta/login/<tenant id>/oauth2/v2.0/token   client-credentials grant (Azure AD v2.0)
    /xolta/external/api/deviceStatus             every device of the client
    /xolta/external/api/SendStateModeCommand     GoToState_Running / _Idling,
                                                 GoToMode_SelfConsumption / _ExternalControl
    /xolta/external/api/GetDataSummary           as the App API's, by DeviceId and SiteId

Shapes: see `custom_components/energy_hub/api/xolta_official.py` (what is VERIFIED and what was
chosen). The battery of each site follows the house model (`sandbox.xolta`) until the first
command; from then on it is integrated here on the sandbox's clock: while idling it rests;
under external control it moves at the setpoint (XOLTA's sign: + discharges); in
self-consumption it covers the house's deficit and absorbs its surplus as the house model
does (40 W dead band, 5 kW). It stops at 100 % and at the 5 % reserve. Grid power balances:
`grid = load - pv - battery`. Summaries stay the house model's (its energy counters do not
follow commands).

Faults besides the shared ones (`XoltaOfficial` via `official_of(app)`): `refuse_commands`
(HTTP 409 problem), `ignore_commands` (200, but the device keeps its state: unconfirmed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import json
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .common import JSONObject, as_utc, dumps, json_response, parse_timestamp

if TYPE_CHECKING:
    from .state import SandboxState

TENANT_ID: Final = "145c2c43-a8da-46ab-b5da-1d4de444ed82"
SCOPE: Final = "https://Xolta.onmicrosoft.com/TelemetryAPI/.default"
LOGIN_PATH: Final = f"/login/{TENANT_ID}"
"""The authority below the vendor prefix: `authority_url = <sandbox>/xolta` + this."""
EXTERNAL_PATH: Final = "/external/api"
"""The official API below the vendor prefix: `base_url = <sandbox>/xolta` + this."""
ACCESS_TOKEN_LIFETIME: Final = timedelta(hours=1)

CAPACITY_WMIN: Final = 600_000  # 10 kWh in watt-minutes, as the house model's battery
RESERVE_WMIN: Final = 30_000  # 5 %
RATED_POWER_W: Final = 5000
DEAD_BAND_W: Final = 40

RUNNING: Final = "Running"
IDLING: Final = "Idling"
SELF_CONSUMPTION: Final = "SelfConsumption"
EXTERNAL_CONTROL: Final = "ExternalControl"


@dataclass(frozen=True, slots=True)
class Client:
    """A client id XOLTA issued: its secret and the sites of its devices."""

    secret: str
    sites: tuple[str, ...]


CLIENTS: Final[Mapping[str, Client]] = {
    "sandbox-client": Client("sandbox-secret", ("sandbox-house",)),
    "two-sites-client": Client("sandbox-secret", ("sandbox-house", "sandbox-cottage")),
}


def device_id(site_id: str) -> str:
    """The device of a sandbox site."""
    return f"XB-{site_id.removeprefix('sandbox-').upper()}"


@dataclass(slots=True)
class Battery:
    """One site's device as the commands left it; `since` None: the house model still runs it."""

    site_id: str
    state: str = RUNNING
    mode: str = SELF_CONSUMPTION
    setpoint_w: float = 0.0
    since: datetime | None = None
    stored_wmin: float = 0.0
    power_w: float = 0.0
    """The power at the last advance (+ discharging)."""

    def _want(self, minute: datetime) -> float:
        from . import xolta as house  # noqa: PLC0415 (a cycle: xolta mounts this module)

        if self.state == IDLING:
            return 0.0
        if self.mode == EXTERNAL_CONTROL:
            return max(-RATED_POWER_W, min(RATED_POWER_W, self.setpoint_w))
        power = house.minute_power(self.site_id, minute)
        want = power.load_w - power.pv_w
        return 0.0 if abs(want) < DEAD_BAND_W else max(-RATED_POWER_W, min(RATED_POWER_W, want))

    def take_over(self, now: datetime) -> None:
        """From now on the battery is integrated here (the first command)."""
        from . import xolta as house  # noqa: PLC0415

        if self.since is None:
            self.since = as_utc(now)
            self.stored_wmin = house.soc_percent(self.site_id, now) / 100 * CAPACITY_WMIN

    def advance(self, now: datetime) -> None:
        """Integrate the stored energy up to `now`, minute piece by minute piece."""
        if self.since is None:
            return
        now = as_utc(now)
        moment = self.since
        while moment < now:
            minute_end = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
            stop = min(now, minute_end)
            minutes = (stop - moment).total_seconds() / 60
            power = self._want(moment)
            if power > 0:
                power = min(power, max(0.0, self.stored_wmin - RESERVE_WMIN) / minutes)
            elif power < 0:
                power = max(power, -max(0.0, CAPACITY_WMIN - self.stored_wmin) / minutes)
            self.stored_wmin -= power * minutes
            self.power_w = power
            moment = stop
        self.since = now
        if self.state != IDLING:  # the power now, for the status
            want = self._want(now)
            full = want < 0 and self.stored_wmin >= CAPACITY_WMIN
            empty = want > 0 and self.stored_wmin <= RESERVE_WMIN
            self.power_w = 0.0 if full or empty else want
        else:
            self.power_w = 0.0

    def soc_percent(self, now: datetime) -> float:
        from . import xolta as house  # noqa: PLC0415

        if self.since is None:
            return house.soc_percent(self.site_id, now)
        self.advance(now)
        return self.stored_wmin / CAPACITY_WMIN * 100


def battery_soc(stored_wmin: float) -> float:
    """State of charge (%) of a stored amount (watt-minutes)."""
    return stored_wmin / CAPACITY_WMIN * 100


@dataclass(slots=True)
class XoltaOfficial:
    """The official API's mutable state: tokens, the batteries, commands and faults."""

    state: SandboxState
    secrets: dict[str, str] = field(
        default_factory=lambda: {name: client.secret for name, client in CLIENTS.items()}
    )
    tokens: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    batteries: dict[str, Battery] = field(default_factory=dict)
    commands: list[JSONObject] = field(default_factory=list)
    """Every command received (refused ones too): `{"DeviceId", "CommandName", "Payload"}`."""
    refuse_commands: bool = False
    """Fault: commands answer HTTP 409 (the device cannot take them now)."""
    ignore_commands: bool = False
    """Fault: commands answer 200 but the device does not follow (unconfirmed)."""
    token_requests: int = 0
    _counter: int = 0

    def battery(self, site_id: str) -> Battery:
        return self.batteries.setdefault(site_id, Battery(site_id))

    def _client_of(self, request: web.Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        held = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if held is None or held[1] <= self.state.now():
            return None
        return held[0]

    # --- handlers ------------------------------------------------------------------------

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests += 1
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", "AADSTS70003")
        client_id = str(form.get("client_id", ""))
        if form.get("scope") != SCOPE:
            return _aad_error(400, "invalid_scope", "AADSTS70011")
        if client_id not in CLIENTS:
            return _aad_error(400, "unauthorized_client", "AADSTS700016")
        if self.secrets.get(client_id) != form.get("client_secret"):
            return _aad_error(401, "invalid_client", "AADSTS7000215")
        self._counter += 1
        token = f"ext-{self._counter:06d}"
        lifetime = int(ACCESS_TOKEN_LIFETIME.total_seconds())
        self.tokens[token] = (client_id, self.state.now() + ACCESS_TOKEN_LIFETIME)
        return json_response(
            {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime}
            | {"access_token": token}
        )

    def status_record(self, site_id: str, now: datetime) -> JSONObject:
        """A device's record: the battery as commanded, the house model's PV and load."""
        from . import xolta as house  # noqa: PLC0415

        battery = self.battery(site_id)
        minute = house.minute_power(site_id, now)
        if battery.since is None:
            power = float(minute.battery_w)
            soc = house.soc_percent(site_id, now)
        else:
            soc = battery.soc_percent(now)
            power = battery.power_w
        grid = minute.load_w - minute.pv_w - power
        controlled = battery.mode == EXTERNAL_CONTROL
        return {
            "deviceId": device_id(site_id),
            "siteId": site_id,
            "siteName": house.SITES[site_id].name,
            "state": battery.state,
            "mode": battery.mode,
            "setPoint": {"batteryActivePower": round(battery.setpoint_w / 1000, 6)}
            if controlled
            else None,
            "inverterRatedActivePower": RATED_POWER_W / 1000,
            "bmsSocRawArrayCloudTrimmed": round(soc, 2),
            "inverterActivePower": round(power / 1000, 6),
            "meterPvActivePower": round(minute.pv_w / 1000, 6),
            "meterGridActivePower": round(grid / 1000, 6),
            "utcTime": as_utc(now).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    async def device_status(self, request: web.Request) -> web.Response:
        client = self._client_of(request)
        if client is None:
            return _unauthorized()
        now = self.state.now()
        return json_response([self.status_record(site, now) for site in CLIENTS[client].sites])

    async def command(self, request: web.Request) -> web.Response:
        from . import xolta as house  # noqa: PLC0415

        client = self._client_of(request)
        if client is None:
            return _unauthorized()
        try:
            body: Any = json.loads(await request.text())
        except ValueError:
            return house._problem(400, "The body must be JSON.")
        if not isinstance(body, dict):
            return house._problem(400, "The body must be a JSON object.")
        self.commands.append(body)
        sites = {device_id(site): site for site in CLIENTS[client].sites}
        site = sites.get(str(body.get("DeviceId")))
        if site is None:
            return house._problem(404, "Device not found")
        if self.refuse_commands:
            return house._problem(409, "The device cannot take commands now")
        name = body.get("CommandName")
        now = self.state.now()
        battery = self.battery(site)
        setpoint: float | None = None
        if name == "GoToMode_ExternalControl":
            setpoint = _setpoint(body.get("Payload"))
            if setpoint is None:
                return house._problem(400, "The setPoint is missing or unreadable.")
        elif name not in ("GoToState_Running", "GoToState_Idling", "GoToMode_SelfConsumption"):
            return house._problem(400, f"Unknown command '{name}'")
        if self.ignore_commands:
            return json_response({"success": True})
        battery.take_over(now)
        battery.advance(now)
        match name:
            case "GoToState_Running":
                battery.state = RUNNING
            case "GoToState_Idling":
                battery.state = IDLING
            case "GoToMode_SelfConsumption":
                battery.mode = SELF_CONSUMPTION
            case _:
                assert setpoint is not None
                battery.mode = EXTERNAL_CONTROL
                battery.setpoint_w = setpoint
        battery.advance(now)  # the power from now on
        return json_response({"success": True})

    async def data_summary(self, request: web.Request) -> web.Response:
        """The App API's summary, by DeviceId and SiteId (the house model)."""
        from . import xolta as house  # noqa: PLC0415

        client = self._client_of(request)
        if client is None:
            return _unauthorized()
        site = request.query.get("SiteId", "")
        if site not in CLIENTS[client].sites or request.query.get("DeviceId") != device_id(site):
            return house._problem(404, "Device not found")
        return house.summary_response(house.sandbox_of(request.app), site, request.query)


def _setpoint(payload: Any) -> float | None:
    """W (+ discharging) from `{"setPoint": {"1": {"utcTime", "batteryActivePower": kW}}}`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("setPoint"), dict):
        return None
    point = payload["setPoint"].get("1")
    if not isinstance(point, dict) or parse_timestamp(str(point.get("utcTime", ""))) is None:
        return None
    power = point.get("batteryActivePower")
    if isinstance(power, bool) or not isinstance(power, int | float):
        return None
    return float(power) * 1000


def _aad_error(status: int, error: str, code: str) -> web.Response:
    return web.Response(
        text=dumps({"error": error, "error_description": f"{code}: sandbox", "error_codes": [0]}),
        status=status,
        content_type="application/json",
    )


def _unauthorized() -> web.Response:
    return web.Response(
        text=dumps({"type": "about:blank", "title": "Unauthorized", "status": 401}),
        status=401,
        content_type="application/problem+json",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


OFFICIAL_KEY: Final = web.AppKey("xolta_official", XoltaOfficial)


def official_of(app: web.Application) -> XoltaOfficial:
    """The official API's state in an app made by `create_app` (or in the XOLTA subapp)."""
    if OFFICIAL_KEY in app:
        return app[OFFICIAL_KEY]
    for resource in app.router.resources():
        subapp = resource.get_info().get("app")
        if isinstance(subapp, web.Application) and OFFICIAL_KEY in subapp:
            return subapp[OFFICIAL_KEY]
    raise LookupError("no XOLTA official API in this app")


def add_routes(app: web.Application, state: SandboxState) -> None:
    """Mount the official API on the XOLTA subapp."""
    official = XoltaOfficial(state)
    app[OFFICIAL_KEY] = official
    app.router.add_routes(
        [
            web.post(f"{LOGIN_PATH}/oauth2/v2.0/token", official.token),
            web.get(f"{EXTERNAL_PATH}/deviceStatus", official.device_status),
            web.post(f"{EXTERNAL_PATH}/SendStateModeCommand", official.command),
            web.get(f"{EXTERNAL_PATH}/GetDataSummary", official.data_summary),
        ]
    )
