"""Client for the Aretas IoT platform (iot.aretas.ca): battery-storage (BESS) telemetry.

Sign conventions (every Energy Hub client): battery power and current are positive when the
battery discharges and negative when it charges; grid power is positive when importing; PV
power is never negative. Aretas' battery current types are positive when discharging and
negative when charging (VERIFIED), the same as ours, so the client passes every reading through
unchanged; it normalises nothing. (Aretas reports no grid or PV power for a BESS. The sign of
the undocumented types 530-533 is not public: whatever a device reports there is passed on.)

Aretas is a generic platform: a reading is ``(mac, type, timestamp, data)`` and the meaning of
``type`` (label, units) lives in the sensor-type catalogue, ``GET sensortype/list``. Labels and
units are looked up there at run time and never hard-coded: :class:`SensorCatalogue`.
:attr:`SensorType.quantity` and :attr:`SensorType.scale` read the catalogue's unit string
(``kW`` -> power, 1000 to W) so a caller can convert without knowing type numbers.

Login: ``POST authentication/j`` with JSON credentials answers the token as plain text; it is
sent as a bearer and reused until a request answers 401/403, then the client logs in again and
retries once.

History (``GET sensordata/byrange``) is asked for in windows of :data:`BYRANGE_WINDOW`; a
window that comes back with ``limit`` readings is continued from its last timestamp.
"""

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import itertools
import json
import logging
from typing import Any
from urllib.parse import urlencode

import aiohttp

from .errors import ApiAuthError, ApiResponseError
from .http import DEFAULT_TIMEOUT, JsonApiClient
from .parse import number as _number, text as _text

_LOGGER = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://iot.aretas.ca/rest"

BYRANGE_WINDOW = timedelta(hours=6)
"""History is fetched in windows this long (6 h of a device sampled every 20 s with seven
types is about 7,600 readings)."""
BYRANGE_LIMIT = 20_000
"""``limit`` sent with every history request (the API needs one; its client's default is 10^6)."""
MAX_GAP = timedelta(minutes=10)
"""Samples further apart than this are not bridged when integrating power (the default of
:func:`integrate_power`; callers pass their own limit)."""
SENTINELS: frozenset[float] = frozenset({65535.0, -65535.0, 32767.0, -32768.0, 2147483647.0})
"""Values firmware sends for "no reading" (all bits set in a 16- or 32-bit register). UNVERIFIED
for Aretas in particular: no public source lists them; a battery never really reads these."""

_UNITS: Mapping[str, tuple[str, float]] = {
    "w": ("power", 1.0),
    "kw": ("power", 1000.0),
    "mw": ("power", 1_000_000.0),
    "wh": ("energy", 1.0),
    "kwh": ("energy", 1000.0),
    "mwh": ("energy", 1_000_000.0),
    "a": ("current", 1.0),
    "ma": ("current", 0.001),
    "v": ("voltage", 1.0),
    "mv": ("voltage", 0.001),
    "kv": ("voltage", 1000.0),
    "ah": ("charge", 1.0),
    "°c": ("temperature", 1.0),
    "c": ("temperature", 1.0),
    "degc": ("temperature", 1.0),
    "%": ("percent", 1.0),
}
"""Unit string (lower case) -> (quantity, factor to the base unit W, Wh, A, V, Ah, °C, %)."""


# --- parsing helpers ---------------------------------------------------------------------------


def _integer(value: Any) -> int | None:
    """An integer (MACs, type ids, ms timestamps) given as a number or a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _ms_time(value: Any) -> datetime | None:
    """Epoch milliseconds -> aware UTC datetime; -1/0/junk -> None."""
    ms = _integer(value)
    if ms is None or ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except OverflowError, OSError, ValueError:
        return None


def to_ms(when: datetime) -> int:
    """An aware datetime as Unix epoch milliseconds (what ``begin``/``end`` take)."""
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when!r}: pass an aware datetime")
    return round(when.timestamp() * 1000)


# --- models ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SensorType:
    """One entry of the sensor-type catalogue."""

    type_id: int
    label: str | None
    units: str | None
    char_code: str | None = None
    description: str | None = None
    enabled: bool | None = None
    range_min: float | None = None
    range_max: float | None = None

    def accepts(self, value: float | None) -> bool:
        """Whether ``value`` is a reading: a number, not a sentinel, within the catalogue's
        range (``rangeHint`` min/max) where it gives one."""
        if value is None or value in SENTINELS:
            return False
        if self.range_min is not None and value < self.range_min:
            return False
        return self.range_max is None or value <= self.range_max

    @property
    def quantity(self) -> str | None:
        """What the units measure: power, energy, current, voltage, charge, temperature,
        percent; None for units this client does not recognise."""
        found = _UNITS.get((self.units or "").strip().lower())
        return found[0] if found else None

    @property
    def scale(self) -> float | None:
        """Factor from the catalogue's units to W, Wh, A, V, Ah, °C or % (None: unknown)."""
        found = _UNITS.get((self.units or "").strip().lower())
        return found[1] if found else None


@dataclass(frozen=True, slots=True)
class SensorCatalogue:
    """The sensor types Aretas publishes, by type number."""

    types: Mapping[int, SensorType] = field(default_factory=dict)

    def get(self, type_id: int) -> SensorType | None:
        """The type, or None when the catalogue does not list it (private or new types)."""
        return self.types.get(type_id)

    def accepts(self, type_id: int, value: float | None) -> bool:
        """Whether ``value`` is a reading of ``type_id`` (see :meth:`SensorType.accepts`; a type
        the catalogue does not list: any number but a sentinel)."""
        found = self.types.get(type_id)
        if found is None:
            return value is not None and value not in SENTINELS
        return found.accepts(value)

    def __contains__(self, type_id: object) -> bool:
        return type_id in self.types

    def __len__(self) -> int:
        return len(self.types)


@dataclass(frozen=True, slots=True)
class AretasReading:
    """One reading: ``value`` in the units the catalogue gives for ``type_id``."""

    mac: int
    type_id: int
    timestamp: datetime
    value: float | None


@dataclass(frozen=True, slots=True)
class AretasDevice:
    """A device (sensor) of a location, identified by its MAC."""

    mac: int
    device_id: str | None
    description: str | None
    location_id: str | None
    last_report: datetime | None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class AretasLocation:
    """A location (site) and its devices."""

    location_id: str
    description: str | None
    city: str | None
    country: str | None
    last_report: datetime | None
    devices: tuple[AretasDevice, ...] = ()


@dataclass(frozen=True, slots=True)
class AretasAccount:
    """``client/locationview``: the account's locations and their devices."""

    client_id: str | None
    macs: tuple[int, ...]
    locations: tuple[AretasLocation, ...]

    @property
    def devices(self) -> tuple[AretasDevice, ...]:
        return tuple(device for location in self.locations for device in location.devices)

    def device(self, mac: int) -> AretasDevice | None:
        return next((device for device in self.devices if device.mac == mac), None)


@dataclass(frozen=True, slots=True)
class EnergySplit:
    """Energy a battery took and gave (kWh), from power samples."""

    charged_kwh: float
    discharged_kwh: float
    covered: timedelta
    """Time spanned by the pairs of samples that were integrated (gaps excluded)."""


def _parse_sensor_type(item: Mapping[str, Any]) -> SensorType | None:
    type_id = _integer(item.get("type"))
    if type_id is None:
        type_id = _integer(item.get("typeByte"))
    if type_id is None:
        return None
    hint = item.get("rangeHint")
    hint = hint if isinstance(hint, Mapping) else {}
    enabled = item.get("enabled")
    return SensorType(
        type_id=type_id,
        label=_text(item.get("label")),
        units=_text(item.get("units")),
        char_code=_text(item.get("charCode")),
        description=_text(item.get("description")),
        enabled=enabled if isinstance(enabled, bool) else None,
        range_min=_number(hint.get("min", hint.get("_min"))),
        range_max=_number(hint.get("max", hint.get("_max"))),
    )


def _parse_reading(item: Any, mac: int | None) -> AretasReading | None:
    """A reading, or None when it cannot be placed (no type, no time, no MAC)."""
    if not isinstance(item, Mapping):
        return None
    item_mac = _integer(item.get("mac"))
    type_id = _integer(item.get("type"))
    timestamp = _ms_time(item.get("timestamp"))
    owner = item_mac if item_mac is not None else mac
    if owner is None or type_id is None or timestamp is None:
        return None
    return AretasReading(owner, type_id, timestamp, _number(item.get("data")))


def _parse_device(item: Mapping[str, Any], location_id: str | None) -> AretasDevice | None:
    mac = _integer(item.get("mac"))
    if mac is None:
        return None
    status = item.get("status")
    return AretasDevice(
        mac=mac,
        device_id=_text(item.get("id")),
        description=_text(item.get("description")),
        location_id=_text(item.get("owner")) or location_id,
        last_report=_ms_time(item.get("lastReportTime")),
        status=_text(status.get("_status")) if isinstance(status, Mapping) else None,
    )


def _parse_location(view: Mapping[str, Any]) -> AretasLocation | None:
    location = view.get("location")
    if not isinstance(location, Mapping):
        return None
    location_id = _text(location.get("id"))
    if location_id is None:
        return None
    sensors = view.get("sensorList")
    devices = [
        _parse_device(item, location_id)
        for item in (sensors if isinstance(sensors, list) else [])
        if isinstance(item, Mapping)
    ]
    return AretasLocation(
        location_id=location_id,
        description=_text(location.get("description")),
        city=_text(location.get("city")),
        country=_text(location.get("country")),
        last_report=_ms_time(view.get("lastSensorReportTime")),
        devices=tuple(device for device in devices if device is not None),
    )


def integrate_power(
    samples: Iterable[tuple[datetime, float | None]], *, max_gap: timedelta = MAX_GAP
) -> EnergySplit:
    """Trapezoidal energy of power samples in W (+ discharging), split by direction.

    Samples are sorted by time. A pair further apart than ``max_gap``, or with a missing value,
    is not bridged. Where the sign changes between two samples the trapezoid is split at the
    interpolated zero crossing, so charge and discharge are never netted against each other.
    """
    points = sorted(samples, key=lambda sample: sample[0])
    charged = discharged = covered = 0.0
    limit = max_gap.total_seconds()
    for (t0, p0), (t1, p1) in itertools.pairwise(points):
        seconds = (t1 - t0).total_seconds()
        if p0 is None or p1 is None or seconds <= 0 or seconds > limit:
            continue
        covered += seconds
        if (p0 >= 0) == (p1 >= 0):
            area = (p0 + p1) / 2 * seconds
            if area >= 0:
                discharged += area
            else:
                charged -= area
            continue
        crossing = seconds * p0 / (p0 - p1)  # where the straight line meets zero
        for part in (p0 / 2 * crossing, p1 / 2 * (seconds - crossing)):
            if part >= 0:
                discharged += part
            else:
                charged -= part
    return EnergySplit(
        charged_kwh=charged / 3_600_000,
        discharged_kwh=discharged / 3_600_000,
        covered=timedelta(seconds=covered),
    )


def join_power(
    voltage: Iterable[tuple[datetime, float]], current: Iterable[tuple[datetime, float]]
) -> list[tuple[datetime, float]]:
    """Power (W) = voltage (V) x current (A) at each timestamp both were read, sorted by time.

    The two series are joined on the exact timestamp (a timestamp only one of them has gives
    no power). A repeated reading with the same value counts once; a timestamp with two
    different values of one quantity is ambiguous and gives no power. The sign is the
    current's: + discharging, - charging.
    """

    def by_time(series: Iterable[tuple[datetime, float]]) -> dict[datetime, float | None]:
        out: dict[datetime, float | None] = {}
        for when, value in series:
            if when in out and out[when] != value:
                out[when] = None  # conflicting duplicates: not a reading
            else:
                out.setdefault(when, value)
        return out

    volts, amps = by_time(voltage), by_time(current)
    joined: list[tuple[datetime, float]] = []
    for when in sorted(volts.keys() & amps.keys()):
        v, a = volts[when], amps[when]
        if v is not None and a is not None:
            joined.append((when, v * a))
    return joined


# --- the client --------------------------------------------------------------------------------


class AretasClient(JsonApiClient):
    """Aretas REST API (``base_url`` ends in ``/rest`` on the real host)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        username: str,
        password: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Log in lazily, on the first request that needs a token."""
        super().__init__(session, base_url, timeout=timeout)
        self._username = username
        self._password = password
        self._token: str | None = None
        self._login_lock = asyncio.Lock()
        self._catalogue: SensorCatalogue | None = None
        self.login_count = 0

    # --- public API ------------------------------------------------------------------------

    async def login(self) -> None:
        """Log in now (ApiAuthError when the credentials are refused)."""
        async with self._login_lock:
            await self._login()

    async def location_view(self, *, invalidate_cache: bool = False) -> AretasAccount:
        """The account's locations and their devices (``GET client/locationview``)."""
        params = {"invalidateCache": "true"} if invalidate_cache else None
        body = await self._authed("GET", "/client/locationview", params=params)
        if not isinstance(body, Mapping):
            raise ApiResponseError("client/locationview: expected an object")
        views = body.get("locationSensorViews")
        locations = [
            _parse_location(view)
            for view in (views if isinstance(views, list) else [])
            if isinstance(view, Mapping)
        ]
        macs = body.get("allMacs")
        return AretasAccount(
            client_id=_text(body.get("id")),
            macs=tuple(
                mac
                for mac in (_integer(m) for m in (macs if isinstance(macs, list) else []))
                if mac is not None
            ),
            locations=tuple(location for location in locations if location is not None),
        )

    async def latest(self, mac: int) -> dict[int, AretasReading]:
        """The latest reading of each type the device reports (``POST sensorreport/latest``)."""
        latest: dict[int, AretasReading] = {}
        for reading in await self.latest_many([mac]):
            if reading.mac != mac:
                continue
            known = latest.get(reading.type_id)
            if known is None or reading.timestamp > known.timestamp:
                latest[reading.type_id] = reading
        return latest

    async def latest_many(self, macs: Sequence[int]) -> list[AretasReading]:
        """Latest readings of several devices in one request."""
        body = await self._authed("POST", "/sensorreport/latest", json_body=list(macs))
        if body is None:
            return []
        if not isinstance(body, list):
            raise ApiResponseError("sensorreport/latest: expected a list")
        single = macs[0] if len(macs) == 1 else None
        readings = (_parse_reading(item, single) for item in body)
        return [reading for reading in readings if reading is not None]

    async def readings(
        self,
        mac: int,
        start: datetime,
        end: datetime,
        *,
        types: Iterable[int] | None = None,
        window: timedelta = BYRANGE_WINDOW,
        limit: int = BYRANGE_LIMIT,
    ) -> list[AretasReading]:
        """Readings of ``mac`` from ``start`` to ``end`` (``GET sensordata/byrange``), sorted by
        time then type; ``types`` restricts them. Long ranges take one request per ``window``;
        a window that returns ``limit`` readings is continued from its last timestamp."""
        if window <= timedelta(0) or limit <= 0:
            raise ValueError("window and limit must be positive")
        type_list = sorted(set(types)) if types is not None else []
        begin_ms, end_ms = to_ms(start), to_ms(end)
        step = max(1, round(window.total_seconds() * 1000))
        found: dict[tuple[int, int], AretasReading] = {}
        window_start = begin_ms
        while window_start < end_ms:
            window_end = min(end_ms, window_start + step)
            cursor = window_start
            while True:
                query = [("mac", mac), ("begin", cursor), ("end", window_end), ("limit", limit)]
                query += [("type", type_id) for type_id in type_list]
                body = await self._authed(
                    "GET",
                    f"/sensordata/byrange?{urlencode(query)}",
                    headers={"X-AIR-Token": str(mac)},
                )
                if body is None:
                    body = []
                if not isinstance(body, list):
                    raise ApiResponseError("sensordata/byrange: expected a list")
                latest_ms = cursor
                for item in body:
                    reading = _parse_reading(item, mac)
                    if reading is None or reading.mac != mac:
                        continue
                    stamp = to_ms(reading.timestamp)
                    latest_ms = max(latest_ms, stamp)
                    found[(stamp, reading.type_id)] = reading
                if len(body) < limit:
                    break
                if latest_ms <= cursor:
                    raise ApiResponseError(
                        f"sensordata/byrange: more than {limit} readings in one millisecond"
                    )
                cursor = latest_ms  # inclusive: the rest of that millisecond comes again
            window_start = window_end
        return [found[key] for key in sorted(found)]

    async def sensor_types(self, *, refresh: bool = False) -> SensorCatalogue:
        """The sensor-type catalogue (``GET sensortype/list``, no token needed); cached in the
        client until ``refresh``."""
        if self._catalogue is not None and not refresh:
            return self._catalogue
        body = await self._request_json("GET", "/sensortype/list")
        if not isinstance(body, list):
            raise ApiResponseError("sensortype/list: expected a list")
        types: dict[int, SensorType] = {}
        for item in body:
            if isinstance(item, Mapping):
                parsed = _parse_sensor_type(item)
                if parsed is not None:
                    types[parsed.type_id] = parsed
        self._catalogue = SensorCatalogue(types)
        return self._catalogue

    # --- requests --------------------------------------------------------------------------

    async def _authed(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Any:
        """A request with the bearer; 401/403 logs in again and retries once."""

        async def send(token: str) -> Any:
            return await self._request_json(
                method,
                path,
                params=params,
                headers={"Authorization": f"Bearer {token}", **(headers or {})},
                json_body=json_body,
                allow_empty=True,
            )

        token, fresh = await self._current_token()
        try:
            return await send(token)
        except ApiAuthError:
            if fresh:
                raise
            return await send(await self._renew(token))

    async def _current_token(self) -> tuple[str, bool]:
        """The token to use, and whether it was obtained just now."""
        async with self._login_lock:
            if self._token is not None:
                return self._token, False
            return await self._login(), True

    async def _renew(self, rejected: str) -> str:
        async with self._login_lock:
            if self._token is not None and self._token != rejected:
                return self._token  # renewed while we waited
            return await self._login()

    async def _login(self) -> str:
        self._token = None
        self.login_count += 1
        body = await self._request_text(
            "POST",
            "/authentication/j",
            json_body={"username": self._username, "password": self._password},
        )
        text = body.strip()
        if text.startswith(("{", "[", '"')):
            try:
                decoded: Any = json.loads(text)
            except ValueError:
                decoded = None
            if isinstance(decoded, str):
                text = decoded.strip()
            elif isinstance(decoded, Mapping) and decoded.get("booleanResponse") is False:
                raise ApiAuthError("Aretas refused the login")
            else:
                raise ApiResponseError("Aretas answered the login with JSON, not a token")
        if not text or text.startswith("<") or any(char.isspace() for char in text):
            raise ApiResponseError("Aretas answered the login without a token")
        self._token = text
        return text

    async def _request_text(self, method: str, path: str, *, json_body: Any = None) -> str:
        """One request whose body is plain text (the login's token)."""
        raw, _ = await self._request_bytes(
            method, path, headers={"Accept": "text/plain, application/json"}, json_body=json_body
        )
        return raw.decode("utf-8", errors="replace")

    def _raise_for_status(
        self, status: int, body: str, content_type: str, retry_after: str | None
    ) -> None:
        """Aretas (a Java servlet app) may answer 401/403 with an HTML page: still auth."""
        if status in (401, 403):
            raise ApiAuthError(f"Aretas rejected the credentials (HTTP {status})")
        super()._raise_for_status(status, body, content_type, retry_after)
