"""GB Carbon Intensity API (api.carbonintensity.org.uk), emulated.

Shapes follow `shared/vendor-apis/carbon-intensity.md` and its samples: `data` is a list for the
national and `/regional/postcode|regionid` endpoints but an OBJECT for
`/regional/intensity/{from}/{window}/postcode|regionid`; times are UTC with minute precision;
national slots carry `actual` once they have started, regional slots only `forecast`/`index`.

Data is a pure function of the slot and the region (weather-like sums of sines, the sun's
elevation, a demand curve and hash-seeded jitter), so every endpoint agrees on every slot and
the same clock always gives byte-identical responses.

Range endpoints (`/intensity/{from}/{to}`, `/regional/intensity/{from}/{to}[/regionid|postcode/..]`)
serve at most 14 days (HTTP 400 beyond) and end at the forecast horizon (the slot containing
"now" plus 48 h): a range asked further ahead ends early, as the real one does. The real API also
returns the half-hour that ends at `{from}`; this one starts at the half-hour containing it (its
older tests pin that). `intensity_truth` is what any endpoint serves for a half-hour. Holes:
`/_admin/carbon-intensity/gaps` (see `add_admin_routes`) takes half-hours out of every windowed
answer (ranges, fw24h/fw48h/pt24h), as an outage or a late forecast leaves them.

A well-formed outward code the API cannot place gets HTTP 400 "No postcode match can be found."
from `/regional/postcode/{postcode}` (the real answer for W7, carbon-intensity/api-definitions
issue 10) and an empty 200 from the `/regional/intensity/...` windows (Predbat's observation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import functools
import math
import re
from types import MappingProxyType
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from .common import (
    SLOT,
    JSONObject,
    as_utc,
    clamp,
    compact_number,
    empty_json_response,
    floor_slot,
    format_minute,
    json_response,
    noise,
    parse_date,
    parse_timestamp,
    round_shares,
    slot_starts,
    slot_starts_between,
    status_line,
    uk_utc_offset_hours,
    waves,
)
from .state import SandboxState

VENDOR: Final = "carbon_intensity"
MALFORMED_BODY: Final = '{"data": [{"from": '

MAX_RANGE: Final = timedelta(days=14)
"""Longest `{from}/{to}` range (documented for `/intensity/{from}/{to}`; applied to all)."""

HORIZON: Final = 96
"""Half-hours from the current one on that have a forecast (fw48h's extent): a `{from}/{to}`
range ends after them."""

GAPS: Final = web.AppKey("carbon_intensity_gaps", list[tuple[datetime, datetime]])
"""Spans `[from, to)` whose half-hours are missing from windowed answers (on the root app)."""
ADMIN_GAPS: Final = "/_admin/carbon-intensity/gaps"

WINDOWS: Final[Mapping[str, tuple[int, int]]] = {
    # name -> (first slot relative to the slot containing {from}, number of slots)
    "fw24h": (0, 48),
    "fw48h": (0, 96),
    "pt24h": (-48, 48),
}

FACTORS_SAMPLE: Final[JSONObject] = {
    "Biomass": 120,
    "Coal": 937,
    "Dutch Imports": 474,
    "French Imports": 53,
    "Gas (Combined Cycle)": 394,
    "Gas (Open Cycle)": 651,
    "Hydro": 0,
    "Irish Imports": 458,
    "Nuclear": 0,
    "Oil": 935,
    "Other": 300,
    "Pumped Storage": 0,
    "Solar": 0,
    "Wind": 0,
}
"""`GET /intensity/factors`, verbatim from the documented sample."""

FUEL_FACTORS: Final[Mapping[str, int]] = {
    "biomass": 120,
    "coal": 937,
    "imports": 180,  # a blend of the interconnectors: mostly French nuclear and Norwegian hydro
    "gas": 394,  # combined cycle
    "nuclear": 0,
    "other": 300,
    "hydro": 0,
    "solar": 0,
    "wind": 0,
    "storage": 0,  # pumped storage
}
"""gCO2/kWh per fuel of the generation mix; forecast = round(sum(perc * factor) / 100)."""

NATIONAL_FUELS: Final = (
    "gas",
    "coal",
    "biomass",
    "nuclear",
    "hydro",
    "imports",
    "other",
    "wind",
    "solar",
)
"""Fuel order of the national `/generation` sample (`storage` is appended when present)."""

REGIONAL_FUELS: Final = (
    "biomass",
    "coal",
    "imports",
    "gas",
    "nuclear",
    "other",
    "hydro",
    "solar",
    "wind",
)
"""Fuel order of the real regional responses."""

INDEX_BANDS: Final = ((25, "very low"), (90, "low"), (170, "moderate"), (230, "high"))
"""2026 upper bounds (exclusive) in gCO2/kWh; anything above is "very high"."""


def intensity_index(value: float) -> str:
    for upper, name in INDEX_BANDS:
        if value < upper:
            return name
    return "very high"


def error_body(status: int, message: str) -> JSONObject:
    """`{"error": {"code": "400 Bad Request", "message": "..."}}` as documented."""
    return {"error": {"code": status_line(status), "message": message}}


def _error(status: int, message: str) -> web.Response:
    return json_response(error_body(status, message), status=status)


# --- regions -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GridProfile:
    """How a region's generation differs from GB's (1.0 = like GB, relative to its demand)."""

    latitude: float
    longitude: float
    demand_share: float  # of GB demand, weights the England/Scotland/Wales aggregates
    wind: float
    solar: float
    nuclear: float
    hydro: float
    biomass: float
    imports: float  # interconnectors and flows from other regions
    gas: float
    coal: float = 0.0
    other: float = 1.0
    weather_lag_hours: float = 0.0  # fronts reach the north and west first


@dataclass(frozen=True, slots=True)
class Region:
    regionid: int
    shortname: str
    dnoregion: str
    profile: GridProfile | None = None  # None for the aggregates 15-17
    members: tuple[int, ...] = ()  # for the aggregates


NATIONAL: Final = GridProfile(
    latitude=53.0,
    longitude=-1.8,
    demand_share=1.0,
    wind=1.0,
    solar=1.0,
    nuclear=1.0,
    hydro=1.0,
    biomass=1.0,
    imports=1.0,
    gas=1.0,
    coal=1.0,
    weather_lag_hours=3.0,
)

# fmt: off
_REGION_TABLE: Final = (
    # id, shortname, dnoregion,
    #   lat, lon, demand share, then relative to GB: wind, solar, nuclear, hydro, biomass,
    #   imports, gas, coal, other, and the weather lag in hours
    (1, "North Scotland", "Scottish Hydro Electric Power Distribution",
        57.5, -4.2, 0.035, 3.4, 0.35, 0.0, 7.0, 0.8, 0.15, 0.25, 0.0, 0.4, 0.0),
    (2, "South Scotland", "SP Distribution",
        55.8, -3.6, 0.070, 2.3, 0.45, 1.7, 1.5, 0.5, 0.3, 0.35, 0.0, 0.8, 1.0),
    (3, "North West England", "Electricity North West",
        53.8, -2.6, 0.085, 1.0, 0.75, 1.3, 0.3, 0.6, 1.1, 0.9, 0.3, 1.0, 1.0),
    (4, "North East England", "NPG North East",
        54.8, -1.6, 0.040, 1.3, 0.7, 1.5, 0.2, 1.0, 0.9, 0.8, 0.3, 1.0, 2.0),
    (5, "Yorkshire", "NPG Yorkshire",
        53.8, -1.3, 0.075, 1.0, 0.8, 0.0, 0.2, 2.4, 0.9, 0.95, 0.8, 1.2, 3.0),
    (6, "North Wales and Merseyside", "SP Manweb",
        53.2, -3.1, 0.050, 1.2, 0.8, 0.0, 0.8, 0.5, 1.4, 1.0, 0.3, 1.0, 0.5),
    (7, "South Wales", "WPD South Wales",
        51.6, -3.4, 0.045, 0.8, 1.1, 0.0, 0.5, 0.5, 1.1, 1.2, 0.6, 1.0, 0.0),
    (8, "West Midlands", "WPD West Midlands",
        52.5, -2.0, 0.080, 0.55, 0.9, 0.0, 0.1, 0.7, 1.6, 1.1, 0.6, 1.2, 3.0),
    (9, "East Midlands", "WPD East Midlands",
        52.9, -1.1, 0.075, 0.6, 1.0, 0.0, 0.1, 1.2, 1.2, 1.15, 1.0, 1.0, 4.0),
    (10, "East England", "UKPN East",
        52.3, 0.7, 0.095, 1.4, 1.3, 1.8, 0.0, 0.8, 0.8, 0.8, 0.3, 0.8, 5.0),
    (11, "South West England", "WPD South West",
        50.7, -3.5, 0.060, 0.6, 1.6, 0.2, 0.2, 0.3, 2.0, 0.75, 0.0, 0.6, 0.0),
    (12, "South England", "SSE South",
        51.0, -1.3, 0.095, 0.6, 1.3, 0.1, 0.1, 0.6, 1.6, 0.85, 0.3, 1.0, 2.0),
    (13, "London", "UKPN London",
        51.5, -0.1, 0.110, 0.55, 0.6, 0.2, 0.0, 0.8, 1.8, 0.9, 0.3, 1.5, 4.0),
    (14, "South East England", "UKPN South East",
        51.2, 0.6, 0.075, 0.9, 1.3, 0.3, 0.0, 0.5, 2.2, 0.7, 0.3, 0.8, 5.0),
)
# fmt: on

REGIONS: Final[Mapping[int, Region]] = {
    **{row[0]: Region(row[0], row[1], row[2], GridProfile(*row[3:])) for row in _REGION_TABLE},
    15: Region(15, "England", "England", members=(3, 4, 5, 8, 9, 10, 11, 12, 13, 14)),
    16: Region(16, "Scotland", "Scotland", members=(1, 2)),
    17: Region(17, "Wales", "Wales", members=(6, 7)),
}
"""Regions 1-14 (DNO areas) and the aggregates 15-17, names exactly as the API returns them."""

AGGREGATE_PATHS: Final[Mapping[str, int]] = {"england": 15, "scotland": 16, "wales": 17}

POSTCODE_AREAS: Final[Mapping[str, int]] = {
    area: regionid
    for regionid, areas in (
        (1, "AB IV KW PH PA DD HS ZE"),
        (2, "EH G KA ML DG TD FK KY"),
        (3, "M PR BB BL WN WA OL SK LA CA FY"),
        (4, "NE DH SR TS DL"),
        (5, "LS BD HX HD HG YO S DN HU WF"),
        (6, "L CH LL SY CW"),
        (7, "CF NP SA LD"),
        (8, "B WV WS DY CV WR HR ST TF"),
        (9, "NG DE LE LN NN PE"),
        (10, "CB CO IP NR CM SG LU MK AL SS WD HP"),
        (11, "BS BA EX PL TQ TR TA GL"),
        (12, "SO PO BH SP RG OX GU SN DT SL"),
        (13, "E EC N NW SE SW W WC EN HA UB IG RM"),
        (14, "BN CT ME TN RH CR BR DA KT SM TW"),
    )
    for area in areas.split()
}
"""GB postcode area (letters of the outward code) -> region. BT (Northern Ireland), the Channel
Islands and the Isle of Man are not on the GB grid: valid syntax, no data."""

OUTWARD_CODE: Final = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def region_for_postcode(outward: str) -> int | None:
    """Region of a valid upper-case outward code; None if its area is not on the GB grid."""
    area = outward[:2] if outward[1:2].isalpha() else outward[:1]
    return POSTCODE_AREAS.get(area)


# --- the model ---------------------------------------------------------------------------------

_DEMAND_BY_LOCAL_HOUR: Final = (
    0.70, 0.66, 0.63, 0.61, 0.61, 0.63, 0.70, 0.80, 0.88, 0.91, 0.92, 0.92,
    0.91, 0.90, 0.89, 0.90, 0.95, 1.02, 1.04, 0.99, 0.92, 0.86, 0.80, 0.75,
)  # fmt: skip
"""GB demand through a local (clock) day, relative to the early-evening peak."""


@dataclass(frozen=True, slots=True)
class SlotData:
    """One half-hour of one region (or of GB): the mix and the intensity it implies."""

    start: datetime
    mix: Mapping[str, float]  # percent, one decimal, sums to exactly 100.0 (in tenths)
    forecast: int

    @property
    def end(self) -> datetime:
        return self.start + SLOT

    @property
    def index(self) -> str:
        return intensity_index(self.forecast)


def _mix_intensity(mix: Mapping[str, float]) -> int:
    return round(sum(perc * FUEL_FACTORS.get(fuel, 0) for fuel, perc in mix.items()) / 100)


def _day_of_year(moment: datetime) -> float:
    return moment.timetuple().tm_yday + (moment.hour + moment.minute / 60) / 24


def _demand(moment: datetime) -> float:
    """GB demand at `moment`, ~0.5 (summer weekend night) to ~1.16 (winter weekday peak)."""
    local = moment + timedelta(hours=uk_utc_offset_hours(moment))
    hour = local.hour + local.minute / 60
    low = _DEMAND_BY_LOCAL_HOUR[int(hour) % 24]
    high = _DEMAND_BY_LOCAL_HOUR[(int(hour) + 1) % 24]
    shape = low + (high - low) * (hour - int(hour))
    winter = math.cos(2 * math.pi * (_day_of_year(moment) - 15) / 365.25)
    weekend = 0.92 if local.weekday() >= 5 else 1.0
    return shape * (1 + 0.12 * winter) * weekend


def _wind(days: float, day_of_year: float) -> float:
    """Wind capacity factor: fronts passing over days, windier in winter; 0.03-0.97."""
    level = 0.45 + waves(
        days, ((0.21, 4.3, 0.7), (0.13, 2.1, 2.1), (0.08, 9.7, 4.0), (0.035, 0.9, 1.3))
    )
    level += 0.10 * math.cos(2 * math.pi * (day_of_year - 20) / 365.25)
    return clamp(level, 0.03, 0.97)


def _sun(moment: datetime, latitude: float, longitude: float) -> float:
    """Sine of the sun's elevation (0 below the horizon), a proxy for PV output per capacity."""
    day_of_year = _day_of_year(moment)
    declination = math.radians(23.44) * math.sin(2 * math.pi * (284 + day_of_year) / 365)
    solar_hour = moment.hour + moment.minute / 60 + longitude / 15
    hour_angle = math.radians(15 * (solar_hour - 12))
    lat = math.radians(latitude)
    elevation = math.sin(lat) * math.sin(declination) + math.cos(lat) * math.cos(
        declination
    ) * math.cos(hour_angle)
    return math.pow(max(0.0, elevation), 1.2)


def _raw_mix(start: datetime, profile: GridProfile, seed: int, storage: bool) -> dict[str, float]:
    """Generation by fuel, in units of GB-like demand, for the slot starting at `start`."""
    mid = start + SLOT / 2
    stamp = int(start.timestamp())
    days = mid.timestamp() / 86400
    day_of_year = _day_of_year(mid)
    demand = _demand(mid) * (1 + 0.015 * noise("demand", seed, stamp))

    wind_cf = _wind(days - profile.weather_lag_hours / 24, day_of_year)
    wind_cf = clamp(wind_cf * (1 + 0.04 * noise("wind", seed, stamp)), 0.02, 0.98)
    clouds = clamp(
        0.68
        + waves(days + seed / 7, ((0.17, 3.1, 0.3), (0.10, 1.3, 1.9)))
        - 0.2 * wind_cf
        + 0.04 * noise("clouds", seed, stamp),
        0.2,
        1.0,
    )

    gen = {
        "wind": 0.62 * profile.wind * wind_cf,
        "solar": 0.40 * profile.solar * _sun(mid, profile.latitude, profile.longitude) * clouds,
        "nuclear": 0.14 * profile.nuclear * (1 + 0.06 * math.sin(2 * math.pi * days / 23 + seed)),
        "hydro": 0.018 * profile.hydro * (0.6 + 0.8 * wind_cf),
        "biomass": 0.05 * profile.biomass * (0.75 + 0.35 * clamp((demand - 0.6) / 0.45, 0, 1)),
        "other": 0.012 * profile.other,
        "imports": 0.12
        * profile.imports
        * (0.55 + 0.7 * (1 - wind_cf))
        * (1 + 0.08 * noise("imports", seed, stamp)),
    }
    if storage:
        local_hour = (mid.hour + mid.minute / 60 + uk_utc_offset_hours(mid)) % 24
        if 16 <= local_hour < 20:
            gen["storage"] = 0.012 * math.sin(math.pi * (local_hour - 16) / 4)
    firm = sum(gen.values())
    tightness = clamp((demand - firm) / demand, 0.0, 1.0)
    gen["coal"] = 0.006 * profile.coal * clamp((tightness - 0.45) * 3, 0.0, 1.0)
    gen["gas"] = profile.gas * max(0.07, demand - firm - gen["coal"])
    return gen


def _ordered_shares(raw: Mapping[str, float], order: Iterable[str]) -> dict[str, float]:
    shares = round_shares(dict(raw))
    ordered = {fuel: shares[fuel] for fuel in order}
    ordered.update((fuel, share) for fuel, share in shares.items() if fuel not in ordered)
    return ordered


def _slot_from_raw(start: datetime, raw: Mapping[str, float], order: Iterable[str]) -> SlotData:
    mix = MappingProxyType(_ordered_shares(raw, order))  # read-only: slots are cached
    return SlotData(start=start, mix=mix, forecast=_mix_intensity(mix))


@functools.lru_cache(maxsize=8192)
def national_slot(start: datetime) -> SlotData:
    """GB for the slot starting at `start` (a slot boundary)."""
    return _slot_from_raw(start, _raw_mix(start, NATIONAL, 0, storage=True), NATIONAL_FUELS)


@functools.lru_cache(maxsize=8192)
def _regional_raw(regionid: int, start: datetime) -> Mapping[str, float]:
    """Mix fractions (summing to 1) of a region before rounding; aggregates weight members."""
    region = REGIONS[regionid]
    if region.profile is not None:
        raw = _raw_mix(start, region.profile, regionid, storage=False)
        total = sum(raw.values())
        return {fuel: value / total for fuel, value in raw.items()}
    members = [REGIONS[member] for member in region.members]
    weights = [member.profile.demand_share if member.profile else 0.0 for member in members]
    combined = dict.fromkeys(REGIONAL_FUELS, 0.0)
    for member, weight in zip(members, weights, strict=True):
        for fuel, fraction in _regional_raw(member.regionid, start).items():
            combined[fuel] += weight * fraction
    return combined


@functools.lru_cache(maxsize=16384)
def regional_slot(regionid: int, start: datetime) -> SlotData:
    """Region 1-17 for the slot starting at `start` (a slot boundary)."""
    return _slot_from_raw(start, _regional_raw(regionid, start), REGIONAL_FUELS)


def national_actual(slot: SlotData) -> int:
    """The settled ("actual") intensity: the forecast off by a smooth error within +-8 %."""
    stamp = int(slot.start.timestamp())
    error = 0.045 * math.sin(stamp / 86400 * 2 * math.pi / 1.7) + 0.03 * noise("actual", stamp)
    return round(slot.forecast * (1 + error))


def intensity_truth(
    start: datetime,
    region_id: int | None = None,
    *,
    postcode: str | None = None,
    now: datetime,
) -> int:
    """The intensity every endpoint serves for the half-hour starting at `start` (gCO2/kWh), as
    a client should use it: national, the actual once the half-hour has started by `now`, else
    the forecast; a region (`region_id` 1-17, or an outward code's region), its forecast.

    Holes set with `/_admin/carbon-intensity/gaps` are not known here: those half-hours are
    simply missing from the answers. Raises ValueError for a start off the half-hour, an
    unknown region or an off-grid postcode."""
    moment = as_utc(start)
    if moment != floor_slot(moment):
        raise ValueError(f"{start!r} is not the start of a half-hour")
    if postcode is not None:
        region_id = region_for_postcode(postcode.strip().upper())
        if region_id is None:
            raise ValueError(f"postcode {postcode!r} is not on the GB grid")
    if region_id is None:
        slot = national_slot(moment)
        return national_actual(slot) if slot.start <= as_utc(now) else slot.forecast
    if region_id not in REGIONS:
        raise ValueError(f"unknown region {region_id}")
    return regional_slot(region_id, moment).forecast


# --- JSON shapes -------------------------------------------------------------------------------


def _generationmix(slot: SlotData) -> list[JSONObject]:
    return [{"fuel": fuel, "perc": compact_number(perc)} for fuel, perc in slot.mix.items()]


def national_intensity_item(slot: SlotData, now: datetime) -> JSONObject:
    actual = national_actual(slot) if slot.start <= now else None
    return {
        "from": format_minute(slot.start),
        "to": format_minute(slot.end),
        "intensity": {"forecast": slot.forecast, "actual": actual, "index": slot.index},
    }


def national_generation_item(slot: SlotData) -> JSONObject:
    return {
        "from": format_minute(slot.start),
        "to": format_minute(slot.end),
        "generationmix": _generationmix(slot),
    }


def regional_slot_item(slot: SlotData) -> JSONObject:
    return {
        "from": format_minute(slot.start),
        "to": format_minute(slot.end),
        "intensity": {"forecast": slot.forecast, "index": slot.index},
        "generationmix": _generationmix(slot),
    }


def region_header(regionid: int, postcode: str | None) -> JSONObject:
    region = REGIONS[regionid]
    header: JSONObject = {
        "regionid": region.regionid,
        "dnoregion": region.dnoregion,
        "shortname": region.shortname,
    }
    if postcode is not None:
        header["postcode"] = postcode
    return header


def regions_item(start: datetime) -> JSONObject:
    """`{from, to, regions: [...]}` for all 17 regions, as `/regional` returns per slot."""
    regions = []
    for regionid in REGIONS:
        slot = regional_slot(regionid, start)
        item = region_header(regionid, None)
        item["intensity"] = {"forecast": slot.forecast, "index": slot.index}
        item["generationmix"] = _generationmix(slot)
        regions.append(item)
    return {"from": format_minute(start), "to": format_minute(start + SLOT), "regions": regions}


# --- request handling ----------------------------------------------------------------------------


NO_POSTCODE_MATCH: Final = "No postcode match can be found."
"""The message of the real API's 400 for an outward code it cannot place."""


class _BadRequest(Exception):
    """Raised by the parsers; becomes a 400 with the documented error body."""


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a regional request points: a region (None if the postcode is off-grid)."""

    regionid: int | None
    postcode: str | None  # normalised outward code, for postcode requests


def _parse_from(text: str) -> datetime:
    moment = parse_timestamp(text)
    if moment is None:
        raise _BadRequest(f"Invalid datetime '{text}': use ISO 8601, e.g. 2026-11-23T18:00Z")
    return moment


def _slot_range(from_text: str, to_text: str, now: datetime | None = None) -> list[datetime]:
    """Slot starts for `{from}/{window}` or `{from}/{to}` (that one cut at the horizon seen
    from `now`, if given)."""
    start = _parse_from(from_text)
    if to_text in WINDOWS:
        offset, count = WINDOWS[to_text]
        return list(slot_starts(floor_slot(start) + offset * SLOT, count))
    end = parse_timestamp(to_text)
    if end is None:
        raise _BadRequest(f"Invalid datetime '{to_text}': use ISO 8601, e.g. 2026-11-23T18:00Z")
    if end <= start:
        raise _BadRequest("The 'to' datetime must be after the 'from' datetime")
    if end - start > MAX_RANGE:
        raise _BadRequest("Date range too long: the maximum range is 14 days")
    if now is not None:  # past the forecast horizon there is nothing yet: the range ends early
        end = min(end, floor_slot(now) + HORIZON * SLOT)
    return list(slot_starts_between(start, end))


def _parse_place(kind: str, value: str) -> _Place:
    if kind == "postcode":
        outward = value.strip().upper()
        if not OUTWARD_CODE.match(outward):
            raise _BadRequest(f"Invalid postcode '{value}': give the outward code only, e.g. RG41")
        return _Place(region_for_postcode(outward), outward)
    regionid = _small_int(value)
    if regionid is None:
        raise _BadRequest(f"Invalid regionid '{value}': use an integer 1-17")
    return _Place(regionid if regionid in REGIONS else None, None)


def _small_int(text: str) -> int | None:
    return int(text) if re.fullmatch(r"[0-9]{1,4}", text) else None


class _Handlers:
    def __init__(self, state: SandboxState) -> None:
        self._state = state

    def _current(self) -> datetime:
        return floor_slot(self._state.now())

    def _window(self, request: web.Request) -> list[datetime]:
        """The slot starts a windowed request asks for, the horizon and the gaps taken out."""
        info = request.match_info
        starts = _slot_range(info["from"], info["to"], self._state.now())
        gaps = request.config_dict.get(GAPS) or ()
        return [s for s in starts if not any(low <= s < high for low, high in gaps)]

    async def intensity(self, request: web.Request) -> web.Response:
        return self._national([self._current()])

    async def intensity_factors(self, request: web.Request) -> web.Response:
        return json_response({"data": [dict(FACTORS_SAMPLE)]})

    async def intensity_at(self, request: web.Request) -> web.Response:
        return self._national([floor_slot(_parse_from(request.match_info["from"]))])

    async def intensity_range(self, request: web.Request) -> web.Response:
        return self._national(self._window(request))

    async def intensity_today(self, request: web.Request) -> web.Response:
        return self._national(self._day(self._state.now().date().isoformat(), None))

    async def intensity_date(self, request: web.Request) -> web.Response:
        info = request.match_info
        return self._national(self._day(info["date"], info.get("period")))

    async def generation(self, request: web.Request) -> web.Response:
        return json_response({"data": [national_generation_item(national_slot(self._current()))]})

    async def generation_range(self, request: web.Request) -> web.Response:
        starts = self._window(request)
        data = [national_generation_item(national_slot(start)) for start in starts]
        return json_response({"data": data})

    async def regional(self, request: web.Request) -> web.Response:
        return json_response({"data": [regions_item(self._current())]})

    async def regional_aggregate(self, request: web.Request) -> web.Response:
        regionid = AGGREGATE_PATHS[request.match_info["name"]]
        return self._regional_current(_Place(regionid, None))

    async def regional_current(self, request: web.Request) -> web.Response:
        info = request.match_info
        place = _parse_place(info["kind"], info["value"])
        if place.postcode is not None and place.regionid is None:
            raise _BadRequest(NO_POSTCODE_MATCH)
        return self._regional_current(place)

    async def regional_intensity_all(self, request: web.Request) -> web.Response:
        starts = self._window(request)
        return json_response({"data": [regions_item(start) for start in starts]})

    async def regional_intensity_place(self, request: web.Request) -> web.Response:
        info = request.match_info
        starts = self._window(request)
        place = _parse_place(info["kind"], info["value"])
        if place.regionid is None:
            return empty_json_response()
        payload = region_header(place.regionid, place.postcode)
        payload["data"] = [regional_slot_item(regional_slot(place.regionid, s)) for s in starts]
        return json_response({"data": payload})

    def _national(self, starts: Iterable[datetime]) -> web.Response:
        now = self._state.now()
        data = [national_intensity_item(national_slot(start), now) for start in starts]
        return json_response({"data": data})

    def _regional_current(self, place: _Place) -> web.Response:
        if place.regionid is None:
            return json_response({"data": []})
        item = region_header(place.regionid, place.postcode)
        item["data"] = [regional_slot_item(regional_slot(place.regionid, self._current()))]
        return json_response({"data": [item]})

    @staticmethod
    def _day(date_text: str, period_text: str | None) -> list[datetime]:
        day = parse_date(date_text)
        if day is None:
            raise _BadRequest(f"Invalid date '{date_text}': use YYYY-MM-DD")
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        starts = list(slot_starts(midnight, 48))
        if period_text is None:
            return starts
        period = _small_int(period_text)
        if period is None or not 1 <= period <= 48:
            raise _BadRequest(f"Invalid settlement period '{period_text}': use 1-48")
        return [starts[period - 1]]


@web.middleware
async def _bad_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _BadRequest as err:
        return _error(400, str(err))


def add_routes(app: web.Application, state: SandboxState) -> None:
    """Mount the API on `app` (the vendor's subapp: paths are relative to its prefix)."""
    handlers = _Handlers(state)
    app.middlewares.append(_bad_requests)
    place = "{kind:postcode|regionid}/{value}"
    app.router.add_routes(
        [
            web.get("/intensity", handlers.intensity),
            web.get("/intensity/factors", handlers.intensity_factors),
            web.get("/intensity/date", handlers.intensity_today),
            web.get("/intensity/date/{date}", handlers.intensity_date),
            web.get("/intensity/date/{date}/{period}", handlers.intensity_date),
            web.get("/intensity/{from}", handlers.intensity_at),
            web.get("/intensity/{from}/{to}", handlers.intensity_range),
            web.get("/generation", handlers.generation),
            web.get("/generation/{from}/{to}", handlers.generation_range),
            web.get("/regional", handlers.regional),
            web.get("/regional/{name:england|scotland|wales}", handlers.regional_aggregate),
            web.get(f"/regional/{place}", handlers.regional_current),
            web.get("/regional/intensity/{from}/{to}", handlers.regional_intensity_all),
            web.get(
                f"/regional/intensity/{{from}}/{{to}}/{place}", handlers.regional_intensity_place
            ),
        ]
    )


def add_admin_routes(app: web.Application, state: SandboxState) -> None:
    """Holes in the data, on the root app under `/_admin` (never counted as vendor requests):

    GET    /_admin/carbon-intensity/gaps              {"gaps": [{"from", "to"}]}
    PUT    /_admin/carbon-intensity/gaps/{from}/{to}  half-hours starting in [from, to)
                                                      are missing from windowed answers
    DELETE /_admin/carbon-intensity/gaps              no holes any more
    """
    gaps: list[tuple[datetime, datetime]] = []
    app[GAPS] = gaps

    def listing() -> web.Response:
        return json_response(
            {"gaps": [{"from": format_minute(a), "to": format_minute(b)} for a, b in gaps]}
        )

    async def list_gaps(request: web.Request) -> web.Response:
        return listing()

    async def add_gap(request: web.Request) -> web.Response:
        low = parse_timestamp(request.match_info["from"])
        high = parse_timestamp(request.match_info["to"])
        if low is None or high is None or high <= low:
            return _error(400, "Give two UTC times, the second after the first")
        gaps.append((low, high))
        return listing()

    async def clear_gaps(request: web.Request) -> web.Response:
        gaps.clear()
        return listing()

    app.router.add_routes(
        [
            web.get(ADMIN_GAPS, list_gaps),
            web.put(f"{ADMIN_GAPS}/{{from}}/{{to}}", add_gap),
            web.delete(ADMIN_GAPS, clear_gaps),
        ]
    )
