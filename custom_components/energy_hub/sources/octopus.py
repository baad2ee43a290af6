"""Octopus Energy: live rates per meter, and half-hourly consumption and cost as statistics.

Requests are the scarce resource (about 30 a day for a whole account). So:
- rates and standing charges are kept per tariff with the span they cover, and only spans
  not held are fetched: normally once a day, plus tomorrow's Agile prices after 16:00 UK time;
- the account is refreshed every 6 hours (an answer that lists no meter for a moment keeps
  the known meters, and is asked again in an hour);
- a tariff whose rates Octopus does not publish (HTTP 404, real for some tracker and export
  products) costs only what depends on it: its rate sensors are unavailable, its meter's
  energy statistics are still written, its cost statistics stop before the first unpriced hour
  (never zeros) and catch up once the rates appear; it is asked again every 6 hours and a
  repair issue names it meanwhile;
- consumption is fetched only when a new day of it can have been published, by the history
  run, which prices it from the held rates.
Rate sensors move at every rate edge from held data, with no request.

Times are UTC; "the day" (standing charges, today's rates) is the UK day.
"""

import asyncio
from bisect import bisect_right
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
import re
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import aiohttp
from homeassistant.helpers import selector
import voluptuous as vol

from ..api.errors import ApiAuthError, ApiError, ApiNotFoundError
from ..api.octopus import (
    DEFAULT_BASE_URL,
    Account,
    ConsumptionInterval,
    Fuel,
    MeterPoint,
    OctopusClient,
    Rate as OctopusRate,
    RateRegister,
    parse_tariff_code,
    rate_at,
)
from ..const import CONF_SOURCE, LOGGER
from .base import (
    CredentialsStep,
    DeviceSpec,
    EntrySpec,
    FlowError,
    FlowStep,
    FormSpec,
    HistorySeries,
    Reading,
    RepairIssue,
    Source,
    StatisticSpec,
    advanced_data,
    advanced_section,
    days_selector,
    entry_base_url,
    secret_selector,
)
from .rates import (
    CONF_WINDOWS,
    Rate,
    WindowSpec,
    WindowState,
    day_rate_readings,
    local_day,
    next_change,
    parse_windows,
    persist_windows,
    rate_readings,
    restore_windows,
    window_edges,
    window_readings,
)

KEY = "octopus"
CONF_API_KEY = "api_key"
CONF_ACCOUNT_NUMBER = "account_number"
CONF_BACKFILL_DAYS = "backfill_days"
CONF_CALORIFIC_VALUE = "gas_calorific_value"
CONF_GAS_UNIT = "gas_meter_unit"
#: Standing windows of export meters (``windows``: of import meters).
CONF_EXPORT_WINDOWS = "export_windows"
DEFAULT_BACKFILL_DAYS = 365
MAX_BACKFILL_DAYS = 3 * 365
DEFAULT_CALORIFIC_VALUE = 39.5
GAS_UNITS = ("m3", "kwh")
#: m³ -> kWh: volume correction factor, and MJ per kWh.
VOLUME_CORRECTION = 1.02264
MJ_PER_KWH = 3.6

UK = ZoneInfo("Europe/London")
HALF_HOUR = timedelta(minutes=30)
HOUR = timedelta(hours=1)
ACCOUNT_REFRESH = timedelta(hours=6)
RATE_RETRY = timedelta(minutes=30)
#: A tariff whose rates answer 404 is asked again this long after (not at every update).
TARIFF_RETRY = timedelta(hours=6)
#: An account answer listing no meter is asked again this long after (the known meters stay).
EMPTY_ACCOUNT_RETRY = timedelta(hours=1)
#: The repair issue of a tariff without published rates (translations: ``issues``), and its id
#: ``<key>_<tariff code>``.
ISSUE_KEY = "tariff_not_published"
#: Open-ended prices (fixed tariffs) are re-checked daily: a price change is a new row.
OPEN_ENDED_TRUST = timedelta(days=1)
#: Day-ahead prices are published around 16:00 UK time.
DAY_AHEAD_HOUR = 16
#: Consumption of a day is looked for this long after the day ends.
CONSUMPTION_DELAY = timedelta(minutes=30)
CONSUMPTION_RETRY = timedelta(hours=2)
CONSUMPTION_RETRY_MAX = timedelta(hours=12)
_ACCOUNT = re.compile(r"^A-[A-Z0-9]{8}$")
#: Price this many half-hours, then give the event loop a turn.
YIELD_EVERY = 2000


#: Readings a meter whose price does not change shows nothing in.
SINGLE_PRICE_HIDDEN = frozenset({"rate_next", "rate_next_start", "rate_previous"})


def pence_to_pounds(pence: float) -> float:
    """Octopus prices are pence; sensors and statistics use pounds."""
    return round(pence / 100, 6)


@dataclass(slots=True)
class RateStore:
    """One tariff's unit rates or standing charges, and the spans already fetched."""

    rows: dict[datetime, OctopusRate] = field(default_factory=dict)
    covered: list[tuple[datetime, datetime]] = field(default_factory=list)
    last_attempt: datetime | None = None
    #: When a fetch last brought rows reaching further than what was held.
    last_extended: datetime | None = None
    #: Open-ended prices (fixed tariffs) are held until then: a price change is a new row.
    expires: datetime | None = None
    _order: list[OctopusRate] | None = field(default=None, repr=False)
    _starts: list[datetime] = field(default_factory=list, repr=False)

    def gaps(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Parts of [start, end) not covered yet."""
        gaps: list[tuple[datetime, datetime]] = []
        cursor = start
        for span_start, span_end in sorted(self.covered):
            if span_end <= cursor:
                continue
            if span_start >= end:
                break
            if span_start > cursor:
                gaps.append((cursor, span_start))
            cursor = max(cursor, span_end)
        if cursor < end:
            gaps.append((cursor, end))
        return gaps

    def covered_until(self, start: datetime) -> datetime:
        """How far from ``start`` the held rows reach without a gap."""
        gaps = self.gaps(start, start + timedelta(days=3660))
        return gaps[0][0] if gaps else start + timedelta(days=3660)

    def expire(self, now: datetime) -> None:
        """Past ``expires``, open-ended prices are checked again: forget what was covered."""
        if self.expires is not None and now >= self.expires:
            self.covered.clear()
            self.expires = None

    def add(
        self,
        rows: Iterable[OctopusRate],
        span: tuple[datetime, datetime],
        now: datetime,
        *,
        empty_is_none: bool = False,
    ) -> None:
        """Keep fetched rows; the span counts as covered as far as the rows reach.

        ``empty_is_none``: an empty answer means there are none (standing charges of an
        export tariff), not that they are not published yet.
        """
        start, end = span
        reach = start
        rows = list(rows)
        for row in rows:
            self.rows[row.valid_from] = row
            self._order = None
            reach = max(reach, end if row.valid_to is None else min(row.valid_to, end))
        if any(row.valid_to is None for row in rows) or (empty_is_none and not rows):
            reach = end
            self.expires = now + OPEN_ENDED_TRUST
        if reach > start:
            self.covered.append((start, reach))
            self.last_extended = now

    def _sorted(self) -> list[OctopusRate]:
        """Rows by start, cached until rows change (a year of Agile is 17,520 rows)."""
        if self._order is None or len(self._order) != len(self.rows):
            self._order = sorted(self.rows.values(), key=lambda r: r.valid_from)
            self._starts = [row.valid_from for row in self._order]
        return self._order

    def value_at(self, at: datetime) -> float | None:
        """Price in pence at ``at``, inc VAT: the latest-starting row that covers it."""
        order = self._sorted()
        index = bisect_right(self._starts, at) - 1
        if index >= 0 and order[index].covers(at):
            return order[index].value_inc_vat
        row = rate_at(order[: index + 1], at)  # rare: an older open-ended row
        return row.value_inc_vat if row else None

    def rates(self, start: datetime, end: datetime) -> list[Rate]:
        """Held rows overlapping [start, end) as pounds, clipped to what is covered."""
        out: list[Rate] = []
        ordered = self._sorted()
        first = max(0, bisect_right(self._starts, start) - 1)
        for index in range(first, len(ordered)):
            row = ordered[index]
            if row.valid_from >= end:
                break
            row_end = row.valid_to
            if row_end is None:  # open-ended: until the next row or the end asked for
                row_end = ordered[index + 1].valid_from if index + 1 < len(ordered) else end
            lo, hi = max(row.valid_from, start), min(row_end, end)
            if lo < hi:
                out.append(Rate(lo, hi, pence_to_pounds(row.value_inc_vat)))
        return out

    def prune(self, before: datetime) -> None:
        """Forget rows that ended before ``before`` (memory stays small after a backfill)."""
        for key, row in list(self.rows.items()):
            if row.valid_to is not None and row.valid_to < before:
                del self.rows[key]
                self._order = None
        self.covered = [(max(s, before), e) for s, e in self.covered if e > before]


@dataclass(frozen=True, slots=True)
class Meter:
    """A meter point as Energy Hub shows it."""

    key: str  # import_<mpan>, export_<mpan>, gas_<mprn>
    kind: str  # import, export, gas
    identifier: str  # MPAN or MPRN
    point: MeterPoint

    @property
    def fuel(self) -> Fuel:
        """Electricity or gas."""
        return Fuel.GAS if self.kind == "gas" else Fuel.ELECTRICITY

    def tariff_at(self, at: datetime) -> str | None:
        """The tariff code of the agreement in force at ``at``."""
        agreement = self.point.agreement_at(at)
        return agreement.tariff_code if agreement else None


@dataclass(slots=True)
class OctopusData:
    """What the source holds: the account and when things were last fetched."""

    account: Account
    account_fetched: datetime
    meters: list[Meter]
    retrieved: datetime
    #: End of the latest consumption interval held, per meter key.
    latest_reading: dict[str, datetime] = field(default_factory=dict)
    #: When the account is asked again sooner than ``account_fetched + ACCOUNT_REFRESH``
    #: (after an answer that listed no meter).
    account_due: datetime | None = None

    def account_next(self) -> datetime:
        """When the account is next asked for."""
        return self.account_due or self.account_fetched + ACCOUNT_REFRESH


def meters_of(account: Account) -> list[Meter]:
    """The current property's meter points: import, export, gas."""
    prop = account.current_property
    if prop is None:
        return []
    meters = [
        Meter(
            key=f"{'export' if p.is_export else 'import'}_{p.mpan}",
            kind="export" if p.is_export else "import",
            identifier=p.mpan,
            point=p,
        )
        for p in prop.electricity_meter_points
    ]
    meters += [
        Meter(key=f"gas_{p.mprn}", kind="gas", identifier=p.mprn, point=p)
        for p in prop.gas_meter_points
    ]
    return meters


def _kinds(meter: Meter) -> tuple[str, ...]:
    """Export tariffs have unit rates only; import and gas also a standing charge."""
    return ("unit",) if meter.kind == "export" else ("unit", "standing")


def _client(session: aiohttp.ClientSession, data: Mapping[str, Any]) -> OctopusClient:
    return OctopusClient(
        session,
        entry_base_url(KEY, DEFAULT_BASE_URL, data),
        api_key=str(data[CONF_API_KEY]),
    )


def _api_key(raw: Any) -> str:
    """The key as pasted, without surrounding blanks or the trailing ``:`` of ``curl -u KEY:``
    (the form Octopus's own examples show). Any other ``:`` cannot be sent (HTTP Basic puts
    it between user and password), nor blanks inside: refused on the field."""
    key = str(raw or "").strip().rstrip(":").rstrip()
    if not key or ":" in key or any(c.isspace() or not c.isprintable() for c in key):
        raise FlowError("invalid_api_key", CONF_API_KEY)
    return key


def _account_number(raw: Any) -> str:
    number = str(raw or "").strip().upper()
    if not _ACCOUNT.match(number):
        raise FlowError("invalid_account_number", CONF_ACCOUNT_NUMBER)
    return number


async def _check(client: OctopusClient, number: str) -> Account:
    try:
        return await client.account(number)
    except ApiAuthError as err:
        raise FlowError("invalid_auth", CONF_API_KEY) from err
    except ApiNotFoundError as err:
        raise FlowError("account_not_found", CONF_ACCOUNT_NUMBER) from err
    except ApiError as err:
        raise FlowError("cannot_connect") from err


def _windows_selector() -> selector.TextSelector:
    return selector.TextSelector(selector.TextSelectorConfig(multiline=True))


def _credentials() -> dict[Any, Any]:
    return {vol.Required(CONF_API_KEY): secret_selector()}


class OctopusSource(Source[OctopusData]):
    """An Octopus Energy account: one device per meter."""

    key: ClassVar[str] = KEY
    flow_steps: ClassVar[tuple[str, ...]] = (KEY,)
    default_options: ClassVar[Mapping[str, Any]] = {
        CONF_BACKFILL_DAYS: DEFAULT_BACKFILL_DAYS,
        CONF_CALORIFIC_VALUE: DEFAULT_CALORIFIC_VALUE,
        CONF_GAS_UNIT: "m3",
    }

    def setup(self) -> None:
        """Client, account number and the per-tariff rate stores."""
        self.client = _client(self.session, self.data)
        self.account_number = str(self.data[CONF_ACCOUNT_NUMBER])
        self.history_horizon = timedelta(days=int(self.options[CONF_BACKFILL_DAYS]))
        self.calorific_value = float(self.options[CONF_CALORIFIC_VALUE])
        self.gas_in_m3 = self.options[CONF_GAS_UNIT] == "m3"
        self._unit_rates: dict[str, RateStore] = {}
        self._standing: dict[str, RateStore] = {}
        #: Tariffs whose rates answered 404, and when to ask again.
        self._missing: dict[str, datetime] = {}
        self._history_misses = 0
        self.windows: dict[str, tuple[WindowSpec, ...]] = {
            "import": parse_windows(str(self.options.get(CONF_WINDOWS) or "")),
            "export": parse_windows(str(self.options.get(CONF_EXPORT_WINDOWS) or "")),
        }
        #: What each standing window showed and which periods' runs have passed.
        self._windows: dict[str, WindowState] = {}

    # --- config flow -------------------------------------------------------------------
    @classmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        """API key, account number; another server in the advanced section."""
        return FormSpec(
            step_id=step_id,
            schema=vol.Schema(
                {
                    **_credentials(),
                    vol.Required(CONF_ACCOUNT_NUMBER): selector.TextSelector(),
                    **advanced_section(),
                }
            ),
        )

    @classmethod
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec:
        """The number's format first, then the account endpoint with the key."""
        key = _api_key(step.user_input.get(CONF_API_KEY))
        number = _account_number(step.user_input.get(CONF_ACCOUNT_NUMBER))
        data: dict[str, Any] = {
            CONF_SOURCE: KEY,
            CONF_API_KEY: key,
            CONF_ACCOUNT_NUMBER: number,
        }
        data |= advanced_data(step.user_input)
        await _check(_client(step.session, data), number)
        return EntrySpec(title=number, unique_id=f"{KEY}_{number.lower()}", data=data)

    @classmethod
    def credentials_schema(cls) -> vol.Schema:
        """A new API key."""
        return vol.Schema(_credentials())

    @classmethod
    async def async_credentials_submit(cls, step: CredentialsStep) -> tuple[str, dict[str, Any]]:
        """The new key must open the same account."""
        updates = {CONF_API_KEY: _api_key(step.user_input.get(CONF_API_KEY))}
        number = str(step.data[CONF_ACCOUNT_NUMBER])
        await _check(_client(step.session, {**step.data, **updates}), number)
        return f"{KEY}_{number.lower()}", updates

    @classmethod
    def options_schema(cls) -> vol.Schema:
        """Backfill horizon and gas conversion."""
        return vol.Schema(
            {
                vol.Required(CONF_BACKFILL_DAYS): days_selector(MAX_BACKFILL_DAYS),
                vol.Required(CONF_CALORIFIC_VALUE): selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=30,
                        max=50,
                        step=0.1,
                        unit_of_measurement="MJ/m³",
                        mode=selector.NumberSelectorMode.BOX,
                    )
                ),
                vol.Required(CONF_GAS_UNIT): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=list(GAS_UNITS), translation_key=CONF_GAS_UNIT
                    )
                ),
                vol.Optional(CONF_WINDOWS): _windows_selector(),
                vol.Optional(CONF_EXPORT_WINDOWS): _windows_selector(),
            }
        )

    @classmethod
    def validate_options(cls, user_input: dict[str, Any]) -> dict[str, Any]:
        """Whole days; numbers as numbers; standing windows that parse (kept as typed,
        trimmed; none: no key)."""
        options: dict[str, Any] = {
            CONF_BACKFILL_DAYS: int(user_input[CONF_BACKFILL_DAYS]),
            CONF_CALORIFIC_VALUE: float(user_input[CONF_CALORIFIC_VALUE]),
            CONF_GAS_UNIT: str(user_input[CONF_GAS_UNIT]),
        }
        for name in (CONF_WINDOWS, CONF_EXPORT_WINDOWS):
            if text := str(user_input.get(name) or "").strip():
                parse_windows(text, name)
                options[name] = text
        return options

    # --- rates -------------------------------------------------------------------------
    def _store(self, kind: str, tariff: str) -> RateStore:
        stores = self._unit_rates if kind == "unit" else self._standing
        return stores.setdefault(tariff, RateStore())

    async def _fetch(
        self, kind: str, tariff: str, span: tuple[datetime, datetime], now: datetime
    ) -> None:
        """Fetch the parts of ``span`` not held yet for one tariff.

        A 404 means Octopus does not publish this tariff's rates: it is not an error of the
        account. The tariff is remembered as missing and not asked for again (unit rates or
        standing charges) before ``TARIFF_RETRY`` has passed.
        """
        if (retry := self._missing.get(tariff)) is not None and now < retry:
            return
        store = self._store(kind, tariff)
        store.expire(now)
        fetched = False
        for gap_start, gap_end in store.gaps(*span):
            store.last_attempt = now
            register = (
                RateRegister.DAY
                if parse_tariff_code(tariff).is_dual_register
                else RateRegister.STANDARD
            )
            try:
                if kind == "unit":
                    rows = await self.client.unit_rates(
                        tariff, gap_start, gap_end, register=register
                    )
                else:
                    rows = await self.client.standing_charges(tariff, gap_start, gap_end)
            except ApiNotFoundError:
                if tariff not in self._missing:
                    LOGGER.info(
                        "Octopus publishes no rates for tariff %s (HTTP 404): its costs wait, "
                        "asked again every %s",
                        tariff,
                        TARIFF_RETRY,
                    )
                self._missing[tariff] = now + TARIFF_RETRY
                return
            store.add(rows, (gap_start, gap_end), now, empty_is_none=kind == "standing")
            fetched = True
        if fetched and self._missing.pop(tariff, None) is not None:
            LOGGER.info("Octopus publishes rates for tariff %s again", tariff)

    def _due(self, kind: str, tariff: str, now: datetime) -> datetime:
        """When a tariff's unit rates or standing charges next need a fetch.

        A missing tariff: at its retry, if the window has something to ask for (its 404 may
        have come from an older span the history asked for: the window's rates are held).
        """
        store = self._store(kind, tariff)
        due = self._rates_due(store, now)
        if (retry := self._missing.get(tariff)) is None:
            return due
        return retry if store.gaps(*self._window(now)) else max(retry, due)

    def _window(self, now: datetime) -> tuple[datetime, datetime]:
        """Yesterday to the end of tomorrow, UK days."""
        today_start, today_end = local_day(now, UK)
        return local_day(today_start - HOUR, UK)[0], local_day(today_end + HOUR, UK)[1]

    def _rates_due(self, store: RateStore, now: datetime) -> datetime:
        """When a tariff's held rates next need a fetch.

        Held through tomorrow: when the window moves on (or open-ended prices expire).
        Running out within the hour: now (at most every 30 minutes). Otherwise tomorrow's
        prices are due at 16:00 UK: once they came, the next are due at tomorrow's 16:00;
        until they come, every 30 minutes.
        """
        retry = store.last_attempt + RATE_RETRY if store.last_attempt else now
        if store.expires is not None and now >= store.expires:
            return max(retry, store.expires)
        start, end = self._window(now)
        reach = store.covered_until(start)
        candidates = [store.expires] if store.expires is not None else []
        if reach >= end:
            return min([*candidates, local_day(now, UK)[1]])
        if reach <= now + HOUR:
            return max(retry, now)
        today_start = local_day(now, UK)[0].astimezone(UK)
        day_ahead = today_start.replace(hour=DAY_AHEAD_HOUR).astimezone(UTC)
        if store.last_extended is not None and store.last_extended >= day_ahead:
            tomorrow = (today_start + timedelta(days=1, hours=3)).replace(hour=DAY_AHEAD_HOUR)
            return min([*candidates, tomorrow.astimezone(UTC)])
        return min([*candidates, max(retry, day_ahead)])

    # --- runtime -----------------------------------------------------------------------
    @property
    def request_count(self) -> int:
        """Requests made by this source's client."""
        return self.client.request_count

    async def async_update(self, previous: OctopusData | None, now: datetime) -> OctopusData:
        """Account every 6 hours; rates and standing charges only where not held."""
        if previous is None or now >= previous.account_next():
            account = await self.client.account(self.account_number)
            meters = meters_of(account)
            if previous is not None and previous.meters and not meters:
                # No property or meter listed for a moment: keep what is known, ask again soon.
                LOGGER.debug("Octopus account lists no meter; keeping the known meters")
                data = previous
                data.retrieved = now
                data.account_due = now + EMPTY_ACCOUNT_RETRY
            else:
                data = OctopusData(
                    account=account,
                    account_fetched=now,
                    meters=meters,
                    retrieved=now,
                    latest_reading=dict(previous.latest_reading) if previous else {},
                )
        else:
            data = previous
            data.retrieved = now
        start, end = self._window(now)
        for meter in data.meters:
            for tariff in self._tariffs_ahead(meter, now):
                for kind in _kinds(meter):
                    if self._due(kind, tariff, now) <= now:
                        await self._fetch(kind, tariff, (start, end), now)
        return data

    def _tariffs_ahead(self, meter: Meter, now: datetime) -> list[str]:
        """The tariffs of a meter now and at the end of the rate window (a change tomorrow)."""
        end = self._window(now)[1]
        found = (meter.tariff_at(now), meter.tariff_at(end - HOUR))
        return sorted({tariff for tariff in found if tariff is not None})

    def next_update(self, data: OctopusData, now: datetime) -> datetime:
        """The account refresh or the next rates that are due, whichever comes first."""
        due = [data.account_next()]
        for meter in data.meters:
            current = meter.tariff_at(now)
            for tariff in self._tariffs_ahead(meter, now):
                if tariff == current or tariff in self._missing:
                    due += [self._due(kind, tariff, now) for kind in _kinds(meter)]
        return max(min(due), now + timedelta(minutes=1))

    def persist(self) -> Mapping[str, Any] | None:
        """The standing windows' runs shown and passed; None without windows."""
        if not any(self.windows.values()):
            return None
        return {"windows": persist_windows(self._windows)}

    def restore(self, stored: Mapping[str, Any]) -> None:
        """Take back the standing windows' state."""
        self._windows = restore_windows(stored.get("windows"))

    # --- repair issues -----------------------------------------------------------------
    def repair_issues(self, data: OctopusData, now: datetime) -> list[RepairIssue]:
        """One repair issue per tariff in force (now or in the past) whose rates are not
        published; gone once they are."""
        kinds: dict[str, str] = {}
        for meter in data.meters:
            for agreement in meter.point.agreements:
                started = agreement.valid_from is None or agreement.valid_from <= now
                if agreement.tariff_code in self._missing and started:
                    kinds.setdefault(agreement.tariff_code, meter.kind)
        names = {"import": "electricity import", "export": "electricity export", "gas": "gas"}
        return [
            RepairIssue(
                key=f"{ISSUE_KEY}_{tariff}",
                translation_key=ISSUE_KEY,
                placeholders={
                    "tariff": tariff,
                    "meter": names[kind],
                    "hours": str(int(TARIFF_RETRY.total_seconds() // 3600)),
                },
            )
            for tariff, kind in kinds.items()
        ]

    def next_tick(self, data: OctopusData, now: datetime) -> datetime | None:
        """The next rate edge of any meter, or the next UK midnight."""
        start, end = self._window(now)
        edges = [local_day(now, UK)[1], *window_edges(self._windows, now)]
        for meter in data.meters:
            tariff = meter.tariff_at(now)
            if tariff and (edge := next_change(self._store("unit", tariff).rates(start, end), now)):
                edges.append(edge)
        return min(edges)

    def devices(self, data: OctopusData) -> list[DeviceSpec]:
        """A device per meter, named by kind and the identifier's last digits."""
        names = {"import": "Electricity import", "export": "Electricity export", "gas": "Gas"}
        return [
            DeviceSpec(
                key=meter.key,
                name=f"Octopus {names[meter.kind].lower()} {meter.identifier[-4:]}",
                manufacturer="Octopus Energy",
                model=f"{names[meter.kind]} meter",
                serial_number=meter.point.serial_numbers[-1]
                if meter.point.serial_numbers
                else None,
                service=True,
                configuration_url="https://octopus.energy/dashboard/",
            )
            for meter in data.meters
        ]

    def readings(self, data: OctopusData, now: datetime) -> list[Reading]:
        """Rates, standing charge, tariff code, when data was retrieved and the latest reading."""
        start, end = self._window(now)
        out: list[Reading] = []
        for meter in data.meters:
            tariff = meter.tariff_at(now)
            rates = self._store("unit", tariff).rates(start, end) if tariff else []
            export = meter.kind == "export"
            readings = rate_readings(
                rates, now, UK, device=meter.key, unit="GBP/kWh", export=export
            )
            fuel = "gas" if meter.kind == "gas" else "electricity"
            readings += day_rate_readings(
                rates,
                now,
                UK,
                device=meter.key,
                event_kind=f"octopus_energy_{fuel}",
                tariff_code=tariff,
            )
            if meter.kind != "gas":
                readings += window_readings(
                    self.windows[meter.kind],
                    partial(self.rates_between, data, meter=meter.identifier),
                    now,
                    UK,
                    device=meter.key,
                    unit="GBP/kWh",
                    export=export,
                    states=self._windows,
                )
            today = local_day(now, UK)
            time_of_use = (
                len({r.value for r in rates if r.end > today[0] and r.start < today[1]}) > 1
            )
            # A price that never changes in what is held (a fixed tariff) has no next or
            # previous rate: those sensors would never have a value.
            changes = not rates or len({r.value for r in rates}) > 1
            out += [
                r
                for r in readings
                if (time_of_use or r.metric not in ("cheapest_rate_now", "highest_rate_now"))
                and (changes or r.metric not in SINGLE_PRICE_HIDDEN)
            ]
            if "standing" in _kinds(meter):
                standing = self._store("standing", tariff).value_at(now) if tariff else None
                out.append(
                    Reading(
                        metric="standing_charge",
                        device=meter.key,
                        value=pence_to_pounds(standing) if standing is not None else None,
                        unit="GBP/day",
                    )
                )
            out += [
                Reading(metric="tariff_code", device=meter.key, value=tariff),
                Reading(metric="last_retrieved", device=meter.key, value=data.retrieved),
                Reading(
                    metric="latest_reading",
                    device=meter.key,
                    value=data.latest_reading.get(meter.key),
                ),
            ]
        return out

    # --- history -----------------------------------------------------------------------
    def _specs(self, meter: Meter) -> list[StatisticSpec]:
        base = f"{KEY}_{meter.identifier}"
        if meter.kind == "gas":
            # Volume only where the meter reports it: a statistic never written would hold
            # every later run back to the horizon.
            volume = [
                StatisticSpec(
                    key=f"{base}_gas_volume",
                    name=f"Octopus gas {meter.identifier} volume",
                    unit="m³",
                    unit_class="volume",
                )
            ]
            return [
                StatisticSpec(
                    key=f"{base}_gas_energy",
                    name=f"Octopus gas {meter.identifier} energy",
                    unit="kWh",
                    unit_class="energy",
                ),
                *(volume if self.gas_in_m3 else []),
                StatisticSpec(
                    key=f"{base}_gas_cost",
                    name=f"Octopus gas {meter.identifier} cost",
                    unit="GBP",
                    unit_class=None,
                ),
            ]
        money = "cost" if meter.kind == "import" else "compensation"
        return [
            StatisticSpec(
                key=f"{base}_{meter.kind}_energy",
                name=f"Octopus {meter.kind} {meter.identifier} energy",
                unit="kWh",
                unit_class="energy",
            ),
            StatisticSpec(
                key=f"{base}_{meter.kind}_{money}",
                name=f"Octopus {meter.kind} {meter.identifier} {money}",
                unit="GBP",
                unit_class=None,
            ),
        ]

    def statistic_specs(self, data: OctopusData) -> list[StatisticSpec]:
        """Energy and money per meter (and gas volume)."""
        return [spec for meter in data.meters for spec in self._specs(meter)]

    async def _consumption(
        self, meter: Meter, since: datetime, now: datetime
    ) -> list[ConsumptionInterval]:
        by_start: dict[datetime, ConsumptionInterval] = {}
        fetch = (
            self.client.gas_consumption
            if meter.kind == "gas"
            else self.client.electricity_consumption
        )
        for serial in meter.point.serial_numbers:
            for interval in await fetch(meter.identifier, serial, since, now):
                by_start.setdefault(interval.interval_start, interval)
        return [by_start[key] for key in sorted(by_start)]

    def async_history(
        self, data: OctopusData, since: datetime, now: datetime
    ) -> AsyncIterator[HistorySeries]:
        """Consumption since ``since``, priced with the held (or fetched) rates, per hour."""
        return self._history(data, {}, since, now)

    def async_history_from(
        self, data: OctopusData, starts: Mapping[str, datetime], now: datetime
    ) -> AsyncIterator[HistorySeries]:
        """Each meter from its own statistics' starts (see :meth:`_meter_since`)."""
        return self._history(data, starts, min(starts.values()), now)

    async def _meter_since(
        self,
        meter: Meter,
        starts: Mapping[str, datetime],
        default: datetime,
        now: datetime,
    ) -> tuple[datetime, datetime]:
        """Where a meter's consumption is read from, and where its money statistic resumes.

        Money that stopped earlier than energy (before hours a missing tariff left unpriced)
        pulls the read back to where it stopped, so the skipped hours are written, but only
        once every tariff of those hours is priced again: while one is still missing (asked
        again at most every ``TARIFF_RETRY``), energy is read from its own start and money
        is not written at all, so its gap stays at its end, where the next run finds it.
        """
        specs = self._specs(meter)
        money = starts.get(specs[-1].key, default)
        energy = min(starts.get(spec.key, default) for spec in specs[:-1])
        if money >= energy:
            return energy, money
        for agreement in meter.point.agreements:
            tariff = agreement.tariff_code
            lo = max(money, agreement.valid_from or money)
            hi = min(energy, agreement.valid_to or energy)
            span = (local_day(lo, UK)[0], hi)
            if tariff in self._missing and lo < hi and self._store("unit", tariff).gaps(*span):
                await self._fetch("unit", tariff, span, now)  # a request only when due
                if tariff in self._missing:
                    return energy, money
        return money, money

    async def _history(
        self,
        data: OctopusData,
        starts: Mapping[str, datetime],
        default: datetime,
        now: datetime,
    ) -> AsyncIterator[HistorySeries]:
        """Meter by meter: what was yielded is written even if a later meter fails."""
        found_new = False
        for meter in data.meters:
            since, money_since = await self._meter_since(meter, starts, default, now)
            intervals = await self._consumption(meter, since, now)
            if not intervals:
                continue
            latest = intervals[-1].interval_end
            found_new |= latest > data.latest_reading.get(meter.key, since)
            data.latest_reading[meter.key] = max(latest, data.latest_reading.get(meter.key, latest))
            # Each tariff's prices only for the days it applied (a tariff change halves a
            # year of Agile pages).
            spans: dict[str, tuple[datetime, datetime]] = {}
            for interval in intervals:
                if tariff := meter.tariff_at(interval.interval_start):
                    lo, hi = spans.get(tariff, (interval.interval_start, interval.interval_end))
                    spans[tariff] = (
                        min(lo, interval.interval_start),
                        max(hi, interval.interval_end),
                    )
            priced_from = money_since if since <= money_since else None
            for tariff, (lo, hi) in spans.items() if priced_from is not None else ():
                window = (local_day(lo, UK)[0], local_day(hi - HALF_HOUR, UK)[1])
                for kind in _kinds(meter):
                    await self._fetch(kind, tariff, window, now)
            for one in await self._series(meter, intervals, priced_from):
                yield one
        self._history_misses = 0 if found_new else self._history_misses + 1
        keep = now - timedelta(days=9)
        for store in (*self._unit_rates.values(), *self._standing.values()):
            store.prune(keep)

    async def _series(
        self,
        meter: Meter,
        intervals: list[ConsumptionInterval],
        money_since: datetime | None,
    ) -> list[HistorySeries]:
        """Energy (and gas volume) per hour; money from ``money_since`` (None: no money).

        Money is never a guess: an hour some half-hour of which has no price is not written
        (never a zero), and money stops before the first hour priced by a tariff whose rates
        Octopus does not publish (yet), so that hour is where the next run resumes.
        """
        energy: dict[datetime, float] = {}
        volume: dict[datetime, float] = {}
        money: dict[datetime, float] = {}
        unpriced: set[datetime] = set()
        pending: set[datetime] = set()  # unpriced by a missing tariff: money stops there
        for count, interval in enumerate(intervals, start=1):
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a year is 17,520 half-hours: let the loop breathe
            hour = interval.interval_start.replace(minute=0, second=0, microsecond=0)
            amount = interval.consumption
            if meter.kind == "gas" and self.gas_in_m3:
                volume[hour] = volume.get(hour, 0.0) + amount
                amount = amount * VOLUME_CORRECTION * self.calorific_value / MJ_PER_KWH
            energy[hour] = energy.get(hour, 0.0) + amount
            tariff = meter.tariff_at(interval.interval_start)
            price = (
                self._store("unit", tariff).value_at(interval.interval_start) if tariff else None
            )
            if price is None:
                unpriced.add(hour)
                if tariff in self._missing:
                    pending.add(hour)
            else:
                money[hour] = money.get(hour, 0.0) + amount * pence_to_pounds(price)
        if meter.kind != "export":
            # The day's standing charge lands in the hour that holds UK midnight.
            days = {local_day(interval.interval_start, UK)[0] for interval in intervals}
            for day in days:
                if (tariff := meter.tariff_at(day)) is None:
                    continue
                store = self._store("standing", tariff)
                charge = store.value_at(day)
                if charge is not None:
                    money[day] = money.get(day, 0.0) + pence_to_pounds(charge)
                elif tariff in self._missing or store.gaps(day, day + HALF_HOUR):
                    unpriced.add(day)  # not known yet (an empty answer means none)
                    pending.add(day)
        specs = self._specs(meter)
        out = [HistorySeries(spec=specs[0], hours={h: round(v, 6) for h, v in energy.items()})]
        if money_since is not None:
            stop = min((h for h in pending if h >= money_since), default=None)
            hours = {
                h: round(v, 6)
                for h, v in money.items()
                if h not in unpriced and (stop is None or h < stop)
            }
            if hours:
                out.append(HistorySeries(spec=specs[-1], hours=hours))
        if meter.kind == "gas" and self.gas_in_m3:
            out.append(
                HistorySeries(spec=specs[1], hours={h: round(v, 6) for h, v in volume.items()})
            )
        return out

    def history_held_back(self, data: OctopusData) -> set[str]:
        """The money statistics of meters with a tariff whose rates are not published."""
        return {
            self._specs(meter)[-1].key
            for meter in data.meters
            if any(a.tariff_code in self._missing for a in meter.point.agreements)
        }

    def next_history(self, now: datetime) -> datetime | None:
        """After the next UK day has ended and been published; back off while nothing comes."""
        if self._history_misses:
            delay: timedelta = CONSUMPTION_RETRY * 2 ** (self._history_misses - 1)
            return now + min(delay, CONSUMPTION_RETRY_MAX)
        return max(local_day(now, UK)[1] + CONSUMPTION_DELAY, now + HALF_HOUR)

    def diagnostics(self, data: OctopusData | None) -> dict[str, Any]:
        """Meters, tariffs and what is held; identifiers are redacted by the caller."""
        if data is None:
            return {}
        return {
            "meters": [
                {
                    "kind": meter.kind,
                    "tariff": meter.tariff_at(data.retrieved),
                    "agreements": len(meter.point.agreements),
                    "latest_reading": (
                        data.latest_reading[meter.key].isoformat()
                        if meter.key in data.latest_reading
                        else None
                    ),
                }
                for meter in data.meters
            ],
            "unit_rate_rows": {t: len(s.rows) for t, s in self._unit_rates.items()},
            "standing_charge_rows": {t: len(s.rows) for t, s in self._standing.items()},
            "account_fetched": data.account_fetched.isoformat(),
            "tariffs_not_published": {t: retry.isoformat() for t, retry in self._missing.items()},
        }

    def rates_between(
        self, data: OctopusData, start: datetime, end: datetime, meter: str | None = None
    ) -> list[Rate] | None:
        """Held unit rates (GBP/kWh) of an electricity meter over [start, end), each tariff
        for the time its agreement covers; no request. ``meter``: ``import`` (the default),
        ``export``, or the meter's MPAN. None when the account has no such meter."""
        wanted = (meter or "import").strip().lower()
        found = next(
            (m for m in data.meters if m.kind != "gas" and wanted in (m.kind, m.identifier)),
            None,
        )
        if found is None:
            return None
        agreements = sorted(found.point.agreements, key=lambda a: a.valid_from or start)
        out: list[Rate] = []
        for index, agreement in enumerate(agreements):
            following = agreements[index + 1].valid_from if index + 1 < len(agreements) else None
            lo = max(start, agreement.valid_from or start)
            hi = min(end, agreement.valid_to or end, following or end)
            store = self._unit_rates.get(agreement.tariff_code)
            if store is not None and lo < hi:
                out += store.rates(lo, hi)
        return out

    async def async_rates_between(
        self,
        data: OctopusData,
        start: datetime,
        end: datetime,
        meter: str | None = None,
        now: datetime | None = None,
    ) -> list[Rate] | None:
        """:meth:`rates_between`, first fetching what is not held (the Home source prices a
        year of its statistics with the account's own tariffs: one page per 1,500 half-hours
        of Agile, one request for a fixed or Flux tariff's year)."""
        wanted = (meter or "import").strip().lower()
        found = next(
            (m for m in data.meters if m.kind != "gas" and wanted in (m.kind, m.identifier)),
            None,
        )
        for agreement in found.point.agreements if found is not None else ():
            lo = max(start, agreement.valid_from or start)
            hi = min(end, agreement.valid_to or end)
            if lo < hi:
                span = (local_day(lo, UK)[0], local_day(hi - HALF_HOUR, UK)[1])
                await self._fetch("unit", agreement.tariff_code, span, now or data.retrieved)
        return self.rates_between(data, start, end, meter)
