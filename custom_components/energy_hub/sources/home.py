"""Home: what only a hub holding every source can answer, for one household.

The inputs are long-term statistics the user already has (grid import and export, solar,
battery charge and discharge: Energy Hub's own or any other integration's), power sensors for
the live figures, and a Carbon Intensity entry for the home's region. The outputs are hourly
long-term statistics Energy Hub writes like the vendors' history:

* the carbon footprint of grid import (kg CO2): each hour's import times the intensity of its
  half-hours (the hour's kWh split evenly: Home Assistant keeps hourly statistics), the
  emissions export avoided and those self-consumed solar avoided;
* home consumption (kWh): import - export + solar + battery discharge - battery charge, never
  negative, for Home Assistant's ``home`` energy source.

An hour is computed once the grid meters have reached it (a day-late smart meter holds the
rest back) and only when the grid import has a row for it: a gap in the import stays a gap.
Solar and battery statistics count as nothing in an hour they have no row for (a plant's
night); each run rewrites the last week, so one that arrives late is taken in.
The only requests are the intensity history's (the Carbon Intensity API's range endpoint, at
most 14 days each: about 27 for a year, then about one a day); the inputs are read from the
recorder in its own executor.
"""

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import logging
import math
from typing import Any, ClassVar, Protocol

from homeassistant.components.energy.data import async_get_manager as async_get_energy_manager
from homeassistant.components.recorder.statistics import (
    statistics_during_period,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util, slugify
import voluptuous as vol

from ..api.carbon_intensity import IntensityPoint
from ..const import CONF_SOURCE, DOMAIN
from .base import (
    CredentialsStep,
    DeviceSpec,
    EntrySpec,
    EntryUpdate,
    FlowError,
    FlowStep,
    FormSpec,
    HistorySeries,
    Reading,
    Source,
    StatisticSpec,
    floor_hour,
)
from .carbon_intensity import CONF_REGION_ID, KEY as CARBON_KEY, carbon_client
from .rates import local_day

_LOGGER = logging.getLogger(__name__)

KEY = "home"
CONF_NAME = "name"
CONF_SLUG = "slug"
CONF_CARBON_ENTRY = "carbon_entry"
CONF_GRID_IMPORT = "grid_import"
CONF_GRID_EXPORT = "grid_export"
CONF_SOLAR = "solar"
CONF_BATTERY_CHARGE = "battery_charge"
CONF_BATTERY_DISCHARGE = "battery_discharge"
CONF_GRID_POWER = "grid_power"
CONF_SOLAR_POWER = "solar_power"
CONF_BATTERY_POWER = "battery_power"
CONF_TARIFF = "tariff"
CONF_DEVICES = "devices"
#: The options that name statistics: one statistic each, or a list.
SINGLE_STATISTICS = (CONF_GRID_IMPORT, CONF_GRID_EXPORT)
LIST_STATISTICS = (CONF_SOLAR, CONF_BATTERY_CHARGE, CONF_BATTERY_DISCHARGE, CONF_DEVICES)
LIST_POWERS = (CONF_SOLAR_POWER, CONF_BATTERY_POWER)
INPUT_OPTIONS = (
    CONF_CARBON_ENTRY,
    CONF_TARIFF,
    *SINGLE_STATISTICS,
    *LIST_STATISTICS,
    CONF_GRID_POWER,
    *LIST_POWERS,
)
DEFAULT_NAME = "Home"
NO_CARBON = ""
NO_TARIFF = ""
#: Tariff sources a home can be priced with (an Octopus account's import meter, a typed-in
#: import tariff).
TARIFF_SOURCES = ("octopus", "tariff")
HOUR = timedelta(hours=1)
HALF_HOUR = timedelta(minutes=30)
#: How far back the first run looks for input history (the inputs decide where it starts).
HORIZON = timedelta(days=3 * 366)
#: A range request is made only when an intensity older than this is missing: newer half-hours
#: come from the Carbon Intensity entry's own forecast as it moves on (no request).
INTENSITY_REFETCH_AGE = timedelta(hours=24)
#: Intensities kept after a run: the statistics writer's rewrite window and a margin.
KEEP_INTENSITY = timedelta(days=10)
#: When the history run comes: every hour, after Home Assistant compiled the hour's statistics.
HISTORY_MINUTE = 12


class IntensityHistory(Protocol):
    """Half-hourly intensity between two times (the Carbon Intensity client's range reader)."""

    def __call__(
        self, start: datetime, end: datetime
    ) -> AsyncIterator[Sequence[IntensityPoint]]: ...


@dataclass(slots=True)
class HomeData:
    """What the home's sensors show: its own statistics' totals, read from the recorder."""

    #: Output key -> (today's total, this month's total); None where nothing is stored.
    totals: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    #: The last hour every output reached (the end of the newest hour written).
    computed_until: datetime | None = None


def stat_list(value: Any) -> list[str]:
    """A statistics option as a list (empty, one id or several)."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list | tuple):
        return [str(item) for item in value if item]
    return []


def _number(state: Any) -> float | None:
    try:
        value = float(state)
    except TypeError, ValueError:
        return None
    return value if math.isfinite(value) else None


type Hourly = Mapping[datetime, float]


@dataclass(frozen=True, slots=True)
class Battery:
    """One battery's energy counters (kWh per hour), keyed by its discharge statistic."""

    key: str
    charge: Hourly
    discharge: Hourly


@dataclass(frozen=True, slots=True)
class Inputs:
    """Hourly changes of every input statistic, kWh."""

    imports: Hourly
    exports: Hourly | None
    solar: Sequence[Hourly]
    charge: Sequence[Hourly]
    discharge: Sequence[Hourly]
    #: The end of the newest hour the grid meters have both reached.
    until: datetime | None
    #: Each battery (a charge and a discharge statistic, paired in order).
    batteries: Sequence[Battery] = ()
    #: Anything priced on its own (statistic key -> kWh per hour).
    devices: Mapping[str, Hourly] = field(default_factory=dict)

    def grid_hours(self) -> list[datetime]:
        """Hours the grid meters both have, before ``until``: a gap stays a gap."""
        if self.until is None:
            return []
        exports = self.exports
        return sorted(
            hour
            for hour in self.imports
            if hour + HOUR <= self.until and (exports is None or hour in exports)
        )


def _at(series: Iterable[Hourly], hour: datetime) -> float:
    return sum(one.get(hour, 0.0) for one in series)


def _own_hours(*series: Hourly) -> list[datetime]:
    """Hours any of ``series`` has, up to the newest hour all of them reached."""
    if not series or not all(series):
        return []
    until = min(max(one) for one in series)
    return sorted({hour for one in series for hour in one if hour <= until})


def hourly_means(
    points: Iterable[tuple[datetime, datetime, float]], hours: Iterable[datetime]
) -> dict[datetime, float]:
    """The time-weighted mean of piecewise-constant values (prices, intensities) over each of
    ``hours``; an hour the points do not cover whole is left out (never a guess)."""
    wanted = set(hours)
    weighted: dict[datetime, float] = {}
    covered: dict[datetime, float] = {}
    for start, end, value in points:
        hour = floor_hour(start)
        while hour < end:
            lo, hi = max(start, hour), min(end, hour + HOUR)
            if hour in wanted and hi > lo:
                seconds = (hi - lo).total_seconds()
                weighted[hour] = weighted.get(hour, 0.0) + value * seconds
                covered[hour] = covered.get(hour, 0.0) + seconds
            hour += HOUR
    return {h: weighted[h] / 3600 for h, seconds in covered.items() if seconds >= 3600 - 1e-6}


def home_consumption(inputs: Inputs) -> dict[datetime, float]:
    """Import - export + solar + discharge - charge per hour, never negative, for the hours
    the grid meters have (a missing solar or battery row counts as nothing: night hours of a
    plant without a curve)."""
    return {
        hour: round(
            max(
                inputs.imports[hour]
                - (inputs.exports or {}).get(hour, 0.0)
                + _at(inputs.solar, hour)
                + _at(inputs.discharge, hour)
                - _at(inputs.charge, hour),
                0.0,
            ),
            6,
        )
        for hour in inputs.grid_hours()
    }


def footprints(inputs: Inputs, grams: Hourly) -> dict[str, dict[datetime, float]]:
    """kg CO2 per hour (``grams``: each hour's mean g/kWh): the import's footprint, and what
    export and self-consumed solar avoided."""
    out: dict[str, dict[datetime, float]] = {"grid_import_co2": {}}
    if inputs.exports is not None:
        out["export_avoided_co2"] = {}
    if inputs.solar:
        out["solar_avoided_co2"] = {}
    for hour in inputs.grid_hours():
        if (mean := grams.get(hour)) is None:
            continue
        exported = (inputs.exports or {}).get(hour, 0.0)
        out["grid_import_co2"][hour] = round(inputs.imports[hour] * mean / 1000, 6)
        if inputs.exports is not None:
            out["export_avoided_co2"][hour] = round(exported * mean / 1000, 6)
        if inputs.solar:
            used = max(_at(inputs.solar, hour) - exported, 0.0)
            out["solar_avoided_co2"][hour] = round(used * mean / 1000, 6)
    return out


def battery_values(battery: Battery, factor: Hourly, scale: float = 1.0) -> dict[datetime, float]:
    """What a battery shifted each hour: discharged kWh x the hour's factor (a price, an
    intensity) minus charged kWh x the factor when it charged; ``scale`` turns g into kg."""
    return {
        hour: round(
            (battery.discharge.get(hour, 0.0) - battery.charge.get(hour, 0.0))
            * factor[hour]
            * scale,
            6,
        )
        for hour in _own_hours(battery.charge, battery.discharge)
        if hour in factor
    }


def device_costs(energy: Hourly, prices: Hourly) -> dict[datetime, float]:
    """An energy statistic priced at each hour's rate (standing charge excluded)."""
    return {hour: round(kwh * prices[hour], 6) for hour, kwh in energy.items() if hour in prices}


@dataclass(frozen=True, slots=True)
class Output:
    """One of the home's outputs: a statistic, and today / this month sensors."""

    group: str
    kind: str  # energy, co2 or money
    variant: str | None = None
    #: How the user knows the variant (a battery's number, a statistic id).
    label: str | None = None

    @property
    def key(self) -> str:
        """Unique within the home: part of the statistic id."""
        return f"{self.group}_{self.variant}" if self.variant else self.group

    def describe(self) -> str:
        """The statistic's name after the home's."""
        names = {
            "consumption": "home consumption",
            "grid_import_co2": "carbon footprint of grid import",
            "export_avoided_co2": "CO2 avoided by export",
            "solar_avoided_co2": "CO2 avoided by self-consumed solar",
            "battery_value": f"battery {self.label} value",
            "battery_co2": f"battery {self.label} CO2 avoided",
            "cost": f"cost of {self.label}",
        }
        return names[self.group]


class HomeSource(Source[HomeData]):
    """One household: its inputs from other statistics, its outputs as statistics."""

    key: ClassVar[str] = KEY
    flow_steps: ClassVar[tuple[str, ...]] = (KEY,)
    default_options: ClassVar[Mapping[str, Any]] = {
        CONF_CARBON_ENTRY: NO_CARBON,
        CONF_TARIFF: NO_TARIFF,
        CONF_GRID_IMPORT: "",
        CONF_GRID_EXPORT: "",
        CONF_SOLAR: [],
        CONF_BATTERY_CHARGE: [],
        CONF_BATTERY_DISCHARGE: [],
        CONF_GRID_POWER: "",
        CONF_SOLAR_POWER: [],
        CONF_BATTERY_POWER: [],
        CONF_DEVICES: [],
    }
    history_horizon = HORIZON
    refresh_after_history: ClassVar[bool] = True

    def setup(self) -> None:
        """The home's name (part of every statistic id) and what it reads."""
        self.name = str(self.data.get(CONF_NAME) or DEFAULT_NAME)
        self.slug = str(self.data.get(CONF_SLUG) or slugify(self.name) or KEY)
        self.hass: HomeAssistant | None = None
        #: Half-hour start -> g/kWh, from range requests and the Carbon Intensity entry.
        self.intensity: dict[datetime, float] = {}
        #: Half-hour start -> g/kWh from the Carbon Intensity entry's own forecast (no
        #: request): used until the range endpoint's figure (a national actual) replaces it.
        self.provisional: dict[datetime, float] = {}
        self.intensity_history: IntensityHistory | None = None
        #: Spans asked for already: what they lacked is a hole, not asked for again.
        self._asked: list[tuple[datetime, datetime]] = []
        self.currency = "GBP"

    # --- config flow -------------------------------------------------------------------
    @staticmethod
    def _schema(carbon: Mapping[str, str], tariffs: Mapping[str, str] | None = None) -> vol.Schema:
        energy = selector.StatisticSelector(selector.StatisticSelectorConfig(multiple=False))
        energies = selector.StatisticSelector(selector.StatisticSelectorConfig(multiple=True))
        power = selector.EntitySelector(
            selector.EntitySelectorConfig(domain="sensor", device_class="power")
        )
        powers = selector.EntitySelector(
            selector.EntitySelectorConfig(domain="sensor", device_class="power", multiple=True)
        )

        def entries(choices: Mapping[str, str]) -> selector.SelectSelector:
            options = [selector.SelectOptionDict(value="", label="-")] + [
                selector.SelectOptionDict(value=entry_id, label=title)
                for entry_id, title in choices.items()
            ]
            return selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=options, mode=selector.SelectSelectorMode.DROPDOWN
                )
            )

        return vol.Schema(
            {
                vol.Optional(CONF_CARBON_ENTRY): entries(carbon),
                vol.Optional(CONF_TARIFF): entries(tariffs or {}),
                vol.Optional(CONF_GRID_IMPORT): energy,
                vol.Optional(CONF_GRID_EXPORT): energy,
                vol.Optional(CONF_SOLAR): energies,
                vol.Optional(CONF_BATTERY_CHARGE): energies,
                vol.Optional(CONF_BATTERY_DISCHARGE): energies,
                vol.Optional(CONF_GRID_POWER): power,
                vol.Optional(CONF_SOLAR_POWER): powers,
                vol.Optional(CONF_BATTERY_POWER): powers,
                vol.Optional(CONF_DEVICES): energies,
            }
        )

    @classmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        """The inputs, without defaults (:meth:`async_first_form` fills them in)."""
        schema = cls._schema({})
        return FormSpec(
            step_id=step_id,
            schema=vol.Schema(
                {vol.Optional(CONF_NAME, default=DEFAULT_NAME): str, **schema.schema}
            ),
        )

    @classmethod
    async def async_first_form(cls, hass: HomeAssistant) -> FormSpec:
        """The form with every input defaulted from the Energy dashboard's settings and the
        Carbon Intensity entries."""
        defaults = await async_energy_defaults(hass)
        schema = cls._schema(carbon_entries(hass), tariff_entries(hass))
        fields: dict[Any, Any] = {vol.Optional(CONF_NAME, default=DEFAULT_NAME): str}
        for marker, value in schema.schema.items():
            key = str(marker.schema)
            if key in defaults and defaults[key] not in ("", []):
                fields[vol.Optional(key, default=defaults[key])] = value
            else:
                fields[marker] = value
        return FormSpec(step_id=KEY, schema=vol.Schema(fields))

    @classmethod
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec:
        """One entry per home name; the inputs are options (Configure changes them)."""
        name = str(step.user_input.get(CONF_NAME) or "").strip()
        if not name:
            raise FlowError("invalid_name", CONF_NAME)
        options = cls.validate_options(
            {key: value for key, value in step.user_input.items() if key != CONF_NAME}
        )
        return EntrySpec(
            title=name,
            unique_id=f"{KEY}_{slugify(name)}",
            # The slug names the statistics: it stays when the home is renamed.
            data={CONF_SOURCE: KEY, CONF_NAME: name, CONF_SLUG: slugify(name) or KEY},
            options=options,
        )

    reconfigure_step_id: ClassVar[str] = "home_reconfigure"

    @classmethod
    def reconfigure_schema(cls) -> vol.Schema:
        """The home's name (its inputs are options: Configure)."""
        return vol.Schema({vol.Required(CONF_NAME): selector.TextSelector()})

    @classmethod
    def reconfigure_values(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The stored name."""
        return {CONF_NAME: data.get(CONF_NAME)}

    @classmethod
    async def async_reconfigure_submit(cls, step: CredentialsStep) -> EntryUpdate:
        """A new name; the statistics keep their ids (the slug stays); a name another home
        has is refused."""
        name = str(step.user_input.get(CONF_NAME) or "").strip()
        if not name:
            raise FlowError("invalid_name", CONF_NAME)
        unique_id = f"{KEY}_{slugify(name)}"
        other = step.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, unique_id)
        old_name = str(step.data.get(CONF_NAME) or DEFAULT_NAME)
        if other is not None and unique_id != f"{KEY}_{slugify(old_name)}":
            raise FlowError("home_already_added", CONF_NAME, {"title": other.title})
        slug = str(step.data.get(CONF_SLUG) or slugify(old_name) or KEY)
        return EntryUpdate(
            unique_id=unique_id,
            data={CONF_NAME: name, CONF_SLUG: slug},
            title=name,
            same_entry=False,
        )

    @classmethod
    def options_schema(cls) -> vol.Schema:
        """Every input can be changed; a missing one only turns off what needs it."""
        return cls._schema({})

    @classmethod
    def validate_options(cls, user_input: dict[str, Any]) -> dict[str, Any]:
        """Lists stay lists, single statistics single; the same statistic cannot be two
        inputs (it would count twice)."""
        options: dict[str, Any] = dict(cls.default_options)
        for key in (*SINGLE_STATISTICS, CONF_GRID_POWER, CONF_CARBON_ENTRY, CONF_TARIFF):
            options[key] = str(user_input.get(key) or "")
        for key in (*LIST_STATISTICS, *LIST_POWERS):
            options[key] = stat_list(user_input.get(key))
        seen: set[str] = set()
        # The home's balance: each statistic once. Anything priced may be one of them too
        # (the EV charger is part of the home's consumption).
        for key in (*SINGLE_STATISTICS, CONF_SOLAR, CONF_BATTERY_CHARGE, CONF_BATTERY_DISCHARGE):
            for stat in stat_list(options[key]):
                if stat in seen:
                    raise FlowError("statistic_twice", key, {"statistic": stat})
                seen.add(stat)
        return options

    def option_choices(self) -> Mapping[str, Mapping[str, str]]:
        """The Carbon Intensity and tariff entries to pick from."""
        if self.hass is None:
            return {}
        return {
            CONF_CARBON_ENTRY: {NO_CARBON: "-", **carbon_entries(self.hass)},
            CONF_TARIFF: {NO_TARIFF: "-", **tariff_entries(self.hass)},
        }

    # --- runtime -----------------------------------------------------------------------
    def bind(self, hass: HomeAssistant) -> None:
        """Home Assistant, to read the inputs; the intensity history of the chosen region."""
        self.hass = hass
        entry_id = self.options.get(CONF_CARBON_ENTRY)
        entry = hass.config_entries.async_get_entry(entry_id) if entry_id else None
        if entry is None or entry.data.get(CONF_SOURCE) != CARBON_KEY:
            self.intensity_history = None
            return
        client = carbon_client(self.session, entry.data)
        region = entry.data.get(CONF_REGION_ID)
        region_id = int(region) if region is not None else None
        self.carbon_entry_id = entry.entry_id

        def history(start: datetime, end: datetime) -> AsyncIterator[Sequence[IntensityPoint]]:
            return client.intensity_history(start, end, region_id=region_id)

        self.intensity_history = history
        self._carbon_client = client

    @property
    def request_count(self) -> int:
        """Range requests made for the intensity history."""
        client = getattr(self, "_carbon_client", None)
        return int(client.request_count) if client is not None else 0

    def _imports(self) -> list[str]:
        return stat_list(self.options.get(CONF_GRID_IMPORT))

    def _batteries(self) -> list[tuple[str, str]]:
        """(charge, discharge) statistics per battery, paired in the order chosen."""
        charge = stat_list(self.options.get(CONF_BATTERY_CHARGE))
        discharge = stat_list(self.options.get(CONF_BATTERY_DISCHARGE))
        return list(zip(charge, discharge, strict=False))

    @property
    def priced(self) -> bool:
        """Whether a tariff is chosen (money outputs)."""
        return bool(self.options.get(CONF_TARIFF))

    def outputs(self) -> list[Output]:
        """The outputs the inputs allow: a missing input only turns off what needs it."""
        carbon = self.intensity_history is not None
        out: list[Output] = []
        if self._imports():
            out.append(Output("consumption", "energy"))
            if carbon:
                out.append(Output("grid_import_co2", "co2"))
                if stat_list(self.options.get(CONF_GRID_EXPORT)):
                    out.append(Output("export_avoided_co2", "co2"))
                if stat_list(self.options.get(CONF_SOLAR)):
                    out.append(Output("solar_avoided_co2", "co2"))
        for number, (_charge, discharge) in enumerate(self._batteries(), start=1):
            variant = statistic_key(discharge)
            if self.priced:
                out.append(Output("battery_value", "money", variant, str(number)))
            if carbon:
                out.append(Output("battery_co2", "co2", variant, str(number)))
        if self.priced:
            out.extend(
                Output("cost", "money", statistic_key(stat), stat)
                for stat in stat_list(self.options.get(CONF_DEVICES))
            )
        return out

    def output_keys(self) -> list[str]:
        """The key of each output (part of its statistic id)."""
        return [output.key for output in self.outputs()]

    def _spec(self, output: Output) -> StatisticSpec:
        unit: str
        unit_class: str | None
        if output.kind == "energy":
            unit, unit_class = UnitOfEnergy.KILO_WATT_HOUR, "energy"
        elif output.kind == "co2":
            unit, unit_class = "kg", "mass"
        else:
            unit, unit_class = self.currency, None
        return StatisticSpec(
            key=f"{KEY}_{self.slug}_{output.key}",
            name=f"{self.name} {output.describe()}",
            unit=unit,
            unit_class=unit_class,
        )

    def statistic_specs(self, data: HomeData) -> list[StatisticSpec]:
        """One statistic per output the inputs allow."""
        return [self._spec(output) for output in self.outputs()]

    async def async_update(self, previous: HomeData | None, now: datetime) -> HomeData:
        """Today's and this month's totals of the home's own statistics (no request)."""
        self._take_current_intensity()
        hass = self._hass()
        day_start, _ = local_day(now, dt_util.get_default_time_zone())
        local = day_start.astimezone(dt_util.get_default_time_zone())
        month_start = local.replace(day=1).astimezone(UTC)
        totals: dict[str, tuple[float | None, float | None]] = {}
        # Not at the top: statistics imports the sources package, which imports this module.
        from ..statistics import (  # noqa: PLC0415
            async_last_stored,
            async_sum_before,
            statistic_id,
        )

        self.currency = self._currency()
        for output in self.outputs():
            if output.group == "cost":
                continue  # the cost of anything is a statistic only
            stat = statistic_id(self._spec(output))
            if (last := await async_last_stored(hass, stat)) is None:
                totals[output.key] = (None, None)
                continue
            # Unknown, not 0, until the inputs reach the day (a day-late meter): nothing of
            # today is known yet.
            today = month = None
            if last.start >= day_start:
                today = round(last.sum - await async_sum_before(hass, stat, day_start), 3)
            if last.start >= month_start:
                month = round(last.sum - await async_sum_before(hass, stat, month_start), 3)
            totals[output.key] = (today, month)
        return HomeData(totals=totals, computed_until=previous.computed_until if previous else None)

    def _hass(self) -> HomeAssistant:
        if self.hass is None:
            raise RuntimeError("HomeSource used before bind()")
        return self.hass

    def _take_current_intensity(self) -> None:
        """Keep the Carbon Intensity entry's current half-hours (no request): the footprint
        of the last hours needs no range request until they are a day old."""
        entry_id = getattr(self, "carbon_entry_id", None)
        if self.hass is None or entry_id is None:
            return
        entry = self.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return
        data = getattr(entry.runtime_data, "data", None)
        now = dt_util.utcnow()
        for slot in getattr(data, "slots", None) or ():
            value = slot.intensity
            if value is not None and slot.start < now and slot.start not in self.intensity:
                self.provisional[slot.start] = float(value)

    def _intensities(self) -> dict[datetime, float]:
        """Every half-hour's intensity known: the range endpoint's over the entry's."""
        return {**self.provisional, **self.intensity}

    def next_update(self, data: HomeData, now: datetime) -> datetime:
        """Every half hour (the sensors follow the statistics, which move hourly)."""
        return now.replace(minute=30 if now.minute < 30 else 0, second=5, microsecond=0) + (
            timedelta(0) if now.minute < 30 else HOUR
        )

    def devices(self, data: HomeData) -> list[DeviceSpec]:
        """The home as one device."""
        return [DeviceSpec(key=KEY, name=self.name, manufacturer="Energy Hub", model="Home")]

    def readings(self, data: HomeData, now: datetime) -> list[Reading]:
        """Totals today and this month per output; the live power figures."""
        out: list[Reading] = []
        outputs = {output.key: output for output in self.outputs()}
        for key, (today, month) in data.totals.items():
            if (output := outputs.get(key)) is None:
                continue
            unit = self.currency if output.kind == "money" else None
            for period, value in (("today", today), ("month", month)):
                out.append(
                    Reading(
                        metric=f"home_{output.group}_{period}",
                        value=value,
                        device=KEY,
                        variant=output.variant,
                        label=output.label,
                        unit=unit,
                    )
                )
        out.extend(self._power_readings())
        return out

    def tracked_entities(self) -> list[str]:
        """Power sensors whose changes move the live readings."""
        return [
            entity
            for entity in (
                str(self.options.get(CONF_GRID_POWER) or ""),
                *stat_list(self.options.get(CONF_SOLAR_POWER)),
                *stat_list(self.options.get(CONF_BATTERY_POWER)),
            )
            if entity
        ]

    def _power(self, entity_id: str) -> float | None:
        """A power sensor's state in W (kW and MW converted); None when unknown."""
        if self.hass is None or (state := self.hass.states.get(entity_id)) is None:
            return None
        value = _number(state.state)
        if value is None:
            return None
        unit = state.attributes.get("unit_of_measurement")
        return value * {"kW": 1e3, "MW": 1e6, "GW": 1e9}.get(str(unit), 1.0)

    def _power_readings(self) -> list[Reading]:
        grid_entity = str(self.options.get(CONF_GRID_POWER) or "")
        grid = self._power(grid_entity) if grid_entity else None
        out: list[Reading] = []
        if grid_entity:
            grams = self._intensity_now()
            rate = (
                None if grid is None or grams is None else round(max(grid, 0.0) * grams / 1000, 1)
            )
            out.append(Reading(metric="home_emissions_rate", value=rate, device=KEY))
            powers = [self._power(e) for e in stat_list(self.options.get(CONF_SOLAR_POWER))]
            batteries = [self._power(e) for e in stat_list(self.options.get(CONF_BATTERY_POWER))]
            home = None
            if grid is not None and None not in powers and None not in batteries:
                home = round(max(grid + sum(powers) + sum(batteries), 0.0), 1)  # type: ignore[arg-type]
            out.append(Reading(metric="home_power", value=home, device=KEY))
        return out

    def _intensity_now(self) -> float | None:
        now = dt_util.utcnow()
        slot = now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0)
        self._take_current_intensity()
        return self._intensities().get(slot)

    # --- history -----------------------------------------------------------------------
    def next_history(self, now: datetime) -> datetime | None:
        """Every hour, a few minutes after Home Assistant compiled the last hour."""
        at = now.replace(minute=HISTORY_MINUTE, second=0, microsecond=0)
        return at if at > now else at + HOUR

    async def async_history_from(
        self, data: HomeData, starts: Mapping[str, datetime], now: datetime
    ) -> AsyncIterator[HistorySeries]:
        """Every output from the earliest start its statistics need; those that need no
        intensity or price first, so an outage of those loses nothing else."""
        inputs = await self._async_inputs(min(starts.values()), now)
        # The outputs are pure functions of what was read: computed in the executor, the loop
        # is not held for a year of hours (tens of ms each).
        off_loop = self._hass().async_add_executor_job
        specs = {output.key: (output, self._spec(output)) for output in self.outputs()}
        if "consumption" in specs:
            hours = await off_loop(home_consumption, inputs)
            yield HistorySeries(spec=specs["consumption"][1], hours=hours)
        needed = sorted(
            {
                *inputs.grid_hours(),
                *(h for b in inputs.batteries for h in _own_hours(b.charge, b.discharge)),
            }
        )
        if any(output.kind == "co2" for output, _spec in specs.values()):
            await self._async_fill_intensity(needed, now)
            points = [(at, at + HALF_HOUR, g) for at, g in sorted(self._intensities().items())]
            grams = await off_loop(hourly_means, points, needed)
            for key, hours in (await off_loop(footprints, inputs, grams)).items():
                if key in specs:
                    yield HistorySeries(spec=specs[key][1], hours=hours)
            for battery in inputs.batteries:
                if (found := specs.get(f"battery_co2_{battery.key}")) is not None:
                    hours = await off_loop(battery_values, battery, grams, 1e-3)
                    yield HistorySeries(spec=found[1], hours=hours)
        if self.priced:
            device_hours = {h for hours in inputs.devices.values() for h in hours}
            prices = await self._async_prices(sorted({*needed, *device_hours}), now)
            for battery in inputs.batteries:
                if (found := specs.get(f"battery_value_{battery.key}")) is not None:
                    hours = await off_loop(battery_values, battery, prices)
                    yield HistorySeries(spec=found[1], hours=hours)
            for key, energy in inputs.devices.items():
                if (found := specs.get(f"cost_{key}")) is not None:
                    hours = await off_loop(device_costs, energy, prices)
                    yield HistorySeries(spec=found[1], hours=hours)
        self._forget_before(now - KEEP_INTENSITY)

    def _forget_before(self, when: datetime) -> None:
        """Memory stays small after a backfill: the hourly runs only rewrite the last week (a
        rebuild from further back asks the API again)."""
        for held in (self.intensity, self.provisional):
            for at in [at for at in held if at < when]:
                del held[at]
        self._asked = [(lo, hi) for lo, hi in self._asked if hi > when]

    async def _async_inputs(self, since: datetime, now: datetime) -> Inputs:
        """Every input's hourly changes from ``since`` (kWh), read in the recorder's executor."""
        hass = self._hass()
        imports = self._imports()
        exports = stat_list(self.options.get(CONF_GRID_EXPORT))
        lists = {key: stat_list(self.options.get(key)) for key in LIST_STATISTICS}
        wanted = {*imports, *exports, *(s for ids in lists.values() for s in ids)}
        changes = await get_instance(hass).async_add_executor_job(
            _read_changes, hass, since, wanted
        )
        # The grid meters decide how far the home goes: an hour is computed once import and
        # export have it. Solar and battery statistics may skip hours (a plant's night) and are
        # counted as nothing where they have no row; one that comes late is taken in when the
        # next run rewrites the last week.
        grid = [changes[s] for s in (*imports[:1], *exports[:1])]
        until = min(max(series) + HOUR for series in grid) if grid and all(grid) else None
        return Inputs(
            imports=changes[imports[0]] if imports else {},
            exports=changes[exports[0]] if exports else None,
            solar=[changes[s] for s in lists[CONF_SOLAR]],
            charge=[changes[s] for s in lists[CONF_BATTERY_CHARGE]],
            discharge=[changes[s] for s in lists[CONF_BATTERY_DISCHARGE]],
            until=until,
            batteries=[
                Battery(
                    key=statistic_key(discharge),
                    charge=changes[charge],
                    discharge=changes[discharge],
                )
                for charge, discharge in self._batteries()
            ],
            devices={statistic_key(stat): changes[stat] for stat in lists[CONF_DEVICES]},
        )

    async def _async_fill_intensity(self, hours: Sequence[datetime], now: datetime) -> None:
        """Fetch the half-hours of ``hours`` that are not held; only when one older than
        :data:`INTENSITY_REFETCH_AGE` is missing (newer ones come from the Carbon Intensity
        entry as it moves on, without requests)."""
        self._take_current_intensity()
        if self.intensity_history is None or not hours:
            return
        old = [
            half
            for hour in hours
            for half in (hour, hour + HALF_HOUR)
            if half not in self.intensity
            and half + HALF_HOUR <= now - INTENSITY_REFETCH_AGE
            and not any(lo <= half < hi for lo, hi in self._asked)
        ]
        if not old:
            return
        end = now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0)
        async for chunk in self.intensity_history(min(old), end):
            for point in chunk:
                self.intensity[point.start] = float(point.value)
                self.provisional.pop(point.start, None)
        # Asked: a half-hour the answer did not hold, once a day old, is a hole in the
        # API's record, not asked for again (an outage would otherwise cost a year's range
        # every hour).
        self._asked.append((min(old), end - INTENSITY_REFETCH_AGE))

    async def _async_prices(
        self, hours: Sequence[datetime], now: datetime
    ) -> dict[datetime, float]:
        """Each hour's time-weighted mean price from the chosen tariff entry (held rates; an
        Octopus account fetches what it does not hold yet); empty while it is not loaded."""
        entry = self._tariff_entry()
        if entry is None or not hours:
            return {}
        source, data = entry.runtime_data.source, entry.runtime_data.data
        start, end = min(hours), max(hours) + HOUR
        if (fetch := getattr(source, "async_rates_between", None)) is not None:
            rates = await fetch(data, start, end, None, now)
        else:
            rates = source.rates_between(data, start, end, None)
        points = [(r.start, r.end, r.value) for r in rates or ()]
        return await self._hass().async_add_executor_job(hourly_means, points, hours)

    def _tariff_entry(self) -> Any:
        """The chosen tariff's entry while it is loaded (its source holds the rates)."""
        entry_id = self.options.get(CONF_TARIFF)
        if self.hass is None or not entry_id:
            return None
        entry = self.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        return entry

    def _currency(self) -> str:
        """The tariff's currency (GBP for Octopus), else Home Assistant's."""
        entry = self._tariff_entry()
        if entry is not None and entry.data.get(CONF_SOURCE) == "octopus":
            return "GBP"
        if entry is not None and entry.data.get("currency"):
            return str(entry.data["currency"])
        return str(self._hass().config.currency)

    def diagnostics(self, data: HomeData | None) -> dict[str, Any]:
        """The inputs chosen (statistic ids carry no secret) and what is held."""
        return {
            "inputs": {key: self.options.get(key) for key in INPUT_OPTIONS},
            "outputs": self.output_keys(),
            "intensity_half_hours_held": len(self.intensity),
            "totals": {k: list(v) for k, v in (data.totals.items() if data else ())},
        }


def _half_hours(start: datetime, end: datetime) -> Iterable[datetime]:
    at = start
    while at < end:
        yield at
        at += HALF_HOUR


def _read_changes(
    hass: HomeAssistant, since: datetime, wanted: set[str]
) -> dict[str, dict[datetime, float]]:
    """Every statistic's hourly changes from ``since`` (kWh): in the recorder's executor."""
    rows: dict[str, list[Any]] = statistics_during_period(
        hass, since, None, wanted, "hour", {"energy": UnitOfEnergy.KILO_WATT_HOUR}, {"change"}
    )
    return {stat: _hourly(rows.get(stat, [])) for stat in wanted}


def _hourly(rows: Sequence[Mapping[str, Any]]) -> dict[datetime, float]:
    """Hour start -> change, from the recorder's rows (None changes dropped)."""
    out: dict[datetime, float] = {}
    for row in rows:
        change = row.get("change")
        if change is None or not math.isfinite(float(change)):
            continue
        out[datetime.fromtimestamp(float(row["start"]), UTC)] = float(change)
    return out


def statistic_key(stat_id: str) -> str:
    """A statistic id as a key part (``sensor.ev_energy`` -> ``sensor_ev_energy``)."""
    return "".join(c if c.isalnum() else "_" for c in stat_id.lower()).strip("_")


def tariff_entries(hass: HomeAssistant) -> dict[str, str]:
    """Entries whose import rates can price the home: id -> title."""
    return {
        entry.entry_id: entry.title
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_SOURCE) in TARIFF_SOURCES
        and entry.data.get("direction", "import") == "import"
    }


def carbon_entries(hass: HomeAssistant) -> dict[str, str]:
    """Carbon Intensity entries: id -> title."""
    return {
        entry.entry_id: entry.title
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_SOURCE) == CARBON_KEY
    }


async def async_energy_defaults(hass: HomeAssistant) -> dict[str, Any]:
    """The inputs the Energy dashboard already names: the first grid connection's import,
    export and power; every solar source and battery; and the only (or first) Carbon Intensity
    entry."""
    defaults: dict[str, Any] = {}
    carbon = carbon_entries(hass)
    if carbon:
        defaults[CONF_CARBON_ENTRY] = next(iter(carbon))
    if tariffs := tariff_entries(hass):
        defaults[CONF_TARIFF] = next(iter(tariffs))
    manager = await async_get_energy_manager(hass)
    prefs: Mapping[str, Any] = manager.data or {}
    solar: list[str] = []
    charge: list[str] = []
    discharge: list[str] = []
    solar_power: list[str] = []
    battery_power: list[str] = []
    for source in prefs.get("energy_sources", []):
        kind = source.get("type")
        if kind == "grid":
            if not defaults.get(CONF_GRID_IMPORT) and source.get("stat_energy_from"):
                defaults[CONF_GRID_IMPORT] = source["stat_energy_from"]
                if source.get("stat_energy_to"):
                    defaults[CONF_GRID_EXPORT] = source["stat_energy_to"]
                if _is_entity(source.get("stat_rate")):
                    defaults[CONF_GRID_POWER] = source["stat_rate"]
        elif kind == "solar":
            solar.append(source["stat_energy_from"])
            if _is_entity(source.get("stat_rate")):
                solar_power.append(source["stat_rate"])
        elif kind == "battery":
            discharge.append(source["stat_energy_from"])
            charge.append(source["stat_energy_to"])
            if _is_entity(source.get("stat_rate")):
                battery_power.append(source["stat_rate"])
    if not defaults.get(CONF_GRID_IMPORT):
        defaults |= _octopus_meters(hass)
    defaults |= {
        CONF_SOLAR: solar,
        CONF_BATTERY_CHARGE: charge,
        CONF_BATTERY_DISCHARGE: discharge,
        CONF_SOLAR_POWER: solar_power,
        CONF_BATTERY_POWER: battery_power,
    }
    return defaults


def _octopus_meters(hass: HomeAssistant) -> dict[str, str]:
    """An Octopus account's import and export energy statistics, when the Energy dashboard
    names no grid connection yet (the first loaded account)."""
    # Not at the top: statistics imports the sources package, which imports this module.
    from ..statistics import statistic_id  # noqa: PLC0415

    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.data.get(CONF_SOURCE) != "octopus" or entry.state is not ConfigEntryState.LOADED:
            continue
        specs = entry.runtime_data.source.statistic_specs(entry.runtime_data.data)
        found = {
            key: statistic_id(spec)
            for spec in specs
            for key, suffix in (
                (CONF_GRID_IMPORT, "_import_energy"),
                (CONF_GRID_EXPORT, "_export_energy"),
            )
            if spec.key.endswith(suffix)
        }
        if CONF_GRID_IMPORT in found:
            return found
    return {}


def _is_entity(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("sensor.")
