"""A simulated day of a XOLTA battery: one update a minute, the state file written at most
every 15 minutes, and no timer that wakes to find nothing due."""

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import pytest

from .conftest import Sandbox, advance, sandbox_requests, setup_integration
from .entries import xolta_entry


@pytest.fixture
def fires(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Timer callbacks that ran, by name (every ``loop.call_at``, which Home Assistant's
    timers, the coordinator's refresh and the Store's delayed write all go through)."""
    fired: Counter[str] = Counter()
    call_at = hass.loop.call_at

    def counting(when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        name = getattr(callback, "__qualname__", type(callback).__qualname__)

        def run(*inner: Any) -> Any:
            fired[name] += 1
            return callback(*inner)

        return call_at(when, run, *args, **kwargs)

    monkeypatch.setattr(hass.loop, "call_at", counting)
    return fired


@pytest.fixture
def writes(hass: HomeAssistant) -> Iterator[Counter[str]]:
    """Storage files written (``<key>``) and delayed writes asked for (``delay <key>``).

    Patched over the test harness's own storage mock, and undone before it is (after
    ``hass``)."""
    written: Counter[str] = Counter()
    write = Store._async_write_data
    delay_save = Store.async_delay_save

    async def counting(self: Store[Any], data: dict[str, Any]) -> None:
        written[self.key] += 1
        await write(self, data)

    def asking(self: Store[Any], data_func: Callable[[], Any], delay: float = 0) -> None:
        written[f"delay {self.key}"] += 1
        delay_save(self, data_func, delay)

    with (
        patch.object(Store, "_async_write_data", counting),
        patch.object(Store, "async_delay_save", asking),
    ):
        yield written


async def test_a_day_of_xolta_wakes_once_a_minute(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    fires: Counter[str],
    writes: Counter[str],
) -> None:
    """A day minute by minute: the updates' requests and wake-ups, and at most 96 writes of
    the entry's state (one per 15 minutes), then one at unload."""
    config = await setup_integration(hass, xolta_entry())
    key = f"energy_hub.{config.entry_id}"
    await sandbox_requests(sandbox, "xolta", reset=True)
    fires.clear()
    writes.clear()
    first = dt_util.utcnow()
    for minute in range(1, 24 * 60 + 1):
        await advance(hass, freezer, first + timedelta(minutes=minute))
    requests = await sandbox_requests(sandbox, "xolta")
    assert requests["total"] == 1634  # a status a minute, and the 5-minute summaries
    assert fires["DataUpdateCoordinator.__wrap_handle_refresh_interval"] == 24 * 60
    # The counters change every minute: one write per 15 minutes at most, each asked for
    # once (not moved by the updates after it) and each timer waking to write.
    assert writes[f"delay {key}"] == writes[key] == 78
    assert fires["Store._async_schedule_callback_delayed_write"] == sum(
        count for name, count in writes.items() if not name.startswith("delay ")
    )
    assert await hass.config_entries.async_unload(config.entry_id)
    assert writes[key] == 79  # and at unload
