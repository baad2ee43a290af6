"""Octopus under the faults real accounts meet, through Home Assistant against the sandbox.

- A tariff whose rates Octopus does not publish (HTTP 404, real for some tracker and export
  products) costs only what depends on it, is asked again hours apart, raises one repair issue,
  and its meter's money statistics catch up exactly once the rates appear.
- An account answer that lists no property for a moment keeps the known meters.
- An API key pasted with the trailing colon of ``curl -u KEY:`` never crashes the flow.
"""

from datetime import UTC, datetime, timedelta
import itertools
import json
from pathlib import Path
import re
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest

from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.sources.octopus import ISSUE_KEY
import sandbox.octopus as sb

from .conftest import Sandbox, advance, sandbox_requests, setup_integration, start_flow
from .entries import OCTOPUS_ENTRY_ID as ENTRY_ID, octopus_entry as entry
from .test_octopus import (
    EXPORT,
    HALF,
    HOUR,
    IMPORT,
    START,  # noqa: F401  (when the sandbox starts: conftest's start fixture reads it)
    _cost_hour,
    _hours,
    _requests,
    _truth_hour,
    _uk_midnight,
)

FLUX = sb.tariff_code("FLUX-EXPORT-23-02-14")
FLUX_RATES = f"/v1/products/FLUX-EXPORT-23-02-14/electricity-tariffs/{FLUX}/standard-unit-rates/"
UNPUBLISHED = "/_admin/octopus/unpublished-tariffs"
EXPORT_RATE = "sensor.octopus_electricity_export_0002_current_rate"
IMPORT_RATE = "sensor.octopus_electricity_import_0001_current_rate"
#: The repair issue id: the entry's id, then the issue's key.
ISSUE = f"{ENTRY_ID}_tariff_not_published_{FLUX}"


async def _paths(sandbox: Sandbox) -> dict[str, int]:
    return dict((await sandbox_requests(sandbox, "octopus"))["paths"])


async def test_unpublished_tariff_costs_only_its_meter_and_fills_in_later(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    start: datetime,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Flux export rates answer 404 from before setup until the next morning.

    The entry loads; the export meter's rate sensors are unavailable, its energy statistics
    are written, its compensation is not (no zero rows); the import meter is untouched. The
    tariff is asked again every 6 hours, not at every update; one repair issue names it.
    Once published: rates come back at the next retry, the issue goes, and the next history
    run writes every skipped compensation hour, exact, with a continuous sum.
    """
    assert start == datetime(2026, 6, 10, 11, 5, tzinfo=UTC)
    assert sb.tariff_code_at(EXPORT, start) == FLUX
    await sandbox.put(f"{UNPUBLISHED}/{FLUX}")
    config = await setup_integration(hass, entry(days=10))
    assert config.state is ConfigEntryState.LOADED

    assert hass.states.get(EXPORT_RATE).state == "unavailable"
    assert hass.states.get("sensor.octopus_electricity_export_0002_next_rate").state == (
        "unavailable"
    )
    assert hass.states.get("sensor.octopus_electricity_export_0002_tariff").state == FLUX
    import_rate = sb.unit_rate(sb.tariff_code_at(IMPORT, start), start.replace(minute=0))
    assert float(hass.states.get(IMPORT_RATE).state) == round(import_rate / 100, 6)

    issue = issue_registry.async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.is_fixable is False
    assert issue.translation_key == "tariff_not_published"
    assert issue.translation_placeholders == {
        "tariff": FLUX,
        "meter": "electricity export",
        "hours": "6",
    }
    assert [i for i in issue_registry.issues if i[0] == DOMAIN] == [(DOMAIN, ISSUE)]

    day = _uk_midnight(start - timedelta(days=1))
    first = start - timedelta(days=11)
    exported = await _hours(hass, f"octopus_{EXPORT}_export_energy", day, day + 24 * HOUR)
    assert [v[0] for v in exported.values()] == pytest.approx(
        [_truth_hour(EXPORT, day + i * HOUR) for i in range(24)], abs=1e-6
    )
    paid_key = f"octopus_{EXPORT}_export_compensation"
    assert await _hours(hass, paid_key, first, start) == {}
    cost = await _hours(hass, f"octopus_{IMPORT}_import_cost", day, day + 24 * HOUR)
    assert len(cost) == 24
    assert (await _paths(sandbox))[FLUX_RATES] == 1  # setup's update; history did not ask

    # Hours apart: the Agile prices at 16:00 UK and every update before 17:05 leave it alone.
    for when in (start + timedelta(hours=2), start + timedelta(hours=5, minutes=59)):
        await advance(hass, freezer, when)
    assert (await _paths(sandbox))[FLUX_RATES] == 1
    await advance(hass, freezer, start + timedelta(hours=6, minutes=1))
    assert (await _paths(sandbox))[FLUX_RATES] == 2
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None

    # The night's history run, still unpublished: a new day of energy, still no money.
    await advance(hass, freezer, start + timedelta(hours=12, minutes=1))  # retry: 404
    night = _uk_midnight(start + timedelta(days=1)) + timedelta(minutes=31)
    await advance(hass, freezer, night)
    assert (await _paths(sandbox))[FLUX_RATES] == 3
    today = _uk_midnight(start)
    exported = await _hours(hass, f"octopus_{EXPORT}_export_energy", today, today + 24 * HOUR)
    assert len(exported) == 24
    assert await _hours(hass, paid_key, first, night) == {}

    # Published again: the next retry brings the rates and removes the issue.
    await sandbox.delete(f"{UNPUBLISHED}/{FLUX}")
    await advance(hass, freezer, start + timedelta(hours=18, minutes=1))
    assert (await _paths(sandbox))[FLUX_RATES] == 4
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
    now = start + timedelta(hours=18, minutes=1)
    slot = now.replace(minute=0)
    assert float(hass.states.get(EXPORT_RATE).state) == round(sb.unit_rate(FLUX, slot) / 100, 6)

    # The next history run writes every compensation hour skipped, from the horizon.
    second = _uk_midnight(start + timedelta(days=2)) + timedelta(minutes=31)
    await advance(hass, freezer, second)
    horizon = (second - timedelta(days=10)).replace(minute=0)
    end = _uk_midnight(start + timedelta(days=2))  # consumption is published a day late
    paid = await _hours(hass, paid_key, first, second)
    hours = [horizon + i * HOUR for i in range(int((end - horizon) / HOUR))]
    assert list(paid) == hours
    for hour in hours:
        assert paid[hour][0] == pytest.approx(_cost_hour(EXPORT, hour), abs=1e-6)
    assert paid[hours[0]][1] == pytest.approx(paid[hours[0]][0], abs=1e-6)
    for (_, (_, before)), (_, (state, total)) in itertools.pairwise(paid.items()):
        assert total == pytest.approx(before + state, abs=1e-6)
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None


async def test_repair_issues_belong_to_their_entry(
    hass: HomeAssistant,
    sandbox: Sandbox,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The entry's issues are the source's: an issue left from before a restart that the
    source no longer reports goes at the first update, another entry's stays, and deleting
    the entry removes its own."""
    stale = f"{ENTRY_ID}_tariff_not_published_GONE-TARIFF"
    other = "01OTHERENTRY0000000000000_tariff_not_published_X"
    for issue_id in (stale, other):
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="tariff_not_published",
            translation_placeholders={"tariff": "X", "meter": "gas", "hours": "6"},
        )
    await sandbox.put(f"{UNPUBLISHED}/{FLUX}")
    config = await setup_integration(hass, entry())
    ours = sorted(i[1] for i in issue_registry.issues if i[0] == DOMAIN)
    assert ours == sorted([ISSUE, other])
    assert await hass.config_entries.async_remove(config.entry_id)
    await hass.async_block_till_done()
    assert [i[1] for i in issue_registry.issues if i[0] == DOMAIN] == [other]


async def _run(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, now: datetime, end: datetime
) -> None:
    """Every half hour from ``now`` to ``end``, at :01 and :31 (updates, ticks, history)."""
    when = now.replace(minute=1) + HALF
    while when <= end:
        await advance(hass, freezer, when)
        when += HALF


async def test_cost_gap_in_the_middle_is_filled_with_the_stored_sum(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    start: datetime,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Compensation was written; then the export tariff stops being published: the day whose
    rates were never fetched gets energy but no money, and money stops there (no row after a
    gap). Once published again, the next history run resumes money from where it stopped
    (earlier than energy) and lands that day exactly, the sum continuous across old and new
    rows. The 404 is asked about every 6 hours, never more often."""
    await setup_integration(hass, entry(days=10))
    paid_key = f"octopus_{EXPORT}_export_compensation"
    energy_key = f"octopus_{EXPORT}_export_energy"
    first = start - timedelta(days=11)
    before = await _hours(hass, paid_key, first, start)
    await sandbox.put(f"{UNPUBLISHED}/{FLUX}")
    await sandbox.delete("/_admin/requests")

    # Rates held at setup reach the end of 11 June (UK): the 12th is never fetched.
    gap = _uk_midnight(start + timedelta(days=2))
    stopped = gap + timedelta(days=1, minutes=31)  # after the history run of the 12th
    await _run(hass, freezer, start, stopped)
    paid = await _hours(hass, paid_key, first, stopped)
    energy = await _hours(hass, energy_key, gap, stopped)
    # Money stops at the first unpriced hour: the held Flux row of the 11th runs 19:00-02:00
    # UK, so 00:00-02:00 UK on the 12th are still priced; from 02:00 UK nothing is.
    assert max(paid) == gap + HOUR
    assert len(energy) == 24  # energy of that day is written
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    # 404s: from 16:00 UK on the 11th (when the 12th's rates are due), then every 6 hours.
    due = gap - timedelta(hours=8)
    assert (await _paths(sandbox))[FLUX_RATES] == 1 + int((stopped - due) / timedelta(hours=6))
    assert await _requests(sandbox) <= 30 * (stopped - start) / timedelta(days=1)

    await sandbox.delete(f"{UNPUBLISHED}/{FLUX}")
    filled = gap + timedelta(days=2, minutes=31)  # the retry, then the next history run
    await _run(hass, freezer, stopped, filled)
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
    paid = await _hours(hass, paid_key, first, filled)
    hours = [gap + i * HOUR for i in range(24)]
    assert set(hours) <= set(paid)
    for hour in hours:
        assert paid[hour][0] == pytest.approx(_cost_hour(EXPORT, hour), abs=1e-6)
    rows = sorted(paid.items())
    assert rows[0] == sorted(before.items())[0]
    expected = [before.get(h, paid[h])[0] for h, _ in rows]
    assert [state for _, (state, _) in rows] == pytest.approx(expected, abs=1e-9)
    for (_, (_, prev_sum)), (_, (state, total)) in itertools.pairwise(rows):
        assert total == pytest.approx(prev_sum + state, abs=1e-6)
    assert list(paid) == [rows[0][0] + i * HOUR for i in range(len(rows))]


async def test_404_for_an_old_span_keeps_current_rates_and_no_busy_timer(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    start: datetime,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A rebuild asks for days of a tariff no longer published while today's rates are held:
    the current rates stay, the issue is raised, money is not rewritten with holes, and once
    the retry is due with nothing in the window to ask for, no timer wakes every minute."""
    config = await setup_integration(hass, entry(days=10))
    paid_key = f"octopus_{EXPORT}_export_compensation"
    before = await _hours(hass, paid_key, start - timedelta(days=11), start)
    await sandbox.put(f"{UNPUBLISHED}/{FLUX}")
    asked = (await _paths(sandbox))[FLUX_RATES]
    await hass.services.async_call(
        DOMAIN,
        "rebuild_statistics",
        {"config_entry_id": config.entry_id, "start": (start - timedelta(days=10)).date()},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert (await _paths(sandbox))[FLUX_RATES] == asked + 1  # the rebuild's 404
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    assert await _hours(hass, paid_key, start - timedelta(days=11), start) == before
    slot = start.replace(minute=0)
    assert float(hass.states.get(EXPORT_RATE).state) == round(sb.unit_rate(FLUX, slot) / 100, 6)
    later = start + timedelta(hours=6, minutes=1)
    await advance(hass, freezer, later)
    await advance(hass, freezer, later + timedelta(minutes=2))
    assert config.runtime_data.update_interval >= timedelta(minutes=30)
    assert (await _paths(sandbox))[FLUX_RATES] == asked + 1


async def test_empty_account_answer_keeps_the_known_meters(
    hass: HomeAssistant,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    start: datetime,
    monkeypatch: pytest.MonkeyPatch,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The 6-hourly account answer lists no property for a moment: every meter's entities and
    devices stay, the account is asked again an hour later (not at every update), and a
    normal answer is taken as usual."""
    config = await setup_integration(hass, entry(days=1))
    real = sb.account_json
    monkeypatch.setattr(
        sb, "account_json", lambda now: {"number": sb.ACCOUNT_NUMBER, "properties": []}
    )
    account = f"/v1/accounts/{sb.ACCOUNT_NUMBER}/"
    await sandbox.delete("/_admin/requests")
    later = start + timedelta(hours=6, minutes=1)
    await advance(hass, freezer, later)
    assert (await _paths(sandbox))[account] == 1
    tariff = sb.tariff_code_at(IMPORT, later)
    rate = round(sb.unit_rate(tariff, later.replace(minute=0)) / 100, 6)
    assert float(hass.states.get(IMPORT_RATE).state) == rate
    assert hass.states.get(EXPORT_RATE).state != "unavailable"
    assert hass.states.get("sensor.octopus_gas_0001_current_rate").state != "unavailable"
    assert len(dr.async_entries_for_config_entry(device_registry, config.entry_id)) == 3
    await advance(hass, freezer, later + timedelta(minutes=59))
    assert (await _paths(sandbox))[account] == 1
    monkeypatch.setattr(sb, "account_json", real)
    await advance(hass, freezer, later + timedelta(hours=1, minutes=1))
    assert (await _paths(sandbox))[account] == 2
    assert float(hass.states.get(IMPORT_RATE).state) == round(
        sb.unit_rate(tariff, later.replace(minute=0) + HOUR) / 100, 6
    )
    assert len(dr.async_entries_for_config_entry(device_registry, config.entry_id)) == 3


@pytest.mark.parametrize(
    ("pasted", "error"),
    [
        (f"{sb.API_KEY}:", None),
        (f" {sb.API_KEY}: ", None),
        (f"{sb.API_KEY}:\n", None),
        (f"{sb.API_KEY}:x", "invalid_api_key"),
        (f":{sb.API_KEY}", "invalid_api_key"),
        ("sk_live sandbox", "invalid_api_key"),
        (":", "invalid_api_key"),
    ],
)
async def test_api_key_with_a_colon(
    hass: HomeAssistant,
    sandbox: Sandbox,
    pasted: str,
    error: str | None,
) -> None:
    """``curl -u KEY:`` pasted whole: the trailing colon (and blanks) are dropped; any other
    colon or blank is refused on the field before any request. Never an HTTP 500."""
    flow_id = await start_flow(hass, "octopus")
    with patch("custom_components.energy_hub.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"api_key": pasted, "account_number": sb.ACCOUNT_NUMBER, "advanced": {}}
        )
    if error is None:
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"]["api_key"] == sb.API_KEY
        assert await _requests(sandbox) == 1
    else:
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"api_key": error}
        assert await _requests(sandbox) == 0


async def test_reauth_key_with_a_colon(
    hass: HomeAssistant,
    sandbox: Sandbox,
) -> None:
    """Reauth and reconfigure take the same care of the key."""
    config = await setup_integration(hass, entry(days=1))
    result: Any = await config.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": "sk_live:sandbox"}
    )
    assert result["errors"] == {"api_key": "invalid_api_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": f"{sb.API_KEY}:"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert config.data["api_key"] == sb.API_KEY
    result = await config.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"api_key": "a:b"})
    assert result["errors"] == {"api_key": "invalid_api_key"}


def test_issue_text_names_the_tariff() -> None:
    """The repair issue has a title and description, with every placeholder the code fills."""
    text = json.loads(
        (Path(__file__).parents[1] / "custom_components/energy_hub/translations/en.json").read_text(
            encoding="utf-8"
        )
    )["issues"][ISSUE_KEY]
    assert "{tariff}" in text["title"]
    assert set(re.findall(r"{(\w+)}", text["description"])) == {"tariff", "meter", "hours"}
