"""Carbon Intensity entries and HTTP mocks shared by the tests."""

from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_hub.const import DOMAIN

from .conftest import CI_URL, load_json, setup_integration, url_re

NATIONAL_FW48H = url_re(CI_URL, r"/intensity/[^/]+/fw48h")
GENERATION = f"{CI_URL}/generation"
REGIONAL_FW48H_11 = url_re(CI_URL, r"/regional/intensity/[^/]+/fw48h/regionid/11")
NATIONAL_SAMPLE_TIME = "2018-01-20T12:10:00+00:00"


def national_entry(**options: int) -> MockConfigEntry:
    """A national (Great Britain) entry as the flow creates it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Great Britain",
        unique_id="carbon_intensity_national",
        data={"source": "carbon_intensity"},
        options={"window_hours": 3, **options},
    )


def regional_entry() -> MockConfigEntry:
    """A South West England entry, added with postcode BS16."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="South West England",
        unique_id="carbon_intensity_region_11",
        data={"source": "carbon_intensity", "postcode": "BS16", "region_id": 11},
        options={"window_hours": 1},
    )


async def setup_national(
    hass: HomeAssistant, mocked: aioresponses, freezer: FrozenDateTimeFactory, **options: int
) -> MockConfigEntry:
    """Great Britain set up at 12:10 UTC on 20 January 2018, the national samples' time."""
    freezer.move_to(NATIONAL_SAMPLE_TIME)
    mock_national(mocked)
    return await setup_integration(hass, national_entry(**options))


def mock_national(mocked: aioresponses) -> None:
    """The national forecast and generation mix, for any number of requests."""
    mocked.get(
        NATIONAL_FW48H, payload=load_json("carbon_intensity/national_fw48h.json"), repeat=True
    )
    mocked.get(
        GENERATION, payload=load_json("carbon_intensity/generation_current.json"), repeat=True
    )


def mock_regional(mocked: aioresponses) -> None:
    """The South West England forecast (the real BS16 sample), for any number of requests."""
    mocked.get(
        REGIONAL_FW48H_11,
        payload=load_json("carbon_intensity/regional_fw48h_BS16.json"),
        repeat=True,
    )
