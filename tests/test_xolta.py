"""XOLTA through Home Assistant, against the in-process sandbox.

The sandbox's clock is Home Assistant's frozen clock; `sandbox.xolta.interval_energy` says
exactly what flowed, so the counters and statistics are checked against it.
"""

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_hub.api.xolta import XoltaClient, XoltaInterval
from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.sources.base import FlowStep
from custom_components.energy_hub.sources.xolta import COUNTERS, XoltaSource, xolta_urls
import sandbox.xolta as sb

from .conftest import Sandbox, advance, sandbox_requests, setup_integration, start_flow
from .entries import xolta_entry as entry

HOUR = timedelta(hours=1)
SITE = "sandbox-house"
USER = "demo@xolta.example"
PREFIX = "sensor.xolta_sandbox_house"


TRUTH = {
    "battery_charged_energy": "battery_charge_kwh",
    "battery_discharged_energy": "battery_discharge_kwh",
    "pv_energy": "pv_kwh",
    "grid_import_energy": "grid_import_kwh",
    "grid_export_energy": "grid_export_kwh",
    "house_energy": "load_kwh",
}
ENTITY = {
    "battery_charged_energy": "battery_energy_charged",
    "battery_discharged_energy": "battery_energy_discharged",
    "pv_energy": "pv_energy",
    "grid_import_energy": "grid_energy_imported",
    "grid_export_energy": "grid_energy_exported",
    "house_energy": "house_energy_consumed",
}


@pytest.fixture
def start() -> datetime:
    """Frozen time at the start of a test: a day with an upload outage (13:30-14:30)."""
    return datetime(2026, 6, 6, 0, 3, tzinfo=UTC)


def _state(sandbox: Sandbox) -> sb.XoltaSandbox:
    return sb.sandbox_of(sandbox.server.app)


async def _paths(sandbox: Sandbox) -> dict[str, int]:
    return dict((await sandbox_requests(sandbox, "xolta"))["paths"])


def _value(hass: HomeAssistant, name: str) -> float:
    return float(hass.states.get(f"{PREFIX}_{name}").state)


def _source(config: MockConfigEntry) -> XoltaSource:
    source = config.runtime_data.source
    assert isinstance(source, XoltaSource)
    return source


# --- config flow ------------------------------------------------------------------------------


async def test_flow_one_site_errors_and_success(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Missing password, wrong password, outage; then one site: the entry at once."""
    flow_id = await start_flow(hass, "xolta")

    async def submit(password: str | None, advanced: dict[str, str] | None = None) -> Any:
        data: dict[str, Any] = {"username": USER, "advanced": advanced or {}}
        if password is not None:
            data["password"] = password
        return await hass.config_entries.flow.async_configure(flow_id, data)

    result = await submit(None)
    assert result["errors"] == {"password": "password_or_token"}
    result = await submit("wrong")
    assert result["errors"] == {"base": "invalid_credentials"}
    await sandbox.put("/_admin/faults/xolta", json={"fault": "http_500"})
    result = await submit("xolta-sandbox")
    assert result["errors"] == {"base": "cannot_connect"}
    await sandbox.delete("/_admin/faults/xolta")
    with patch("custom_components.energy_hub.async_setup_entry", return_value=True):
        result = await submit("xolta-sandbox")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Sandbox house"
    assert result["data"] == {
        "source": "xolta",
        "username": USER,
        "password": "xolta-sandbox",
        "site_id": SITE,
        "site_name": "Sandbox house",
    }
    assert result["options"] == {"history_days": 7}
    flow_id = await start_flow(hass, "xolta")
    result = await submit("xolta-sandbox")
    assert result["reason"] == "xolta_already_configured"


async def test_flow_several_sites_and_refresh_token(
    hass: HomeAssistant, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sites: the site step; a pasted refresh token instead of the password works."""
    base, authority = xolta_urls({})
    client = XoltaClient(
        async_get_clientsession(hass),
        "two.sites@xolta.example",
        "xolta-sandbox",
        base_url=base,
        authority_url=authority,
    )
    await client.login()
    token = client.refresh_token
    assert token
    flow_id = await start_flow(hass, "xolta")
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {"username": "two.sites@xolta.example", "advanced": {"refresh_token": f" {token} "}},
    )
    assert result["step_id"] == "xolta_site"
    with patch("custom_components.energy_hub.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"site_id": "sandbox-cottage"}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Sandbox cottage"
    assert result["data"]["refresh_token"] == token
    assert "password" not in result["data"]
    assert XoltaSource.flow_form("xolta_site", None).schema is not None
    state: dict[str, Any] = {"sites": {"a": "A"}, "data": {}}
    with pytest.raises(Exception, match="site_not_found"):
        await XoltaSource.async_flow_submit(
            FlowStep(
                hass=hass,
                session=None,  # type: ignore[arg-type]
                step_id="xolta_site",
                user_input={"site_id": "b"},
                state=state,
            )
        )


async def test_revoked_token_reauth_and_reconfigure(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """Password changed and sessions revoked: reauth; the new password brings it back."""
    config = await setup_integration(hass, entry())
    emulator = _state(sandbox)
    emulator.set_password(USER, "new-password")
    emulator.revoke_refresh_tokens()
    await advance(hass, freezer, start + timedelta(minutes=58))  # access token renewal
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["step_id"] for f in flows] == ["reauth_confirm"]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["errors"] == {"password": "password_or_token"}
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"password": "wrong"}
    )
    assert result["errors"] == {"base": "invalid_credentials"}
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"password": "new-password"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert config.data["password"] == "new-password"
    assert config.state is ConfigEntryState.LOADED

    result = await config.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"password": "new-password"}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_expired_refresh_token_silent_relogin(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """The login session ends (24 h, shortened here): a new login, no reauth."""
    config = await setup_integration(hass, entry())
    emulator = _state(sandbox)
    logins = emulator.logins
    emulator.revoke_refresh_tokens()  # as when the session's fixed lifetime ends
    await advance(hass, freezer, start + timedelta(minutes=58))
    assert emulator.logins == logins + 1
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert config.state is ConfigEntryState.LOADED
    assert hass.states.get(f"{PREFIX}_battery_power").state != STATE_UNAVAILABLE


async def test_refresh_token_only_revoked_starts_reauth(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """Without a password, a revoked refresh token can only be fixed by the user."""
    base, authority = xolta_urls({})
    client = XoltaClient(
        async_get_clientsession(hass), USER, "xolta-sandbox", base_url=base, authority_url=authority
    )
    await client.login()
    config = entry(refresh_token=client.refresh_token, password=None)
    await setup_integration(hass, config)
    assert config.state is ConfigEntryState.LOADED
    _state(sandbox).revoke_refresh_tokens()
    await advance(hass, freezer, start + timedelta(minutes=58))
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["step_id"] for f in flows] == ["reauth_confirm"]


# --- entities and counters ----------------------------------------------------------------


async def test_live_values_and_unavailable_when_offline(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """Powers in W with Energy Hub's signs; unavailable (not 0) while the site is offline."""
    await setup_integration(hass, entry())
    minute = sb.minute_power(SITE, start.replace(second=0) - timedelta(minutes=1))
    assert _value(hass, "battery_power") == minute.battery_w
    assert _value(hass, "pv_power") == minute.pv_w
    assert _value(hass, "grid_power") == minute.grid_w
    assert _value(hass, "house_consumption") == minute.load_w
    assert _value(hass, "battery_state_of_charge") == round(minute.soc_percent, 1)
    soc = hass.states.get(f"{PREFIX}_battery_state_of_charge")
    assert soc.attributes["unit_of_measurement"] == "%"
    assert hass.states.get(f"{PREFIX}_battery_power").attributes["unit_of_measurement"] == "W"
    energy = hass.states.get(f"{PREFIX}_battery_energy_charged")
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["unit_of_measurement"] == "kWh"
    ((outage, _),) = sb.offline_windows(SITE, start.date())
    await advance(hass, freezer, outage + timedelta(minutes=5))
    for name in ("battery_power", "pv_power", "grid_power", "battery_state_of_charge"):
        assert hass.states.get(f"{PREFIX}_{name}").state == STATE_UNAVAILABLE
    assert hass.states.get(f"{PREFIX}_battery_energy_charged").state != STATE_UNAVAILABLE


async def test_odd_values_make_entities_unavailable(
    hass: HomeAssistant, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nulls, junk strings and missing fields: unavailable, never 0; numeric strings read."""
    monkeypatch.setattr(
        sb,
        "status_record",
        lambda site, now: {
            "state": "Running",
            "bmsSocRawArrayCloudTrimmedAggAvg": "55.5",
            "inverterActivePowerAggAvg": None,
            "meterPvActivePowerAggAvg": "n/a",
            "consumption": 1.25,
        },
    )
    await setup_integration(hass, entry())
    assert _value(hass, "battery_state_of_charge") == 55.5
    assert _value(hass, "house_consumption") == 1250
    for name in ("battery_power", "pv_power", "grid_power"):
        assert hass.states.get(f"{PREFIX}_{name}").state == STATE_UNAVAILABLE


async def test_counters_day_accuracy_restart_and_budget(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """A day minute by minute with a restart in the middle of a counting interval: every
    counter within 0.5 % of what flowed, no interval twice or missed; requests counted."""
    config = await setup_integration(hass, entry())
    counting_from = _source(config).counted_until
    assert counting_from == start.replace(minute=0)
    await sandbox.delete("/_admin/requests")
    restart_at = start + timedelta(hours=9, minutes=10)  # 09:13, mid-interval
    minute = start
    while minute < start + timedelta(hours=24):
        # Minute by minute for the first hour (the request budget), then faster.
        minute += timedelta(minutes=1 if minute < start + HOUR else 10)
        await advance(hass, freezer, minute)
        if minute == start + HOUR:
            paths = await _paths(sandbox)
            # Status once a minute, summaries every 10 minutes (history comes at 01:05),
            # the access token renewed once an hour: about 1,600 requests a day.
            assert paths["/api/siteStatus"] == 60
            assert paths["/api/GetDataSummary"] == 6
            assert sum(paths.values()) == 60 + 6 + 1
        if minute == restart_at:
            before = dict(_source(config).counters)
            assert await hass.config_entries.async_unload(config.entry_id)
            await advance(hass, freezer, minute + timedelta(minutes=20))  # HA is down
            minute += timedelta(minutes=20)
            logins = _state(sandbox).logins
            assert await hass.config_entries.async_setup(config.entry_id)
            await hass.async_block_till_done(wait_background_tasks=True)
            # The persisted refresh token was used: no new sign-in.
            assert _state(sandbox).logins == logins
            after = _source(config).counters
            assert all(after[key] >= before[key] for key in COUNTERS)
    source = _source(config)
    assert counting_from is not None and source.counted_until is not None
    truth = sb.interval_energy(SITE, counting_from, source.counted_until, online_only=True)
    for key in COUNTERS:
        expected = getattr(truth, TRUTH[key])
        assert source.counters[key] == pytest.approx(expected, rel=0.005, abs=1e-3), key
        assert _value(hass, ENTITY[key]) == pytest.approx(source.counters[key], abs=1e-5)


async def test_history_statistics_exact(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """The last N days as hourly external statistics at their true times, equal to what
    the sandbox's buckets hold and to the ground truth; later runs ask only for new hours."""
    config = await setup_integration(hass, entry(days=2))
    calls: list[tuple[datetime, datetime]] = []
    real = XoltaClient.interval_summaries

    async def spy(self: XoltaClient, site: str, since: datetime, end: datetime, *a: Any) -> Any:
        calls.append((since, end))
        return await real(self, site, since, end, *a)

    with patch.object(XoltaClient, "interval_summaries", spy):
        await advance(hass, freezer, start.replace(minute=5) + HOUR)
    history = [(since, end) for since, end in calls if end.minute == 0 and since.minute == 0]
    assert history[-1] == (start.replace(minute=0), start.replace(minute=0) + HOUR)
    # The rewrite window is written again from what is held (48 hours), none asked twice.
    assert config.runtime_data.history_written["energy_hub:xolta_sandbox_house_pv_energy"] == 48
    await async_wait_recording_done(hass)
    first = start.replace(minute=0) - timedelta(days=2)
    end = start.replace(minute=0)
    for key in COUNTERS:
        stat = f"energy_hub:xolta_sandbox_house_{key}"
        rows = await get_instance(hass).async_add_executor_job(
            statistics_during_period, hass, first, end, {stat}, "hour", None, {"state", "sum"}
        )
        hours = {datetime.fromtimestamp(r["start"], UTC): r for r in rows[stat]}
        assert list(hours) == [first + i * HOUR for i in range(48)]
        total = 0.0
        for hour, row in hours.items():
            truth = getattr(
                sb.interval_energy(SITE, hour, hour + HOUR, online_only=True), TRUTH[key]
            )
            assert row["state"] == pytest.approx(truth, abs=1e-6), (key, hour)
            total += row["state"]
            assert row["sum"] == pytest.approx(total, abs=1e-5)


async def test_options_diagnostics_and_removal(
    hass: HomeAssistant, sandbox: Sandbox, hass_storage: dict[str, Any]
) -> None:
    """Options are clamped; the persisted state goes with the entry."""
    assert XoltaSource.validate_options({"history_days": 200}) == {"history_days": 90}
    assert XoltaSource.options_schema() is not None
    config = await setup_integration(hass, entry())
    source = _source(config)
    diagnostics = source.diagnostics(config.runtime_data.data)
    assert diagnostics["state"] == "Running"
    assert diagnostics["logins"] == 1
    assert await hass.config_entries.async_unload(config.entry_id)
    key = f"energy_hub.{config.entry_id}"
    assert hass_storage[key]["data"]["counted_until"] == "2026-06-06T00:00:00+00:00"
    source.restore({"counters": {"pv_energy": "x"}, "counted_until": "2026-06-06T00:00:00"})
    assert source.counted_until is None
    assert await hass.config_entries.async_remove(config.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


def test_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """XOLTA's own hosts by default; any other base holds both the sign-in and the API."""
    monkeypatch.delenv("ENERGY_HUB_SANDBOX_URL", raising=False)
    monkeypatch.delenv("ENERGY_HUB_XOLTA_URL", raising=False)
    base, authority = xolta_urls({})
    assert base.startswith("https://xoltarmcluster2")
    assert authority.startswith("https://xolta.b2clogin.com/")
    base, authority = xolta_urls({"advanced": {"base_url": "http://test/x/"}})
    assert (base, authority) == ("http://test/x/api", f"http://test/x/b2c/{sb.TENANT_ID}")
    source = XoltaSource(None, entry().data, {})  # type: ignore[arg-type]
    assert source.request_count == 0


async def test_empty_summaries_are_not_yet_counters_lose_nothing(
    hass: HomeAssistant, sandbox: Sandbox, freezer: FrozenDateTimeFactory, start: datetime
) -> None:
    """Forty minutes of empty GetDataSummary answers around midday (11:00-11:40): the
    counters wait for those buckets instead of passing over them, and at the end of the day
    equal the sandbox's ground truth to the Wh; no extra requests."""
    config = await setup_integration(hass, entry())
    source = _source(config)
    counting_from = source.counted_until
    assert counting_from == start.replace(minute=0)
    await sandbox.delete("/_admin/requests")
    emulator = _state(sandbox)
    empty_from = start.replace(hour=11, minute=0)
    empty_until = empty_from + timedelta(minutes=40)
    held: dict[str, float] = {}
    minute = start
    while minute < start + timedelta(hours=24):
        minute += timedelta(minutes=10)
        emulator.empty_summaries = empty_from <= minute < empty_until
        await advance(hass, freezer, minute)
        if minute == empty_from + timedelta(minutes=3):
            held = dict(source.counters)
            assert source.counted_until == empty_from - timedelta(minutes=10)
        if empty_from < minute < empty_until:
            # Nothing counted past what XOLTA has not answered yet.
            assert source.counted_until == empty_from - timedelta(minutes=10)
            assert source.counters == held
    assert source.counted_until == start.replace(minute=0) + timedelta(hours=24)
    truth = sb.interval_energy(SITE, counting_from, source.counted_until, online_only=True)
    for key in COUNTERS:
        expected = getattr(truth, TRUTH[key])
        assert source.counters[key] == pytest.approx(expected, abs=1e-3), key
        assert _value(hass, ENTITY[key]) == pytest.approx(expected, abs=1e-3), key
    paths = await _paths(sandbox)
    # A count every 10 minutes (the empty ones asked again at the next, as always), and the
    # hourly history from 01:05 to 23:05: the empty answers cost no extra request.
    assert paths["/api/GetDataSummary"] == 144 + 23


async def test_counting_stops_before_buckets_not_returned_yet() -> None:
    """At the counting level: buckets after the last one returned are never passed over,
    however old; a bucket missing between returned ones is asked for again while it is
    recent (30 minutes), then is a gap."""
    source = XoltaSource(None, entry().data, {"history_days": 1})  # type: ignore[arg-type]
    noon = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)
    answers: list[list[XoltaInterval]] = []
    asked: list[tuple[datetime, datetime]] = []

    class Stub:
        async def interval_summaries(
            self, site: str, since: datetime, end: datetime, resolution: int
        ) -> list[XoltaInterval]:
            asked.append((since, end))
            return answers.pop(0)

    def minutes(first: int, last: int, skip: tuple[int, ...] = ()) -> list[XoltaInterval]:
        """One-minute buckets of 600 W PV ending first..last minutes after 11:00."""
        return [
            XoltaInterval(
                end=noon - HOUR + timedelta(minutes=m),
                duration=timedelta(minutes=1),
                pv_power_w=600.0,
                grid_power_w=0.0,
                battery_power_w=0.0,
                load_power_w=600.0,
                soc_percent=50.0,
            )
            for m in range(first, last + 1)
            if m not in skip
        ]

    source.client = Stub()  # type: ignore[assignment]
    source.counted_until = noon - HOUR
    answers.append([])  # empty: nothing counted, however old 11:00-11:50 is
    await source._count(noon + timedelta(minutes=2))
    assert (source.counted_until, source.counters["pv_energy"]) == (noon - HOUR, 0.0)
    answers.append(minutes(1, 20))  # only up to 11:20 (the old code jumped to 11:40)
    await source._count(noon + timedelta(minutes=12))
    assert source.counted_until == noon - timedelta(minutes=40)
    assert source.counters["pv_energy"] == pytest.approx(0.2)
    # 11:25 missing, 35 minutes old: a gap; 11:55 missing, 25 minutes old: asked again.
    answers.append(minutes(21, 80, skip=(25, 55)))
    await source._count(noon + timedelta(minutes=22))
    assert source.counted_until == noon - timedelta(minutes=6)
    assert source.counters["pv_energy"] == pytest.approx(0.2 + 33 * 0.01)
    answers.append(minutes(55, 90))
    await source._count(noon + timedelta(minutes=32))
    assert source.counted_until == noon + timedelta(minutes=30)
    assert source.counters["pv_energy"] == pytest.approx(0.2 + 33 * 0.01 + 36 * 0.01)
    assert [since for since, _ in asked] == [
        noon - HOUR,
        noon - HOUR,
        noon - timedelta(minutes=40),
        noon - timedelta(minutes=6),
    ]
