"""Fixtures of the browser tests: one Home Assistant + sandbox per module, Chromium per test.

These tests run a real Home Assistant (`.venv/bin/hass`) and the vendor sandbox as processes on
127.0.0.1 and drive Debian's Chromium with Playwright (scripts/setup-card installs both).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
import json
import os
from pathlib import Path
import tempfile
from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright
import pytest
import pytest_socket

from .harness import Stack, chromium_path

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: Where the screenshots go: docs/ (for the README) when ENERGY_HUB_SCREENSHOTS is set, else a
#: temporary folder, so that an ordinary test run leaves the work tree clean.
SHOTS = (
    DOCS
    if os.environ.get("ENERGY_HUB_SCREENSHOTS")
    else Path(tempfile.gettempdir()) / "energy-hub-screenshots"
)

#: A time-of-use tariff with a negative band (paid to use power) and a peak.
TARIFF_BANDS = (
    "00:00-02:00 0.2412\n02:00-05:00 -0.0250\n05:00-16:00 0.2412\n"
    "16:00-19:00 0.3920\n19:00-24:00 0.2412"
)


@pytest.fixture(autouse=True)
def _home_assistant() -> None:
    """No in-process Home Assistant here (tests/conftest.py gives one to other tests)."""


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """Replaces the plugin's check of the in-process Home Assistant's leftovers: there is none
    here, and Playwright's own event loop leaves its executor thread to the interpreter."""


@pytest.fixture(autouse=True, scope="module")
def _sockets_for_module() -> None:
    """Sockets (still only to 127.0.0.1) for the module's processes and their set-up."""
    pytest_socket.enable_socket()


@pytest.fixture(autouse=True)
def _sockets() -> None:
    """Sockets (still only to 127.0.0.1) in each test: the plugin disables them per test."""
    pytest_socket.enable_socket()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The sandbox and Home Assistant, onboarded, with Energy Hub entries of every card view."""
    with tempfile.TemporaryDirectory(prefix="energy-hub-browser-") as tmp:
        stack = Stack(Path(tmp))
        try:
            stack.start_sandbox()
            stack.start_hass()
            stack.onboard()
            stack.add_entry("carbon_intensity", {"postcode": "BS16", "advanced": {}})
            stack.add_entry("elexon", {"advanced": {}})
            stack.add_entry(
                "hoymiles",
                {
                    "username": "demo@energy-hub.example",
                    "password": "sandbox-password",
                    "advanced": {},
                },
            )
            stack.add_entry(
                "xolta",
                {"username": "demo@xolta.example", "password": "xolta-sandbox", "advanced": {}},
            )
            stack.add_entry(
                "tariff",
                {
                    "name": "Flex import",
                    "direction": "import",
                    "currency": "GBP",
                    "bands": TARIFF_BANDS,
                },
            )
            yield stack
        finally:
            stack.stop()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless; Playwright never downloads a browser."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Per test: Playwright's sync API marks its loop as running while it is started, which
    the asyncio fixtures of Home Assistant's test plugin (set up around each test) refuse."""
    with chromium() as browser:
        yield browser


class PageLog:
    """What the page said and asked for: console errors, page errors, requests off this host."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.external: list[str] = []

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} at {message.location}")

    def request(self, request: Request) -> None:
        if not request.url.startswith(("http://127.0.0.1:", "data:", "blob:", "ws://127.0.0.1:")):
            self.external.append(request.url)


def open_page(
    browser: Browser, stack: Stack, *, dark: bool, phone: bool = False
) -> tuple[Page, PageLog]:
    """A logged-in page (the tokens the frontend keeps in localStorage), light or dark."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844} if phone else {"width": 1100, "height": 900},
        device_scale_factor=2 if phone else 1,
        color_scheme="dark" if dark else "light",
        timezone_id="Europe/London",
        locale="en-GB",
    )
    tokens = {
        "access_token": stack.token,
        "refresh_token": stack.refresh_token,
        "token_type": "Bearer",
        "expires_in": 1800,
        "hassUrl": stack.url,
        "clientId": f"{stack.url}/",
        "expires": 4102444800000,
    }
    context.add_init_script(
        f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(tokens))});"
    )
    log = PageLog()
    # Nothing leaves this machine: anything not on 127.0.0.1 is refused and recorded.
    context.route(
        lambda url: not url.startswith("http://127.0.0.1:"),
        lambda route: route.abort(),
    )
    page = context.new_page()
    page.on("console", log.console)
    page.on("pageerror", lambda err: log.errors.append(f"pageerror: {err} {err.stack}"))
    page.on("request", log.request)
    return page, log


@pytest.fixture
def light(browser: Browser, stack: Stack) -> Generator[tuple[Page, PageLog]]:
    page, log = open_page(browser, stack, dark=False)
    yield page, log
    page.context.close()


@pytest.fixture
def dark(browser: Browser, stack: Stack) -> Generator[tuple[Page, PageLog]]:
    page, log = open_page(browser, stack, dark=True)
    yield page, log
    page.context.close()


def hass_call(page: Page, message: dict[str, Any]) -> Any:
    """A websocket command through the frontend's own connection."""
    return page.evaluate(
        "(msg) => document.querySelector('home-assistant').hass.callWS(msg)", message
    )


def wait_for_frontend(page: Page) -> None:
    page.wait_for_function(
        "() => !!document.querySelector('home-assistant')?.hass?.connection"
        " && !!document.querySelector('home-assistant').hass.entities",
        timeout=30_000,
    )
