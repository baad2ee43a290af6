"""Carbon Intensity entries and HTTP mocks shared by the tests."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import re
from typing import Any

from aioresponses import CallbackResult, aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.energy_hub.const import DOMAIN

from .conftest import CI_URL, load_json, setup_integration, url_re

NATIONAL_FW48H = url_re(CI_URL, r"/intensity/[^/]+/fw48h")
GENERATION = f"{CI_URL}/generation"
REGIONAL_FW48H_11 = url_re(CI_URL, r"/regional/intensity/[^/]+/fw48h/regionid/11")
NATIONAL_SAMPLE_TIME = "2018-01-20T12:10:00+00:00"
NATIONAL_RANGE = url_re(CI_URL, r"/intensity/\d{4}-[^/]+/\d{4}-[^/]+")
REGIONAL_RANGE = url_re(
    CI_URL, r"/regional/intensity/\d{4}-[^/]+/\d{4}-[^/]+/(regionid|postcode)/\w+"
)


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


def mock_intensity_history(
    mocked: aioresponses,
    value: Callable[[datetime], int | None],
    *,
    regional: bool = False,
    requests: list[URL] | None = None,
) -> None:
    """The range endpoints (``/intensity/{from}/{to}``, or ``/regional/intensity/{from}/{to}/
    regionid|postcode/..`` with ``regional``) for any number of requests, shaped as the real
    API answers: every half-hour whose END lies in ``[from, to]`` (so the one ending at
    ``{from}`` too), national items with ``actual`` (= ``value``) and a forecast 10 above it,
    regional ones forecast only (= ``value``) in the ``{"data": {region..., "data": [...]}}``
    wrapper. ``value`` returning None leaves that half-hour out (a hole). Each request's URL is
    appended to ``requests`` if given."""

    def answer(url: URL, **kwargs: Any) -> CallbackResult:
        if requests is not None:
            requests.append(url)
        match = re.search(r"/intensity/([^/]+)/([^/]+)", url.path)
        assert match is not None
        start, end = (
            datetime.strptime(text, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
            for text in match.groups()
        )
        items = []
        slot = start - timedelta(minutes=30)
        while slot + timedelta(minutes=30) <= end:
            figure = value(slot)
            if figure is not None:
                intensity: dict[str, Any] = (
                    {"forecast": figure, "index": "moderate"}
                    if regional
                    else {"forecast": figure + 10, "actual": figure, "index": "moderate"}
                )
                items.append(
                    {
                        "from": slot.strftime("%Y-%m-%dT%H:%MZ"),
                        "to": (slot + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%MZ"),
                        "intensity": intensity,
                    }
                )
            slot += timedelta(minutes=30)
        if regional:
            return CallbackResult(payload={"data": {"regionid": 11, "data": items}})
        return CallbackResult(payload={"data": items})

    mocked.get(REGIONAL_RANGE if regional else NATIONAL_RANGE, callback=answer, repeat=True)
