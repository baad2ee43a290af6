"""Elexon BMRS: GB generation by fuel, interconnector flows, demand and system/market prices.

Each dataset is fetched once per publication: FUELINST every 5 minutes, a minute after the
interval it covers ends; demand (INDO) and prices half-hourly, a minute after Elexon publishes
them, about 15 minutes after the settlement period ends. One coordinator update fetches only the
datasets that are due.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final

import aiohttp
from homeassistant.helpers import selector
import voluptuous as vol

from ..api.elexon import (
    APX,
    DEFAULT_BASE_URL,
    PERIOD,
    DemandRow,
    ElexonClient,
    GenerationMix,
    MarketIndexPrice,
    SystemPrice,
    settlement_period,
)
from ..api.errors import ApiError, ApiNotFoundError
from ..const import CONF_ADVANCED, CONF_SOURCE, DOMAIN
from ..metrics import GENERATION_FUELS
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

KEY: Final = "elexon"
TITLE: Final = "Elexon BMRS"
DEVICE: Final = "grid"

CONF_GENERATION: Final = "generation_sensors"
CONF_INTERCONNECTORS: Final = "interconnector_sensors"
CONF_PRICES: Final = "price_sensors"

FUELINST: Final = "FUELINST"
INDO: Final = "INDO"
SYSTEM_PRICES: Final = "system_prices"
MARKET_INDEX: Final = "market_index"

#: How long after its publication a dataset is asked for.
FETCH_DELAY: Final = timedelta(minutes=1)
#: Elexon publishes half-hourly data (demand outturn, system prices, market index) within
#: about 15 minutes of the end of the settlement period.
HALF_HOURLY_LAG: Final = timedelta(minutes=15)
#: A wake-up this much early still counts as on time (timers are not exact to the second).
EARLY: Final = timedelta(seconds=5)
#: FUELINST is asked for the intervals published in this window before the due one (so a
#: late or repeated publication is still seen); INDO likewise.
FUELINST_LOOKBACK: Final = timedelta(minutes=15)
INDO_LOOKBACK: Final = timedelta(hours=1)
#: Held data older than this (from the end of the interval it covers) is not shown.
GENERATION_STALE: Final = timedelta(minutes=30)
HALF_HOURLY_STALE: Final = timedelta(hours=3)

#: What counts as fossil and renewable in the shares (Elexon fuel codes).
FOSSIL_FUELS: Final = frozenset({"CCGT", "OCGT", "COAL", "OIL"})
RENEWABLE_FUELS: Final = frozenset({"WIND", "SOLAR", "NPSHYD", "BIOMASS"})

#: Elexon interconnector code -> (metric link name, country, link).
INTERCONNECTOR_LINKS: Final[Mapping[str, tuple[str, str, str]]] = {
    "INTELEC": ("eleclink", "France", "ElecLink"),
    "INTEW": ("east_west", "Ireland", "East-West"),
    "INTFR": ("ifa", "France", "IFA"),
    "INTGRNL": ("greenlink", "Ireland", "Greenlink"),
    "INTIFA2": ("ifa2", "France", "IFA2"),
    "INTIRL": ("moyle", "Northern Ireland", "Moyle"),
    "INTNED": ("britned", "Netherlands", "BritNed"),
    "INTNEM": ("nemo_link", "Belgium", "Nemo Link"),
    "INTNSL": ("north_sea_link", "Norway", "North Sea Link"),
    "INTVKL": ("viking_link", "Denmark", "Viking Link"),
}


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a dataset is published: at ``offset + k * interval`` from the Unix epoch."""

    interval: timedelta
    offset: timedelta = timedelta(0)

    def due_slot(self, now: datetime) -> datetime:
        """The latest publication that is due at ``now`` (published at least FETCH_DELAY ago)."""
        moment = now.astimezone(UTC) + EARLY - FETCH_DELAY - self.offset
        step = int(self.interval.total_seconds())
        stamp = int(moment.timestamp())
        return datetime.fromtimestamp(stamp - stamp % step, UTC) + self.offset

    def next_fetch(self, now: datetime) -> datetime:
        """When the publication after the one due now is fetched."""
        return self.due_slot(now) + self.interval + FETCH_DELAY


SCHEDULES: Final[Mapping[str, Schedule]] = {
    FUELINST: Schedule(timedelta(minutes=5)),
    INDO: Schedule(PERIOD, HALF_HOURLY_LAG),
    SYSTEM_PRICES: Schedule(PERIOD, HALF_HOURLY_LAG),
    MARKET_INDEX: Schedule(PERIOD, HALF_HOURLY_LAG),
}


@dataclass(frozen=True, slots=True)
class ElexonData:
    """What the updates so far have fetched, and the publication each dataset was last asked
    for."""

    retrieved: datetime | None = None
    generation: GenerationMix | None = None
    demand: DemandRow | None = None
    system_price: SystemPrice | None = None
    market_index: MarketIndexPrice | None = None
    fetched: Mapping[str, datetime] = field(default_factory=dict)


def _fresh[T: (GenerationMix, DemandRow, SystemPrice, MarketIndexPrice)](
    item: T | None, now: datetime, stale: timedelta
) -> T | None:
    return item if item is not None and now - item.end <= stale else None


def _share(generation: Mapping[str, int], fuels: frozenset[str], total: int) -> float | None:
    if total <= 0:
        return None
    part = sum(max(0, mw) for fuel, mw in generation.items() if fuel in fuels)
    return round(part / total * 100, 1)


def _period_attributes(start: datetime) -> dict[str, Any]:
    period = settlement_period(start)
    return {
        "settlement_date": period.settlement_date.isoformat(),
        "settlement_period": period.period,
        "start": start.isoformat(),
        "end": (start + PERIOD).isoformat(),
    }


class ElexonSource(Source[ElexonData]):
    """The GB grid from Elexon BMRS: one entry, no account."""

    key: ClassVar[str] = KEY
    flow_steps: ClassVar[tuple[str, ...]] = (KEY,)
    default_options: ClassVar[Mapping[str, Any]] = {
        CONF_GENERATION: True,
        CONF_INTERCONNECTORS: True,
        CONF_PRICES: True,
    }

    def setup(self) -> None:
        """Build the client; the options say which groups of sensors (and datasets) are on."""
        self.client = _client(self.session, self.data)
        self.generation = bool(self.options[CONF_GENERATION])
        self.interconnectors = bool(self.options[CONF_INTERCONNECTORS])
        self.prices = bool(self.options[CONF_PRICES])
        datasets = [INDO]
        if self.generation or self.interconnectors:
            datasets.insert(0, FUELINST)
        if self.prices:
            datasets += [SYSTEM_PRICES, MARKET_INDEX]
        self.datasets: tuple[str, ...] = tuple(datasets)

    # --- config flow -------------------------------------------------------------------
    @classmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        """Nothing to ask but, in an advanced section, another server."""
        schema = vol.Schema(
            {
                **advanced_section(),
            }
        )
        return FormSpec(step_id=step_id, schema=schema)

    @classmethod
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec:
        """Check that the API answers; there is only one GB grid, so one entry."""
        data: dict[str, Any] = {CONF_SOURCE: KEY}
        data |= advanced_data(step.user_input)
        spec = EntrySpec(title=TITLE, unique_id=KEY, data=data)
        if step.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, KEY) is not None:
            return spec  # the flow aborts as already configured; no need to ask the API
        try:
            await _client(step.session, data).current_generation()
        except ApiError as err:
            raise FlowError("cannot_connect") from err
        return spec

    reconfigure_step_id: ClassVar[str] = f"{KEY}_reconfigure"

    @classmethod
    def reconfigure_schema(cls) -> vol.Schema:
        """The server, in the advanced section as when the entry was added."""
        return cls.flow_form(cls.reconfigure_step_id, None).schema

    @classmethod
    def reconfigure_values(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The stored server URL."""
        return {CONF_ADVANCED: dict(data.get(CONF_ADVANCED) or {})}

    @classmethod
    async def async_reconfigure_submit(cls, step: CredentialsStep) -> EntryUpdate:
        """Another server (empty: Elexon's own), checked to answer."""
        updates: dict[str, Any] = {CONF_ADVANCED: None} | advanced_data(step.user_input)
        try:
            await _client(step.session, {**step.data, **updates}).current_generation()
        except ApiError as err:
            raise FlowError("cannot_connect") from err
        return EntryUpdate(unique_id=KEY, data=updates)

    @classmethod
    def options_schema(cls) -> vol.Schema:
        """Which groups of sensors are on."""
        return vol.Schema(
            {
                vol.Required(CONF_GENERATION): selector.BooleanSelector(),
                vol.Required(CONF_INTERCONNECTORS): selector.BooleanSelector(),
                vol.Required(CONF_PRICES): selector.BooleanSelector(),
            }
        )

    # --- runtime -----------------------------------------------------------------------
    @property
    def request_count(self) -> int:
        """Requests made by this source's client."""
        return self.client.request_count

    async def async_update(self, previous: ElexonData | None, now: datetime) -> ElexonData:
        """Ask for each enabled dataset whose next publication is due, once."""
        data = previous or ElexonData()
        fetched = dict(data.fetched)
        for dataset in self.datasets:
            slot = SCHEDULES[dataset].due_slot(now)
            last = fetched.get(dataset)
            if last is not None and last >= slot:
                continue
            data = await self._fetch(dataset, slot, now, data)
            fetched[dataset] = slot
        if fetched == data.fetched:
            return data
        return replace(data, fetched=fetched, retrieved=now)

    async def _fetch(
        self, dataset: str, slot: datetime, now: datetime, data: ElexonData
    ) -> ElexonData:
        """Fetch one dataset's publication ``slot``; keep what is held when it has nothing."""
        if dataset == FUELINST:
            mix = await self.client.latest_generation(slot - FUELINST_LOOKBACK, now)
            if mix is not None and (data.generation is None or mix.start >= data.generation.start):
                return replace(data, generation=mix)
            return data
        if dataset == INDO:
            demand = await self.client.latest_demand(INDO, slot - INDO_LOOKBACK, now)
            if demand is not None and (data.demand is None or demand.start >= data.demand.start):
                return replace(data, demand=demand)
            return data
        # Prices of the settlement period that ended HALF_HOURLY_LAG before the slot.
        period = settlement_period(slot - HALF_HOURLY_LAG - PERIOD)
        if dataset == SYSTEM_PRICES:
            try:
                prices = await self.client.system_prices(period.settlement_date, period.period)
            except ApiNotFoundError:  # a period not priced yet: nothing new, not a failure
                return data
            price = next(
                (
                    p
                    for p in reversed(prices)
                    if (p.settlement_date, p.settlement_period)
                    == (period.settlement_date, period.period)
                ),
                None,
            )
            return replace(data, system_price=price) if price else data
        rows = await self.client.market_index(
            period.settlement_date, period.settlement_date, period.period, period.period, APX
        )
        index = next(
            (
                row
                for row in reversed(rows)
                if row.data_provider == APX and row.start == period.start and row.price is not None
            ),
            None,
        )
        return replace(data, market_index=index) if index else data

    def next_update(self, data: ElexonData, now: datetime) -> datetime:
        """The earliest next publication (plus a minute) of the enabled datasets."""
        return min(SCHEDULES[dataset].next_fetch(now) for dataset in self.datasets)

    def next_tick(self, data: ElexonData, now: datetime) -> datetime:
        """The settlement period changes at every half hour, from held data."""
        return settlement_period(now).end

    def devices(self, data: ElexonData) -> list[DeviceSpec]:
        """One service device: the GB grid as Elexon reports it."""
        return [
            DeviceSpec(
                key=DEVICE,
                name=TITLE,
                manufacturer="Elexon",
                model="BMRS Insights Solution API",
                service=True,
                configuration_url="https://bmrs.elexon.co.uk/",
            )
        ]

    def readings(self, data: ElexonData, now: datetime) -> list[Reading]:
        """Settlement period, demand, and the enabled groups: generation, flows, prices."""
        period = settlement_period(now)
        out = [
            Reading(
                metric="settlement_period",
                device=DEVICE,
                value=period.period,
                attributes={
                    "settlement_date": period.settlement_date.isoformat(),
                    "periods_in_day": period.periods_in_day,
                    "start": period.start.isoformat(),
                    "end": period.end.isoformat(),
                },
            ),
            Reading(metric="last_retrieved", device=DEVICE, value=data.retrieved),
        ]
        demand = _fresh(data.demand, now, HALF_HOURLY_STALE)
        out.append(
            Reading(
                metric="national_demand",
                device=DEVICE,
                value=demand.demand if demand else None,
                attributes=_period_attributes(demand.start) if demand else None,
            )
        )
        mix = _fresh(data.generation, now, GENERATION_STALE)
        if self.generation:
            out += self._generation_readings(mix)
        if self.interconnectors and mix is not None:
            out += self._interconnector_readings(mix)
        if self.prices:
            out += self._price_readings(data, now)
        return out

    @staticmethod
    def _generation_readings(mix: GenerationMix | None) -> list[Reading]:
        out: list[Reading] = []
        if mix is None:
            return [
                Reading(metric=metric, device=DEVICE, value=None)
                for metric in ("total_generation", "fossil_share", "renewable_share")
            ]
        domestic = {fuel: mw for fuel, mw in mix.generation.items() if not fuel.startswith("INT")}
        for fuel, mw in sorted(domestic.items()):
            name = fuel.lower()
            if name in GENERATION_FUELS:
                out.append(Reading(metric=f"generation_{name}", device=DEVICE, value=mw))
            else:
                out.append(
                    Reading(
                        metric="generation_fuel",
                        device=DEVICE,
                        variant=name,
                        value=mw,
                        attributes={"fuel_type": fuel},
                    )
                )
        total = sum(max(0, mw) for mw in domestic.values())
        out += [
            Reading(
                metric="total_generation",
                device=DEVICE,
                value=total,
                attributes={"start": mix.start.isoformat(), "end": mix.end.isoformat()},
            ),
            Reading(
                metric="fossil_share",
                device=DEVICE,
                value=_share(domestic, FOSSIL_FUELS, total),
            ),
            Reading(
                metric="renewable_share",
                device=DEVICE,
                value=_share(domestic, RENEWABLE_FUELS, total),
            ),
        ]
        return out

    @staticmethod
    def _interconnector_readings(mix: GenerationMix) -> list[Reading]:
        out: list[Reading] = []
        for code, mw in sorted(mix.generation.items()):
            if not code.startswith("INT"):
                continue
            if code in INTERCONNECTOR_LINKS:
                link, country, name = INTERCONNECTOR_LINKS[code]
                out.append(
                    Reading(
                        metric=f"interconnector_{link}",
                        device=DEVICE,
                        value=mw,
                        attributes={"country": country, "link": name, "fuel_type": code},
                    )
                )
            else:
                out.append(
                    Reading(
                        metric="interconnector",
                        device=DEVICE,
                        variant=code.lower(),
                        value=mw,
                        attributes={"fuel_type": code},
                    )
                )
        return out

    @staticmethod
    def _price_readings(data: ElexonData, now: datetime) -> list[Reading]:
        system = _fresh(data.system_price, now, HALF_HOURLY_STALE)
        index = _fresh(data.market_index, now, HALF_HOURLY_STALE)
        system_attrs = _period_attributes(system.start) if system else None
        index_attrs = {**_period_attributes(index.start), "volume": index.volume} if index else None
        return [
            Reading(
                metric="system_buy_price",
                device=DEVICE,
                value=system.system_buy_price if system else None,
                attributes=system_attrs,
            ),
            Reading(
                metric="system_sell_price",
                device=DEVICE,
                value=system.system_sell_price if system else None,
                attributes=system_attrs,
            ),
            Reading(
                metric="market_index_price",
                device=DEVICE,
                value=index.price if index else None,
                attributes=index_attrs,
            ),
        ]

    def diagnostics(self, data: ElexonData | None) -> dict[str, Any]:
        """Groups on, what is held and from when, and when each dataset was last asked for."""
        if data is None:
            return {}
        return {
            "datasets": list(self.datasets),
            "fetched": {dataset: slot.isoformat() for dataset, slot in data.fetched.items()},
            "retrieved": data.retrieved.isoformat() if data.retrieved else None,
            "generation": (
                {"start": data.generation.start.isoformat(), "mw": dict(data.generation.generation)}
                if data.generation
                else None
            ),
            "demand": (
                {"start": data.demand.start.isoformat(), "mw": data.demand.demand}
                if data.demand
                else None
            ),
            "system_price": (
                {
                    "start": data.system_price.start.isoformat(),
                    "buy": data.system_price.system_buy_price,
                    "sell": data.system_price.system_sell_price,
                }
                if data.system_price
                else None
            ),
            "market_index": (
                {"start": data.market_index.start.isoformat(), "price": data.market_index.price}
                if data.market_index
                else None
            ),
        }


def _client(session: aiohttp.ClientSession, data: Mapping[str, Any]) -> ElexonClient:
    return ElexonClient(session, entry_base_url(KEY, DEFAULT_BASE_URL, data))
