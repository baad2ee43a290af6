"""Local emulation of the vendor HTTP APIs Energy Hub talks to (tests and scripts/develop).

Start it in-process with `create_app(clock=...)`, or as `python -m sandbox --port 8765`.
Only aiohttp and the standard library; no Home Assistant imports.
"""

from .app import VENDORS, create_app
from .common import ManualClock
from .faults import FaultKind
from .state import STATE_KEY, SandboxState, vendor_prefix

__all__ = [
    "STATE_KEY",
    "VENDORS",
    "FaultKind",
    "ManualClock",
    "SandboxState",
    "create_app",
    "vendor_prefix",
]
