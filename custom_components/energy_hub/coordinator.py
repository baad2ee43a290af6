"""One coordinator per config entry: fetches when the source says data can change."""

from datetime import datetime, timedelta
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api.errors import ApiAuthError, ApiError, ApiRateLimitedError
from .const import DOMAIN, LOGGER
from .sources.base import DeviceSpec, Reading, Source

#: Never poll sooner than this, whatever a source asks.
MIN_INTERVAL = timedelta(seconds=30)
#: After a failure, wait this long, doubling per failure up to BACKOFF_MAX.
BACKOFF_START = timedelta(minutes=1)
BACKOFF_MAX = timedelta(minutes=30)

type EnergyHubConfigEntry = ConfigEntry[EnergyHubCoordinator]


class EnergyHubCoordinator(DataUpdateCoordinator[Any]):
    """Fetches through the entry's source and holds the readings entities show."""

    config_entry: EnergyHubConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: EnergyHubConfigEntry, source: Source[Any]
    ) -> None:
        """Schedule is decided by the source after each update."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{source.key} {entry.title}",
            update_interval=BACKOFF_MAX,
        )
        self.source = source
        self.readings: dict[str, Reading] = {}
        self.devices: dict[str, DeviceSpec] = {}
        self.failures = 0
        self._unsub_tick: CALLBACK_TYPE | None = None

    @override
    async def _async_update_data(self) -> Any:
        now = dt_util.utcnow()
        try:
            data = await self.source.async_update(self.data, now)
        except ApiAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except ApiRateLimitedError as err:
            self.failures += 1
            self.update_interval = self._backoff()
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={"seconds": str(round(err.retry_after or 0))},
                retry_after=err.retry_after,
            ) from err
        except ApiError as err:
            self.failures += 1
            self.update_interval = self._backoff()
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        self.failures = 0
        self.update_interval = max(self.source.next_update(data, now) - now, MIN_INTERVAL)
        self._compute(data, now)
        return data

    def _backoff(self) -> timedelta:
        delay: timedelta = BACKOFF_START * 2 ** (self.failures - 1)
        return min(delay, BACKOFF_MAX)

    def _compute(self, data: Any, now: datetime) -> None:
        """Readings and devices from held data, then the next tick."""
        self.devices = {device.key: device for device in self.source.devices(data)}
        self.readings = {reading.key: reading for reading in self.source.readings(data, now)}
        self._schedule_tick(data, now)

    def _schedule_tick(self, data: Any, now: datetime) -> None:
        if self._unsub_tick:
            self._unsub_tick()
            self._unsub_tick = None
        if (when := self.source.next_tick(data, now)) is not None:
            self._unsub_tick = async_track_point_in_utc_time(self.hass, self._async_tick, when)

    @callback
    def _async_tick(self, now: datetime) -> None:
        """Readings change from held data (a new half hour): no request."""
        self._unsub_tick = None
        if self.data is None:
            return
        self._compute(self.data, dt_util.utcnow())
        self.async_update_listeners()

    @override
    async def async_shutdown(self) -> None:
        if self._unsub_tick:
            self._unsub_tick()
            self._unsub_tick = None
        await super().async_shutdown()
