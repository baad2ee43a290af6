"""Aretas battery storage: every reported type, energy counters and the usable capacity.

Aretas is a generic IoT platform: what a device's readings mean (label, unit) comes from the
sensor-type catalogue at run time, so each reported type becomes a sensor named and measured
as the catalogue says (a type the catalogue does not list still gets a sensor, raw value).

Requests, one per update:
- ``sensordata/byrange`` once a minute for the samples since the last one held. The newest
  sample of each type is the sensor's value; the power samples (the type whose catalogue unit
  is a power) are integrated with the trapezoidal rule into energy charged and discharged,
  never bridging a gap longer than 10 minutes. The last sample and the counters are persisted,
  so after a restart integration continues from that sample.
- the first update after a restart asks ``sensorreport/latest`` instead (every type's value);
- the catalogue and the account tree once a day (the catalogue needs no login);
- the statistics once an hour: the power samples of the hours not held yet (the first run:
  the whole backfill, one request per 6 hours).
The usable capacity is estimated from each charge or discharge run: its energy divided by
the SoC it moved (a run counts when it moved the SoC at least 20 points with no gap).

Signs are Energy Hub's (the client's): power and current + discharging, - charging.
"""

from bisect import bisect_left, bisect_right
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import itertools
from typing import Any, ClassVar, Final

import aiohttp
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
import voluptuous as vol

from ..api.aretas import (
    DEFAULT_BASE_URL,
    MAX_GAP,
    AretasAccount,
    AretasClient,
    AretasDevice,
    AretasReading,
    SensorCatalogue,
    integrate_power,
)
from ..api.errors import ApiAuthError, ApiError
from ..const import CONF_SOURCE
from .base import (
    DeviceSpec,
    EntrySpec,
    FlowError,
    FormSpec,
    HistorySeries,
    Reading,
    Source,
    StatisticSpec,
    advanced_data,
    advanced_section,
    configured_base_url,
    days_selector,
    resolve_base_url,
    secret_selector,
)

KEY = "aretas"
DEVICE_STEP = "aretas_device"
CONF_MAC = "mac"
CONF_NAME = "name"
CONF_HISTORY_DAYS = "history_days"
DEFAULT_HISTORY_DAYS = 7
MAX_HISTORY_DAYS = 90

POLL = timedelta(minutes=1)
DAILY = timedelta(days=1)
#: After a long downtime, integrate at most this far back.
MAX_CATCH_UP = timedelta(days=2)
HOUR = timedelta(hours=1)
HISTORY_DELAY = timedelta(minutes=10)
#: Below this the battery is idle: it neither starts nor ends a run.
DEAD_BAND_W = 100.0
#: A run must move the SoC this many points to estimate the capacity from it.
MIN_SOC_SWING = 20.0
#: The state of charge's type when the catalogue names none (Aretas' EV battery SoC).
FALLBACK_SOC_TYPE = 514
COUNTERS: Final = ("battery_charged_energy", "battery_discharged_energy")


def floor_hour(when: datetime) -> datetime:
    """The start of the UTC hour holding ``when``."""
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def power_type(catalogue: SensorCatalogue, reported: Iterable[int]) -> int | None:
    """The first reported type whose catalogue unit is a power."""
    for type_id in sorted(reported):
        found = catalogue.get(type_id)
        if found is not None and found.quantity == "power":
            return type_id
    return None


def soc_type(catalogue: SensorCatalogue, reported: Iterable[int]) -> int | None:
    """The reported type the catalogue calls a state of charge (in %), else 514."""
    reported = set(reported)
    for type_id in sorted(reported):
        found = catalogue.get(type_id)
        label = (found.label or "").lower() if found else ""
        if found and found.quantity == "percent" and ("soc" in label or "state of charge" in label):
            return type_id
    return FALLBACK_SOC_TYPE if FALLBACK_SOC_TYPE in reported else None


def _watts(catalogue: SensorCatalogue, type_id: int, value: float | None) -> float | None:
    found = catalogue.get(type_id)
    scale = found.scale if found else None
    return None if value is None or scale is None else value * scale


def hourly_energy(
    points: list[tuple[datetime, float | None]], first: datetime, end: datetime
) -> dict[datetime, tuple[float, float]]:
    """(charged, discharged) kWh per UTC hour in [first, end) by the trapezoidal rule; a pair
    across an hour boundary is split there by linear interpolation."""
    points = sorted(points, key=lambda point: point[0])
    split: list[tuple[datetime, float | None]] = []
    for (t0, p0), (t1, p1) in itertools.pairwise(points):
        split.append((t0, p0))
        if p0 is None or p1 is None or t1 - t0 > MAX_GAP:
            continue
        boundary = floor_hour(t0) + HOUR
        while boundary < t1:
            share = (boundary - t0) / (t1 - t0)
            split.append((boundary, p0 + (p1 - p0) * share))
            boundary += HOUR
    if points:
        split.append(points[-1])
    times = [point[0] for point in split]
    out: dict[datetime, tuple[float, float]] = {}
    hour = first
    while hour < end:
        inside = split[bisect_left(times, hour) : bisect_right(times, hour + HOUR)]
        energy = integrate_power(inside)
        out[hour] = (energy.charged_kwh, energy.discharged_kwh)
        hour += HOUR
    return out


@dataclass(slots=True)
class CapacityTracker:
    """Charge and discharge runs: energy over the SoC they moved gives the usable capacity."""

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
        if not self.direction or not self.clean:
            return
        if self.start_soc is None or self.end_soc is None:
            return
        swing = abs(self.end_soc - self.start_soc)
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


def _client(session: aiohttp.ClientSession, data: Mapping[str, Any]) -> AretasClient:
    return AretasClient(
        session,
        str(data[CONF_USERNAME]),
        str(data[CONF_PASSWORD]),
        base_url=resolve_base_url(KEY, DEFAULT_BASE_URL, configured_base_url(data)),
    )


async def _account(client: AretasClient) -> AretasAccount:
    try:
        account = await client.location_view()
    except ApiAuthError as err:
        raise FlowError("invalid_credentials") from err
    except ApiError as err:
        raise FlowError("cannot_connect") from err
    if not account.devices:
        raise FlowError("no_devices")
    return account


def _device_name(device: AretasDevice) -> str:
    return device.description or f"Device {device.mac}"


class AretasSource(Source[AretasData]):
    """One Aretas device (the battery): a sensor per reported type, counters, capacity."""

    key: ClassVar[str] = KEY
    flow_steps: ClassVar[tuple[str, ...]] = (KEY, DEVICE_STEP)
    default_options: ClassVar[Mapping[str, Any]] = {CONF_HISTORY_DAYS: DEFAULT_HISTORY_DAYS}

    def __init__(
        self,
        session: aiohttp.ClientSession,
        data: Mapping[str, Any],
        options: Mapping[str, Any],
    ) -> None:
        """Client and the counters (zero until restored)."""
        super().__init__(session, data, options)
        self.client = _client(session, data)
        self.mac = int(data[CONF_MAC])
        self.name = str(data.get(CONF_NAME) or self.mac)
        self.history_horizon = timedelta(days=int(self.options[CONF_HISTORY_DAYS]))
        self.counters: dict[str, float] = dict.fromkeys(COUNTERS, 0.0)
        #: The last power sample integrated (time, W).
        self.last_point: tuple[datetime, float | None] | None = None
        #: The newest sample time held (all types).
        self.held_until: datetime | None = None
        self.capacity = CapacityTracker()
        self._soc: float | None = None
        self._catalogue_at: datetime | None = None
        self._device_at: datetime | None = None
        #: (charged, discharged) kWh per hour, computed for the statistics.
        self._hours: dict[datetime, tuple[float, float]] = {}

    # --- config flow -------------------------------------------------------------------
    @classmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        """Username and password; then the device."""
        if step_id == DEVICE_STEP:
            return FormSpec(
                step_id=step_id,
                schema=vol.Schema({vol.Required(CONF_MAC): selector.TextSelector()}),
            )
        return FormSpec(
            step_id=step_id,
            schema=vol.Schema(
                {
                    vol.Required(CONF_USERNAME): selector.TextSelector(
                        selector.TextSelectorConfig(autocomplete="username")
                    ),
                    vol.Required(CONF_PASSWORD): secret_selector(),
                    **advanced_section(),
                }
            ),
        )

    @classmethod
    async def async_flow_submit(
        cls,
        hass: HomeAssistant,
        session: aiohttp.ClientSession,
        step_id: str,
        user_input: dict[str, Any],
        state: dict[str, Any],
    ) -> EntrySpec | FormSpec:
        """Log in and list the devices; then the chosen device."""
        if step_id == DEVICE_STEP:
            devices: dict[str, str] = state["devices"]
            mac = str(user_input.get(CONF_MAC, "")).strip()
            if mac not in devices:
                raise FlowError("device_not_found", CONF_MAC)
            return EntrySpec(
                title=devices[mac],
                unique_id=f"{KEY}_{mac}",
                data={**state["data"], CONF_MAC: int(mac), CONF_NAME: devices[mac]},
            )
        data: dict[str, Any] = {
            CONF_SOURCE: KEY,
            CONF_USERNAME: str(user_input.get(CONF_USERNAME, "")).strip(),
            CONF_PASSWORD: str(user_input.get(CONF_PASSWORD, "")),
        }
        data |= advanced_data(user_input)
        account = await _account(_client(session, data))
        state["data"] = data
        state["devices"] = {str(d.mac): _device_name(d) for d in account.devices}
        return FormSpec(
            step_id=DEVICE_STEP,
            schema=vol.Schema(
                {
                    vol.Required(CONF_MAC): selector.SelectSelector(
                        selector.SelectSelectorConfig(
                            options=[
                                selector.SelectOptionDict(value=mac, label=f"{name} ({mac})")
                                for mac, name in state["devices"].items()
                            ]
                        )
                    )
                }
            ),
        )

    @classmethod
    def credentials_schema(cls) -> vol.Schema:
        """A new password."""
        return vol.Schema({vol.Optional(CONF_PASSWORD): secret_selector()})

    @classmethod
    async def async_credentials_submit(
        cls,
        hass: HomeAssistant,
        session: aiohttp.ClientSession,
        data: Mapping[str, Any],
        user_input: dict[str, Any],
    ) -> tuple[str, dict[str, Any]]:
        """The new password must open an account holding the same device."""
        password = str(user_input.get(CONF_PASSWORD) or "")
        if not password:
            raise FlowError("invalid_credentials", CONF_PASSWORD)
        account = await _account(_client(session, {**data, CONF_PASSWORD: password}))
        mac = int(data[CONF_MAC])
        found = mac if account.device(mac) else account.devices[0].mac
        return f"{KEY}_{found}", {CONF_PASSWORD: password}

    @classmethod
    def options_schema(cls) -> vol.Schema:
        """How many days of history the first import goes back."""
        return vol.Schema({vol.Required(CONF_HISTORY_DAYS): days_selector(MAX_HISTORY_DAYS)})

    @classmethod
    def validate_options(cls, user_input: dict[str, Any]) -> dict[str, Any]:
        """Whole days, 1 to 90."""
        days = int(user_input.get(CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS))
        return {CONF_HISTORY_DAYS: max(1, min(MAX_HISTORY_DAYS, days))}

    # --- state across restarts ---------------------------------------------------------
    def persist(self) -> Mapping[str, Any]:
        """Counters, the last power sample, and the capacity runs."""
        point = self.last_point
        return {
            "counters": dict(self.counters),
            "last_point": [point[0].isoformat(), point[1]] if point else None,
            "soc": self._soc,
            "capacity": self.capacity.to_dict(),
        }

    def restore(self, stored: Mapping[str, Any]) -> None:
        """Take the counters back and continue integrating from the last sample."""
        try:
            counters = stored.get("counters") or {}
            self.counters = {k: max(0.0, float(counters.get(k) or 0.0)) for k in COUNTERS}
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
        except AttributeError, IndexError, TypeError, ValueError:
            self.counters = dict.fromkeys(COUNTERS, 0.0)
            self.last_point = self.held_until = None
            self.capacity = CapacityTracker()

    # --- runtime -----------------------------------------------------------------------
    @property
    def request_count(self) -> int:
        """Requests made by this source's client."""
        return self.client.request_count

    async def async_update(self, previous: AretasData | None, now: datetime) -> AretasData:
        """New samples since the last held (the latest values on a fresh start)."""
        data = previous or AretasData(catalogue=SensorCatalogue(), device=None)
        if self._catalogue_at is None or now - self._catalogue_at >= DAILY:
            data.catalogue = await self.client.sensor_types(refresh=True)
            self._catalogue_at = now
        if self._device_at is None or now - self._device_at >= DAILY:
            account = await self.client.location_view()
            data.device = account.device(self.mac) or data.device
            self._device_at = now
        if self.held_until is None:
            data.latest = await self.client.latest(self.mac)
            newest = max((r.timestamp for r in data.latest.values()), default=None)
            self.held_until = newest or now
            ptype = power_type(data.catalogue, data.latest)
            if ptype is not None and ptype in data.latest:
                reading = data.latest[ptype]
                self.last_point = (
                    reading.timestamp,
                    _watts(data.catalogue, ptype, reading.value),
                )
            stype = soc_type(data.catalogue, data.latest)
            if stype is not None and stype in data.latest:
                self._soc = data.latest[stype].value
        else:
            start = max(self.held_until, now - MAX_CATCH_UP) + timedelta(milliseconds=1)
            fresh = await self.client.readings(self.mac, start, now) if start < now else []
            self._take(data, fresh)
        data.retrieved = now
        return data

    def _take(self, data: AretasData, fresh: list[AretasReading]) -> None:
        """Newest values, then integrate the new power samples in time order."""
        for reading in fresh:
            known = data.latest.get(reading.type_id)
            if known is None or reading.timestamp >= known.timestamp:
                data.latest[reading.type_id] = reading
            if self.held_until is None or reading.timestamp > self.held_until:
                self.held_until = reading.timestamp
        reported = {reading.type_id for reading in fresh} | set(data.latest)
        ptype = power_type(data.catalogue, reported)
        stype = soc_type(data.catalogue, reported)
        if ptype is None:
            return
        for reading in fresh:  # sorted by time, then type: SoC (514) comes before power
            if reading.type_id == stype and reading.value is not None:
                self._soc = reading.value
            if reading.type_id != ptype:
                continue
            point = (reading.timestamp, _watts(data.catalogue, ptype, reading.value))
            previous = self.last_point
            self.last_point = point
            if previous is None or point[0] <= previous[0]:
                continue
            energy = integrate_power([previous, point])
            self.counters["battery_charged_energy"] += energy.charged_kwh
            self.counters["battery_discharged_energy"] += energy.discharged_kwh
            if point[1] is not None:
                self.capacity.step(
                    point[1],
                    self._soc,
                    energy.charged_kwh,
                    energy.discharged_kwh,
                    gap=previous[1] is None or point[0] - previous[0] > MAX_GAP,
                )

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
        """A reading per reported type (name and unit from the catalogue), the counters,
        the capacity estimate."""
        device = str(self.mac)
        out: list[Reading] = []
        for type_id, reading in sorted(data.latest.items()):
            found = data.catalogue.get(type_id)
            out.append(
                Reading(
                    metric="device_reading",
                    device=device,
                    variant=str(type_id),
                    label=(found.label if found and found.label else f"Type {type_id}"),
                    unit=found.units if found else None,
                    value=reading.value,
                    attributes={"type": type_id, "measured_at": reading.timestamp},
                )
            )
        powered = self.last_point is not None
        out += [
            Reading(
                metric=key,
                device=device,
                value=round(self.counters[key], 6) if powered else None,
            )
            for key in COUNTERS
        ]
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
        if power_type(data.catalogue, data.latest) is None:
            return []
        names = {"battery_charged_energy": "charged", "battery_discharged_energy": "discharged"}
        return [
            StatisticSpec(
                key=f"{KEY}_{self.mac}_{key}",
                name=f"Aretas {self.name} energy {names[key]}",
                unit="kWh",
                unit_class="energy",
            )
            for key in COUNTERS
        ]

    async def async_history(
        self, data: AretasData, since: datetime, now: datetime
    ) -> AsyncIterator[HistorySeries]:
        """Complete UTC hours from ``since``, integrated from the power samples.

        Hours already held are not asked for again: an hourly run asks for the last hour,
        not the statistics' whole rewrite week.
        """
        ptype = power_type(data.catalogue, data.latest)
        end = floor_hour(now)
        if ptype is None or end <= since:
            return
        missing = since
        while missing < end and missing in self._hours:
            missing += HOUR
        if missing < end:
            # A little either side: the pairs across the first and last boundaries count.
            raw = await self.client.readings(
                self.mac, missing - MAX_GAP, end + MAX_GAP, types=[ptype]
            )
            points = [
                (r.timestamp, _watts(data.catalogue, ptype, r.value))
                for r in raw
                if r.type_id == ptype
            ]
            self._hours |= hourly_energy(points, missing, end)
        for old in [h for h in self._hours if h < now - self.history_horizon - DAILY]:
            del self._hours[old]
        held = {h: v for h, v in sorted(self._hours.items()) if since <= h < end}
        for index, spec in enumerate(self.statistic_specs(data)):
            yield HistorySeries(spec=spec, hours={h: round(v[index], 6) for h, v in held.items()})

    def next_history(self, now: datetime) -> datetime | None:
        """Once an hour, shortly after it ends."""
        return floor_hour(now) + HOUR + HISTORY_DELAY

    def diagnostics(self, data: AretasData | None) -> dict[str, Any]:
        """Types seen, counters and the capacity runs."""
        return {
            "types": sorted(data.latest) if data else [],
            "catalogue_types": len(data.catalogue) if data else 0,
            "counters": {k: round(v, 3) for k, v in self.counters.items()},
            "capacity": self.capacity.to_dict(),
            "logins": self.client.login_count,
        }
