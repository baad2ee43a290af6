"""A year of Octopus statistics, the same on every recorder database.

scripts/test runs this on SQLite and on PostgreSQL; each run leaves its rows in
``$ENERGY_HUB_ROWS_DIR/octopus_year.<database>.json`` and the script checks that the two files
are identical (every hour, state and sum of every statistic).
"""

from datetime import UTC, datetime, timedelta
import itertools
import json
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_hub.const import DOMAIN
import sandbox.octopus as sb

from .conftest import Sandbox, advance, database_name, setup_integration
from .entries import octopus_entry

UK = ZoneInfo("Europe/London")
HOUR = timedelta(hours=1)
HALF = timedelta(minutes=30)
START = datetime(2026, 6, 10, 11, 5, tzinfo=UTC)


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """Only statistics matter here: the entities' states stay out of the recorder."""
    return {"exclude": {"domains": ["sensor", "binary_sensor"]}}


async def _all_rows(hass: HomeAssistant) -> dict[str, list[tuple[float, float, float]]]:
    """Every hourly row (start, state, sum) of every Energy Hub statistic."""
    await async_wait_recording_done(hass)
    instance = get_instance(hass)
    ids = sorted(
        i["statistic_id"]
        for i in await instance.async_add_executor_job(list_statistic_ids, hass)
        if i["source"] == DOMAIN
    )
    rows = await instance.async_add_executor_job(
        statistics_during_period,
        hass,
        START - timedelta(days=800),
        None,
        set(ids),
        "hour",
        None,
        {"state", "sum"},
    )
    return {
        stat: [(r["start"], float(r["state"]), float(r["sum"])) for r in rows.get(stat, [])]
        for stat in ids
    }


def _truth_hour(point: str, hour: datetime) -> float:
    return sb.half_hour_consumption(point, hour) + sb.half_hour_consumption(point, hour + HALF)


async def test_a_year_of_octopus_statistics(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    request: pytest.FixtureRequest,
) -> None:
    """A year's backfill, the rebuild action right after it, and the next day's run: every
    statistic continuous from its first hour, the import energy exactly the sandbox's."""
    entry = await setup_integration(hass, octopus_entry(days=365, title="Octopus"))
    assert entry.state is ConfigEntryState.LOADED
    # Straight after the backfill (its rows possibly still queued): rebuild the last month.
    await hass.services.async_call(
        DOMAIN,
        "rebuild_statistics",
        {"config_entry_id": entry.entry_id, "start": "2026-05-10"},
        blocking=True,
    )
    # The next day's run (after UK midnight and publication).
    await advance(hass, freezer, START + timedelta(days=1, hours=2))

    rows = await _all_rows(hass)
    energy = rows[f"energy_hub:octopus_{sb.IMPORT_MPAN}_import_energy"]
    assert len(rows) >= 6  # import, export: energy and money; gas: volume and energy ...
    assert len(energy) > 364 * 24
    for stat, found in rows.items():
        assert found, stat
        first = found[0]
        assert first[2] == pytest.approx(first[1], abs=1e-6), stat  # the sum starts at 0
        for before, after in itertools.pairwise(found):
            assert after[0] == before[0] + 3600, stat  # no hour missing or twice
            assert after[2] == pytest.approx(before[2] + after[1], abs=1e-5), stat
    hours = [datetime.fromtimestamp(r[0], UTC) for r in energy]
    assert energy[-1][2] == pytest.approx(
        sum(_truth_hour(sb.IMPORT_MPAN, h) for h in hours), abs=1e-3
    )

    if folder := os.environ.get("ENERGY_HUB_ROWS_DIR"):
        path = Path(folder) / f"octopus_year.{database_name(request)}.json"
        path.write_text(json.dumps(rows, sort_keys=True))
