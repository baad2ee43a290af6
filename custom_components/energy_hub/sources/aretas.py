"""Aretas battery storage: every reported type, energy counters and the usable capacity.

Aretas is a generic IoT platform: what a device's readings mean (label, unit) comes from the
sensor-type catalogue at run time, so each reported type becomes a sensor named and measured
as the catalogue says (a type the catalogue does not list still gets a sensor, raw value).

The battery's power comes from the type whose catalogue unit is a power; a device without
one but with a voltage and a current type gets power = voltage x current, joined on the
timestamp (the BESS notebook's method). Values that are not readings (sentinels such as 65535,
values outside the catalogue's range) are dropped before anything uses them.

Requests, one per update:
- ``sensordata/byrange`` once a minute for the samples from the last one held. The newest
  valid sample of each type is the sensor's value while it is recent: no older than three of
  that type's reporting intervals (the median spacing of its last 8 timestamps), at least 5
  minutes, at most 3 hours, an hour while the interval is unknown; older, the sensor is
  unavailable (:func:`stale_limit`). The battery's power (W) follows the same rule. The power
  samples are integrated with the trapezoidal rule into energy charged and discharged (split
  at the zero crossing), bridging gaps up to the ``max_gap_minutes`` option (60 by default);
  a longer gap adds nothing and counts as uncovered time (the counters'
  ``uncovered_minutes_today`` attribute: minutes since local midnight, Home Assistant's time
  zone, inside gaps that were not bridged). The last sample and the counters are persisted,
  so after a restart integration continues from that sample. A sample that arrives after a
  later one is not taken by the counters (they already bridged it); the statistics take it.
- the first update after a restart asks ``sensorreport/latest`` instead (every type's value);
- the catalogue and the account tree once a day (the catalogue needs no login);
- the statistics once an hour: the hours of the last :data:`REREAD` are computed again from a
  fresh read (one request), so samples that arrive late land in their hour; older hours come
  from memory (the first run: the whole backfill, one request per 6 hours). An hour no
  integrated pair of samples overlaps has no row (never a 0 kWh row).
The usable capacity is estimated from each discharge run: the energy it gave divided by the
SoC it dropped (a run counts when it dropped the SoC at least 20 points with no gap).

Signs are Energy Hub's (the client's): power and current + discharging, - charging.
"""

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import itertools
import statistics
from typing import Any, ClassVar, Final

import aiohttp
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..api.aretas import (
    BYRANGE_WINDOW,
    DEFAULT_BASE_URL,
    AretasClient,
    AretasDevice,
    AretasReading,
    EnergySplit,
    SensorCatalogue,
    integrate_power,
    join_power,
)
from .base import (
    DeviceSpec,
    EntrySpec,
    FlowError,
    HistorySeries,
    Reading,
    StatisticSpec,
    advanced_section,
    entry_base_url,
    floor_hour,
    secret_selector,
    username_selector,
    whole_selector,
)
from .battery import (
    CONF_HISTORY_DAYS,
    DEFAULT_HISTORY_DAYS,
    HOUR,
    BatterySource,
    counters_from,
    whole_option,
)

KEY = "aretas"
DEVICE_STEP = "aretas_device"
CONF_MAC = "mac"
CONF_NAME = "name"
#: Longest gap between two power samples that is bridged (minutes).
CONF_MAX_GAP = "max_gap_minutes"
DEFAULT_MAX_GAP_MINUTES = 60
MIN_MAX_GAP_MINUTES = 5
MAX_MAX_GAP_MINUTES = 240

POLL = timedelta(minutes=1)
DAILY = timedelta(days=1)
#: After a long downtime, integrate at most this far back.
MAX_CATCH_UP = timedelta(days=2)
HISTORY_DELAY = timedelta(minutes=10)
#: Each history run computes this much before the last complete hour again from a fresh read.
REREAD = timedelta(days=1)
#: A reading older than this many of its type's reporting intervals is not "now" ...
STALE_INTERVALS = 3
#: ... but never sooner than this (a minute's polling) nor later than STALE_MAX.
STALE_MIN = timedelta(minutes=5)
STALE_MAX = timedelta(hours=3)
#: Before a type's interval is known (a single reading held): stale after an hour.
STALE_UNKNOWN = timedelta(hours=1)
#: Timestamps kept per type to estimate its reporting interval.
RECENT_STAMPS = 8
#: Uncovered stretches are kept this long (the attribute counts today's).
UNCOVERED_KEPT = timedelta(days=2)
#: Below this the battery is idle: it neither starts nor ends a run.
DEAD_BAND_W = 100.0
#: A run must move the SoC this many points to estimate the capacity from it.
MIN_SOC_SWING = 20.0
#: The state of charge's type when the catalogue names none (Aretas' EV battery SoC).
FALLBACK_SOC_TYPE = 514
COUNTERS: Final = ("battery_charged_energy", "battery_discharged_energy")


def power_type(catalogue: SensorCatalogue, reported: Iterable[int]) -> int | None:
    """The first reported type whose catalogue unit is a power."""
    for type_id in sorted(reported):
        found = catalogue.get(type_id)
        if found is not None and found.quantity == "power":
            return type_id
    return None


def _first_of(catalogue: SensorCatalogue, reported: Iterable[int], quantity: str) -> int | None:
    for type_id in sorted(reported):
        found = catalogue.get(type_id)
        if found is not None and found.quantity == quantity:
            return type_id
    return None


@dataclass(frozen=True, slots=True)
class PowerPlan:
    """Where the battery's power comes from: a power type, or voltage x current."""

    power: int | None = None
    voltage: int | None = None
    current: int | None = None

    @property
    def types(self) -> tuple[int, ...]:
        """The types to read for the power."""
        found = (self.power,) if self.power is not None else (self.voltage, self.current)
        return tuple(t for t in found if t is not None)

    @property
    def pace(self) -> int:
        """The type whose reporting interval is the power's."""
        return self.types[-1]


def power_plan(catalogue: SensorCatalogue, reported: Iterable[int]) -> PowerPlan | None:
    """The reported power type; else the lowest-numbered voltage and current types (Aretas
    reports two battery currents, 516 and 517: the first is taken); else None."""
    reported = set(reported)
    if (ptype := power_type(catalogue, reported)) is not None:
        return PowerPlan(power=ptype)
    voltage = _first_of(catalogue, reported, "voltage")
    current = _first_of(catalogue, reported, "current")
    if voltage is None or current is None:
        return None
    return PowerPlan(voltage=voltage, current=current)


def power_points(
    catalogue: SensorCatalogue, plan: PowerPlan, readings: Iterable[AretasReading]
) -> list[tuple[datetime, float]]:
    """The battery's power (W, + discharging) at each timestamp it can be had from valid
    readings, sorted by time."""

    def series(type_id: int | None) -> list[tuple[datetime, float]]:
        found = catalogue.get(type_id) if type_id is not None else None
        scale = found.scale if found else None
        if scale is None:
            return []
        return [
            (r.timestamp, r.value * scale)
            for r in readings
            if r.type_id == type_id and r.value is not None and catalogue.accepts(type_id, r.value)
        ]

    if plan.power is not None:
        points = series(plan.power)
        ones = [(when, 1.0) for when, _ in points]
        return join_power(points, ones)  # same dedup rule as voltage x current
    return join_power(series(plan.voltage), series(plan.current))


def soc_type(catalogue: SensorCatalogue, reported: Iterable[int]) -> int | None:
    """The reported type the catalogue calls a state of charge (in %), else 514."""
    reported = set(reported)
    for type_id in sorted(reported):
        found = catalogue.get(type_id)
        label = (found.label or "").lower() if found else ""
        if found and found.quantity == "percent" and ("soc" in label or "state of charge" in label):
            return type_id
    return FALLBACK_SOC_TYPE if FALLBACK_SOC_TYPE in reported else None


def hourly_energy(
    points: Iterable[tuple[datetime, float]], first: datetime, end: datetime, max_gap: timedelta
) -> dict[datetime, EnergySplit]:
    """Energy charged and discharged per UTC hour in [first, end) by the trapezoidal rule,
    bridging pairs of samples up to ``max_gap`` apart; a pair across an hour boundary is split
    there by linear interpolation. Only hours some bridged pair overlaps are returned: an hour
    without coverage is missing, never 0."""
    points = sorted(points, key=lambda point: point[0])
    sums: dict[datetime, list[float]] = {}
    for (t0, p0), (t1, p1) in itertools.pairwise(points):
        if t1 <= t0 or t1 - t0 > max_gap or t1 <= first or t0 >= end:
            continue
        cuts = [(t0, p0)]
        boundary = floor_hour(t0) + HOUR
        while boundary < t1:
            cuts.append((boundary, p0 + (p1 - p0) * ((boundary - t0) / (t1 - t0))))
            boundary += HOUR
        cuts.append((t1, p1))
        for a, b in itertools.pairwise(cuts):
            hour = floor_hour(a[0])
            if not first <= hour < end:
                continue
            part = integrate_power([a, b], max_gap=max_gap)
            total = sums.setdefault(hour, [0.0, 0.0, 0.0])
            total[0] += part.charged_kwh
            total[1] += part.discharged_kwh
            total[2] += part.covered.total_seconds()
    return {
        hour: EnergySplit(c, d, timedelta(seconds=s))
        for hour, (c, d, s) in sorted(sums.items())
        if s > 0
    }


def stale_limit(stamps: Iterable[datetime]) -> timedelta:
    """How old a reading may be and still be "now": three of its type's reporting intervals
    (the median spacing of its recent timestamps), 5 minutes to 3 hours; an hour while the
    interval is not known."""
    spacing = [(b - a).total_seconds() for a, b in itertools.pairwise(sorted(set(stamps)))]
    if not spacing:
        return STALE_UNKNOWN
    interval = timedelta(seconds=statistics.median(spacing))
    return max(STALE_MIN, min(STALE_MAX, interval * STALE_INTERVALS))


@dataclass(slots=True)
class CapacityTracker:
    """Charge and discharge runs: a discharge run's energy over the SoC it dropped gives the
    usable capacity (the notebook's capacity = discharged kWh / SoC drop)."""

    direction: int = 0  # +1 discharging, -1 charging, 0 none yet
    start_soc: float | None = None
    end_soc: float | None = None
    energy_kwh: float = 0.0
    clean: bool = True
    estimate_kwh: float | None = None

    def step(
        self, power: float, soc: float | None, charged: float, discharged: float, gap: bool
    ) -> None:
        """One power sample (W), the SoC then, and the energy since the previous sample."""
        sign = 0 if abs(power) < DEAD_BAND_W else (1 if power > 0 else -1)
        if sign and sign != self.direction:
            self._close()
            self.direction, self.start_soc, self.energy_kwh, self.clean = sign, soc, 0.0, True
            self.end_soc = soc
            return
        if self.direction:
            self.energy_kwh += discharged if self.direction > 0 else charged
            self.clean &= not gap and soc is not None
            if soc is not None:
                self.end_soc = soc

    def _close(self) -> None:
        if self.direction <= 0 or not self.clean:
            return
        if self.start_soc is None or self.end_soc is None:
            return
        swing = self.start_soc - self.end_soc
        if swing >= MIN_SOC_SWING:
            self.estimate_kwh = self.energy_kwh / swing * 100

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "start_soc": self.start_soc,
            "end_soc": self.end_soc,
            "energy_kwh": self.energy_kwh,
            "clean": self.clean,
            "estimate_kwh": self.estimate_kwh,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CapacityTracker:
        def number(key: str) -> float | None:
            value = raw.get(key)
            return float(value) if isinstance(value, int | float) else None

        return cls(
            direction=int(raw.get("direction") or 0),
            start_soc=number("start_soc"),
            end_soc=number("end_soc"),
            energy_kwh=number("energy_kwh") or 0.0,
            clean=bool(raw.get("clean", True)),
            estimate_kwh=number("estimate_kwh"),
        )


@dataclass(slots=True)
class AretasData:
    """What the source holds: the catalogue, the device and the newest value of each type."""

    catalogue: SensorCatalogue
    device: AretasDevice | None
    latest: dict[int, AretasReading] = field(default_factory=dict)
    retrieved: datetime | None = None
    #: Every type the device has sent, a valid reading or not (the newest may be a sentinel).
    reported: set[int] = field(default_factory=set)

    @property
    def types(self) -> set[int]:
        """The types the device reports."""
        return self.reported | set(self.latest)


def _client(session: aiohttp.ClientSession, data: Mapping[str, Any]) -> AretasClient:
    return AretasClient(
        session,
        str(data[CONF_USERNAME]),
        str(data[CONF_PASSWORD]),
        base_url=entry_base_url(KEY, DEFAULT_BASE_URL, data),
    )


def _device_name(device: AretasDevice) -> str:
    return device.description or f"Device {device.mac}"


class AretasSource(BatterySource[AretasData, AretasClient]):
    """One Aretas device (the battery): a sensor per reported type, counters, capacity."""

    key: ClassVar[str] = KEY
    flow_steps: ClassVar[tuple[str, ...]] = (KEY, DEVICE_STEP)
    default_options: ClassVar[Mapping[str, Any]] = {
        CONF_HISTORY_DAYS: DEFAULT_HISTORY_DAYS,
        CONF_MAX_GAP: DEFAULT_MAX_GAP_MINUTES,
    }
    counter_keys: ClassVar[tuple[str, ...]] = COUNTERS
    choice_step: ClassVar[str] = DEVICE_STEP
    choice_field: ClassVar[str] = CONF_MAC
    choices_key: ClassVar[str] = "devices"
    none_found: ClassVar[str] = "no_devices"
    not_found: ClassVar[str] = "device_not_found"
    confirm_single: ClassVar[bool] = True
    history_delay: ClassVar[timedelta] = HISTORY_DELAY

    def setup(self) -> None:
        """The device, the longest gap bridged; no sample held until restored."""
        super().setup()
        self.mac = int(self.data[CONF_MAC])
        self.name = str(self.data.get(CONF_NAME) or self.mac)
        self.max_gap = timedelta(minutes=int(self.options[CONF_MAX_GAP]))
        #: The last power sample integrated (time, W).
        self.last_point: tuple[datetime, float | None] | None = None
        #: Stretches between two power samples further apart than ``max_gap``: not counted.
        self.uncovered: list[tuple[datetime, datetime]] = []
        #: Recent timestamps of each type (its reporting interval, for staleness).
        self._stamps: dict[int, list[datetime]] = {}
        #: The newest sample time held (all types).
        self.held_until: datetime | None = None
        self.capacity = CapacityTracker()
        self._soc: float | None = None
        self._catalogue_at: datetime | None = None
        self._device_at: datetime | None = None
        #: Energy per hour computed for the statistics; None: computed, not covered.
        self._hours: dict[datetime, EnergySplit | None] = {}

    # --- config flow -------------------------------------------------------------------
    @classmethod
    def build_client(cls, session: aiohttp.ClientSession, data: Mapping[str, Any]) -> AretasClient:
        """Aretas' client for the account."""
        return _client(session, data)

    @classmethod
    async def list_batteries(cls, client: AretasClient) -> dict[str, str]:
        """The account's devices by MAC."""
        account = await client.location_view()
        return {str(device.mac): _device_name(device) for device in account.devices}

    @classmethod
    def choice_labels(cls, batteries: Mapping[str, str]) -> dict[str, str]:
        """Each device by name and MAC."""
        return {mac: f"{name} ({mac})" for mac, name in batteries.items()}

    @classmethod
    def login_schema(cls) -> vol.Schema:
        """Username and password."""
        return vol.Schema(
            {
                vol.Required(CONF_USERNAME): username_selector(email=False),
                vol.Required(CONF_PASSWORD): secret_selector(),
                **advanced_section(),
            }
        )

    @classmethod
    def credentials(cls, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """The password as typed."""
        return {CONF_PASSWORD: str(user_input.get(CONF_PASSWORD, ""))}

    @classmethod
    def credential_updates(cls, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """A new password (not empty)."""
        password = str(user_input.get(CONF_PASSWORD) or "")
        if not password:
            raise FlowError("invalid_credentials", CONF_PASSWORD)
        return {CONF_PASSWORD: password}

    @classmethod
    def entry(cls, data: dict[str, Any], battery: str, name: str) -> EntrySpec:
        """The device's entry."""
        return EntrySpec(
            title=name,
            unique_id=f"{KEY}_{battery}",
            data={**data, CONF_MAC: int(battery), CONF_NAME: name},
        )

    @classmethod
    def battery_of(cls, data: Mapping[str, Any]) -> str:
        """The entry's device."""
        return str(int(data[CONF_MAC]))

    @classmethod
    def credentials_schema(cls) -> vol.Schema:
        """A new password."""
        return vol.Schema({vol.Optional(CONF_PASSWORD): secret_selector()})

    @classmethod
    def options_schema(cls) -> vol.Schema:
        """How many days of history the first import goes back; the longest gap bridged."""
        gap = whole_selector(MIN_MAX_GAP_MINUTES, MAX_MAX_GAP_MINUTES, "min")
        return super().options_schema().extend({vol.Required(CONF_MAX_GAP): gap})

    @classmethod
    def validate_options(cls, user_input: dict[str, Any]) -> dict[str, Any]:
        """Whole days, 1 to 90; whole minutes, 5 to 240."""
        return super().validate_options(user_input) | {
            CONF_MAX_GAP: whole_option(
                user_input,
                CONF_MAX_GAP,
                DEFAULT_MAX_GAP_MINUTES,
                MIN_MAX_GAP_MINUTES,
                MAX_MAX_GAP_MINUTES,
            ),
        }

    # --- state across restarts ---------------------------------------------------------
    def persist(self) -> Mapping[str, Any]:
        """Counters, the last power sample, and the capacity runs."""
        point = self.last_point
        return {
            "counters": dict(self.counters),
            "last_point": [point[0].isoformat(), point[1]] if point else None,
            "soc": self._soc,
            "capacity": self.capacity.to_dict(),
            "uncovered": [[a.isoformat(), b.isoformat()] for a, b in self.uncovered],
        }

    def restore(self, stored: Mapping[str, Any]) -> None:
        """Take the counters back and continue integrating from the last sample."""
        try:
            self.counters = counters_from(stored.get("counters") or {}, COUNTERS)
            if point := stored.get("last_point"):
                value = point[1]
                self.last_point = (
                    datetime.fromisoformat(point[0]),
                    float(value) if isinstance(value, int | float) else None,
                )
                self.held_until = self.last_point[0]
            soc = stored.get("soc")
            self._soc = float(soc) if isinstance(soc, int | float) else None
            self.capacity = CapacityTracker.from_dict(stored.get("capacity") or {})
            self.uncovered = [
                (datetime.fromisoformat(a), datetime.fromisoformat(b))
                for a, b in stored.get("uncovered") or []
            ]
        except AttributeError, IndexError, TypeError, ValueError:
            self.counters = dict.fromkeys(COUNTERS, 0.0)
            self.last_point = self.held_until = None
            self.capacity = CapacityTracker()
            self.uncovered = []

    # --- runtime -----------------------------------------------------------------------
    async def async_update(self, previous: AretasData | None, now: datetime) -> AretasData:
        """New samples from the last held (the latest values on a fresh start)."""
        data = previous or AretasData(catalogue=SensorCatalogue(), device=None)
        if self._catalogue_at is None or now - self._catalogue_at >= DAILY:
            data.catalogue = await self.client.sensor_types(refresh=True)
            self._catalogue_at = now
        if self._device_at is None or now - self._device_at >= DAILY:
            account = await self.client.location_view()
            data.device = account.device(self.mac) or data.device
            self._device_at = now
        if self.held_until is None:
            latest = await self.client.latest(self.mac)
            newest = max((r.timestamp for r in latest.values()), default=None)
            self.held_until = newest or now
            data.reported |= set(latest)
            valid = [r for r in latest.values() if data.catalogue.accepts(r.type_id, r.value)]
            for reading in valid:
                data.latest[reading.type_id] = reading
                self._note_stamp(reading)
            plan = power_plan(data.catalogue, data.types)
            points = power_points(data.catalogue, plan, valid) if plan else []
            if points and self.last_point is None:
                self.last_point = points[-1]
            stype = soc_type(data.catalogue, data.types)
            if stype is not None and stype in data.latest:
                self._soc = data.latest[stype].value
        else:
            # From the last sample held, inclusive: a type of that instant that had not arrived
            # yet still joins it.
            start = max(self.held_until, now - MAX_CATCH_UP)
            fresh = await self.client.readings(self.mac, start, now) if start < now else []
            self._take(data, fresh)
        data.retrieved = now
        return data

    def _note_stamp(self, reading: AretasReading) -> None:
        stamps = self._stamps.setdefault(reading.type_id, [])
        if reading.timestamp not in stamps:
            stamps.append(reading.timestamp)
            stamps.sort()
            del stamps[:-RECENT_STAMPS]

    def _take(self, data: AretasData, fresh: list[AretasReading]) -> None:
        """Newest valid values, then integrate the new power samples in time order."""
        valid: list[AretasReading] = []
        data.reported |= {reading.type_id for reading in fresh}
        for reading in fresh:
            if self.held_until is None or reading.timestamp > self.held_until:
                self.held_until = reading.timestamp
            if not data.catalogue.accepts(reading.type_id, reading.value):
                continue  # a sentinel or out of range: not a reading
            valid.append(reading)
            self._note_stamp(reading)
            known = data.latest.get(reading.type_id)
            if known is None or reading.timestamp >= known.timestamp:
                data.latest[reading.type_id] = reading
        plan = power_plan(data.catalogue, data.types)
        stype = soc_type(data.catalogue, data.types)
        if plan is None:
            return
        powers = dict(power_points(data.catalogue, plan, valid))
        socs = {r.timestamp: r.value for r in valid if r.type_id == stype}
        for when in sorted(powers.keys() | socs.keys()):
            if (soc := socs.get(when)) is not None:
                self._soc = soc
            if when not in powers:
                continue
            point = (when, powers[when])
            previous = self.last_point
            if previous is not None and point[0] <= previous[0]:
                continue  # held already, or arrived after a later one: bridged already
            self.last_point = point
            if previous is None:
                continue
            self._integrate(previous, point)

    def _integrate(
        self, previous: tuple[datetime, float | None], point: tuple[datetime, float]
    ) -> None:
        """Add the energy between two power samples, or count the stretch as uncovered."""
        gap = previous[1] is None or point[0] - previous[0] > self.max_gap
        if gap:
            self.uncovered.append((previous[0], point[0]))
            self.uncovered = [u for u in self.uncovered if u[1] > point[0] - UNCOVERED_KEPT]
            energy = EnergySplit(0.0, 0.0, timedelta(0))
        else:
            energy = integrate_power([previous, point], max_gap=self.max_gap)
        self.counters["battery_charged_energy"] += energy.charged_kwh
        self.counters["battery_discharged_energy"] += energy.discharged_kwh
        self.capacity.step(point[1], self._soc, energy.charged_kwh, energy.discharged_kwh, gap=gap)

    def stale_after(self, type_id: int) -> timedelta:
        """How old the newest reading of ``type_id`` may be and still be "now"."""
        return stale_limit(self._stamps.get(type_id, ()))

    def uncovered_minutes(self, since: datetime, now: datetime) -> float:
        """Minutes between ``since`` and ``now`` inside gaps that were not bridged."""
        seconds = sum(
            max(0.0, (min(end, now) - max(start, since)).total_seconds())
            for start, end in self.uncovered
        )
        return round(seconds / 60, 1)

    def next_update(self, data: AretasData, now: datetime) -> datetime:
        """A minute on."""
        return now + POLL

    def devices(self, data: AretasData) -> list[DeviceSpec]:
        """The battery."""
        device = data.device
        return [
            DeviceSpec(
                key=str(self.mac),
                name=(device.description if device and device.description else self.name),
                manufacturer="Aretas",
                model="Battery storage",
                serial_number=str(self.mac),
                configuration_url="https://iot.aretas.ca/",
            )
        ]

    def readings(self, data: AretasData, now: datetime) -> list[Reading]:
        """A reading per reported type (name and unit from the catalogue; unavailable once
        stale), the battery's power, the counters, the capacity estimate."""
        device = str(self.mac)
        out: list[Reading] = []
        for type_id, reading in sorted(data.latest.items()):
            found = data.catalogue.get(type_id)
            fresh = now - reading.timestamp <= self.stale_after(type_id)
            out.append(
                Reading(
                    metric="device_reading",
                    device=device,
                    variant=str(type_id),
                    label=(found.label if found and found.label else f"Type {type_id}"),
                    unit=found.units if found else None,
                    value=reading.value if fresh else None,
                    attributes={"type": type_id, "measured_at": reading.timestamp},
                )
            )
        plan = power_plan(data.catalogue, data.types)
        point = self.last_point
        if plan is not None:
            fresh = point is not None and now - point[0] <= self.stale_after(plan.pace)
            out.append(
                Reading(
                    metric="battery_power",
                    device=device,
                    value=round(point[1], 1) if fresh and point and point[1] is not None else None,
                    attributes={"measured_at": point[0] if point else None},
                )
            )
        powered = point is not None
        midnight = dt_util.start_of_local_day(dt_util.as_local(now))
        attributes = {
            "uncovered_minutes_today": self.uncovered_minutes(midnight, now),
            "integrated_until": point[0] if point else None,
        }
        out += self.counter_readings(device, attributes, available=powered)
        estimate = self.capacity.estimate_kwh
        out.append(
            Reading(
                metric="estimated_capacity",
                device=device,
                value=round(estimate, 3) if estimate is not None else None,
            )
        )
        out.append(Reading(metric="last_retrieved", device=device, value=data.retrieved))
        return out

    # --- history -----------------------------------------------------------------------
    def statistic_specs(self, data: AretasData) -> list[StatisticSpec]:
        """Energy charged and discharged: ``energy_hub:aretas_<mac>_<counter>``."""
        if power_plan(data.catalogue, data.types) is None:
            return []
        names = {
            "battery_charged_energy": f"Aretas {self.name} energy charged",
            "battery_discharged_energy": f"Aretas {self.name} energy discharged",
        }
        return self.counter_statistics(str(self.mac), names)

    async def async_history(
        self, data: AretasData, since: datetime, now: datetime
    ) -> AsyncIterator[HistorySeries]:
        """Complete UTC hours from ``since`` with energy, integrated from the power samples.

        The last :data:`REREAD` is read again on every run (samples that arrive late correct
        their hour, and an hour whose last pair had not arrived is completed); hours before it
        already computed are not asked for again. Hours without coverage are left out.
        """
        plan = power_plan(data.catalogue, data.types)
        end = floor_hour(now)
        if plan is None or end <= since:
            return
        reread = max(since, end - REREAD)
        first = since
        while first < reread and first in self._hours:
            first += HOUR
        # A gap's worth either side: the pairs across the first and last boundaries count.
        begin, until = first - self.max_gap, end + self.max_gap
        window = until - begin if end - first <= REREAD else BYRANGE_WINDOW
        raw = await self.client.readings(
            self.mac, begin, min(until, now), types=plan.types, window=window
        )
        valid = [r for r in raw if data.catalogue.accepts(r.type_id, r.value)]
        computed = hourly_energy(
            power_points(data.catalogue, plan, valid), first, end, self.max_gap
        )
        hour = first
        while hour < end:
            self._hours[hour] = computed.get(hour)
            hour += HOUR
        for old in [h for h in self._hours if h < now - self.history_horizon - DAILY]:
            del self._hours[old]
        held = {h: v for h, v in sorted(self._hours.items()) if since <= h < end and v is not None}
        for spec, key in zip(self.statistic_specs(data), COUNTERS, strict=True):
            yield HistorySeries(
                spec=spec,
                hours={
                    h: round(v.charged_kwh if key == COUNTERS[0] else v.discharged_kwh, 6)
                    for h, v in held.items()
                },
            )

    def diagnostics(self, data: AretasData | None) -> dict[str, Any]:
        """Types seen, counters and the capacity runs."""
        return {
            "types": sorted(data.types) if data else [],
            "power_from": (
                list(plan.types)
                if data and (plan := power_plan(data.catalogue, data.types))
                else None
            ),
            "max_gap_minutes": int(self.max_gap.total_seconds() // 60),
            "uncovered_stretches": len(self.uncovered),
            "catalogue_types": len(data.catalogue) if data else 0,
            "counters": {k: round(v, 3) for k, v in self.counters.items()},
            "capacity": self.capacity.to_dict(),
            "logins": self.client.login_count,
        }
