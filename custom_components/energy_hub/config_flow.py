"""Config flow: pick a source from a menu, then that source's own steps; options per source."""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
    OptionsFlowWithReload,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import UNDEFINED
import voluptuous as vol

from .const import CONF_SOURCE, DOMAIN
from .sources import SOURCES
from .sources.base import (
    CredentialsStep,
    EntryUpdate,
    FlowError,
    FlowStep,
    FormSpec,
    Source,
    non_finite_field,
    with_choices,
)
from .sources.home import HomeSource


def _refuse_non_finite(values: Mapping[str, Any], fields: Any = None) -> None:
    """Raise FlowError ``not_a_number`` when ``values`` holds NaN or an infinity.

    The error sits on the field (a section's fields: on the section) when ``fields`` (a
    schema's keys) has it, else on the whole form.
    """
    if (key := non_finite_field(values)) is not None:
        known = {str(getattr(marker, "schema", marker)) for marker in fields or ()}
        raise FlowError("not_a_number", key if key in known else "base")


def _refuse_unknown_choices(
    values: Mapping[str, Any], choices: Mapping[str, Mapping[str, str]]
) -> None:
    """Raise FlowError ``invalid_choice`` for a value the running source does not offer
    (a plant the account does not have). Fields without known choices accept anything."""
    for field, known in choices.items():
        if not known or (value := values.get(field)) in (None, ""):
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            if str(item) not in known:
                raise FlowError("invalid_choice", field, {"value": str(item)})


class EnergyHubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a source: each entry is one vendor account or public feed."""

    VERSION = 1

    def __init__(self) -> None:
        """Per-flow state shared by a source's steps."""
        self._state: dict[str, Any] = {}
        #: The form last shown per step: shown again after an error, with the choices a
        #: previous step put in it (the account's plants, sites, devices).
        self._forms: dict[str, FormSpec] = {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the source."""
        return self.async_show_menu(step_id="user", menu_options=list(SOURCES))

    # --- each source's steps: one thin method per step id (``Source.flow_steps``) -----------
    # tests/test_flow_branches.py fails when a source declares a step without a method here.
    async def async_step_carbon_intensity(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Carbon Intensity: a postcode or the whole of Great Britain."""
        return await self._async_source_step(
            SOURCES["carbon_intensity"], "carbon_intensity", user_input
        )

    async def async_step_elexon(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Elexon BMRS: the GB grid, no account."""
        return await self._async_source_step(SOURCES["elexon"], "elexon", user_input)

    async def async_step_octopus(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Octopus Energy: API key and account number."""
        return await self._async_source_step(SOURCES["octopus"], "octopus", user_input)

    async def async_step_tariff(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A time-of-use tariff typed in."""
        return await self._async_source_step(SOURCES["tariff"], "tariff", user_input)

    async def async_step_hoymiles(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hoymiles S-Miles: the account."""
        return await self._async_source_step(SOURCES["hoymiles"], "hoymiles", user_input)

    async def async_step_hoymiles_plants(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hoymiles: the plants to add."""
        return await self._async_source_step(SOURCES["hoymiles"], "hoymiles_plants", user_input)

    async def async_step_xolta(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """XOLTA: the account."""
        return await self._async_source_step(SOURCES["xolta"], "xolta", user_input)

    async def async_step_xolta_site(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """XOLTA: the site, when the account has several."""
        return await self._async_source_step(SOURCES["xolta"], "xolta_site", user_input)

    async def async_step_xolta_api(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """XOLTA: the official API's client id and secret."""
        return await self._async_source_step(SOURCES["xolta"], "xolta_api", user_input)

    async def async_step_aretas(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Aretas: the account."""
        return await self._async_source_step(SOURCES["aretas"], "aretas", user_input)

    async def async_step_aretas_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Aretas: the battery, when the account has several."""
        return await self._async_source_step(SOURCES["aretas"], "aretas_device", user_input)

    async def async_step_home(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Home: its inputs, defaulted from the Energy dashboard's settings."""
        if user_input is None and "home" not in self._forms:
            self._forms["home"] = await HomeSource.async_first_form(self.hass)
        return await self._async_source_step(SOURCES["home"], "home", user_input)

    async def _async_source_step(
        self, source: type[Source[Any]], step_id: str, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        form = self._forms.get(step_id) or source.flow_form(step_id, user_input)
        if user_input is not None:
            try:
                _refuse_non_finite(user_input, form.schema.schema)
                result = await source.async_flow_submit(
                    FlowStep(
                        hass=self.hass,
                        session=async_get_clientsession(self.hass),
                        step_id=step_id,
                        user_input=user_input,
                        state=self._state,
                    )
                )
                if isinstance(result, FormSpec):
                    return self._async_show(result, None, errors)
                options = result.options if result.options is not None else source.default_options
                _refuse_non_finite({**result.data, **options})
            except FlowError as err:
                errors[err.field] = err.error
                placeholders = err.placeholders
            else:
                await self.async_set_unique_id(result.unique_id)
                existing = self.hass.config_entries.async_entry_for_domain_unique_id(
                    DOMAIN, result.unique_id
                )
                self._abort_if_unique_id_configured(
                    error=f"{source.key}_already_configured",
                    description_placeholders={"title": existing.title if existing else ""},
                )
                return self.async_create_entry(
                    title=result.title, data=result.data, options=dict(options)
                )
        return self._async_show(form, user_input, errors, placeholders)

    def _async_show(
        self,
        form: FormSpec,
        user_input: dict[str, Any] | None,
        errors: dict[str, str],
        placeholders: dict[str, str] | None = None,
    ) -> ConfigFlowResult:
        self._forms[form.step_id] = form
        return self.async_show_form(
            step_id=form.step_id,
            data_schema=self.add_suggested_values_to_schema(form.schema, user_input or {}),
            errors=errors,
            description_placeholders={**(form.placeholders or {}), **(placeholders or {})},
        )

    # --- reauth and reconfigure ----------------------------------------------------------
    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The service rejected the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for new credentials: they must open the same account."""
        entry = self._get_reauth_entry()
        source = SOURCES.get(str(entry.data.get(CONF_SOURCE)))
        schema = source.credentials_schema() if source else None
        if source is None or schema is None:
            return self.async_abort(reason="no_credentials")

        async def submit(step: CredentialsStep) -> EntryUpdate:
            unique_id, updates = await source.async_credentials_submit(step)
            return EntryUpdate(unique_id=unique_id, data=updates)

        return await self._async_entry_form(
            entry,
            source,
            user_input,
            step_id="reauth_confirm",
            schema=schema,
            submit=submit,
            filled={},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change what the entry's source lets change: credentials, a postcode, a server."""
        entry = self._get_reconfigure_entry()
        source = SOURCES.get(str(entry.data.get(CONF_SOURCE)))
        schema = source.reconfigure_schema() if source else None
        if source is None or schema is None:
            return self.async_abort(reason="nothing_to_reconfigure")
        return await self._async_entry_form(
            entry,
            source,
            user_input,
            step_id=source.reconfigure_step_id,
            schema=schema,
            submit=source.async_reconfigure_submit,
            filled=source.reconfigure_values(entry.data),
        )

    # Reconfigure forms of their own (``Source.reconfigure_step_id``); the credentials' is
    # ``reconfigure`` itself. tests/test_flow_branches.py fails when one has no method here.
    async def async_step_carbon_intensity_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Carbon Intensity: another postcode (region), another server."""
        return await self.async_step_reconfigure(user_input)

    async def async_step_elexon_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Elexon BMRS: another server."""
        return await self.async_step_reconfigure(user_input)

    async def async_step_home_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Home: its name."""
        return await self.async_step_reconfigure(user_input)

    async def async_step_tariff_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A typed-in tariff: its name and currency."""
        return await self.async_step_reconfigure(user_input)

    async def _async_entry_form(
        self,
        entry: ConfigEntry,
        source: type[Source[Any]],
        user_input: dict[str, Any] | None,
        *,
        step_id: str,
        schema: vol.Schema,
        submit: Callable[[CredentialsStep], Awaitable[EntryUpdate]],
        filled: Mapping[str, Any],
    ) -> ConfigFlowResult:
        """A form that changes an existing entry (reauth, reconfigure); the entry reloads."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"name": entry.title}
        if user_input is not None:
            try:
                _refuse_non_finite(user_input, schema.schema)
                update = await submit(
                    CredentialsStep(
                        hass=self.hass,
                        session=async_get_clientsession(self.hass),
                        data=entry.data,
                        user_input=user_input,
                    )
                )
            except FlowError as err:
                errors[err.field] = err.error
                placeholders |= err.placeholders
            else:
                return self._async_update_entry(entry, source, update)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input or filled),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _async_update_entry(
        self, entry: ConfigEntry, source: type[Source[Any]], update: EntryUpdate
    ) -> ConfigFlowResult:
        """Apply a checked update and reload the entry. Another unique id: new credentials
        of another account abort; an entry that may move (another region, a renamed tariff)
        moves, unless another entry already is that."""
        if update.unique_id != entry.unique_id:
            if update.same_entry:
                return self.async_abort(
                    reason="wrong_account", description_placeholders={"name": entry.title}
                )
            other = self.hass.config_entries.async_entry_for_domain_unique_id(
                DOMAIN, update.unique_id
            )
            if other is not None and other.entry_id != entry.entry_id:
                return self.async_abort(
                    reason=f"{source.key}_already_configured",
                    description_placeholders={"title": other.title},
                )
            _move_unique_id(self.hass, entry, update.unique_id)
        data = {**entry.data, **update.data}
        return self.async_update_reload_and_abort(
            entry,
            unique_id=update.unique_id,
            title=update.title if update.title is not None else UNDEFINED,
            data={key: value for key, value in data.items() if value is not None},
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Options are per source."""
        return EnergyHubOptionsFlow()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Only sources that have options show the Configure button."""
        source = SOURCES.get(str(config_entry.data.get(CONF_SOURCE)))
        return source is not None and source.options_schema() is not None


@callback
def _move_unique_id(hass: HomeAssistant, entry: ConfigEntry, unique_id: str) -> None:
    """The entry's entities and devices follow it to ``unique_id`` (their unique ids and
    identifiers start with the entry's): entity ids, names and settings stay."""
    old = f"{entry.unique_id}:"
    entities = er.async_get(hass)
    for item in er.async_entries_for_config_entry(entities, entry.entry_id):
        moved = f"{unique_id}:{item.unique_id.removeprefix(old)}"
        if item.unique_id.startswith(old) and not entities.async_get_entity_id(
            item.domain, item.platform, moved
        ):
            entities.async_update_entity(item.entity_id, new_unique_id=moved)
    devices = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
        identifiers = {
            (domain, f"{unique_id}:{value.removeprefix(old)}")
            if domain == DOMAIN and value.startswith(old)
            else (domain, value)
            for domain, value in device.identifiers
        }
        if identifiers != device.identifiers:
            devices.async_update_device(device.id, new_identifiers=identifiers)


class EnergyHubOptionsFlow(OptionsFlowWithReload):
    """The entry's source's options; the entry reloads when they change.

    Each source has its own options form (``Source.options_step``: its texts in
    ``options.step.<id>``); the method for each such step is added below the class, so a new
    source needs nothing here.
    """

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The source's options form."""
        return await self._async_options(None)

    async def _async_options(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        """One form with the source's options."""
        source = SOURCES[self.config_entry.data[CONF_SOURCE]]
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        schema = source.options_schema()
        assert schema is not None  # only offered for sources with options
        choices: Mapping[str, Mapping[str, str]] = {}
        if self.config_entry.state is ConfigEntryState.LOADED:
            choices = self.config_entry.runtime_data.source.option_choices()
        if user_input is not None:
            try:
                _refuse_non_finite(user_input, schema.schema)
                options = source.validate_options(user_input)
                _refuse_unknown_choices(options, choices)
                _refuse_non_finite(options, schema.schema)
                return self.async_create_entry(data=options)
            except FlowError as err:
                errors[err.field] = err.error
                placeholders = err.placeholders
        schema = with_choices(schema, choices)
        return self.async_show_form(
            step_id=source.options_step(),
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {**source.default_options, **self.config_entry.options}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )


def _options_step(step_id: str) -> Callable[..., Awaitable[ConfigFlowResult]]:
    async def step(
        self: EnergyHubOptionsFlow, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self._async_options(user_input)

    step.__name__ = step.__qualname__ = f"async_step_{step_id}"
    step.__doc__ = f"The options form {step_id!r}, submitted."
    return step


for _step_id in sorted(
    {source.options_step() for source in SOURCES.values() if source.options_schema() is not None}
):
    if not hasattr(EnergyHubOptionsFlow, f"async_step_{_step_id}"):
        setattr(EnergyHubOptionsFlow, f"async_step_{_step_id}", _options_step(_step_id))
