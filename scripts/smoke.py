"""Drive a running scripts/develop Home Assistant as the UI would: onboard, add a source.

    .venv/bin/python scripts/smoke.py carbon_intensity '{"postcode": "BS16", "advanced": {}}'
    .venv/bin/python scripts/smoke.py octopus \
        '{"api_key": "sk_live_sandbox", "account_number": "A-1B2C3D4E", "advanced": {}}' octopus

Prints the flow's steps, the entry created and the states of its entities. Uses only the
REST calls the frontend makes; talks only to 127.0.0.1 (HASS_PORT, default 8123). Keeps a
refresh token in the config dir (CONFIG_DIR, default config/) as .smoke_token.
"""

import json
import os
from pathlib import Path
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

HA = f"http://127.0.0.1:{os.environ.get('HASS_PORT', '8123')}"
CLIENT_ID = f"{HA}/"
#: The development config dir (CONFIG_DIR, as scripts/develop takes it) keeps the token.
TOKEN_FILE = Path(os.environ.get("CONFIG_DIR") or Path(__file__).parents[1] / "config") / ".smoke_token"


def call(method: str, path: str, body: Any = None, token: str | None = None, form: bool = False) -> Any:
    """One HTTP request to Home Assistant; returns decoded JSON."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    req = urllib.request.Request(HA + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def token() -> str:
    """Onboard on first use (user dev/dev), else reuse the stored token."""
    if TOKEN_FILE.exists():  # a refresh token: trade it for a fresh access token
        try:
            tokens = call("POST", "/auth/token", {
                "grant_type": "refresh_token", "refresh_token": TOKEN_FILE.read_text().strip(),
                "client_id": CLIENT_ID,
            }, form=True)
            return str(tokens["access_token"])
        except urllib.error.HTTPError:
            pass
    try:
        onboarded = call("GET", "/api/onboarding")
    except urllib.error.HTTPError:  # 404 once onboarding is over
        onboarded = []
    if not any(step["step"] == "user" and not step["done"] for step in onboarded):
        return login()
    user = call("POST", "/api/onboarding/users", {
        "client_id": CLIENT_ID, "name": "Dev", "username": "dev", "password": "devdevdev",
        "language": "en",
    })
    tokens = call("POST", "/auth/token", {
        "grant_type": "authorization_code", "code": user["auth_code"], "client_id": CLIENT_ID,
    }, form=True)
    access = tokens["access_token"]
    for step, body in (("core_config", {}), ("analytics", {}),
                       ("integration", {"client_id": CLIENT_ID, "redirect_uri": f"{HA}/?auth_callback=1"})):
        try:
            call("POST", f"/api/onboarding/{step}", body, token=access)
        except urllib.error.HTTPError as err:
            print(f"onboarding {step}: HTTP {err.code}")
    TOKEN_FILE.write_text(tokens["refresh_token"])  # later runs need no password
    return access


def login() -> str:
    """Log in as the user onboarding created, as the frontend's login page does."""
    flow = call("POST", "/auth/login_flow", {
        "client_id": CLIENT_ID, "handler": ["homeassistant", None], "redirect_uri": CLIENT_ID,
    })
    result = call("POST", f"/auth/login_flow/{flow['flow_id']}", {
        "username": "dev", "password": "devdevdev", "client_id": CLIENT_ID,
    })
    tokens = call("POST", "/auth/token", {
        "grant_type": "authorization_code", "code": result["result"], "client_id": CLIENT_ID,
    }, form=True)
    TOKEN_FILE.write_text(tokens["refresh_token"])
    return str(tokens["access_token"])


def main() -> None:
    """Run the flow for the source given on the command line."""
    source = sys.argv[1] if len(sys.argv) > 1 else "carbon_intensity"
    step_input = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {"advanced": {}}
    tok = token()
    flow = call("POST", "/api/config/config_entries/flow", {"handler": "energy_hub"}, token=tok)
    print("menu:", flow.get("menu_options"))
    flow = call("POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {"next_step_id": source}, token=tok)
    print("form:", flow["step_id"], [f["name"] for f in flow["data_schema"]])
    # A list gives the input of each step in turn (a site or device step, say).
    for one in step_input if isinstance(step_input, list) else [step_input]:
        result = call("POST", f"/api/config/config_entries/flow/{flow['flow_id']}", one, token=tok)
        print("result:", result["type"], result.get("step_id"),
              result.get("title") or result.get("reason") or result.get("errors"))
    time.sleep(2)
    entries = call("GET", "/api/config/config_entries/entry?domain=energy_hub", token=tok)
    for entry in entries:
        print("entry:", entry["title"], entry["state"])
    match = sys.argv[3] if len(sys.argv) > 3 else "grid_"
    for state in call("GET", "/api/states", token=tok):
        if match in state["entity_id"]:
            unit = state["attributes"].get("unit_of_measurement", "")
            print(f"  {state['entity_id']} = {state['state']} {unit}")


if __name__ == "__main__":
    main()
