"""No identifier in any log line: account number, MPAN, MPRN, meter serials, the Hoymiles
e-mail, the Aretas MAC, the API key and passwords stay out of the logs, at every level.

Octopus, Hoymiles and Aretas entries are set up against the in-process sandbox with DEBUG
logging on; every vendor then fails for a while (HTTP 500) and recovers, so the failure and
recovery lines are written too.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import logging
import re

from aiohttp.test_utils import TestClient, TestServer
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_hub.api.http import loggable_url
from custom_components.energy_hub.const import DOMAIN
from sandbox import create_app
import sandbox.aretas as sb_aretas
import sandbox.hoymiles as sb_hoymiles
import sandbox.octopus as sb_octopus

type Sandbox = TestClient  # type: ignore[type-arg]

RECORDER = "homeassistant.components.recorder"
STATISTIC_ID = re.compile(r"energy_hub:[a-z0-9_]+")
START = datetime(2026, 6, 10, 11, 5, tzinfo=UTC)
IDENTIFIERS = {
    "Octopus account number": sb_octopus.ACCOUNT_NUMBER,
    "Octopus API key": sb_octopus.API_KEY,
    "import MPAN": sb_octopus.IMPORT_MPAN,
    "import serial": sb_octopus.IMPORT_SERIAL,
    "export MPAN": sb_octopus.EXPORT_MPAN,
    "export serial": sb_octopus.EXPORT_SERIAL,
    "gas MPRN": sb_octopus.GAS_MPRN,
    "gas serial": sb_octopus.GAS_SERIAL,
    "Hoymiles e-mail": sb_hoymiles.DEMO_USER,
    "Hoymiles password": sb_hoymiles.PASSWORD,
    "Aretas MAC": str(sb_aretas.BESS_MAC),
    "Aretas user": sb_aretas.USERNAME,
    "Aretas password": sb_aretas.PASSWORD,
}


@pytest.fixture
async def vendors(
    socket_enabled: None, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Sandbox]:
    """The sandbox on loopback, following Home Assistant's clock."""
    freezer.move_to(START)
    async with TestClient(
        TestServer(create_app(clock=dt_util.utcnow), host="127.0.0.1", access_log=None)
    ) as client:
        monkeypatch.setenv("ENERGY_HUB_SANDBOX_URL", str(client.make_url("")).rstrip("/"))
        yield client


def _entries() -> list[MockConfigEntry]:
    """The three accounts as their flows create them (titles included)."""
    return [
        MockConfigEntry(
            domain=DOMAIN,
            title=sb_octopus.ACCOUNT_NUMBER,
            unique_id=f"octopus_{sb_octopus.ACCOUNT_NUMBER.lower()}",
            data={
                "source": "octopus",
                "api_key": sb_octopus.API_KEY,
                "account_number": sb_octopus.ACCOUNT_NUMBER,
            },
            options={"backfill_days": 1, "gas_calorific_value": 39.5, "gas_meter_unit": "m3"},
        ),
        MockConfigEntry(
            domain=DOMAIN,
            title=f"Hoymiles {sb_hoymiles.DEMO_USER}",
            unique_id=f"hoymiles_{sb_hoymiles.DEMO_USER}",
            data={
                "source": "hoymiles",
                "username": sb_hoymiles.DEMO_USER,
                "password": sb_hoymiles.PASSWORD,
            },
            options={"plants": ["1001"], "scan_interval": 5, "history_days": 1},
        ),
        MockConfigEntry(
            domain=DOMAIN,
            title=sb_aretas.DEVICES[sb_aretas.BESS_MAC],
            unique_id=f"aretas_{sb_aretas.BESS_MAC}",
            data={
                "source": "aretas",
                "username": sb_aretas.USERNAME,
                "password": sb_aretas.PASSWORD,
                "mac": sb_aretas.BESS_MAC,
                "name": sb_aretas.DEVICES[sb_aretas.BESS_MAC],
            },
            options={"history_days": 1},
        ),
    ]


async def _advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, step: timedelta) -> None:
    freezer.tick(step)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_no_identifier_in_any_log_line(
    hass: HomeAssistant,
    vendors: Sandbox,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Setup, updates, a failure of every vendor and the recovery, all at DEBUG: no log record
    (message, arguments or traceback) names an account, meter, person or device."""
    caplog.set_level(logging.DEBUG)
    entries = _entries()
    for entry in entries:
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert entry.state is ConfigEntryState.LOADED, entry.domain
    await _advance(hass, freezer, timedelta(minutes=10))

    for vendor in ("octopus", "hoymiles", "aretas"):
        await vendors.put(f"/_admin/faults/{vendor}", json={"fault": "http_500"})
    failed_before = len(caplog.records)
    # Octopus asks for new rates and readings in the afternoon; the batteries and the plants
    # every few minutes: every entry's update fails at least once.
    await _advance(hass, freezer, timedelta(hours=5))
    for _ in range(6):
        await _advance(hass, freezer, timedelta(minutes=10))
    await vendors.delete("/_admin/faults")
    for _ in range(12):  # and two hours to recover
        await _advance(hass, freezer, timedelta(minutes=10))

    # Home Assistant's recorder logs, at DEBUG, every statistics task with its metadata (the
    # stored statistic names and ids, as it logs every state): data it stores, not log lines
    # of Energy Hub; the other records are all checked.
    records = [r for r in caplog.records if not r.name.startswith(RECORDER)]
    messages = [record.getMessage() for record in records]
    tracebacks = [logging.Formatter().formatException(r.exc_info) for r in records if r.exc_info]
    text = "\n".join([*messages, *tracebacks])
    # Known limitation: statistic ids (energy_hub:octopus_<MPAN>_import_energy) carry the
    # meter's or device's number, and Home Assistant's recorder logs them at DEBUG itself;
    # they are stored ids that cannot change without a migration. Only they may carry one.
    text = STATISTIC_ID.sub("<statistic>", text)
    leaks = {name for name, value in IDENTIFIERS.items() if value.lower() in text.lower()}
    assert not leaks, [
        line
        for line in text.splitlines()
        if any(IDENTIFIERS[name].lower() in line.lower() for name in leaks)
    ][:10]

    # The run did exercise what the test is about: requests logged at DEBUG (redacted),
    # and the failures logged.
    requests = [m for m in messages if m.startswith(("GET ", "POST "))]
    assert any("/v1/electricity-meter-points/*/meters/*/consumption/" in m for m in requests)
    assert any("/sensordata/byrange?..." in m for m in requests)
    failures = [
        record.getMessage()
        for record in caplog.records[failed_before:]
        if record.levelno >= logging.ERROR and "Error fetching" in record.getMessage()
    ]
    for source in ("octopus", "hoymiles", "aretas"):
        assert any(source in message for message in failures), source


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        (
            "https://api.octopus.energy/v1/electricity-meter-points/1900000000001/meters/"
            "21L1234567/consumption/?period_from=2026-06-09T00:00Z&page_size=25000",
            "https://api.octopus.energy/v1/electricity-meter-points/*/meters/*/consumption/?...",
        ),
        (
            "https://api.octopus.energy/v1/accounts/A-1B2C3D4E/",
            "https://api.octopus.energy/v1/accounts/*/",
        ),
        (
            "https://api.octopus.energy/v1/gas-meter-points/3000000001/meters/G4A00123456/consumption/",
            "https://api.octopus.energy/v1/gas-meter-points/*/meters/*/consumption/",
        ),
        (
            "https://iot.aretas.ca/rest/sensordata/byrange?mac=1000000101&begin=1&end=2",
            "https://iot.aretas.ca/rest/sensordata/byrange?...",
        ),
        (
            "https://api.carbonintensity.org.uk/intensity/2026-06-10T11:00Z/fw48h",
            "https://api.carbonintensity.org.uk/intensity/2026-06-10T11:00Z/fw48h",
        ),
        (
            "https://neapi.hoymiles.com/pvm/api/0/station/select_by_page",
            "https://neapi.hoymiles.com/pvm/api/0/station/select_by_page",
        ),
        (
            "https://user:secret@mirror.example.test/x/me@example.test",
            "https://mirror.example.test/x/*",
        ),
        (
            "https://api.example.test/sites/3f2504e0-4f89-11d3-9a0c-0305e82c3301/status",
            "https://api.example.test/sites/*/status",
        ),
    ],
)
def test_loggable_url(url: str, logged: str) -> None:
    """Identifier-looking path segments become *, queries and user information go."""
    assert loggable_url(url) == logged
