"""No identifier in any log line: account number, MPAN, MPRN, meter serials, the Hoymiles
e-mail, the Aretas MAC, the API key and passwords stay out of the logs, at every level.

Octopus, Hoymiles and Aretas entries are set up against the in-process sandbox with DEBUG
logging on; every vendor then fails for a while (HTTP 500) and recovers, so the failure and
recovery lines are written too.
"""

from datetime import UTC, datetime, timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_hub.api.http import loggable_url
import sandbox.aretas as sb_aretas
import sandbox.hoymiles as sb_hoymiles
import sandbox.octopus as sb_octopus

from .conftest import Sandbox, setup_integration
from .entries import aretas_entry, hoymiles_entry, octopus_entry

RECORDER = "homeassistant.components.recorder"
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


def _entries() -> list[MockConfigEntry]:
    """The three accounts as their flows create them (titles included)."""
    return [octopus_entry(days=1), hoymiles_entry(["1001"]), aretas_entry(max_gap=None)]


async def _advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, step: timedelta) -> None:
    freezer.tick(step)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_no_identifier_in_any_log_line(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Setup, updates, a failure of every vendor and the recovery, all at DEBUG: no log record
    (message, arguments or traceback) names an account, meter, person or device."""
    caplog.set_level(logging.DEBUG)
    entries = _entries()
    for entry in entries:
        await setup_integration(hass, entry)
        assert entry.state is ConfigEntryState.LOADED, entry.domain
    await _advance(hass, freezer, timedelta(minutes=10))

    for vendor in ("octopus", "hoymiles", "aretas"):
        await sandbox.put(f"/_admin/faults/{vendor}", json={"fault": "http_500"})
    failed_before = len(caplog.records)
    # Octopus asks for new rates and readings in the afternoon; the batteries and the plants
    # every few minutes: every entry's update fails at least once.
    await _advance(hass, freezer, timedelta(hours=5))
    for _ in range(6):
        await _advance(hass, freezer, timedelta(minutes=10))
    await sandbox.delete("/_admin/faults")
    for _ in range(12):  # and two hours to recover
        await _advance(hass, freezer, timedelta(minutes=10))

    # Home Assistant's recorder logs, at DEBUG, every statistics task with its metadata (the
    # stored statistic names and ids, as it logs every state): data it stores, not log lines
    # of Energy Hub; the other records are all checked.
    records = [r for r in caplog.records if not r.name.startswith(RECORDER)]
    messages = [record.getMessage() for record in records]
    tracebacks = [logging.Formatter().formatException(r.exc_info) for r in records if r.exc_info]
    text = "\n".join([*messages, *tracebacks])
    # Statistic ids (energy_hub:octopus_<MPAN>_import_energy) carry the meter's or device's
    # number; Energy Hub logs them with the number replaced (the recorder's own DEBUG lines,
    # left out above, still show them).
    assert any("Statistics energy_hub:octopus_*_import_energy" in m for m in messages)
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
