"""Hoymiles S-Miles cloud: plants, their microinverters, DTUs, meters and batteries.

One entry is one account; it shows the plants chosen in the flow (or in the options).

Requests per plant (the cloud refreshes a plant about every 5 minutes and returns a whole plant
in one call, so nothing is asked per inverter), at most 400 a day:
- ``count_station_real_data`` when the next upload is due: 5 minutes after the last one's
  ``data_time`` (and not sooner than the update interval, 2 minutes at least). While a plant
  has not uploaded for 15 minutes, every 15 minutes at most. About 288 a day;
- ``micro/data/count_by_day`` (protobuf: every microinverter's power and temperature chart of
  the day, one request for all of them) every 15 minutes while the plant makes power, once
  more when it stops and once at start: about 65 a summer day, 35 in winter, none at night;
  never for a plant without microinverters. A failing chart never fails the plant's update;
- ``select_device_of_tree`` every hour: the devices and whether each is connected (24);
- ``station/find`` once per start (time zone, capacity); the account's plant list every 6
  hours (plants added later appear, removed ones go);
- statistics once a day: ``stat_g_a`` for the days' energy (one per month) and
  ``count_power_by_day`` (protobuf) for the shape of each day over its hours: the rewrite
  week (8) each night; on the first run, or for a plant added later, one per day of the
  backfill (a year: 365 + 13, once, in the background).
About 390 requests per microinverter plant on a summer day; a login lasts hours (about 3 a day,
the token is reused until the cloud rejects it).

Per microinverter the cloud has power and temperature only as a chart of the day (no lifetime
energy anywhere): the newest point is the current value while it is recent, "energy today" is
the area under the power chart (each point times the time to the next, at most the chart's
5-minute step: missed uploads are not filled in), and its lifetime counter adds up each day's
growth from when the entry was added (persisted).

Counters never go backwards: a lower lifetime total than the one held is ignored (logged at
debug), and "today" values go back to 0 only at the plant's local midnight. The battery's
charged and discharged energy are only given per day by the cloud: their lifetime counters add
up each day's increase (and are persisted).

Signs are Energy Hub's (the client's): battery + discharging, grid + importing.
"""

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import selector
import voluptuous as vol

from ..api.errors import (
    ApiAuthError,
    ApiClientOutdatedError,
    ApiError,
    ApiNotFoundError,
    ApiRateLimitedError,
    ApiResponseError,
)
from ..api.hoymiles import (
    DEFAULT_BASE_URL,
    QUOTA_POWER,
    QUOTA_TEMPERATURE,
    DeviceKind,
    HoymilesClient,
    HoymilesCurve,
    HoymilesDailyEnergy,
    HoymilesDevice,
    HoymilesDeviceTree,
    HoymilesMicroDay,
    HoymilesRealtime,
    HoymilesRefusedError,
    HoymilesStation,
    HoymilesStationDetails,
)
from ..const import CONF_SOURCE, DOMAIN, LOGGER
from .base import (
    CredentialsStep,
    DeviceSpec,
    EntrySpec,
    FlowError,
    FlowStep,
    FormSpec,
    HistorySeries,
    Reading,
    Source,
    StatisticSpec,
    advanced_data,
    advanced_section,
    days_selector,
    entry_base_url,
    secret_selector,
    username_selector,
    whole_selector,
)

KEY = "hoymiles"
PLANTS_STEP = "hoymiles_plants"
CONF_PLANTS = "plants"
CONF_SCAN_INTERVAL = "scan_interval"
CONF_HISTORY_DAYS = "history_days"
DEFAULT_SCAN_MINUTES = 5
MIN_SCAN_MINUTES = 2
MAX_SCAN_MINUTES = 60
DEFAULT_HISTORY_DAYS = 365
MAX_HISTORY_DAYS = 365

#: The cloud shows a new upload about this long after the previous one.
UPLOAD_INTERVAL: Final = timedelta(minutes=5)
#: Ask this long after an upload is expected (the cloud takes a moment to process it).
SETTLE: Final = timedelta(seconds=30)
#: A plant that has not uploaded for this long is asked at most this often.
STALE_AFTER: Final = timedelta(minutes=15)
STALE_INTERVAL: Final = timedelta(minutes=15)
TREE_INTERVAL: Final = timedelta(hours=1)
#: The account's plant list is read again this often: plants added later appear.
STATIONS_INTERVAL: Final = timedelta(hours=6)
#: The microinverters' chart is read at most this often (every third upload).
CHART_INTERVAL: Final = timedelta(minutes=15)
#: A chart's newest point is the current value for this long.
CHART_FRESH: Final = CHART_INTERVAL + STALE_AFTER
#: The statistics are updated this long after the plant's local midnight.
HISTORY_DELAY: Final = timedelta(hours=1)
DEFAULT_ZONE: Final = "Europe/Amsterdam"

STATUS_ONLINE: Final = "online"
STATUS_OFFLINE: Final = "offline"
STATUS_WARNING: Final = "warning"

_KIND_NAMES: Final = {
    DeviceKind.DTU: "DTU",
    DeviceKind.MICROINVERTER: "Microinverter",
    DeviceKind.HYBRID_INVERTER: "Hybrid inverter",
    DeviceKind.BATTERY: "Battery",
    DeviceKind.METER: "Meter",
    DeviceKind.UNKNOWN: "Device",
}


def hoymiles_base_url(data: Mapping[str, Any]) -> str:
    """The cloud's host, or the sandbox's ``<base>/hoymiles`` (or the flow's advanced URL)."""
    return entry_base_url(KEY, DEFAULT_BASE_URL, data)


def _client(session: aiohttp.ClientSession, data: Mapping[str, Any]) -> HoymilesClient:
    return HoymilesClient(
        session,
        str(data.get(CONF_USERNAME) or ""),
        str(data.get(CONF_PASSWORD) or ""),
        base_url=hoymiles_base_url(data),
    )


def _flow_error(err: ApiError) -> FlowError:
    if isinstance(err, ApiClientOutdatedError):
        return FlowError("app_outdated")
    if isinstance(err, ApiAuthError):
        return FlowError("invalid_credentials")
    if isinstance(err, ApiRateLimitedError):
        minutes = str(round((err.retry_after or 1800) / 60))
        return FlowError("account_locked", placeholders={"minutes": minutes})
    return FlowError("cannot_connect")


async def _stations(client: HoymilesClient) -> list[HoymilesStation]:
    """Log in and list the plants; flow errors for what goes wrong."""
    try:
        await client.login()
        stations = await client.stations()
    except ApiError as err:
        raise _flow_error(err) from err
    if not stations:
        raise FlowError("no_plants")
    return stations


def _plants_form(plants: Mapping[str, str]) -> FormSpec:
    """Which of the account's plants to show (all by default)."""
    return FormSpec(
        step_id=PLANTS_STEP,
        schema=vol.Schema(
            {
                vol.Required(CONF_PLANTS, default=list(plants)): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[
                            selector.SelectOptionDict(value=plant, label=name)
                            for plant, name in plants.items()
                        ],
                        multiple=True,
                    )
                )
            }
        ),
    )


def _plant_ids(value: Any) -> list[str]:
    """Plant ids from the options (a list, or one comma-separated text), digits only."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    out: list[str] = []
    for item in items:
        text = str(item).strip()
        if text and text not in out:
            if not text.isdigit():
                raise FlowError("invalid_plant", CONF_PLANTS, {"plant": text})
            out.append(text)
    return out


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except ZoneInfoNotFoundError, ValueError:
        return ZoneInfo(DEFAULT_ZONE)


@dataclass(slots=True)
class PlantState:
    """What is held for one plant."""

    station: HoymilesStation
    details: HoymilesStationDetails | None = None
    realtime: HoymilesRealtime | None = None
    tree: HoymilesDeviceTree | None = None
    micro_day: HoymilesMicroDay | None = None
    """Today's chart of each microinverter (power, temperature)."""
    micro_upload: datetime | None = None
    """The upload (``data_time``) the chart was read after."""
    chart_due: datetime | None = None
    chart_final: bool = False
    """The chart was read while the plant made power: read it once more when it stops."""
    realtime_due: datetime | None = None
    tree_due: datetime | None = None

    @property
    def zone(self) -> ZoneInfo:
        """The plant's time zone (its "today" and its history days)."""
        return _zone(self.details.timezone if self.details else None)

    @property
    def name(self) -> str:
        """The plant's name, or its id."""
        return self.station.name or str(self.station.id)


@dataclass(slots=True)
class HoymilesData:
    """The plants held, and when they were last asked for."""

    plants: dict[int, PlantState] = field(default_factory=dict)
    retrieved: datetime | None = None


class HoymilesSource(Source[HoymilesData]):
    """A Hoymiles S-Miles account: its plants and their devices."""

    key: ClassVar[str] = KEY
    flow_steps: ClassVar[tuple[str, ...]] = (KEY, PLANTS_STEP)
    default_options: ClassVar[Mapping[str, Any]] = {
        CONF_PLANTS: [],
        CONF_SCAN_INTERVAL: DEFAULT_SCAN_MINUTES,
        CONF_HISTORY_DAYS: DEFAULT_HISTORY_DAYS,
    }

    def setup(self) -> None:
        """The client; counters empty until restored."""
        self.client = _client(self.session, self.data)
        self.scan_interval = timedelta(
            minutes=max(MIN_SCAN_MINUTES, int(self.options[CONF_SCAN_INTERVAL]))
        )
        self.history_horizon = timedelta(days=int(self.options[CONF_HISTORY_DAYS]))
        self.selected = {int(plant) for plant in _plant_ids(self.options[CONF_PLANTS])}
        #: Every plant of the account (the options offer them by name).
        self.stations: dict[int, HoymilesStation] = {}
        self.stations_due: datetime | None = None
        #: The plants shown: the chosen ones, or all (and those added later) when none are.
        self.plants: dict[int, PlantState] = {}
        #: Lifetime counters (kWh), by "<plant>:<metric>": never lower.
        self.totals: dict[str, float] = {}
        #: Today counters: "<plant>:<metric>" -> (plant-local day, kWh).
        self.today: dict[str, tuple[date, float]] = {}

    # --- config flow -------------------------------------------------------------------
    @classmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        """Username and password; the plants (their choices come from the submit)."""
        if step_id == PLANTS_STEP:
            return _plants_form({})
        return FormSpec(
            step_id=KEY,
            schema=vol.Schema(
                {
                    vol.Required(CONF_USERNAME): username_selector(email=True),
                    vol.Required(CONF_PASSWORD): secret_selector(),
                    **advanced_section(),
                }
            ),
        )

    @classmethod
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec | FormSpec:
        """Log in and list the plants; one plant: done, several: pick them."""
        if step.step_id == PLANTS_STEP:
            chosen = [str(plant) for plant in step.user_input.get(CONF_PLANTS) or []]
            if not chosen:
                raise FlowError("no_plants_chosen", CONF_PLANTS)
            everything = set(chosen) == set(step.state["plants"])
            return cls._entry(step.state["data"], [] if everything else chosen)
        data: dict[str, Any] = {
            CONF_SOURCE: KEY,
            CONF_USERNAME: str(step.user_input.get(CONF_USERNAME, "")).strip(),
            CONF_PASSWORD: str(step.user_input.get(CONF_PASSWORD, "")),
            **advanced_data(step.user_input),
        }
        stations = await _stations(_client(step.session, data))
        if len(stations) == 1:
            return cls._entry(data, [])
        step.state["data"] = data
        step.state["plants"] = {str(st.id): st.name or str(st.id) for st in stations}
        return _plants_form(step.state["plants"])

    @classmethod
    def _entry(cls, data: dict[str, Any], plants: list[str]) -> EntrySpec:
        username = str(data[CONF_USERNAME])
        return EntrySpec(
            title=f"Hoymiles {username}",
            unique_id=f"{KEY}_{username.lower()}",
            data=data,
            options={**cls.default_options, CONF_PLANTS: plants},
        )

    @classmethod
    def credentials_schema(cls) -> vol.Schema:
        """A new password."""
        return vol.Schema({vol.Required(CONF_PASSWORD): secret_selector()})

    @classmethod
    async def async_credentials_submit(cls, step: CredentialsStep) -> tuple[str, dict[str, Any]]:
        """The new password must log in to the same account."""
        updates = {CONF_PASSWORD: str(step.user_input.get(CONF_PASSWORD, ""))}
        await _stations(_client(step.session, {**step.data, **updates}))
        return f"{KEY}_{str(step.data[CONF_USERNAME]).lower()}", updates

    @classmethod
    def options_schema(cls) -> vol.Schema:
        """Plants (ids; empty: all), update interval, history to backfill."""
        return vol.Schema(
            {
                vol.Optional(CONF_PLANTS): selector.SelectSelector(
                    selector.SelectSelectorConfig(options=[], multiple=True, custom_value=True)
                ),
                vol.Required(CONF_SCAN_INTERVAL): whole_selector(
                    MIN_SCAN_MINUTES, MAX_SCAN_MINUTES, "min"
                ),
                vol.Required(CONF_HISTORY_DAYS): days_selector(MAX_HISTORY_DAYS),
            }
        )

    @classmethod
    def validate_options(cls, user_input: dict[str, Any]) -> dict[str, Any]:
        """Plant ids (digits); interval 2 to 60 minutes; history 1 to 365 days."""
        minutes = int(user_input.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_MINUTES))
        days = int(user_input.get(CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS))
        return {
            CONF_PLANTS: _plant_ids(user_input.get(CONF_PLANTS)),
            CONF_SCAN_INTERVAL: max(MIN_SCAN_MINUTES, min(MAX_SCAN_MINUTES, minutes)),
            CONF_HISTORY_DAYS: max(1, min(MAX_HISTORY_DAYS, days)),
        }

    # --- state across restarts ---------------------------------------------------------
    def persist(self) -> Mapping[str, Any]:
        """The counters, so that they never go back after a restart."""
        return {
            "totals": dict(self.totals),
            "today": {key: [day.isoformat(), value] for key, (day, value) in self.today.items()},
        }

    def restore(self, stored: Mapping[str, Any]) -> None:
        """Counters as persisted (what is odd is dropped)."""
        totals = stored.get("totals")
        if isinstance(totals, Mapping):
            for key, value in totals.items():
                if isinstance(value, int | float) and value >= 0:
                    self.totals[str(key)] = float(value)
        today = stored.get("today")
        if isinstance(today, Mapping):
            for key, item in today.items():
                try:
                    day, value = item
                    self.today[str(key)] = (date.fromisoformat(day), max(0.0, float(value)))
                except TypeError, ValueError:
                    continue

    # --- runtime -----------------------------------------------------------------------
    @property
    def request_count(self) -> int:
        """Requests made by this source's client."""
        return self.client.request_count

    async def async_update(self, previous: HoymilesData | None, now: datetime) -> HoymilesData:
        """What is due per plant: the realtime answer, the device tree. A service that wants a
        newer app at the first update fails the setup for good (retrying would only log in
        again and again; an update of Energy Hub restarts it); later, it is a failed update
        retried with the coordinator's back-off."""
        try:
            return await self._update(now)
        except ApiClientOutdatedError as err:
            if previous is not None:
                raise
            raise ConfigEntryError(
                translation_domain=DOMAIN, translation_key="app_outdated"
            ) from err

    async def _update(self, now: datetime) -> HoymilesData:
        if self.stations_due is None or now >= self.stations_due:
            await self._read_stations(now)
        for plant in self.plants.values():
            plant_id = plant.station.id
            if plant.details is None:
                plant.details = await self.client.station_details(plant_id)
            if plant.realtime_due is None or now >= plant.realtime_due:
                realtime = await self.client.station_realtime(plant_id, plant.details.timezone)
                plant.realtime = realtime
                self._count(plant, realtime, now)
                plant.realtime_due = self._realtime_due(realtime, now)
            if plant.tree_due is None or now >= plant.tree_due:
                tree = await self.client.device_tree(plant_id)
                if tree.devices or plant.tree is None:
                    plant.tree = tree
                else:  # a glitch, most likely: devices are not removed on an empty answer
                    LOGGER.debug("Hoymiles plant %s: empty device tree ignored", plant_id)
                plant.tree_due = now + TREE_INTERVAL
            if self._chart_due(plant, now):
                await self._read_micro_day(plant, now)
        return HoymilesData(plants=dict(self.plants), retrieved=now)

    async def _read_stations(self, now: datetime) -> None:
        """The account's plant list; once plants are known a failure (other than the
        credentials) keeps the list held and is tried again at the next interval."""
        self.stations_due = now + STATIONS_INTERVAL
        try:
            stations = await self.client.stations()
        except ApiAuthError:
            raise
        except ApiError as err:
            if not self.stations:
                raise
            LOGGER.debug("Hoymiles plant list not read again (%s); the known plants stay", err)
            return
        if stations or not self.stations:
            self._sync_plants(stations)
        else:  # a glitch, most likely: plants are not removed on an empty answer
            LOGGER.debug("Hoymiles: an empty plant list ignored")

    @staticmethod
    def _chart_due(plant: PlantState, now: datetime) -> bool:
        """The microinverters' chart once at start, then after a new upload every
        :data:`CHART_INTERVAL` while the plant makes power, and once more when it stops:
        nothing new is charted while every inverter sleeps."""
        if plant.tree is None or not plant.tree.microinverters:
            return False
        if plant.micro_day is None:
            return True
        realtime = plant.realtime
        if realtime is None or realtime.data_time == plant.micro_upload:
            return False
        if plant.chart_due is not None and now < plant.chart_due:
            return False
        return bool(realtime.pv_power_w) or plant.chart_final

    async def _read_micro_day(self, plant: PlantState, now: datetime) -> None:
        """Today's chart of every microinverter (one request), and their today counters. The
        chart is extra: when it fails (other than the credentials) the plant's own values
        stay and the chart is asked for again at its next turn."""
        assert plant.tree is not None
        realtime = plant.realtime
        day = self._plant_day(plant, realtime, now)
        plant.micro_upload = realtime.data_time if realtime else None
        plant.chart_due = now + CHART_INTERVAL
        plant.chart_final = bool(realtime and realtime.pv_power_w)
        try:
            micro_day = await self.client.micro_day(
                plant.station.id,
                day,
                [device.id for device in plant.tree.microinverters],
                (QUOTA_POWER, QUOTA_TEMPERATURE),
                plant.zone.key,
            )
        except ApiAuthError:
            raise
        except ApiError as err:
            LOGGER.debug("Hoymiles plant %s: microinverter chart not read (%s)", plant.name, err)
            if plant.micro_day is None:  # not asked again every update until it works
                plant.micro_day = HoymilesMicroDay(day=day, series={})
            return
        plant.micro_day = micro_day
        for micro_id, quotas in micro_day.series.items():
            if (power := quotas.get(QUOTA_POWER)) is not None:
                key = f"{plant.station.id}:{_micro_key(micro_id)}"
                grown = self._daily(f"{key}:pv_energy_today", power.energy_wh(), micro_day.day)
                # No lifetime figure per microinverter in the cloud: each day's growth adds up.
                self.totals[f"{key}:pv_energy"] = self.totals.get(f"{key}:pv_energy", 0.0) + grown

    def _sync_plants(self, stations: list[HoymilesStation]) -> None:
        """Follow the account's plant list: new plants are added (all plants shown), plants
        gone from the account are dropped, renamed ones keep their state."""
        self.stations = {station.id: station for station in stations}
        wanted = {sid for sid in self.stations if not self.selected or sid in self.selected}
        for sid in set(self.plants) - wanted:
            LOGGER.info("Hoymiles plant %s is no longer in the account", self.plants[sid].name)
            del self.plants[sid]
        for sid in sorted(wanted):
            if sid in self.plants:
                self.plants[sid].station = self.stations[sid]
            else:
                self.plants[sid] = PlantState(station=self.stations[sid])
                LOGGER.debug("Hoymiles plant %s added", self.plants[sid].name)

    def option_choices(self) -> Mapping[str, Mapping[str, str]]:
        """The account's plants by name."""
        return {
            CONF_PLANTS: {
                str(sid): station.name or str(sid) for sid, station in self.stations.items()
            }
        }

    def _realtime_due(self, realtime: HoymilesRealtime, now: datetime) -> datetime:
        """The next upload's arrival, not sooner than the interval; rarer for a quiet plant."""
        due = now + self.scan_interval
        if realtime.data_time is None or now - realtime.data_time > STALE_AFTER:
            return max(due, now + STALE_INTERVAL)
        return max(due, realtime.data_time + UPLOAD_INTERVAL + SETTLE)

    # --- counters ------------------------------------------------------------------------
    def _total(self, key: str, wh: float | None) -> None:
        """A lifetime counter: kept when the cloud gives a lower one."""
        if wh is None:
            return
        value = wh / 1000
        held = self.totals.get(key)
        if held is not None and value < held:
            LOGGER.debug("Hoymiles %s: lower total %.3f kWh than %.3f ignored", key, value, held)
            return
        self.totals[key] = value

    def _daily(self, key: str, wh: float | None, day: date) -> float:
        """A today counter of ``day``; returns how much it grew (kWh)."""
        if wh is None:
            return 0.0
        value = wh / 1000
        held = self.today.get(key)
        if held is not None and day < held[0]:
            return 0.0  # yesterday's figure after today's
        if held is not None and day == held[0]:
            if value < held[1]:
                LOGGER.debug("Hoymiles %s: today %.3f kWh below %.3f ignored", key, value, held[1])
                return 0.0
            grown = value - held[1]
        else:
            grown = value
        self.today[key] = (day, value)
        return grown

    @staticmethod
    def _plant_day(plant: PlantState, realtime: HoymilesRealtime | None, now: datetime) -> date:
        """The plant-local day the latest upload belongs to."""
        if realtime is not None and realtime.data_time_local is not None:
            # The upload covers the slot before its time: a first upload after midnight
            # still carries the day before.
            return (realtime.data_time_local - UPLOAD_INTERVAL).date()
        return now.astimezone(plant.zone).date()

    def _count(self, plant: PlantState, realtime: HoymilesRealtime, now: datetime) -> None:
        pid = plant.station.id
        day = self._plant_day(plant, realtime, now)
        self._daily(f"{pid}:pv_energy_today", realtime.today_energy_wh, day)
        self._total(f"{pid}:pv_energy", realtime.total_energy_wh)
        flow = realtime.energy_flow
        if flow is None:
            return
        self._total(f"{pid}:grid_import_energy", flow.grid_import.total_wh)
        self._total(f"{pid}:grid_export_energy", flow.grid_export.total_wh)
        for metric, wh in (
            ("battery_charged_energy", flow.battery_charge_today_wh),
            ("battery_discharged_energy", flow.battery_discharge_today_wh),
        ):
            grown = self._daily(f"{pid}:{metric}_today", wh, day)
            key = f"{pid}:{metric}"
            self.totals[key] = self.totals.get(key, 0.0) + grown

    def next_update(self, data: HoymilesData, now: datetime) -> datetime:
        """The earliest request due over the plants."""
        dues = [
            due
            for plant in data.plants.values()
            for due in (plant.realtime_due, plant.tree_due)
            if due is not None
        ]
        if self.stations_due is not None:
            dues.append(self.stations_due)
        return min(dues, default=now + self.scan_interval)

    def next_tick(self, data: HoymilesData, now: datetime) -> datetime | None:
        """The next local midnight of a plant: its "today" values go back to 0."""
        ticks = [_next_midnight(now, plant.zone) for plant in data.plants.values()]
        return min(ticks, default=None)

    # --- devices and readings ----------------------------------------------------------
    @staticmethod
    def _plant_key(plant_id: int) -> str:
        return f"plant_{plant_id}"

    def devices(self, data: HoymilesData) -> list[DeviceSpec]:
        """Each plant (a service), then its devices under it (parents first)."""
        out: list[DeviceSpec] = []
        for pid, plant in data.plants.items():
            out.append(
                DeviceSpec(
                    key=self._plant_key(pid),
                    name=f"Hoymiles {plant.name}",
                    manufacturer="Hoymiles",
                    model="Plant",
                    serial_number=str(pid),
                    service=True,
                    configuration_url="https://global.hoymiles.com/",
                )
            )
            tree = plant.tree.devices if plant.tree else ()
            ids = {device.id for device in tree}
            for device in tree:
                parent = device.parent_id
                via = f"device_{parent}" if parent in ids else self._plant_key(pid)
                out.append(
                    DeviceSpec(
                        key=f"device_{device.id}",
                        name=_device_name(device),
                        manufacturer="Hoymiles",
                        model=device.model or _KIND_NAMES[device.kind],
                        serial_number=device.serial,
                        sw_version=device.software_version,
                        via=via,
                    )
                )
        return out

    def readings(self, data: HoymilesData, now: datetime) -> list[Reading]:
        """Per plant: power, energy, status, last report (hybrid: battery and grid); per device:
        its status."""
        out: list[Reading] = []
        for pid, plant in data.plants.items():
            out += self._plant_readings(pid, plant, now)
            for device in plant.tree.devices if plant.tree else ():
                if device.kind is DeviceKind.MICROINVERTER:
                    out += self._micro_readings(pid, plant, device, now)
                else:
                    out.append(_status_reading(device, device.connected))
        return out

    def _today_value(self, key: str, today: date) -> float | None:
        """A today counter: its value today, 0 once its day is over, None before any."""
        held = self.today.get(key)
        if held is None:
            return None
        return round(held[1], 6) if held[0] == today else 0.0

    def _micro_readings(
        self, pid: int, plant: PlantState, device: HoymilesDevice, now: datetime
    ) -> list[Reading]:
        """A microinverter's power, energy, temperature and status: power and temperature
        from its chart's newest point while that is recent (an inverter the cloud shows
        offline makes 0 W; one making power is online, whatever the tree says)."""
        key = _micro_key(device.id)
        chart = plant.micro_day

        def latest(quota: str) -> float | None:
            curve: HoymilesCurve | None = chart.curve(device.id, quota) if chart else None
            last = curve.last if curve else None
            if last is None or last[1] is None or now - last[0] > CHART_FRESH:
                return None
            return round(last[1], 3)  # the chart's float32 noise (56.2999992 W) off

        power = latest(QUOTA_POWER)
        if power is None and device.connected is False:
            power = 0.0
        today = now.astimezone(plant.zone).date()
        total = self.totals.get(f"{pid}:{key}:pv_energy")
        values = {
            "pv_power": power,
            "pv_energy_today": self._today_value(f"{pid}:{key}:pv_energy_today", today),
            "pv_energy": None if total is None else round(total, 6),
            "inverter_temperature": latest(QUOTA_TEMPERATURE),
        }
        return [
            *(Reading(metric=k, device=f"device_{device.id}", value=v) for k, v in values.items()),
            _status_reading(device, True if power else device.connected),
        ]

    def _plant_readings(self, pid: int, plant: PlantState, now: datetime) -> list[Reading]:
        device = self._plant_key(pid)
        realtime = plant.realtime
        today = now.astimezone(plant.zone).date()
        values: dict[str, Any] = {
            "pv_power": realtime.pv_power_w if realtime else None,
            "pv_energy_today": self._today_value(f"{pid}:pv_energy_today", today),
            "pv_energy": self._held_total(pid, "pv_energy", realtime),
            "device_status": self._plant_status(plant, now),
            "last_report": realtime.data_time if realtime else None,
        }
        flow = realtime.energy_flow if realtime else None
        if flow is not None:
            values |= {
                "battery_soc": flow.battery_soc_percent,
                "battery_power": flow.battery_power_w,
                "grid_power": flow.grid_power_w,
                "house_power": flow.load_power_w,
                "grid_import_energy": self._held_total(pid, "grid_import_energy", realtime),
                "grid_export_energy": self._held_total(pid, "grid_export_energy", realtime),
                "battery_charged_energy": self._held_total(pid, "battery_charged_energy"),
                "battery_discharged_energy": self._held_total(pid, "battery_discharged_energy"),
            }
        return [Reading(metric=k, device=device, value=v) for k, v in values.items()]

    def _held_total(
        self, pid: int, metric: str, realtime: HoymilesRealtime | None = None
    ) -> float | None:
        """A lifetime counter, unavailable while the cloud gives no value for it."""
        if realtime is not None:
            flow = realtime.energy_flow
            given = {
                "pv_energy": realtime.total_energy_wh,
                "grid_import_energy": flow.grid_import.total_wh if flow else None,
                "grid_export_energy": flow.grid_export.total_wh if flow else None,
            }[metric]
            if given is None:
                return None
        held = self.totals.get(f"{pid}:{metric}")
        return None if held is None else round(held, 6)

    @staticmethod
    def _plant_status(plant: PlantState, now: datetime) -> str | None:
        """Warning when a device warns; online while an inverter reports; else offline."""
        if plant.tree is not None and plant.tree.devices:
            if any(device.warning for device in plant.tree.devices):
                return STATUS_WARNING
            inverters = [
                device
                for device in plant.tree.devices
                if device.kind in {DeviceKind.MICROINVERTER, DeviceKind.HYBRID_INVERTER}
            ]
            return STATUS_ONLINE if any(d.connected for d in inverters) else STATUS_OFFLINE
        realtime = plant.realtime
        if realtime is None or realtime.data_time is None:
            return None
        return STATUS_ONLINE if now - realtime.data_time <= STALE_AFTER else STATUS_OFFLINE

    # --- history -----------------------------------------------------------------------
    def statistic_specs(self, data: HoymilesData) -> list[StatisticSpec]:
        """PV energy per plant: ``energy_hub:hoymiles_<plant>_pv_energy``."""
        return [
            StatisticSpec(
                key=f"{KEY}_{pid}_pv_energy",
                # Not the live sensor's name: a picker searched by the plant's name would
                # list only the sensor, which lacks the backfilled year.
                name=f"Hoymiles {plant.name} PV energy (hourly history)",
                unit="kWh",
                unit_class="energy",
            )
            for pid, plant in data.plants.items()
        ]

    def async_history(
        self, data: HoymilesData, since: datetime, now: datetime
    ) -> AsyncIterator[HistorySeries]:
        """Every plant from ``since`` (see :meth:`async_history_from`)."""
        return self.async_history_from(
            data, {spec.key: since for spec in self.statistic_specs(data)}, now
        )

    async def async_history_from(
        self, data: HoymilesData, starts: Mapping[str, datetime], now: datetime
    ) -> AsyncIterator[HistorySeries]:
        """Each plant from its own start, each complete plant-local day hour by hour: the
        day's energy from the daily history, shared over the hours as the day's power curve
        shows (a day without generation, or whose curve the cloud refuses or answers empty,
        goes into the hour of its local midnight). A plant gone from the account is skipped.

        An answer that cannot be read (malformed JSON, a broken protobuf) is a failed fetch,
        never a day shaped on missing data: the plant's days before it are written, the other
        plants go on, and the run then fails with that error (retried later from the last
        stored hour). An outage or a rate limit ends the run at once, likewise."""
        unreadable: ApiResponseError | None = None
        for spec, (pid, plant) in zip(self.statistic_specs(data), data.plants.items(), strict=True):
            since = starts.get(spec.key)
            if since is None:
                continue
            zone = plant.zone
            first = since.astimezone(zone).date()
            if _midnight(first, zone) < since:
                first += timedelta(days=1)
            last = now.astimezone(zone).date() - timedelta(days=1)
            try:
                days = await self.client.daily_generation(pid, first, last)
            except ApiNotFoundError:
                LOGGER.debug("Hoymiles plant %s: no history (no longer in the account)", pid)
                continue
            except ApiResponseError as err:
                LOGGER.debug("Hoymiles plant %s: daily history unreadable (%s)", pid, err)
                unreadable = unreadable or err
                continue
            hours: dict[datetime, float] = {}
            for item in days:
                if item.pv_energy_wh is None:
                    continue
                try:
                    curve = await self._curve(pid, item, zone)
                except ApiResponseError as err:
                    LOGGER.debug(
                        "Hoymiles plant %s: power curve of %s unreadable (%s)", pid, item.day, err
                    )
                    unreadable = unreadable or err
                    break
                except ApiError:
                    yield HistorySeries(spec=spec, hours=hours)  # the days read so far
                    raise
                hours |= _day_hours(item.day, zone, item.pv_energy_wh, curve)
            yield HistorySeries(spec=spec, hours=hours)
        if unreadable is not None:
            raise unreadable

    async def _curve(
        self, pid: int, item: HoymilesDailyEnergy, zone: ZoneInfo
    ) -> HoymilesCurve | None:
        """The day's power curve, or None for a day without generation or a curve the cloud
        refuses (the day then goes into its midnight hour, still exact). An answer that cannot
        be read raises (:class:`ApiResponseError`), as do outages."""
        if not item.pv_energy_wh or item.pv_energy_wh <= 0:
            return None
        try:
            return await self.client.power_curve(pid, item.day, zone.key)
        except (ApiNotFoundError, HoymilesRefusedError) as err:
            # A refusal is the cloud's answer: asking again would get the same.
            LOGGER.debug("Hoymiles plant %s: no power curve for %s (%s)", pid, item.day, err)
            return None

    def next_history(self, now: datetime) -> datetime | None:
        """An hour after the next local midnight of a plant (the day is complete)."""
        zones = [plant.zone for plant in self.plants.values()] or [_zone(None)]
        return min(_next_midnight(now, zone) for zone in zones) + HISTORY_DELAY

    def diagnostics(self, data: HoymilesData | None) -> dict[str, Any]:
        """Plants, their device counts, the counters, logins."""
        plants = data.plants if data else {}
        return {
            "plants": {
                str(pid): {
                    "devices": len(plant.tree.devices) if plant.tree else None,
                    "microinverters_charted": len(plant.micro_day.series)
                    if plant.micro_day
                    else None,
                    "timezone": plant.details.timezone if plant.details else None,
                }
                for pid, plant in plants.items()
            },
            "totals": {k: round(v, 3) for k, v in self.totals.items()},
            "logins": self.client.login_count,
            "data_endpoints": self.client.profile.value,
        }


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC hour holding the start of ``day`` in ``zone``."""
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    return start.replace(minute=0, second=0, microsecond=0)


def _day_hours(
    day: date, zone: ZoneInfo, energy_wh: float, curve: HoymilesCurve | None
) -> dict[datetime, float]:
    """kWh in each UTC hour of a plant-local day: ``energy_wh`` shared as ``curve`` has it
    (its own total would miss what the 15-minute points do not catch), every other hour 0."""
    start, end = _midnight(day, zone), _midnight(day + timedelta(days=1), zone)
    hours = {
        start + timedelta(hours=n): 0.0 for n in range(int((end - start) / timedelta(hours=1)))
    }
    shape = {
        hour: wh
        for hour, wh in (curve.hourly_energy_wh() if curve else {}).items()
        if hour in hours and wh > 0
    }
    total = sum(shape.values())
    if total <= 0:
        hours[start] = round(energy_wh / 1000, 6)
        return hours
    for hour, wh in shape.items():
        hours[hour] = round(energy_wh * wh / total / 1000, 6)
    return hours


def _next_midnight(now: datetime, zone: ZoneInfo) -> datetime:
    return datetime.combine(
        now.astimezone(zone).date() + timedelta(days=1), time(0), zone
    ).astimezone(UTC)


def _micro_key(micro_id: int) -> str:
    return f"micro_{micro_id}"


def _device_name(device: HoymilesDevice) -> str:
    model = device.model or _KIND_NAMES[device.kind]
    return f"{model} {device.serial}" if device.serial else f"{model} {device.id}"


def _status_reading(device: HoymilesDevice, connected: bool | None) -> Reading:
    return Reading(
        metric="device_status",
        device=f"device_{device.id}",
        value=_status(connected, device.warning),
        attributes={"kind": device.kind.value},
    )


def _status(connected: bool | None, warning: bool | None) -> str | None:
    if warning:
        return STATUS_WARNING
    if connected is None:
        return None
    return STATUS_ONLINE if connected else STATUS_OFFLINE
