"""Client for XOLTA's official ("External" / partner) API, with client credentials.

VERIFIED from XOLTA's own sample client (GitHub ``mdhxolta/xolta-api``,
``simple_client/client.py``) and its API manual v1.1:

- authentication: an MSAL confidential client, OAuth2 client-credentials grant, authority
  ``https://login.microsoftonline.com/<XOLTA's tenant>``, scope
  ``https://Xolta.onmicrosoft.com/TelemetryAPI/.default``; requests carry
  ``Authorization: Bearer <token>``;
- base ``https://external.xolta.com/api``: ``GET deviceStatus`` (every device of the client,
  no parameter), ``POST SendStateModeCommand`` with JSON
  ``{"DeviceId", "CommandName", "Payload"}``; commands ``GoToState_Running``,
  ``GoToState_Idling``, ``GoToMode_SelfConsumption`` (payload ``""``) and
  ``GoToMode_ExternalControl`` with ``{"setPoint": {"1": {"utcTime", "batteryActivePower"}}}``;
- ``GET GetDataSummary`` (``DeviceId``, ``SiteId``, ``fromDateTime``, ``resolutionMin``,
  ``CalculateConsumptionNeeded``): the App API's bucket shape.

Chosen where the public record is silent (UNVERIFIED):

- the raw token call: ``POST <authority>/oauth2/v2.0/token`` form
  ``grant_type=client_credentials, client_id, client_secret, scope`` (what MSAL sends);
  the answer carries ``access_token`` and ``expires_in``, no refresh token: a new one is asked
  for shortly before it expires; a 400/401 ``invalid_client`` means wrong credentials;
- the ``deviceStatus`` shape: a list (or ``{"data": [...]}``) of device records with
  ``deviceId``, ``siteId``, ``siteName``, ``state`` (``Running`` / ``Idling``), ``mode``
  (``SelfConsumption`` / ``ExternalControl``), ``setPoint`` (``batteryActivePower`` kW),
  ``inverterRatedActivePower`` (kW) and the manual's raw signals ``bmsSocRawArrayCloudTrimmed``
  (%), ``inverterActivePower``, ``meterPvActivePower``, ``meterGridActivePower`` (kW). No house
  consumption figure is assumed; what a record lacks is None;
- ``batteryActivePower`` uses XOLTA's sign for ``inverterActivePower``: positive discharges,
  negative charges (the same as Energy Hub's battery power);
- a refused command: HTTP 400/409/422, or a body with ``success: false``.

Powers are returned in W; signs are Energy Hub's (battery + discharging, grid + importing).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
import time
from typing import Any, Final

import aiohttp

from .errors import ApiAuthError, ApiError, ApiResponseError
from .http import DEFAULT_TIMEOUT, JsonApiClient
from .parse import iso_time as _time, number as _number, text_or_id as _text
from .xolta import (
    DEFAULT_RESOLUTION_MIN,
    TENANT_ID,
    XoltaInterval,
    XoltaSite,
    XoltaStatus,
    collect_summaries,
    format_time,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://external.xolta.com/api"  # VERIFIED
DEFAULT_AUTHORITY_URL: Final = f"https://login.microsoftonline.com/{TENANT_ID}"  # VERIFIED
SCOPE: Final = "https://Xolta.onmicrosoft.com/TelemetryAPI/.default"  # VERIFIED
TOKEN_PATH: Final = "/oauth2/v2.0/token"  # noqa: S105 (a path; standard AAD v2.0, UNVERIFIED)
#: Renew the access token this long before it expires (seconds).
REFRESH_MARGIN: Final = 300.0
DEFAULT_ACCESS_LIFETIME: Final = 3600.0
#: Fair use (XOLTA's manual): the current state at most once a minute.
STATUS_MIN_INTERVAL: Final = 60.0

STATE_RUNNING: Final = "Running"
STATE_IDLING: Final = "Idling"
MODE_SELF_CONSUMPTION: Final = "SelfConsumption"
MODE_EXTERNAL_CONTROL: Final = "ExternalControl"
GO_RUNNING: Final = "GoToState_Running"
GO_IDLING: Final = "GoToState_Idling"
GO_SELF_CONSUMPTION: Final = "GoToMode_SelfConsumption"
GO_EXTERNAL_CONTROL: Final = "GoToMode_ExternalControl"


class XoltaCommandRefusedError(ApiError):
    """XOLTA refused a command (the device cannot take it now, or the payload is wrong)."""


@dataclass(frozen=True, slots=True)
class XoltaDevice:
    """One device's status on the official API. Powers in W, Energy Hub's signs."""

    device_id: str
    site_id: str
    site_name: str | None
    state: str | None
    mode: str | None
    setpoint_w: float | None
    rated_power_w: float | None
    status: XoltaStatus


def _kw_to_w(value: Any) -> float | None:
    number = _number(value)
    return None if number is None else round(number * 1000.0, 3)


def _parse_device(record: Mapping[str, Any]) -> XoltaDevice | None:
    device_id = _text(record.get("deviceId"))
    if device_id is None:
        return None
    state = _text(record.get("state"))
    setpoint = record.get("setPoint")
    pv = _kw_to_w(record.get("meterPvActivePower"))
    status = XoltaStatus(
        state=state,
        soc_percent=_number(record.get("bmsSocRawArrayCloudTrimmed")),
        battery_power_w=_kw_to_w(record.get("inverterActivePower")),
        pv_power_w=None if pv is None else max(0.0, pv),
        grid_power_w=_kw_to_w(record.get("meterGridActivePower")),
        load_power_w=_kw_to_w(record.get("meterConsumptionActivePower")),
        measured_at=_time(record.get("utcTime")),
    )
    return XoltaDevice(
        device_id=device_id,
        site_id=_text(record.get("siteId")) or device_id,
        site_name=_text(record.get("siteName")),
        state=state,
        mode=_text(record.get("mode")),
        setpoint_w=(
            _kw_to_w(setpoint.get("batteryActivePower")) if isinstance(setpoint, Mapping) else None
        ),
        rated_power_w=_kw_to_w(record.get("inverterRatedActivePower")),
        status=status,
    )


class XoltaOfficialClient(JsonApiClient):
    """XOLTA's official API with a client id and secret (client-credentials grant)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        client_id: str,
        client_secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        authority_url: str = DEFAULT_AUTHORITY_URL,
        timeout: float = DEFAULT_TIMEOUT,
        status_min_interval: float = STATUS_MIN_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` returns Unix time (the token's expiry and the status cache use it)."""
        super().__init__(session, base_url, timeout=timeout)
        self.authority_url = authority_url.rstrip("/")
        self._authority = JsonApiClient(session, self.authority_url, timeout=timeout)
        self._client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._status_min_interval = status_min_interval
        self._token: tuple[str, float] | None = None
        self._status_cache: tuple[float, list[XoltaDevice]] | None = None
        #: Token requests made (the official API has no refresh token).
        self.login_count = 0
        self.refresh_count = 0
        #: Commands sent (diagnostics, tests).
        self.commands_sent = 0

    @property
    def refresh_token(self) -> str | None:
        """None: client credentials have no refresh token."""
        return None

    # --- tokens ----------------------------------------------------------------------------

    async def authenticate(self) -> str:
        """A usable access token (a new one shortly before the held one expires)."""
        if self._token is not None and self._token[1] - self._clock() > REFRESH_MARGIN:
            return self._token[0]
        self.login_count += 1
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "scope": SCOPE,
        }
        try:
            body = await self._post_form(form)
        except ApiResponseError as err:
            # AAD answers 400 invalid_client / unauthorized_client to wrong credentials.
            raise ApiAuthError("XOLTA refused the client credentials") from err
        access = body.get("access_token") if isinstance(body, Mapping) else None
        if not isinstance(access, str) or not access:
            raise ApiResponseError("XOLTA's token endpoint gave no access token")
        lifetime = _number(body.get("expires_in")) or DEFAULT_ACCESS_LIFETIME
        self._token = (access, self._clock() + lifetime)
        return access

    async def _post_form(self, form: Mapping[str, str]) -> Any:
        """POST the token form to the authority (another host than the API)."""
        self.request_count += 1
        return await self._authority._request_json("POST", TOKEN_PATH, data=dict(form))

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request with the bearer; a 401 asks for a new token and retries once."""
        token = await self.authenticate()
        try:
            return await self._request_json(
                method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
            )
        except ApiAuthError:
            self._token = None
            token = await self.authenticate()
            return await self._request_json(
                method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
            )

    # --- data ------------------------------------------------------------------------------

    async def devices(self, *, fresh: bool = False) -> list[XoltaDevice]:
        """Every device's status (``GET deviceStatus``), from a cache for a minute after each
        fetch (fair use) unless ``fresh`` (a command's confirmation)."""
        now = self._clock()
        cached = self._status_cache
        if not fresh and cached is not None and now - cached[0] < self._status_min_interval:
            return cached[1]
        body = await self._call("GET", "/deviceStatus", allow_empty=True)
        if isinstance(body, Mapping):
            body = body.get("data", body.get("devices"))
        if body is None:
            body = []
        if not isinstance(body, list):
            raise ApiResponseError("deviceStatus: expected a list of devices")
        devices = [
            device
            for record in body
            if isinstance(record, Mapping) and (device := _parse_device(record)) is not None
        ]
        self._status_cache = (now, devices)
        return devices

    async def sites(self) -> list[XoltaSite]:
        """The sites of the client's devices (one per site, named when XOLTA names it)."""
        seen: dict[str, XoltaSite] = {}
        for device in await self.devices():
            seen.setdefault(device.site_id, XoltaSite(device.site_id, device.site_name))
        return list(seen.values())

    async def device_of_site(self, site_id: str, *, fresh: bool = False) -> XoltaDevice | None:
        """The status of the site's device; None when XOLTA lists none."""
        return next((d for d in await self.devices(fresh=fresh) if d.site_id == site_id), None)

    async def site_status(self, site_id: str) -> XoltaStatus | None:
        """The site's current state (as the App client's ``site_status``)."""
        device = await self.device_of_site(site_id)
        return device.status if device else None

    async def interval_summaries(
        self,
        site_id: str,
        start: datetime,
        end: datetime,
        resolution_min: int = DEFAULT_RESOLUTION_MIN,
        *,
        device_id: str | None = None,
    ) -> list[XoltaInterval]:
        """Buckets ending in ``(start, end]`` (``GetDataSummary``), as the App client's."""
        if resolution_min <= 0:
            raise ValueError("resolution_min must be positive")
        if device_id is None:
            device = await self.device_of_site(site_id)
            if device is None:
                return []
            device_id = device.device_id

        async def window(window_start: datetime, window_end: datetime) -> Any:
            return await self._call(
                "GET",
                "/GetDataSummary",
                params={
                    "DeviceId": device_id,
                    "SiteId": site_id,
                    "IsBlob": "false",
                    "CalculateConsumptionNeeded": "true",
                    "fromDateTime": format_time(window_start),
                    "toDateTime": format_time(window_end),
                    "resolutionMin": resolution_min,
                },
                allow_empty=True,
            )

        return await collect_summaries(window, start, end, resolution_min, strict=False)

    # --- commands --------------------------------------------------------------------------

    async def send_command(self, device_id: str, command: str, payload: Any = "") -> None:
        """``POST SendStateModeCommand``; XoltaCommandRefusedError when XOLTA refuses it."""
        self.commands_sent += 1
        self._status_cache = None  # the next status must show what the command did
        try:
            body = await self._call(
                "POST",
                "/SendStateModeCommand",
                json_body={"DeviceId": device_id, "CommandName": command, "Payload": payload},
                allow_empty=True,
            )
        except ApiResponseError as err:  # 4xx other than 401/404
            raise XoltaCommandRefusedError(f"XOLTA refused {command}") from err
        if isinstance(body, Mapping) and body.get("success") is False:
            raise XoltaCommandRefusedError(f"XOLTA refused {command}")

    async def external_control(self, device_id: str, power_w: float, when: datetime) -> None:
        """External control at ``power_w`` (W, + discharging, - charging) from ``when``."""
        payload = {
            "setPoint": {
                "1": {
                    "utcTime": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "batteryActivePower": round(power_w / 1000.0, 3),
                }
            }
        }
        await self.send_command(device_id, GO_EXTERNAL_CONTROL, payload)
