"""The sandbox application: every vendor under its own prefix, plus `/_admin`.

URL layout (vendor key `carbon_intensity` -> prefix `/carbon-intensity`):

    /carbon-intensity/...          the vendor's API, same paths as the real base URL
    GET    /_admin/health          {"ok": true}
    GET    /_admin/faults          {vendor: {"fault", "retry_after", "hanging"}} (active only)
    PUT    /_admin/faults/{vendor} body {"fault": kind, "retry_after": 60} -> the fault set
    DELETE /_admin/faults/{vendor} clear (releases hung requests with 503)
    DELETE /_admin/faults          clear all
    GET    /_admin/requests        {vendor: {"total": N, "paths": {path: n}}}
    DELETE /_admin/requests        reset the counts (returns the zeroed counts)
    /_admin/octopus/unpublished-tariffs[/{tariff}]  GET/PUT/DELETE: a tariff's rates answer 404
"""

from __future__ import annotations

from collections.abc import Sequence
import json
from typing import Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler

from . import aretas, carbon_intensity, elexon, hoymiles, octopus, xolta
from .common import Clock, json_response, status_line, utc_now
from .faults import DEFAULT_RETRY_AFTER, Fault, FaultKind, fault_middleware
from .state import STATE_KEY, MountedVendor, RequestLog, SandboxState, VendorModule

VENDORS: Final[Sequence[VendorModule]] = (
    carbon_intensity,
    elexon,
    octopus,
    xolta,
    aretas,
    hoymiles,
)
"""Every emulated vendor; a new vendor is a module here and one entry in this tuple."""

ADMIN_PREFIX: Final = "/_admin"


def create_app(clock: Clock | None = None) -> web.Application:
    """The sandbox app. `clock` returns an aware datetime (default: the real UTC now)."""
    mounted = {module.VENDOR: MountedVendor.from_module(module) for module in VENDORS}
    state = SandboxState(
        clock=clock or utc_now, vendors=mounted, requests=RequestLog(list(mounted))
    )
    app = web.Application(
        middlewares=[_count_requests, fault_middleware(state.faults, state.vendor_for_path)]
    )
    app[STATE_KEY] = state
    for module in VENDORS:
        subapp = web.Application()
        module.add_routes(subapp, state)
        app.add_subapp(mounted[module.VENDOR].prefix, subapp)
        # A vendor's own fault switches (Octopus: tariffs whose rates answer 404), under /_admin.
        if (add_admin_routes := getattr(module, "add_admin_routes", None)) is not None:
            add_admin_routes(app, state)
    app.router.add_routes(
        [
            web.get(f"{ADMIN_PREFIX}/health", _health),
            web.get(f"{ADMIN_PREFIX}/faults", _list_faults),
            web.delete(f"{ADMIN_PREFIX}/faults", _clear_all_faults),
            web.put(f"{ADMIN_PREFIX}/faults/{{vendor}}", _set_fault),
            web.delete(f"{ADMIN_PREFIX}/faults/{{vendor}}", _clear_fault),
            web.get(f"{ADMIN_PREFIX}/requests", _list_requests),
            web.delete(f"{ADMIN_PREFIX}/requests", _reset_requests),
        ]
    )
    app.on_shutdown.append(_release_hung_requests)
    return app


@web.middleware
async def _count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    vendor = state.vendor_for_path(request.path)
    if vendor is not None:
        state.requests.record(vendor.key, vendor.relative(request.path))
    return await handler(request)


async def _release_hung_requests(app: web.Application) -> None:
    app[STATE_KEY].faults.release_all()


# --- admin -------------------------------------------------------------------------------------


def _admin_error(status: int, message: str) -> web.Response:
    return json_response({"error": {"code": status_line(status), "message": message}}, status)


def _vendor_key(request: web.Request) -> str | None:
    """The vendor named in the path (`carbon_intensity` or `carbon-intensity`), if mounted."""
    key = request.match_info["vendor"].replace("-", "_")
    return key if key in request.app[STATE_KEY].vendors else None


async def _health(request: web.Request) -> web.Response:
    return json_response({"ok": True})


async def _list_faults(request: web.Request) -> web.Response:
    return json_response(request.app[STATE_KEY].faults.as_json())


async def _clear_all_faults(request: web.Request) -> web.Response:
    faults = request.app[STATE_KEY].faults
    faults.clear_all()
    return json_response(faults.as_json())


async def _set_fault(request: web.Request) -> web.Response:
    vendor = _vendor_key(request)
    if vendor is None:
        return _admin_error(404, f"Unknown vendor {request.match_info['vendor']!r}")
    try:
        body: Any = json.loads(await request.text())
    except ValueError:
        return _admin_error(400, 'Body must be JSON: {"fault": "<kind>", "retry_after": 60}')
    if not isinstance(body, dict):
        return _admin_error(400, 'Body must be a JSON object: {"fault": "<kind>"}')
    kinds = ", ".join(kind.value for kind in FaultKind)
    name = body.get("fault")
    if not isinstance(name, str) or name not in FaultKind:
        return _admin_error(400, f"Unknown fault {name!r}; known: {kinds}")
    kind = FaultKind(name)
    retry_after = body.get("retry_after", DEFAULT_RETRY_AFTER)
    if type(retry_after) is not int or retry_after < 0:
        return _admin_error(400, "retry_after must be a non-negative integer (seconds)")
    fault = Fault(kind, retry_after)
    request.app[STATE_KEY].faults.set(vendor, fault)
    return json_response({"vendor": vendor, **fault.as_json()})


async def _clear_fault(request: web.Request) -> web.Response:
    vendor = _vendor_key(request)
    if vendor is None:
        return _admin_error(404, f"Unknown vendor {request.match_info['vendor']!r}")
    cleared = request.app[STATE_KEY].faults.clear(vendor)
    return json_response({"vendor": vendor, "cleared": cleared})


async def _list_requests(request: web.Request) -> web.Response:
    return json_response(request.app[STATE_KEY].requests.as_json())


async def _reset_requests(request: web.Request) -> web.Response:
    requests = request.app[STATE_KEY].requests
    requests.reset()
    return json_response(requests.as_json())
