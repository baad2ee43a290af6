"""What every source adapter provides, in vendor-neutral terms.

A source turns one vendor's API into devices and readings. Everything above ``sources/``
(coordinator, entities, config flow, diagnostics) only speaks these types.
"""

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import math
import os
from typing import Any, ClassVar

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers import selector
import voluptuous as vol
from yarl import URL

from ..const import CONF_ADVANCED, CONF_BASE_URL

SANDBOX_ENV: str = "ENERGY_HUB_SANDBOX_URL"


def floor_hour(when: datetime) -> datetime:
    """The start of the UTC hour holding ``when``."""
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def resolve_base_url(source_key: str, default: str, configured: str | None = None) -> str:
    """The base URL a source talks to.

    A URL configured on the entry (the flow's advanced section) wins; then an environment
    variable ``ENERGY_HUB_<SOURCE>_URL``; then ``ENERGY_HUB_SANDBOX_URL`` plus the source's
    path on the development sandbox; then the vendor's own default.
    """
    if configured:
        return configured.rstrip("/")
    if specific := os.environ.get(f"ENERGY_HUB_{source_key.upper()}_URL"):
        return specific.rstrip("/")
    if sandbox := os.environ.get(SANDBOX_ENV):
        return f"{sandbox.rstrip('/')}/{source_key.replace('_', '-')}"
    return default


def entry_base_url(source_key: str, default: str, data: Mapping[str, Any]) -> str:
    """The base URL for an entry's (or a flow's) data: :func:`resolve_base_url` with the URL
    typed in the advanced section."""
    return resolve_base_url(source_key, default, configured_base_url(data))


def advanced_section(*extra: tuple[Any, Any]) -> dict[Any, Any]:
    """The collapsed "Advanced" section every flow ends with: another server URL, plus
    ``extra`` (marker, selector) fields a source adds there."""
    return {
        vol.Required(CONF_ADVANCED): section(
            vol.Schema({**dict(extra), vol.Optional(CONF_BASE_URL): selector.TextSelector()}),
            {"collapsed": True},
        )
    }


def advanced_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """What to store from the advanced section: the server URL when one was typed.

    Raises FlowError ``invalid_url`` (on the section) for a URL no client could use.
    """
    advanced = user_input.get(CONF_ADVANCED)
    url = str(advanced.get(CONF_BASE_URL) or "").strip() if isinstance(advanced, Mapping) else ""
    if url and not usable_base_url(url):
        raise FlowError("invalid_url", CONF_ADVANCED)
    return {CONF_ADVANCED: {CONF_BASE_URL: url}} if url else {}


def usable_base_url(text: str) -> bool:
    """Whether ``text`` can be a vendor base URL: http or https, a host, no user or password
    (clients send their own credentials), no query or fragment (paths are appended to it)."""
    try:
        url = URL(text)
        probe = URL(f"{text.rstrip('/')}/probe")
        host, port = url.host, url.port
    except TypeError, ValueError:
        return False
    return (
        url.scheme in ("http", "https")
        and bool(host)
        and port is not None
        and url.user is None
        and url.password is None
        and not url.query_string
        and not url.fragment
        and probe.host == host
        and not any(char.isspace() or not char.isprintable() for char in text)
    )


def non_finite_field(values: Mapping[str, Any]) -> str | None:
    """The first top-level key of ``values`` whose value holds a float that is not finite
    (NaN, infinity), looking into sections and lists; None when every number is finite."""

    def bad(value: Any) -> bool:
        if isinstance(value, float):
            return not math.isfinite(value)
        if isinstance(value, Mapping):
            return any(bad(item) for item in value.values())
        if isinstance(value, list | tuple | set | frozenset):
            return any(bad(item) for item in value)
        return False

    return next((str(key) for key, value in values.items() if bad(value)), None)


def with_choices(schema: vol.Schema, choices: Mapping[str, Mapping[str, str]]) -> vol.Schema:
    """``schema`` with the given options in its select fields (typed-in values stay allowed
    where the field allows them)."""
    if not choices:
        return schema
    fields: dict[Any, Any] = {}
    for key, value in schema.schema.items():
        known = choices.get(str(getattr(key, "schema", key)))
        if known is not None and isinstance(value, selector.SelectSelector):
            options = [
                selector.SelectOptionDict(value=v, label=label) for v, label in known.items()
            ]
            fields[key] = selector.SelectSelector({**value.config, "options": options})
        else:
            fields[key] = value
    return vol.Schema(fields)


def secret_selector() -> selector.TextSelector:
    """A password-style text field (passwords, API keys, tokens)."""
    return selector.TextSelector(
        selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
    )


def username_selector(*, email: bool) -> selector.TextSelector:
    """An account's user name, an e-mail address where ``email``."""
    if email:
        return selector.TextSelector(
            selector.TextSelectorConfig(
                type=selector.TextSelectorType.EMAIL, autocomplete="username"
            )
        )
    return selector.TextSelector(selector.TextSelectorConfig(autocomplete="username"))


def whole_selector(minimum: int, maximum: int, unit: str) -> selector.NumberSelector:
    """A whole number of ``unit``, ``minimum`` to ``maximum``, typed in a box."""
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            unit_of_measurement=unit,
            mode=selector.NumberSelectorMode.BOX,
        )
    )


def days_selector(maximum: int) -> selector.NumberSelector:
    """A whole number of days, 1 to ``maximum`` (history and backfill horizons)."""
    return whole_selector(1, maximum, "days")


def configured_base_url(data: Mapping[str, Any]) -> str | None:
    """The base URL the user typed in the flow's advanced section, if any."""
    advanced = data.get(CONF_ADVANCED)
    if isinstance(advanced, Mapping):
        url = advanced.get(CONF_BASE_URL)
        return url if isinstance(url, str) and url else None
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceSpec:
    """A device as the source sees it; ``key`` is unique within the entry."""

    key: str
    name: str
    manufacturer: str | None = None
    model: str | None = None
    serial_number: str | None = None
    sw_version: str | None = None
    service: bool = False
    via: str | None = None
    configuration_url: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Reading:
    """One value of one metric on one device, at the time it was computed."""

    metric: str
    value: Any
    device: str
    #: Distinguishes several readings of one metric on one device (an unknown fuel, say).
    variant: str | None = None
    attributes: Mapping[str, Any] | None = None
    #: The unit, where it depends on the source (a price in the tariff's currency).
    unit: str | None = None
    #: The name's ``variant`` placeholder when it is not the variant itself (a label the
    #: vendor gives at run time, while the variant keeps the unique id stable).
    label: str | None = None

    @property
    def key(self) -> str:
        """Stable key of this reading within the entry: part of the entity's unique id."""
        return ":".join(part for part in (self.device, self.metric, self.variant) if part)


@dataclass(frozen=True, kw_only=True, slots=True)
class StatisticSpec:
    """A long-term statistic a source backfills: ``energy_hub:<key>``, hourly, with a sum."""

    key: str
    name: str
    unit: str
    #: The recorder's unit class ("energy", "volume"), None for money.
    unit_class: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class HistorySeries:
    """Hourly amounts of one statistic: hour start (UTC, on the hour) -> amount in that hour.

    A series covers every hour it holds data for from the ``since`` it was asked for; the
    statistics writer accumulates the running sum.
    """

    spec: StatisticSpec
    hours: Mapping[datetime, float]


@dataclass(frozen=True, kw_only=True, slots=True)
class RepairIssue:
    """A problem the user should know of (Settings > Repairs) while the source reports it.

    ``key`` is unique within the entry (the registry's issue id is ``<entry id>_<key>``);
    ``translation_key`` names its text in the ``issues`` section of the translations.
    """

    key: str
    translation_key: str
    placeholders: Mapping[str, str]


@dataclass(frozen=True, kw_only=True, slots=True)
class EntrySpec:
    """What a finished config flow creates."""

    title: str
    unique_id: str
    data: dict[str, Any]
    #: The entry's first options; the source's ``default_options`` when None.
    options: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class FormSpec:
    """A form the config flow shows next."""

    step_id: str
    schema: vol.Schema
    placeholders: Mapping[str, str] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class FlowStep:
    """A submitted step of a source's config flow.

    ``state`` persists across the steps of one flow.
    """

    hass: HomeAssistant
    session: aiohttp.ClientSession
    step_id: str
    user_input: dict[str, Any]
    state: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class CredentialsStep:
    """New credentials submitted for an entry (reauth or reconfigure); ``data`` is the
    entry's data."""

    hass: HomeAssistant
    session: aiohttp.ClientSession
    data: Mapping[str, Any]
    user_input: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class EntryUpdate:
    """What a reconfigure changes in an entry: its data (``data``: the keys to change; None
    removes a key), and its unique id and title.

    ``same_entry``: the unique id must stay (new credentials must open the same account;
    another one aborts ``wrong_account``). Otherwise the entry may move to another unique id
    (a postcode in another region, a tariff renamed): its entities and devices keep their
    entity ids, and a unique id another entry already has is refused.
    """

    unique_id: str
    data: dict[str, Any]
    title: str | None = None
    same_entry: bool = True


class FlowError(Exception):
    """Bad input or a failed check in a flow step; ``error`` is a translation key."""

    def __init__(
        self, error: str, field: str = "base", placeholders: Mapping[str, str] | None = None
    ) -> None:
        """Attach the error to a form field, or to the whole form; placeholders fill its text."""
        super().__init__(error)
        self.error = error
        self.field = field
        self.placeholders = dict(placeholders or {})


async def _no_history() -> AsyncIterator[HistorySeries]:
    return
    yield  # an async generator that yields nothing


class Source[DataT](ABC):
    """A source adapter: builds its client, fetches, and says what it fetched means."""

    #: The source key (``carbon_intensity``): also the config flow step and translation key.
    key: ClassVar[str]
    #: Config flow step ids this source handles, the first one shown first.
    flow_steps: ClassVar[tuple[str, ...]]
    #: Options and their defaults; an empty mapping means the source has no options.
    default_options: ClassVar[Mapping[str, Any]] = {}

    def __init__(
        self,
        session: aiohttp.ClientSession,
        data: Mapping[str, Any],
        options: Mapping[str, Any],
    ) -> None:
        """Keep the entry's data and options, then :meth:`setup` the source's own state."""
        self.session = session
        self.data = data
        self.options = {**self.default_options, **options}
        self.setup()

    def setup(self) -> None:
        """The source's own state from ``self.data`` and ``self.options`` (its client, what it
        holds before the first update): one place instead of each source's ``__init__``."""
        return

    # --- config flow -------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        """The form for ``step_id``, pre-filled with ``user_input`` after an error."""

    @classmethod
    @abstractmethod
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec | FormSpec:
        """Validate a submitted step; raise FlowError for the form to show again.

        ``step.state`` persists across the steps of one flow.
        """

    @classmethod
    def credentials_schema(cls) -> vol.Schema | None:
        """The credentials form for reauth and reconfigure; None when there are none."""
        return None

    @classmethod
    async def async_credentials_submit(cls, step: CredentialsStep) -> tuple[str, dict[str, Any]]:
        """Check new credentials for an entry; return its unique id and the data to update.

        Raise FlowError for the form to show again.
        """
        raise NotImplementedError

    #: The reconfigure form's step id (its texts in ``config.step.<id>``): ``reconfigure``,
    #: the credentials, unless the source changes something else there.
    reconfigure_step_id: ClassVar[str] = "reconfigure"

    @classmethod
    def reconfigure_schema(cls) -> vol.Schema | None:
        """What Reconfigure changes: by default the credentials; None when nothing."""
        return cls.credentials_schema()

    @classmethod
    def reconfigure_values(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The reconfigure form's fields filled in from the entry's data (never secrets)."""
        return {}

    @classmethod
    async def async_reconfigure_submit(cls, step: CredentialsStep) -> EntryUpdate:
        """Check a submitted reconfigure form; by default new credentials for the same
        account. Raise FlowError for the form to show again."""
        unique_id, updates = await cls.async_credentials_submit(step)
        return EntryUpdate(unique_id=unique_id, data=updates)

    #: The options form's step id (its texts in ``options.step.<id>``); None: the source key.
    options_step_id: ClassVar[str | None] = None

    @classmethod
    def options_step(cls) -> str:
        """The options form's step id."""
        return cls.options_step_id or cls.key

    @classmethod
    def options_schema(cls) -> vol.Schema | None:
        """The options form, or None when the source has no options."""
        return None

    @classmethod
    def validate_options(cls, user_input: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise submitted options; raise FlowError for the form to show again."""
        return user_input

    def option_choices(self) -> Mapping[str, Mapping[str, str]]:
        """What the running source knows to offer in its options' select fields:
        field -> {value: label} (the account's plants by name, say)."""
        return {}

    # --- runtime -----------------------------------------------------------------------
    @property
    @abstractmethod
    def request_count(self) -> int:
        """HTTP requests made so far (diagnostics and request-budget tests)."""

    @abstractmethod
    async def async_update(self, previous: DataT | None, now: datetime) -> DataT:
        """Fetch what is not held yet and return the new data. Raises api errors."""

    @abstractmethod
    def next_update(self, data: DataT, now: datetime) -> datetime:
        """When the data can next change: the next fetch is scheduled for then."""

    def next_tick(self, data: DataT, now: datetime) -> datetime | None:
        """When readings next change from held data alone (no request), or None."""
        return None

    @abstractmethod
    def devices(self, data: DataT) -> list[DeviceSpec]:
        """The devices the data describes."""

    @abstractmethod
    def readings(self, data: DataT, now: datetime) -> list[Reading]:
        """Every reading the data gives at ``now``; None values make entities unavailable."""

    # --- long-term statistics (sources with history override these) ---------------------
    #: How far back the first backfill goes.
    history_horizon: timedelta = timedelta(0)

    def statistic_specs(self, data: DataT) -> list[StatisticSpec]:
        """The statistics this source backfills; empty when it has no history."""
        return []

    def async_history(
        self, data: DataT, since: datetime, now: datetime
    ) -> AsyncIterator[HistorySeries]:
        """Hourly history from ``since`` (on the hour) to what the vendor has; raises api errors.

        An async iterator: each series yielded is written before the next is fetched, so a
        failure part-way keeps what came before it.
        """
        return _no_history()

    def async_history_from(
        self, data: DataT, starts: Mapping[str, datetime], now: datetime
    ) -> AsyncIterator[HistorySeries]:
        """History with a start per statistic (by spec key), for sources whose statistics
        are fetched apart (a plant added later is backfilled without the others). By default
        :meth:`async_history` from the earliest start (what lies before a statistic's own
        start is not written)."""
        return self.async_history(data, min(starts.values()), now)

    def next_history(self, now: datetime) -> datetime | None:
        """When to look for new history next; None when the source has none."""
        return None

    def history_held_back(self, data: DataT) -> set[str]:
        """Statistics (spec keys) left unwritten on purpose until something else comes (money
        waiting for a tariff's rates): never taken for statistics with nothing to store."""
        return set()

    # --- state kept across restarts (counters that integrate power, say) ------------------
    def persist(self) -> Mapping[str, Any] | None:
        """JSON-serialisable state to keep across restarts; None when there is none.

        The coordinator stores it per entry (``.storage/energy_hub.<entry id>``) shortly
        after each update and when the entry unloads, and hands it back to :meth:`restore`
        before the first update after a restart.
        """
        return None

    def restore(self, stored: Mapping[str, Any]) -> None:
        """Take back what :meth:`persist` returned before a restart (ignore what is odd)."""
        return

    # --- sources that read Home Assistant itself (the Home source) -----------------------
    #: Whether the readings come from the source's own statistics: refreshed after each
    #: history run.
    refresh_after_history: ClassVar[bool] = False

    def bind(self, hass: HomeAssistant) -> None:
        """Home Assistant, for sources that read other entries, states or statistics; called
        once before the first update. Vendor sources need nothing of it."""
        return

    def tracked_entities(self) -> list[str]:
        """Entities whose state changes move the readings (computed again, no request)."""
        return []

    def repair_issues(self, data: DataT, now: datetime) -> list[RepairIssue]:
        """The repair issues the held data call for now; the coordinator raises these and
        removes the entry's others after each update and history run."""
        return []

    def diagnostics(self, data: DataT | None) -> dict[str, Any]:
        """A summary of the held data for the diagnostics download (redacted by the caller)."""
        return {}
