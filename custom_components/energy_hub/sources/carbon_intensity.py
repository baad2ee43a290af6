"""GB Carbon Intensity: national or regional intensity, its 48 h forecast and generation mix."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import itertools
from typing import Any, ClassVar

import aiohttp
from homeassistant.helpers import selector
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..api.carbon_intensity import (
    DEFAULT_BASE_URL,
    CarbonIntensityClient,
    GenerationMix,
    IntensitySlot,
    Region,
    outward_code,
    slot_start,
)
from ..api.errors import ApiError, ApiNotFoundError, ApiRateLimitedError
from ..const import CONF_ADVANCED, CONF_SOURCE, DOMAIN, LOGGER
from ..metrics import CARBON_INDEX_OPTIONS, KNOWN_FUELS
from .base import (
    CredentialsStep,
    DeviceSpec,
    EntrySpec,
    EntryUpdate,
    FlowError,
    FlowStep,
    FormSpec,
    Reading,
    Source,
    advanced_data,
    advanced_section,
    entry_base_url,
)

KEY = "carbon_intensity"
CONF_POSTCODE = "postcode"
CONF_REGION_ID = "region_id"
CONF_WINDOW_HOURS = "window_hours"
DEFAULT_WINDOW_HOURS = 3
NATIONAL_TITLE = "Great Britain"

#: Seconds after the half hour at which the API has published the new slot.
PUBLISH_DELAY = timedelta(seconds=10)
SLOT = timedelta(minutes=30)
WINDOW_HORIZON = timedelta(hours=24)
FORECAST_HORIZON = timedelta(hours=48)
#: While fetches fail, the held forecast is shown for this long after the last good fetch.
HELD_GRACE = timedelta(hours=2)
#: Retries while the held forecast is shown: 1 minute, doubling up to 30 minutes.
RETRY_START = timedelta(minutes=1)
RETRY_MAX = timedelta(minutes=30)
#: Attributes every reading shown from held data carries while fetches fail.
ATTR_DATA_AGE = "data_age_minutes"
ATTR_DATA_RETRIEVED = "data_retrieved"

RENEWABLE_FUELS = frozenset({"wind", "solar", "hydro", "biomass"})
FOSSIL_FUELS = frozenset({"gas", "coal", "oil"})


@dataclass(frozen=True, slots=True)
class CarbonIntensityData:
    """What one update fetched."""

    slots: list[IntensitySlot]
    retrieved: datetime
    region: Region | None = None
    #: The national mix (the regional forecast carries a mix per slot instead).
    generation: GenerationMix | None = None
    #: Set while fetches fail and these are held data: when the first of them failed.
    failing_since: datetime | None = None

    @property
    def held_until(self) -> datetime:
        """Held data are shown until then (2 hours after the fetch that got them)."""
        return self.retrieved + HELD_GRACE

    def covers(self, now: datetime) -> bool:
        """Whether the forecast has the slot running at ``now``."""
        return any(slot.start <= now < slot.end for slot in self.slots)


@dataclass(frozen=True, slots=True)
class Window:
    """The lowest-average run of consecutive slots."""

    start: datetime
    end: datetime
    average: float


def greenest_window(slots: Sequence[IntensitySlot], now: datetime, hours: int) -> Window | None:
    """The ``hours``-long window with the lowest average intensity ending within 24 h.

    Windows start at half-hour boundaries, from the slot running now; the earliest wins a tie.
    Windows across a gap in the data or a slot without a figure are not considered.
    """
    ahead = [slot for slot in slots if slot.end > now]
    if not ahead:
        return None
    size = hours * 2
    horizon = ahead[0].start + WINDOW_HORIZON
    best: Window | None = None
    for first in range(len(ahead) - size + 1):
        run = ahead[first : first + size]
        if run[-1].end > horizon:
            break
        values = [slot.intensity for slot in run]
        contiguous = all(a.end == b.start for a, b in itertools.pairwise(run))
        if not contiguous or any(value is None for value in values):
            continue
        average = sum(value for value in values if value is not None) / size
        if best is None or average < best.average:
            best = Window(run[0].start, run[-1].end, average)
    return best


def _index(value: str | None) -> str | None:
    key = value.replace(" ", "_") if value else None
    return key if key in CARBON_INDEX_OPTIONS else None


def _share(mix: Mapping[str, float], fuels: frozenset[str]) -> float:
    return round(sum(perc for fuel, perc in mix.items() if fuel in fuels), 1)


class CarbonIntensitySource(Source[CarbonIntensityData]):
    """National (Great Britain) or one DNO region, found from a postcode."""

    key: ClassVar[str] = KEY
    flow_steps: ClassVar[tuple[str, ...]] = (KEY,)
    default_options: ClassVar[Mapping[str, Any]] = {CONF_WINDOW_HOURS: DEFAULT_WINDOW_HOURS}

    def setup(self) -> None:
        """Build the client for the configured (or default) server."""
        self.client = _client(self.session, self.data)
        region_id = self.data.get(CONF_REGION_ID)
        self.region_id: int | None = int(region_id) if region_id is not None else None
        self.window_hours = int(self.options[CONF_WINDOW_HOURS])
        #: Fetches failed in a row while held data are shown, and when to try again.
        self._failures = 0
        self._retry_at: datetime | None = None

    # --- config flow -------------------------------------------------------------------
    @classmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        """Postcode (empty for national), and an advanced section for another server."""
        schema = vol.Schema(
            {
                vol.Optional(CONF_POSTCODE): selector.TextSelector(),
                **advanced_section(),
            }
        )
        return FormSpec(step_id=step_id, schema=schema)

    @classmethod
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec:
        """Check the postcode and that the API answers; one entry per region."""
        data: dict[str, Any] = {CONF_SOURCE: KEY}
        data |= advanced_data(step.user_input)
        client = _client(step.session, data)
        raw = (step.user_input.get(CONF_POSTCODE) or "").strip()
        if not raw:
            try:
                await client.national_forecast(dt_util.utcnow())
            except ApiError as err:
                raise FlowError("cannot_connect") from err
            return EntrySpec(title=NATIONAL_TITLE, unique_id=f"{KEY}_national", data=data)
        try:
            postcode = outward_code(raw)
        except ValueError as err:
            raise FlowError("invalid_postcode", CONF_POSTCODE) from err
        try:
            region = await client.region_for_postcode(postcode)
        except ApiNotFoundError as err:
            raise FlowError("unknown_postcode", CONF_POSTCODE) from err
        except ApiError as err:
            raise FlowError("cannot_connect") from err
        data |= {CONF_POSTCODE: postcode, CONF_REGION_ID: region.region_id}
        return EntrySpec(
            title=region.short_name, unique_id=f"{KEY}_region_{region.region_id}", data=data
        )

    reconfigure_step_id: ClassVar[str] = f"{KEY}_reconfigure"

    @classmethod
    def reconfigure_schema(cls) -> vol.Schema:
        """The postcode and the server, as when the entry was added."""
        return cls.flow_form(cls.reconfigure_step_id, None).schema

    @classmethod
    def reconfigure_values(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The stored postcode (outward code) and server URL."""
        return {
            CONF_POSTCODE: str(data.get(CONF_POSTCODE) or ""),
            CONF_ADVANCED: dict(data.get(CONF_ADVANCED) or {}),
        }

    @classmethod
    async def async_reconfigure_submit(cls, step: CredentialsStep) -> EntryUpdate:
        """Checked as when added. A postcode in another region (or none: national) makes the
        entry that region's; refused when another entry already shows it."""
        spec = await cls.async_flow_submit(
            FlowStep(
                hass=step.hass,
                session=step.session,
                step_id=KEY,
                user_input=step.user_input,
                state={},
            )
        )
        region = step.data.get(CONF_REGION_ID)
        current = f"{KEY}_national" if region is None else f"{KEY}_region_{region}"
        other = step.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, spec.unique_id)
        if spec.unique_id != current and other is not None:
            raise FlowError("region_already_added", CONF_POSTCODE, {"title": other.title})
        cleared = dict.fromkeys((CONF_POSTCODE, CONF_REGION_ID, CONF_ADVANCED))
        return EntryUpdate(
            unique_id=spec.unique_id,
            data=cleared | spec.data,
            title=spec.title if spec.unique_id != current else None,
            same_entry=False,
        )

    @classmethod
    def options_schema(cls) -> vol.Schema:
        """Length of the greenest window."""
        return vol.Schema(
            {
                vol.Required(CONF_WINDOW_HOURS): selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=1,
                        max=6,
                        step=1,
                        unit_of_measurement="h",
                        mode=selector.NumberSelectorMode.SLIDER,
                    )
                )
            }
        )

    # --- runtime -----------------------------------------------------------------------
    @property
    def request_count(self) -> int:
        """Requests made by this source's client."""
        return self.client.request_count

    async def async_update(
        self, previous: CarbonIntensityData | None, now: datetime
    ) -> CarbonIntensityData:
        """Fetch; when that fails, keep showing the held forecast while it covers now, up to
        2 hours after the fetch that got it (retrying with backoff), then raise."""
        try:
            data = await self._fetch(now)
        except ApiError as err:
            if previous is None or now >= previous.held_until or not previous.covers(now):
                self._failures = 0
                self._retry_at = None
                raise
            self._failures += 1
            delay = min(RETRY_START * 2 ** (self._failures - 1), RETRY_MAX)
            if isinstance(err, ApiRateLimitedError) and err.retry_after:
                delay = max(delay, timedelta(seconds=err.retry_after))
            self._retry_at = now + delay
            if self._failures == 1:
                LOGGER.info(
                    "Carbon Intensity update failed (%s); showing the forecast retrieved at %s "
                    "until %s",
                    err,
                    previous.retrieved.isoformat(),
                    previous.held_until.isoformat(),
                )
            else:
                LOGGER.debug("Carbon Intensity update failed again (%s)", err)
            return replace(previous, failing_since=previous.failing_since or now)
        if self._failures:
            LOGGER.info("Carbon Intensity updates recovered")
        self._failures = 0
        self._retry_at = None
        return data

    async def _fetch(self, now: datetime) -> CarbonIntensityData:
        """One request per endpoint: the 48 h forecast, plus the mix when national."""
        start = slot_start(now)
        if self.region_id is None:
            slots = await self.client.national_forecast(start)
            generation = await self.client.national_generation()
            return CarbonIntensityData(slots=slots, generation=generation, retrieved=now)
        regional = await self.client.regional_forecast(start, self.region_id)
        return CarbonIntensityData(slots=regional.slots, region=regional.region, retrieved=now)

    def next_update(self, data: CarbonIntensityData, now: datetime) -> datetime:
        """Just after the next half hour, when the API publishes the next slot; while
        fetches fail, the retry (1 minute, doubling up to 30, or as long as a 429 asked)."""
        if data.failing_since is not None and self._retry_at is not None:
            return self._retry_at
        return slot_start(now) + SLOT + PUBLISH_DELAY

    def next_tick(self, data: CarbonIntensityData, now: datetime) -> datetime:
        """The current slot changes at every half hour, from held data; held data that
        failed to refresh stop being shown 2 hours after they were fetched."""
        tick = slot_start(now) + SLOT
        if data.failing_since is not None and now < data.held_until:
            return min(tick, data.held_until)
        return tick

    def devices(self, data: CarbonIntensityData) -> list[DeviceSpec]:
        """One service device for the region (or Great Britain)."""
        name = data.region.short_name if data.region else NATIONAL_TITLE
        return [
            DeviceSpec(
                key="grid",
                name=f"{name} grid",
                manufacturer="NESO",
                model="Carbon Intensity API (regional)" if data.region else "Carbon Intensity API",
                service=True,
                configuration_url="https://carbonintensity.org.uk/",
            )
        ]

    def readings(self, data: CarbonIntensityData, now: datetime) -> list[Reading]:
        """Intensity and index now, forecast, mix and shares, greenest window.

        While fetches fail, held data stay shown for 2 hours after they were fetched, each
        reading with its age (``data_age_minutes``, ``data_retrieved``); the national mix
        only while its own half hour runs.
        """
        out = self._readings(data, now)
        if data.failing_since is None:
            return out
        age = {
            ATTR_DATA_AGE: int((now - data.retrieved).total_seconds() // 60),
            ATTR_DATA_RETRIEVED: data.retrieved.isoformat(),
        }
        return [
            reading
            if reading.metric == "last_retrieved"
            else replace(reading, attributes={**(reading.attributes or {}), **age})
            for reading in out
        ]

    def _readings(self, data: CarbonIntensityData, now: datetime) -> list[Reading]:
        device = "grid"
        if data.failing_since is not None:
            if now >= data.held_until:
                data = replace(data, slots=[], generation=None)
            elif data.generation and not data.generation.start <= now < data.generation.end:
                data = replace(data, generation=None)
        current = next((s for s in data.slots if s.start <= now < s.end), None)
        # ``from``/``to`` as well: the Carbon Intensity API's own names, which Predbat reads.
        forecast = [
            {
                "start": slot.start.isoformat(),
                "end": slot.end.isoformat(),
                "intensity": slot.intensity,
                "index": _index(slot.index),
                "from": slot.start.isoformat(),
                "to": slot.end.isoformat(),
            }
            for slot in data.slots
            if slot.end > now and slot.start < now + FORECAST_HORIZON
        ]
        out = [
            Reading(
                metric="carbon_intensity",
                device=device,
                value=current.intensity if current else None,
                attributes={"forecast": forecast},
            ),
            Reading(
                metric="carbon_intensity_index",
                device=device,
                value=_index(current.index) if current else None,
            ),
            Reading(metric="last_retrieved", device=device, value=data.retrieved),
        ]
        if data.region is None:
            mix = data.generation.mix if data.generation else {}
        else:
            mix = current.mix if current else {}
        for fuel, perc in sorted(mix.items()):
            if fuel in KNOWN_FUELS:
                out.append(Reading(metric=f"share_{fuel}", device=device, value=perc))
            else:
                out.append(
                    Reading(
                        metric="share_fuel",
                        device=device,
                        variant=fuel,
                        value=perc,
                        attributes={"fuel": fuel},
                    )
                )
        if mix:
            out.append(
                Reading(metric="renewable_share", device=device, value=_share(mix, RENEWABLE_FUELS))
            )
            out.append(
                Reading(metric="fossil_share", device=device, value=_share(mix, FOSSIL_FUELS))
            )
        window = greenest_window(data.slots, now, self.window_hours)
        window_attrs = (
            {
                "start": window.start.isoformat(),
                "end": window.end.isoformat(),
                "hours": self.window_hours,
            }
            if window
            else {"hours": self.window_hours}
        )
        out += [
            Reading(
                metric="greenest_window_start",
                device=device,
                value=window.start if window else None,
                attributes=window_attrs,
            ),
            Reading(
                metric="greenest_window_intensity",
                device=device,
                value=round(window.average, 1) if window else None,
                attributes=window_attrs,
            ),
            Reading(
                metric="greenest_window_active",
                device=device,
                value=(window.start <= now < window.end) if window else None,
                attributes=window_attrs,
            ),
        ]
        return out

    def diagnostics(self, data: CarbonIntensityData | None) -> dict[str, Any]:
        """Region, how many slots are held and over what period, the mix."""
        if data is None:
            return {}
        return {
            "region": (
                {"id": data.region.region_id, "name": data.region.short_name}
                if data.region
                else None
            ),
            "slots": len(data.slots),
            "first_slot": data.slots[0].start.isoformat() if data.slots else None,
            "last_slot": data.slots[-1].end.isoformat() if data.slots else None,
            "generation": dict(data.generation.mix) if data.generation else None,
            "retrieved": data.retrieved.isoformat(),
        }

    def intensity_between(
        self, data: CarbonIntensityData, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime, float]]:
        """The held intensities (gCO2/kWh; the actual where settled, else the forecast) over
        [start, end) as (start, end, value), clipped; slots without a figure are left out.
        No request."""
        return [
            (max(slot.start, start), min(slot.end, end), float(slot.intensity))
            for slot in data.slots
            if slot.intensity is not None and slot.end > start and slot.start < end
        ]


def _client(session: aiohttp.ClientSession, data: Mapping[str, Any]) -> CarbonIntensityClient:
    return CarbonIntensityClient(session, entry_base_url(KEY, DEFAULT_BASE_URL, data))


def carbon_client(session: aiohttp.ClientSession, data: Mapping[str, Any]) -> CarbonIntensityClient:
    """A client for a Carbon Intensity entry's data (the Home source reads its history)."""
    return _client(session, data)
