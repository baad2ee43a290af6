"""Print the requirements Home Assistant would pip-install when scripts/develop starts it.

    .venv/bin/python scripts/ha_dev_requirements.py scripts/develop.yaml

Run with the virtualenv's Python (it imports the installed Home Assistant). Prints one pinned
requirement per line, for each one not yet satisfied, so that scripts/setup installs them and
the first start neither installs packages nor needs the network. The integrations are those
Home Assistant sets up under the development configuration, resolved as its requirements
manager does (dependencies, after-dependencies and the discovery integrations a manifest names):
  - the configuration's top-level keys, Home Assistant's default integrations and base platforms,
  - the integrations the onboarding's last step adds (Google Translate, Met, Radio Browser,
    Shopping list: homeassistant/components/onboarding/views.py),
  - Energy Hub's own manifest; and the default authentication module's requirements (TOTP).
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import sys

from homeassistant import bootstrap, components, requirements
from homeassistant.auth.mfa_modules import totp
from homeassistant.util.package import is_installed

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = Path(components.__file__).parent
ONBOARDING_INTEGRATIONS = ("google_translate", "met", "radio_browser", "shopping_list")


def manifest(domain: str) -> dict | None:
    path = COMPONENTS / domain / "manifest.json"
    if domain == "energy_hub":
        path = ROOT / "custom_components" / "energy_hub" / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else None


def main(config_file: str) -> None:
    config_keys = re.findall(r"^([a-z_][a-z0-9_]*):", Path(config_file).read_text(), re.M)
    todo = {
        *config_keys,
        *bootstrap.CORE_INTEGRATIONS,
        *bootstrap.DEFAULT_INTEGRATIONS,
        *bootstrap.BASE_PLATFORMS,
        *ONBOARDING_INTEGRATIONS,
        "energy_hub",
    }
    done: set[str] = set()
    wanted: list[str] = list(totp.REQUIREMENTS)
    while todo:
        domain = todo.pop()
        done.add(domain)
        if (info := manifest(domain)) is None:
            continue
        wanted += info.get("requirements", [])
        deps = {*info.get("dependencies", []), *info.get("after_dependencies", [])}
        for discovery, keys in requirements.DISCOVERY_INTEGRATIONS.items():
            if any(key in info for key in keys):
                deps.add(discovery)
        todo |= deps - done
    for req in dict.fromkeys(wanted):
        if not is_installed(req):
            sys.stdout.write(req + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
