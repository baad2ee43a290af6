"""History into statistics through the coordinator: background start, schedule, failures."""

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
import voluptuous as vol

from custom_components.energy_hub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitedError,
)
from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.sources import SOURCES
from custom_components.energy_hub.sources.base import (
    DeviceSpec,
    EntrySpec,
    FormSpec,
    HistorySeries,
    Reading,
    Source,
    StatisticSpec,
)

HOUR = timedelta(hours=1)
NOW = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)
SPEC = StatisticSpec(key="fake_meter_energy", name="Fake energy", unit="kWh", unit_class="energy")


class FakeHistorySource(Source[dict[str, Any]]):
    """A source with an hourly history the tests control."""

    key: ClassVar[str] = "fake"
    flow_steps: ClassVar[tuple[str, ...]] = ("fake",)
    history_horizon = timedelta(days=2)
    error: ClassVar[Exception | None] = None
    calls: ClassVar[list[datetime]] = []

    @classmethod
    def flow_form(cls, step_id: str, user_input: Mapping[str, Any] | None) -> FormSpec:
        return FormSpec(step_id=step_id, schema=vol.Schema({}))

    @classmethod
    async def async_flow_submit(cls, *args: Any) -> EntrySpec:  # type: ignore[override]
        raise NotImplementedError

    @property
    def request_count(self) -> int:
        return len(self.calls)

    async def async_update(self, previous: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
        return {"retrieved": now}

    def next_update(self, data: dict[str, Any], now: datetime) -> datetime:
        return now + timedelta(days=1)

    def devices(self, data: dict[str, Any]) -> list[DeviceSpec]:
        return [DeviceSpec(key="meter", name="Fake meter")]

    def readings(self, data: dict[str, Any], now: datetime) -> list[Reading]:
        return [Reading(metric="last_retrieved", device="meter", value=data["retrieved"])]

    def statistic_specs(self, data: dict[str, Any]) -> list[StatisticSpec]:
        return [SPEC]

    async def async_history(  # type: ignore[override]
        self, data: dict[str, Any], since: datetime, now: datetime
    ) -> AsyncIterator[HistorySeries]:
        self.calls.append(since)
        if self.error is not None:
            raise self.error
        end = now.replace(minute=0, second=0, microsecond=0)
        hours = {since + i * HOUR: 1.0 for i in range(int((end - since) / HOUR))}
        yield HistorySeries(spec=SPEC, hours=hours)

    def next_history(self, now: datetime) -> datetime | None:
        return now + HOUR

    @classmethod
    def credentials_schema(cls) -> vol.Schema:
        return vol.Schema({vol.Required("password"): str})

    @classmethod
    async def async_credentials_submit(  # type: ignore[override]
        cls, hass: HomeAssistant, session: Any, data: Mapping[str, Any], user_input: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return "fake", {"password": user_input["password"]}


@pytest.fixture
def fake_source(freezer: FrozenDateTimeFactory) -> Any:
    freezer.move_to(NOW)
    FakeHistorySource.error = None
    FakeHistorySource.calls = []
    with patch.dict(SOURCES, {"fake": FakeHistorySource}):
        yield FakeHistorySource


async def _sums(hass: HomeAssistant) -> list[tuple[datetime, float]]:
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        NOW - timedelta(days=5),
        None,
        {"energy_hub:fake_meter_energy"},
        "hour",
        None,
        {"sum"},
    )
    return [
        (datetime.fromtimestamp(r["start"], UTC), r["sum"])
        for r in rows.get("energy_hub:fake_meter_energy", [])
    ]


async def _setup(hass: HomeAssistant) -> MockConfigEntry:
    entry = MockConfigEntry(domain=DOMAIN, title="Fake", unique_id="fake", data={"source": "fake"})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


async def _advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, to: datetime) -> None:
    freezer.move_to(to)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_backfill_in_background_then_hourly(
    hass: HomeAssistant, fake_source: Any, freezer: FrozenDateTimeFactory
) -> None:
    """Setup backfills the horizon after start; the next run an hour later adds one hour."""
    entry = await _setup(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert fake_source.calls == [datetime(2026, 6, 8, 12, tzinfo=UTC)]
    sums = await _sums(hass)
    assert len(sums) == 48
    assert sums[-1] == (datetime(2026, 6, 10, 11, tzinfo=UTC), 48.0)
    assert entry.runtime_data.history_written == {"energy_hub:fake_meter_energy": 48}

    await _advance(hass, freezer, NOW + HOUR)
    assert fake_source.calls[-1] == datetime(2026, 6, 8, 13, tzinfo=UTC)  # bounded by the horizon
    sums = await _sums(hass)
    assert sums[-1] == (datetime(2026, 6, 10, 12, tzinfo=UTC), 49.0)
    assert len(sums) == 49


async def test_history_failure_backs_off_and_recovers(
    hass: HomeAssistant,
    fake_source: Any,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failing history fetch is retried after 1 minute, then 2; entities are unaffected."""
    fake_source.error = ApiConnectionError("down")
    entry = await _setup(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert "history not updated (down); retrying in 0:01:00" in caplog.text
    await _advance(hass, freezer, NOW + timedelta(seconds=61))
    assert len(fake_source.calls) == 2
    fake_source.error = ApiRateLimitedError("slow down", retry_after=600)
    await _advance(hass, freezer, NOW + timedelta(seconds=61 + 121))
    assert len(fake_source.calls) == 3
    fake_source.error = None
    await _advance(hass, freezer, NOW + timedelta(seconds=61 + 121 + 599))
    assert len(fake_source.calls) == 3  # the service asked for 10 minutes
    await _advance(hass, freezer, NOW + timedelta(seconds=61 + 121 + 601))
    assert len(fake_source.calls) == 4
    assert len(await _sums(hass)) == 48


async def test_history_auth_failure_starts_reauth(hass: HomeAssistant, fake_source: Any) -> None:
    """Rejected credentials while reading history start a reauth flow, once."""
    fake_source.error = ApiAuthError("no")
    entry = await _setup(hass)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == entry.entry_id
    assert flows[0]["step_id"] == "reauth_confirm"
    fake_source.error = None  # the new password works
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"password": "new"}
    )
    assert result["type"] == "abort"
    assert result["reason"] == "reauth_successful"
    assert entry.data == {"source": "fake", "password": "new"}
    # The entry reloads and reads its history again, now without a new reauth.
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_rebuild_statistics_action(
    hass: HomeAssistant, fake_source: Any, freezer: FrozenDateTimeFactory
) -> None:
    """The action rewrites from local midnight of the given date and says how many hours."""
    entry = await _setup(hass)
    fake_source.calls.clear()
    response = await hass.services.async_call(
        DOMAIN,
        "rebuild_statistics",
        {"config_entry_id": entry.entry_id, "start": "2026-06-09"},
        blocking=True,
        return_response=True,
    )
    # Home Assistant's test time zone is US/Pacific: local midnight is 07:00 UTC.
    assert fake_source.calls == [datetime(2026, 6, 9, 7, tzinfo=UTC)]
    assert response == {"hours_written": {"energy_hub:fake_meter_energy": 29}}
    sums = await _sums(hass)
    assert sums[-1] == (datetime(2026, 6, 10, 11, tzinfo=UTC), 48.0)  # continuous, no jump


async def test_rebuild_statistics_errors(hass: HomeAssistant, fake_source: Any) -> None:
    """Bad targets are validation errors; a failing vendor is a Home Assistant error."""
    entry = await _setup(hass)
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "rebuild_statistics",
            {"config_entry_id": "nope", "start": "2026-06-09"},
            blocking=True,
        )
    with pytest.raises(ServiceValidationError) as future:
        await hass.services.async_call(
            DOMAIN,
            "rebuild_statistics",
            {"config_entry_id": entry.entry_id, "start": "2026-07-01"},
            blocking=True,
        )
    assert future.value.translation_key == "start_in_future"
    fake_source.error = ApiConnectionError("down")
    with pytest.raises(HomeAssistantError) as failed:
        await hass.services.async_call(
            DOMAIN,
            "rebuild_statistics",
            {"config_entry_id": entry.entry_id, "start": "2026-06-09"},
            blocking=True,
        )
    assert failed.value.translation_key == "history_failed"
    with (
        patch.object(FakeHistorySource, "statistic_specs", return_value=[]),
        pytest.raises(ServiceValidationError) as none,
    ):
        await hass.services.async_call(
            DOMAIN,
            "rebuild_statistics",
            {"config_entry_id": entry.entry_id, "start": "2026-06-09"},
            blocking=True,
        )
    assert none.value.translation_key == "no_statistics"
