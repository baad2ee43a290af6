"""Diagnostics: useful state, no secrets, no location."""

from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .carbon_intensity_mocks import mock_regional, regional_entry
from .conftest import setup_integration


@pytest.fixture
def at_sample_time(freezer: FrozenDateTimeFactory) -> None:
    """The sample's time; requested before ``hass_client`` so its token is valid then."""
    freezer.move_to("2025-10-22T23:40:00+00:00")


@pytest.mark.usefixtures("at_sample_time")
async def test_diagnostics_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_api: aioresponses,
) -> None:
    """The postcode, title and unique id are redacted; the held data is summarised."""
    mock_regional(mock_api)
    entry = regional_entry()
    await setup_integration(hass, entry)

    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diag["entry"] == {
        "source": "carbon_intensity",
        "title": "**REDACTED**",
        "unique_id": "**REDACTED**",
        "data": {"source": "carbon_intensity", "postcode": "**REDACTED**", "region_id": 11},
        "options": {"window_hours": 1},
    }
    assert diag["coordinator"] == {
        "last_update_success": True,
        "failures": 0,
        "update_interval_seconds": 1210.0,  # 23:40:00 -> 00:00:10
        "requests_made": 1,
    }
    assert diag["data"] == {
        "region": {"id": 11, "name": "South West England"},
        "slots": 4,
        "first_slot": "2025-10-22T23:30:00+00:00",
        "last_slot": "2025-10-23T01:30:00+00:00",
        "generation": None,
        "retrieved": "2025-10-22T23:40:00+00:00",
    }
    assert {"device": 0, "metric": "carbon_intensity", "variant": None, "value": 162} in diag[
        "readings"
    ]
    assert "BS16" not in str(diag)
