"""The measurement behind benchmarks/hoymiles_update.py (run by it through pytest)."""

from collections.abc import Callable
import cProfile
from datetime import UTC, datetime, timedelta
import logging
import os
import pstats
import statistics
import time
from typing import Any

from aiohttp.test_utils import TestServer
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_hub.const import DOMAIN
from sandbox import create_app
import sandbox.hoymiles as sb

#: Two minutes past a 5-minute boundary: every update below finds a new upload due.
START = datetime(2026, 6, 6, 10, 2, tzinfo=UTC)
logging.getLogger("aiohttp.access").disabled = True
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
logging.getLogger("asyncio").setLevel(logging.ERROR)


@pytest.mark.usefixtures("recorder_mock", "enable_custom_integrations", "socket_enabled")
async def test_hoymiles_update(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Measure updates of plant 1002 and print the figures."""
    updates = int(os.environ.get("ENERGY_HUB_BENCH_UPDATES", "50"))
    freezer.move_to(START)
    # The test harness runs the loop in debug mode (a traceback per task and callback):
    # production does not, and it would dominate the figures.
    hass.loop.set_debug(False)
    spent = [0.0]

    def timed[**P, R](func: Callable[P, R]) -> Callable[P, R]:
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                spent[0] += time.thread_time() - started

        return wrapper

    for name in ("realtime_json", "device_tree_json", "station_json", "micro_chart"):
        monkeypatch.setattr(sb, name, timed(getattr(sb, name)))
    server = TestServer(create_app(clock=dt_util.utcnow), host="127.0.0.1", access_log=None)
    await server.start_server()
    monkeypatch.setenv("ENERGY_HUB_SANDBOX_URL", str(server.make_url("")).rstrip("/"))
    try:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Hoymiles bench",
            unique_id="hoymiles_bench",
            data={"source": "hoymiles", "username": sb.DEMO_USER, "password": sb.PASSWORD},
            options={"plants": ["1002"], "scan_interval": 5, "history_days": 1},
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        coordinator: Any = entry.runtime_data
        entities = len(hass.states.async_all("sensor"))
        totals: list[float] = []
        sandbox: list[float] = []
        charted: list[bool] = []
        profile = cProfile.Profile() if os.environ.get("ENERGY_HUB_BENCH_PROFILE") == "1" else None
        if profile:
            profile.enable()
        now = START
        for _ in range(updates):
            now += timedelta(minutes=5)
            freezer.move_to(now)
            spent[0] = 0.0
            plant = coordinator.source.plants[1002]
            before = plant.micro_day
            started = time.thread_time()
            await coordinator.async_refresh()
            await hass.async_block_till_done()
            totals.append(time.thread_time() - started)
            sandbox.append(spent[0])
            charted.append(plant.micro_day is not before)
        if profile:
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    finally:
        await server.close()
    own = [total - part for total, part in zip(totals, sandbox, strict=True)]
    print()
    print(f"Hoymiles update of plant 1002 (40 microinverters, 2 DTUs): {updates} updates")
    print(f"  sensor entities: {entities}; requests made: {coordinator.source.request_count}")
    print(f"  CPU per update, event loop:      median {statistics.median(totals) * 1000:6.2f} ms")
    print(f"  of which the sandbox's answers:  median {statistics.median(sandbox) * 1000:6.2f} ms")
    print(
        f"  Energy Hub (loop) per update:    median {statistics.median(own) * 1000:6.2f} ms, "
        f"max {max(own) * 1000:.2f} ms (target < 20 ms)"
    )
    with_chart = [value for value, chart in zip(own, charted, strict=True) if chart]
    if with_chart:
        print(
            f"  updates reading the 40 charts:   {len(with_chart)}, median "
            f"{statistics.median(with_chart) * 1000:6.2f} ms, max {max(with_chart) * 1000:.2f} ms"
        )
