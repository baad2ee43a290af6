"""End to end: Elexon BMRS over real HTTP against the in-process sandbox on 127.0.0.1.

The sandbox's clock is Home Assistant's (frozen) clock. The day simulated is Sunday 25 October
2026, when the clocks go back: a settlement day of 50 half hours.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.energy_hub.const import DOMAIN
from sandbox.elexon import half_hour, interval

from .conftest import Sandbox, advance, sandbox_requests, state_of

START = datetime(2026, 10, 24, 23, 40, tzinfo=UTC)  # 00:40 BST on the 25th: period 2
PREFIX = "sensor.elexon_bmrs"


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """Simulated days write thousands of states; the recorder committing each one would
    dominate the run time and is not what these tests are about."""
    return {"exclude": {"entity_globs": [f"{PREFIX}_*"]}}


async def _add(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "elexon"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"advanced": {}})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Elexon BMRS"
    await hass.async_block_till_done()


async def _requests(sandbox: Sandbox) -> dict[str, int]:
    """The paths asked since the last call."""
    return dict((await sandbox_requests(sandbox, "elexon", reset=True))["paths"])


def _state(hass: HomeAssistant, name: str) -> str:
    return state_of(hass, f"{PREFIX}_{name}")


async def test_long_day_end_to_end(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """Add the source through the flow; sensors equal the sandbox's grid; the 50-period day
    costs exactly one request per publication: 300 FUELINST and 50 of each half-hourly one."""
    await _add(hass)
    assert await _requests(sandbox) == {
        "/generation/outturn/current": 1,
        "/datasets/FUELINST": 1,
        "/datasets/INDO": 1,
        "/balancing/settlement/system-prices/2026-10-24/48": 1,
        "/balancing/pricing/market-index": 1,
    }
    # FUELINST up to the interval published at 23:40; period 22:30-23:00 (published 23:15).
    generation = interval(datetime(2026, 10, 24, 23, 35, tzinfo=UTC)).generation
    assert _state(hass, "wind_generation") == str(generation["WIND"])
    assert _state(hass, "denmark_viking_link_interconnector") == str(generation["INTVKL"])
    period = half_hour(datetime(2026, 10, 24, 22, 30, tzinfo=UTC))
    assert _state(hass, "national_demand") == str(period.indo)
    assert float(_state(hass, "system_sell_price")) == period.system_price
    assert float(_state(hass, "market_index_price")) == period.market_price
    assert _state(hass, "settlement_period") == "2"

    # 25 hours to 00:40 GMT on the 26th, a step 1 min 10 s after each 5 minutes (when FUELINST
    # is due; the other datasets are due at :16 and :46). Any extra request would show in the
    # counts below.
    periods = [2]
    for minute in range(1, 25 * 60 + 1, 5):
        await advance(hass, freezer, START + timedelta(minutes=minute, seconds=10))
        value = int(_state(hass, "settlement_period"))
        if value != periods[-1]:
            periods.append(value)
    assert periods == [*range(2, 51), 1, 2]

    paths = await _requests(sandbox)
    prices = {path: n for path, n in paths.items() if "/system-prices/" in path}
    assert prices == {
        f"/balancing/settlement/system-prices/2026-10-25/{p}": 1 for p in range(1, 51)
    }
    others = Counter({path: n for path, n in paths.items() if path not in prices})
    assert others == {
        "/datasets/FUELINST": 300,
        "/datasets/INDO": 50,
        "/balancing/pricing/market-index": 50,
    }
    assert sum(paths.values()) == 450

    # Now 00:40 GMT: FUELINST to the 00:30 interval; period 50 of the 25th (23:30-00:00 GMT).
    generation = interval(datetime(2026, 10, 26, 0, 30, tzinfo=UTC)).generation
    assert _state(hass, "wind_generation") == str(generation["WIND"])
    assert _state(hass, "belgium_nemo_link_interconnector") == str(generation["INTNEM"])
    period = half_hour(datetime(2026, 10, 25, 23, 30, tzinfo=UTC))
    assert _state(hass, "national_demand") == str(period.indo)
    assert float(_state(hass, "system_buy_price")) == period.system_price
    state = hass.states.get(f"{PREFIX}_system_buy_price")
    assert state is not None
    assert (state.attributes["settlement_date"], state.attributes["settlement_period"]) == (
        "2026-10-25",
        50,
    )


async def test_faults_then_recovery(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """Each sandbox fault makes the sensors unavailable; they come back by themselves."""
    await _add(hass)
    entity = "wind_generation"
    when = datetime(2026, 10, 24, 23, 46, 1, tzinfo=UTC)
    for fault in ("http_500", "html_502", "malformed_json", "rate_limit"):
        await sandbox.put("/_admin/faults/elexon", json={"fault": fault, "retry_after": 90})
        await advance(hass, freezer, when)
        assert _state(hass, entity) == STATE_UNAVAILABLE, fault
        await sandbox.delete("/_admin/faults/elexon")
        when += timedelta(seconds=91)  # within the backoff (1 minute, or the 90 s asked)
        await advance(hass, freezer, when)
        assert _state(hass, entity) != STATE_UNAVAILABLE, fault
        latest = when.replace(second=0, minute=when.minute - when.minute % 5) - timedelta(minutes=5)
        assert _state(hass, entity) == str(interval(latest).generation["WIND"]), fault
        when += timedelta(minutes=30)
