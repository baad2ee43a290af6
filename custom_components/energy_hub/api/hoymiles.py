"""Client for the Hoymiles S-Miles cloud (web/installer API on ``neapi.hoymiles.com``).

Pure aiohttp. Every call is a ``POST`` with a JSON body; answers come in an envelope
``{"status": "0", "message": "success", "data": ...}`` with HTTP 200 even for logical errors.

Hosts. Three base URLs, each overridable:

* ``base_url`` (default ``https://neapi.hoymiles.com``): every data call;
* ``region_url`` (default ``https://euapi.hoymiles.com``): the ``region_c`` lookup, and the
  login host when the lookup gives none we trust;
* ``legacy_login_url`` (default ``https://neapi.hoymiles.com``): the legacy v0 login.

When ``base_url`` is overridden and the other two are not given, both default to
``base_url``: one base serves everything (the sandbox under ``http://127.0.0.1:PORT/hoymiles``,
white-label servers). The login host named by ``region_c`` (``login_url``) is used only when it
is an ``https://*.hoymiles.com`` URL or has the same origin as ``region_url`` (the password hash
is never sent to a host the configuration did not name).

Login (:data:`LOGIN_ORDER`): ``region_c`` once per client, then the variants of
:class:`LoginVariant` in order until one gives a token. The working variant is remembered and
tried first next time. Hoymiles locks an account after five failed logins in a row, so a wrong
password costs at most two attempts: another variant is tried only when the answer says the
method is wrong ("S-Miles Home" only, "can only be used in ...", "app version is low", status
"7"), never when it says the credentials are wrong. The one exception is the salt-less v3 hash,
whose two encodings the service cannot tell from a wrong password: the second is tried once.
"User does not exist" ends the login at once; "app version is low" with no variant working is
an :class:`ApiClientOutdatedError` (an update of Energy Hub is needed, not a password). A
``pre-insp`` answer is read in the envelope or, as some answers come (VERIFIED in two clients),
with its fields at the top level. The token is reused until
the service answers ``status "100"`` (token verify error); then one silent re-login and a
retry; a second rejection is an :class:`ApiAuthError`. Argon2id hashing (32 MiB, about 0.1 s)
runs in a worker thread, once per salt (the hash is kept for re-logins).

Data endpoints. Installer ("S-Miles Cloud") accounts use ``/pvm`` and ``/pvm-data``; S-Miles
Home app accounts are refused there (HTTP 403, or a status naming the S-Miles Home app) and
use the ``/pvmc/..._c`` twins (:class:`DataProfile`): the first refusal moves the client to
them for good and repeats the call. History endpoints have no known twin and stay as they are.
Day charts (``count_by_day``, ``count_power_by_day``) answer binary protobuf, read with
:mod:`.protobuf`; their errors come as the JSON envelope.

Signs and units (every Energy Hub client): power in W, energy in Wh as the cloud gives it (field
names say ``_w``/``_wh``/``_kwp``); battery power positive when discharging, grid power positive
when importing. Hoymiles signs both the other way (``bms_power`` + = charging, ``grid_power``
+ = export, the latter INFERRED from one fixture), so both are negated here. Numeric strings are
read defensively: ``""``, ``null``, ``"-"``, junk and missing keys are None, never 0.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
import hashlib
import itertools
import json
import logging
import math
import re
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from argon2.low_level import Type, hash_secret_raw
from yarl import URL

from . import protobuf
from .errors import (
    ApiAuthError,
    ApiClientOutdatedError,
    ApiNotFoundError,
    ApiRateLimitedError,
    ApiResponseError,
)
from .http import DEFAULT_TIMEOUT, JsonApiClient
from .parse import number as parse_number, text_or_id

_LOGGER = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://neapi.hoymiles.com"
"""Data host for every account (VERIFIED)."""
DEFAULT_REGION_URL: Final = "https://euapi.hoymiles.com"
"""Host of ``region_c`` and the EU login host (VERIFIED)."""
DEFAULT_LEGACY_LOGIN_URL: Final = DEFAULT_BASE_URL
"""Host of the legacy v0 login (VERIFIED)."""

APP_VERSION: Final = "2.10.0"
BRAND_TID: Final = 159
"""``t`` = 159: the Hoymiles brand (VERIFIED)."""

ARGON2_TIME_COST: Final = 3
ARGON2_MEMORY_KIB: Final = 32768
ARGON2_PARALLELISM: Final = 1
ARGON2_HASH_LEN: Final = 32
"""Argon2id parameters, identical in three independent clients (VERIFIED)."""

STATION_PAGE_SIZE: Final = 100
"""Plants asked for per page (the service may answer fewer: the reported ``total`` decides)."""
MAX_PAGES: Final = 100
"""A safe stop for the plant list (a service repeating or never ending its pages)."""
DEFAULT_LOCK_RETRY_AFTER: Final = 1800.0
"""How long to wait after a "locked" answer when the message names no delay (UNVERIFIED)."""

STATUS_OK: Final = "0"
STATUS_LOGIN_REJECTED: Final = "1"
STATUS_NO_PERMISSION: Final = "3"
STATUS_TRY_NEXT_HASH: Final = "7"
STATUS_SESSION_INVALID: Final = "100"

PATH_REGION: Final = "/iam/pub/0/c/region_c"
PATH_PRE_INSP: Final = "/iam/pub/3/auth/pre-insp"
PATH_LOGIN_V3: Final = "/iam/pub/3/auth/login"
PATH_LOGIN_HOME: Final = "/iam/pub/0/c/login_c"
PATH_LOGIN_V0: Final = "/iam/pub/0/auth/login"
PATH_STATIONS: Final = "/pvm/api/0/station/select_by_page"
PATH_STATION_FIND: Final = "/pvm/api/0/station/find"
PATH_DEVICE_TREE: Final = "/pvm/api/0/station/select_device_of_tree"
PATH_REALTIME: Final = "/pvm-data/api/0/station/data/count_station_real_data"
PATH_ENERGY_STATS: Final = "/pvm-data/api/0/station/data_fd/stat_g_a"
PATH_MICRO_CHART: Final = "/pvm-data/api/0/micro/data/count_by_day"
"""A day's chart per microinverter: protobuf ``LineChart`` (VERIFIED by several clients)."""
PATH_POWER_BY_DAY: Final = "/pvm-data/api/0/station/data/count_power_by_day"
"""A day's plant power curve: protobuf ``GridPowerResponse`` (VERIFIED, one client)."""

PATH_STATIONS_HOME: Final = "/pvmc/api/0/station/select_by_page_c"
PATH_STATION_FIND_HOME: Final = "/pvmc/api/0/station/find_c"
PATH_DEVICE_TREE_HOME: Final = "/pvmc/api/0/station/select_device_c"
PATH_REALTIME_HOME: Final = "/pvmc/api/0/station_data/count_station_real_data_c"
PATH_MICRO_CHART_HOME: Final = "/pvmc/api/0/micro_data/count_by_day_c"
_HOME_ROUTES: Final[Mapping[str, tuple[str, bool]]] = {
    PATH_STATIONS: (PATH_STATIONS_HOME, False),
    PATH_STATION_FIND: (PATH_STATION_FIND_HOME, True),
    PATH_DEVICE_TREE: (PATH_DEVICE_TREE_HOME, True),
    PATH_REALTIME: (PATH_REALTIME_HOME, False),
    PATH_MICRO_CHART: (PATH_MICRO_CHART_HOME, False),
}
"""S-Miles Home accounts' twins of the installer endpoints (VERIFIED in two clients), and
whether the body names the plant ``sid`` where the installer endpoint says ``id``. No twin of
the history endpoints is public: those stay on the installer paths."""

QUOTA_POWER: Final = "MI_POWER"
"""Microinverter AC power, W."""
QUOTA_TEMPERATURE: Final = "MI_TEMPERATURE"
"""Microinverter temperature, °C."""
MAX_POINT_GAP: Final = timedelta(minutes=15)
"""A chart point stands for at most this long (the span to the next point, capped)."""
MICRO_CHART_STEP: Final = timedelta(minutes=5)
"""A microinverter chart's points: one per 5-minute upload."""
POWER_CURVE_STEP: Final = timedelta(minutes=15)
"""A plant power curve's points: one per quarter hour in daylight."""

_LOCKED = re.compile(r"lock|too many|frequent|try again later", re.IGNORECASE)
_UNKNOWN_USER = re.compile(
    r"(user|account)\b.{0,20}\b(does not exist|doesn't exist|not exist|not found|not registered)",
    re.IGNORECASE,
)
"""The account is unknown: "User does not exist", "user not found" (seen in one client's
tests; the status is "1" like any refusal, so the message decides: UNVERIFIED wording)."""
_APP_OUTDATED = re.compile(r"version is (too )?low|update to the latest version", re.IGNORECASE)
"""The service wants a newer client identity (VERIFIED message, status "1")."""
_WRONG_CLIENT = re.compile(
    r"s-miles home|can only be used|can only log ?in|installer app", re.IGNORECASE
)
"""This login method is not the account's ("Can only login to the S-Miles Home.", "The account
can only be used in installer app": VERIFIED messages)."""
_HOME_ONLY = re.compile(r"s-miles home", re.IGNORECASE)
_MINUTES = re.compile(r"(\d+)\s*min", re.IGNORECASE)


class DataProfile(StrEnum):
    """Which set of data endpoints an account is served on."""

    INSTALLER = "installer"
    """``/pvm`` and ``/pvm-data`` (global.hoymiles.com, S-Miles Cloud / installer accounts)."""
    HOME = "home"
    """``/pvmc/..._c`` (S-Miles Home app accounts, refused on the installer endpoints)."""


class HoymilesRefusedError(ApiResponseError):
    """A well-formed envelope whose status refuses the call (not "0", "3" or "100"): the
    service said no. An answer that cannot be read at all stays a plain
    :class:`ApiResponseError` (a failed fetch, worth asking again)."""


class HoymilesHomeOnlyError(HoymilesRefusedError):
    """The installer endpoints refused an S-Miles Home account (HTTP 403, or a status with
    "can only be used ... S-Miles Home")."""


class LoginVariant(StrEnum):
    """One way of logging in; :data:`LOGIN_ORDER` is the order they are tried in."""

    V3_ARGON2ID = "v3_argon2id"
    """pre-insp gives a salt: ``ch`` = Argon2id(password, salt) hex (2025-2026 accounts)."""
    V3_MD5_SHA256 = "v3_md5_sha256"
    """pre-insp gives no salt: ``ch`` = md5 hex + "." + base64(sha256)."""
    V3_SHA256 = "v3_sha256"
    """pre-insp gives no salt: ``ch`` = sha256 hex (second salt-less try, fresh nonce)."""
    HOME_C = "home_c"
    """S-Miles Home app: ``login_c`` on the regional host, dotted md5/sha256 password."""
    V0_MD5 = "v0_md5"
    """Legacy ``/iam/pub/0/auth/login`` with md5 hex; being retired ("app version is low")."""

    @property
    def is_v3(self) -> bool:
        """One of the ``pre-insp`` + ``login`` variants."""
        return self in _V3_VARIANTS


LOGIN_ORDER: Final[tuple[LoginVariant, ...]] = (
    LoginVariant.V3_ARGON2ID,
    LoginVariant.V3_MD5_SHA256,
    LoginVariant.V3_SHA256,
    LoginVariant.HOME_C,
    LoginVariant.V0_MD5,
)
"""The documented order: region_c, then v3 (Argon2id if salted, else the salt-less hashes),
then the S-Miles Home login, the legacy v0 login last."""

_V3_VARIANTS: Final = frozenset(
    {LoginVariant.V3_ARGON2ID, LoginVariant.V3_MD5_SHA256, LoginVariant.V3_SHA256}
)


class HoymilesAccountLockedError(ApiRateLimitedError):
    """Hoymiles refused the login because of too many attempts; wait ``retry_after`` seconds."""


class DeviceKind(StrEnum):
    DTU = "dtu"
    MICROINVERTER = "microinverter"
    HYBRID_INVERTER = "hybrid_inverter"
    BATTERY = "battery"
    METER = "meter"
    UNKNOWN = "unknown"


DEVICE_TYPES: Final[Mapping[int, DeviceKind]] = {
    1: DeviceKind.DTU,  # VERIFIED (both samples)
    3: DeviceKind.MICROINVERTER,  # VERIFIED
    6: DeviceKind.HYBRID_INVERTER,  # VERIFIED (HYS)
    10: DeviceKind.BATTERY,  # VERIFIED
    7: DeviceKind.METER,  # UNVERIFIED: no sample carries a meter node
}
"""``type`` of a device-tree node; unknown types fall back to :data:`MODEL_PREFIXES`."""

MODEL_PREFIXES: Final[tuple[tuple[str, DeviceKind], ...]] = (
    ("DTU", DeviceKind.DTU),
    ("DTS", DeviceKind.DTU),
    ("HMS", DeviceKind.MICROINVERTER),
    ("HMT", DeviceKind.MICROINVERTER),
    ("HM", DeviceKind.MICROINVERTER),
    ("MI", DeviceKind.MICROINVERTER),
    ("HYS", DeviceKind.HYBRID_INVERTER),
    ("HYT", DeviceKind.HYBRID_INVERTER),
    ("HAS", DeviceKind.HYBRID_INVERTER),
    ("DDSU", DeviceKind.METER),
    ("DTSU", DeviceKind.METER),
)


# --- models ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoymilesRegion:
    """``region_c``: the account's regional login host and data-centre marker."""

    login_url: str | None
    data_centre: int | None


@dataclass(frozen=True, slots=True)
class HoymilesStation:
    """A plant ("station") from the account's station list."""

    id: int
    name: str | None
    capacity_kwp: float | None


@dataclass(frozen=True, slots=True)
class HoymilesStationDetails:
    """``station/find``: settings that rarely change."""

    id: int
    name: str | None
    capacity_kwp: float | None
    timezone: str | None
    """IANA name (``Europe/Amsterdam``); the plant's timestamps are in this zone."""
    latitude: float | None
    longitude: float | None
    has_energy_flow: bool
    """``is_reflux``: a meter or hybrid inverter reports grid/load/battery flows."""
    battery_capacity_kwh: float | None
    """``bms_capacitor`` (unit UNVERIFIED, taken as kWh)."""
    currency: str | None
    five_minute_upload: bool | None


@dataclass(frozen=True, slots=True)
class HoymilesCounters:
    """A ``{today_eq, month_eq, year_eq, total_eq}`` block, in Wh."""

    today_wh: float | None
    month_wh: float | None
    year_wh: float | None
    total_wh: float | None


@dataclass(frozen=True, slots=True)
class HoymilesEnergyFlow:
    """``reflux_station_data`` of a plant with a meter or a hybrid inverter.

    Energy Hub signs: ``grid_power_w`` + = import, ``battery_power_w`` + = discharging.
    """

    pv_power_w: float | None
    load_power_w: float | None
    grid_power_w: float | None
    battery_power_w: float | None
    battery_soc_percent: float | None
    grid_import_today_wh: float | None
    grid_export_today_wh: float | None
    battery_charge_today_wh: float | None
    battery_discharge_today_wh: float | None
    pv_to_load_today_wh: float | None
    grid_import: HoymilesCounters
    grid_export: HoymilesCounters
    meter_location: int | None
    inverter_count: int | None


@dataclass(frozen=True, slots=True)
class HoymilesRealtime:
    """``count_station_real_data``: the plant now and its PV energy counters."""

    pv_power_w: float | None
    """None at night / before the first upload (the cloud sends null)."""
    today_energy_wh: float | None
    month_energy_wh: float | None
    year_energy_wh: float | None
    total_energy_wh: float | None
    co2_reduction_g: float | None
    capacity_kwp: float | None
    data_time_local: datetime | None
    """Last upload, naive plant-local time as the cloud prints it."""
    data_time: datetime | None
    """The same in UTC, when the plant's time zone was given; else None."""
    energy_flow: HoymilesEnergyFlow | None


@dataclass(frozen=True, slots=True)
class HoymilesDevice:
    """A device-tree node, flattened; ``parent_id`` links it to the node it hangs under."""

    id: int
    serial: str | None
    dtu_serial: str | None
    type_code: int | None
    kind: DeviceKind
    model: str | None
    software_version: str | None
    hardware_version: str | None
    connected: bool | None
    """``warn_data.connect``: the device reports to the cloud (inverters drop off at dusk)."""
    warning: bool | None
    parent_id: int | None
    port_count: int | None
    """PV inputs of a microinverter (``extend_data.port_array``)."""


@dataclass(frozen=True, slots=True)
class HoymilesDeviceTree:
    devices: tuple[HoymilesDevice, ...]

    def of_kind(self, kind: DeviceKind) -> tuple[HoymilesDevice, ...]:
        return tuple(device for device in self.devices if device.kind is kind)

    @property
    def microinverters(self) -> tuple[HoymilesDevice, ...]:
        return self.of_kind(DeviceKind.MICROINVERTER)


@dataclass(frozen=True, slots=True)
class HoymilesDailyEnergy:
    """One day of a plant's history (plant-local date), in Wh."""

    day: date
    pv_energy_wh: float | None


@dataclass(frozen=True, slots=True)
class HoymilesCurve:
    """A day's chart line: points in time order (UTC) with their value (None: no value) and
    the seconds each point stands for (see :func:`point_spans`)."""

    times: tuple[datetime, ...]
    values: tuple[float | None, ...]
    spans: tuple[float, ...]

    @property
    def last(self) -> tuple[datetime, float | None] | None:
        """The newest point."""
        return (self.times[-1], self.values[-1]) if self.times else None

    def energy_wh(self) -> float:
        """Wh under the line (each value times the time it stands for)."""
        return (
            sum(value * span for value, span in zip(self.values, self.spans, strict=True) if value)
            / 3600
        )

    def hourly_energy_wh(self) -> dict[datetime, float]:
        """Wh per UTC hour (a point's energy split over the hours its span covers)."""
        hours: dict[datetime, float] = {}
        for start, span, value in zip(self.times, self.spans, self.values, strict=True):
            if value is None:
                continue
            hour = start.replace(minute=0, second=0, microsecond=0)
            hours.setdefault(hour, 0.0)  # a point of 0 W still marks its hour
            moment, end = start, start + timedelta(seconds=span)
            while moment < end:
                boundary = min(end, hour + timedelta(hours=1))
                hours[hour] = (
                    hours.get(hour, 0.0) + value * (boundary - moment).total_seconds() / 3600
                )
                moment, hour = boundary, hour + timedelta(hours=1)
        return hours


@dataclass(frozen=True, slots=True)
class HoymilesMicroDay:
    """``micro/data/count_by_day``: a plant-local day's chart per microinverter and quota."""

    day: date
    series: Mapping[int, Mapping[str, HoymilesCurve]]
    """Microinverter id -> quota (``MI_POWER``, ...) -> its curve."""

    def curve(self, micro_id: int, quota: str) -> HoymilesCurve | None:
        return self.series.get(micro_id, {}).get(quota)


# --- hashing -----------------------------------------------------------------------------------


def argon2id_hex(password: str, salt_hex: str) -> str:
    """The v3 ``ch`` for a salted account: Argon2id(password, salt) as lowercase hex."""
    digest = hash_secret_raw(
        password.encode(),
        bytes.fromhex(salt_hex),
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        hash_len=ARGON2_HASH_LEN,
        type=Type.ID,
        version=0x13,
    )
    return digest.hex()


def md5_hex(password: str) -> str:
    return hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()


def md5_sha256(password: str) -> str:
    """``md5hex + "." + base64(sha256)``: the salt-less v3 hash and the S-Miles Home password."""
    sha = base64.b64encode(hashlib.sha256(password.encode()).digest()).decode()
    return f"{md5_hex(password)}.{sha}"


def sha256_hex(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


# --- parsing -----------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    number = parse_number(value)
    return int(number) if number is not None and number.is_integer() else None


def _text(value: Any) -> str | None:
    """A text or a whole number as text; the cloud's "-" placeholder is none."""
    found = text_or_id(value)
    return None if found == "-" else found


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    number = _int(value)
    return None if number is None else number != 0


def _negated(value: float | None) -> float | None:
    return None if value is None else (0.0 - value if value else 0.0)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _local_time(value: Any) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` (plant-local, no zone) -> naive datetime."""
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=None)


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError, ValueError:
        return None


def _station_id(item: Mapping[str, Any]) -> int | None:
    return _int(item.get("id")) if item.get("id") is not None else _int(item.get("sid"))


def parse_stations(data: Any) -> tuple[list[HoymilesStation], int | None]:
    """A ``select_by_page`` page: its stations and ``total``."""
    body = _mapping(data)
    stations = []
    for item in _objects(body.get("list")):
        station_id = _station_id(item)
        if station_id is None:
            continue
        stations.append(
            HoymilesStation(
                id=station_id,
                name=_text(item.get("name")),
                capacity_kwp=parse_number(item.get("capacitor")),
            )
        )
    return stations, _int(body.get("total"))


def parse_station_details(data: Any) -> HoymilesStationDetails:
    body = _mapping(data)
    station_id = _station_id(body)
    if station_id is None:
        raise ApiResponseError("station/find answered without a station id")
    timezone = _mapping(body.get("timezone"))
    money = _mapping(body.get("money_data"))
    return HoymilesStationDetails(
        id=station_id,
        name=_text(body.get("name")),
        capacity_kwp=parse_number(body.get("capacitor")),
        timezone=_text(timezone.get("name")),
        latitude=parse_number(body.get("latitude")),
        longitude=parse_number(body.get("longitude")),
        has_energy_flow=_flag(body.get("is_reflux")) is True,
        battery_capacity_kwh=parse_number(body.get("bms_capacitor")),
        currency=_text(body.get("money_unit")) or _text(money.get("code")),
        five_minute_upload=_flag(body.get("int5m")),
    )


def _counters(value: Any) -> HoymilesCounters:
    body = _mapping(value)
    return HoymilesCounters(
        today_wh=parse_number(body.get("today_eq")),
        month_wh=parse_number(body.get("month_eq")),
        year_wh=parse_number(body.get("year_eq")),
        total_wh=parse_number(body.get("total_eq")),
    )


def _energy_flow(value: Any) -> HoymilesEnergyFlow | None:
    if not isinstance(value, Mapping):
        return None
    return HoymilesEnergyFlow(
        pv_power_w=parse_number(value.get("pv_power")),
        load_power_w=parse_number(value.get("load_power")),
        grid_power_w=_negated(parse_number(value.get("grid_power"))),
        battery_power_w=_negated(parse_number(value.get("bms_power"))),
        battery_soc_percent=parse_number(value.get("bms_soc")),
        grid_import_today_wh=parse_number(value.get("meter_b_in_eq")),
        grid_export_today_wh=parse_number(value.get("meter_b_out_eq")),
        battery_charge_today_wh=parse_number(value.get("bms_in_eq")),
        battery_discharge_today_wh=parse_number(value.get("bms_out_eq")),
        pv_to_load_today_wh=parse_number(value.get("pv_to_load_eq")),
        grid_import=_counters(value.get("mb_in_eq")),
        grid_export=_counters(value.get("mb_out_eq")),
        meter_location=_int(value.get("meter_location")),
        inverter_count=_int(value.get("inv_num")),
    )


def parse_realtime(data: Any, timezone: str | None = None) -> HoymilesRealtime:
    """``count_station_real_data``; ``timezone`` (IANA) makes ``data_time`` an aware UTC time."""
    if not isinstance(data, Mapping):
        raise ApiResponseError("count_station_real_data answered without data")
    local = _local_time(data.get("data_time")) or _local_time(data.get("last_data_time"))
    zone = _zone(timezone)
    aware = None
    if local is not None and zone is not None:
        aware = local.replace(tzinfo=zone).astimezone(UTC)
    return HoymilesRealtime(
        pv_power_w=parse_number(data.get("real_power")),
        today_energy_wh=parse_number(data.get("today_eq")),
        month_energy_wh=parse_number(data.get("month_eq")),
        year_energy_wh=parse_number(data.get("year_eq")),
        total_energy_wh=parse_number(data.get("total_eq")),
        co2_reduction_g=parse_number(data.get("co2_emission_reduction")),
        capacity_kwp=parse_number(data.get("capacitor")),
        data_time_local=local,
        data_time=aware,
        energy_flow=_energy_flow(data.get("reflux_station_data")),
    )


def device_kind(type_code: int | None, model: str | None) -> DeviceKind:
    if type_code is not None and type_code in DEVICE_TYPES:
        return DEVICE_TYPES[type_code]
    upper = (model or "").upper()
    for prefix, kind in MODEL_PREFIXES:
        if upper.startswith(prefix):
            return kind
    return DeviceKind.UNKNOWN


def parse_device_tree(data: Any) -> HoymilesDeviceTree:
    """``select_device_of_tree`` (``children``) or ``select_device_c`` (``devices``), flattened
    depth first: a DTU, then the inverters under it, then their batteries."""
    if not isinstance(data, list):
        raise ApiResponseError("select_device_of_tree answered without a list")
    devices: list[HoymilesDevice] = []

    def walk(nodes: Any, parent: int | None) -> None:
        for node in _objects(nodes):
            device_id = _int(node.get("id"))
            if device_id is None:
                continue
            type_code = _int(node.get("type"))
            model = _text(node.get("model_no"))
            warn = _mapping(node.get("warn_data"))
            extend = _mapping(node.get("extend_data"))
            ports = extend.get("port_array")
            devices.append(
                HoymilesDevice(
                    id=device_id,
                    serial=_text(node.get("sn")),
                    dtu_serial=_text(node.get("dtu_sn")),
                    type_code=type_code,
                    kind=device_kind(type_code, model),
                    model=model,
                    software_version=_text(node.get("soft_ver")),
                    hardware_version=_text(node.get("hard_ver")),
                    connected=_flag(warn.get("connect")),
                    warning=_flag(warn.get("warn")),
                    parent_id=parent,
                    port_count=len(ports) if isinstance(ports, list) else None,
                )
            )
            walk(node.get("children", node.get("devices")), device_id)

    walk(data, None)
    return HoymilesDeviceTree(tuple(devices))


def parse_daily_energy(data: Any) -> list[HoymilesDailyEnergy]:
    """``stat_g_a`` in month mode: one item per day (shape UNVERIFIED: ``data.list[]`` of
    ``{"date", "pv_eq", "p2l", "p2b", "p2g", ...}`` in Wh). The day's PV energy is ``pv_eq``,
    else the sum of PV-to-load, -battery and -grid when all three are present."""
    items = _objects(_mapping(data).get("list")) if not isinstance(data, list) else _objects(data)
    days: dict[date, HoymilesDailyEnergy] = {}
    for item in items:
        text = _text(item.get("date"))
        try:
            day = date.fromisoformat(text[:10]) if text else None
        except ValueError:
            day = None
        if day is None:
            continue
        energy = parse_number(item.get("pv_eq"))
        if energy is None:
            parts = [parse_number(item.get(key)) for key in ("p2l", "p2b", "p2g")]
            if all(part is not None for part in parts):
                energy = sum(part for part in parts if part is not None)
        days[day] = HoymilesDailyEnergy(day=day, pv_energy_wh=energy)
    return [days[day] for day in sorted(days)]


def _label_times(day: date, labels: Sequence[str], zone: tzinfo) -> list[datetime | None]:
    """``"HH:MM"`` labels of a plant-local day as UTC times. On the autumn clock change the
    repeated hour's labels come again after later ones: those are the second pass (fold 1)."""
    out: list[datetime | None] = []
    previous: time | None = None
    fold = 0
    for label in labels:
        try:
            hours, minutes = (int(part) for part in label.strip().split(":")[:2])
            clock = time(hours, minutes)
        except ValueError:
            out.append(None)
            continue
        if previous is not None and clock <= previous:
            fold = 1
        previous = clock
        local = datetime.combine(day, clock, zone).replace(fold=fold)
        out.append(local.astimezone(UTC))
    return out


def point_spans(times: Sequence[datetime], default_step: timedelta) -> tuple[float, ...]:
    """Seconds each point of a chart stands for: up to the next point, at most the chart's
    own step (its most common gap; ``default_step`` for a single point) and
    :data:`MAX_POINT_GAP`; the last point one step. A gap (missed uploads) is not filled."""
    stamps = [moment.timestamp() for moment in times]
    gaps = Counter(b - a for a, b in itertools.pairwise(stamps) if b > a)
    step = gaps.most_common(1)[0][0] if gaps else default_step.total_seconds()
    step = min(step, MAX_POINT_GAP.total_seconds())
    spans = [max(0.0, min(b - a, step)) for a, b in itertools.pairwise(stamps)]
    return (*spans, step) if stamps else ()


class _Axis:
    """A chart's time axis, shared by its lines: the readable labels in time order."""

    def __init__(
        self, day: date, labels: Sequence[str], zone: tzinfo, default_step: timedelta
    ) -> None:
        times = _label_times(day, labels, zone)
        self.size = len(labels)
        order = sorted((moment, index) for index, moment in enumerate(times) if moment is not None)
        self.times = tuple(moment for moment, _ in order)
        #: Indices of the points kept, or None when every label is kept in its order.
        self.keep: list[int] | None = [index for _, index in order]
        if self.keep == list(range(self.size)):
            self.keep = None
        self.spans = point_spans(self.times, default_step)

    def curve(self, values: Sequence[float]) -> HoymilesCurve:
        """A line on this axis; NaN and infinities are no value, missing values too."""
        if self.keep is None and len(values) == self.size:
            picked: Sequence[float | None] = values
        else:
            picked = [
                values[index] if index < len(values) else None
                for index in (self.keep if self.keep is not None else range(self.size))
            ]
        return HoymilesCurve(
            times=self.times,
            values=tuple(v if v is not None and math.isfinite(v) else None for v in picked),
            spans=self.spans,
        )


def _chart_day(text: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(text[:10]) if text else fallback
    except ValueError:
        return fallback


def parse_micro_chart(raw: bytes, day: date, timezone: str | None) -> HoymilesMicroDay:
    """``LineChart {repeated string x_axis = 1; repeated LineSeries series = 2; string type =
    3}``, ``LineSeries {string type = 1; repeated float data = 2; int32 did = 3; int32 port =
    4}``. Values are float32, or doubles when the request asked ``pb_ver`` 1 (told apart by
    their length). Series without a microinverter id are skipped."""
    chart = protobuf.decode(raw)
    labels = chart.strings(1)
    day = _chart_day(chart.string(3), day)
    axis = _Axis(day, labels, _zone(timezone) or UTC, MICRO_CHART_STEP)
    series: dict[int, dict[str, HoymilesCurve]] = {}
    for line in chart.messages(2):
        micro_id = line.integer(3)
        quota = line.string(1)
        if micro_id is None or not quota:
            continue
        values = line.floats(2, count_hint=len(labels))
        series.setdefault(micro_id, {})[quota] = axis.curve(values)
    return HoymilesMicroDay(day=day, series=series)


def parse_power_curve(raw: bytes, day: date, timezone: str | None) -> HoymilesCurve:
    """``GridPowerResponse {repeated string time = 1; PowerData pd = 2; string date = 3}``,
    ``PowerData {string type = 1; repeated float power = 2}``: the plant's power (W) over a
    plant-local day, every 15 minutes in daylight and sparser at night."""
    answer = protobuf.decode(raw)
    labels = answer.strings(1)
    day = _chart_day(answer.string(3), day)
    data = answer.message(2)
    values = data.floats(2, count_hint=len(labels)) if data is not None else []
    return _Axis(day, labels, _zone(timezone) or UTC, POWER_CURVE_STEP).curve(values)


def _login_refusal(status: str, message: str) -> Exception:
    """What a refused ``pre-insp`` or login says: locked, unknown user, outdated app, the wrong
    method, the next variant, or (anything else) rejected credentials."""
    if _LOCKED.search(message):
        minutes = _MINUTES.search(message)
        delay = float(minutes.group(1)) * 60 if minutes else DEFAULT_LOCK_RETRY_AFTER
        return HoymilesAccountLockedError(
            f"Hoymiles locked the login: {message}", retry_after=delay
        )
    if _UNKNOWN_USER.search(message):
        return _LoginFailed(_Outcome.UNKNOWN_USER, message)
    if _APP_OUTDATED.search(message):
        return _LoginFailed(_Outcome.OUTDATED, message)
    if _WRONG_CLIENT.search(message):
        return _LoginFailed(_Outcome.WRONG_CLIENT, message)
    if status == STATUS_TRY_NEXT_HASH:
        return _LoginFailed(_Outcome.NEXT_VARIANT, message)
    return _LoginFailed(_Outcome.REJECTED, message)


def _pre_insp_fields(body: Any) -> Mapping[str, Any]:
    """``pre-insp``'s ``{"n", "a", "v", ...}``: in the envelope's ``data``, or at the top level
    as some answers have them (VERIFIED in two clients), or under ``data`` without a status.
    A refusal says why (:func:`_login_refusal`); one that names no reason is an answer the
    login cannot use (an :class:`ApiResponseError`, tried again later): no password was checked,
    and moving on to other methods would only risk failed logins."""
    if not isinstance(body, Mapping):
        raise ApiResponseError(f"{PATH_PRE_INSP} answered without an object")
    if "status" in body:
        status = str(body.get("status")).strip()
        if status != STATUS_OK:
            message = _text(body.get("message")) or f"status {status}"
            refusal = _login_refusal(status, message)
            if isinstance(refusal, _LoginFailed) and refusal.outcome in _NO_REASON:
                raise ApiResponseError(f"{PATH_PRE_INSP} refused: {message}")
            raise refusal
        return _mapping(body.get("data"))
    data = body.get("data")
    return data if isinstance(data, Mapping) else body


def _months(start: date, end: date) -> list[date]:
    months = []
    current = start.replace(day=1)
    while current <= end:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


# --- the client --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PreInsp:
    nonce: str
    salt: str | None


class _Outcome(StrEnum):
    WRONG_CLIENT = "wrong_client"
    """This method is not the account's ("S-Miles Home" only, "can only be used in ..."): the
    other variants of the same method would say the same."""
    NEXT_VARIANT = "next_variant"
    """Status "7": try the next variant (one client's reading; UNVERIFIED meaning)."""
    OUTDATED = "outdated"
    """"App version is low": the service wants a newer client identity."""
    UNKNOWN_USER = "unknown_user"
    """"User does not exist"."""
    REJECTED = "rejected"
    """The credentials were refused (counts towards the lockout)."""


_NO_REASON: Final = frozenset({_Outcome.REJECTED, _Outcome.NEXT_VARIANT})
"""Refusals of ``pre-insp`` that name no reason (it checks no password)."""


class _LoginFailed(Exception):
    def __init__(self, outcome: _Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class _Skip(Exception):
    """The variant does not apply to this account (e.g. a salt-less hash for a salted one)."""


class _TokenRejected(Exception):
    """``status "100"``: the token is invalid or expired."""


class _Host(JsonApiClient):
    """Another host (login, region) sharing the client's session."""


class HoymilesClient(JsonApiClient):
    """The S-Miles cloud for one account (username + password)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        username: str,
        password: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        region_url: str | None = None,
        legacy_login_url: str | None = None,
        login_variant: LoginVariant | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """``region_url`` and ``legacy_login_url`` default to the real hosts, or to
        ``base_url`` when that is overridden (one base for everything). ``login_variant``: a
        variant that worked before (e.g. stored with the config entry) to try first."""
        super().__init__(session, base_url, timeout=timeout)
        single_base = self.base_url != DEFAULT_BASE_URL
        if region_url is None:
            region_url = self.base_url if single_base else DEFAULT_REGION_URL
        if legacy_login_url is None:
            legacy_login_url = self.base_url if single_base else DEFAULT_LEGACY_LOGIN_URL
        self._timeout_s = timeout
        self._region_host = _Host(session, region_url, timeout=timeout)
        self._legacy_host = _Host(session, legacy_login_url, timeout=timeout)
        self._login_host: _Host | None = None
        self._username = username.strip()
        self._password = password
        self._region: HoymilesRegion | None = None
        self._token: str | None = None
        self._argon2: tuple[str, str] | None = None
        """(salt, hash): the salt is fixed per account, so a re-login need not hash again."""
        self._lock = asyncio.Lock()
        self.login_variant: LoginVariant | None = login_variant
        """The variant that last worked (remembered and tried first)."""
        self.profile = DataProfile.INSTALLER
        """The data endpoints in use: installer ones until they refuse the account."""
        self.login_count = 0
        """Successful logins made by this client."""

    # --- public ----------------------------------------------------------------------------

    @property
    def region_url(self) -> str:
        return self._region_host.base_url

    @property
    def legacy_login_url(self) -> str:
        return self._legacy_host.base_url

    async def region(self) -> HoymilesRegion:
        """``region_c`` for the account (once per client; the answer is kept)."""
        if self._region is None:
            body = await self._post(
                self._region_host, PATH_REGION, {"email": self._username}, self._headers()
            )
            data = self._public_data(body, PATH_REGION)
            info = _mapping(data)
            self._region = HoymilesRegion(
                login_url=_text(info.get("login_url")), data_centre=_int(info.get("dc"))
            )
        return self._region

    async def login(self) -> LoginVariant:
        """Log in now (config-flow validation); returns the variant that worked."""
        async with self._lock:
            await self._login()
        assert self.login_variant is not None
        return self.login_variant

    async def stations(self) -> list[HoymilesStation]:
        """Every plant of the account: pages until the ``total`` the service reports is read
        (it may answer fewer plants a page than asked for). Without a total, a short page is
        the last. An empty page, a page of plants already read, or :data:`MAX_PAGES` end the
        list (what was read is kept)."""
        stations: dict[int, HoymilesStation] = {}
        total: int | None = None
        for page in range(1, MAX_PAGES + 1):
            data = await self._call(PATH_STATIONS, {"page": page, "page_size": STATION_PAGE_SIZE})
            found, reported = parse_stations(data)
            total = reported if reported is not None else total
            new = [station for station in found if station.id not in stations]
            stations.update((station.id, station) for station in new)
            if not new:
                break
            if total is not None:
                if len(stations) >= total:
                    break
            elif len(found) < STATION_PAGE_SIZE:
                break
        else:
            _LOGGER.debug("Hoymiles plant list: stopped after %d pages", MAX_PAGES)
        if total is not None and len(stations) < total:
            _LOGGER.debug("Hoymiles plant list: %d of %d plants listed", len(stations), total)
        return list(stations.values())

    async def station_details(self, station_id: int) -> HoymilesStationDetails:
        return parse_station_details(await self._call(PATH_STATION_FIND, {"id": station_id}))

    async def station_realtime(
        self, station_id: int, timezone: str | None = None
    ) -> HoymilesRealtime:
        """Plant power, PV energy counters and (meter/hybrid plants) the energy flow: one
        request for the whole plant. ``timezone`` (from :meth:`station_details`) makes
        ``data_time`` aware."""
        return parse_realtime(await self._call(PATH_REALTIME, {"sid": station_id}), timezone)

    async def device_tree(self, station_id: int) -> HoymilesDeviceTree:
        """DTUs, microinverters, hybrid inverters, batteries and meters with online state: one
        request for the whole plant."""
        return parse_device_tree(await self._call(PATH_DEVICE_TREE, {"id": station_id}))

    async def daily_generation(
        self, station_id: int, start: date, end: date
    ) -> list[HoymilesDailyEnergy]:
        """PV energy per plant-local day in ``[start, end]``: one request per calendar month."""
        if end < start:
            return []
        days: list[HoymilesDailyEnergy] = []
        for month in _months(start, end):
            body = {"sid": station_id, "mode": 2, "date": month.strftime("%Y-%m"), "type": 6}
            for item in parse_daily_energy(await self._call(PATH_ENERGY_STATS, body)):
                if start <= item.day <= end:
                    days.append(item)
        return days

    async def micro_day(
        self,
        station_id: int,
        day: date,
        micro_ids: Sequence[int],
        quotas: Sequence[str] = (QUOTA_POWER, QUOTA_TEMPERATURE),
        timezone: str | None = None,
    ) -> HoymilesMicroDay:
        """Every listed microinverter's chart of the plant-local ``day``: one request for the
        plant (a protobuf answer)."""
        if not micro_ids:
            return HoymilesMicroDay(day=day, series={})
        body = {
            "sid": station_id,
            "date": day.isoformat(),
            "mi_list": list(micro_ids),
            "quota": list(quotas),
        }
        raw = await self._call_binary(PATH_MICRO_CHART, body)
        return parse_micro_chart(raw, day, timezone)

    async def power_curve(
        self, station_id: int, day: date, timezone: str | None = None
    ) -> HoymilesCurve:
        """The plant's power over the plant-local ``day`` (a protobuf answer)."""
        body = {"sid": station_id, "date": day.isoformat()}
        raw = await self._call_binary(PATH_POWER_BY_DAY, body)
        return parse_power_curve(raw, day, timezone)

    # --- requests --------------------------------------------------------------------------

    def _headers(self, token: str | None = None) -> dict[str, str]:
        dc = self._region.data_centre if self._region is not None else None
        headers = {
            "User-Agent": f"sma/ad/{APP_VERSION}/{BRAND_TID}/{max(dc or 0, 0)}",
            "language": "en-us",
        }
        if token is not None:
            headers["Authorization"] = token
        return headers

    async def _post(
        self, host: JsonApiClient, path: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Any:
        if host is not self:
            self.request_count += 1
        return await host._request_json("POST", path, json_body=dict(body), headers=headers)

    @staticmethod
    def _public_data(body: Any, path: str) -> Any:
        """The envelope's ``data`` for a call made without a token (region, pre-insp)."""
        try:
            return HoymilesClient._data(body, path)
        except _TokenRejected as err:
            raise ApiResponseError(f"{path} answered status 100: {err}") from err

    @staticmethod
    def _data(body: Any, path: str) -> Any:
        """The envelope's ``data``; status "100" raises :class:`_TokenRejected`."""
        if not isinstance(body, Mapping) or "status" not in body:
            raise ApiResponseError(f"{path} answered without a status")
        status = str(body.get("status")).strip()
        message = _text(body.get("message")) or ""
        if status == STATUS_OK:
            return body.get("data")
        if status == STATUS_SESSION_INVALID:
            raise _TokenRejected(message)
        if status == STATUS_NO_PERMISSION:
            raise ApiNotFoundError(f"{path}: no permission ({message or 'status 3'})")
        if _HOME_ONLY.search(message):
            raise HoymilesHomeOnlyError(f"{path}: {message}")
        raise HoymilesRefusedError(f"{path} answered status {status}: {message}")

    def _route(self, path: str, body: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The path and body for the account's data profile."""
        route = _HOME_ROUTES.get(path) if self.profile is DataProfile.HOME else None
        if route is None:
            return path, dict(body)
        home_path, sid = route
        return home_path, {("sid" if sid and key == "id" else key): v for key, v in body.items()}

    async def _call(self, path: str, body: Mapping[str, Any]) -> Any:
        """A JSON call (see :meth:`_send`)."""
        return await self._send(path, body, self._post_json)

    async def _call_binary(self, path: str, body: Mapping[str, Any]) -> bytes:
        """A call answered in protobuf (see :meth:`_send`)."""
        return await self._send(path, body, self._post_binary)

    async def _send[T](
        self,
        path: str,
        body: Mapping[str, Any],
        post: Callable[[str, dict[str, Any], str], Awaitable[T]],
    ) -> T:
        """``post`` on the account's endpoints with the token. An S-Miles Home account refused
        by an installer endpoint moves to the Home endpoints for good, and the call is
        repeated."""
        try:
            return await self._with_token(*self._route(path, body), post)
        except HoymilesHomeOnlyError:
            if self.profile is DataProfile.HOME or path not in _HOME_ROUTES:
                raise
        _LOGGER.debug("Hoymiles: an S-Miles Home account; using the app's endpoints")
        self.profile = DataProfile.HOME
        return await self._with_token(*self._route(path, body), post)

    async def _with_token[T](
        self,
        path: str,
        body: dict[str, Any],
        post: Callable[[str, dict[str, Any], str], Awaitable[T]],
    ) -> T:
        """``post`` with the token; a rejected token: one silent re-login and a retry."""
        token = await self._current_token()
        try:
            return await post(path, body, token)
        except _TokenRejected:
            _LOGGER.debug("Hoymiles token rejected on %s; logging in again", path)
        token = await self._current_token(rejected=token)
        try:
            return await post(path, body, token)
        except _TokenRejected as err:
            self._token = None
            raise ApiAuthError("Hoymiles rejected a fresh login token") from err

    async def _post_json(self, path: str, body: dict[str, Any], token: str) -> Any:
        return self._data(await self._post(self, path, body, self._headers(token)), path)

    async def _post_binary(self, path: str, body: dict[str, Any], token: str) -> bytes:
        """The raw answer; errors still come as the JSON envelope. An empty answer (or an
        envelope with status 0) is an empty message."""
        raw, content_type = await self._request_bytes(
            "POST", path, json_body=body, headers=self._headers(token)
        )
        if "json" not in content_type.lower() and not raw.lstrip().startswith(b"{"):
            return raw
        try:
            envelope = json.loads(raw)
        except ValueError as err:
            raise ApiResponseError(f"Malformed answer from {path}") from err
        self._data(envelope, path)
        return b""

    def _raise_for_status(
        self, status: int, body: str, content_type: str, retry_after: str | None
    ) -> None:
        """HTTP 403 on an installer endpoint: an S-Miles Home account (one client sees it on
        the station list); otherwise as every client."""
        if status == 403:  # the cloud says "token invalid" with status 100, never with a 403
            if self.profile is DataProfile.INSTALLER:
                raise HoymilesHomeOnlyError(f"{self.base_url} answered HTTP 403")
            raise ApiResponseError(f"{self.base_url} answered HTTP 403")
        super()._raise_for_status(status, body, content_type, retry_after)

    async def _current_token(self, rejected: str | None = None) -> str:
        async with self._lock:
            if self._token is None or self._token == rejected:
                self._token = None
                await self._login()
            assert self._token is not None
            return self._token

    # --- login -----------------------------------------------------------------------------

    async def _login(self) -> None:
        """Try the variants (the remembered one first); sets the token and the variant."""
        region = await self._lookup_region()
        if region.data_centre == -1:
            raise ApiAuthError("Hoymiles does not know this account")
        remembered = self.login_variant
        order: Sequence[LoginVariant] = LOGIN_ORDER
        if remembered is not None:
            order = (remembered, *(v for v in LOGIN_ORDER if v is not remembered))
        spare: _PreInsp | None = None
        skip_v3 = False
        outdated: str | None = None
        last = "no login variant applies to this account"
        for variant in order:
            if variant.is_v3 and skip_v3:
                continue
            try:
                if variant.is_v3:
                    pre = spare or await self._pre_insp()
                    spare = pre
                    ch = await self._v3_hash(variant, pre)
                    spare = None  # the nonce is spent by this attempt
                    token = await self._login_v3(pre.nonce, ch)
                elif variant is LoginVariant.HOME_C:
                    token = await self._login_home()
                else:
                    token = await self._login_v0()
            except _Skip:
                continue
            except _LoginFailed as err:
                last = str(err)
                match err.outcome:
                    case _Outcome.UNKNOWN_USER:
                        raise ApiAuthError(f"Hoymiles does not know this account: {last}") from err
                    case _Outcome.OUTDATED | _Outcome.WRONG_CLIENT:
                        # The method is wrong, whatever the hash: the next method.
                        outdated = last if err.outcome is _Outcome.OUTDATED else outdated
                        skip_v3 = skip_v3 or variant.is_v3
                    case _Outcome.REJECTED:
                        if variant is LoginVariant.V3_MD5_SHA256 and remembered is not variant:
                            continue  # the salt-less hash's other encoding, once
                        if outdated is not None:  # refused by a method the service did not want
                            raise ApiClientOutdatedError(
                                f"Hoymiles wants a newer app: {outdated}"
                            ) from err
                        raise ApiAuthError(f"Hoymiles rejected the credentials: {last}") from err
                continue
            self._token = token
            self.login_variant = variant
            self.login_count += 1
            _LOGGER.debug("Hoymiles login with %s", variant)
            return
        if outdated is not None:
            raise ApiClientOutdatedError(f"Hoymiles wants a newer app: {outdated}")
        raise ApiAuthError(f"Hoymiles rejected the login: {last}")

    async def _lookup_region(self) -> HoymilesRegion:
        try:
            region = await self.region()
        except (ApiResponseError, ApiNotFoundError) as err:
            _LOGGER.debug("Hoymiles region lookup failed (%s); using %s", err, self.region_url)
            region = self._region = HoymilesRegion(login_url=None, data_centre=None)
        if self._login_host is None:
            url = region.login_url if self._trusted(region.login_url) else None
            self._login_host = _Host(self._session, url or self.region_url, timeout=self._timeout_s)
        return region

    def _trusted(self, login_url: str | None) -> bool:
        if not login_url:
            return False
        url = URL(login_url)
        own = URL(self.region_url)
        if (url.scheme, url.host, url.port) == (own.scheme, own.host, own.port):
            return True
        host = url.host or ""
        return url.scheme == "https" and (host == "hoymiles.com" or host.endswith(".hoymiles.com"))

    @property
    def login_url(self) -> str:
        """The host the logins go to (after the region lookup)."""
        return (self._login_host or self._region_host).base_url

    async def _pre_insp(self) -> _PreInsp:
        assert self._login_host is not None
        body = await self._post(
            self._login_host, PATH_PRE_INSP, {"u": self._username}, self._headers()
        )
        data = _pre_insp_fields(body)
        nonce = _text(data.get("n"))
        if nonce is None:
            raise ApiResponseError("pre-insp answered without a nonce")
        flag = _int(data.get("f"))
        if flag == 1:
            raise ApiAuthError("The Hoymiles password has expired: change it in the S-Miles app")
        if flag == 2:
            raise ApiAuthError("Hoymiles wants the account's email confirmed in the S-Miles app")
        return _PreInsp(nonce=nonce, salt=_text(data.get("a")))

    async def _v3_hash(self, variant: LoginVariant, pre: _PreInsp) -> str:
        if variant is LoginVariant.V3_ARGON2ID:
            if pre.salt is None:
                raise _Skip
            try:
                bytes.fromhex(pre.salt)
            except ValueError as err:
                raise ApiResponseError("pre-insp answered a salt that is not hex") from err
            if self._argon2 is None or self._argon2[0] != pre.salt:
                digest = await asyncio.to_thread(argon2id_hex, self._password, pre.salt)
                self._argon2 = (pre.salt, digest)
            return self._argon2[1]
        if pre.salt is not None:
            raise _Skip  # a salted account takes Argon2id only
        if variant is LoginVariant.V3_MD5_SHA256:
            return md5_sha256(self._password)
        return sha256_hex(self._password)

    def _token_from(self, body: Any, path: str) -> str:
        if not isinstance(body, Mapping) or "status" not in body:
            raise ApiResponseError(f"{path} answered without a status")
        status = str(body.get("status")).strip()
        message = _text(body.get("message")) or f"status {status}"
        if status == STATUS_OK:
            data = body.get("data")
            token = _text(_mapping(data).get("token")) if isinstance(data, Mapping) else None
            if token is None:
                raise ApiResponseError(f"{path} answered success without a token")
            return token
        raise _login_refusal(status, message)

    async def _login_v3(self, nonce: str, ch: str) -> str:
        assert self._login_host is not None
        body = {"u": self._username, "ch": ch, "n": nonce}
        answer = await self._post(self._login_host, PATH_LOGIN_V3, body, self._headers())
        return self._token_from(answer, PATH_LOGIN_V3)

    async def _login_home(self) -> str:
        assert self._login_host is not None
        body = {"user_name": self._username, "password": md5_sha256(self._password)}
        answer = await self._post(self._login_host, PATH_LOGIN_HOME, body, self._headers())
        return self._token_from(answer, PATH_LOGIN_HOME)

    async def _login_v0(self) -> str:
        body = {"user_name": self._username, "password": md5_hex(self._password)}
        answer = await self._post(self._legacy_host, PATH_LOGIN_V0, body, self._headers())
        return self._token_from(answer, PATH_LOGIN_V0)
