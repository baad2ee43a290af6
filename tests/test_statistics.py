"""The statistics writer: backfill, resume, late corrections, interruption, rebuild."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import itertools
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_hub.sources.base import HistorySeries, Source, StatisticSpec
from custom_components.energy_hub.statistics import (
    async_sum_before,
    async_update_statistics,
    statistic_id,
)

HOUR = timedelta(hours=1)
T0 = datetime(2026, 3, 1, tzinfo=UTC)
SPEC = StatisticSpec(key="test_meter_import_energy", name="Import", unit="kWh", unit_class="energy")
COST = StatisticSpec(key="test_meter_import_cost", name="Cost", unit="GBP", unit_class=None)


class FakeSource:
    """Hourly history the test controls; records what was asked for."""

    history_horizon = timedelta(days=30)
    #: The base class's: one fetch from the earliest statistic's start.
    async_history_from = Source.async_history_from
    history_held_back = Source.history_held_back

    def __init__(self) -> None:
        self.values: dict[datetime, float] = {}
        self.asked: list[datetime] = []
        self.until: datetime | None = None

    def statistic_specs(self, data: Any) -> list[StatisticSpec]:
        return [SPEC, COST]

    async def async_history(  # type: ignore[override]
        self, data: Any, since: datetime, now: datetime
    ) -> AsyncIterator[HistorySeries]:
        self.asked.append(since)
        hours = {
            h: v
            for h, v in self.values.items()
            if h >= since and (self.until is None or h < self.until)
        }
        yield HistorySeries(spec=SPEC, hours=hours)
        yield HistorySeries(spec=COST, hours={h: round(v * 0.25, 6) for h, v in hours.items()})


async def _read(
    hass: HomeAssistant, spec: StatisticSpec = SPEC
) -> list[tuple[datetime, float, float]]:
    await async_wait_recording_done(hass)
    stat = statistic_id(spec)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        T0 - timedelta(days=400),
        None,
        {stat},
        "hour",
        None,
        {"state", "sum"},
    )
    return [
        (datetime.fromtimestamp(r["start"], UTC), r["state"], r["sum"]) for r in rows.get(stat, [])
    ]


def _hours(first: datetime, count: int, value: float = 1.0) -> dict[datetime, float]:
    return {first + i * HOUR: value for i in range(count)}


@pytest.fixture
def source(freezer: FrozenDateTimeFactory) -> FakeSource:
    freezer.move_to(T0 + timedelta(days=10))
    fake = FakeSource()
    fake.values = _hours(T0 - timedelta(days=40), 50 * 24, 0.5)
    return fake


async def test_first_run_backfills_horizon(hass: HomeAssistant, source: FakeSource) -> None:
    """Nothing stored: everything from the horizon (30 days) is written with a running sum."""
    now = T0 + timedelta(days=10)
    written = await async_update_statistics(hass, source, None, now)  # type: ignore[arg-type]
    assert source.asked == [now - timedelta(days=30)]
    assert written == {
        "energy_hub:test_meter_import_energy": 720,
        "energy_hub:test_meter_import_cost": 720,
    }
    rows = await _read(hass)
    assert len(rows) == 720
    assert rows[0] == (now - timedelta(days=30), 0.5, 0.5)
    assert rows[-1] == (now - HOUR, 0.5, 360.0)
    cost = await _read(hass, COST)
    assert cost[-1] == (now - HOUR, 0.125, 90.0)
    ids = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    meta = {i["statistic_id"]: i for i in ids}
    assert meta["energy_hub:test_meter_import_energy"]["unit_class"] == "energy"
    assert meta["energy_hub:test_meter_import_energy"]["statistics_unit_of_measurement"] == "kWh"
    assert meta["energy_hub:test_meter_import_cost"]["unit_class"] is None
    assert meta["energy_hub:test_meter_import_cost"]["has_sum"] is True


async def test_resume_rewrites_a_week_and_lands_corrections(
    hass: HomeAssistant, source: FakeSource, freezer: FrozenDateTimeFactory
) -> None:
    """A later run asks from a week before the last row; a corrected hour shifts later sums."""
    now = T0 + timedelta(days=10)
    await async_update_statistics(hass, source, None, now)  # type: ignore[arg-type]
    corrected = now - timedelta(days=2)
    source.values[corrected] = 3.0  # the vendor corrected an hour two days ago (+2.5)
    later = now + timedelta(hours=5)
    source.values.update(_hours(now, 5, 0.5))  # five new hours published
    freezer.move_to(later)
    written = await async_update_statistics(hass, source, None, later)  # type: ignore[arg-type]
    assert source.asked[-1] == now - timedelta(days=7)
    assert written["energy_hub:test_meter_import_energy"] == 7 * 24 + 5
    rows = await _read(hass)
    assert len(rows) == 725  # no duplicate hour
    starts = [r[0] for r in rows]
    assert starts == sorted(set(starts))
    by_hour = {r[0]: r for r in rows}
    assert by_hour[corrected - HOUR][2] == 336.0  # 672 hours of 0.5, unchanged
    assert by_hour[corrected][1:] == (3.0, 339.0)
    assert rows[-1] == (later - HOUR, 0.5, 365.0)
    # Continuous: each sum is the previous sum plus this hour's amount.
    for before, after in itertools.pairwise(rows):
        assert after[2] == pytest.approx(before[2] + after[1])


async def test_interrupted_backfill_loses_and_repeats_nothing(
    hass: HomeAssistant, source: FakeSource
) -> None:
    """A backfill cut short (restart) and run again ends exactly as one clean run."""
    now = T0 + timedelta(days=10)
    source.until = now - timedelta(days=12)  # the first run only got this far
    await async_update_statistics(hass, source, None, now)  # type: ignore[arg-type]
    assert len(await _read(hass)) == 18 * 24
    source.until = None
    await async_update_statistics(hass, source, None, now)  # type: ignore[arg-type]
    assert source.asked[-1] == now - timedelta(days=19)  # a week before the last stored hour
    rows = await _read(hass)
    assert len(rows) == 720
    assert rows[-1] == (now - HOUR, 0.5, 360.0)


async def test_rebuild_from_a_date(hass: HomeAssistant, source: FakeSource) -> None:
    """A rebuild rewrites from the given hour, continuing the sum stored before it."""
    now = T0 + timedelta(days=10)
    await async_update_statistics(hass, source, None, now)  # type: ignore[arg-type]
    for hour in list(source.values):
        source.values[hour] = 1.0
    await async_update_statistics(hass, source, None, now, rebuild_from=T0)  # type: ignore[arg-type]
    assert source.asked[-1] == T0
    rows = await _read(hass)
    by_hour = {r[0]: r for r in rows}
    assert by_hour[T0 - HOUR][2] == 240.0  # 20 days at 0.5 a hour, untouched
    assert by_hour[T0][1:] == (1.0, 241.0)
    assert rows[-1][2] == 240.0 + 240.0


def test_statistic_id_is_sanitised() -> None:
    """Ids are lower case, no dashes, no double or edge underscores."""
    spec = StatisticSpec(key="Octopus_19-00__01_", name="x", unit="kWh", unit_class="energy")
    assert statistic_id(spec) == "energy_hub:octopus_19_00_01"


async def test_sum_before_ignores_later_hours_and_finds_old_rows(
    hass: HomeAssistant, source: FakeSource
) -> None:
    """Only rows before the hour count (a month row would include later hours); a row long
    before the hour is still found."""
    now = T0 + timedelta(days=10)
    await async_update_statistics(hass, source, None, now)  # type: ignore[arg-type]
    await async_wait_recording_done(hass)
    stat = statistic_id(SPEC)
    first = now - timedelta(days=30)
    assert await async_sum_before(hass, stat, first) == 0.0
    assert await async_sum_before(hass, stat, first + 3 * HOUR) == 1.5
    # 20 days after the last row: beyond the first window, found in the next.
    assert await async_sum_before(hass, stat, now + timedelta(days=20)) == 360.0
