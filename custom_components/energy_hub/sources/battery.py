"""What the battery sources (XOLTA, Aretas) share: one battery chosen from a cloud account,
energy counters kept across restarts, hourly history backfilled a number of days.

A subclass says how to build its client, how to list the account's batteries and what an
entry holds; the flow (credentials, then the battery when the account has several), the
credentials check for reauth and reconfigure, the history option and the counters' readings,
statistics and persistence are here.
"""

from abc import abstractmethod
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import aiohttp
from homeassistant.const import CONF_USERNAME
from homeassistant.helpers import selector
import voluptuous as vol

from ..api.errors import ApiAuthError, ApiError
from ..api.http import JsonApiClient
from ..const import CONF_SOURCE
from .base import (
    CredentialsStep,
    EntrySpec,
    FlowError,
    FlowStep,
    FormSpec,
    Reading,
    Source,
    StatisticSpec,
    advanced_data,
    days_selector,
    floor_hour,
)

CONF_HISTORY_DAYS = "history_days"
DEFAULT_HISTORY_DAYS = 7
MAX_HISTORY_DAYS = 90
HOUR = timedelta(hours=1)


def whole_option(user_input: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    """A whole-number option, ``low`` to ``high``; FlowError ``not_a_number`` when it is none."""
    try:
        value = int(float(user_input.get(key, default)))
    except OverflowError, TypeError, ValueError:
        raise FlowError("not_a_number", key) from None
    return max(low, min(high, value))


def choice_form(step_id: str, field: str, labels: Mapping[str, str]) -> FormSpec:
    """A form to pick one of ``labels`` (value -> label)."""
    options = [
        selector.SelectOptionDict(value=value, label=label) for value, label in labels.items()
    ]
    return FormSpec(
        step_id=step_id,
        schema=vol.Schema(
            {
                vol.Required(field): selector.SelectSelector(
                    selector.SelectSelectorConfig(options=options)
                )
            }
        ),
    )


def counters_from(stored: Any, keys: tuple[str, ...]) -> dict[str, float]:
    """Persisted counters: each key's value, never below 0, missing ones 0. Raises
    AttributeError, TypeError or ValueError for what is not counters."""
    return {key: max(0.0, float(stored.get(key) or 0.0)) for key in keys}


class BatterySource[DataT, ClientT: JsonApiClient](Source[DataT]):
    """One battery of a cloud account, with energy counters and an hourly history."""

    #: The energy counters: metric keys, also the statistics' key suffixes.
    counter_keys: ClassVar[tuple[str, ...]]
    #: The flow's second step, where the battery is picked, its field, and where the flow's
    #: state keeps the account's batteries (id -> name) meanwhile.
    choice_step: ClassVar[str]
    choice_field: ClassVar[str]
    choices_key: ClassVar[str]
    #: The form errors when the account holds no battery, and when the one picked is gone.
    none_found: ClassVar[str]
    not_found: ClassVar[str]
    #: Whether an account with a single battery still shows the step to pick it.
    confirm_single: ClassVar[bool] = False
    #: The hourly history is fetched this long after each hour ends.
    history_delay: ClassVar[timedelta]
    default_options: ClassVar[Mapping[str, Any]] = {CONF_HISTORY_DAYS: DEFAULT_HISTORY_DAYS}

    def setup(self) -> None:
        """The client, the history horizon and the counters (zero until restored); a
        subclass adds its own state after this."""
        self.client: ClientT = self.build_client(self.session, self.data)
        self.history_horizon = timedelta(days=int(self.options[CONF_HISTORY_DAYS]))
        self.counters: dict[str, float] = dict.fromkeys(self.counter_keys, 0.0)

    @classmethod
    @abstractmethod
    def build_client(cls, session: aiohttp.ClientSession, data: Mapping[str, Any]) -> ClientT:
        """The vendor's client for the entry's (or the flow's) data."""

    @classmethod
    @abstractmethod
    async def list_batteries(cls, client: ClientT) -> dict[str, str]:
        """The account's batteries: id -> name. Raises api errors."""

    @classmethod
    @abstractmethod
    def entry(cls, data: dict[str, Any], battery: str, name: str) -> EntrySpec:
        """The entry for one battery of the account."""

    @classmethod
    @abstractmethod
    def battery_of(cls, data: Mapping[str, Any]) -> str:
        """The battery an entry's data names (its id as :meth:`list_batteries` gives it)."""

    @classmethod
    @abstractmethod
    def login_schema(cls) -> vol.Schema:
        """The flow's first form: the account's credentials."""

    @classmethod
    @abstractmethod
    def credentials(cls, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """The credentials from the first form; raise FlowError for what is missing."""

    @classmethod
    def credential_updates(cls, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """What the reauth and reconfigure form changes in the entry's data."""
        return cls.credentials(user_input)

    @classmethod
    def choice_labels(cls, batteries: Mapping[str, str]) -> dict[str, str]:
        """How the pick step shows each battery: by name."""
        return dict(batteries)

    # --- config flow -------------------------------------------------------------------
    @classmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        """The credentials; the battery (its choices come from the submit)."""
        if step_id == cls.choice_step:
            field = vol.Required(cls.choice_field)
            return FormSpec(step_id=step_id, schema=vol.Schema({field: selector.TextSelector()}))
        return FormSpec(step_id=step_id, schema=cls.login_schema())

    @classmethod
    async def batteries(cls, client: ClientT) -> dict[str, str]:
        """:meth:`list_batteries`, with flow errors for what goes wrong."""
        try:
            found = await cls.list_batteries(client)
        except ApiAuthError as err:
            raise FlowError("invalid_credentials") from err
        except ApiError as err:
            raise FlowError("cannot_connect") from err
        if not found:
            raise FlowError(cls.none_found)
        return found

    @classmethod
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec | FormSpec:
        """Log in and list the batteries; then the chosen one (or the only one)."""
        if step.step_id == cls.choice_step:
            batteries: dict[str, str] = step.state[cls.choices_key]
            chosen = str(step.user_input.get(cls.choice_field, "")).strip()
            if chosen not in batteries:
                raise FlowError(cls.not_found, cls.choice_field)
            return cls.entry(step.state["data"], chosen, batteries[chosen])
        data: dict[str, Any] = {
            CONF_SOURCE: cls.key,
            CONF_USERNAME: str(step.user_input.get(CONF_USERNAME, "")).strip(),
            **cls.credentials(step.user_input),
        }
        data |= advanced_data(step.user_input)
        found = await cls.batteries(cls.build_client(step.session, data))
        if len(found) == 1 and not cls.confirm_single:
            battery, name = next(iter(found.items()))
            return cls.entry(data, battery, name)
        step.state["data"] = data
        step.state[cls.choices_key] = found
        return choice_form(cls.choice_step, cls.choice_field, cls.choice_labels(found))

    @classmethod
    async def async_credentials_submit(cls, step: CredentialsStep) -> tuple[str, dict[str, Any]]:
        """The new credentials must reach the same battery (another account's: the flow
        aborts, ``wrong_account``)."""
        updates = cls.credential_updates(step.user_input)
        found = await cls.batteries(cls.build_client(step.session, {**step.data, **updates}))
        battery = cls.battery_of(step.data)
        return f"{cls.key}_{battery if battery in found else next(iter(found))}", updates

    @classmethod
    def options_schema(cls) -> vol.Schema:
        """How many days of history the first import goes back."""
        return vol.Schema({vol.Required(CONF_HISTORY_DAYS): days_selector(MAX_HISTORY_DAYS)})

    @classmethod
    def validate_options(cls, user_input: dict[str, Any]) -> dict[str, Any]:
        """Whole days, 1 to 90."""
        days = whole_option(
            user_input, CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS, 1, MAX_HISTORY_DAYS
        )
        return {CONF_HISTORY_DAYS: days}

    # --- runtime -----------------------------------------------------------------------
    @property
    def request_count(self) -> int:
        """Requests made by this source's client."""
        return self.client.request_count

    def counter_readings(
        self, device: str, attributes: Mapping[str, Any], available: bool = True
    ) -> list[Reading]:
        """The counters (kWh), unavailable when not ``available``."""
        return [
            Reading(
                metric=key,
                device=device,
                value=round(self.counters[key], 6) if available else None,
                attributes=attributes,
            )
            for key in self.counter_keys
        ]

    def counter_statistics(self, battery: str, names: Mapping[str, str]) -> list[StatisticSpec]:
        """A statistic per counter: ``energy_hub:<source>_<battery>_<counter>``, named by
        ``names``."""
        return [
            StatisticSpec(
                key=f"{self.key}_{battery}_{key}", name=names[key], unit="kWh", unit_class="energy"
            )
            for key in self.counter_keys
        ]

    def next_history(self, now: datetime) -> datetime | None:
        """Once an hour, shortly after it ends."""
        return floor_hour(now) + HOUR + self.history_delay
