"""End to end: the integration over real HTTP against the in-process sandbox on 127.0.0.1.

The sandbox's clock is Home Assistant's (frozen) clock, so its data follows simulated time.
"""

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.energy_hub.const import DOMAIN
from sandbox import STATE_KEY
from sandbox.carbon_intensity import national_actual, national_slot, regional_slot

from .conftest import Sandbox, advance, sandbox_requests

START = datetime(2026, 11, 23, 18, 17, tzinfo=UTC)
SLOT = timedelta(minutes=30)


async def _add(hass: HomeAssistant, postcode: str) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "carbon_intensity"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"postcode": postcode, "advanced": {}}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return result["title"]


async def _requests(sandbox: Sandbox) -> dict[str, int]:
    """The paths asked since the last call."""
    return dict((await sandbox_requests(sandbox, "carbon_intensity", reset=True))["paths"])


async def test_region_end_to_end(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """Add BS16 through the flow; sensors equal the sandbox's data; a day costs 48 requests."""
    assert await _add(hass, "BS16 1AB") == "South West England"
    assert await _requests(sandbox) == {
        "/regional/postcode/BS16": 1,
        "/regional/intensity/2026-11-23T18:00Z/fw48h/regionid/11": 1,
    }
    prefix = "sensor.south_west_england_grid"
    slot = regional_slot(11, datetime(2026, 11, 23, 18, 0, tzinfo=UTC))
    assert hass.states.get(f"{prefix}_carbon_intensity").state == str(slot.forecast)
    assert hass.states.get(f"{prefix}_carbon_intensity_index").state == slot.index.replace(" ", "_")
    assert hass.states.get(f"{prefix}_wind_share").state == str(float(slot.mix["wind"]))
    forecast = hass.states.get(f"{prefix}_carbon_intensity").attributes["forecast"]
    assert len(forecast) == 96
    assert [item["intensity"] for item in forecast[:4]] == [
        regional_slot(11, datetime(2026, 11, 23, 18, 0, tzinfo=UTC) + i * SLOT).forecast
        for i in range(4)
    ]

    # A simulated day, minute by minute: one request per half hour, nothing else.
    for minute in range(1, 24 * 60 + 1):
        await advance(hass, freezer, START + timedelta(minutes=minute))
    paths = await _requests(sandbox)
    assert sum(paths.values()) == 48
    assert all(path.endswith("/fw48h/regionid/11") for path in paths)
    now_slot = regional_slot(11, datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
    assert hass.states.get(f"{prefix}_carbon_intensity").state == str(now_slot.forecast)


async def test_national_actual_and_faults(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """National shows the settled actual; during each sandbox fault the held forecast stays
    shown with its age (item 7 of issue 11), then fresh data are back."""
    assert await _add(hass, "") == "Great Britain"
    entity_id = "sensor.great_britain_grid_carbon_intensity"
    slot = national_slot(datetime(2026, 11, 23, 18, 0, tzinfo=UTC))
    assert hass.states.get(entity_id).state == str(national_actual(slot))

    when = datetime(2026, 11, 23, 18, 30, 11, tzinfo=UTC)
    for fault in ("http_500", "html_502", "malformed_json", "rate_limit"):
        await sandbox.put(
            "/_admin/faults/carbon_intensity", json={"fault": fault, "retry_after": 90}
        )
        await advance(hass, freezer, when)
        held = hass.states.get(entity_id)
        assert held.state != STATE_UNAVAILABLE, fault
        assert held.attributes["data_age_minutes"] >= 0, fault
        await sandbox.delete("/_admin/faults/carbon_intensity")
        # Back within the backoff (1 minute, or the 90 s the 429 asked for).
        when += timedelta(seconds=91)
        await advance(hass, freezer, when)
        expected = national_actual(
            national_slot(when.replace(minute=when.minute // 30 * 30, second=0))
        )
        assert hass.states.get(entity_id).state == str(expected), fault
        assert "data_age_minutes" not in hass.states.get(entity_id).attributes, fault
        when += timedelta(minutes=30)


async def test_hang_times_out_and_recovers(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory
) -> None:
    """A request the server holds forever times out (20 s): the held forecast is shown with
    its age meanwhile; the entry recovers."""
    assert await _add(hass, "") == "Great Britain"
    entity_id = "sensor.great_britain_grid_carbon_intensity"
    await sandbox.put("/_admin/faults/carbon_intensity", json={"fault": "hang"})
    when = datetime(2026, 11, 23, 18, 30, 11, tzinfo=UTC)
    freezer.move_to(when)
    async_fire_time_changed(hass)
    state = sandbox.app[STATE_KEY]
    await state.faults.wait_hanging("carbon_intensity", 1)
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE  # still waiting
    await advance(hass, freezer, when + timedelta(seconds=21))
    held = hass.states.get(entity_id)
    assert held.state != STATE_UNAVAILABLE
    assert held.attributes["data_age_minutes"] == 13  # fetched at 18:17
    await sandbox.delete("/_admin/faults/carbon_intensity")
    await advance(hass, freezer, when + timedelta(seconds=21 + 61))
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE
    assert "data_age_minutes" not in hass.states.get(entity_id).attributes
