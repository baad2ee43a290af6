"""One coordinator per config entry: fetches when the source says data can change."""

from datetime import datetime, timedelta
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.device_registry import DeviceEntryType
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api.errors import ApiAuthError, ApiError, ApiRateLimitedError
from .const import DOMAIN, LOGGER
from .sources.base import DeviceSpec, Reading, Source
from .statistics import async_update_statistics

#: Never poll sooner than this, whatever a source asks.
MIN_INTERVAL = timedelta(seconds=30)
#: After a failure, wait this long, doubling per failure up to BACKOFF_MAX.
BACKOFF_START = timedelta(minutes=1)
BACKOFF_MAX = timedelta(minutes=30)
#: A changed persisted state is written this long after the first change (at most one write
#: per period: many systems run on SD cards), and at stop and unload.
SAVE_DELAY = 15 * 60.0
STORE_VERSION = 1
#: The key, in the entry's stored state, of the statistics that had nothing to store (the
#: rest is the source's own).
EMPTY_STATISTICS = "energy_hub_empty_statistics"

type EnergyHubConfigEntry = ConfigEntry[EnergyHubCoordinator[Any]]


def device_identifier(entry: ConfigEntry[Any], key: str) -> tuple[str, str]:
    """The registry identifier of one of the entry's devices (``key``: its DeviceSpec key)."""
    return (DOMAIN, f"{entry.unique_id}:{key}")


def state_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where an entry's source keeps state across restarts."""
    return Store(hass, STORE_VERSION, f"{DOMAIN}.{entry_id}")


def issue_prefix(entry: ConfigEntry[Any]) -> str:
    """The start of the repair issue ids of an entry's source."""
    return f"{entry.entry_id}_"


@callback
def async_remove_issues(
    hass: HomeAssistant, entry: ConfigEntry[Any], keep: set[str] | None = None
) -> None:
    """Remove the entry's repair issues, but those in ``keep``."""
    prefix = issue_prefix(entry)
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue_id.startswith(prefix) and issue_id not in (keep or ()):
            ir.async_delete_issue(hass, DOMAIN, issue_id)


class EnergyHubCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Fetches through the entry's source and holds the readings entities show.

    ``DataT`` is the source's data type: what ``data`` holds and the source is given back.
    """

    config_entry: EnergyHubConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: EnergyHubConfigEntry, source: Source[DataT]
    ) -> None:
        """Schedule is decided by the source after each update."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            # Neutral: the title can hold an account number or an e-mail address, and the
            # name appears in every log line about this coordinator.
            name=f"{source.key} {entry.entry_id}",
            update_interval=BACKOFF_MAX,
        )
        self.source = source
        self.readings: dict[str, Reading] = {}
        self.devices: dict[str, DeviceSpec] = {}
        self.failures = 0
        self.history_failures = 0
        self.history_written: dict[str, int] = {}
        self._unsub_tick: CALLBACK_TYPE | None = None
        self._unsub_history: CALLBACK_TYPE | None = None
        self._history_running = False
        #: A scheduled run came due while another (the rebuild action) ran: run it after.
        self._history_pending = False
        #: The statistics the source had at the last update (None before the first).
        self._statistic_keys: set[str] | None = None
        self._new_statistics = False
        self._store = state_store(hass, entry.entry_id)
        #: Statistics (spec key) that had nothing to store, and when they were last asked
        #: from the horizon (see :func:`async_update_statistics`).
        self.empty_statistics: dict[str, datetime] = {}
        #: What was last loaded or written, and whether a write is scheduled.
        self._saved: dict[str, Any] | None = None
        self._save_scheduled = False

    # --- state kept across restarts ------------------------------------------------------
    async def async_restore(self) -> None:
        """Give the source back what it persisted before a restart (before the first update)."""
        stored = await self._store.async_load()
        if not isinstance(stored, dict):
            return
        self._saved = stored
        own = dict(stored)
        empty = own.pop(EMPTY_STATISTICS, None)
        if isinstance(empty, dict):
            for key, when in empty.items():
                if isinstance(when, str) and (parsed := dt_util.parse_datetime(when)):
                    self.empty_statistics[str(key)] = parsed
        if own:
            self.source.restore(own)

    def _persisted(self) -> dict[str, Any] | None:
        """The source's state and the empty statistics; None when there is neither."""
        state = self.source.persist()
        if state is None and not self.empty_statistics:
            return None
        out = dict(state or {})
        if self.empty_statistics:
            out[EMPTY_STATISTICS] = {
                key: when.isoformat() for key, when in self.empty_statistics.items()
            }
        return out

    def _to_save(self) -> dict[str, Any]:
        """The state the scheduled write writes (taken when it runs)."""
        self._save_scheduled = False
        self._saved = self._persisted() or {}
        return self._saved

    @callback
    def _async_schedule_save(self) -> None:
        """One write ``SAVE_DELAY`` after the state first differs from what is stored: no
        timer while nothing changed, none moved by later updates."""
        if self._save_scheduled:
            return
        state = self._persisted()
        if state is None or state == self._saved:
            return
        self._save_scheduled = True
        self._store.async_delay_save(self._to_save, SAVE_DELAY)

    @override
    async def _async_update_data(self) -> DataT:
        now = dt_util.utcnow()
        try:
            data = await self.source.async_update(self.data, now)
        except ApiAuthError as err:
            if self._has_credentials:
                raise ConfigEntryAuthFailed(
                    translation_domain=DOMAIN, translation_key="auth_failed"
                ) from err
            # Nothing to re-enter: a public API's 401/403 is a passing fault.
            raise self._update_failed(err) from err
        except ApiError as err:
            raise self._update_failed(err) from err
        self.failures = 0
        self.update_interval = max(self.source.next_update(data, now) - now, MIN_INTERVAL)
        self._compute(data, now)
        self._async_schedule_save()
        keys = {spec.key for spec in self.source.statistic_specs(data)}
        if self._statistic_keys is not None and not keys <= self._statistic_keys:
            self._new_statistics = True
        self._statistic_keys = keys
        return data

    @callback
    @override
    def async_update_listeners(self) -> None:
        """Entities first; then, when an update found a new statistic (a plant added to the
        account), its history now rather than at the next daily run."""
        super().async_update_listeners()
        if self._new_statistics and self.async_start_history():
            self._new_statistics = False

    def _update_failed(self, err: ApiError) -> UpdateFailed:
        """Count a failed update and back off; the error to raise says why (after a 429,
        how long the vendor asked to wait)."""
        self.failures += 1
        self.update_interval = self._backoff()
        if isinstance(err, ApiRateLimitedError):
            return UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={"seconds": str(round(err.retry_after or 0))},
                retry_after=err.retry_after,
            )
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="update_failed",
            translation_placeholders={"error": str(err)},
        )

    @property
    def _has_credentials(self) -> bool:
        """Whether the source has credentials a reauth could replace."""
        return self.source.credentials_schema() is not None

    def _backoff(self) -> timedelta:
        delay: timedelta = BACKOFF_START * 2 ** (self.failures - 1)
        return min(delay, BACKOFF_MAX)

    def _compute(self, data: DataT, now: datetime) -> None:
        """Readings and devices from held data, then the next tick."""
        devices = {device.key: device for device in self.source.devices(data)}
        if devices != self.devices:
            self.devices = devices
            self._sync_devices()
        self.readings = {reading.key: reading for reading in self.source.readings(data, now)}
        self._sync_issues(data, now)
        self._schedule_tick(data, now)

    def _sync_issues(self, data: DataT, now: datetime) -> None:
        """Raise the repair issues the source reports; remove the entry's others."""
        prefix = issue_prefix(self.config_entry)
        wanted = {f"{prefix}{issue.key}": issue for issue in self.source.repair_issues(data, now)}
        async_remove_issues(self.hass, self.config_entry, keep=set(wanted))
        for issue_id, issue in wanted.items():
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=issue.translation_key,
                translation_placeholders=dict(issue.placeholders),
            )

    def _sync_devices(self) -> None:
        """Register the source's devices, each after the device it is connected through
        (``via``), and remove the entry's devices the source no longer reports."""
        entry = self.config_entry
        registry = dr.async_get(self.hass)
        ids: dict[str, str] = {}
        pending = list(self.devices.values())
        while pending:
            waiting = [
                spec
                for spec in pending
                if spec.via and spec.via in self.devices and spec.via not in ids
            ]
            for spec in pending:
                if spec in waiting:
                    continue
                device = registry.async_get_or_create(
                    config_entry_id=entry.entry_id,
                    identifiers={device_identifier(entry, spec.key)},
                    name=spec.name,
                    manufacturer=spec.manufacturer,
                    model=spec.model,
                    entry_type=DeviceEntryType.SERVICE if spec.service else None,
                    serial_number=spec.serial_number,
                    sw_version=spec.sw_version,
                    configuration_url=spec.configuration_url,
                    via_device_id=ids.get(spec.via) if spec.via else None,
                )
                ids[spec.key] = device.id
            if len(waiting) == len(pending):
                break  # a loop of ``via``: those devices come with their entities
            pending = waiting
        if not self.devices:
            return  # nothing reported at all is a glitch, not every device gone
        known = {device_identifier(entry, key) for key in self.devices}
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if not device.identifiers & known:
                LOGGER.debug("%s: removing device %s (no longer reported)", self.name, device.name)
                registry.async_remove_device(device.id)

    def _schedule_tick(self, data: DataT, now: datetime) -> None:
        if self._unsub_tick:
            self._unsub_tick()
            self._unsub_tick = None
        if (when := self.source.next_tick(data, now)) is not None:
            self._unsub_tick = async_track_point_in_utc_time(self.hass, self._async_tick, when)

    @callback
    def async_track_entities(self) -> None:
        """Compute the readings again (no request) when an entity the source reads changes."""
        if entities := self.source.tracked_entities():
            self.config_entry.async_on_unload(
                async_track_state_change_event(self.hass, entities, self._async_entity_changed)
            )

    @callback
    def _async_entity_changed(self, _event: Event[EventStateChangedData]) -> None:
        if self.data is None:
            return
        self.readings = {
            reading.key: reading for reading in self.source.readings(self.data, dt_util.utcnow())
        }
        self.async_update_listeners()

    @callback
    def _async_tick(self, now: datetime) -> None:
        """Readings change from held data (a new half hour): no request."""
        self._unsub_tick = None
        if self.data is None:
            return
        self._compute(self.data, dt_util.utcnow())
        self.async_update_listeners()

    # --- long-term statistics ---------------------------------------------------------------
    @callback
    def async_start_history(self, rebuild_from: datetime | None = None) -> bool:
        """Update the source's statistics in the background; False if a run is under way
        (it is then run once that run ends)."""
        if self._history_running:
            self._history_pending = True
            return False
        if self.data is None:
            return False
        if not self.source.statistic_specs(self.data):
            return False
        if self._unsub_history:
            self._unsub_history()
            self._unsub_history = None
        self._history_running = True
        self._history_pending = False
        self.config_entry.async_create_background_task(
            self.hass,
            self._async_history(rebuild_from),
            f"{DOMAIN} statistics {self.config_entry.entry_id}",
        )
        return True

    async def _async_history(self, rebuild_from: datetime | None) -> None:
        """A background run: failures are logged and retried later, never raised."""
        now = dt_util.utcnow()
        when: datetime | None
        try:
            await self._async_run_history(now, rebuild_from)
        except ApiAuthError as err:
            if self._has_credentials:
                LOGGER.warning("%s: credentials rejected while reading history", self.name)
                self.config_entry.async_start_reauth(self.hass)
                when = None
            else:  # a public API: nothing to re-enter, a passing fault
                when = now + self._history_failed(err)
        except ApiError as err:
            when = now + self._history_failed(err)
        else:
            if self.history_failures:
                LOGGER.info("%s: history updated again", self.name)
            self.history_failures = 0
            when = self.source.next_history(now)
        finally:
            self._history_running = False
        if self._history_pending and self.async_start_history():
            return  # a run came due meanwhile: it schedules the next one
        if when is not None:
            self._unsub_history = async_track_point_in_utc_time(
                self.hass, self._async_history_due, when
            )

    def _history_failed(self, err: ApiError) -> timedelta:
        """Count a failed history run; the delay before the next. Logged once per outage
        (then at debug level), like the coordinator's updates; recovery is logged too."""
        self.history_failures += 1
        delay: timedelta = min(BACKOFF_START * 2 ** (self.history_failures - 1), BACKOFF_MAX)
        if isinstance(err, ApiRateLimitedError) and err.retry_after:
            delay = max(delay, timedelta(seconds=err.retry_after))
        if self.history_failures == 1:
            LOGGER.warning("%s: history not updated (%s); retrying in %s", self.name, err, delay)
        else:
            LOGGER.debug(
                "%s: history still not updated (%s, failure %d); retrying in %s",
                self.name,
                err,
                self.history_failures,
                delay,
            )
        return delay

    async def _async_run_history(self, now: datetime, rebuild_from: datetime | None) -> None:
        self.history_written = await async_update_statistics(
            self.hass,
            self.source,
            self.data,
            now,
            rebuild_from=rebuild_from,
            empty=self.empty_statistics,
        )
        self._async_schedule_save()
        # History can change readings (the latest consumption reading, say) and what the
        # source reports as needing repair (a tariff found missing).
        if self.source.refresh_after_history:
            await self.async_refresh()  # readings read from the statistics just written
            return
        self._compute(self.data, dt_util.utcnow())
        self.async_update_listeners()

    @property
    def has_history(self) -> bool:
        """Whether the source writes long-term statistics."""
        return self.data is not None and bool(self.source.statistic_specs(self.data))

    async def async_rebuild_history(self, start: datetime) -> dict[str, int]:
        """Rewrite the statistics from ``start``; raises HomeAssistantError on failure."""
        if self._history_running:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="history_busy")
        self._history_running = True
        try:
            await self._async_run_history(dt_util.utcnow(), start)
        except ApiError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="history_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        finally:
            self._history_running = False
            if self._history_pending:
                # A scheduled run came due meanwhile: run it now, it reschedules itself.
                self.async_start_history()
        return self.history_written

    @callback
    def _async_history_due(self, _now: datetime) -> None:
        self._unsub_history = None
        self.async_start_history()

    @override
    async def async_shutdown(self) -> None:
        for unsub in (self._unsub_tick, self._unsub_history):
            if unsub:
                unsub()
        self._unsub_tick = self._unsub_history = None
        state = self._persisted()
        if state is not None and (state != self._saved or self._save_scheduled):
            self._save_scheduled = False
            self._saved = state
            await self._store.async_save(state)
        await super().async_shutdown()
