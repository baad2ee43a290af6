"""Switchable faults: a vendor can be told to fail every request in one of a few ways.

A fault set for a vendor applies to every request under that vendor's path prefix (known
routes and unknown ones alike) until it is cleared. It never applies to `/_admin`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .common import JSONObject, json_response

DEFAULT_RETRY_AFTER: Final = 60

HTML_502_BODY: Final = "<html><body><h1>502 Bad Gateway</h1></body></html>"


class FaultKind(StrEnum):
    HTTP_500 = "http_500"
    """500 with the vendor's JSON error body."""
    HTML_502 = "html_502"
    """502 with an HTML body, as a proxy in front of the vendor would send."""
    RATE_LIMIT = "rate_limit"
    """429 with `Retry-After: <retry_after>` and a small JSON body."""
    HANG = "hang"
    """No answer until the fault is cleared (then 503) or the server shuts down."""
    MALFORMED_JSON = "malformed_json"
    """200, `application/json`, a truncated body."""
    BAD_AUTH = "bad_auth"
    """401 with the vendor's JSON error body."""
    ERROR_200 = "error_200"
    """200 with the vendor's JSON error body for a 500 (an error inside a success)."""


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    retry_after: int = DEFAULT_RETRY_AFTER

    def as_json(self) -> JSONObject:
        return {"fault": self.kind.value, "retry_after": self.retry_after}


class VendorStyle(Protocol):
    """How a vendor dresses its failures (implemented by `state.MountedVendor`)."""

    @property
    def key(self) -> str: ...

    @property
    def malformed_body(self) -> str: ...

    def error_body(self, status: int, message: str) -> JSONObject: ...


class FaultRegistry:
    """The active fault per vendor, and the requests currently held by a `hang` fault."""

    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}
        self._release: dict[str, asyncio.Event] = {}
        self._hanging: dict[str, int] = {}
        self._hanging_changed = asyncio.Condition()

    def get(self, vendor: str) -> Fault | None:
        return self._faults.get(vendor)

    def set(self, vendor: str, fault: Fault) -> None:
        """Set (or replace) the vendor's fault. Replacing a `hang` by another kind releases the
        hung requests (with a 503)."""
        if fault.kind is not FaultKind.HANG:
            self._release_hung(vendor)
        self._faults[vendor] = fault

    def clear(self, vendor: str) -> bool:
        """Clear the vendor's fault, releasing hung requests (they get a 503). True if there
        was one."""
        self._release_hung(vendor)
        return self._faults.pop(vendor, None) is not None

    def clear_all(self) -> None:
        for vendor in list(self._faults):
            self.clear(vendor)

    def release_all(self) -> None:
        """Let every hung request answer (server shutdown); the faults stay set."""
        for vendor in list(self._release):
            self._release_hung(vendor)

    def hanging(self, vendor: str) -> int:
        """How many requests to `vendor` are being held right now."""
        return self._hanging.get(vendor, 0)

    def as_json(self) -> JSONObject:
        """`{vendor: {"fault", "retry_after", "hanging"}}` for the active faults."""
        return {
            vendor: fault.as_json() | {"hanging": self.hanging(vendor)}
            for vendor, fault in sorted(self._faults.items())
        }

    async def wait_hanging(self, vendor: str, count: int = 1) -> None:
        """Return once at least `count` requests to `vendor` are being held (for tests: no
        sleeping and polling)."""
        async with self._hanging_changed:
            await self._hanging_changed.wait_for(lambda: self.hanging(vendor) >= count)

    async def hang(self, vendor: str) -> None:
        """Hold the caller until the vendor's hang fault is cleared or replaced."""
        release = self._release.setdefault(vendor, asyncio.Event())
        await self._count_hanging(vendor, +1)
        try:
            await release.wait()
        finally:
            await self._count_hanging(vendor, -1)

    async def _count_hanging(self, vendor: str, delta: int) -> None:
        async with self._hanging_changed:
            self._hanging[vendor] = self.hanging(vendor) + delta
            self._hanging_changed.notify_all()

    def _release_hung(self, vendor: str) -> None:
        release = self._release.pop(vendor, None)
        if release is not None:
            release.set()


async def fault_response(
    registry: FaultRegistry, vendor: VendorStyle, fault: Fault
) -> web.Response:
    """The response a request to `vendor` gets while `fault` is active."""
    match fault.kind:
        case FaultKind.HTTP_500:
            body = vendor.error_body(500, "Internal server error (sandbox fault http_500)")
            return json_response(body, status=500)
        case FaultKind.HTML_502:
            return web.Response(text=HTML_502_BODY, status=502, content_type="text/html")
        case FaultKind.RATE_LIMIT:
            body = vendor.error_body(429, "Too many requests (sandbox fault rate_limit)")
            headers = {"Retry-After": str(fault.retry_after)}
            return json_response(body, status=429, headers=headers)
        case FaultKind.HANG:
            await registry.hang(vendor.key)
            body = vendor.error_body(503, "Service unavailable (sandbox hang released)")
            return json_response(body, status=503)
        case FaultKind.MALFORMED_JSON:
            return web.Response(
                text=vendor.malformed_body, status=200, content_type="application/json"
            )
        case FaultKind.BAD_AUTH:
            body = vendor.error_body(401, "Unauthorized (sandbox fault bad_auth)")
            return json_response(body, status=401)
        case FaultKind.ERROR_200:
            body = vendor.error_body(500, "Internal server error (sandbox fault error_200)")
            return json_response(body, status=200)


def fault_middleware(
    registry: FaultRegistry, vendor_for_path: Callable[[str], VendorStyle | None]
) -> Middleware:
    """A root-app middleware applying each vendor's active fault to requests under its prefix."""

    @web.middleware
    async def apply_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        vendor = vendor_for_path(request.path)
        fault = registry.get(vendor.key) if vendor is not None else None
        if vendor is None or fault is None:
            return await handler(request)
        return await fault_response(registry, vendor, fault)

    return apply_faults
