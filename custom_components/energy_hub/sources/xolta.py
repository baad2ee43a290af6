"""XOLTA home battery: live power per site, energy counters from the cloud's interval averages.

Requests (fair use: the current state at most once a minute):
- ``siteStatus`` once a minute: SoC and battery, PV, grid and house power;
- ``GetDataSummary`` every 10 minutes, 2 minutes after each 10-minute boundary: the one-minute
  buckets since the last one counted. Each bucket's average power times its length is added to the
  energy counters, and the end of the last bucket counted is kept with the counters (and
  persisted), so across polls and restarts every bucket is counted once and none is missed;
- ``GetDataSummary`` once an hour for the long-term statistics: the hours not held yet (the
  first run: the whole backfill, one request per 31 days).
A bucket XOLTA has no values for (an upload outage) adds nothing; while it is recent it is
asked for again, in case the data arrives late. A bucket XOLTA does not return at all after the
last one it returned (an empty answer: its summaries lag behind) is "not yet": the counters
never pass it, and it is asked for at each count until it comes (within the 31-day catch-up).
A bucket missing between two returned ones is asked for again while recent, then is a gap.

Signs are Energy Hub's (the client's): battery + discharging, grid + importing.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
import logging
from typing import Any, ClassVar, Final

import aiohttp
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import selector
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..api.errors import ApiError
from ..api.xolta import (
    DEFAULT_AUTHORITY_URL,
    DEFAULT_BASE_URL,
    TENANT_ID,
    XoltaClient,
    XoltaInterval,
    XoltaStatus,
)
from ..api.xolta_official import (
    DEFAULT_AUTHORITY_URL as OFFICIAL_AUTHORITY_URL,
    DEFAULT_BASE_URL as OFFICIAL_BASE_URL,
    GO_IDLING,
    GO_RUNNING,
    GO_SELF_CONSUMPTION,
    MODE_EXTERNAL_CONTROL,
    MODE_SELF_CONSUMPTION,
    STATE_IDLING,
    STATE_RUNNING,
    XoltaCommandRefusedError,
    XoltaDevice,
    XoltaOfficialClient,
)
from ..const import CONF_ADVANCED, CONF_SOURCE, DOMAIN
from .base import (
    CredentialsStep,
    DeviceSpec,
    EntrySpec,
    FlowError,
    FlowStep,
    FormSpec,
    HistorySeries,
    Reading,
    StatisticSpec,
    advanced_data,
    advanced_section,
    entry_base_url,
    floor_hour,
    secret_selector,
    username_selector,
)
from .battery import HOUR, BatterySource, choice_form, counters_from

_LOGGER = logging.getLogger(__name__)

KEY = "xolta"
SITE_STEP = "xolta_site"
CONF_REFRESH_TOKEN = "refresh_token"  # noqa: S105 (a field name)
CONF_SITE_ID = "site_id"
CONF_SITE_NAME = "site_name"
API_STEP = "xolta_api"
#: How the entry reaches XOLTA: ``api`` (the official API, client credentials; stored as the
#: entry's username and password, which diagnostics redact) or the app's sign-in (absent).
CONF_CONNECTION = "connection"
CONNECTION_API = "api"
CONNECTION_APP = "app"
CONF_CLIENT_ID = "client_id"
CONF_CLIENT_SECRET = "client_secret"  # noqa: S105 (a field name)

#: The battery's modes (the select's options) and the official API's state and mode of each.
MODE_SELF = "self_consumption"
MODE_EXTERNAL = "external_control"
MODE_IDLE = "idle"
BATTERY_MODES: Final = (MODE_SELF, MODE_EXTERNAL, MODE_IDLE)
#: The battery's rated power when XOLTA's status does not say it (chosen: 5 kW).
DEFAULT_RATED_POWER_W = 5000.0

STATUS_INTERVAL = timedelta(minutes=1)
BUCKET = timedelta(minutes=10)
#: Ask for a bucket this long after it ends: the device uploads once a minute.
SETTLE = timedelta(minutes=2)
#: A bucket without values is asked for again until it is this old (late uploads).
NULL_GRACE = timedelta(minutes=30)
#: After a long downtime, count at most this far back (one request).
MAX_CATCH_UP = timedelta(days=31)
HISTORY_DELAY = timedelta(minutes=5)
#: An hour with minutes missing is asked for again while it is younger than this.
REFETCH_INCOMPLETE = timedelta(days=1)
#: Minutes per bucket asked of GetDataSummary. XOLTA's app asks for 10 (VERIFIED); 1 (UNVERIFIED,
#: the devices upload every minute) keeps charge and discharge within a bucket apart: with 10,
#: a battery that changes direction inside a bucket nets them (about 3.5 % low in the sandbox).
RESOLUTION_MIN = 1

#: Counter (metric and statistic suffix) -> the bucket's energy.
COUNTERS: Final = (
    "battery_charged_energy",
    "battery_discharged_energy",
    "pv_energy",
    "grid_import_energy",
    "grid_export_energy",
    "house_energy",
)
_COUNTER_NAMES: Final = {
    "battery_charged_energy": "battery charged",
    "battery_discharged_energy": "battery discharged",
    "pv_energy": "PV produced",
    "grid_import_energy": "grid imported",
    "grid_export_energy": "grid exported",
    "house_energy": "house consumption",
}


def bucket_energy(bucket: XoltaInterval) -> dict[str, float | None]:
    """Each counter's energy (kWh) in one bucket; None where XOLTA has no value."""
    return {
        "battery_charged_energy": bucket.battery_charge_kwh,
        "battery_discharged_energy": bucket.battery_discharge_kwh,
        "pv_energy": bucket.pv_kwh,
        "grid_import_energy": bucket.grid_import_kwh,
        "grid_export_energy": bucket.grid_export_kwh,
        "house_energy": bucket.load_kwh,
    }


def floor_bucket(when: datetime) -> datetime:
    """The start of the 10-minute bucket (UTC) holding ``when``."""
    when = when.astimezone(UTC).replace(second=0, microsecond=0)
    return when - timedelta(minutes=when.minute % 10)


def is_official(data: Mapping[str, Any]) -> bool:
    """Whether an entry (or a flow's data) uses XOLTA's official API."""
    return data.get(CONF_CONNECTION) == CONNECTION_API


def xolta_official_urls(data: Mapping[str, Any]) -> tuple[str, str]:
    """(official API, Azure AD authority). XOLTA's own by default; another base holds both:
    ``<base>/external/api`` and ``<base>/login/<tenant>``."""
    base = entry_base_url(KEY, DEFAULT_BASE_URL, data)
    if base == DEFAULT_BASE_URL:
        return OFFICIAL_BASE_URL, OFFICIAL_AUTHORITY_URL
    return f"{base}/external/api", f"{base}/login/{TENANT_ID}"


def xolta_urls(data: Mapping[str, Any]) -> tuple[str, str]:
    """(data API, B2C authority). XOLTA's own hosts by default; another base (the sandbox, or
    the flow's advanced section) holds both: ``<base>/api`` and ``<base>/b2c/<tenant>``."""
    base = entry_base_url(KEY, DEFAULT_BASE_URL, data)
    if base == DEFAULT_BASE_URL:
        return DEFAULT_BASE_URL, DEFAULT_AUTHORITY_URL
    return f"{base}/api", f"{base}/b2c/{TENANT_ID}"


type AnyXoltaClient = XoltaClient | XoltaOfficialClient


def _official_client(
    session: aiohttp.ClientSession, data: Mapping[str, Any]
) -> XoltaOfficialClient:
    base_url, authority_url = xolta_official_urls(data)
    return XoltaOfficialClient(
        session,
        str(data.get(CONF_USERNAME) or ""),
        str(data.get(CONF_PASSWORD) or ""),
        base_url=base_url,
        authority_url=authority_url,
        clock=lambda: dt_util.utcnow().timestamp(),
    )


def _client(
    session: aiohttp.ClientSession, data: Mapping[str, Any], refresh_token: str | None = None
) -> XoltaClient:
    base_url, authority_url = xolta_urls(data)
    return XoltaClient(
        session,
        str(data.get(CONF_USERNAME) or "") or None,
        str(data.get(CONF_PASSWORD) or "") or None,
        refresh_token=refresh_token or data.get(CONF_REFRESH_TOKEN) or None,
        base_url=base_url,
        authority_url=authority_url,
        clock=lambda: dt_util.utcnow().timestamp(),  # Home Assistant's clock
    )


def _fingerprint(data: Mapping[str, Any]) -> str:
    """Identifies the credentials a persisted refresh token was obtained with."""
    parts = (data.get(CONF_USERNAME), data.get(CONF_PASSWORD), data.get(CONF_REFRESH_TOKEN))
    return hashlib.sha256("\0".join(str(p or "") for p in parts).encode()).hexdigest()[:16]


def _secret(key: str, required: bool) -> dict[Any, Any]:
    marker = vol.Required if required else vol.Optional
    return {marker(key): secret_selector()}


def _credentials(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Password and/or refresh token (the refresh token from the advanced section too),
    stripped; at least one of them."""
    user_input = {**user_input, **(user_input.get(CONF_ADVANCED) or {})}
    out = {
        key: str(user_input.get(key) or "").strip() for key in (CONF_PASSWORD, CONF_REFRESH_TOKEN)
    }
    out = {key: value for key, value in out.items() if value}
    if not out:
        raise FlowError("password_or_token", CONF_PASSWORD)
    return out


def _token_rejected(err: FlowError, user_input: Mapping[str, Any]) -> bool:
    """Whether ``err`` is credentials rejected when only a refresh token was given (its own
    text: ``invalid_credentials`` names the user name and password)."""
    password = str(user_input.get(CONF_PASSWORD) or "").strip()
    return err.error == "invalid_credentials" and not password


def _api_credentials(user_input: Mapping[str, Any]) -> tuple[str, str]:
    """Client id and secret, stripped; FlowError where one is missing."""
    client_id = str(user_input.get(CONF_CLIENT_ID) or "").strip()
    secret = str(user_input.get(CONF_CLIENT_SECRET) or "").strip()
    if not client_id:
        raise FlowError("client_id_required", CONF_CLIENT_ID)
    if not secret:
        raise FlowError("client_secret_required", CONF_CLIENT_SECRET)
    return client_id, secret


def api_schema() -> vol.Schema:
    """The official API's credentials (and another server in the advanced section)."""
    return vol.Schema(
        {
            vol.Required(CONF_CLIENT_ID): selector.TextSelector(),
            vol.Required(CONF_CLIENT_SECRET): secret_selector(),
            **advanced_section(),
        }
    )


@dataclass(frozen=True, slots=True)
class Target:
    """What the battery should do: a mode, and the setpoint (W, + discharging) under external
    control."""

    mode: str
    setpoint_w: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "setpoint_w": self.setpoint_w}

    @classmethod
    def from_json(cls, stored: Any) -> Target | None:
        if not isinstance(stored, Mapping) or stored.get("mode") not in BATTERY_MODES:
            return None
        setpoint = stored.get("setpoint_w", 0.0)
        if isinstance(setpoint, bool) or not isinstance(setpoint, int | float):
            return None
        return cls(mode=str(stored["mode"]), setpoint_w=float(setpoint))


@dataclass(slots=True)
class Plan:
    """A timed charge or discharge: at ``power_w`` (+ discharging) until ``until`` or until the
    state of charge reaches ``soc``; then back to ``previous``."""

    power_w: float
    previous: Target
    until: datetime | None = None
    soc: float | None = None
    #: The return failed and was logged (logged once, tried again at each update).
    return_failed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "power_w": self.power_w,
            "previous": self.previous.as_json(),
            "until": self.until.isoformat() if self.until else None,
            "soc": self.soc,
        }

    @classmethod
    def from_json(cls, stored: Any) -> Plan | None:
        if not isinstance(stored, Mapping):
            return None
        previous = Target.from_json(stored.get("previous"))
        power, soc, until = stored.get("power_w"), stored.get("soc"), stored.get("until")
        if previous is None or isinstance(power, bool) or not isinstance(power, int | float):
            return None
        try:
            when = datetime.fromisoformat(until) if isinstance(until, str) else None
        except ValueError:
            return None
        level = float(soc) if isinstance(soc, int | float) and not isinstance(soc, bool) else None
        if when is None and level is None:
            return None
        return cls(power_w=float(power), previous=previous, until=when, soc=level)

    def done(self, device: XoltaDevice | None, now: datetime) -> bool:
        """Whether the plan has ended at ``now`` given the device's status."""
        if self.until is not None and now >= self.until:
            return True
        soc = device.status.soc_percent if device else None
        if self.soc is None or soc is None:
            return False
        return soc >= self.soc if self.power_w < 0 else soc <= self.soc


def mode_of(device: XoltaDevice | None) -> str | None:
    """The select's option for the device's state and mode; None when XOLTA says neither."""
    if device is None:
        return None
    if device.state == STATE_IDLING:
        return MODE_IDLE
    if device.mode == MODE_SELF_CONSUMPTION:
        return MODE_SELF
    if device.mode == MODE_EXTERNAL_CONTROL:
        return MODE_EXTERNAL
    return None


def confirms(device: XoltaDevice | None, target: Target) -> bool:
    """Whether the device's status shows ``target``."""
    if device is None or mode_of(device) != target.mode:
        return False
    if target.mode == MODE_EXTERNAL:
        return (
            device.state == STATE_RUNNING
            and device.setpoint_w is not None
            and (abs(device.setpoint_w - target.setpoint_w) < 0.5)
        )
    return target.mode == MODE_IDLE or device.state == STATE_RUNNING


def _control_error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


@dataclass(slots=True)
class XoltaData:
    """What the source holds: the site's current status and when it was fetched (and, on the
    official API, the device's status with its mode)."""

    status: XoltaStatus | None
    retrieved: datetime
    device: XoltaDevice | None = None


class XoltaSource(BatterySource[XoltaData, AnyXoltaClient]):
    """One XOLTA site: a device with power, SoC and energy counters."""

    key: ClassVar[str] = KEY
    flow_steps: ClassVar[tuple[str, ...]] = (KEY, SITE_STEP, API_STEP)
    counter_keys: ClassVar[tuple[str, ...]] = COUNTERS
    choice_step: ClassVar[str] = SITE_STEP
    choice_field: ClassVar[str] = CONF_SITE_ID
    choices_key: ClassVar[str] = "sites"
    none_found: ClassVar[str] = "no_sites"
    not_found: ClassVar[str] = "site_not_found"
    history_delay: ClassVar[timedelta] = HISTORY_DELAY

    def setup(self) -> None:
        """The site; how far the counters counted (nothing until restored)."""
        super().setup()
        self.site_id = str(self.data[CONF_SITE_ID])
        self.site_name = str(self.data.get(CONF_SITE_NAME) or self.site_id)
        #: End of the last bucket counted; None before the first update.
        self.counted_until: datetime | None = None
        self._summary_due: datetime | None = None
        #: Hourly amounts fetched for the statistics, and whether the hour was complete.
        self._hours: dict[datetime, tuple[dict[str, float], bool]] = {}
        #: The official API: the battery can be steered; a timed charge or discharge.
        self.official = is_official(self.data)
        self.plan: Plan | None = None
        self._device: XoltaDevice | None = None
        self._updated = False
        #: One command sequence at a time (entities, actions and a plan's return).
        self._control_lock = asyncio.Lock()

    # --- config flow -------------------------------------------------------------------
    @classmethod
    def build_client(
        cls, session: aiohttp.ClientSession, data: Mapping[str, Any]
    ) -> AnyXoltaClient:
        """XOLTA's official client (client credentials), or the app's (password or refresh
        token)."""
        if is_official(data):
            return _official_client(session, data)
        return _client(session, data)

    @classmethod
    async def list_batteries(cls, client: AnyXoltaClient) -> dict[str, str]:
        """The account's sites by name."""
        return {site.site_id: site.name or site.site_id for site in await client.sites()}

    @classmethod
    def login_schema(cls) -> vol.Schema:
        """How to connect (the official API's credentials, recommended where the user has
        them, on the next form), then the app's username and password (or a refresh token in
        the advanced section)."""
        connection = selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[CONNECTION_API, CONNECTION_APP],
                mode=selector.SelectSelectorMode.LIST,
                translation_key=CONF_CONNECTION,
            )
        )
        return vol.Schema(
            {
                vol.Optional(CONF_CONNECTION, default=CONNECTION_APP): connection,
                vol.Optional(CONF_USERNAME): username_selector(email=True),
                **_secret(CONF_PASSWORD, required=False),
                **advanced_section(*_secret(CONF_REFRESH_TOKEN, required=False).items()),
            }
        )

    @classmethod
    def credentials(cls, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """The password and/or the refresh token."""
        return _credentials(user_input)

    @classmethod
    def credential_updates(cls, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """The official API's client secret (and client id): the entry moves to (or stays on)
        the official API. Else a new password, or a new refresh token: the other one is
        dropped."""
        client_id = str(user_input.get(CONF_CLIENT_ID) or "").strip()
        secret = str(user_input.get(CONF_CLIENT_SECRET) or "").strip()
        if client_id or secret:
            if not secret:
                raise FlowError("client_secret_required", CONF_CLIENT_SECRET)
            updates: dict[str, Any] = {
                CONF_CONNECTION: CONNECTION_API,
                CONF_PASSWORD: secret,
                CONF_REFRESH_TOKEN: None,
            }
            return updates | ({CONF_USERNAME: client_id} if client_id else {})
        return {CONF_CONNECTION: None, CONF_PASSWORD: None, CONF_REFRESH_TOKEN: None} | (
            _credentials(user_input)
        )

    @classmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        """The first form, the official API's credentials, the site."""
        if step_id == API_STEP:
            return FormSpec(step_id=API_STEP, schema=api_schema())
        return super().flow_form(step_id, user_input)

    @classmethod
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec | FormSpec:
        """The official API's form when chosen; else as every battery source's (a refresh
        token rejected, no password typed, says so)."""
        if step.step_id == API_STEP:
            return await cls._async_api_submit(step)
        if step.step_id == KEY and step.user_input.get(CONF_CONNECTION) == CONNECTION_API:
            return FormSpec(step_id=API_STEP, schema=api_schema())
        if step.step_id == KEY and not str(step.user_input.get(CONF_USERNAME) or "").strip():
            raise FlowError("username_required", CONF_USERNAME)
        try:
            return await super().async_flow_submit(step)
        except FlowError as err:
            if _token_rejected(err, step.user_input):
                raise FlowError("invalid_refresh_token") from err
            raise

    @classmethod
    async def _async_api_submit(cls, step: FlowStep) -> EntrySpec | FormSpec:
        """The client's devices: the entry of its only site, or the site step."""
        client_id, secret = _api_credentials(step.user_input)
        data: dict[str, Any] = {
            CONF_SOURCE: KEY,
            CONF_CONNECTION: CONNECTION_API,
            CONF_USERNAME: client_id,
            CONF_PASSWORD: secret,
        }
        data |= advanced_data(step.user_input)
        try:
            found = await cls.batteries(cls.build_client(step.session, data))
        except FlowError as err:
            if err.error == "invalid_credentials":
                raise FlowError("invalid_client_credentials") from err
            raise
        if len(found) == 1:
            battery, name = next(iter(found.items()))
            return cls.entry(data, battery, name)
        step.state["data"] = data
        step.state[cls.choices_key] = found
        return choice_form(cls.choice_step, cls.choice_field, cls.choice_labels(found))

    @classmethod
    async def async_credentials_submit(cls, step: CredentialsStep) -> tuple[str, dict[str, Any]]:
        """As every battery source's; a refresh token rejected (no password typed) says so;
        rejected client credentials say so."""
        try:
            return await super().async_credentials_submit(step)
        except FlowError as err:
            if err.error == "invalid_credentials" and (
                step.user_input.get(CONF_CLIENT_SECRET) or step.user_input.get(CONF_CLIENT_ID)
            ):
                raise FlowError("invalid_client_credentials") from err
            if _token_rejected(err, step.user_input):
                raise FlowError("invalid_refresh_token") from err
            raise

    @classmethod
    def entry(cls, data: dict[str, Any], battery: str, name: str) -> EntrySpec:
        """The site's entry."""
        return EntrySpec(
            title=name,
            unique_id=f"{KEY}_{battery}",
            data={**data, CONF_SITE_ID: battery, CONF_SITE_NAME: name},
        )

    @classmethod
    def battery_of(cls, data: Mapping[str, Any]) -> str:
        """The entry's site."""
        return str(data[CONF_SITE_ID])

    @classmethod
    def credentials_schema(cls) -> vol.Schema:
        """A new password, or a new refresh token; or the official API's client secret (and
        client id), which moves a signed-in entry to the official API."""
        return vol.Schema(
            {
                **_secret(CONF_PASSWORD, required=False),
                **_secret(CONF_REFRESH_TOKEN, False),
                vol.Optional(CONF_CLIENT_ID): selector.TextSelector(),
                **_secret(CONF_CLIENT_SECRET, False),
            }
        )

    # --- state across restarts ---------------------------------------------------------
    def persist(self) -> Mapping[str, Any]:
        """The counters, how far they counted, and the latest (rotated) refresh token."""
        return {
            "counters": dict(self.counters),
            "counted_until": self.counted_until.isoformat() if self.counted_until else None,
            "refresh_token": self.client.refresh_token,
            "credentials": _fingerprint(self.data),
            "plan": self.plan.as_json() if self.plan else None,
        }

    def restore(self, stored: Mapping[str, Any]) -> None:
        """Counters and where they stopped; the refresh token if the credentials are the same."""
        counters = stored.get("counters")
        until = stored.get("counted_until")
        if isinstance(counters, Mapping) and isinstance(until, str):
            try:
                self.counted_until = datetime.fromisoformat(until)
                self.counters = counters_from(counters, COUNTERS)
            except TypeError, ValueError:
                self.counters = dict.fromkeys(COUNTERS, 0.0)
                self.counted_until = None
        token = stored.get("refresh_token")
        if (
            not self.official
            and isinstance(token, str)
            and token
            and stored.get("credentials") == _fingerprint(self.data)
        ):
            self.client = _client(self.session, self.data, refresh_token=token)
        if self.official:
            self.plan = Plan.from_json(stored.get("plan"))

    # --- runtime -----------------------------------------------------------------------
    async def async_update(self, previous: XoltaData | None, now: datetime) -> XoltaData:
        """The status (the client answers from its cache within a minute); new buckets when
        one has ended. On the official API, a timed charge or discharge that has ended returns
        to the mode before it (never in the first update after setup: nothing is sent then)."""
        device: XoltaDevice | None = None
        if isinstance(self.client, XoltaOfficialClient):
            device = await self.client.device_of_site(self.site_id)
            status = device.status if device else None
            self._device = device
            if self.plan is not None and self._updated and self.plan.done(device, now):
                device = await self._async_end_plan(now) or device
                status = device.status if device else None
        else:
            status = await self.client.site_status(self.site_id)
        self._updated = True
        if self.counted_until is None:
            self.counted_until = floor_bucket(now)  # counting starts now
        if self._summary_due is None or now >= self._summary_due:
            await self._count(now)
            self._summary_due = floor_bucket(now) + BUCKET + SETTLE
        return XoltaData(status=status, retrieved=now, device=device)

    # --- control (official API) --------------------------------------------------------
    def rated_power_w(self) -> float:
        """The battery's rated power: XOLTA's figure, else :data:`DEFAULT_RATED_POWER_W`."""
        device = self._device
        rated = device.rated_power_w if device else None
        return rated if rated and rated > 0 else DEFAULT_RATED_POWER_W

    def _official(self) -> XoltaOfficialClient:
        if not isinstance(self.client, XoltaOfficialClient):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="xolta_control_needs_api"
            )
        return self.client

    async def async_control(self, metric: str, value: Any) -> None:
        """The select (``battery_mode``) or the number (``battery_setpoint``, W) changed: the
        user takes over, a timed charge or discharge is dropped."""
        if metric == "battery_mode":
            if value not in BATTERY_MODES:
                raise ServiceValidationError(
                    translation_domain=DOMAIN, translation_key="xolta_unknown_mode"
                )
            setpoint = 0.0
            if value == MODE_EXTERNAL and self._device and self._device.setpoint_w is not None:
                setpoint = self._device.setpoint_w
            target = Target(mode=str(value), setpoint_w=setpoint)
        elif metric == "battery_setpoint":
            target = Target(mode=MODE_EXTERNAL, setpoint_w=self._setpoint(float(value)))
        else:
            raise ValueError(metric)
        async with self._control_lock:
            await self._async_apply(target)
            self.plan = None

    def _setpoint(self, power_w: float) -> float:
        rated = self.rated_power_w()
        if not -rated <= power_w <= rated:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="xolta_power_out_of_range",
                translation_placeholders={"rated": str(round(rated))},
            )
        return round(power_w)

    async def async_timed(
        self, power_w: float, until: datetime | None, soc: float | None, now: datetime
    ) -> None:
        """Charge (``power_w`` < 0) or discharge at ``power_w`` until ``until`` or until the
        state of charge reaches ``soc``; then back to the mode before (a plan already running
        keeps the mode from before it)."""
        client = self._official()
        if until is None and soc is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="xolta_until_or_soc"
            )
        if until is not None and until <= now:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="xolta_until_past"
            )
        setpoint = self._setpoint(power_w)
        async with self._control_lock:
            await self._async_start_plan(client, setpoint, until, soc)

    async def _async_start_plan(
        self,
        client: XoltaOfficialClient,
        setpoint: float,
        until: datetime | None,
        soc: float | None,
    ) -> None:
        """The mode to return to (what the status shows, unless a plan runs), the command,
        then the plan."""
        previous = self.plan.previous if self.plan else None
        if previous is None:
            device = self._device or await client.device_of_site(self.site_id)
            mode = mode_of(device)
            if mode is None:
                raise _control_error("xolta_mode_unknown")
            held = device.setpoint_w if device and device.setpoint_w is not None else 0.0
            previous = Target(mode=mode, setpoint_w=held if mode == MODE_EXTERNAL else 0.0)
        await self._async_apply(Target(mode=MODE_EXTERNAL, setpoint_w=setpoint))
        self.plan = Plan(power_w=setpoint, previous=previous, until=until, soc=soc)

    async def _async_end_plan(self, now: datetime) -> XoltaDevice | None:
        """Back to the mode before the plan; a failure is logged once and tried again at the
        next update."""
        assert self.plan is not None
        try:
            async with self._control_lock:
                await self._async_apply(self.plan.previous, log=False)
        except (HomeAssistantError, ApiError) as err:
            if not self.plan.return_failed:
                _LOGGER.warning(
                    "XOLTA: the battery did not return to its mode after the timed "
                    "charge or discharge (%s); trying again at the next update",
                    type(err).__name__,
                )
            self.plan.return_failed = True
            return None
        self.plan = None
        return self._device

    async def _async_apply(self, target: Target, *, log: bool = True) -> None:
        """Send what the held status does not already show, then confirm with a fresh
        status. HomeAssistantError (translated) when XOLTA refuses or does not confirm."""
        client = self._official()
        device = self._device or await client.device_of_site(self.site_id)
        if device is None:
            raise _control_error("xolta_no_device")
        if confirms(device, target):
            return
        commands: list[tuple[str, Any]] = []
        if target.mode == MODE_IDLE:
            commands.append((GO_IDLING, ""))
        else:
            if device.state != STATE_RUNNING:
                commands.append((GO_RUNNING, ""))
            if target.mode == MODE_SELF and device.mode != MODE_SELF_CONSUMPTION:
                commands.append((GO_SELF_CONSUMPTION, ""))
        try:
            for command, payload in commands:
                await client.send_command(device.device_id, command, payload)
            if target.mode == MODE_EXTERNAL:
                await client.external_control(device.device_id, target.setpoint_w, dt_util.utcnow())
            confirmed = await client.device_of_site(self.site_id, fresh=True)
        except XoltaCommandRefusedError as err:
            if log:
                _LOGGER.warning("XOLTA refused the command for mode %s", target.mode)
            raise _control_error("xolta_command_refused", mode=target.mode) from err
        except ApiError as err:
            if log:
                _LOGGER.warning(
                    "XOLTA: the command for mode %s failed (%s)", target.mode, type(err).__name__
                )
            raise _control_error("xolta_command_failed", error=type(err).__name__) from err
        self._device = confirmed
        if not confirms(confirmed, target):
            if log:
                _LOGGER.warning("XOLTA did not confirm the command for mode %s", target.mode)
            raise _control_error("xolta_command_unconfirmed", mode=target.mode)

    async def _count(self, now: datetime) -> None:
        """Add the buckets that ended since the last one counted."""
        assert self.counted_until is not None
        end = floor_bucket(now - SETTLE)
        if end <= self.counted_until:
            return
        start = max(self.counted_until, end - MAX_CATCH_UP)
        buckets = await self.client.interval_summaries(self.site_id, start, end, RESOLUTION_MIN)
        until = start
        recent = now - NULL_GRACE
        for bucket in buckets:
            if bucket.end <= until or bucket.end > end:
                continue
            if bucket.start > until and bucket.start > recent:
                break  # a recent bucket missing before this one: ask again next time
            energy = bucket_energy(bucket)
            if all(value is None for value in energy.values()) and bucket.end > recent:
                break  # not uploaded yet, perhaps: ask again next time
            for key, value in energy.items():
                if value is not None:
                    self.counters[key] += value
            until = bucket.end
        # Buckets after the last one returned (all of them, for an empty answer) are not
        # there yet: the counters stop before them, and they are asked for next time.
        self.counted_until = max(self.counted_until, until)

    def next_update(self, data: XoltaData, now: datetime) -> datetime:
        """A minute on, or the next bucket's counting, or a timed plan's end, if that comes
        first."""
        due = now + STATUS_INTERVAL
        if self.plan is not None and self.plan.until is not None and self.plan.until > now:
            due = min(due, self.plan.until)
        return min(due, self._summary_due) if self._summary_due else due

    def devices(self, data: XoltaData) -> list[DeviceSpec]:
        """The site."""
        return [
            DeviceSpec(
                key=self.site_id,
                name=f"XOLTA {self.site_name}",
                manufacturer="XOLTA",
                model="Home battery",
                serial_number=self.site_id,
                configuration_url="https://app.xolta.com/",
            )
        ]

    def readings(self, data: XoltaData, now: datetime) -> list[Reading]:
        """Power and SoC while the system runs (else unavailable); the counters. On the
        official API: also while it idles, the house power only if XOLTA's status has it,
        and the battery's mode and external setpoint."""
        status = data.status if data.status is not None and data.status.running else None
        if data.device is not None and data.device.state == STATE_IDLING:
            status = data.status
        live = {
            "battery_soc": status.soc_percent if status else None,
            "battery_power": status.battery_power_w if status else None,
            "pv_power": status.pv_power_w if status else None,
            "grid_power": status.grid_power_w if status else None,
            "house_power": status.load_power_w if status else None,
        }
        if self.official and (status is None or status.load_power_w is None):
            del live["house_power"]  # the official status has no house figure
        out = [Reading(metric=k, device=self.site_id, value=v) for k, v in live.items()]
        if self.official:
            device = data.device
            mode = mode_of(device)
            setpoint = device.setpoint_w if device and mode == MODE_EXTERNAL else 0.0
            rated = self.rated_power_w()
            out.append(Reading(metric="battery_mode", device=self.site_id, value=mode))
            out.append(
                Reading(
                    metric="battery_setpoint",
                    device=self.site_id,
                    value=setpoint if device is not None else None,
                    attributes={"min": -rated, "max": rated},
                )
            )
        out += self.counter_readings(self.site_id, {"counted_until": self.counted_until})
        out.append(Reading(metric="last_retrieved", device=self.site_id, value=data.retrieved))
        return out

    # --- history -----------------------------------------------------------------------
    def statistic_specs(self, data: XoltaData) -> list[StatisticSpec]:
        """The five counters: ``energy_hub:xolta_<site>_<counter>``."""
        names = {key: f"XOLTA {self.site_name} {name}" for key, name in _COUNTER_NAMES.items()}
        return self.counter_statistics(self.site_id, names)

    async def async_history(
        self, data: XoltaData, since: datetime, now: datetime
    ) -> AsyncIterator[HistorySeries]:
        """Complete UTC hours from ``since``: the buckets' energy by the hour they started.

        Hours held complete (every minute with values) are not asked for again: an hourly run
        asks for the last hour or two, not the statistics' whole rewrite week. Incomplete
        hours are asked for again for a day, in case XOLTA receives their data late.
        """
        end = floor_hour(now)
        if end <= since:
            return
        hour, missing = since, None
        while hour < end:
            held = self._hours.get(hour)
            if held is None or (not held[1] and hour > now - REFETCH_INCOMPLETE):
                missing = hour
                break
            hour += HOUR
        if missing is not None:
            buckets = await self.client.interval_summaries(
                self.site_id, missing, end, RESOLUTION_MIN
            )
            fetched: dict[datetime, dict[str, float]] = {}
            minutes: dict[datetime, int] = {}
            hour = missing
            while hour < end:  # every hour, zero where XOLTA has nothing
                fetched[hour] = dict.fromkeys(COUNTERS, 0.0)
                minutes[hour] = 0
                hour += HOUR
            for bucket in buckets:
                if not missing <= bucket.start < end:
                    continue
                energy = bucket_energy(bucket)
                hour = floor_hour(bucket.start)
                minutes[hour] += all(value is not None for value in energy.values())
                for key, value in energy.items():
                    if value is not None:
                        fetched[hour][key] += value
            for hour, amounts in fetched.items():
                self._hours[hour] = (amounts, minutes[hour] * RESOLUTION_MIN >= 60)
        for old in [h for h in self._hours if h < now - MAX_CATCH_UP - self.history_horizon]:
            del self._hours[old]
        series = {hour: self._hours[hour][0] for hour in sorted(self._hours) if since <= hour < end}
        for spec, key in zip(self.statistic_specs(data), COUNTERS, strict=True):
            yield HistorySeries(spec=spec, hours={h: round(v[key], 6) for h, v in series.items()})

    def diagnostics(self, data: XoltaData | None) -> dict[str, Any]:
        """Counters, how far they counted and the status seen."""
        return {
            "counters": {k: round(v, 3) for k, v in self.counters.items()},
            "counted_until": self.counted_until.isoformat() if self.counted_until else None,
            "state": data.status.state if data and data.status else None,
            "logins": self.client.login_count,
            "refreshes": self.client.refresh_count,
            "connection": CONNECTION_API if self.official else CONNECTION_APP,
            "mode": mode_of(data.device) if data else None,
            "plan": self.plan.as_json() if self.plan else None,
        }
