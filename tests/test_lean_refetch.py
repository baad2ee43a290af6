"""A year's Octopus backfill with an export meter that never reports: later days cost the
normal daily requests and rewrite only the rewrite window, before and after a restart."""

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from custom_components.energy_hub import statistics
from custom_components.energy_hub.sources.base import HistorySeries
from custom_components.energy_hub.statistics import async_update_statistics, statistic_id
import sandbox.octopus as sb

from .conftest import Sandbox, advance, sandbox_requests, setup_integration
from .entries import octopus_entry
from .test_statistics import COST, SPEC, T0, FakeSource

START = datetime(2026, 6, 10, 11, 5, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """Only statistics matter here: the entities' states stay out of the recorder."""
    return {"exclude": {"domains": ["sensor", "binary_sensor"]}}


@pytest.fixture
def rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows handed to the recorder (one total, reset by the test)."""
    written = [0]
    add: Callable[..., None] = statistics.async_add_external_statistics

    def counting(hass: HomeAssistant, metadata: Any, chunk: list[Any]) -> None:
        written[0] += len(chunk)
        add(hass, metadata, chunk)

    monkeypatch.setattr(statistics, "async_add_external_statistics", counting)
    return written


async def _day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    rows: list[int],
    first: datetime,
) -> tuple[int, int]:
    """Hour by hour through the day after ``first``: (requests, rows written)."""
    await sandbox_requests(sandbox, "octopus", reset=True)
    rows[0] = 0
    for hour in range(1, 25):
        await advance(hass, freezer, first + hour * HOUR)
    return int((await sandbox_requests(sandbox, "octopus"))["total"]), rows[0]


async def _asked_from(sandbox: Sandbox) -> list[datetime]:
    """Where each request to the silent export meter started, in order."""
    listing = await (await sandbox.get("/_admin/octopus/silent-meters")).json()
    return [datetime.fromisoformat(text) for text in listing["asked_from"]]


async def test_an_export_meter_without_readings_costs_no_refetch(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, rows: list[int]
) -> None:
    """Days after a year's backfill cost the daily requests and the rewrite window's rows,
    though the export meter never answers a reading: it is asked from the horizon once, then
    only from a week before that, and so after a restart."""
    await sandbox.put(f"/_admin/octopus/silent-meters/{sb.EXPORT_MPAN}")
    config = await setup_integration(hass, octopus_entry(days=365))
    assert rows[0] > 365 * 24 * 4  # the year of four statistics (the export's two are empty)
    asked = await _asked_from(sandbox)
    assert len(asked) == 1
    assert asked[0] <= START - timedelta(days=364)  # the horizon, once
    days = [await _day(hass, freezer, sandbox, rows, START + day * 24 * HOUR) for day in range(3)]
    await hass.config_entries.async_reload(config.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    days.append(await _day(hass, freezer, sandbox, rows, START + 3 * 24 * HOUR))
    # The daily count: the account four times, three consumption reads, the held rates'
    # next day; the rewrite window (7 days and the new day) of import energy and cost, gas
    # energy, volume and cost.
    assert days == [(10, 960), (12, 960), (12, 960), (12, 960)]
    asked = await _asked_from(sandbox)
    assert len(asked) == 6  # each daily run, the one at the restart and the next day's
    assert all(when >= START - timedelta(days=8) for when in asked[1:]), asked


class _NoCost(FakeSource):
    """The base class's single fetch, with a cost statistic that never has a row."""

    async def async_history(  # type: ignore[override]
        self, data: Any, since: datetime, now: datetime
    ) -> AsyncIterator[HistorySeries]:
        self.asked.append(since)
        hours = {h: v for h, v in self.values.items() if since <= h < now}
        yield HistorySeries(spec=SPEC, hours=hours)
        yield HistorySeries(spec=COST, hours={})


async def test_an_empty_statistic_does_not_hold_the_others_at_the_horizon(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Sources fetched in one go (XOLTA, Aretas: the base ``async_history_from``): a statistic
    with nothing to store pulls the fetch back to the horizon once, then to a week before
    that check, and to the horizon again a week later."""
    source = _NoCost()
    source.values = {T0 - timedelta(days=40) + i * HOUR: 0.5 for i in range(60 * 24)}
    empty: dict[str, datetime] = {}
    now = T0 + timedelta(days=10)
    freezer.move_to(now)
    written = await async_update_statistics(hass, source, None, now, empty=empty)  # type: ignore[arg-type]
    assert written == {statistic_id(SPEC): 720, statistic_id(COST): 0}
    assert empty == {COST.key: now}
    for day in range(1, 8):
        later = now + timedelta(days=day)
        freezer.move_to(later)
        written = await async_update_statistics(hass, source, None, later, empty=empty)  # type: ignore[arg-type]
        if day < 7:
            assert source.asked[-1] == now - timedelta(days=7), day
            assert written[statistic_id(SPEC)] == 7 * 24 + 24, day
        else:  # a week on: the horizon again, once
            assert source.asked[-1] == later - timedelta(days=30)
    assert empty == {COST.key: now + timedelta(days=7)}
