"""History into statistics through the coordinator: background start, schedule, failures."""

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
import logging
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
    CredentialsStep,
    DeviceSpec,
    EntrySpec,
    FlowStep,
    FormSpec,
    HistorySeries,
    Reading,
    Source,
    StatisticSpec,
)

from .conftest import advance, setup_integration

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
    async def async_flow_submit(cls, step: FlowStep) -> EntrySpec:
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
    async def async_credentials_submit(cls, step: CredentialsStep) -> tuple[str, dict[str, Any]]:
        return "fake", {"password": step.user_input["password"]}


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
    await setup_integration(hass, entry)
    return entry


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

    await advance(hass, freezer, NOW + HOUR)
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
    await advance(hass, freezer, NOW + timedelta(seconds=61))
    assert len(fake_source.calls) == 2
    fake_source.error = ApiRateLimitedError("slow down", retry_after=600)
    await advance(hass, freezer, NOW + timedelta(seconds=61 + 121))
    assert len(fake_source.calls) == 3
    fake_source.error = None
    await advance(hass, freezer, NOW + timedelta(seconds=61 + 121 + 599))
    assert len(fake_source.calls) == 3  # the service asked for 10 minutes
    await advance(hass, freezer, NOW + timedelta(seconds=61 + 121 + 601))
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


async def test_history_due_during_a_rebuild_runs_after_it(
    hass: HomeAssistant, fake_source: Any, freezer: FrozenDateTimeFactory
) -> None:
    """The hourly run that comes due while the rebuild action runs is not lost: it runs once
    the rebuild ends, and the hourly schedule goes on from there."""
    entry = await _setup(hass)
    real = FakeHistorySource.async_history
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(self: FakeHistorySource, *args: Any) -> AsyncIterator[HistorySeries]:
        started.set()
        await release.wait()
        async for series in real(self, *args):
            yield series

    with patch.object(FakeHistorySource, "async_history", slow):
        rebuild = hass.async_create_task(
            hass.services.async_call(
                DOMAIN,
                "rebuild_statistics",
                {"config_entry_id": entry.entry_id, "start": "2026-06-09"},
                blocking=True,
            )
        )
        await started.wait()
        freezer.move_to(NOW + HOUR)  # the hourly run comes due mid-rebuild
        async_fire_time_changed(hass)
        release.set()
        await rebuild
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake_source.calls == [
        datetime(2026, 6, 8, 12, tzinfo=UTC),  # setup
        datetime(2026, 6, 9, 7, tzinfo=UTC),  # the rebuild
        datetime(2026, 6, 8, 13, tzinfo=UTC),  # the run that came due, after the rebuild
    ]
    assert (await _sums(hass))[-1] == (datetime(2026, 6, 10, 12, tzinfo=UTC), 49.0)
    await advance(hass, freezer, NOW + 2 * HOUR + timedelta(seconds=1))
    assert fake_source.calls[-1] == datetime(2026, 6, 8, 14, tzinfo=UTC)
    assert (await _sums(hass))[-1] == (datetime(2026, 6, 10, 13, tzinfo=UTC), 50.0)


async def test_long_history_outage_logs_once_then_recovery(
    hass: HomeAssistant,
    fake_source: Any,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Eight failed runs in a row (about four hours of back-off) log one warning; the run that
    works again logs one recovery line; a new outage warns again."""
    fake_source.error = ApiConnectionError("down")
    await _setup(hass)
    when = NOW
    for failure in range(1, 8):  # 1, 2, 4, ... 30 minutes
        when += min(timedelta(minutes=2 ** (failure - 1)), timedelta(minutes=30))
        await advance(hass, freezer, when + timedelta(seconds=1))
        when += timedelta(seconds=1)
    assert len(fake_source.calls) == 8

    def lines(level: int) -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.levelno >= level and r.name.startswith("custom_components.energy_hub")
        ]

    assert lines(logging.WARNING) == [
        f"fake {_entry_id(hass)}: history not updated (down); retrying in 0:01:00"
    ]
    assert lines(logging.INFO) == lines(logging.WARNING)
    fake_source.error = None
    when += timedelta(minutes=30)
    await advance(hass, freezer, when + timedelta(seconds=1))
    assert len(fake_source.calls) == 9
    assert lines(logging.INFO)[1:] == [f"fake {_entry_id(hass)}: history updated again"]
    assert len(await _sums(hass)) == 48
    fake_source.error = ApiConnectionError("down again")
    await advance(hass, freezer, when + HOUR + timedelta(seconds=2))
    assert len(fake_source.calls) == 10
    assert lines(logging.WARNING)[1:] == [
        f"fake {_entry_id(hass)}: history not updated (down again); retrying in 0:01:00"
    ]


def _entry_id(hass: HomeAssistant) -> str:
    return hass.config_entries.async_entries(DOMAIN)[0].entry_id


class PublicHistorySource(FakeHistorySource):
    """The fake source without credentials (like Carbon Intensity or Elexon)."""

    @classmethod
    def credentials_schema(cls) -> None:  # type: ignore[override]
        return None


async def test_public_source_history_rejected_is_retried_not_reauth(
    hass: HomeAssistant, fake_source: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A source without credentials that answers 401/403 while reading history backs off and
    recovers; no reauth flow (there is nothing to re-enter)."""
    fake_source.error = ApiAuthError("HTTP 401")
    with patch.dict(SOURCES, {"fake": PublicHistorySource}):
        entry = await _setup(hass)
        assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert entry.state is ConfigEntryState.LOADED
        assert entry.runtime_data.history_failures == 1
        fake_source.error = None
        await advance(hass, freezer, NOW + timedelta(seconds=61))
    assert len(fake_source.calls) == 2
    assert len(await _sums(hass)) == 48
    assert entry.runtime_data.history_failures == 0
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
