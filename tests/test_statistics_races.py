"""Runs back to back: a run never reads what the previous one has only queued.

The recorder commits imported statistics on its own thread, in queue order; reads run on its
database executor. Here the recorder is held (deterministically, no timing) as soon as a run
queues its first rows, and released only when someone waits for the recorder to commit: a run
that reads without waiting sees the database as it was before the previous run.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
import itertools
import threading
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.tasks import (
    ImportStatisticsTask,
    RecorderTask,
    SynchronizeTask,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest

from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.statistics import async_update_statistics

from .test_history import (  # noqa: F401 (fixture)
    NOW as HISTORY_NOW,
    _setup,
    _sums,
    fake_source,
)
from .test_statistics import FakeSource, _hours, _read, source  # noqa: F401 (fixture)

HOUR = timedelta(hours=1)


class _Gate(RecorderTask):
    """Holds the recorder's thread until released (at most 30 s, so a failure cannot hang)."""

    commit_before = False

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def run(self, instance: Recorder) -> None:
        self.release.wait(30)


@contextmanager
def _recorder_held(hass: HomeAssistant) -> Iterator[threading.Event]:
    """From the first statistics import on, the recorder waits until someone (a run about to
    read) asks it to synchronise, or the block ends."""
    instance = get_instance(hass)
    release = threading.Event()
    queued = False
    real = instance.queue_task

    def queue_task(task: Any) -> None:
        nonlocal queued
        if isinstance(task, ImportStatisticsTask) and not queued:
            queued = True
            real(_Gate(release))
        elif isinstance(task, SynchronizeTask) and queued:
            release.set()
        real(task)

    instance.queue_task = queue_task  # type: ignore[method-assign]
    try:
        yield release
    finally:
        release.set()
        del instance.queue_task


def _continuous(rows: list[tuple[datetime, float]]) -> None:
    """Each hour's sum is the one before plus the hour's amount (1.0 here): no step back."""
    for (_, before), (_, after) in itertools.pairwise(rows):
        assert after == pytest.approx(before + 1.0)


async def test_a_run_right_after_another_continues_its_sum(
    hass: HomeAssistant,
    source: FakeSource,  # noqa: F811 (the imported fixture)
    freezer: Any,
) -> None:
    """The second run asks from a week before the first run's last row and continues its sum,
    although the first run's rows were still queued when it started."""
    now = datetime(2026, 3, 11, tzinfo=UTC)
    later = now + 5 * HOUR
    with _recorder_held(hass):
        await async_update_statistics(hass, source, None, now)  # type: ignore[arg-type]
        source.values.update(_hours(now, 5, 0.5))  # five new hours published
        freezer.move_to(later)
        await async_update_statistics(hass, source, None, later)  # type: ignore[arg-type]
    assert source.asked == [now - timedelta(days=30), now - timedelta(days=7)]
    rows = await _read(hass)
    assert len(rows) == 725
    assert rows[0] == (now - timedelta(days=30), 0.5, 0.5)
    assert rows[-1] == (later - HOUR, 0.5, 362.5)
    for before, after in itertools.pairwise(rows):
        assert after[2] == pytest.approx(before[2] + after[1])


async def test_rebuild_right_after_setup_continues_the_sum(
    hass: HomeAssistant,
    fake_source: Any,  # noqa: F811 (the imported fixture)
) -> None:
    """The rebuild action right after setup (the setup's backfill still queued) keeps the sum
    before the rebuilt hours: no step back to 0."""
    with _recorder_held(hass):
        entry = await _setup(hass)
        response = await hass.services.async_call(
            DOMAIN,
            "rebuild_statistics",
            {"config_entry_id": entry.entry_id, "start": "2026-06-09"},
            blocking=True,
            return_response=True,
        )
    assert response == {"hours_written": {"energy_hub:fake_meter_energy": 29}}
    sums = await _sums(hass)
    assert len(sums) == 48
    assert sums[0] == (datetime(2026, 6, 8, 12, tzinfo=UTC), 1.0)
    assert sums[-1] == (HISTORY_NOW.replace(minute=0) - HOUR, 48.0)
    _continuous(sums)
