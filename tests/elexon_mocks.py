"""Elexon BMRS entries and HTTP mocks shared by the tests.

The fixtures describe Wednesday 15 January 2025 at 17:52:30 UTC (GMT): FUELINST up to the
17:45-17:50 interval (settlement period 36), demand outturn and prices for period 35
(17:00-17:30), which Elexon has published by 17:45.
"""

from collections import Counter
from collections.abc import Container
from typing import Any

from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.energy_hub.const import DOMAIN

from .conftest import load_json, setup_integration, url_re

ELEXON_URL = "https://data.elexon.co.uk/bmrs/api/v1"
NOW = "2025-01-15T17:52:30+00:00"

FUELINST = url_re(ELEXON_URL, r"/datasets/FUELINST")
INDO = url_re(ELEXON_URL, r"/datasets/INDO")
SYSTEM_PRICES = url_re(ELEXON_URL, r"/balancing/settlement/system-prices/[0-9-]+/[0-9]+")
MARKET_INDEX = url_re(ELEXON_URL, r"/balancing/pricing/market-index")
CURRENT = url_re(ELEXON_URL, r"/generation/outturn/current")

#: Dataset name by request path prefix, for counting requests per dataset.
DATASETS = {
    "/bmrs/api/v1/datasets/FUELINST": "FUELINST",
    "/bmrs/api/v1/datasets/INDO": "INDO",
    "/bmrs/api/v1/balancing/settlement/system-prices/": "system_prices",
    "/bmrs/api/v1/balancing/pricing/market-index": "market_index",
    "/bmrs/api/v1/generation/outturn/current": "current",
}


def elexon_entry(**options: bool) -> MockConfigEntry:
    """The entry as the flow creates it; options override the defaults (all groups on)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Elexon BMRS",
        unique_id="elexon",
        data={"source": "elexon"},
        options={
            "generation_sensors": True,
            "interconnector_sensors": True,
            "price_sensors": True,
            **options,
        },
    )


async def setup_elexon(
    hass: HomeAssistant, mocked: aioresponses, freezer: FrozenDateTimeFactory, **options: bool
) -> MockConfigEntry:
    """The entry set up at the fixtures' time (``NOW``), every dataset mocked."""
    freezer.move_to(NOW)
    mock_elexon(mocked)
    return await setup_integration(hass, elexon_entry(**options))


def mock_elexon(
    mocked: aioresponses,
    *,
    fuelinst: Any = None,
    base: str = ELEXON_URL,
    skip: Container[str] = (),
) -> None:
    """Every dataset the source asks for, for any number of requests (except those in ``skip``)."""
    payloads = {
        "FUELINST": (
            r"/datasets/FUELINST",
            fuelinst if fuelinst is not None else load_json("elexon/fuelinst.json"),
        ),
        "INDO": (r"/datasets/INDO", load_json("elexon/indo.json")),
        "system_prices": (
            r"/balancing/settlement/system-prices/[0-9-]+/[0-9]+",
            load_json("elexon/system_prices.json"),
        ),
        "market_index": (r"/balancing/pricing/market-index", load_json("elexon/market_index.json")),
        "current": (
            r"/generation/outturn/current",
            load_json("elexon/generation_outturn_current.json"),
        ),
    }
    for name, (path, payload) in payloads.items():
        if name not in skip:
            mocked.get(url_re(base, path), payload=payload, repeat=True)


def requests_by_dataset(mocked: aioresponses) -> Counter[str]:
    """How many requests aioresponses has seen, per dataset."""
    counts: Counter[str] = Counter()
    for (_, url), calls in mocked.requests.items():
        path = URL(str(url)).path
        name = next((name for prefix, name in DATASETS.items() if path.startswith(prefix)), path)
        counts[name] += len(calls)
    return counts


def requested_urls(mocked: aioresponses) -> list[URL]:
    """Every URL requested (with its query), in no particular order."""
    return [URL(str(url)) for (_, url), calls in mocked.requests.items() for _ in calls]
