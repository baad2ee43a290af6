"""XOLTA home battery: live power per site, energy counters from the cloud's interval averages.

Requests (fair use: the current state at most once a minute):
- ``siteStatus`` once a minute: SoC and battery, PV, grid and house power;
- ``GetDataSummary`` every 10 minutes, 2 minutes after each 10-minute boundary: the one-minute
  buckets since the last one counted. Each bucket's average power times its length is added to the
  energy counters, and the end of the last bucket counted is kept with the counters (and
  persisted), so across polls and restarts every bucket is counted once and none is missed;
- ``GetDataSummary`` once an hour for the long-term statistics: the hours not held yet (the
  first run: the whole backfill, one request per 31 days).
A bucket XOLTA has no values for (an upload outage) adds nothing; while it is recent it is
asked for again, in case the data arrives late. A bucket XOLTA does not return at all after the
last one it returned (an empty answer: its summaries lag behind) is "not yet": the counters
never pass it, and it is asked for at each count until it comes (within the 31-day catch-up).
A bucket missing between two returned ones is asked for again while recent, then is a gap.

Signs are Energy Hub's (the client's): battery + discharging, grid + importing.
"""

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
from typing import Any, ClassVar, Final

import aiohttp
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..api.xolta import (
    DEFAULT_AUTHORITY_URL,
    DEFAULT_BASE_URL,
    TENANT_ID,
    XoltaClient,
    XoltaInterval,
    XoltaStatus,
)
from ..const import CONF_ADVANCED
from .base import (
    CredentialsStep,
    DeviceSpec,
    EntrySpec,
    FlowError,
    FlowStep,
    FormSpec,
    HistorySeries,
    Reading,
    StatisticSpec,
    advanced_section,
    entry_base_url,
    floor_hour,
    secret_selector,
    username_selector,
)
from .battery import HOUR, BatterySource, counters_from

KEY = "xolta"
SITE_STEP = "xolta_site"
CONF_REFRESH_TOKEN = "refresh_token"  # noqa: S105 (a field name)
CONF_SITE_ID = "site_id"
CONF_SITE_NAME = "site_name"

STATUS_INTERVAL = timedelta(minutes=1)
BUCKET = timedelta(minutes=10)
#: Ask for a bucket this long after it ends: the device uploads once a minute.
SETTLE = timedelta(minutes=2)
#: A bucket without values is asked for again until it is this old (late uploads).
NULL_GRACE = timedelta(minutes=30)
#: After a long downtime, count at most this far back (one request).
MAX_CATCH_UP = timedelta(days=31)
HISTORY_DELAY = timedelta(minutes=5)
#: An hour with minutes missing is asked for again while it is younger than this.
REFETCH_INCOMPLETE = timedelta(days=1)
#: Minutes per bucket asked of GetDataSummary. XOLTA's app asks for 10 (VERIFIED); 1 (UNVERIFIED,
#: the devices upload every minute) keeps charge and discharge within a bucket apart: with 10,
#: a battery that changes direction inside a bucket nets them (about 3.5 % low in the sandbox).
RESOLUTION_MIN = 1

#: Counter (metric and statistic suffix) -> the bucket's energy.
COUNTERS: Final = (
    "battery_charged_energy",
    "battery_discharged_energy",
    "pv_energy",
    "grid_import_energy",
    "grid_export_energy",
    "house_energy",
)
_COUNTER_NAMES: Final = {
    "battery_charged_energy": "battery charged",
    "battery_discharged_energy": "battery discharged",
    "pv_energy": "PV produced",
    "grid_import_energy": "grid imported",
    "grid_export_energy": "grid exported",
    "house_energy": "house consumption",
}


def bucket_energy(bucket: XoltaInterval) -> dict[str, float | None]:
    """Each counter's energy (kWh) in one bucket; None where XOLTA has no value."""
    return {
        "battery_charged_energy": bucket.battery_charge_kwh,
        "battery_discharged_energy": bucket.battery_discharge_kwh,
        "pv_energy": bucket.pv_kwh,
        "grid_import_energy": bucket.grid_import_kwh,
        "grid_export_energy": bucket.grid_export_kwh,
        "house_energy": bucket.load_kwh,
    }


def floor_bucket(when: datetime) -> datetime:
    """The start of the 10-minute bucket (UTC) holding ``when``."""
    when = when.astimezone(UTC).replace(second=0, microsecond=0)
    return when - timedelta(minutes=when.minute % 10)


def xolta_urls(data: Mapping[str, Any]) -> tuple[str, str]:
    """(data API, B2C authority). XOLTA's own hosts by default; another base (the sandbox, or
    the flow's advanced section) holds both: ``<base>/api`` and ``<base>/b2c/<tenant>``."""
    base = entry_base_url(KEY, DEFAULT_BASE_URL, data)
    if base == DEFAULT_BASE_URL:
        return DEFAULT_BASE_URL, DEFAULT_AUTHORITY_URL
    return f"{base}/api", f"{base}/b2c/{TENANT_ID}"


def _client(
    session: aiohttp.ClientSession, data: Mapping[str, Any], refresh_token: str | None = None
) -> XoltaClient:
    base_url, authority_url = xolta_urls(data)
    return XoltaClient(
        session,
        str(data.get(CONF_USERNAME) or "") or None,
        str(data.get(CONF_PASSWORD) or "") or None,
        refresh_token=refresh_token or data.get(CONF_REFRESH_TOKEN) or None,
        base_url=base_url,
        authority_url=authority_url,
        clock=lambda: dt_util.utcnow().timestamp(),  # Home Assistant's clock
    )


def _fingerprint(data: Mapping[str, Any]) -> str:
    """Identifies the credentials a persisted refresh token was obtained with."""
    parts = (data.get(CONF_USERNAME), data.get(CONF_PASSWORD), data.get(CONF_REFRESH_TOKEN))
    return hashlib.sha256("\0".join(str(p or "") for p in parts).encode()).hexdigest()[:16]


def _secret(key: str, required: bool) -> dict[Any, Any]:
    marker = vol.Required if required else vol.Optional
    return {marker(key): secret_selector()}


def _credentials(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Password and/or refresh token (the refresh token from the advanced section too),
    stripped; at least one of them."""
    user_input = {**user_input, **(user_input.get(CONF_ADVANCED) or {})}
    out = {
        key: str(user_input.get(key) or "").strip() for key in (CONF_PASSWORD, CONF_REFRESH_TOKEN)
    }
    out = {key: value for key, value in out.items() if value}
    if not out:
        raise FlowError("password_or_token", CONF_PASSWORD)
    return out


def _token_rejected(err: FlowError, user_input: Mapping[str, Any]) -> bool:
    """Whether ``err`` is credentials rejected when only a refresh token was given (its own
    text: ``invalid_credentials`` names the user name and password)."""
    password = str(user_input.get(CONF_PASSWORD) or "").strip()
    return err.error == "invalid_credentials" and not password


@dataclass(slots=True)
class XoltaData:
    """What the source holds: the site's current status and when it was fetched."""

    status: XoltaStatus | None
    retrieved: datetime


class XoltaSource(BatterySource[XoltaData, XoltaClient]):
    """One XOLTA site: a device with power, SoC and energy counters."""

    key: ClassVar[str] = KEY
    flow_steps: ClassVar[tuple[str, ...]] = (KEY, SITE_STEP)
    counter_keys: ClassVar[tuple[str, ...]] = COUNTERS
    choice_step: ClassVar[str] = SITE_STEP
    choice_field: ClassVar[str] = CONF_SITE_ID
    choices_key: ClassVar[str] = "sites"
    none_found: ClassVar[str] = "no_sites"
    not_found: ClassVar[str] = "site_not_found"
    history_delay: ClassVar[timedelta] = HISTORY_DELAY

    def setup(self) -> None:
        """The site; how far the counters counted (nothing until restored)."""
        super().setup()
        self.site_id = str(self.data[CONF_SITE_ID])
        self.site_name = str(self.data.get(CONF_SITE_NAME) or self.site_id)
        #: End of the last bucket counted; None before the first update.
        self.counted_until: datetime | None = None
        self._summary_due: datetime | None = None
        #: Hourly amounts fetched for the statistics, and whether the hour was complete.
        self._hours: dict[datetime, tuple[dict[str, float], bool]] = {}

    # --- config flow -------------------------------------------------------------------
    @classmethod
    def build_client(cls, session: aiohttp.ClientSession, data: Mapping[str, Any]) -> XoltaClient:
        """XOLTA's client, logged in with the password or the refresh token."""
        return _client(session, data)

    @classmethod
    async def list_batteries(cls, client: XoltaClient) -> dict[str, str]:
        """The account's sites by name."""
        return {site.site_id: site.name or site.site_id for site in await client.sites()}

    @classmethod
    def login_schema(cls) -> vol.Schema:
        """Username and password (or a refresh token in the advanced section)."""
        return vol.Schema(
            {
                vol.Required(CONF_USERNAME): username_selector(email=True),
                **_secret(CONF_PASSWORD, required=False),
                **advanced_section(*_secret(CONF_REFRESH_TOKEN, required=False).items()),
            }
        )

    @classmethod
    def credentials(cls, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """The password and/or the refresh token."""
        return _credentials(user_input)

    @classmethod
    def credential_updates(cls, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """A new password, or a new refresh token: the other one is dropped."""
        return {CONF_PASSWORD: None, CONF_REFRESH_TOKEN: None} | _credentials(user_input)

    @classmethod
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec | FormSpec:
        """As every battery source's; a refresh token rejected (no password typed) says so."""
        try:
            return await super().async_flow_submit(step)
        except FlowError as err:
            if _token_rejected(err, step.user_input):
                raise FlowError("invalid_refresh_token") from err
            raise

    @classmethod
    async def async_credentials_submit(cls, step: CredentialsStep) -> tuple[str, dict[str, Any]]:
        """As every battery source's; a refresh token rejected (no password typed) says so."""
        try:
            return await super().async_credentials_submit(step)
        except FlowError as err:
            if _token_rejected(err, step.user_input):
                raise FlowError("invalid_refresh_token") from err
            raise

    @classmethod
    def entry(cls, data: dict[str, Any], battery: str, name: str) -> EntrySpec:
        """The site's entry."""
        return EntrySpec(
            title=name,
            unique_id=f"{KEY}_{battery}",
            data={**data, CONF_SITE_ID: battery, CONF_SITE_NAME: name},
        )

    @classmethod
    def battery_of(cls, data: Mapping[str, Any]) -> str:
        """The entry's site."""
        return str(data[CONF_SITE_ID])

    @classmethod
    def credentials_schema(cls) -> vol.Schema:
        """A new password, or a new refresh token."""
        return vol.Schema(
            {**_secret(CONF_PASSWORD, required=False), **_secret(CONF_REFRESH_TOKEN, False)}
        )

    # --- state across restarts ---------------------------------------------------------
    def persist(self) -> Mapping[str, Any]:
        """The counters, how far they counted, and the latest (rotated) refresh token."""
        return {
            "counters": dict(self.counters),
            "counted_until": self.counted_until.isoformat() if self.counted_until else None,
            "refresh_token": self.client.refresh_token,
            "credentials": _fingerprint(self.data),
        }

    def restore(self, stored: Mapping[str, Any]) -> None:
        """Counters and where they stopped; the refresh token if the credentials are the same."""
        counters = stored.get("counters")
        until = stored.get("counted_until")
        if isinstance(counters, Mapping) and isinstance(until, str):
            try:
                self.counted_until = datetime.fromisoformat(until)
                self.counters = counters_from(counters, COUNTERS)
            except TypeError, ValueError:
                self.counters = dict.fromkeys(COUNTERS, 0.0)
                self.counted_until = None
        token = stored.get("refresh_token")
        if (
            isinstance(token, str)
            and token
            and stored.get("credentials") == _fingerprint(self.data)
        ):
            self.client = _client(self.session, self.data, refresh_token=token)

    # --- runtime -----------------------------------------------------------------------
    async def async_update(self, previous: XoltaData | None, now: datetime) -> XoltaData:
        """The status (the client answers from its cache within a minute); new buckets when
        one has ended."""
        status = await self.client.site_status(self.site_id)
        if self.counted_until is None:
            self.counted_until = floor_bucket(now)  # counting starts now
        if self._summary_due is None or now >= self._summary_due:
            await self._count(now)
            self._summary_due = floor_bucket(now) + BUCKET + SETTLE
        return XoltaData(status=status, retrieved=now)

    async def _count(self, now: datetime) -> None:
        """Add the buckets that ended since the last one counted."""
        assert self.counted_until is not None
        end = floor_bucket(now - SETTLE)
        if end <= self.counted_until:
            return
        start = max(self.counted_until, end - MAX_CATCH_UP)
        buckets = await self.client.interval_summaries(self.site_id, start, end, RESOLUTION_MIN)
        until = start
        recent = now - NULL_GRACE
        for bucket in buckets:
            if bucket.end <= until or bucket.end > end:
                continue
            if bucket.start > until and bucket.start > recent:
                break  # a recent bucket missing before this one: ask again next time
            energy = bucket_energy(bucket)
            if all(value is None for value in energy.values()) and bucket.end > recent:
                break  # not uploaded yet, perhaps: ask again next time
            for key, value in energy.items():
                if value is not None:
                    self.counters[key] += value
            until = bucket.end
        # Buckets after the last one returned (all of them, for an empty answer) are not
        # there yet: the counters stop before them, and they are asked for next time.
        self.counted_until = max(self.counted_until, until)

    def next_update(self, data: XoltaData, now: datetime) -> datetime:
        """A minute on, or the next bucket's counting if that comes first."""
        due = now + STATUS_INTERVAL
        return min(due, self._summary_due) if self._summary_due else due

    def devices(self, data: XoltaData) -> list[DeviceSpec]:
        """The site."""
        return [
            DeviceSpec(
                key=self.site_id,
                name=f"XOLTA {self.site_name}",
                manufacturer="XOLTA",
                model="Home battery",
                serial_number=self.site_id,
                configuration_url="https://app.xolta.com/",
            )
        ]

    def readings(self, data: XoltaData, now: datetime) -> list[Reading]:
        """Power and SoC while the system runs (else unavailable); the counters."""
        status = data.status if data.status is not None and data.status.running else None
        live = {
            "battery_soc": status.soc_percent if status else None,
            "battery_power": status.battery_power_w if status else None,
            "pv_power": status.pv_power_w if status else None,
            "grid_power": status.grid_power_w if status else None,
            "house_power": status.load_power_w if status else None,
        }
        out = [Reading(metric=k, device=self.site_id, value=v) for k, v in live.items()]
        out += self.counter_readings(self.site_id, {"counted_until": self.counted_until})
        out.append(Reading(metric="last_retrieved", device=self.site_id, value=data.retrieved))
        return out

    # --- history -----------------------------------------------------------------------
    def statistic_specs(self, data: XoltaData) -> list[StatisticSpec]:
        """The five counters: ``energy_hub:xolta_<site>_<counter>``."""
        names = {key: f"XOLTA {self.site_name} {name}" for key, name in _COUNTER_NAMES.items()}
        return self.counter_statistics(self.site_id, names)

    async def async_history(
        self, data: XoltaData, since: datetime, now: datetime
    ) -> AsyncIterator[HistorySeries]:
        """Complete UTC hours from ``since``: the buckets' energy by the hour they started.

        Hours held complete (every minute with values) are not asked for again: an hourly run
        asks for the last hour or two, not the statistics' whole rewrite week. Incomplete
        hours are asked for again for a day, in case XOLTA receives their data late.
        """
        end = floor_hour(now)
        if end <= since:
            return
        hour, missing = since, None
        while hour < end:
            held = self._hours.get(hour)
            if held is None or (not held[1] and hour > now - REFETCH_INCOMPLETE):
                missing = hour
                break
            hour += HOUR
        if missing is not None:
            buckets = await self.client.interval_summaries(
                self.site_id, missing, end, RESOLUTION_MIN
            )
            fetched: dict[datetime, dict[str, float]] = {}
            minutes: dict[datetime, int] = {}
            hour = missing
            while hour < end:  # every hour, zero where XOLTA has nothing
                fetched[hour] = dict.fromkeys(COUNTERS, 0.0)
                minutes[hour] = 0
                hour += HOUR
            for bucket in buckets:
                if not missing <= bucket.start < end:
                    continue
                energy = bucket_energy(bucket)
                hour = floor_hour(bucket.start)
                minutes[hour] += all(value is not None for value in energy.values())
                for key, value in energy.items():
                    if value is not None:
                        fetched[hour][key] += value
            for hour, amounts in fetched.items():
                self._hours[hour] = (amounts, minutes[hour] * RESOLUTION_MIN >= 60)
        for old in [h for h in self._hours if h < now - MAX_CATCH_UP - self.history_horizon]:
            del self._hours[old]
        series = {hour: self._hours[hour][0] for hour in sorted(self._hours) if since <= hour < end}
        for spec, key in zip(self.statistic_specs(data), COUNTERS, strict=True):
            yield HistorySeries(spec=spec, hours={h: round(v[key], 6) for h, v in series.items()})

    def diagnostics(self, data: XoltaData | None) -> dict[str, Any]:
        """Counters, how far they counted and the status seen."""
        return {
            "counters": {k: round(v, 3) for k, v in self.counters.items()},
            "counted_until": self.counted_until.isoformat() if self.counted_until else None,
            "state": data.status.state if data and data.status else None,
            "logins": self.client.login_count,
            "refreshes": self.client.refresh_count,
        }
