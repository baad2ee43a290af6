"""The coordinator's own log lines name no account: an Octopus outage against the sandbox."""

from datetime import UTC, datetime, timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest

import sandbox.octopus as sb

from .conftest import Sandbox, advance, setup_integration
from .entries import octopus_entry

START = datetime(2026, 6, 10, 11, 5, tzinfo=UTC)


async def test_failing_octopus_logs_no_account_number(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The entry is titled with the account number (as the flow does); the warnings and
    errors of a day-long outage (updates and history) name the entry by source and id."""
    entry = await setup_integration(hass, octopus_entry(days=2))
    assert entry.state is ConfigEntryState.LOADED
    caplog.clear()

    await sandbox.put("/_admin/faults/octopus", json={"fault": "http_500"})
    when = START
    for _ in range(48):  # a day, every half hour
        when += timedelta(minutes=30)
        await advance(hass, freezer, when)

    ours = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.energy_hub") and r.levelno >= logging.WARNING
    ]
    lines = [r.getMessage() for r in ours]
    assert any(line.startswith("Error fetching octopus ") for line in lines)  # logged ...
    for line in lines:
        assert sb.ACCOUNT_NUMBER.lower() not in line.lower(), line  # ... with no account
    assert f"Error fetching octopus {entry.entry_id} data" in "\n".join(lines)
