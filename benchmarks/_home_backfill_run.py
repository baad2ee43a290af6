"""The measurement behind benchmarks/home_backfill.py (run by it through pytest)."""

import asyncio
from collections import defaultdict
from collections.abc import Callable
import contextlib
import copy
import cProfile
from datetime import UTC, datetime, timedelta
import functools
import gc
import inspect
import logging
import os
import pstats
import threading
import time
import tracemalloc
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import TestServer
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_hub import statistics as eh_statistics
from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.coordinator import EnergyHubCoordinator
from custom_components.energy_hub.sources import home as home_module
from custom_components.energy_hub.sources.tariff import TariffSource
from custom_components.energy_hub.statistics import (
    CHUNK,
    async_update_statistics,
    async_wait_committed,
    statistic_id,
)
from sandbox import create_app
import sandbox.carbon_intensity as sb_carbon

logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
logging.getLogger("aiohttp.access").disabled = True
logging.getLogger("asyncio").setLevel(logging.ERROR)
logging.getLogger("homeassistant").setLevel(logging.WARNING)

HOUR = timedelta(hours=1)
REGION = 12  # South England
BANDS = "00:00-05:30 0.12\n05:30-16:15 0.28\n16:15-19:00 0.41\n19:00-24:00 0.28"
IMPORT = "bench:grid_import"
EXPORT = "bench:grid_export"
SOLAR = "bench:solar"
CHARGE = "bench:battery_charge"
DISCHARGE = "bench:battery_discharge"
DEVICE = "bench:ev_charger"
#: The loop ticker's sleep: a wake-up later than this by more than the thresholds is a hold.
TICK = 0.001
#: The part that is the sandbox's answers: it runs on the same loop here, not in production.
SANDBOX = "sandbox's answers (not in production)"
GC_LOOP = "garbage collection (loop thread)"
GC_OTHER = "garbage collection (other threads)"


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """Only statistics matter here: the entities' states stay out of the recorder."""
    return {"exclude": {"domains": ["sensor", "binary_sensor"]}}


def amounts(h: int) -> dict[str, float | None]:
    """Every input's kWh in hour ``h`` of the year (deterministic); None: no row (solar's
    night)."""
    day_hour = h % 24
    return {
        IMPORT: round(0.2 + (h * 37 % 11) / 10, 3),
        EXPORT: round((h * 13 % 7) / 20, 3) if 8 <= day_hour <= 16 else 0.0,
        SOLAR: round(0.3 + (h * 7 % 5) / 4, 3) if 6 <= day_hour <= 18 else None,
        CHARGE: round((h * 3 % 4) / 5, 3) if day_hour < 6 else 0.0,
        DISCHARGE: round((h * 5 % 3) / 4, 3) if 17 <= day_hour <= 22 else 0.0,
        DEVICE: round((h % 5) * 1.4, 3) if day_hour < 5 else 0.0,
    }


async def write_inputs(hass: HomeAssistant, first: datetime, hours: int) -> int:
    """A year of every input as another integration's external statistics; rows written."""
    rows: dict[str, list[StatisticData]] = defaultdict(list)
    totals: dict[str, float] = defaultdict(float)
    for h in range(hours):
        for stat, amount in amounts(h).items():
            if amount is None:
                continue
            totals[stat] += amount
            rows[stat].append(
                StatisticData(start=first + h * HOUR, state=amount, sum=round(totals[stat], 6))
            )
    for stat, series in rows.items():
        metadata = StatisticMetaData(
            mean_type=StatisticMeanType.NONE,
            has_sum=True,
            name=stat,
            source="bench",
            statistic_id=stat,
            unit_class="energy",
            unit_of_measurement="kWh",
        )
        for start in range(0, len(series), CHUNK):
            async_add_external_statistics(hass, metadata, series[start : start + CHUNK])
    await async_wait_committed(hass)
    return sum(len(series) for series in rows.values())


async def add_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


#: What the loop watch reports: the wall-clock gaps, the same less the sandbox's answers, and
#: the loop thread's own CPU time in each gap less the sandbox's (what the code held the loop
#: for; unlike wall-clock gaps, not lengthened by other processes on a busy machine).
HOLDS = {
    "wall": "wall clock",
    "wall_own": "wall clock less the sandbox",
    "cpu_own": "loop thread's CPU less the sandbox",
}


class Parts:
    """Time spent in each part of the Home's run (sum and longest single call)."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.longest: dict[str, float] = defaultdict(float)
        #: The loop thread's CPU time (sync parts: a hold of the loop each call).
        self.cpu: dict[str, float] = defaultdict(float)
        self.longest_cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        #: Each call's name as it ends (what ran within a hold of the loop).
        self.ended: list[str] = []

    def reset(self) -> None:
        """Forget what was timed (the entries' set-up)."""
        for held in (self.total, self.longest, self.cpu, self.longest_cpu, self.calls):
            held.clear()
        self.ended.clear()

    def add(self, name: str, spent: float, cpu: float | None) -> None:
        self.total[name] += spent
        self.longest[name] = max(self.longest[name], spent)
        if cpu is not None:
            self.cpu[name] += cpu
            self.longest_cpu[name] = max(self.longest_cpu[name], cpu)
        self.calls[name] += 1
        self.ended.append(name if cpu is None else f"{name} ({cpu * 1000:.1f} ms CPU)")

    def sync(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` timed: it runs on the event loop, so each call is a hold of its own."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - started, time.thread_time() - cpu)

        return wrapper

    def coro(
        self, name: str, func: Callable[..., Any], *, steps: bool = False
    ) -> Callable[..., Any]:
        """An async ``func`` timed from call to return (its awaits included); ``steps``: it
        awaits nothing, so its CPU time is one hold of the loop."""

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return await func(*args, **kwargs)
            finally:
                spent = time.thread_time() - cpu if steps else None
                self.add(name, time.perf_counter() - started, spent)

        return wrapper


class LoopWatch:
    """A task waking every millisecond: the longest gap between its wake-ups, less the
    sleep, is the longest the event loop was held."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.largest = dict.fromkeys(HOLDS, 0.0)
        self.over_20 = dict.fromkeys(HOLDS, 0)
        self.over_50 = dict.fromkeys(HOLDS, 0)
        self.wakeups = 0
        #: The timed calls that ended within the largest hold (of the loop's CPU).
        self.within: list[str] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        parts = self.parts
        while True:
            wall, cpu = time.perf_counter(), time.thread_time()
            sandbox_wall, sandbox_cpu = parts.total[SANDBOX], parts.cpu[SANDBOX]
            ended = len(parts.ended)
            await asyncio.sleep(TICK)
            held = time.perf_counter() - wall - TICK
            self.wakeups += 1
            for kind, value in (
                ("wall", held),
                ("wall_own", held - parts.total[SANDBOX] + sandbox_wall),
                ("cpu_own", time.thread_time() - cpu - parts.cpu[SANDBOX] + sandbox_cpu),
            ):
                if kind == "cpu_own" and value > self.largest[kind]:
                    self.within = parts.ended[ended:]
                self.largest[kind] = max(self.largest[kind], value)
                self.over_20[kind] += value > 0.020
                self.over_50[kind] += value > 0.050

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def report(self, what: str) -> None:
        print(f"  event loop's holds during {what} ({self.wakeups} wake-ups):")
        for kind, name in HOLDS.items():
            print(
                f"    {name:36s} largest {self.largest[kind] * 1000:6.1f} ms; "
                f"> 20 ms: {self.over_20[kind]:4d}, > 50 ms: {self.over_50[kind]:4d}"
            )
        print(f"    timed calls that ended within the largest: {', '.join(self.within) or '-'}")


class CollectorWatch:
    """Python's cyclic garbage collections: a pause of the thread that runs one (and of the
    loop, when another thread holds the interpreter for it)."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.loop_thread = threading.get_ident()
        self._started: dict[int, tuple[float, float]] = {}

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        thread = threading.get_ident()
        if phase == "start":
            self._started[thread] = (time.perf_counter(), time.thread_time())
            return
        if (started := self._started.pop(thread, None)) is None:
            return
        wall = time.perf_counter() - started[0]
        if thread == self.loop_thread:
            self.parts.add(GC_LOOP, wall, time.thread_time() - started[1])
        else:
            self.parts.add(GC_OTHER, wall, None)

    def __enter__(self) -> CollectorWatch:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def watch_parts(monkeypatch: pytest.MonkeyPatch) -> Parts:
    """Time the parts of HomeSource.async_history_from and the statistics writer."""
    parts = Parts()
    for name in ("_hourly", "home_consumption", "hourly_means", "footprints"):
        monkeypatch.setattr(home_module, name, parts.sync(name, getattr(home_module, name)))
    for name in ("battery_values", "device_costs"):
        monkeypatch.setattr(home_module, name, parts.sync(name, getattr(home_module, name)))
    source_cls = home_module.HomeSource
    for name in ("_async_inputs", "_async_fill_intensity", "_async_prices"):
        monkeypatch.setattr(source_cls, name, parts.coro(name, getattr(source_cls, name)))
    monkeypatch.setattr(
        TariffSource,
        "rates_between",
        parts.sync("tariff rates_between", TariffSource.rates_between),
    )
    monkeypatch.setattr(
        eh_statistics,
        "async_add_external_statistics",
        parts.sync("async_add_external_statistics", eh_statistics.async_add_external_statistics),
    )
    monkeypatch.setattr(
        eh_statistics,
        "async_write_series",
        parts.coro("async_write_series", eh_statistics.async_write_series),
    )
    # The sandbox's handlers await nothing: each call is one step of the loop.
    for name, handler in vars(sb_carbon._Handlers).items():
        if inspect.iscoroutinefunction(handler):
            monkeypatch.setattr(sb_carbon._Handlers, name, parts.coro(SANDBOX, handler, steps=True))
    return parts


async def read_rows(
    hass: HomeAssistant, stat_ids: set[str], since: datetime
) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        since,
        None,
        stat_ids,
        "hour",
        None,
        {"state", "sum"},
    )
    return rows


async def test_home_backfill(
    recorder_mock: Any,
    enable_custom_integrations: None,
    hass: HomeAssistant,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Measure one backfill of every Home output and print the figures."""
    days = int(os.environ.get("ENERGY_HUB_BENCH_DAYS", "365"))
    traced = os.environ.get("ENERGY_HUB_BENCH_TRACEMALLOC", "1") == "1"
    profiled = os.environ.get("ENERGY_HUB_BENCH_PROFILE", "0") == "1"
    # The test harness runs the loop in debug mode (a traceback per task and callback):
    # production does not, and it would dominate the holds.
    hass.loop.set_debug(False)
    await hass.config.async_set_time_zone("Europe/London")
    now = dt_util.utcnow()
    last = now.replace(minute=0, second=0, microsecond=0) - HOUR  # the last complete hour
    first = last - timedelta(days=days) + HOUR
    hours = days * 24
    input_rows = await write_inputs(hass, first, hours)

    parts = watch_parts(monkeypatch)
    server = TestServer(create_app(clock=dt_util.utcnow), host="127.0.0.1", access_log=None)
    await server.start_server()
    monkeypatch.setenv("ENERGY_HUB_SANDBOX_URL", str(server.make_url("")).rstrip("/"))
    entries: list[MockConfigEntry] = []
    try:
        tariff = await add_entry(
            hass,
            MockConfigEntry(
                domain=DOMAIN,
                title="Bench tariff",
                unique_id="tariff_bench_tariff_import",
                data={
                    "source": "tariff",
                    "name": "Bench tariff",
                    "direction": "import",
                    "currency": "GBP",
                },
                options={"bands": BANDS},
            ),
        )
        entries.append(tariff)
        carbon = await add_entry(
            hass,
            MockConfigEntry(
                domain=DOMAIN,
                title="South England",
                unique_id=f"carbon_intensity_region_{REGION}",
                data={"source": "carbon_intensity", "postcode": "BS16", "region_id": REGION},
                options={"window_hours": 3},
            ),
        )
        entries.append(carbon)
        home_entry = MockConfigEntry(
            domain=DOMAIN,
            title="Home",
            unique_id="home_home",
            data={"source": "home", "name": "Home"},
            options={
                "carbon_entry": carbon.entry_id,
                "tariff": tariff.entry_id,
                "grid_import": IMPORT,
                "grid_export": EXPORT,
                "solar": [SOLAR],
                "battery_charge": [CHARGE],
                "battery_discharge": [DISCHARGE],
                "grid_power": "",
                "solar_power": [],
                "battery_power": [],
                "devices": [DEVICE],
            },
        )
        # The Home's own background run is held back: the run measured is the one below, on
        # the entry's source and data, from nothing stored to every row committed.
        with (
            patch.object(EnergyHubCoordinator, "async_start_history", return_value=False),
            CollectorWatch(parts),
        ):
            await add_entry(hass, home_entry)
            entries.append(home_entry)
            coordinator: Any = home_entry.runtime_data
            source = coordinator.source
            data = coordinator.data
            specs = source.statistic_specs(data)
            parts.reset()  # the Home's run only
            watch = LoopWatch(parts)
            profile = cProfile.Profile() if profiled else None
            if traced:
                tracemalloc.start()
            watch.start()
            await asyncio.sleep(0)
            if profile:
                profile.enable()
            started = time.perf_counter()
            written = await async_update_statistics(hass, source, data, dt_util.utcnow())
            queued = time.perf_counter() - started
            await async_wait_committed(hass)
            wall = time.perf_counter() - started
            if profile:
                profile.disable()
            await watch.stop()
            home_parts = copy.deepcopy(parts)
            peak = tracemalloc.get_traced_memory()[1] if traced else 0
            # Tracing goes on through the recorder-only write: the ratio compares like with like.
            monkeypatch.undo()
            requests = source.request_count

            # The recorder alone: the very same rows, read back and written again to other
            # statistic ids, in the same chunks.
            ids = {statistic_id(spec): spec for spec in specs}
            stored = await read_rows(hass, set(ids), first - HOUR)
            parts.reset()
            baseline = LoopWatch(parts)  # the same ticker: the same load on the loop
            baseline.start()
            await asyncio.sleep(0)
            started = time.perf_counter()
            copied = 0
            for stat, spec in ids.items():
                metadata = StatisticMetaData(
                    mean_type=StatisticMeanType.NONE,
                    has_sum=True,
                    name=f"copy {spec.name}",
                    source="bench",
                    statistic_id=f"bench:copy_{spec.key}",
                    unit_class=spec.unit_class,
                    unit_of_measurement=spec.unit,
                )
                rows = [
                    StatisticData(
                        start=datetime.fromtimestamp(row["start"], UTC),
                        state=row["state"],
                        sum=row["sum"],
                    )
                    for row in stored.get(stat, [])
                ]
                for start in range(0, len(rows), CHUNK):
                    async_add_external_statistics(hass, metadata, rows[start : start + CHUNK])
                copied += len(rows)
                await asyncio.sleep(0)  # one statistic per step of the loop, as the Home writes
            await async_wait_committed(hass)
            recorder_only = time.perf_counter() - started
            tracemalloc.stop()
            await baseline.stop()
    finally:
        tracemalloc.stop()
        for entry in reversed(entries):
            await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await server.close()

    rows_written = sum(written.values())
    print()
    print(
        f"Home backfill of {days} days ({input_rows} input rows in 6 statistics; "
        f"tracemalloc {'on' if traced else 'off'})"
    )
    print(f"  range requests (intensity history): {requests}")
    print(f"  rows written: {rows_written} across {len(written)} statistics")
    for stat, count in sorted(written.items()):
        print(f"    {count:6d}  {stat}")
    print(f"  wall time, computed and queued to the recorder: {queued:.2f} s")
    print(f"  wall time, until the recorder has committed every row: {wall:.2f} s")
    print(
        f"  recorder-only write of the same {copied} rows ({CHUNK} per job): "
        f"{recorder_only:.2f} s; ratio {wall / recorder_only:.2f}"
    )
    watch.report("the Home's run")
    baseline.report("the recorder-only write (for comparison)")
    if traced:
        print(f"  peak Python memory during the Home's run (tracemalloc): {peak / 2**20:.1f} MiB")
        print("  (tracemalloc slows Python code, both runs: --no-tracemalloc for real holds)")
    print("  parts of the Home's run:  wall: total, longest call; loop CPU: longest call; calls")
    for name in sorted(home_parts.total, key=home_parts.total.__getitem__, reverse=True):
        cpu = (
            f"{home_parts.longest_cpu[name] * 1000:8.1f} ms" if name in home_parts.cpu else " " * 11
        )
        print(
            f"    {name:40s} {home_parts.total[name] * 1000:9.1f} ms "
            f"{home_parts.longest[name] * 1000:8.1f} ms {cpu} {home_parts.calls[name]:4d}"
        )
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
