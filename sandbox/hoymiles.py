"""Hoymiles S-Miles cloud (web/installer API), emulated.

Shapes follow `shared/vendor-apis/hoymiles.md` and its samples. Every real host lives under the
one prefix `/hoymiles` (region lookup, login hosts and data host alike), so a client given
`base_url = <sandbox>/hoymiles` needs nothing else; `region_c` answers that same base as the
`login_url`. All endpoints are `POST` with a JSON body and answer HTTP 200 with the envelope
`{"status": "0", "message": "success", "data": ..., "systemNotice": null}`; logical errors keep
HTTP 200 (`"1"` login rejected, `"3"` No Permission, `"100"` token verify error).

Login (section 2.3): `region_c`; `pre-insp` issues a single-use nonce (5 min) and, for salted
accounts, the salt (`v` 3) whose login `ch` is checked by recomputing Argon2id (t=3, m=32 MiB,
p=1, 32 bytes); salt-less accounts (`v` 2) take `md5hex.base64(sha256)` or `sha256hex`;
`login_c` (S-Miles Home) the dotted hash; the legacy v0 login md5 hex ("app version is low"
for everyone else). One account per scheme, see `ACCOUNTS` (password `sandbox-password`).
Five failed logins in a row lock the account for 30 minutes; only a wrong password counts (an
answer that says the method is wrong does not). A login method that is not the account's
answers so: v3 for an S-Miles Home account "Can only login to the S-Miles Home."; v3 and
`login_c` for a legacy account status "7" (the sandbox's reading of "try another variant",
UNVERIFIED); `login_c` for any other account a failed login (the pessimistic reading: the real
answer is unknown); the v0 login "app version is low" for all but legacy accounts. A test can
set `min_app_version`: every login from an older `sma/ad/<version>` User-Agent then answers "Your
app version is low. Please update to the latest version." (nothing counted). With `bare_pre_insp`
the pre-insp fields come at the top level, without the envelope, as some real answers do. The
plant list (`select_by_page`) answers at most `MAX_PAGE_SIZE` plants a page whatever was asked
(a cap the real cloud may have: UNVERIFIED), with the account's `total`. Days a test puts in
`malformed_curves` get a truncated JSON body from `count_power_by_day`. Tokens expire
`token_lifetime` after login (8 h by default: the real lifetime is UNVERIFIED) or when a test calls
`sandbox_of(app).expire_tokens()`; then data calls answer `status "100"`.

Plants (all in Central European time; the cloud prints plant-local times without a zone):

    1001 Balcony Row   Amsterdam 52.37 N   DTU-Pro-S, 8 microinverters (6 HMS-800-2T, 2 HMS-400-1T)
    1002 Barn Roof     Munich 48.14 N      2 DTU-Pro, 40 HMS-2000-4T (20 per DTU)
    1003 Hybrid House  Utrecht 52.09 N     DTS-WIFI-G1 -> HYS-4.6LV-EUG1 hybrid inverter with a
                                           5 kWh battery under it, and a DDSU666 grid meter
    1004-1028 Allotment 1-25, spread over 47-54 N: a DTU-Lite-S and one HMS-800-2T each (the
                                           25 plants of `MANY_USER`, an installer's account)

The third plant is the hybrid one (a meter and a battery, `is_reflux` 1); the two micro plants
stay PV-only as most real ones are. Every number is a pure function of the plant and the
5-minute slot: the sun for the plant's latitude, a cloudiness per day plus passing clouds per
slot, each inverter's orientation and its wake-up threshold (the sun's height at which it
connects), so at dusk the inverters go offline one by one. The hybrid house has a load with
peaks and a battery in self-consumption mode that starts each day at a level of its own.
The cloud shows a slot once it has ended (see `published_slot`); history
(`stat_g_a`, month mode: `data.list` of one item per day, a shape the public record does not
show: UNVERIFIED) runs from `COMMISSIONED`. The cloud keeps no hourly
JSON history, only binary protobuf day charts; two are emulated, answering raw protobuf
(`application/octet-stream`, written by `sandbox.protobuf`) on success and the JSON envelopes
on errors (token `"100"`, foreign plant `"3"`, bad body `"2"`):

* `micro/data/count_by_day` `{"sid", "date", "mi_list", "quota", "pb_ver"?}`: a LineChart of
  plant-local `HH:MM` slot starts from the first 5-minute slot of the day in which some
  microinverter is awake to the last (today: up to the published slot), one series per quota
  (`MI_POWER`, `MI_TEMPERATURE`, `MI_NET_V`, `MI_NET_RATE`) and microinverter asked for,
  packed float32 (float64 with `"pb_ver": 1`). Message shapes: `micro_chart`.
* `station/data/count_power_by_day` `{"sid", "date"}`: the plant's PV power of a day, one
  point per quarter hour (its mean W) between the first and the last quarter with power, one
  0 W point per whole hour outside (twice `02:00` on the autumn clock change). Only complete,
  published quarters. Message shapes: `power_chart`.

Both are empty (just the date) before `COMMISSIONED` and in the future. Needs `argon2-cffi`
(the integration's own requirement) to check Argon2id logins.

S-Miles Home accounts (`Scheme.HOME_C`, the `login_c` one) are refused by the installer data
endpoints with `{"status": "1", "message": HOME_ONLY_MESSAGE, "data": null}`: HTTP 200 on
`station/find`, `select_device_of_tree`, `count_station_real_data` and `micro/data/count_by_day`,
HTTP 403 (same body) on `station/select_by_page`, so both refusal shapes real clients report are
emulated. The real cloud serves those accounts on `_c` twins under `/pvmc/api/0/`, which answer
a token of any account (installer ones too), each a transform of its installer twin's answer:

* `station/select_by_page_c` `{"page", "page_size"}`: list items with the plant id under `sid`
  (no `id`), see `home_station_json`;
* `station/find_c` `{"sid"}`: the full station under `sid`, without `latitude`, `longitude` and
  `local_time`, `timezone` cut to `{"tz_name", "name"}`;
* `station/select_device_c` `{"sid"}`: the device tree nested under `devices`, without
  `model_no`, `soft_ver` and `hard_ver`; firmware as `extend_data.soft_num` (an int,
  `V01.00.11` -> 10011), see `home_device_tree_json`;
* `station_data/count_station_real_data_c` `{"sid"}` and `micro_data/count_by_day_c`: exactly
  their installer twins' answers (the latter raw protobuf).

The history endpoints (`stat_g_a`, `count_power_by_day`) keep answering Home accounts: no `_c`
twin of them is publicly known, so the sandbox does not invent one (UNVERIFIED whether the real
cloud refuses them to Home accounts).

Ground truth: `plant_power`, `inverters_at`, `day_energy`, `today_energy`, `flow_at`;
for the charts `inverter_power`, `inverter_temperature`, `inverter_grid_voltage`,
`inverter_grid_frequency`, `inverter_today_energy`, `micro_chart_labels`, `hour_energy`,
`quarter_power`, `power_chart_points`.
"""

from __future__ import annotations

from array import array
import asyncio
import base64
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
import functools
import hashlib
import hmac
import json
import math
from typing import Any, Final

from aiohttp import web
from argon2.low_level import Type, hash_secret_raw

from . import protobuf as pb
from .common import JSONObject, as_utc, clamp, json_response, noise, parse_date
from .state import SandboxState, vendor_prefix

VENDOR: Final = "hoymiles"
MALFORMED_BODY: Final = '{"status":"0","message":"success","data":{"today_eq":"41'

PASSWORD: Final = "sandbox-password"  # noqa: S105 (the sandbox accounts)
SLOT: Final = timedelta(minutes=5)
SLOT_HOURS: Final = 5 / 60
TOKEN_LIFETIME: Final = timedelta(hours=8)
NONCE_LIFETIME: Final = timedelta(minutes=5)
LOCK_AFTER_FAILURES: Final = 5
MAX_PAGE_SIZE: Final = 10
"""`select_by_page` answers at most this many plants a page (UNVERIFIED cap)."""
LOCK_DURATION: Final = timedelta(minutes=30)
COMMISSIONED: Final = date(2025, 10, 1)
"""Every plant's first day: history and lifetime counters start here (over a year back)."""

SESSION_ERROR: Final = "token verify error."
APP_VERSION_LOW: Final = "Your app version is low. Please update to the latest version."
NEXT_METHOD: Final = ("7", "Please log in with another method.")
"""The sandbox's answer to a legacy account on a newer login (status "7": UNVERIFIED)."""
HOME_ONLY_MESSAGE: Final = "This account can only be used for logging in to the S-Miles Home app."
LOCKED_MESSAGE: Final = "Too many failed attempts, the account is locked. Try again in 30 min."
_SECRET: Final = b"energy-hub-hoymiles-sandbox"


def error_body(status: int, message: str) -> JSONObject:
    """The envelope with the HTTP status as its `status` (faults only: real errors are 200)."""
    return {"status": str(status), "message": message, "data": None, "systemNotice": None}


def _ok(data: Any) -> web.Response:
    return json_response({"status": "0", "message": "success", "data": data, "systemNotice": None})


def _fail(status: str, message: str, data: Any = None) -> web.Response:
    return json_response({"status": status, "message": message, "data": data, "systemNotice": None})


# --- accounts ------------------------------------------------------------------------------------


class Scheme(StrEnum):
    """How an account's password is checked (which client login variant works)."""

    ARGON2ID = "argon2id"
    MD5_SHA256 = "md5_sha256"
    SHA256 = "sha256"
    HOME_C = "home_c"
    V0_MD5 = "v0_md5"


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    scheme: Scheme
    stations: tuple[int, ...]

    @property
    def salt(self) -> str | None:
        """The Argon2 salt (hex) of a salted account, fixed per account."""
        if self.scheme is not Scheme.ARGON2ID:
            return None
        return hashlib.blake2b(self.username.encode(), digest_size=16).hexdigest()


ACCOUNTS: Final[Mapping[str, Account]] = {
    account.username: account
    for account in (
        Account("demo@energy-hub.example", Scheme.ARGON2ID, (1001, 1002, 1003)),
        Account("dotted@energy-hub.example", Scheme.MD5_SHA256, (1001,)),
        Account("sha@energy-hub.example", Scheme.SHA256, (1002,)),
        Account("home@energy-hub.example", Scheme.HOME_C, (1003,)),
        Account("legacy@energy-hub.example", Scheme.V0_MD5, (1001,)),
        Account("many@energy-hub.example", Scheme.ARGON2ID, tuple(range(1004, 1029))),
    )
}
DEMO_USER: Final = "demo@energy-hub.example"
MANY_USER: Final = "many@energy-hub.example"
"""An installer's account of 25 small plants: its plant list takes three pages."""


def md5_hex(password: str) -> str:
    return hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()


def md5_sha256(password: str) -> str:
    sha = base64.b64encode(hashlib.sha256(password.encode()).digest()).decode()
    return f"{md5_hex(password)}.{sha}"


@functools.lru_cache(maxsize=64)
def argon2id_hex(password: str, salt_hex: str) -> str:
    """Argon2id(password, salt) hex; cached (pure function) so the sandbox stays fast."""
    return hash_secret_raw(
        password.encode(), bytes.fromhex(salt_hex), 3, 32768, 1, 32, Type.ID, 0x13
    ).hex()


# --- plants --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InverterSpec:
    id: int
    serial: str
    dtu_serial: str
    model: str
    rated_w: float
    ports: int
    factor: float
    """Orientation and shading: the share of the plant's irradiance this one sees."""
    threshold: float
    """Sine of the sun's elevation above which it is connected."""


@dataclass(frozen=True, slots=True)
class DtuSpec:
    id: int
    serial: str
    model: str


@dataclass(frozen=True, slots=True)
class Plant:
    id: int
    name: str
    latitude: float
    longitude: float
    dtus: tuple[DtuSpec, ...]
    inverters: tuple[InverterSpec, ...]
    hybrid: bool = False

    @property
    def capacity_kwp(self) -> float:
        return round(sum(inv.rated_w for inv in self.inverters) * 1.1 / 1000, 2)


def _micros(
    plant_id: int, dtu: DtuSpec, first: int, specs: Sequence[tuple[str, float, int]]
) -> list[InverterSpec]:
    inverters = []
    for index, (model, rated, ports) in enumerate(specs):
        number = first + index
        inverters.append(
            InverterSpec(
                id=plant_id * 1000 + 100 + number,
                serial=f"1{ports}41{plant_id:04d}{number:04d}",
                dtu_serial=dtu.serial,
                model=model,
                rated_w=rated,
                ports=ports,
                factor=round(0.9 + 0.08 * noise("orientation", plant_id, number), 3),
                threshold=round(0.05 + 0.045 * noise("wake", plant_id, number), 4),
            )
        )
    return inverters


def _build_plants() -> dict[int, Plant]:
    dtu1 = DtuSpec(1001_001, "4143A0011001", "DTU-Pro-S")
    balcony = _micros(1001, dtu1, 1, [("HMS-800-2T", 800, 2)] * 6 + [("HMS-400-1T", 400, 1)] * 2)
    dtu2a = DtuSpec(1002_001, "4143A0021001", "DTU-Pro")
    dtu2b = DtuSpec(1002_002, "4143A0021002", "DTU-Pro")
    barn = _micros(1002, dtu2a, 1, [("HMS-2000-4T", 2000, 4)] * 20)
    barn += _micros(1002, dtu2b, 21, [("HMS-2000-4T", 2000, 4)] * 20)
    dtu3 = DtuSpec(1003_001, "4162A0031001", "DTS-WIFI-G1")
    hys = InverterSpec(1003_101, "1HYS0031001", dtu3.serial, "HYS-4.6LV-EUG1", 4600, 2, 1.0, 0.02)
    plants = {
        1001: Plant(1001, "Balcony Row", 52.37, 4.90, (dtu1,), tuple(balcony)),
        1002: Plant(1002, "Barn Roof", 48.14, 11.58, (dtu2a, dtu2b), tuple(barn)),
        1003: Plant(1003, "Hybrid House", 52.09, 5.12, (dtu3,), (hys,), hybrid=True),
    }
    for number in range(1, 26):
        plant_id = 1003 + number
        dtu = DtuSpec(plant_id * 1000 + 1, f"4143C{plant_id:04d}001", "DTU-Lite-S")
        micro = _micros(plant_id, dtu, 1, [("HMS-800-2T", 800, 2)])
        latitude = round(47.0 + 7.0 * (number - 1) / 24, 2)
        longitude = round(4.0 + 10.0 * ((number * 7) % 25) / 24, 2)
        name = f"Allotment {number}"
        plants[plant_id] = Plant(plant_id, name, latitude, longitude, (dtu,), tuple(micro))
    return plants


PLANTS: Final[Mapping[int, Plant]] = _build_plants()
BATTERY_ID: Final = 1003_201
BATTERY_SERIAL: Final = "1BAT0031001"
METER_ID: Final = 1003_301
METER_SERIAL: Final = "1DDS0031001"
BATTERY_WH: Final = 5000.0
BATTERY_MAX_W: Final = 2500.0
BATTERY_MIN_SOC: Final = 10.0
HYBRID_PV_KWP: Final = 5.0


# --- time ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _summer_time(year: int) -> tuple[datetime, datetime]:
    """EU summer time: last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC."""

    def last_sunday_0100(month: int) -> datetime:
        last_day = datetime(year, month + 1, 1, 1, tzinfo=UTC) - timedelta(days=1)
        return last_day - timedelta(days=(last_day.weekday() + 1) % 7)

    return last_sunday_0100(3), last_sunday_0100(10)


_CET: Final = timedelta(hours=1)
_CEST: Final = timedelta(hours=2)


def local_offset(moment: datetime) -> timedelta:
    """Central European time: UTC+2 in EU summer time, else UTC+1."""
    moment = as_utc(moment)
    start, end = _summer_time(moment.year)
    return _CEST if start <= moment < end else _CET


def to_local(moment: datetime) -> datetime:
    """Naive plant-local wall time of an instant."""
    moment = as_utc(moment)
    return (moment + local_offset(moment)).replace(tzinfo=None)


def local_midnight(day: date) -> datetime:
    """UTC instant of 00:00 plant time on `day`."""
    wall = datetime(day.year, day.month, day.day, tzinfo=UTC)
    for hours in (2, 1):
        candidate = wall - timedelta(hours=hours)
        if local_offset(candidate) == timedelta(hours=hours):
            return candidate
    return wall - timedelta(hours=1)


def floor_slot(moment: datetime) -> datetime:
    epoch = int(as_utc(moment).timestamp())
    return datetime.fromtimestamp(epoch - epoch % 300, UTC)


def published_slot(now: datetime) -> datetime:
    """Start of the newest slot the cloud shows at `now`: the one before the current slot."""
    return floor_slot(now) - SLOT


# --- physics -------------------------------------------------------------------------------------
#
# The inner loops run on integer Unix times (a year of 5-minute slots is summed for the counters),
# and a day's slots are computed once and cached as arrays.

_MASK: Final = (1 << 64) - 1


def jitter(seed: int, value: int) -> float:
    """A stable pseudo-random number in [-1, 1) from two integers (splitmix64): the per-slot
    noise, cheaper than `common.noise` for the year of slots summed."""
    x = (seed * 0x9E3779B97F4A7C15 + value) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return (x ^ (x >> 31)) / 2**63 - 1.0


@functools.lru_cache(maxsize=8192)
def _declination(day: date) -> float:
    """The sun's declination (radians) at noon of `day`."""
    day_of_year = day.timetuple().tm_yday + 0.5
    return math.radians(23.44) * math.sin(2 * math.pi * (284 + day_of_year) / 365)


def _sun(plant: Plant, stamp: float, declination: float) -> float:
    """Sine of the sun's elevation over the plant at Unix time `stamp` (0 below the horizon)."""
    solar_hour = (stamp % 86400) / 3600 + plant.longitude / 15
    lat = math.radians(plant.latitude)
    return max(
        0.0,
        math.sin(lat) * math.sin(declination)
        + math.cos(lat) * math.cos(declination) * math.cos(math.radians(15 * (solar_hour - 12))),
    )


@functools.lru_cache(maxsize=8192)
def _day_clouds(plant_id: int, day: date) -> float:
    """Cloud transmission of a day, 0.2-1 (neighbouring plants share weather a little)."""
    shared = noise("weather", day)
    own = noise("weather", plant_id, day)
    return clamp(0.62 + 0.3 * shared + 0.12 * own, 0.2, 1.0)


def _light(plant: Plant, slot: int, day: date) -> tuple[float, float]:
    """(sun height, irradiance factor 0-0.92) in the slot starting at Unix time `slot`."""
    sun = _sun(plant, slot + 150, _declination(day))
    if sun <= 0:
        return 0.0, 0.0
    passing = clamp(_day_clouds(plant.id, day) + 0.22 * jitter(plant.id, slot), 0.08, 1.0)
    return sun, 0.92 * math.pow(sun, 1.15) * passing


@functools.lru_cache(maxsize=8)
def _wake_order(plant_id: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Thresholds ascending and the cumulative rated power of inverters awake above each."""
    inverters = sorted(PLANTS[plant_id].inverters, key=lambda inv: inv.threshold)
    thresholds = tuple(inv.threshold for inv in inverters)
    cumulative = []
    total = 0.0
    for inv in inverters:
        total += inv.rated_w * inv.factor
        cumulative.append(total)
    return thresholds, tuple(cumulative)


def _slot_power(plant: Plant, slot: int, day: date) -> float:
    sun, light = _light(plant, slot, day)
    if light <= 0:
        return 0.0
    if plant.hybrid:
        return round(HYBRID_PV_KWP * 1000 * 0.86 * light, 1) if sun > 0.02 else 0.0
    thresholds, cumulative = _wake_order(plant.id)
    awake = bisect_left(thresholds, sun)
    return round(cumulative[awake - 1] * light, 1) if awake else 0.0


def _plant(plant_id: int) -> Plant:
    plant = PLANTS.get(plant_id)
    if plant is None:
        raise KeyError(f"no sandbox plant {plant_id}")
    return plant


def _slot_of(at: datetime) -> tuple[int, date]:
    """Unix start of the slot containing `at`, and its local day."""
    slot = floor_slot(at)
    return int(slot.timestamp()), to_local(slot).date()


def _day_start(day: date) -> tuple[int, int]:
    """Unix start of the day's first slot and the number of slots (276/300 at clock changes)."""
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    return int(start.timestamp()), int((end - start) / SLOT)


@functools.lru_cache(maxsize=4096)
def _pv_day(plant_id: int, day: date) -> array[float]:
    """W of every slot of a local day."""
    plant = _plant(plant_id)
    start, count = _day_start(day)
    return array("d", (_slot_power(plant, start + 300 * index, day) for index in range(count)))


def plant_power(plant_id: int, at: datetime) -> float:
    """W the plant's PV makes in the 5-minute slot containing `at` (what the cloud shows as
    `real_power` once that slot has ended, see `published_slot`)."""
    slot, day = _slot_of(at)
    return _slot_power(_plant(plant_id), slot, day)


@dataclass(frozen=True, slots=True)
class InverterState:
    id: int
    serial: str
    model: str
    connected: bool
    power_w: float


def inverters_at(plant_id: int, at: datetime) -> list[InverterState]:
    """Each inverter of the plant in the slot containing `at`: connected or not, and its W.
    The hybrid inverter stays connected at night (the battery powers it)."""
    plant = _plant(plant_id)
    slot, day = _slot_of(at)
    sun, light = _light(plant, slot, day)
    states = []
    for inv in plant.inverters:
        if plant.hybrid:
            power = _slot_power(plant, slot, day)
            states.append(InverterState(inv.id, inv.serial, inv.model, True, power))
            continue
        awake = sun > inv.threshold
        power = round(inv.rated_w * inv.factor * light, 1) if awake else 0.0
        states.append(InverterState(inv.id, inv.serial, inv.model, awake, power))
    return states


@dataclass(frozen=True, slots=True)
class FlowSlot:
    """The hybrid house in one 5-minute slot (W, Hoymiles signs: `bms_w` + = charging,
    `grid_w` + = export) and the battery's state of charge (%) at the slot's end."""

    pv_w: float
    load_w: float
    bms_w: float
    grid_w: float
    soc: float


_LOAD_BY_HOUR: Final = (
    260, 230, 220, 215, 215, 230, 330, 620, 560, 420, 380, 400,
    520, 430, 380, 390, 520, 880, 1050, 900, 720, 560, 420, 320,
)  # fmt: skip
"""Mean house load (W) through the local day."""


def _load(slot: int, hour: float) -> float:
    """House load (W) in the slot starting at Unix time `slot`, `hour` local hours into the day."""
    low, high = _LOAD_BY_HOUR[int(hour) % 24], _LOAD_BY_HOUR[(int(hour) + 1) % 24]
    base = low + (high - low) * (hour - int(hour))
    load = base * (1 + 0.2 * jitter(1, slot))
    kick = jitter(2, slot // 900)
    if 7 <= hour < 22 and kick > 0.85:
        load += 1200 + 8000 * (kick - 0.85)
    return round(max(90.0, load), 1)


@functools.lru_cache(maxsize=1024)
def _hybrid_day(day: date) -> tuple[FlowSlot, ...]:
    """Every slot of a local day at the hybrid house, simulated from the day's start SoC
    (each day starts at a level of its own: the night's standby drain is not modelled)."""
    plant = PLANTS[1003]
    soc = round(35.0 + 20.0 * noise("soc", day), 1)
    start, count = _day_start(day)
    pv_day = _pv_day(plant.id, day)
    flows = []
    for index in range(count):
        slot = start + 300 * index
        pv = pv_day[index]
        load = _load(slot, (index + 0.5) / 12)
        surplus = pv - load
        stored = soc / 100 * BATTERY_WH
        if surplus > 0:
            bms = min(surplus, BATTERY_MAX_W, (BATTERY_WH - stored) / SLOT_HOURS)
        else:
            available = (stored - BATTERY_MIN_SOC / 100 * BATTERY_WH) / SLOT_HOURS
            bms = -min(-surplus, BATTERY_MAX_W, max(0.0, available))
        bms = round(bms, 1)
        soc = clamp(soc + bms * SLOT_HOURS / BATTERY_WH * 100, 0.0, 100.0)
        flows.append(FlowSlot(pv, load, bms, round(pv - load - bms, 1), round(soc, 1)))
    return tuple(flows)


def flow_at(at: datetime) -> FlowSlot:
    """The hybrid house (plant 1003) in the slot containing `at`."""
    slot, day = _slot_of(at)
    start, _ = _day_start(day)
    return _hybrid_day(day)[(slot - start) // 300]


@dataclass(frozen=True, slots=True)
class DayTotals:
    """Wh over (part of) a local day."""

    pv: float = 0.0
    pv_to_load: float = 0.0
    grid_import: float = 0.0
    grid_export: float = 0.0
    charge: float = 0.0
    discharge: float = 0.0

    def __add__(self, other: DayTotals) -> DayTotals:
        return DayTotals(
            *(round(a + b, 1) for a, b in zip(self._values(), other._values(), strict=True))
        )

    def _values(self) -> tuple[float, ...]:
        return (
            self.pv,
            self.pv_to_load,
            self.grid_import,
            self.grid_export,
            self.charge,
            self.discharge,
        )


def _totals(plant_id: int, day: date, slots: int | None) -> DayTotals:
    """Wh of the first `slots` slots of `day` (None: the whole day)."""
    plant = _plant(plant_id)
    h = SLOT_HOURS
    if plant.hybrid:
        flows = _hybrid_day(day)[:slots]
        return DayTotals(
            pv=round(sum(f.pv_w for f in flows) * h, 1),
            pv_to_load=round(sum(min(f.pv_w, f.load_w) for f in flows) * h, 1),
            grid_import=round(sum(max(0.0, -f.grid_w) for f in flows) * h, 1),
            grid_export=round(sum(max(0.0, f.grid_w) for f in flows) * h, 1),
            charge=round(sum(max(0.0, f.bms_w) for f in flows) * h, 1),
            discharge=round(sum(max(0.0, -f.bms_w) for f in flows) * h, 1),
        )
    return DayTotals(pv=round(sum(_pv_day(plant_id, day)[:slots]) * h, 1))


@functools.lru_cache(maxsize=4096)
def _full_day(plant_id: int, day: date) -> DayTotals:
    return _totals(plant_id, day, None)


def day_energy(plant_id: int, day: date) -> float:
    """PV Wh of a whole local day (0 before `COMMISSIONED`)."""
    return _full_day(plant_id, day).pv if day >= COMMISSIONED else 0.0


def _today(plant_id: int, now: datetime) -> DayTotals:
    """Totals of today's published slots (local day of the published slot)."""
    slot, day = _slot_of(published_slot(now))
    start, _ = _day_start(day)
    return _totals(plant_id, day, (slot - start) // 300 + 1)


def today_energy(plant_id: int, now: datetime) -> float:
    """PV Wh the cloud shows as `today_eq` at `now`."""
    return _today(plant_id, now).pv


@functools.lru_cache(maxsize=64)
def _before(plant_id: int, first: date, day: date) -> DayTotals:
    """Sum of whole days from `first` (or `COMMISSIONED`) to the day before `day`."""
    total = DayTotals()
    current = max(first, COMMISSIONED)
    while current < day:
        total += _full_day(plant_id, current)
        current += timedelta(days=1)
    return total


def _periods(plant_id: int, now: datetime) -> dict[str, DayTotals]:
    """Today, month, year and lifetime totals as the cloud shows them at `now`."""
    today = to_local(published_slot(now)).date()
    part = _today(plant_id, now)
    return {
        "today": part,
        "month": _before(plant_id, today.replace(day=1), today) + part,
        "year": _before(plant_id, date(today.year, 1, 1), today) + part,
        "total": _before(plant_id, COMMISSIONED, today) + part,
    }


# --- payloads ------------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:.1f}"


def _local_text(moment: datetime) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M:%S")


def realtime_json(plant_id: int, now: datetime) -> JSONObject:
    """`count_station_real_data` at `now`."""
    plant = _plant(plant_id)
    slot = published_slot(now)
    periods = _periods(plant_id, now)
    power = plant_power(plant_id, slot)
    awake = any(state.connected for state in inverters_at(plant_id, slot))
    data_time = _local_text(slot + SLOT + timedelta(seconds=37))
    total = periods["total"].pv
    body: JSONObject = {
        "today_eq": _num(periods["today"].pv),
        "month_eq": _num(periods["month"].pv),
        "year_eq": _num(periods["year"].pv),
        "total_eq": _num(total),
        "real_power": _num(power) if awake else None,
        "co2_emission_reduction": f"{total * 0.997:.3f}",
        "plant_tree": str(int(total / 18_000)),
        "data_time": data_time,
        "last_data_time": data_time,
        "capacitor": str(HYBRID_PV_KWP if plant.hybrid else plant.capacity_kwp),
        "is_balance": 0,
        "is_reflux": 1 if plant.hybrid else 0,
        "reflux_station_data": None,
    }
    if plant.hybrid:
        flow = flow_at(slot)
        today = periods["today"]

        def counters(key: str) -> JSONObject:
            return {
                f"{name}_eq": _num(getattr(periods[name], key))
                for name in ("today", "month", "year", "total")
            }

        body["reflux_station_data"] = {
            "start_date": "",
            "end_date": "",
            "pv_power": _num(flow.pv_w),
            "grid_power": _num(flow.grid_w),
            "load_power": _num(flow.load_w),
            "bms_power": _num(flow.bms_w),
            "bms_soc": _num(flow.soc),
            "inv_num": 1,
            "meter_location": 2,
            "pv_to_load_eq": _num(today.pv_to_load),
            "load_from_pv_eq": _num(today.pv_to_load),
            "meter_b_in_eq": _num(today.grid_import),
            "meter_b_out_eq": _num(today.grid_export),
            "bms_in_eq": _num(today.charge),
            "bms_out_eq": _num(today.discharge),
            "self_eq": _num(today.pv - today.grid_export),
            "pv_eq_total": _num(today.pv),
            "use_eq_total": _num(today.pv_to_load + today.discharge + today.grid_import),
            "flows": [{"out": 1, "in": 2}],
            "icon_pv": 1,
            "icon_grid": 1,
            "icon_load": 1,
            "icon_bms": 1,
            "icon_gen": 0,
            "icon_pvi": 0,
            "mb_in_eq": counters("grid_import"),
            "mb_out_eq": counters("grid_export"),
        }
    return body


def _node(  # noqa: PLR0917 (one argument per field of the node)
    device_id: int,
    serial: str,
    dtu_serial: str,
    type_code: int,
    model: str,
    connected: bool,
    extend: JSONObject,
    children: list[JSONObject],
) -> JSONObject:
    return {
        "id": device_id,
        "sn": serial,
        "vc": "",
        "dtu_sn": dtu_serial,
        "type": type_code,
        "version": 3,
        "replace_num": 0,
        "model_no": model,
        "soft_ver": "V01.01.10" if model else "",
        "hard_ver": "H00.04.10" if model else "",
        "extend_data": extend,
        "warn_data": {"connect": connected, "warn": False},
        "children": children,
    }


def device_tree_json(plant_id: int, now: datetime) -> list[JSONObject]:
    """`select_device_of_tree` at `now` (connection states of the published slot)."""
    plant = _plant(plant_id)
    states = {state.id: state for state in inverters_at(plant_id, published_slot(now))}
    tree = []
    for dtu in plant.dtus:
        children = []
        for inv in plant.inverters:
            if inv.dtu_serial != dtu.serial:
                continue
            connected = states[inv.id].connected
            if plant.hybrid:
                battery = _node(
                    BATTERY_ID,
                    BATTERY_SERIAL,
                    dtu.serial,
                    10,
                    "",
                    True,
                    {"bms_type": 1, "bms_capacitor": str(BATTERY_WH / 1000)},
                    [],
                )
                extend: JSONObject = {"status": 1, "role": 0}
                children.append(
                    _node(inv.id, inv.serial, dtu.serial, 6, inv.model, True, extend, [battery])
                )
                continue
            extend = {
                "grid_name": "EU_EN50549",
                "port_array": list(range(1, inv.ports + 1)),
                "grid_id": 14547,
                "grid_version": "2.0.0",
            }
            children.append(
                _node(inv.id, inv.serial, dtu.serial, 3, inv.model, connected, extend, [])
            )
        if plant.hybrid:
            children.append(_node(METER_ID, METER_SERIAL, dtu.serial, 7, "DDSU666", True, {}, []))
        tree.append(_node(dtu.id, dtu.serial, dtu.serial, 1, dtu.model, True, {}, children))
    return tree


def station_json(plant_id: int, now: datetime, *, full: bool) -> JSONObject:
    plant = _plant(plant_id)
    summary: JSONObject = {
        "id": plant.id,
        "name": plant.name,
        "capacitor": str(HYBRID_PV_KWP if plant.hybrid else plant.capacity_kwp),
        "status": 40,
        "classify": 4,
        "create_at": f"{COMMISSIONED.isoformat()} 10:12:00",
        "is_balance": 0,
        "is_reflux": 1 if plant.hybrid else 0,
        "last_data_time": _local_text(published_slot(now) + SLOT),
    }
    if not full:
        return summary
    offset = local_offset(now)
    del summary["last_data_time"]
    return summary | {
        "tz_name": f"UTC+{offset.seconds // 3600:02d}",
        "int5m": 1,
        "money_unit": "EUR",
        "money_data": {"code": "EUR", "unit": "€"},
        "electricity_price": 0.31,
        "in_price": 0.08,
        "timezone": {
            "id": 38,
            "dis_name": "(UTC+01:00) Amsterdam,Berlin,Bern,Rome,Stockholm,Vienna",
            "name": "Europe/Berlin" if plant.id == 1002 else "Europe/Amsterdam",
            "tz_name": "UTC+01",
            "offset": 3_600_000,
        },
        "local_time": _local_text(now),
        "latitude": f"{plant.latitude}",
        "longitude": f"{plant.longitude}",
        "meter_location": 2 if plant.hybrid else 0,
        "bms_capacitor": str(BATTERY_WH / 1000) if plant.hybrid else "0",
        "inv_mode": 1,
    }


_HOME_STATION_DROPPED: Final = frozenset({"id", "latitude", "longitude", "local_time"})
_HOME_NODE_DROPPED: Final = frozenset({"model_no", "soft_ver", "hard_ver", "children"})


def home_station_json(station: JSONObject) -> JSONObject:
    """A `station_json` (summary or full) as the S-Miles Home endpoints (`select_by_page_c`,
    `find_c`) show it: the plant id under `sid`, no `latitude`/`longitude`/`local_time`, the
    `timezone` cut to `{"tz_name", "name"}`."""
    home: JSONObject = {"sid": station["id"]}
    home |= {key: value for key, value in station.items() if key not in _HOME_STATION_DROPPED}
    zone = station.get("timezone")
    if isinstance(zone, dict):
        home["timezone"] = {"tz_name": zone["tz_name"], "name": zone["name"]}
    return home


def soft_num(version: str) -> int:
    """A `soft_ver` as the S-Miles Home `soft_num`: `V01.00.11` -> 10011."""
    major, minor, patch = (int(part) for part in version.removeprefix("V").split("."))
    return major * 10_000 + minor * 100 + patch


def home_device_tree_json(tree: list[JSONObject]) -> list[JSONObject]:
    """A `device_tree_json` as `select_device_c` shows it: each node's children under `devices`,
    no `model_no`/`soft_ver`/`hard_ver`, the firmware as `extend_data.soft_num` (nodes with a
    version only); ids, serials, `type`, `dtu_sn` and `warn_data` unchanged."""

    def node(installer: JSONObject) -> JSONObject:
        home = {key: value for key, value in installer.items() if key not in _HOME_NODE_DROPPED}
        extend = dict(installer["extend_data"])
        if installer["soft_ver"]:
            extend["soft_num"] = soft_num(installer["soft_ver"])
        home["extend_data"] = extend
        home["devices"] = [node(child) for child in installer["children"]]
        return home

    return [node(root) for root in tree]


def history_json(plant_id: int, month: date, now: datetime) -> JSONObject:
    """`stat_g_a` month mode: a day item for each day of `month` up to today."""
    today = to_local(published_slot(now)).date()
    items = []
    day = max(month, COMMISSIONED)
    while day.month == month.month and day <= today:
        totals = _today(plant_id, now) if day == today else _full_day(plant_id, day)
        item: JSONObject = {"date": day.isoformat(), "pv_eq": _num(totals.pv)}
        if PLANTS[plant_id].hybrid:
            item |= {
                "p2l": _num(totals.pv_to_load),
                "p2b": _num(totals.charge),
                "p2g": _num(totals.grid_export),
                "lfp": _num(totals.pv_to_load),
                "lfb": _num(totals.discharge),
                "lfg": _num(totals.grid_import),
            }
        items.append(item)
        day += timedelta(days=1)
    return {"mode": 2, "date": month.strftime("%Y-%m"), "list": items}


# --- protobuf charts -----------------------------------------------------------------------------
#
# `micro/data/count_by_day` (one inverter's day in 5-minute points) and
# `station/data/count_power_by_day` (the plant's PV day in quarter hours). Both answer raw
# protobuf; the messages are written by `sandbox.protobuf`.

MICRO_QUOTAS: Final = ("MI_POWER", "MI_TEMPERATURE", "MI_NET_V", "MI_NET_RATE")
"""The `quota` names `micro/data/count_by_day` knows (others are ignored)."""
QUARTER: Final = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class _MicroDay:
    """A local day of a micro plant, slot by slot."""

    start: int
    """Unix start of the day's first slot."""
    span: tuple[int, int] | None
    """First and last slot index in which some microinverter is awake."""
    power: Mapping[int, array[float]]
    """W of each microinverter (by id) in each slot, as `inverters_at` gives it."""
    ambient: array[float]
    """Air temperature (°C) by the plant in each slot."""


def _ambient(plant_id: int, day: date, wall_hour: float) -> float:
    """Air temperature (°C): a seasonal mean (3 °C late January, 18 °C late July), a level of
    the day's own (shared weather, a little local), and a daily swing from 03:00 to 15:00 that is
    wider on clear days."""
    season = 10.5 - 7.5 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365)
    level = 3.0 * noise("ambient", day) + 1.0 * noise("ambient", plant_id, day)
    swing = 2.5 + 4.0 * _day_clouds(plant_id, day)
    return season + level - swing * math.cos(2 * math.pi * (wall_hour - 3) / 24)


@functools.lru_cache(maxsize=128)
def _micro_day(plant_id: int, day: date) -> _MicroDay:
    plant = _plant(plant_id)
    start, count = _day_start(day)
    micros = () if plant.hybrid else plant.inverters
    lights = [_light(plant, start + 300 * index, day) for index in range(count)]
    power = {
        inv.id: array(
            "d",
            (
                round(inv.rated_w * inv.factor * light, 1) if sun > inv.threshold else 0.0
                for sun, light in lights
            ),
        )
        for inv in micros
    }
    lowest = min((inv.threshold for inv in micros), default=math.inf)
    awake = [index for index, (sun, _) in enumerate(lights) if sun > lowest]
    ambient = array("d")
    for index in range(count):
        wall = to_local(datetime.fromtimestamp(start + 300 * index + 150, UTC))
        ambient.append(_ambient(plant_id, day, wall.hour + wall.minute / 60))
    span = (awake[0], awake[-1]) if awake else None
    return _MicroDay(start, span, power, ambient)


def _micro(plant_id: int, inverter_id: int) -> InverterSpec:
    """A microinverter of the plant (KeyError for anything else, the hybrid inverter too)."""
    if _plant(plant_id).hybrid:
        raise KeyError(f"no microinverter {inverter_id} in sandbox plant {plant_id}")
    return _inverter(plant_id, inverter_id)


def _inverter(plant_id: int, inverter_id: int) -> InverterSpec:
    for inv in _plant(plant_id).inverters:
        if inv.id == inverter_id:
            return inv
    raise KeyError(f"no inverter {inverter_id} in sandbox plant {plant_id}")


def _temperature(inv: InverterSpec, ambient: float, power: float) -> float:
    """°C inside the inverter: the air, plus a little while it runs and heat by its load."""
    heat = 2.5 + 32.0 * power / inv.rated_w if power > 0 else 0.0
    return round(ambient + heat, 1)


def _grid_voltage(plant_id: int, inv: InverterSpec, slot: int, power: float) -> float:
    """V at the inverter's grid terminals: the street's wander plus a rise with its export."""
    street = 2.5 * jitter(plant_id * 8 + 5, slot // 1800) + 0.8 * jitter(plant_id * 8 + 6, slot)
    rise = 3.0 * power / inv.rated_w + 0.3 * jitter(inv.id * 8 + 1, slot)
    return round(230.0 + street + rise, 1)


def _grid_frequency(plant_id: int, inv: InverterSpec, slot: int) -> float:
    """Hz: the grid's (the same for every inverter of the plant) plus a little meter noise."""
    grid = 0.03 * jitter(plant_id * 8 + 7, slot) + 0.008 * jitter(inv.id * 8 + 2, slot)
    return round(clamp(50.0 + grid, 49.95, 50.05), 2)


def _series(
    plant_id: int, inv: InverterSpec, quota: str, micro_day: _MicroDay, span: range
) -> list[float]:
    """One quota of one microinverter over the chart's slots."""
    power, ambient, start = micro_day.power[inv.id], micro_day.ambient, micro_day.start
    match quota:
        case "MI_POWER":
            return [power[i] for i in span]
        case "MI_TEMPERATURE":
            return [_temperature(inv, ambient[i], power[i]) for i in span]
        case "MI_NET_V":
            return [_grid_voltage(plant_id, inv, start + 300 * i, power[i]) for i in span]
        case _:
            return [_grid_frequency(plant_id, inv, start + 300 * i) for i in span]


def _slot_index(at: datetime) -> tuple[date, int, int]:
    """Local day of the slot containing `at`, the day's first slot and the slot's index."""
    slot, day = _slot_of(at)
    start, _ = _day_start(day)
    return day, start, (slot - start) // 300


def inverter_power(plant_id: int, inverter_id: int, at: datetime) -> float:
    """W of one inverter in the slot containing `at` (its `inverters_at` power)."""
    inv = _inverter(plant_id, inverter_id)
    if PLANTS[plant_id].hybrid:
        return plant_power(plant_id, at)
    day, _, index = _slot_index(at)
    return _micro_day(plant_id, day).power[inv.id][index]


def inverter_temperature(plant_id: int, inverter_id: int, at: datetime) -> float:
    """°C of one inverter in the slot containing `at` (`MI_TEMPERATURE`); the air temperature
    while it sleeps."""
    inv = _inverter(plant_id, inverter_id)
    day, _, index = _slot_index(at)
    ambient = _micro_day(plant_id, day).ambient[index]
    return _temperature(inv, ambient, inverter_power(plant_id, inverter_id, at))


def inverter_grid_voltage(plant_id: int, inverter_id: int, at: datetime) -> float:
    """V at one inverter in the slot containing `at` (`MI_NET_V`)."""
    inv = _inverter(plant_id, inverter_id)
    slot, _ = _slot_of(at)
    return _grid_voltage(plant_id, inv, slot, inverter_power(plant_id, inverter_id, at))


def inverter_grid_frequency(plant_id: int, inverter_id: int, at: datetime) -> float:
    """Hz at one inverter in the slot containing `at` (`MI_NET_RATE`)."""
    slot, _ = _slot_of(at)
    return _grid_frequency(plant_id, _inverter(plant_id, inverter_id), slot)


def _today_date(now: datetime) -> date:
    """The cloud's today: the local day of the newest published slot."""
    return to_local(published_slot(now)).date()


def _micro_span(plant_id: int, day: date, now: datetime) -> range:
    """Slot indices of the `micro/data/count_by_day` chart of `day` at `now` (empty for a plant
    without microinverters, a day before `COMMISSIONED` or in the future, or today before the
    first inverter wakes)."""
    today = _today_date(now)
    if day < COMMISSIONED or day > today:
        return range(0)
    micro_day = _micro_day(plant_id, day)
    if micro_day.span is None:
        return range(0)
    first, last = micro_day.span
    if day == today:
        last = min(last, (int(published_slot(now).timestamp()) - micro_day.start) // 300)
    return range(first, last + 1)


def _label(stamp: int) -> str:
    return to_local(datetime.fromtimestamp(stamp, UTC)).strftime("%H:%M")


def micro_chart_labels(plant_id: int, day: date, now: datetime) -> list[str]:
    """`x_axis` of the `micro/data/count_by_day` chart of `day` at `now`: the plant-local start
    of each 5-minute slot from the first in which some microinverter is awake to the last (today:
    up to the published slot)."""
    start, _ = _day_start(day)
    return [_label(start + 300 * index) for index in _micro_span(plant_id, day, now)]


def inverter_today_energy(plant_id: int, inverter_id: int, now: datetime) -> float:
    """Wh of one microinverter's `MI_POWER` chart of today as the cloud shows it at `now`."""
    _micro(plant_id, inverter_id)
    today = _today_date(now)
    span = _micro_span(plant_id, today, now)
    power = _micro_day(plant_id, today).power[inverter_id]
    return round(sum(power[index] for index in span) * SLOT_HOURS, 3)


def micro_chart(
    plant_id: int,
    day: date,
    now: datetime,
    inverter_ids: Sequence[int],
    quotas: Sequence[str],
    *,
    double: bool = False,
) -> bytes:
    """`micro/data/count_by_day`: LineChart {repeated string x_axis = 1; repeated LineSeries
    series = 2; string type = 3 (the date)} with LineSeries {string type = 1 (the quota);
    repeated float data = 2 (packed; doubles with `double`); int32 did = 3 (the inverter)}:
    one series per known quota and microinverter of the plant, in the order asked."""
    span = _micro_span(plant_id, day, now)
    out = bytearray()
    if span:
        micro_day = _micro_day(plant_id, day)
        start = micro_day.start
        out += pb.repeated_strings(1, (_label(start + 300 * index) for index in span))
        micros = {inv.id: inv for inv in PLANTS[plant_id].inverters if inv.id in micro_day.power}
        for quota in quotas:
            if quota not in MICRO_QUOTAS:
                continue
            for inverter_id in inverter_ids:
                inv = micros.get(inverter_id)
                if inv is None:
                    continue
                values = _series(plant_id, inv, quota, micro_day, span)
                series = pb.string_field(1, quota) + pb.packed_floats(2, values, double=double)
                out += pb.message_field(2, series + pb.int_field(3, inv.id))
    out += pb.string_field(3, day.isoformat())
    return bytes(out)


def _pv_at(plant_id: int, slot: int) -> float:
    """PV W in the slot starting at Unix time `slot`, as the counters sum it (0 before
    `COMMISSIONED`)."""
    day = to_local(datetime.fromtimestamp(slot, UTC)).date()
    if day < COMMISSIONED:
        return 0.0
    start, _ = _day_start(day)
    return _pv_day(plant_id, day)[(slot - start) // 300]


def hour_energy(plant_id: int, hour_start: datetime) -> float:
    """PV Wh of the 12 slots of the UTC hour containing `hour_start` (slot W x 5/60 summed, as
    the energy counters are)."""
    _plant(plant_id)
    first = int(as_utc(hour_start).timestamp()) // 3600 * 3600
    return round(sum(_pv_at(plant_id, first + 300 * n) for n in range(12)) * SLOT_HOURS, 3)


def quarter_power(plant_id: int, quarter_start: datetime) -> float:
    """Mean PV W of the three slots of the quarter hour containing `quarter_start` (the
    `count_power_by_day` point of that quarter)."""
    _plant(plant_id)
    first = int(as_utc(quarter_start).timestamp()) // 900 * 900
    return sum(_pv_at(plant_id, first + 300 * n) for n in range(3)) / 3


def power_chart_points(plant_id: int, day: date, now: datetime) -> list[tuple[str, float]]:
    """(label, W) of the `count_power_by_day` chart of `day` at `now`.

    From the first to the last quarter hour of the day with PV power, one point per quarter
    (plant-local start, mean W of its three slots); outside that, one point (0 W) per whole
    hour. Only complete quarters are shown (today: those whose slots are all published), and a
    night hour once its first quarter is. Empty before `COMMISSIONED` and in the future.
    """
    _plant(plant_id)
    today = _today_date(now)
    if day < COMMISSIONED or day > today:
        return []
    start, count = _day_start(day)
    pv = _pv_day(plant_id, day)
    quarters = count // 3
    if day == today:
        quarters = ((int(published_slot(now).timestamp()) - start) // 300 + 1) // 3
    means = [(pv[3 * q] + pv[3 * q + 1] + pv[3 * q + 2]) / 3 for q in range(quarters)]
    lit = [q for q, mean in enumerate(means) if mean > 0]
    first, last = (lit[0], lit[-1] + 1) if lit else (quarters, quarters)
    end = start + 900 * quarters
    hours = range(start, end, 3600)
    return (
        [(_label(hour), 0.0) for hour in hours if hour < start + 900 * first]
        + [(_label(start + 900 * q), means[q]) for q in range(first, last)]
        + [(_label(hour), 0.0) for hour in hours if hour >= start + 900 * last and lit]
    )


def power_chart(plant_id: int, day: date, now: datetime) -> bytes:
    """`station/data/count_power_by_day`: GridPowerResponse {repeated string time = 1;
    PowerData pd = 2; string date = 3} with PowerData {string type = 1 ("grid_power");
    repeated float power = 2 (packed float32)}; just the date when there are no points."""
    points = power_chart_points(plant_id, day, now)
    out = bytearray()
    if points:
        out += pb.repeated_strings(1, (label for label, _ in points))
        power = pb.string_field(1, "grid_power") + pb.packed_floats(2, (w for _, w in points))
        out += pb.message_field(2, power)
    out += pb.string_field(3, day.isoformat())
    return bytes(out)


# --- state ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class HoymilesSandbox:
    """The emulation's mutable state in one app: nonces, tokens, failures, locks.

    Tests reach it with `sandbox_of(app)` to change a password, expire tokens or shorten their
    lifetime; the plant data depends only on the app's clock.
    """

    state: SandboxState
    passwords: dict[str, str] = field(default_factory=lambda: dict.fromkeys(ACCOUNTS, PASSWORD))
    token_lifetime: timedelta = TOKEN_LIFETIME
    logins: int = 0
    """Successful logins."""
    failed_logins: int = 0
    """Failed logins (wrong credentials) since the app started, whatever the account."""
    min_app_version: str | None = None
    """Logins from an older `sma/ad/<version>` User-Agent answer "app version is low"."""
    bare_pre_insp: bool = False
    """pre-insp answers its fields at the top level, without the envelope."""
    malformed_curves: set[date] = field(default_factory=set)
    """Days whose `count_power_by_day` answers a truncated JSON body (a test's fault)."""
    argon2_checks: int = 0
    """Argon2id hashes computed to check a login."""
    _counter: int = 0
    _nonces: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    _tokens: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    _failures: dict[str, int] = field(default_factory=dict)
    _locked_until: dict[str, datetime] = field(default_factory=dict)

    def expire_tokens(self) -> int:
        """Invalidate every token (as a login elsewhere might); returns how many were live."""
        now = self.state.now()
        count = sum(now < issued + self.token_lifetime for _, issued in self._tokens.values())
        self._tokens.clear()
        return count

    def _new_id(self, kind: str) -> str:
        self._counter += 1
        message = f"{kind}:{self._counter}:{self.state.now().isoformat()}".encode()
        return hmac.new(_SECRET, message, hashlib.sha256).hexdigest()

    def user_for_token(self, token: str | None) -> Account | None:
        if not token:
            return None
        entry = self._tokens.get(token)
        if entry is None:
            return None
        username, issued = entry
        if self.state.now() >= issued + self.token_lifetime:
            del self._tokens[token]
            return None
        return ACCOUNTS.get(username)

    def issue_nonce(self, username: str) -> str:
        nonce = self._new_id("nonce")[:32]
        self._nonces[nonce] = (username, self.state.now() + NONCE_LIFETIME)
        return nonce

    def take_nonce(self, nonce: str, username: str) -> bool:
        entry = self._nonces.pop(nonce, None)
        return entry is not None and entry[0] == username and self.state.now() < entry[1]

    def locked(self, username: str) -> bool:
        until = self._locked_until.get(username)
        return until is not None and self.state.now() < until

    def fail(self, username: str) -> web.Response:
        self.failed_logins += 1
        count = self._failures.get(username, 0) + 1
        self._failures[username] = count
        if count >= LOCK_AFTER_FAILURES:
            self._failures[username] = 0
            self._locked_until[username] = self.state.now() + LOCK_DURATION
        return _fail("1", "Invalid credentials")

    def succeed(self, username: str) -> web.Response:
        self._failures.pop(username, None)
        self.logins += 1
        token = "3." + self._new_id("token")[:48]
        self._tokens[token] = (username, self.state.now())
        return _ok({"token": token})


SANDBOX_KEY: Final = web.AppKey("hoymiles_sandbox", HoymilesSandbox)


def sandbox_of(app: web.Application) -> HoymilesSandbox:
    """The Hoymiles emulation's state in an app made by `create_app` (or in its own subapp)."""
    if SANDBOX_KEY in app:
        return app[SANDBOX_KEY]
    for resource in app.router.resources():
        subapp = resource.get_info().get("app")
        if isinstance(subapp, web.Application) and SANDBOX_KEY in subapp:
            return subapp[SANDBOX_KEY]
    raise LookupError("no Hoymiles sandbox in this app")


# --- handlers ------------------------------------------------------------------------------------


async def _body(request: web.Request) -> JSONObject | None:
    try:
        body = json.loads(await request.text() or "{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


_PARAMETER_ERROR: Final = ("2", "Parameter error.")
type _Handler = Callable[[web.Request], Awaitable[web.Response]]


class _Handlers:
    def __init__(self, sandbox: HoymilesSandbox) -> None:
        self._sandbox = sandbox

    def _now(self) -> datetime:
        return self._sandbox.state.now()

    # --- auth

    async def region(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if body is None:
            return _fail(*_PARAMETER_ERROR)
        base = str(request.url.origin()) + vendor_prefix(VENDOR)
        known = str(body.get("email", "")).strip().lower() in ACCOUNTS
        return _ok({"login_url": base, "dc": 1 if known else -1})

    async def pre_insp(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if body is None:
            return _fail(*_PARAMETER_ERROR)
        account = ACCOUNTS.get(str(body.get("u", "")).strip().lower())
        if account is None:
            return _fail("1", "Account does not exist.")
        salt = account.salt
        fields = {
            "n": self._sandbox.issue_nonce(account.username),
            "a": salt,
            "v": 3 if salt else 2,
            "dc": 1,
            "f": 0,
            "t": 159,
        }
        if self._sandbox.bare_pre_insp:
            return json_response(fields)
        return _ok(fields)

    def _outdated(self, request: web.Request) -> bool:
        """The User-Agent's `sma/ad/<version>` is older than `min_app_version`."""
        wanted = self._sandbox.min_app_version
        if wanted is None:
            return False
        parts = request.headers.get("User-Agent", "").split("/")
        version = parts[2] if len(parts) > 2 and parts[:2] == ["sma", "ad"] else "0"

        def key(text: str) -> tuple[int, ...]:
            return tuple(int(part) if part.isdigit() else 0 for part in text.split("."))

        return key(version) < key(wanted)

    def _precheck(
        self, username: str, request: web.Request
    ) -> tuple[Account | None, web.Response | None]:
        account = ACCOUNTS.get(username)
        if account is None:
            return None, _fail("1", "Invalid credentials")
        if self._sandbox.locked(username):
            return None, _fail("1", LOCKED_MESSAGE)
        if self._outdated(request):
            return None, _fail("1", APP_VERSION_LOW)
        return account, None

    async def login_v3(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if body is None:
            return _fail(*_PARAMETER_ERROR)
        username = str(body.get("u", "")).strip().lower()
        account, refusal = self._precheck(username, request)
        if account is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        if not self._sandbox.take_nonce(str(body.get("n", "")), username):
            return _fail("1", "The nonce is invalid or has expired.")
        if account.scheme is Scheme.HOME_C:
            return _fail("1", "Can only login to the S-Miles Home.")
        if account.scheme is Scheme.V0_MD5:
            return _fail(*NEXT_METHOD)
        password = self._sandbox.passwords[username]
        challenge = str(body.get("ch", ""))
        match account.scheme:
            case Scheme.ARGON2ID:
                assert account.salt is not None
                self._sandbox.argon2_checks += 1
                expected = await asyncio.to_thread(argon2id_hex, password, account.salt)
            case Scheme.MD5_SHA256:
                expected = md5_sha256(password)
            case _:  # Scheme.SHA256 (Home and legacy accounts answered above)
                expected = hashlib.sha256(password.encode()).hexdigest()
        if not hmac.compare_digest(challenge, expected):
            return self._sandbox.fail(username)
        return self._sandbox.succeed(username)

    async def login_home(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if body is None:
            return _fail(*_PARAMETER_ERROR)
        username = str(body.get("user_name", "")).strip().lower()
        account, refusal = self._precheck(username, request)
        if account is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        if account.scheme is Scheme.V0_MD5:
            return _fail(*NEXT_METHOD)
        password = md5_sha256(self._sandbox.passwords[username])
        if account.scheme is not Scheme.HOME_C or body.get("password") != password:
            return self._sandbox.fail(username)
        return self._sandbox.succeed(username)

    async def login_v0(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if body is None:
            return _fail(*_PARAMETER_ERROR)
        username = str(body.get("user_name", "")).strip().lower()
        account, refusal = self._precheck(username, request)
        if account is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        if account.scheme is not Scheme.V0_MD5:
            return _fail("1", APP_VERSION_LOW)
        if body.get("password") != md5_hex(self._sandbox.passwords[username]):
            return self._sandbox.fail(username)
        return self._sandbox.succeed(username)

    # --- data

    async def _station(
        self, request: web.Request, key: str
    ) -> tuple[int | None, JSONObject, web.Response | None]:
        account = self._sandbox.user_for_token(request.headers.get("Authorization"))
        if account is None:
            return None, {}, json_response({"status": "100", "data": "", "message": SESSION_ERROR})
        body = await _body(request)
        if body is None:
            return None, {}, _fail(*_PARAMETER_ERROR)
        station = body.get(key)
        if type(station) is not int or station not in account.stations:
            return None, body, _fail("3", "No Permission.")
        return station, body, None

    def installer_only(self, handler: _Handler, *, http_status: int = 200) -> _Handler:
        """`handler` for installer accounts; a live S-Miles Home token gets the Home-only
        refusal (status "1") with `http_status`. A dead token is left to `handler` ("100")."""

        async def guarded(request: web.Request) -> web.Response:
            account = self._sandbox.user_for_token(request.headers.get("Authorization"))
            if account is not None and account.scheme is Scheme.HOME_C:
                refusal = {"status": "1", "message": HOME_ONLY_MESSAGE, "data": None}
                return json_response(refusal, status=http_status)
            return await handler(request)

        return guarded

    async def _page(self, request: web.Request) -> tuple[JSONObject | None, web.Response | None]:
        """`select_by_page`'s data in the installer shape, or the refusal."""
        account = self._sandbox.user_for_token(request.headers.get("Authorization"))
        if account is None:
            return None, json_response({"status": "100", "data": "", "message": SESSION_ERROR})
        body = await _body(request)
        if body is None:
            return None, _fail(*_PARAMETER_ERROR)
        page = body.get("page", body.get("page_num", 1))
        size = body.get("page_size", 20)
        if type(page) is not int or type(size) is not int or page < 1 or size < 1:
            return None, _fail(*_PARAMETER_ERROR)
        now = self._now()
        size = min(size, MAX_PAGE_SIZE)
        ids = account.stations[(page - 1) * size : page * size]
        items = [station_json(sid, now, full=False) for sid in ids]
        return {"list": items, "total": len(account.stations)}, None

    async def stations(self, request: web.Request) -> web.Response:
        data, refusal = await self._page(request)
        if refusal is not None or data is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        return _ok(data)

    async def stations_home(self, request: web.Request) -> web.Response:
        """`select_by_page_c`: the list items under `sid`."""
        data, refusal = await self._page(request)
        if refusal is not None or data is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        return _ok(data | {"list": [home_station_json(item) for item in data["list"]]})

    async def station_find(self, request: web.Request) -> web.Response:
        station, _, refusal = await self._station(request, "id")
        if refusal is not None or station is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        return _ok(station_json(station, self._now(), full=True))

    async def station_find_home(self, request: web.Request) -> web.Response:
        """`find_c` `{"sid"}`."""
        station, _, refusal = await self._station(request, "sid")
        if refusal is not None or station is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        return _ok(home_station_json(station_json(station, self._now(), full=True)))

    async def device_tree(self, request: web.Request) -> web.Response:
        station, _, refusal = await self._station(request, "id")
        if refusal is not None or station is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        return _ok(device_tree_json(station, self._now()))

    async def device_tree_home(self, request: web.Request) -> web.Response:
        """`select_device_c` `{"sid"}`."""
        station, _, refusal = await self._station(request, "sid")
        if refusal is not None or station is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        return _ok(home_device_tree_json(device_tree_json(station, self._now())))

    async def realtime(self, request: web.Request) -> web.Response:
        station, _, refusal = await self._station(request, "sid")
        if refusal is not None or station is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        return _ok(realtime_json(station, self._now()))

    async def energy_stats(self, request: web.Request) -> web.Response:
        station, body, refusal = await self._station(request, "sid")
        if refusal is not None or station is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        text = body.get("date")
        if body.get("mode") != 2 or not isinstance(text, str):
            return _fail(*_PARAMETER_ERROR)
        try:
            month = date.fromisoformat(f"{text}-01")
        except ValueError:
            return _fail(*_PARAMETER_ERROR)
        return _ok(history_json(station, month, self._now()))

    # --- protobuf charts

    async def _chart_request(
        self, request: web.Request
    ) -> tuple[int | None, date | None, JSONObject, web.Response | None]:
        """The plant and day of a chart request, or the JSON refusal: token first, then the
        body (a missing or non-integer `sid` is a parameter error), then the plant's owner."""
        station, body, refusal = await self._station(request, "sid")
        if refusal is not None or station is None:
            token = request.headers.get("Authorization")
            if self._sandbox.user_for_token(token) is not None and type(body.get("sid")) is not int:
                return None, None, body, _fail(*_PARAMETER_ERROR)
            return None, None, body, refusal or _fail(*_PARAMETER_ERROR)
        text = body.get("date")
        day = parse_date(text) if isinstance(text, str) else None
        if day is None:
            return None, None, body, _fail(*_PARAMETER_ERROR)
        return station, day, body, None

    async def micro_chart(self, request: web.Request) -> web.Response:
        station, day, body, refusal = await self._chart_request(request)
        if refusal is not None or station is None or day is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        ids, quotas = body.get("mi_list"), body.get("quota")
        if not (
            isinstance(ids, list)
            and all(type(value) is int for value in ids)
            and isinstance(quotas, list)
            and all(isinstance(value, str) for value in quotas)
        ):
            return _fail(*_PARAMETER_ERROR)
        double = type(body.get("pb_ver")) is int and body.get("pb_ver") == 1
        return _protobuf(micro_chart(station, day, self._now(), ids, quotas, double=double))

    async def power_chart(self, request: web.Request) -> web.Response:
        station, day, _, refusal = await self._chart_request(request)
        if refusal is not None or station is None or day is None:
            return refusal or _fail(*_PARAMETER_ERROR)
        if day in self._sandbox.malformed_curves:
            return web.Response(text=MALFORMED_BODY, content_type="application/json")
        return _protobuf(power_chart(station, day, self._now()))


def _protobuf(message: bytes) -> web.Response:
    return web.Response(body=message, content_type="application/octet-stream")


def add_routes(app: web.Application, state: SandboxState) -> None:
    """Mount every emulated host's paths on `app` (the vendor's subapp)."""
    sandbox = HoymilesSandbox(state)
    app[SANDBOX_KEY] = sandbox
    handlers = _Handlers(sandbox)
    installer = handlers.installer_only
    app.router.add_routes(
        [
            web.post("/iam/pub/0/c/region_c", handlers.region),
            web.post("/iam/pub/3/auth/pre-insp", handlers.pre_insp),
            web.post("/iam/pub/3/auth/login", handlers.login_v3),
            web.post("/iam/pub/0/c/login_c", handlers.login_home),
            web.post("/iam/pub/0/auth/login", handlers.login_v0),
            web.post(
                "/pvm/api/0/station/select_by_page",
                installer(handlers.stations, http_status=403),
            ),
            web.post("/pvm/api/0/station/find", installer(handlers.station_find)),
            web.post("/pvm/api/0/station/select_device_of_tree", installer(handlers.device_tree)),
            web.post(
                "/pvm-data/api/0/station/data/count_station_real_data",
                installer(handlers.realtime),
            ),
            web.post("/pvm-data/api/0/station/data_fd/stat_g_a", handlers.energy_stats),
            web.post("/pvm-data/api/0/micro/data/count_by_day", installer(handlers.micro_chart)),
            web.post("/pvm-data/api/0/station/data/count_power_by_day", handlers.power_chart),
            # S-Miles Home twins: any account's token
            web.post("/pvmc/api/0/station/select_by_page_c", handlers.stations_home),
            web.post("/pvmc/api/0/station/find_c", handlers.station_find_home),
            web.post("/pvmc/api/0/station/select_device_c", handlers.device_tree_home),
            web.post("/pvmc/api/0/station_data/count_station_real_data_c", handlers.realtime),
            web.post("/pvmc/api/0/micro_data/count_by_day_c", handlers.micro_chart),
        ]
    )
