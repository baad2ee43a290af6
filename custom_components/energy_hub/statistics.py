"""Long-term statistics from a source's history: resumable, idempotent, continuous.

Each statistic is external (``energy_hub:<key>``), hourly, with a running ``sum``. A run:
1. reads the last stored hour of every statistic the source declares;
2. asks the source for history from each statistic's own start: its last stored hour minus
   ``REWRITE`` (late corrections land), or the horizon when nothing is stored yet; a statistic
   that had nothing to store from the horizon (an export meter that never reports) is
   remembered (``empty``, kept by the coordinator across restarts) and asked again only from
   ``REWRITE`` before that check, and from the horizon once per ``EMPTY_RECHECK``, so it does
   not pull every run back to the horizon;
3. for each series, takes the stored sum just before the series' first hour and rewrites every
   hour from there with a continuous running sum, in chunks, at their true times.
Rows are upserted by hour, so a run that is interrupted and run again writes nothing twice and
loses nothing.

Never read what is only queued: ``async_add_external_statistics`` puts rows on the recorder's
queue and its thread commits them later, while reads run on the recorder's separate database
executor. Every read here therefore first waits until the recorder has worked through its queue
(:func:`async_wait_committed`), so a run that follows another at once (the rebuild action right
after setup, a history run right after another) continues from the rows the previous run wrote,
not from what happened to be committed.
"""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import re
from typing import Any

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
    statistics_during_period,
)
from homeassistant.components.recorder.tasks import SynchronizeTask
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance

from .const import DOMAIN, LOGGER
from .sources.base import HistorySeries, Source, StatisticSpec, floor_hour

HOUR = timedelta(hours=1)
#: A run of digits long enough to be a meter, device or plant number.
_NUMBER = re.compile(r"\d{4,}")
#: Always rewrite this much before the last stored hour: vendors correct recent data.
REWRITE = timedelta(days=7)
#: A statistic that had nothing to store is asked from the horizon again this often.
EMPTY_RECHECK = timedelta(days=7)
#: Rows per recorder job.
CHUNK = 24 * 31
#: How far back to look for the sum before a rewrite: nearly always the first window.
SUM_LOOKBACK_DAYS = (15, 400, 4000)


@dataclass(frozen=True, slots=True)
class Stored:
    """The last stored row of a statistic."""

    start: datetime
    sum: float


def statistic_id(spec: StatisticSpec) -> str:
    """``energy_hub:<key>``, sanitised to what the recorder accepts."""
    key = "".join(c if c.isalnum() else "_" for c in spec.key.lower())
    while "__" in key:
        key = key.replace("__", "_")
    return f"{DOMAIN}:{key.strip('_')}"


def loggable_statistic_id(stat_id: str) -> str:
    """A statistic id for the log: the meter or device number it carries (an MPAN, a MAC)
    replaced by ``*``."""
    return _NUMBER.sub("*", stat_id)


def _metadata(spec: StatisticSpec) -> StatisticMetaData:
    return StatisticMetaData(
        mean_type=StatisticMeanType.NONE,
        has_sum=True,
        name=spec.name,
        source=DOMAIN,
        statistic_id=statistic_id(spec),
        unit_class=spec.unit_class,
        unit_of_measurement=spec.unit,
    )


async def async_wait_committed(hass: HomeAssistant) -> None:
    """Return once every statistics row queued before the call is committed.

    The recorder runs its queue in order on one thread and each import commits in its own
    session before the next task starts, so a synchronisation task queued after our imports
    completes only once they are in the database. Always queued: the recorder's own shortcut
    (``async_get_commit_future``) returns nothing to wait for when the queue is empty, which is
    also the case while its thread is still inside our last import's transaction.
    """
    future: asyncio.Future[None] = hass.loop.create_future()
    get_instance(hass).queue_task(SynchronizeTask(future))
    await future


async def async_last_stored(hass: HomeAssistant, stat_id: str) -> Stored | None:
    """The newest stored row of ``stat_id``, or None (after what is queued is committed)."""
    await async_wait_committed(hass)
    rows = await get_instance(hass).async_add_executor_job(
        get_last_statistics, hass, 1, stat_id, False, {"sum"}
    )
    if not (found := rows.get(stat_id)):
        return None
    row = found[0]
    return Stored(datetime.fromtimestamp(row["start"], UTC), float(row.get("sum") or 0.0))


async def async_sum_before(hass: HomeAssistant, stat_id: str, hour: datetime) -> float:
    """The running sum at the last stored hour before ``hour`` (0 when there is none).

    Hourly rows only, in widening windows: a day, week or month row would also sum the hours
    after ``hour`` in its period. Reads after what is queued is committed.
    """
    await async_wait_committed(hass)
    instance = get_instance(hass)
    for days in SUM_LOOKBACK_DAYS:
        rows: dict[str, list[Any]] = await instance.async_add_executor_job(
            statistics_during_period,
            hass,
            hour - timedelta(days=days),
            hour,
            {stat_id},
            "hour",
            None,
            {"sum"},
        )
        if found := [row for row in rows.get(stat_id, []) if row["start"] < hour.timestamp()]:
            return float(found[-1].get("sum") or 0.0)
    return 0.0


def _chunks(rows: list[StatisticData]) -> Iterable[list[StatisticData]]:
    for first in range(0, len(rows), CHUNK):
        yield rows[first : first + CHUNK]


async def async_write_series(hass: HomeAssistant, series: HistorySeries) -> int:
    """Write one series from its first hour on, continuing the stored running sum."""
    hours = sorted(series.hours.items())
    if not hours:
        return 0
    stat_id = statistic_id(series.spec)
    total = await async_sum_before(hass, stat_id, hours[0][0])
    rows: list[StatisticData] = []
    for start, amount in hours:
        total += amount
        rows.append(StatisticData(start=start, state=amount, sum=round(total, 6)))
    metadata = _metadata(series.spec)
    for chunk in _chunks(rows):
        async_add_external_statistics(hass, metadata, chunk)
    LOGGER.debug(
        "Statistics %s: %d hours from %s to %s",
        loggable_statistic_id(stat_id),
        len(rows),
        hours[0][0],
        hours[-1][0],
    )
    return len(rows)


async def async_update_statistics(
    hass: HomeAssistant,
    source: Source[Any],
    data: Any,
    now: datetime,
    *,
    rebuild_from: datetime | None = None,
    empty: dict[str, datetime] | None = None,
) -> dict[str, int]:
    """One run for a source: fetch what is not stored yet (plus the rewrite window), write it.

    ``rebuild_from`` rewrites everything from that hour instead. ``empty`` (spec key: when it
    was last asked from the horizon and had nothing to store) is read and updated in place.
    Returns hours written per statistic id. Raises the api errors of the source's history
    fetch.
    """
    specs = source.statistic_specs(data)
    if not specs:
        return {}
    empty = {} if empty is None else empty
    horizon = floor_hour(now - source.history_horizon)
    starts: dict[str, datetime] = {}
    unstored: set[str] = set()
    for spec in specs:
        if rebuild_from is not None:
            starts[spec.key] = max(floor_hour(rebuild_from), horizon)
            continue
        last = await async_last_stored(hass, statistic_id(spec))
        if last is not None:
            starts[spec.key] = max(last.start + HOUR - REWRITE, horizon)
            continue
        unstored.add(spec.key)
        checked = empty.get(spec.key)
        if checked is not None and now - checked < EMPTY_RECHECK:
            starts[spec.key] = max(floor_hour(checked) - REWRITE, horizon)
        else:
            starts[spec.key] = horizon
    written: dict[str, int] = {}
    async for one in source.async_history_from(data, starts, now):
        since = starts.get(one.spec.key, min(starts.values()))
        kept = HistorySeries(
            spec=one.spec, hours={h: v for h, v in one.hours.items() if h >= since}
        )
        written[statistic_id(one.spec)] = await async_write_series(hass, kept)
    if rebuild_from is None:
        for key in list(empty):
            if key not in unstored:
                del empty[key]  # stored rows now, or no longer declared
    held_back = source.history_held_back(data)
    for spec in specs:
        if written.get(statistic_id(spec)) or spec.key in held_back:
            empty.pop(spec.key, None)
        elif spec.key in unstored and starts[spec.key] == horizon:
            empty[spec.key] = now
    return written
