"""XOLTA's official API client at the HTTP level: the client-credentials token (scope and
authority as XOLTA's sample client has them), device status parsing, commands."""

from datetime import UTC, datetime
from typing import Any

import aiohttp
from aioresponses import aioresponses
import pytest
from yarl import URL

from custom_components.energy_hub.api.errors import ApiAuthError
from custom_components.energy_hub.api.xolta_official import (
    DEFAULT_AUTHORITY_URL,
    DEFAULT_BASE_URL,
    XoltaCommandRefusedError,
    XoltaOfficialClient,
)
from tests.conftest import url_re

TOKEN_URL = (
    "https://login.microsoftonline.com/145c2c43-a8da-46ab-b5da-1d4de444ed82/oauth2/v2.0/token"
)
STATUS_URL = "https://external.xolta.com/api/deviceStatus"
COMMAND_URL = "https://external.xolta.com/api/SendStateModeCommand"
T0 = 1_782_216_000.0  # 2026-06-23 12:00 UTC
RECORD = {
    "deviceId": "XB-1",
    "siteId": "site-1",
    "siteName": "Home",
    "state": "Running",
    "mode": "ExternalControl",
    "setPoint": {"batteryActivePower": -2.5},
    "inverterRatedActivePower": 6.0,
    "bmsSocRawArrayCloudTrimmed": 42.25,
    "inverterActivePower": -2.5,
    "meterPvActivePower": -0.004,
    "meterGridActivePower": 2.9,
    "utcTime": "2026-06-23T12:00:00Z",
}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _requests(mocked: aioresponses, method: str, url: str) -> list[Any]:
    return list(mocked.requests.get((method, URL(url)), []))


def test_defaults_are_xoltas() -> None:
    """The base URL and authority of XOLTA's sample client."""
    assert DEFAULT_BASE_URL == "https://external.xolta.com/api"
    assert f"{DEFAULT_AUTHORITY_URL}/oauth2/v2.0/token" == TOKEN_URL


async def test_token_status_and_cache() -> None:
    """One token (client credentials, XOLTA's scope) reused until shortly before it expires;
    the status parsed to W with Energy Hub's signs (PV noise clamped); a minute's cache,
    bypassed for a command's confirmation."""
    clock = Clock()
    async with aiohttp.ClientSession() as session:
        client = XoltaOfficialClient(session, "cid", "secret", clock=clock)
        with aioresponses() as mocked:
            mocked.post(TOKEN_URL, payload={"access_token": "t1", "expires_in": 3599}, repeat=True)
            mocked.get(STATUS_URL, payload=[RECORD, {"siteId": "no device id"}], repeat=True)
            (device,) = await client.devices()
            assert device.device_id == "XB-1"
            assert device.site_id == "site-1"
            assert device.mode == "ExternalControl"
            assert device.setpoint_w == -2500
            assert device.rated_power_w == 6000
            assert device.status.soc_percent == 42.25
            assert device.status.battery_power_w == -2500
            assert device.status.pv_power_w == 0
            assert device.status.grid_power_w == 2900
            assert device.status.load_power_w is None  # not in the official status
            assert device.status.measured_at == datetime(2026, 6, 23, 12, tzinfo=UTC)
            (token,) = _requests(mocked, "POST", TOKEN_URL)
            assert token.kwargs["data"] == {
                "grant_type": "client_credentials",
                "client_id": "cid",
                "client_secret": "secret",
                "scope": "https://Xolta.onmicrosoft.com/TelemetryAPI/.default",
            }
            (status,) = _requests(mocked, "GET", STATUS_URL)
            assert status.kwargs["headers"]["Authorization"] == "Bearer t1"
            clock.now += 59
            await client.devices()
            assert len(_requests(mocked, "GET", STATUS_URL)) == 1
            await client.devices(fresh=True)
            assert len(_requests(mocked, "GET", STATUS_URL)) == 2
            clock.now += 3599 - 59 - 299  # within 5 minutes of the expiry: a new token
            await client.devices(fresh=True)
            assert len(_requests(mocked, "POST", TOKEN_URL)) == 2
            assert [s.site_id for s in await client.sites()] == ["site-1"]


async def test_wrong_secret_and_expired_token() -> None:
    """AAD's 400/401 to the token request is an auth error; a 401 from the API gets a new
    token and one retry."""
    async with aiohttp.ClientSession() as session:
        client = XoltaOfficialClient(session, "cid", "wrong", clock=Clock())
        with aioresponses() as mocked:
            mocked.post(TOKEN_URL, status=401, payload={"error": "invalid_client"})
            with pytest.raises(ApiAuthError):
                await client.devices()
            mocked.post(TOKEN_URL, status=400, payload={"error": "unauthorized_client"})
            with pytest.raises(ApiAuthError):
                await client.devices()
        client = XoltaOfficialClient(session, "cid", "secret", clock=Clock())
        with aioresponses() as mocked:
            mocked.post(TOKEN_URL, payload={"access_token": "t1", "expires_in": 3600})
            mocked.post(TOKEN_URL, payload={"access_token": "t2", "expires_in": 3600})
            mocked.get(STATUS_URL, status=401)
            mocked.get(STATUS_URL, payload={"data": [RECORD]})
            (device,) = await client.devices()
            assert device.site_id == "site-1"
            calls = _requests(mocked, "GET", STATUS_URL)
            assert [c.kwargs["headers"]["Authorization"] for c in calls] == [
                "Bearer t1",
                "Bearer t2",
            ]


async def test_commands_as_xoltas_sample_client_sends_them() -> None:
    """``{"DeviceId", "CommandName", "Payload"}``; external control with a setpoint in kW at
    a UTC time; a 409 or ``success: false`` is a refusal."""
    async with aiohttp.ClientSession() as session:
        client = XoltaOfficialClient(session, "cid", "secret", clock=Clock())
        with aioresponses() as mocked:
            mocked.post(TOKEN_URL, payload={"access_token": "t1", "expires_in": 3600})
            mocked.post(COMMAND_URL, payload={"success": True})
            mocked.post(COMMAND_URL, payload={"success": True})
            mocked.post(COMMAND_URL, status=409, payload={"title": "busy"})
            mocked.post(COMMAND_URL, payload={"success": False})
            await client.send_command("XB-1", "GoToState_Idling")
            await client.external_control("XB-1", -2500, datetime(2026, 6, 23, 12, tzinfo=UTC))
            with pytest.raises(XoltaCommandRefusedError):
                await client.send_command("XB-1", "GoToMode_SelfConsumption")
            with pytest.raises(XoltaCommandRefusedError):
                await client.send_command("XB-1", "GoToMode_SelfConsumption")
            bodies = [c.kwargs["json"] for c in _requests(mocked, "POST", COMMAND_URL)]
            assert bodies[:2] == [
                {"DeviceId": "XB-1", "CommandName": "GoToState_Idling", "Payload": ""},
                {
                    "DeviceId": "XB-1",
                    "CommandName": "GoToMode_ExternalControl",
                    "Payload": {
                        "setPoint": {
                            "1": {"utcTime": "2026-06-23T12:00:00Z", "batteryActivePower": -2.5}
                        }
                    },
                },
            ]
            assert client.commands_sent == 4


async def test_summaries_by_device_and_site() -> None:
    """GetDataSummary on the official API names the device and the site."""
    async with aiohttp.ClientSession() as session:
        client = XoltaOfficialClient(session, "cid", "secret", clock=Clock())
        with aioresponses() as mocked:
            mocked.post(TOKEN_URL, payload={"access_token": "t1", "expires_in": 3600})
            mocked.get(STATUS_URL, payload=[RECORD])
            summary = url_re(DEFAULT_BASE_URL, "/GetDataSummary")
            bucket = {
                "utcEndTime": "2026-06-23T11:10:00Z",
                "meterPvActivePowerAggAvgSiteSingle": 1.2,
                "meterGridActivePowerAggAvgSiteSingle": -0.6,
                "inverterActivePowerAggAvgSiteSum": -0.6,
                "bmsSocRawArrayCloudTrimmedAggAvgSiteAvg": 40.0,
                "calculatedConsumption": 0.0,
            }
            mocked.get(summary, payload={"telemetry": [bucket]})
            start = datetime(2026, 6, 23, 11, tzinfo=UTC)
            (interval,) = await client.interval_summaries(
                "site-1", start, start.replace(minute=10), 10
            )
            assert interval.battery_charge_kwh == pytest.approx(0.1)
            ((_, url), calls), *_ = [
                item for item in mocked.requests.items() if item[0][1].path.endswith("Summary")
            ]
            assert url.query["DeviceId"] == "XB-1"
            assert url.query["SiteId"] == "site-1"
            assert url.query["fromDateTime"] == "2026-06-23T11:00:00Z"
            assert len(calls) == 1
