"""The Energy Hub card: served from the integration's own folder and loaded by the frontend.

The built bundle (``frontend/energy-hub-card.js``, from the sources in the repository's top-level
``frontend/``) is served under ``/energy_hub/card/`` and added to every dashboard as an extra
frontend module, so the card is in the card picker without a resource added by hand, in storage
and YAML dashboards alike. Its URL carries the bundle's hash: a new release is fetched at once
instead of being hidden by the browser's cache (the file itself is served with long cache
headers).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Final

from homeassistant.const import EVENT_COMPONENT_LOADED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import ATTR_COMPONENT
from homeassistant.util.hass_dict import HassKey

_LOGGER = logging.getLogger(__name__)

CARD_DIR: Final = Path(__file__).parent / "frontend"
CARD_FILE: Final = "energy-hub-card.js"
URL_BASE: Final = "/energy_hub/card"
DATA_CARD: HassKey[str] = HassKey("energy_hub_card")


def card_version(path: Path = CARD_DIR / CARD_FILE) -> str:
    """The first 12 hex digits of the bundle's SHA-256 (blocking: run in the executor)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card and load it on every dashboard; once per run, whenever called.

    Waits for the frontend if it is not set up yet (Energy Hub does not depend on it: without
    a frontend, as in a headless installation, there is nothing to register).
    """
    if DATA_CARD in hass.data:
        return
    try:
        version = await hass.async_add_executor_job(card_version)
    except OSError:
        _LOGGER.warning("The Energy Hub card's bundle is missing; the card is not available")
        return
    url = f"{URL_BASE}/{CARD_FILE}?v={version}"
    hass.data[DATA_CARD] = url

    if "frontend" in hass.config.components:
        await _async_serve(hass, url)
        return

    @callback
    def _frontend_loaded(event: Event) -> None:
        if event.data.get(ATTR_COMPONENT) == "frontend":
            unsub()
            hass.async_create_task(_async_serve(hass, url), "energy_hub_register_card")

    unsub = hass.bus.async_listen(EVENT_COMPONENT_LOADED, _frontend_loaded)


async def _async_serve(hass: HomeAssistant, url: str) -> None:
    # Imported here: the frontend and http integrations are loaded by now, and a Home
    # Assistant without them never gets this far.
    from homeassistant.components.frontend import add_extra_js_url  # noqa: PLC0415
    from homeassistant.components.http.server import StaticPathConfig  # noqa: PLC0415

    await hass.http.async_register_static_paths(
        [StaticPathConfig(URL_BASE, str(CARD_DIR), cache_headers=True)]
    )
    add_extra_js_url(hass, url)
    _LOGGER.debug("Energy Hub card registered at %s", url)
