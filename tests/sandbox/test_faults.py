"""Faults, request counting and the admin API of the sandbox, and `python -m sandbox`."""

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
import pytest

from sandbox import STATE_KEY, FaultKind, ManualClock, SandboxState, create_app
from sandbox.__main__ import is_loopback, main

from .conftest import CI, NOW

type Client = TestClient[web.Request, web.Application]

VENDOR = "carbon_intensity"


async def set_fault(client: Client, fault: str, **extra: Any) -> dict[str, Any]:
    response = await client.put(f"/_admin/faults/{VENDOR}", json={"fault": fault, **extra})
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_health(client: Client) -> None:
    response = await client.get("/_admin/health")
    assert response.status == 200
    assert await response.json() == {"ok": True}


@pytest.mark.parametrize(
    ("fault", "status", "content_type"),
    [
        ("http_500", 500, "application/json"),
        ("html_502", 502, "text/html"),
        ("rate_limit", 429, "application/json"),
        ("malformed_json", 200, "application/json"),
        ("bad_auth", 401, "application/json"),
    ],
)
async def test_fault_applies_to_every_vendor_request(
    client: Client, fault: str, status: int, content_type: str
) -> None:
    assert await set_fault(client, fault) == {"vendor": VENDOR, "fault": fault, "retry_after": 60}
    for path in ("/intensity", "/regional/postcode/BS16", "/no/such/path"):
        response = await client.get(CI + path)
        assert response.status == status
        assert response.content_type == content_type
    # never to the admin API
    assert (await client.get("/_admin/health")).status == 200

    response = await client.delete(f"/_admin/faults/{VENDOR}")
    assert await response.json() == {"vendor": VENDOR, "cleared": True}
    assert (await client.get(f"{CI}/intensity")).status == 200


async def test_fault_bodies(client: Client) -> None:
    await set_fault(client, "http_500")
    body = await (await client.get(f"{CI}/intensity")).json()
    assert body["error"]["code"] == "500 Internal Server Error"
    assert body["error"]["message"]

    await set_fault(client, "html_502")
    text = await (await client.get(f"{CI}/intensity")).text()
    assert text == "<html><body><h1>502 Bad Gateway</h1></body></html>"

    await set_fault(client, "bad_auth")
    body = await (await client.get(f"{CI}/intensity")).json()
    assert body["error"]["code"] == "401 Unauthorized"

    await set_fault(client, "malformed_json")
    response = await client.get(f"{CI}/intensity")
    assert await response.text() == '{"data": [{"from": '
    with pytest.raises(ValueError):  # the client's JSON decoding fails
        await response.json()


async def test_rate_limit_sends_retry_after(client: Client) -> None:
    await set_fault(client, "rate_limit")
    response = await client.get(f"{CI}/intensity")
    assert response.headers["Retry-After"] == "60"
    body = await response.json()
    assert body["error"]["code"] == "429 Too Many Requests"

    assert (await set_fault(client, "rate_limit", retry_after=120))["retry_after"] == 120
    response = await client.get(f"{CI}/intensity")
    assert response.status == 429
    assert response.headers["Retry-After"] == "120"


async def test_hang_holds_requests_until_cleared(
    client: Client, sandbox_state: SandboxState
) -> None:
    await set_fault(client, "hang")
    async with asyncio.timeout(5):
        first = asyncio.create_task(client.get(f"{CI}/intensity"))
        second = asyncio.create_task(client.get(f"{CI}/generation"))
        await sandbox_state.faults.wait_hanging(VENDOR, 2)
        assert not first.done()
        assert not second.done()

        # the server still answers everything else
        assert (await client.get("/_admin/health")).status == 200
        listed = await (await client.get("/_admin/faults")).json()
        assert listed == {VENDOR: {"fault": "hang", "retry_after": 60, "hanging": 2}}

        await client.delete(f"/_admin/faults/{VENDOR}")
        for task in (first, second):
            response = await task
            assert response.status == 503
            body = await response.json()
            assert body["error"]["code"] == "503 Service Unavailable"
    assert sandbox_state.faults.hanging(VENDOR) == 0
    assert (await client.get(f"{CI}/intensity")).status == 200


async def test_replacing_hang_releases_requests(
    client: Client, sandbox_state: SandboxState
) -> None:
    await set_fault(client, "hang")
    async with asyncio.timeout(5):
        held = asyncio.create_task(client.get(f"{CI}/intensity"))
        await sandbox_state.faults.wait_hanging(VENDOR)
        await set_fault(client, "hang")  # same fault again: still held
        assert not held.done()
        await set_fault(client, "http_500")
        assert (await held).status == 503
        assert (await client.get(f"{CI}/intensity")).status == 500


async def test_shutdown_releases_hung_requests() -> None:
    app = create_app(clock=ManualClock(NOW))
    server = TestServer(app, host="127.0.0.1")
    async with TestClient(server) as client, asyncio.timeout(5):
        await set_fault(client, "hang")
        held = asyncio.create_task(client.get(f"{CI}/intensity"))
        await app[STATE_KEY].faults.wait_hanging(VENDOR)
        await server.close()
        assert (await held).status == 503


async def test_admin_fault_errors(client: Client) -> None:
    response = await client.put(f"/_admin/faults/{VENDOR}", json={"fault": "meltdown"})
    assert response.status == 400
    body = await response.json()
    assert body["error"]["code"] == "400 Bad Request"
    assert "meltdown" in body["error"]["message"]
    for kind in FaultKind:
        assert kind.value in body["error"]["message"]

    bad_bodies: list[Any] = [
        {},
        ["hang"],
        {"fault": "rate_limit", "retry_after": -1},
        {"fault": "rate_limit", "retry_after": "soon"},
        {"fault": "rate_limit", "retry_after": True},
    ]
    for bad in bad_bodies:
        response = await client.put(f"/_admin/faults/{VENDOR}", json=bad)
        assert response.status == 400, bad
    response = await client.put(f"/_admin/faults/{VENDOR}", data=b"{not json")
    assert response.status == 400

    response = await client.put("/_admin/faults/nobody", json={"fault": "hang"})
    assert response.status == 404
    assert (await client.delete("/_admin/faults/nobody")).status == 404
    assert await (await client.get("/_admin/faults")).json() == {}


async def test_admin_fault_listing(client: Client) -> None:
    assert await (await client.get("/_admin/faults")).json() == {}
    response = await client.put("/_admin/faults/carbon-intensity", json={"fault": "bad_auth"})
    assert response.status == 200  # the prefix spelling works too
    listed = await (await client.get("/_admin/faults")).json()
    assert listed == {VENDOR: {"fault": "bad_auth", "retry_after": 60, "hanging": 0}}
    assert await (await client.delete("/_admin/faults")).json() == {}
    response = await client.delete(f"/_admin/faults/{VENDOR}")
    assert await response.json() == {"vendor": VENDOR, "cleared": False}


async def _counts(response: Any) -> dict[str, Any]:
    """Every mounted vendor is listed; these tests look at Carbon Intensity's counts."""
    body: dict[str, Any] = await response.json()
    assert set(body) >= {VENDOR}
    assert all(other == VENDOR or body[other]["total"] == 0 for other in body)
    return {VENDOR: body[VENDOR]}


async def test_request_counting(client: Client) -> None:
    empty = {VENDOR: {"total": 0, "paths": {}}}
    assert await _counts(await client.get("/_admin/requests")) == empty

    await client.get(f"{CI}/intensity")
    await client.get(f"{CI}/intensity")
    await client.get(f"{CI}/intensity/2026-11-23T18:00Z/fw48h")
    await client.get(f"{CI}/regional/postcode/ZZ9")
    await set_fault(client, "http_500")
    await client.get(f"{CI}/generation")  # faulted: still counted
    await client.get("/_admin/health")  # admin: never counted

    counts = await _counts(await client.get("/_admin/requests"))
    assert counts == {
        VENDOR: {
            "total": 5,
            "paths": {
                "/generation": 1,
                "/intensity": 2,
                "/intensity/2026-11-23T18:00Z/fw48h": 1,
                "/regional/postcode/ZZ9": 1,
            },
        }
    }
    assert await _counts(await client.delete("/_admin/requests")) == empty
    assert await _counts(await client.get("/_admin/requests")) == empty


# --- python -m sandbox ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_main_refuses_other_hosts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--host", "0.0.0.0"])
    assert exit_info.value.code == 2
    assert "loopback" in capsys.readouterr().err


def test_main_prints_the_url_and_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run_app(app: web.Application, **kwargs: Any) -> None:
        assert STATE_KEY in app
        calls.append(kwargs)

    monkeypatch.setattr(web, "run_app", fake_run_app)
    assert main(["--port", "9999"]) == 0
    assert capsys.readouterr().out == "Sandbox listening on http://127.0.0.1:9999\n"
    assert calls == [{"host": "127.0.0.1", "port": 9999, "print": None, "shutdown_timeout": 5}]
