"""`python -m sandbox [--host 127.0.0.1] [--port 8765]`: serve the sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import ipaddress
import sys

from aiohttp import web

from .app import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Serve the Energy Hub vendor-API sandbox."
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="loopback address to bind")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port")
    args = parser.parse_args(argv)
    host: str = args.host
    port: int = args.port
    if not is_loopback(host):
        parser.error(f"refusing to listen on {host!r}: the sandbox binds loopback addresses only")
    shown = f"[{host}]" if ":" in host else host
    sys.stdout.write(f"Sandbox listening on http://{shown}:{port}\n")
    sys.stdout.flush()
    web.run_app(create_app(), host=host, port=port, print=None, shutdown_timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
