"""A real Home Assistant and the vendor sandbox, started as processes on 127.0.0.1.

Home Assistant runs from the project's virtualenv with a minimal configuration (no
`default_config`, nothing that installs packages at start), its HTTP server bound to 127.0.0.1
through the stored HTTP configuration (a YAML `http:` block would be a five-minute trial), and
onboarded through REST as the frontend does. Every wait polls a condition with a deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import shutil
import socket
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
#: The virtualenv whose Home Assistant the tests start: ENERGY_HUB_BROWSER_VENV names another one
#: (relative to the project, e.g. `.venv-ha-next` for the next release); pytest, Playwright and
#: the sandbox still run from this one.
HASS_VENV_BIN = (
    ROOT / os.environ["ENERGY_HUB_BROWSER_VENV"] / "bin"
    if os.environ.get("ENERGY_HUB_BROWSER_VENV")
    else VENV_BIN
)
HASS = HASS_VENV_BIN / "hass"

CONFIGURATION = """\
homeassistant:
  name: Energy Hub
  latitude: 51.4545
  longitude: -2.5879
  elevation: 10
  unit_system: metric
  currency: GBP
  country: GB
  time_zone: Europe/London
  language: en
frontend:
history:
recorder:
  commit_interval: 1
logger:
  default: warning
  logs:
    custom_components.energy_hub: info
"""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for[T](
    what: str,
    probe: Callable[[], T | None],
    timeout: float,
    proc: subprocess.Popen[bytes],
    log: Path,
) -> T:
    """Probe until ``probe`` returns a value (not None) while ``proc`` runs; fail if it exits
    or after ``timeout`` seconds. Between probes it waits on the process itself (it returns
    at once if the process ends), backing off from 50 ms to 500 ms."""
    deadline = time.monotonic() + timeout
    pause = 0.05
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s\n{log.read_text()[-3000:]}")
        try:
            code = proc.wait(timeout=pause)
        except subprocess.TimeoutExpired:
            pause = min(pause * 2, 0.5)
            continue
        raise RuntimeError(f"{what}: the process exited with {code}\n{log.read_text()[-3000:]}")


def http(
    method: str, url: str, body: Any = None, token: str | None = None, form: bool = False
) -> Any:
    """One HTTP request; decoded JSON (or None for an empty body)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def _answers(url: str) -> bool | None:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # it answers (401 before login)
    except OSError:
        return None


@dataclass
class Stack:
    """The processes and what the tests need to reach them."""

    workdir: Path
    sandbox_port: int = field(default_factory=free_port)
    hass_port: int = field(default_factory=free_port)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    token: str = ""
    refresh_token: str = ""
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: More YAML for configuration.yaml (e.g. `energy:` for the Energy dashboard).
    extra_config: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.hass_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def config_dir(self) -> Path:
        return self.workdir / "config"

    @property
    def hass_log(self) -> Path:
        return self.workdir / "hass.log"

    # --- processes ----------------------------------------------------------------------
    def start_sandbox(self) -> None:
        log = self.workdir / "sandbox.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sandbox",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.sandbox_port),
                ],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        wait_for(
            "the sandbox", lambda: _answers(f"{self.sandbox_url}/_admin/health"), 30, proc, log
        )

    def write_config(self) -> None:
        from homeassistant.components.http.config import HTTP_STORAGE_SCHEMA

        config = self.config_dir
        (config / "custom_components").mkdir(parents=True, exist_ok=True)
        link = config / "custom_components" / "energy_hub"
        if not link.exists():
            link.symlink_to(ROOT / "custom_components" / "energy_hub")
        (config / "configuration.yaml").write_text(CONFIGURATION + self.extra_config)
        storage = config / ".storage"
        storage.mkdir(exist_ok=True)
        stable = HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": self.hass_port})
        stable |= {"created_at": "2026-01-01T00:00:00+00:00", "error": None, "error_message": None}
        store = {
            "version": 2,
            "minor_version": 2,
            "key": "http",
            "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
        }
        (storage / "http").write_text(json.dumps(store))
        # Every onboarding step but the user's is done: the user step (REST, below) finishes it,
        # and the steps that add internet-bound integrations never run.
        onboarding = {
            "version": 4,
            "minor_version": 1,
            "key": "onboarding",
            "data": {"done": ["core_config", "analytics", "integration"]},
        }
        (storage / "onboarding").write_text(json.dumps(onboarding))

    def start_hass(self) -> None:
        self.write_config()
        env = {
            **os.environ,
            "ENERGY_HUB_SANDBOX_URL": self.sandbox_url,
            "PATH": f"{HASS_VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        with self.hass_log.open("wb") as out:
            proc = subprocess.Popen(
                [str(HASS), "-c", str(self.config_dir), "--skip-pip"],
                cwd=self.workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        wait_for(
            "Home Assistant",
            lambda: _answers(f"{self.url}/api/onboarding"),
            120,
            proc,
            self.hass_log,
        )

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    # --- Home Assistant through REST and websocket -----------------------------------------
    def onboard(self) -> None:
        client_id = f"{self.url}/"
        user = http(
            "POST",
            f"{self.url}/api/onboarding/users",
            {
                "client_id": client_id,
                "name": "Test",
                "username": "test",
                "password": "test-password",
                "language": "en",
            },
        )
        tokens = http(
            "POST",
            f"{self.url}/auth/token",
            {"grant_type": "authorization_code", "code": user["auth_code"], "client_id": client_id},
            form=True,
        )
        self.token = tokens["access_token"]
        self.refresh_token = tokens["refresh_token"]

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return http(method, f"{self.url}{path}", body, token=self.token)

    def add_entry(self, source: str, *inputs: dict[str, Any]) -> dict[str, Any]:
        """Run the config flow as the UI does; a form not given an input takes its defaults."""
        flow = self.api("POST", "/api/config/config_entries/flow", {"handler": "energy_hub"})
        flow = self.api(
            "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {"next_step_id": source}
        )
        queue = list(inputs)
        while flow["type"] == "form":
            if flow.get("errors"):
                raise AssertionError(f"{source}: {flow['step_id']} errors {flow['errors']}")
            step_input = (
                queue.pop(0)
                if queue
                else {f["name"]: f["default"] for f in flow["data_schema"] if "default" in f}
            )
            flow = self.api(
                "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", step_input
            )
        assert flow["type"] == "create_entry", flow
        self.entries[source] = flow["result"]
        return dict(flow["result"])

    def version(self) -> tuple[int, int]:
        """The running Home Assistant's release (year, month), e.g. (2026, 11)."""
        year, month = str(self.api("GET", "/api/config")["version"]).split(".")[:2]
        return int(year), int(month)

    def states(self) -> dict[str, dict[str, Any]]:
        return {s["entity_id"]: s for s in self.api("GET", "/api/states")}


def chromium_path() -> str:
    """Debian's Chromium (scripts/setup-card installs it); Playwright never downloads one."""
    path = (
        os.environ.get("ENERGY_HUB_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        raise RuntimeError("Debian's chromium is not installed: run scripts/setup-card")
    return path
