"""The sandbox's XOLTA official API: client-credentials tokens, device status, commands and
a battery that follows them on the sandbox's clock."""

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox import ManualClock
import sandbox.xolta as house
import sandbox.xolta_official as sbo

X = "/xolta"
TOKEN = f"{X}/login/{sbo.TENANT_ID}/oauth2/v2.0/token"
STATUS = f"{X}/external/api/deviceStatus"
COMMAND = f"{X}/external/api/SendStateModeCommand"
SUMMARY = f"{X}/external/api/GetDataSummary"
NIGHT = datetime(2026, 6, 6, 0, 3, tzinfo=UTC)
SITE = "sandbox-house"
DEVICE = sbo.device_id(SITE)

type Client = TestClient[web.Request, web.Application]


async def _token(client: Client, secret: str = "sandbox-secret", **form: str) -> Any:
    data = {
        "grant_type": "client_credentials",
        "client_id": "sandbox-client",
        "client_secret": secret,
        "scope": sbo.SCOPE,
        **form,
    }
    response = await client.post(TOKEN, data=data)
    return response.status, await response.json()


async def _headers(client: Client) -> dict[str, str]:
    _, body = await _token(client)
    return {"Authorization": f"Bearer {body['access_token']}"}


async def _command(
    client: Client, headers: dict[str, str], name: str, kw: float | None = None
) -> Any:
    payload: Any = ""
    if kw is not None:
        payload = {"setPoint": {"1": {"utcTime": "2026-06-06T00:03:00Z", "batteryActivePower": kw}}}
    response = await client.post(
        COMMAND, json={"DeviceId": DEVICE, "CommandName": name, "Payload": payload}, headers=headers
    )
    return response.status


async def _status(client: Client, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(STATUS, headers=headers)
    assert response.status == 200
    (record,) = await response.json()
    return dict(record)


async def test_token_errors(client: Client) -> None:
    """Wrong secret: 401 invalid_client; another scope: 400; an unknown client: 400."""
    status, body = await _token(client, "wrong")
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = await _token(client, scope="https://graph.microsoft.com/.default")
    assert (status, body["error"]) == (400, "invalid_scope")
    status, body = await _token(client, client_id="nobody")
    assert (status, body["error"]) == (400, "unauthorized_client")
    status, body = await _token(client)
    assert status == 200
    assert body["expires_in"] == 3600
    response = await client.get(STATUS, headers={"Authorization": "Bearer nope"})
    assert response.status == 401


async def test_untouched_battery_follows_the_house_model(
    client: Client, clock: ManualClock
) -> None:
    """Before any command the status is the house model's (no house consumption figure)."""
    clock.set(NIGHT)
    record = await _status(client, await _headers(client))
    minute = house.minute_power(SITE, NIGHT)
    assert record["deviceId"] == DEVICE
    assert record["siteId"] == SITE
    assert record["state"] == "Running"
    assert record["mode"] == "SelfConsumption"
    assert record["setPoint"] is None
    assert record["bmsSocRawArrayCloudTrimmed"] == round(house.soc_percent(SITE, NIGHT), 2)
    assert record["inverterActivePower"] == minute.battery_w / 1000
    assert record["meterGridActivePower"] == minute.grid_w / 1000
    assert "meterConsumptionActivePower" not in record


async def test_external_control_charges_to_full_then_stops(
    client: Client, clock: ManualClock, sandbox_app: web.Application
) -> None:
    """5 kW of charge: 5,000 W x 30 min = 25 % in half an hour; full at 100 %, then no
    power; grid = load - pv - battery."""
    clock.set(NIGHT)
    headers = await _headers(client)
    soc0 = house.soc_percent(SITE, NIGHT)
    assert await _command(client, headers, "GoToMode_ExternalControl", -5.0) == 200
    clock.advance(timedelta(minutes=30))
    record = await _status(client, headers)
    assert record["mode"] == "ExternalControl"
    assert record["setPoint"] == {"batteryActivePower": -5.0}
    assert record["bmsSocRawArrayCloudTrimmed"] == round(soc0 + 25, 2)
    assert record["inverterActivePower"] == -5.0
    minute = house.minute_power(SITE, clock())
    assert record["meterGridActivePower"] == (minute.load_w - minute.pv_w + 5000) / 1000
    clock.advance(timedelta(hours=3))
    headers = await _headers(client)  # the token lived an hour
    record = await _status(client, headers)
    assert record["bmsSocRawArrayCloudTrimmed"] == 100
    assert record["inverterActivePower"] == 0
    assert sbo.official_of(sandbox_app).battery(SITE).stored_wmin == sbo.CAPACITY_WMIN


async def test_idle_keeps_the_charge_and_running_resumes(
    client: Client, clock: ManualClock
) -> None:
    """Idling: no power for 59 minutes, the charge kept; running again under external control
    discharges at the setpoint (1.2 kW for 10 minutes: 2 %)."""
    clock.set(NIGHT)
    headers = await _headers(client)
    soc0 = house.soc_percent(SITE, NIGHT)
    assert await _command(client, headers, "GoToState_Idling") == 200
    clock.advance(timedelta(minutes=59))
    record = await _status(client, headers)
    assert record["state"] == "Idling"
    assert record["inverterActivePower"] == 0
    assert record["bmsSocRawArrayCloudTrimmed"] == round(soc0, 2)
    assert await _command(client, headers, "GoToState_Running") == 200
    assert await _command(client, headers, "GoToMode_ExternalControl", 1.2) == 200
    clock.advance(timedelta(minutes=10))
    record = await _status(client, await _headers(client))
    assert record["bmsSocRawArrayCloudTrimmed"] == round(soc0 - 2, 2)


async def test_self_consumption_after_a_command_covers_the_house(
    client: Client, clock: ManualClock
) -> None:
    """Back in self-consumption the battery covers the night's load minute by minute."""
    clock.set(NIGHT)
    headers = await _headers(client)
    stored = house.soc_percent(SITE, NIGHT) / 100 * sbo.CAPACITY_WMIN
    assert await _command(client, headers, "GoToState_Idling") == 200
    assert await _command(client, headers, "GoToState_Running") == 200
    clock.advance(timedelta(minutes=5))
    for offset in range(5):  # 00:03 to 00:08, whole minutes: the house's deficit each
        minute = house.minute_power(SITE, NIGHT + timedelta(minutes=offset))
        want = minute.load_w - minute.pv_w
        stored -= want if abs(want) >= sbo.DEAD_BAND_W else 0
    record = await _status(client, headers)
    assert record["bmsSocRawArrayCloudTrimmed"] == round(stored / sbo.CAPACITY_WMIN * 100, 2)


async def test_command_faults_and_refusals(
    client: Client, clock: ManualClock, sandbox_app: web.Application
) -> None:
    """Unknown command and a missing setpoint: 400; another client's device: 404;
    `refuse_commands`: 409; `ignore_commands`: 200 but nothing changes; the shared faults
    apply too."""
    clock.set(NIGHT)
    headers = await _headers(client)
    official = sbo.official_of(sandbox_app)
    assert await _command(client, headers, "GoToMode_Turbo") == 400
    assert await _command(client, headers, "GoToMode_ExternalControl") == 400
    response = await client.post(
        COMMAND, json={"DeviceId": "XB-COTTAGE", "CommandName": "GoToState_Idling"}, headers=headers
    )
    assert response.status == 404
    official.refuse_commands = True
    assert await _command(client, headers, "GoToState_Idling") == 409
    official.refuse_commands = False
    official.ignore_commands = True
    assert await _command(client, headers, "GoToState_Idling") == 200
    assert (await _status(client, headers))["state"] == "Running"
    assert official.battery(SITE).since is None
    assert len(official.commands) == 5
    await client.put("/_admin/faults/xolta", json={"fault": "http_500"})
    assert (await client.get(STATUS, headers=headers)).status == 500


async def test_summary_needs_the_clients_device(client: Client, clock: ManualClock) -> None:
    """GetDataSummary by DeviceId and SiteId: the App API's buckets; another device: 404."""
    clock.set(NIGHT)
    headers = await _headers(client)
    query = {
        "DeviceId": DEVICE,
        "SiteId": SITE,
        "fromDateTime": "2026-06-05T23:00:00Z",
        "toDateTime": "2026-06-06T00:00:00Z",
        "resolutionMin": "10",
        "CalculateConsumptionNeeded": "true",
    }
    response = await client.get(SUMMARY, params=query, headers=headers)
    body = await response.json()
    assert len(body["telemetry"]) == 6
    assert body["telemetry"][0] == house.summary_record(
        SITE, datetime(2026, 6, 5, 23, 10, tzinfo=UTC), 10, True
    )
    response = await client.get(SUMMARY, params={**query, "DeviceId": "XB-X"}, headers=headers)
    assert response.status == 404
