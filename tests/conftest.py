"""Fixtures shared by the Energy Hub tests."""

from collections.abc import Generator
import json
import logging
from pathlib import Path
import re
from typing import Any
from unittest.mock import PropertyMock, patch

from aioresponses import aioresponses
import pytest

from custom_components.energy_hub.const import DOMAIN

FIXTURES = Path(__file__).parent / "fixtures"

# The harness logs every SQL statement of the test recorder at INFO; that drowns the output.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
# The in-process sandbox's access log cannot format times while the clock is frozen.
logging.getLogger("aiohttp.access").disabled = True
CI_URL = "https://api.carbonintensity.org.uk"

#: Tests that write long-term statistics; scripts/test runs them on SQLite and PostgreSQL
#: (``-m both_databases --dburl postgresql://...``): whole files, and elsewhere by name.
BOTH_DATABASES_FILES = {
    "test_statistics.py",
    "test_statistics_races.py",
    "test_statistics_year.py",
    "test_history.py",
}
BOTH_DATABASES_NAMES = re.compile(r"restart|statistic|backfill")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of tests run on every recorder database."""
    config.addinivalue_line(
        "markers", "both_databases: statistics test, run on SQLite and on PostgreSQL"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the statistics tests that scripts/test runs on PostgreSQL too."""
    for item in items:
        if {"sandbox", "api"} & set(item.path.parts):
            continue
        if item.path.name in BOTH_DATABASES_FILES or BOTH_DATABASES_NAMES.search(item.name):
            item.add_marker(pytest.mark.both_databases)


def database_name(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: the recorder database this run uses (``--dburl``)."""
    url = str(request.config.getoption("dburl"))
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def load_json(name: str) -> Any:
    """A JSON fixture from tests/fixtures."""
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(autouse=True)
def _home_assistant(request: pytest.FixtureRequest) -> None:
    """Every Home Assistant test gets an in-memory recorder and our custom integration.

    The recorder must be set up before ``hass``, so it is requested here, first. The sandbox's
    own tests and the API clients' tests do not need Home Assistant.
    """
    if {"sandbox", "api"} & set(request.node.path.parts):
        return
    request.getfixturevalue("recorder_mock")
    request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default as enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def mock_api() -> Generator[aioresponses]:
    """Vendor HTTP mocked with aioresponses; loopback (the sandbox) passes through."""
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        yield mocked


def url_re(base: str, path_pattern: str) -> re.Pattern[str]:
    """A URL pattern for aioresponses: the base URL, then a path regular expression."""
    return re.compile(re.escape(base) + path_pattern + r"(\?.*)?$")


def request_count(mocked: aioresponses) -> int:
    """How many requests aioresponses has seen."""
    return sum(len(calls) for calls in mocked.requests.values())


__all__ = ["CI_URL", "DOMAIN", "load_json", "request_count", "url_re"]
