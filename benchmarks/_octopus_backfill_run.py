"""The measurement behind benchmarks/octopus_backfill.py (run by it through pytest)."""

from collections import Counter
from datetime import UTC, datetime
import logging
import os
import time
import tracemalloc
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_hub.sources.octopus import OctopusSource
from custom_components.energy_hub.statistics import async_update_statistics
from sandbox import create_app
import sandbox.octopus as sb

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
logging.getLogger("aiohttp.access").disabled = True


async def test_octopus_backfill(
    recorder_mock: Any, hass: HomeAssistant, socket_enabled: None
) -> None:
    """Measure one backfill and print the figures."""
    days = int(os.environ.get("ENERGY_HUB_BENCH_DAYS", "365"))
    server = TestServer(create_app(clock=lambda: NOW), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("/octopus")).rstrip("/")
    try:
        async with ClientSession() as session:
            source = OctopusSource(
                session,
                {
                    "source": "octopus",
                    "api_key": sb.API_KEY,
                    "account_number": sb.ACCOUNT_NUMBER,
                    "advanced": {"base_url": base},
                },
                {"backfill_days": days},
            )
            data = await source.async_update(None, NOW)
            if os.environ.get("ENERGY_HUB_BENCH_GAS", "0") != "1":
                data.meters = [meter for meter in data.meters if meter.kind != "gas"]
            live = source.request_count
            paths: Counter[str] = Counter()
            original = source.client._request_json

            async def counted(method: str, path: str, **kwargs: Any) -> Any:
                paths[path.split("?", maxsplit=1)[0]] += 1
                return await original(method, path, **kwargs)

            source.client._request_json = counted  # type: ignore[method-assign]
            traced = os.environ.get("ENERGY_HUB_BENCH_TRACEMALLOC", "1") == "1"
            if traced:
                tracemalloc.start()
            started = time.perf_counter()
            written = await async_update_statistics(hass, source, data, NOW)
            queued = time.perf_counter() - started
            await async_wait_recording_done(hass)
            wall = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] if traced else 0
            tracemalloc.stop()
    finally:
        await server.close()
    backfill = source.request_count - live
    electricity = sum(count for path, count in paths.items() if "gas" not in path)
    print()
    meters = ", ".join(meter.kind for meter in data.meters)
    print(f"Octopus backfill of {days} days (sandbox account; meters: {meters})")
    print(f"  requests for the live sensors first: {live}")
    print(f"  requests for the backfill:           {backfill}")
    for path, count in sorted(paths.items()):
        print(f"    {count:3d}  {path}")
    print(f"  of which electricity (import + export: consumption, rates): {electricity}")
    print(f"  wall time, fetched, priced and queued to the recorder: {queued:.2f} s")
    print(f"  wall time, until the recorder has committed every row: {wall:.2f} s")
    print(f"  peak Python memory during the backfill (tracemalloc): {peak / 2**20:.1f} MiB")
    print(f"  hours written: {sum(written.values())} across {len(written)} statistics")
