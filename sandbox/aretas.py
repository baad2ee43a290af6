"""Aretas IoT platform (iot.aretas.ca/rest), emulated, with a 10 kW battery (BESS) on it.

Shapes follow `shared/vendor-apis/aretas.md`: the login answers the token as plain text,
readings are `{type, timestamp (ms), data}` (no `mac` in `sensordata/byrange` items: the MAC
comes back in the `X-AIR-Token` response header), labels and units live only in
`sensortype/list`, which needs no token. A client's base URL is `<sandbox>/aretas`.

The BESS (MAC `BESS_MAC`, a 24 kWh ex-EV pack with `USABLE_CAPACITY_KWH` usable) is sampled
every 20 s (timestamps jittered by up to 0.4 s): DC power (type 530, kW), current (516, A),
voltage (518, V), state of charge (514, %), two pack temperatures (520, 521, °C), and every
5 minutes type 533, which the catalogue does not list (a private type, as the docs warn).
Power and current are + discharging / - charging, the sign Aretas documents for current.

Every UTC day the battery starts at 25 % and runs four cycles: a night charge, a morning
discharge, a midday charge and an evening discharge sized so the day ends at 25 % again.
Each has 45 s ramps and a small ripple on its plateau. About one day in three the device goes
offline for 25-75 minutes in the middle of the evening discharge: the battery stops while it
is offline (no samples, no energy) and runs that much longer afterwards. About 0.4 % of
samples are lost on the way (the battery keeps running). The power is an analytic function of
time, so the energy that flowed is known exactly: `energy_between` is the ground truth.

A second device (`ENV_MAC`) is a room sensor (CO2, temperature, humidity every minute), as a
real Aretas account mixes devices.

A third (`VI_MAC`) is a battery of the same make whose device reports no power type: only
state of charge (514), current (516) and voltage (518), about every 20 minutes (10 to 30
minutes apart: the slot is jittered by up to 5 minutes). Like real firmware it sometimes sends
65535 for the current and 6553.5 V (beyond the catalogue's 0-450 V) for the voltage; one
sample in twenty reaches the platform `VI_LATE` after it was taken (after later samples); and
every day from 13:10 to 15:40 UTC the device is offline (the battery keeps running; no samples,
so the 14:00 hour has none). Its ground truth is the notebook's method applied to what the
device sent: power = voltage x current at each valid sample, the trapezoidal rule between
samples at most `max_gap` apart, split at the zero crossing (`vi_energy`, `vi_hourly_energy`,
`vi_uncovered`), computed here independently of Energy Hub.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import functools
import hashlib
import hmac
import itertools
import json
import math
from typing import Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler

from .common import JSONObject, as_utc, clamp, json_response, noise
from .state import SandboxState

VENDOR: Final = "aretas"
MALFORMED_BODY: Final = '[{"type": 530, "timestamp": '

USERNAME: Final = "bess@aretas.example"
PASSWORD: Final = "aretas-sandbox"  # noqa: S105 (the sandbox account)
CLIENT_ID: Final = "5a6e7c1d0b9f4e2a8c3d1f0e9b8a7c6d"
LOCATION_ID: Final = "00000000000000000000000000000101"
BESS_MAC: Final = 1000000101
ENV_MAC: Final = 1000000102
VI_MAC: Final = 1000000103
BATTERIES: Final = (BESS_MAC, VI_MAC)

TOKEN_LIFETIME: Final = timedelta(hours=12)
"""Tokens expire after this (UNVERIFIED: Aretas documents no lifetime; clients re-login on 401)."""
DEFAULT_LIMIT: Final = 1_000_000

SAMPLE_PERIOD: Final = 20  # seconds
VI_SLOT: Final = 20 * 60  # seconds: the voltage/current device's nominal reporting interval
VI_JITTER: Final = 5 * 60  # seconds either side of the slot
VI_OUTAGE: Final = (timedelta(hours=13, minutes=10), timedelta(hours=15, minutes=40))
"""Every UTC day the voltage/current device is offline between these times of day."""
VI_LATE: Final = timedelta(hours=2)
"""How long after it was taken a late sample reaches the platform."""
SENTINEL: Final = 65535.0
BAD_VOLTAGE: Final = 6553.5
ENV_PERIOD: Final = 60
MODE_EVERY: Final = 15  # samples: type 533 every 5 minutes

RATED_POWER_W: Final = 10_000.0
USABLE_CAPACITY_KWH: Final = 21.6
START_SOC: Final = 0.25  # at 00:00 UTC every day
RAMP_S: Final = 45.0
_CAPACITY_WS: Final = USABLE_CAPACITY_KWH * 3_600_000

# sensor types
T_SOC: Final = 514
T_CURRENT: Final = 516
T_VOLTAGE: Final = 518
T_TEMP_1: Final = 520
T_TEMP_2: Final = 521
T_POWER: Final = 530
T_MODE: Final = 533  # reported, not in the catalogue
T_CO2: Final = 181
T_TEMP_C: Final = 246
T_HUMIDITY: Final = 248
BESS_TYPES: Final = (T_SOC, T_CURRENT, T_VOLTAGE, T_TEMP_1, T_TEMP_2, T_POWER, T_MODE)
VI_TYPES: Final = (T_SOC, T_CURRENT, T_VOLTAGE)
ENV_TYPES: Final = (T_CO2, T_TEMP_C, T_HUMIDITY)


def _sensor_type(type_id: int, char: str, label: str, units: str, **extra: Any) -> JSONObject:
    low, high = extra.pop("range", (0, 100))
    return {
        "type": type_id,
        "typeByte": type_id,
        "charCode": char,
        "label": label,
        "units": units,
        "enabled": True,
        "display": True,
        "charting": True,
        "gasStatsSupported": False,
        "rank": 50.0,
        "rangeHint": {"min": low, "max": high, "midPoint": (low + high) / 2, "step": 1},
        **extra,
    }


CO2_SAMPLE: Final[JSONObject] = {
    "charCode": "CO2",
    "charting": True,
    "display": True,
    "enabled": True,
    "gasStatsSupported": True,
    "label": "Carbon Dioxide",
    "rangeHint": {"max": 10000, "midPoint": 5150.0, "min": 300, "step": 1},
    "rank": 80.0,
    "sensorColor": "0xFF5407",
    "sensorGasFormula": "CO2",
    "sensorTypeIntelligence": {
        "binsInfo": [
            {"max": 390.0, "min": 0.0, "strokeStyle": "noinfo"},
            {"max": 650.0, "min": 390.0, "strokeStyle": "green"},
            {"max": 1000.0, "min": 650.0, "recommendation": "", "strokeStyle": "yellow"},
            {"max": 10000.0, "min": 1000.0, "recommendation": "", "strokeStyle": "red"},
        ]
    },
    "typeByte": 181,
    "units": "ppm",
}
"""The published CO2 definition, verbatim: it has `typeByte` but no `type`."""

CATALOGUE: Final[tuple[JSONObject, ...]] = (
    CO2_SAMPLE,
    _sensor_type(242, "TEMPF", "Temperature", "°F", range=(-40, 185)),
    _sensor_type(246, "TEMP", "Temperature", "°C", range=(-40, 85)),
    _sensor_type(248, "RH", "Relative Humidity", "%"),
    _sensor_type(513, "EV_BAT_HX", "HV Bat Health", "%"),
    _sensor_type(514, "EV_BAT_SOC", "HV Bat SoC", "%"),
    _sensor_type(515, "EV_BAT_AH", "HV Bat Capacity", "Ah", range=(0, 200)),
    _sensor_type(516, "EV_BAT_CUR_1", "HV Bat Current 1", "A", range=(-200, 200)),
    _sensor_type(517, "EV_BAT_CUR_2", "HV Bat Current 2", "A", range=(-200, 200)),
    _sensor_type(518, "EV_BAT_VOLT", "HV Bat Voltage", "V", range=(0, 450)),
    _sensor_type(520, "EV_BAT_TEMP_1", "HV Bat Temp 1", "°C", range=(-40, 80)),
    _sensor_type(521, "EV_BAT_TEMP_2", "HV Bat Temp 2", "°C", range=(-40, 80)),
    _sensor_type(522, "EV_BAT_TEMP_3", "HV Bat Temp 3", "°C", range=(-40, 80)),
    _sensor_type(523, "EV_BAT_TEMP_4", "HV Bat Temp 4", "°C", range=(-40, 80)),
    _sensor_type(525, "EV_BAT_SOH", "HV Bat SoH", "%"),
    _sensor_type(
        530,
        "BESS_PWR",
        "BESS DC Power",
        "kW",
        range=(-10, 10),
        description="Battery DC power; positive discharging, negative charging (sandbox).",
    ),
)
"""`sensortype/list`. 530's definition is the sandbox's own (530-533 are not public)."""


def error_body(status: int, message: str) -> JSONObject:
    """Aretas' `WebServiceBoolean` shape, the one error body its docs show."""
    return {"booleanResponse": False, "message": message}


# --- the battery -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Segment:
    """One charge (power < 0) or discharge (power > 0) run; times in seconds of the UTC day."""

    start: float
    power: float  # W on the plateau
    plateau: float  # s
    ripple: float  # W amplitude on the plateau
    period: float  # s
    hole_at: float | None = None  # active seconds after `start` at which the device went offline
    hole: float = 0.0  # s offline

    @property
    def active_length(self) -> float:
        return 2 * RAMP_S + self.plateau

    @property
    def end(self) -> float:
        return self.start + self.active_length + self.hole

    def active_time(self, second: float) -> float:
        """Seconds of running from `start` to `second` (offline time excluded)."""
        elapsed = second - self.start
        if self.hole_at is not None and elapsed > self.hole_at:
            elapsed = max(self.hole_at, elapsed - self.hole)
        return clamp(elapsed, 0.0, self.active_length)

    def offline(self, second: float) -> bool:
        if self.hole_at is None:
            return False
        return self.start + self.hole_at <= second < self.start + self.hole_at + self.hole

    def power_at(self, second: float) -> float:
        if self.offline(second):
            return 0.0
        tau = second - self.start
        if self.hole_at is not None and tau > self.hole_at:
            tau -= self.hole
        if tau <= 0 or tau >= self.active_length:
            return 0.0
        if tau < RAMP_S:
            return self.power * tau / RAMP_S
        if tau <= RAMP_S + self.plateau:
            return self.power + self.ripple * math.sin(2 * math.pi * (tau - RAMP_S) / self.period)
        return self.power * (self.active_length - tau) / RAMP_S

    def energy(self, tau: float) -> float:
        """Signed energy (W s, + discharged) over the first `tau` active seconds: exact."""
        tau = clamp(tau, 0.0, self.active_length)
        if tau <= RAMP_S:
            return self.power * tau * tau / (2 * RAMP_S)
        total = self.power * RAMP_S / 2
        flat = min(tau, RAMP_S + self.plateau) - RAMP_S
        total += self.power * flat
        total += (
            self.ripple
            * self.period
            / (2 * math.pi)
            * (1 - math.cos(2 * math.pi * flat / self.period))
        )
        down = tau - RAMP_S - self.plateau
        if down > 0:
            total += self.power * (down - down * down / (2 * RAMP_S))
        return total


def _solve_plateau(template: _Segment, energy: float) -> _Segment:
    """The segment with the plateau length whose total |energy| is `energy` (bisection)."""
    low, high = 0.0, 24 * 3600.0
    for _ in range(80):
        middle = (low + high) / 2
        candidate = _replace_plateau(template, middle)
        if abs(candidate.energy(candidate.active_length)) < energy:
            low = middle
        else:
            high = middle
    return _replace_plateau(template, (low + high) / 2)


def _replace_plateau(segment: _Segment, plateau: float) -> _Segment:
    return _Segment(
        segment.start,
        segment.power,
        plateau,
        segment.ripple,
        segment.period,
        segment.hole_at,
        segment.hole,
    )


@dataclass(frozen=True, slots=True)
class _DayPlan:
    segments: tuple[_Segment, ...]
    start_energy: float  # W s stored at 00:00

    def segment_at(self, second: float) -> _Segment | None:
        for segment in self.segments:
            if segment.start <= second < segment.end:
                return segment
        return None


@functools.lru_cache(maxsize=512)
def _plan(mac: int, day: date) -> _DayPlan:
    if mac not in BATTERIES:
        raise KeyError(f"{mac} is not a sandbox BESS")
    ordinal = day.toordinal()

    def n(index: int) -> float:
        return noise("aretas-plan", mac, ordinal, index)

    def ripple(power: float, index: int) -> tuple[float, float]:
        return 0.012 * abs(power), 157 + 60 * n(100 + index)

    stored = START_SOC * _CAPACITY_WS
    low, high = 0.10 * _CAPACITY_WS, 0.95 * _CAPACITY_WS
    segments: list[_Segment] = []
    planned = (
        # start (h), plateau power (W), plateau length (h), with their spreads
        (1.0 + 0.33 * n(0), -(5000 + 500 * n(1)), 2.3 + 0.3 * n(2)),
        (6.5 + 0.25 * n(3), 8000 + 1000 * n(4), 1.0 + 0.2 * n(5)),
        (11.0 + 0.33 * n(6), -(4500 + 800 * n(7)), 2.2 + 0.3 * n(8)),
    )
    for index, (start_h, power, length_h) in enumerate(planned):
        amplitude, period = ripple(power, index)
        segment = _Segment(start_h * 3600, power, length_h * 3600, amplitude, period)
        change = -segment.energy(segment.active_length)
        room = (high - stored) if change > 0 else (stored - low)
        if abs(change) > room:  # keep the state of charge within 10-95 %
            segment = _solve_plateau(segment, room)
            change = -segment.energy(segment.active_length)
        segments.append(segment)
        stored += change
    # the evening discharge brings the battery back to START_SOC by the end of the day
    power = 9300 + 400 * n(9)
    amplitude, period = ripple(power, 3)
    evening = _Segment((16.75 + 0.25 * n(10)) * 3600, power, 3600.0, amplitude, period)
    evening = _solve_plateau(evening, stored - START_SOC * _CAPACITY_WS)
    if noise("aretas-offline", mac, ordinal) > 1 / 3:  # about one day in three
        hole_at = RAMP_S + evening.plateau * (0.3 + 0.3 * (n(11) + 1) / 2)
        hole = (25 + 25 * (n(12) + 1)) * 60
        evening = _Segment(
            evening.start, evening.power, evening.plateau, amplitude, period, hole_at, hole
        )
    segments.append(evening)
    return _DayPlan(tuple(segments), START_SOC * _CAPACITY_WS)


def _midnight(moment: datetime) -> datetime:
    moment = as_utc(moment)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _energy_since_midnight(mac: int, day: date, second: float) -> tuple[float, float]:
    """(charged, discharged) W s from 00:00 UTC of `day` to `second` seconds later."""
    charged = discharged = 0.0
    for segment in _plan(mac, day).segments:
        if segment.start >= second:
            break
        energy = segment.energy(segment.active_time(second))
        if energy >= 0:
            discharged += energy
        else:
            charged -= energy
    return charged, discharged


def _day_energy(mac: int, moment: datetime) -> tuple[float, float]:
    """(charged, discharged) W s from the day's midnight to `moment`."""
    midnight = _midnight(moment)
    second = (as_utc(moment) - midnight).total_seconds()
    return _energy_since_midnight(mac, midnight.date(), second)


@dataclass(frozen=True, slots=True)
class BessEnergy:
    """Energy into (charged) and out of (discharged) the battery, kWh, at its DC terminals."""

    charged_kwh: float
    discharged_kwh: float


def energy_between(mac: int, start: datetime, end: datetime) -> BessEnergy:
    """Exactly the energy the battery took and gave between two instants (ground truth)."""
    start, end = as_utc(start), as_utc(end)
    if end < start:
        raise ValueError("end is before start")
    charged = discharged = 0.0
    day = _midnight(start)
    while day < end:
        first = (max(start, day) - day).total_seconds()
        last = (min(end, day + timedelta(days=1)) - day).total_seconds()
        c0, d0 = _energy_since_midnight(mac, day.date(), first)
        c1, d1 = _energy_since_midnight(mac, day.date(), last)
        charged += c1 - c0
        discharged += d1 - d0
        day += timedelta(days=1)
    return BessEnergy(charged / 3_600_000, discharged / 3_600_000)


def usable_capacity_kwh(mac: int) -> float:
    """The battery's usable capacity: energy at its terminals from 0 to 100 % (ground truth)."""
    if mac not in BATTERIES:
        raise KeyError(f"{mac} is not a sandbox BESS")
    return USABLE_CAPACITY_KWH


def power_w(mac: int, moment: datetime) -> float:
    """The battery's true DC power at `moment` (W, + discharging)."""
    midnight = _midnight(moment)
    second = (as_utc(moment) - midnight).total_seconds()
    segment = _plan(mac, midnight.date()).segment_at(second)
    return segment.power_at(second) if segment is not None else 0.0


def soc_percent(mac: int, moment: datetime) -> float:
    """The battery's true state of charge at `moment`."""
    midnight = _midnight(moment)
    charged, discharged = _day_energy(mac, moment)
    stored = _plan(mac, midnight.date()).start_energy + charged - discharged
    return stored / _CAPACITY_WS * 100


def offline_windows(mac: int, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """When the BESS was offline on `day` (no samples; the battery stands still)."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return tuple(
        (
            midnight + timedelta(seconds=segment.start + segment.hole_at),
            midnight + timedelta(seconds=segment.start + segment.hole_at + segment.hole),
        )
        for segment in _plan(mac, day).segments
        if segment.hole_at is not None
    )


# --- samples -------------------------------------------------------------------------------------


_MASK64: Final = (1 << 64) - 1


def _jitter(*parts: int) -> float:
    """A stable pseudo-random number in [-1, 1) from integers (splitmix64)."""
    state = 0x9E3779B97F4A7C15
    for part in parts:
        state = (state ^ (part & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        state ^= state >> 31
    state = (state + 0x9E3779B97F4A7C15) * 0x94D049BB133111EB & _MASK64
    state ^= state >> 29
    return state / 2**63 - 1.0


def _sample_ms(mac: int, index: int, period: int) -> int:
    """Timestamp (ms) of sample `index` (the `index`-th period since the epoch)."""
    return index * period * 1000 + int((_jitter(mac, 1, index) + 1) * 200)


def _present(mac: int, index: int, stamp_ms: int) -> bool:
    if mac != BESS_MAC:
        return True
    if _jitter(mac, 2, index) > 0.992:  # lost on the way
        return False
    moment = datetime.fromtimestamp(stamp_ms / 1000, UTC)
    midnight = _midnight(moment)
    segment = _plan(mac, midnight.date()).segment_at((moment - midnight).total_seconds())
    return segment is None or not segment.offline((moment - midnight).total_seconds())


def _ocv(soc: float) -> float:
    """Open-circuit voltage of the 96-cell pack at state of charge `soc` (0-1)."""
    return 96 * (3.35 + 0.80 * soc + 0.05 * math.sin(math.pi * soc))


def _bess_values(mac: int, index: int, stamp_ms: int) -> list[tuple[int, float]]:
    moment = datetime.fromtimestamp(stamp_ms / 1000, UTC)
    power = power_w(mac, moment)
    soc = soc_percent(mac, moment)
    ocv = _ocv(soc / 100)
    voltage = (ocv + math.sqrt(ocv * ocv - 4 * 0.12 * power)) / 2  # 0.12 ohm inside
    current = power / voltage
    local_hour = (stamp_ms / 3_600_000 - 5) % 24  # the site is in Ontario (UTC-5)
    ambient = 14 + 6 * math.sin(2 * math.pi * (local_hour - 9) / 24)
    heat = abs(power_w(mac, moment - timedelta(minutes=2))) / 1000
    temp_1 = ambient + 0.45 * heat + 0.1 * _jitter(mac, 5, index)
    mode = 0.0 if power == 0 else (2.0 if power > 0 else 1.0)
    values = [
        (T_SOC, round(soc, 1)),
        (T_CURRENT, round(current * (1 + 0.003 * _jitter(mac, 3, index)), 2)),
        (T_VOLTAGE, round(voltage * (1 + 0.0005 * _jitter(mac, 4, index)), 2)),
        (T_TEMP_1, round(temp_1, 1)),
        (T_TEMP_2, round(temp_1 + 0.7 + 0.1 * _jitter(mac, 6, index), 1)),
        (T_POWER, round(power / 1000 * (1 + 0.002 * _jitter(mac, 7, index)), 3)),
    ]
    if index % MODE_EVERY == 0:
        values.append((T_MODE, mode))
    return sorted(values)


def _env_values(mac: int, index: int, stamp_ms: int) -> list[tuple[int, float]]:
    local_hour = (stamp_ms / 3_600_000 - 5) % 24
    occupied = 1.0 if 8 <= local_hour < 18 else 0.0
    co2 = 430 + 380 * occupied * (0.7 + 0.3 * math.sin(math.pi * (local_hour - 8) / 10))
    return [
        (T_CO2, float(round(co2 + 15 * _jitter(mac, 8, index)))),
        (T_TEMP_C, round(20.5 + 1.2 * occupied + 0.2 * _jitter(mac, 9, index), 1)),
        (T_HUMIDITY, round(38 + 4 * math.sin(stamp_ms / 86_400_000) + _jitter(mac, 10, index), 1)),
    ]


DEVICES: Final[Mapping[int, str]] = {
    BESS_MAC: "BESS 10 kW / 24 kWh",
    ENV_MAC: "Plant room air",
    VI_MAC: "BESS voltage and current",
}


def _period(mac: int) -> int:
    return SAMPLE_PERIOD if mac == BESS_MAC else ENV_PERIOD


def samples(
    mac: int, begin_ms: int, end_ms: int, *, now_ms: int | None = None
) -> Iterator[tuple[int, list[tuple[int, float]]]]:
    """(timestamp ms, [(type, value)]) of every sample with begin <= timestamp <= end (that had
    reached the platform by `now_ms`, when given)."""
    if mac == VI_MAC:
        for index, stamp in _vi_indexes(begin_ms, end_ms):
            if now_ms is None or _vi_arrival_ms(index, stamp) <= now_ms:
                yield stamp, _vi_values(index, stamp)
        return
    period = _period(mac)
    index = max(0, begin_ms // (period * 1000) - 1)
    while True:
        stamp = _sample_ms(mac, index, period)
        if stamp > end_ms:
            return
        if stamp >= begin_ms and _present(mac, index, stamp):
            yield stamp, _values(mac, index, stamp)
        index += 1


def _values(mac: int, index: int, stamp_ms: int) -> list[tuple[int, float]]:
    if mac == BESS_MAC:
        return _bess_values(mac, index, stamp_ms)
    return _env_values(mac, index, stamp_ms)


def latest_values(mac: int, now: datetime) -> dict[int, tuple[int, float]]:
    """type -> (timestamp ms, value) of the last reading of each type at or before `now`
    (within a week), as `sensorreport/latest` keeps them."""
    now_ms = int(as_utc(now).timestamp() * 1000)
    found: dict[int, tuple[int, float]] = {}
    if mac == VI_MAC:
        for index, stamp in reversed(list(_vi_indexes(now_ms - 86_400_000, now_ms))):
            if _vi_arrival_ms(index, stamp) <= now_ms:
                for type_id, value in _vi_values(index, stamp):
                    found.setdefault(type_id, (stamp, value))
        return found
    period = _period(mac)
    index = now_ms // (period * 1000)
    wanted = set(BESS_TYPES if mac == BESS_MAC else ENV_TYPES)
    for _ in range(7 * 86400 // period):
        stamp = _sample_ms(mac, index, period)
        if stamp <= now_ms and _present(mac, index, stamp):
            for type_id, value in _values(mac, index, stamp):
                found.setdefault(type_id, (stamp, value))
            if wanted <= found.keys():
                break
        index -= 1
    return found


# --- the voltage/current device ------------------------------------------------------------------


def _vi_stamp_ms(index: int) -> int:
    return index * VI_SLOT * 1000 + round(_jitter(VI_MAC, 1, index) * VI_JITTER * 1000)


def _vi_offline(stamp_ms: int) -> bool:
    second = timedelta(milliseconds=stamp_ms % 86_400_000)
    return VI_OUTAGE[0] <= second < VI_OUTAGE[1]


def vi_is_late(index: int) -> bool:
    """Whether sample `index` of the voltage/current device reaches the platform late."""
    return _jitter(VI_MAC, 14, index) > 0.9


def _vi_arrival_ms(index: int, stamp_ms: int) -> int:
    late = VI_LATE if vi_is_late(index) else timedelta(0)
    return stamp_ms + int(late.total_seconds() * 1000)


def _vi_indexes(begin_ms: int, end_ms: int) -> Iterator[tuple[int, int]]:
    """(index, timestamp ms) of the device's samples with begin <= timestamp <= end."""
    index = begin_ms // (VI_SLOT * 1000) - 1
    while (stamp := _vi_stamp_ms(index)) <= end_ms:
        if stamp >= begin_ms and not _vi_offline(stamp):
            yield index, stamp
        index += 1


def _vi_values(index: int, stamp_ms: int) -> list[tuple[int, float]]:
    """What the device sent: SoC, current, voltage (with its sentinels)."""
    moment = datetime.fromtimestamp(stamp_ms / 1000, UTC)
    power = power_w(VI_MAC, moment)
    soc = soc_percent(VI_MAC, moment)
    ocv = _ocv(soc / 100)
    voltage = (ocv + math.sqrt(ocv * ocv - 4 * 0.12 * power)) / 2
    current = round(power / voltage * (1 + 0.003 * _jitter(VI_MAC, 3, index)), 2)
    volts = round(voltage * (1 + 0.0005 * _jitter(VI_MAC, 4, index)), 2)
    if _jitter(VI_MAC, 12, index) > 0.93:
        current = SENTINEL
    if _jitter(VI_MAC, 13, index) > 0.95:
        volts = BAD_VOLTAGE
    return [(T_SOC, round(soc, 1)), (T_CURRENT, current), (T_VOLTAGE, volts)]


@dataclass(frozen=True, slots=True)
class ViSample:
    """One sample of the voltage/current device as it sent it."""

    at: datetime
    soc: float
    current: float
    voltage: float
    late: bool

    @property
    def power_w(self) -> float | None:
        """Voltage x current (W, + discharging), None when either is a sentinel."""
        if self.current == SENTINEL or self.voltage == BAD_VOLTAGE:
            return None
        return self.voltage * self.current


def vi_samples(start: datetime, end: datetime) -> list[ViSample]:
    """The voltage/current device's samples with start <= time <= end, late ones included."""
    out = []
    for index, stamp in _vi_indexes(
        int(as_utc(start).timestamp() * 1000), int(as_utc(end).timestamp() * 1000)
    ):
        values = dict(_vi_values(index, stamp))
        out.append(
            ViSample(
                datetime.fromtimestamp(stamp / 1000, UTC),
                values[T_SOC],
                values[T_CURRENT],
                values[T_VOLTAGE],
                vi_is_late(index),
            )
        )
    return out


def _vi_pairs(
    start: datetime, end: datetime, max_gap: timedelta, live: bool
) -> Iterator[tuple[datetime, float, datetime, float, bool]]:
    """(t0, p0, t1, p1, bridged) for consecutive valid power samples around [start, end];
    `live` leaves out the late samples (a poller has bridged them before they arrive)."""
    points: list[tuple[datetime, float]] = []
    for sample in vi_samples(start - max_gap, end + max_gap):
        power = sample.power_w
        if power is not None and not (live and sample.late):
            points.append((sample.at, power))
    for (t0, p0), (t1, p1) in itertools.pairwise(points):
        yield t0, p0, t1, p1, t1 - t0 <= max_gap


def _area(
    t0: datetime, p0: float, t1: datetime, p1: float, *, a: datetime, b: datetime
) -> tuple[float, float]:
    """(charged, discharged) W s of the straight line from (t0, p0) to (t1, p1) over [a, b]."""
    length = (t1 - t0).total_seconds()

    def at(moment: datetime) -> float:
        return p0 + (p1 - p0) * (moment - t0).total_seconds() / length

    pa, pb = at(a), at(b)
    seconds = (b - a).total_seconds()
    if pa * pb >= 0:
        area = (pa + pb) / 2 * seconds
        return (-area, 0.0) if area < 0 else (0.0, area)
    zero = seconds * pa / (pa - pb)
    first, second = pa / 2 * zero, pb / 2 * (seconds - zero)
    return -min(first, 0.0) - min(second, 0.0), max(first, 0.0) + max(second, 0.0)


def vi_energy(
    start: datetime, end: datetime, *, max_gap: timedelta = timedelta(hours=1), live: bool = False
) -> BessEnergy:
    """Energy by the notebook's method between two instants (see the module docstring);
    `live`: as a poller counts it, the late samples left out."""
    charged = discharged = 0.0
    for t0, p0, t1, p1, bridged in _vi_pairs(start, end, max_gap, live):
        a, b = max(t0, start), min(t1, end)
        if bridged and a < b:
            c, d = _area(t0, p0, t1, p1, a=a, b=b)
            charged += c
            discharged += d
    return BessEnergy(charged / 3_600_000, discharged / 3_600_000)


def vi_hourly_energy(
    start: datetime, end: datetime, *, max_gap: timedelta = timedelta(hours=1)
) -> dict[datetime, BessEnergy]:
    """`vi_energy` of each UTC hour from `start` (on the hour) to `end`, every sample
    counted; hours that no bridged pair of samples overlaps are left out."""
    out: dict[datetime, BessEnergy] = {}
    hour = as_utc(start)
    while hour < end:
        nxt = hour + timedelta(hours=1)
        if any(
            bridged and max(t0, hour) < min(t1, nxt)
            for t0, _, t1, _, bridged in _vi_pairs(hour, nxt, max_gap, False)
        ):
            out[hour] = vi_energy(hour, nxt, max_gap=max_gap)
        hour = nxt
    return out


def vi_uncovered(
    start: datetime, end: datetime, *, max_gap: timedelta = timedelta(hours=1)
) -> timedelta:
    """Time between `start` and `end` inside gaps of more than `max_gap` between the valid
    samples a poller sees (late ones left out)."""
    total = timedelta(0)
    for t0, _, t1, _, bridged in _vi_pairs(start, end, max_gap, True):
        if not bridged:
            total += max(timedelta(0), min(t1, end) - max(t0, start))
    return total


# --- state: tokens -------------------------------------------------------------------------------

_SECRET: Final = b"energy-hub-sandbox-aretas"


@dataclass(slots=True)
class AretasSandbox:
    """The emulation's mutable state in one app: passwords and issued tokens."""

    state: SandboxState
    passwords: dict[str, str] = field(default_factory=lambda: {USERNAME: PASSWORD})
    token_lifetime: timedelta = TOKEN_LIFETIME
    logins: int = 0
    _tokens: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def issue(self, username: str) -> str:
        self.logins += 1
        now = self.state.now()
        seed = f"{username}:{self.logins}:{now.isoformat()}".encode()
        token = hmac.new(_SECRET, seed, hashlib.sha256).hexdigest()
        self._tokens[token] = (username, now + self.token_lifetime)
        return token

    def user(self, token: str) -> str | None:
        found = self._tokens.get(token)
        if found is None or found[1] <= self.state.now():
            return None
        return found[0]

    def revoke_tokens(self) -> int:
        """Forget every token (the next request of each client answers 401)."""
        count = len(self._tokens)
        self._tokens.clear()
        return count


SANDBOX_KEY: Final = web.AppKey("aretas_sandbox", AretasSandbox)


def sandbox_of(app: web.Application) -> AretasSandbox:
    """The Aretas emulation's state in an app made by `create_app` (or in its own subapp)."""
    if SANDBOX_KEY in app:
        return app[SANDBOX_KEY]
    for resource in app.router.resources():
        subapp = resource.get_info().get("app")
        if isinstance(subapp, web.Application) and SANDBOX_KEY in subapp:
            return subapp[SANDBOX_KEY]
    raise LookupError("no Aretas sandbox in this app")


# --- request handling ----------------------------------------------------------------------------


class _BadRequest(Exception):
    pass


def _error(status: int, message: str) -> web.Response:
    return json_response(error_body(status, message), status=status)


def _int_param(request: web.Request, name: str, default: int | None = None) -> int:
    text = request.query.get(name)
    if text is None:
        if default is None:
            raise _BadRequest(f"missing parameter {name}")
        return default
    try:
        return int(text)
    except ValueError:
        raise _BadRequest(f"bad parameter {name}={text!r}") from None


def _mac_list(body: Any) -> list[int]:
    if not isinstance(body, list):
        raise _BadRequest("expected a JSON array of MACs")
    macs = []
    for item in body:
        if isinstance(item, bool):
            continue
        if isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
            macs.append(int(item))
    return macs


class _Handlers:
    def __init__(self, sandbox: AretasSandbox) -> None:
        self._sandbox = sandbox

    def _now(self) -> datetime:
        return self._sandbox.state.now()

    def _user(self, request: web.Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return self._sandbox.user(token.strip())
        return self._sandbox.user(request.cookies.get("X-Aretas-Bearer", ""))

    def _login(self, username: Any, password: Any) -> web.Response:
        known = self._sandbox.passwords.get(username) if isinstance(username, str) else None
        if (
            known is None
            or not isinstance(password, str)
            or not hmac.compare_digest(known, password)
        ):
            return _error(401, "not authorized")
        return web.Response(text=self._sandbox.issue(username), content_type="text/plain")

    async def login_json(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError:
            return _error(400, "expected JSON credentials")
        if not isinstance(body, dict):
            return _error(400, "expected JSON credentials")
        return self._login(body.get("username"), body.get("password"))

    async def login_get(self, request: web.Request) -> web.Response:
        return self._login(request.query.get("username"), request.query.get("password"))

    async def is_logged_in(self, request: web.Request) -> web.Response:
        if self._user(request) is None:
            return _error(401, "not authorized")
        return web.Response(text="true", content_type="text/plain")

    async def location_view(self, request: web.Request) -> web.Response:
        if self._user(request) is None:
            return _error(401, "not authorized")
        now = self._now()
        sensors = []
        last_times = []
        for mac, description in DEVICES.items():
            latest = latest_values(mac, now)
            last = max((stamp for stamp, _ in latest.values()), default=-1)
            last_times.append(last)
            down = last < 0 or now.timestamp() * 1000 - last > 15 * 60 * 1000
            sensors.append(
                {
                    "id": f"{mac:032d}",
                    "mac": mac,
                    "description": description,
                    "lastReportTime": last,
                    "lat": 43.6532,
                    "lon": -79.3832,
                    "owner": LOCATION_ID,
                    "ownerClientId": CLIENT_ID,
                    "downInterval": 15,
                    "notifyIfDown": True,
                    "isShared": False,
                    "isSharedPublic": False,
                    "areaType": 0,
                    "areaUsageHints": {"ceilingHeight": -1, "floorArea": -1, "hasPeople": -1},
                    "buildingMapId": None,
                    "imgMapX": 0,
                    "imgMapY": 0,
                    "status": {
                        "_mac": mac,
                        "_status": "down" if down else "ok",
                        "_timestamp": int(now.timestamp() * 1000),
                        "_type": 0,
                    },
                }
            )
        view = {
            "location": {
                "id": LOCATION_ID,
                "description": "Sandbox storage site",
                "city": "Toronto",
                "state": "Ontario",
                "country": "Canada",
                "streetAddress": "1 Example Street",
                "zipCode": "A1A 1A1",
                "lat": 43.6532,
                "lon": -79.3832,
                "owner": CLIENT_ID,
            },
            "lastSensorReportTime": max(last_times),
            "buildingMapList": [],
            "sensorList": sensors,
        }
        return json_response(
            {"id": CLIENT_ID, "allMacs": list(DEVICES), "locationSensorViews": [view]}
        )

    async def latest(self, request: web.Request) -> web.Response:
        if self._user(request) is None:
            return _error(401, "not authorized")
        try:
            macs = _mac_list(json.loads(await request.text()))
        except ValueError:
            raise _BadRequest("expected a JSON array of MACs") from None
        items: list[JSONObject] = []
        for mac in macs:
            if mac not in DEVICES:
                continue
            items.extend(
                {"mac": mac, "type": type_id, "timestamp": stamp, "data": value}
                for type_id, (stamp, value) in sorted(latest_values(mac, self._now()).items())
            )
        return json_response(items)

    async def byrange(self, request: web.Request) -> web.Response:
        if self._user(request) is None:
            return _error(401, "not authorized")
        mac = _int_param(request, "mac")
        begin = _int_param(request, "begin")
        end = _int_param(request, "end")
        limit = _int_param(request, "limit", DEFAULT_LIMIT)
        if end < begin or limit <= 0:
            raise _BadRequest("end must not be before begin; limit must be positive")
        wanted = {int(t) for t in request.query.getall("type", []) if t.strip().isdigit()}
        now_ms = int(self._now().timestamp() * 1000)
        items: list[JSONObject] = []
        if mac in DEVICES:
            for stamp, values in samples(mac, begin, min(end, now_ms), now_ms=now_ms):
                for type_id, value in values:
                    if not wanted or type_id in wanted:
                        items.append({"type": type_id, "timestamp": stamp, "data": value})
                if len(items) >= limit:
                    break
        return json_response(items[:limit], headers={"X-AIR-Token": str(mac)})

    async def sensor_types(self, request: web.Request) -> web.Response:
        return json_response(list(CATALOGUE))


@web.middleware
async def _bad_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _BadRequest as err:
        return _error(400, str(err))


def add_routes(app: web.Application, state: SandboxState) -> None:
    """Mount the REST API on `app` (the vendor's subapp; paths as below `/rest` on the real
    host)."""
    sandbox = AretasSandbox(state)
    app[SANDBOX_KEY] = sandbox
    handlers = _Handlers(sandbox)
    app.middlewares.append(_bad_requests)
    app.router.add_routes(
        [
            web.post("/authentication/j", handlers.login_json),
            web.get("/authentication/g", handlers.login_get),
            web.get("/greetings/isloggedin", handlers.is_logged_in),
            web.get("/client/locationview", handlers.location_view),
            web.post("/sensorreport/latest", handlers.latest),
            web.get("/sensordata/byrange", handlers.byrange),
            web.get("/sensortype/list", handlers.sensor_types),
        ]
    )
