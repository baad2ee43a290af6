"""Service actions, registered once for the domain."""

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol, runtime_checkable

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, service
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN
from .coordinator import EnergyHubConfigEntry
from .planning import (
    MAX_DURATION,
    MIN_DURATION,
    IntensityPoint,
    NoWindowData,
    Objective,
    Window,
    find_windows,
)
from .sources.rates import Rate
from .xolta_actions import async_setup_xolta_actions

SERVICE_REBUILD_STATISTICS = "rebuild_statistics"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_START = "start"

REBUILD_SCHEMA = vol.Schema(
    {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string, vol.Required(ATTR_START): cv.date}
)


async def _async_rebuild_statistics(call: ServiceCall) -> ServiceResponse:
    entry: EnergyHubConfigEntry = service.async_get_config_entry(
        call.hass, DOMAIN, call.data[ATTR_CONFIG_ENTRY_ID]
    )
    coordinator = entry.runtime_data
    if not coordinator.has_history:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_statistics",
            translation_placeholders={"name": entry.title},
        )
    start: date = call.data[ATTR_START]
    if start > dt_util.now().date():
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="start_in_future")
    local_midnight = datetime(
        start.year, start.month, start.day, tzinfo=dt_util.get_default_time_zone()
    )
    written = await coordinator.async_rebuild_history(dt_util.as_utc(local_midnight))
    return {"hours_written": dict[str, Any](written)}


SERVICE_FIND_WINDOW = "find_window"
ATTR_DURATION = "duration"
ATTR_EARLIEST_START = "earliest_start"
ATTR_LATEST_END = "latest_end"
ATTR_OBJECTIVE = "objective"
ATTR_CARBON_PRICE = "carbon_price"
ATTR_TARIFF_ENTRY_ID = "tariff_entry_id"
ATTR_METER = "meter"
ATTR_CARBON_ENTRY_ID = "carbon_entry_id"
ATTR_KWH = "kwh"
#: Without a latest end, windows end within this long after the earliest start (the
#: farthest any held forecast or day-ahead price reaches).
DEFAULT_HORIZON = timedelta(hours=48)
#: Prices of Octopus entries (typed-in tariffs carry their own currency).
DEFAULT_CURRENCY = "GBP"
_INSTANT = vol.Any(cv.datetime, cv.time)

FIND_WINDOW_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DURATION): cv.positive_time_period,
        vol.Optional(ATTR_EARLIEST_START): _INSTANT,
        vol.Optional(ATTR_LATEST_END): _INSTANT,
        vol.Optional(ATTR_OBJECTIVE, default=Objective.PRICE.value): vol.In(
            [objective.value for objective in Objective]
        ),
        vol.Optional(ATTR_CARBON_PRICE): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional(ATTR_TARIFF_ENTRY_ID): cv.string,
        vol.Optional(ATTR_METER): cv.string,
        vol.Optional(ATTR_CARBON_ENTRY_ID): cv.string,
        vol.Optional(ATTR_KWH): vol.All(vol.Coerce(float), vol.Range(min=0)),
    }
)


@runtime_checkable
class HeldRates(Protocol):
    """A source holding a tariff's rates (Octopus, typed-in tariffs): read with no request."""

    def rates_between(
        self, data: Any, start: datetime, end: datetime, meter: str | None = None
    ) -> list[Rate] | None:
        """Rates over [start, end) of ``meter`` (None: the default one); None: no such meter."""


@runtime_checkable
class HeldIntensity(Protocol):
    """A source holding a carbon-intensity forecast: read with no request."""

    def intensity_between(self, data: Any, start: datetime, end: datetime) -> list[IntensityPoint]:
        """Intensities (gCO2/kWh) over [start, end)."""


def _shown(when: datetime) -> str:
    """A time as the user reads it in an error: local, to the minute, with the zone."""
    return dt_util.as_local(when).strftime("%Y-%m-%d %H:%M %Z")


def _instant(value: datetime | time, after: datetime, tz: tzinfo, *, strict: bool) -> datetime:
    """A datetime (naive: local), or a time of day: its next local occurrence after
    ``after`` (at or after it unless ``strict``)."""
    if isinstance(value, datetime):
        return dt_util.as_utc(value if value.tzinfo else value.replace(tzinfo=tz))
    day = dt_util.as_local(after).date()
    for offset in (0, 1, 2):
        candidate = datetime.combine(day + timedelta(days=offset), value, tzinfo=tz)
        candidate = dt_util.as_utc(candidate)
        if candidate > after or (candidate == after and not strict):
            return candidate
    raise AssertionError  # not reached: a time of day recurs within two days


def _ceil_minute(when: datetime) -> datetime:
    floor = when.replace(second=0, microsecond=0)
    return floor if floor == when else floor + timedelta(minutes=1)


def _loaded(call: ServiceCall, key: str) -> EnergyHubConfigEntry:
    entry: EnergyHubConfigEntry = service.async_get_config_entry(call.hass, DOMAIN, call.data[key])
    return entry


def _window_answer(window: Window, objective: Objective, kwh: float | None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "start": dt_util.as_local(window.start).isoformat(),
        "end": dt_util.as_local(window.end).isoformat(),
        "average_price": round(window.price, 6) if window.price is not None else None,
        "average_intensity": (round(window.intensity, 1) if window.intensity is not None else None),
    }
    if objective is Objective.BLEND:
        answer["average_blended_price"] = round(window.score, 6)
    if kwh is not None:
        answer["cost"] = round(kwh * window.price, 4) if window.price is not None else None
        answer["co2"] = (
            round(kwh * window.intensity / 1000, 3) if window.intensity is not None else None
        )
    return answer


async def _async_find_window(call: ServiceCall) -> ServiceResponse:
    """The best window to run a load and the next two, from held data only."""
    now = dt_util.utcnow()
    tz = dt_util.get_default_time_zone()
    objective = Objective(call.data[ATTR_OBJECTIVE])
    duration: timedelta = call.data[ATTR_DURATION]
    minutes = str(round(duration.total_seconds() / 60))
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_window_duration",
            translation_placeholders={"minutes": minutes},
        )
    earliest = now
    if (raw := call.data.get(ATTR_EARLIEST_START)) is not None:
        earliest = max(_instant(raw, now, tz, strict=False), now)
    earliest = _ceil_minute(earliest)
    latest = earliest + DEFAULT_HORIZON
    if (raw := call.data.get(ATTR_LATEST_END)) is not None:
        latest = _instant(raw, earliest, tz, strict=True)
    span = {"minutes": minutes, "start": _shown(earliest), "end": _shown(latest)}
    if latest - earliest < duration:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="window_too_long",
            translation_placeholders=span,
        )
    needs = {"objective": objective.value}
    if objective.needs_prices and not call.data.get(ATTR_TARIFF_ENTRY_ID):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="window_needs_tariff",
            translation_placeholders=needs,
        )
    if objective.needs_intensity and not call.data.get(ATTR_CARBON_ENTRY_ID):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="window_needs_carbon",
            translation_placeholders=needs,
        )
    carbon_price = call.data.get(ATTR_CARBON_PRICE)
    if objective is Objective.BLEND and carbon_price is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="window_needs_carbon_price"
        )
    names: list[str] = []
    prices: list[Rate] | None = None
    currency = DEFAULT_CURRENCY
    if call.data.get(ATTR_TARIFF_ENTRY_ID):
        entry = _loaded(call, ATTR_TARIFF_ENTRY_ID)
        source = entry.runtime_data.source
        if not isinstance(source, HeldRates):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_tariff_entry",
                translation_placeholders={"name": entry.title},
            )
        meter = call.data.get(ATTR_METER)
        prices = source.rates_between(entry.runtime_data.data, now, latest, meter)
        if prices is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_meter",
                translation_placeholders={"name": entry.title, "meter": str(meter)},
            )
        currency = str(getattr(source, "currency", DEFAULT_CURRENCY))
        names.append(entry.title)
    intensities: list[IntensityPoint] | None = None
    if call.data.get(ATTR_CARBON_ENTRY_ID):
        entry = _loaded(call, ATTR_CARBON_ENTRY_ID)
        carbon = entry.runtime_data.source
        if not isinstance(carbon, HeldIntensity):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_carbon_entry",
                translation_placeholders={"name": entry.title},
            )
        intensities = carbon.intensity_between(entry.runtime_data.data, now, latest)
        names.append(entry.title)
    try:
        windows = find_windows(
            objective=objective,
            duration=duration,
            earliest=earliest,
            latest=latest,
            prices=prices,
            intensities=intensities,
            carbon_price=carbon_price or 0.0,
        )
    except NoWindowData as err:
        # From now on, so the message says how far the held data reach even when they end
        # before the earliest start.
        held = {**span, "entries": ", ".join(names)}
        if err.until is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_window_data_held",
                translation_placeholders=held,
            ) from err
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_window_data",
            translation_placeholders={**held, "until": _shown(err.until)},
        ) from err
    kwh = call.data.get(ATTR_KWH)
    return {
        "objective": objective.value,
        "duration_minutes": int(minutes),
        "currency": currency,
        "windows": [_window_answer(window, objective, kwh) for window in windows],
    }


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the domain's actions."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_FIND_WINDOW,
        _async_find_window,
        schema=FIND_WINDOW_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_REBUILD_STATISTICS,
        _async_rebuild_statistics,
        schema=REBUILD_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_setup_xolta_actions(hass)
