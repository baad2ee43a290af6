"""State shared by the sandbox app, its middlewares and the vendor modules."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from aiohttp import web

from .common import Clock, JSONObject, as_utc
from .faults import FaultRegistry


class VendorModule(Protocol):
    """What every `sandbox/<vendor>.py` module provides (checked by mypy in `app.VENDORS`)."""

    @property
    def VENDOR(self) -> str:
        """Vendor key, e.g. `carbon_intensity`; mounted under `/carbon-intensity`."""

    @property
    def MALFORMED_BODY(self) -> str:
        """A truncated body in the vendor's JSON shape, for the `malformed_json` fault."""

    def error_body(self, status: int, message: str) -> JSONObject:
        """The vendor's JSON error body for `status`."""

    def add_routes(self, app: web.Application, state: SandboxState) -> None:
        """Register the vendor's routes on its own (sub)app, paths relative to the prefix."""


def vendor_prefix(vendor: str) -> str:
    """`carbon_intensity` -> `/carbon-intensity`."""
    return "/" + vendor.replace("_", "-")


@dataclass(frozen=True, slots=True)
class MountedVendor:
    """A vendor as mounted in one app (satisfies `faults.VendorStyle`)."""

    key: str
    prefix: str
    malformed_body: str
    error_body_factory: Callable[[int, str], JSONObject]

    @classmethod
    def from_module(cls, module: VendorModule) -> MountedVendor:
        return cls(
            key=module.VENDOR,
            prefix=vendor_prefix(module.VENDOR),
            malformed_body=module.MALFORMED_BODY,
            error_body_factory=module.error_body,
        )

    def error_body(self, status: int, message: str) -> JSONObject:
        return self.error_body_factory(status, message)

    def owns(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    def relative(self, path: str) -> str:
        return path[len(self.prefix) :] or "/"


class RequestLog:
    """Counts of vendor requests served (faulted and unknown paths included), per vendor."""

    def __init__(self, vendors: list[str]) -> None:
        self._vendors = list(vendors)
        self._paths: dict[str, Counter[str]] = {vendor: Counter() for vendor in self._vendors}

    def record(self, vendor: str, path: str) -> None:
        self._paths[vendor][path] += 1

    def total(self, vendor: str) -> int:
        return self._paths[vendor].total()

    def paths(self, vendor: str) -> dict[str, int]:
        return dict(sorted(self._paths[vendor].items()))

    def reset(self) -> None:
        for counter in self._paths.values():
            counter.clear()

    def as_json(self) -> JSONObject:
        """`{vendor: {"total": N, "paths": {path: n}}}` for every mounted vendor."""
        return {
            vendor: {"total": self.total(vendor), "paths": self.paths(vendor)}
            for vendor in self._vendors
        }


@dataclass(slots=True)
class SandboxState:
    clock: Clock
    vendors: Mapping[str, MountedVendor]
    requests: RequestLog
    faults: FaultRegistry = field(default_factory=FaultRegistry)

    def now(self) -> datetime:
        """The clock's current time in UTC."""
        return as_utc(self.clock())

    def vendor_for_path(self, path: str) -> MountedVendor | None:
        for vendor in self.vendors.values():
            if vendor.owns(path):
                return vendor
        return None


STATE_KEY = web.AppKey("sandbox_state", SandboxState)
"""The `SandboxState` of an app made by `create_app` (also reachable from vendor subapps via
`request.config_dict[STATE_KEY]`)."""
