"""The Energy Hub card: the committed bundle matches its sources, and the integration serves it."""

from __future__ import annotations

import gzip
import hashlib
from http import HTTPStatus
from pathlib import Path
import re
from unittest.mock import patch

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_hub.card import CARD_DIR, CARD_FILE, DATA_CARD, card_version
from custom_components.energy_hub.const import DOMAIN

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"
BUNDLE = CARD_DIR / CARD_FILE
#: The files frontend/build.mjs hashes into the bundle's first line (its sourceFiles()).
BUILD_INPUTS = ("build.mjs", "package-lock.json", "package.json", "tsconfig.json")


def sources_sha256() -> str:
    """The SHA-256 frontend/build.mjs computes over the card's sources, recomputed here."""
    files = sorted(
        [p.relative_to(FRONTEND).as_posix() for p in (FRONTEND / "src").rglob("*") if p.is_file()]
        + list(BUILD_INPUTS)
    )
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0")
        digest.update((FRONTEND / name).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def test_bundle_is_built_from_the_current_sources() -> None:
    """A change to the card's sources without scripts/build-card fails here."""
    first = BUNDLE.read_text().split("\n", 1)[0]
    match = re.fullmatch(r"/\* energy-hub-card sources sha256:([0-9a-f]{64}) \*/", first)
    assert match, f"{BUNDLE.name} has no sources stamp: rebuild it with scripts/build-card"
    assert match[1] == sources_sha256(), (
        "the committed card bundle is older than frontend/: run scripts/build-card and commit it"
    )


def test_bundle_is_small_and_self_contained() -> None:
    """At most 60 KB gzipped; no import of another file and no address outside Home Assistant."""
    data = BUNDLE.read_bytes()
    assert len(gzip.compress(data, 9)) <= 60 * 1024
    text = data.decode()
    # esbuild leaves an import statement or call only for what it did not bundle.
    assert not re.search(r"""(?:^|[;}\s])import\s*(?:[\w*{]|\(|["'])""", text)
    assert not re.search(r"""["'`]https?://(?!github\.com/energy-hub/)""", text)


async def test_card_is_served_with_a_versioned_url(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """Set up after the frontend: one extra module whose URL names the bundle's hash; served."""
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()

    version = card_version()
    assert version == hashlib.sha256(BUNDLE.read_bytes()).hexdigest()[:12]
    url = f"/energy_hub/card/energy-hub-card.js?v={version}"
    assert hass.data[DATA_CARD] == url
    assert [u for u in hass.data[DATA_EXTRA_MODULE_URL].urls if "energy_hub" in u] == [url]

    client = await hass_client()
    response = await client.get(url)
    assert response.status == HTTPStatus.OK
    assert await response.read() == BUNDLE.read_bytes()
    assert "javascript" in response.headers["Content-Type"]
    # Long-lived cache: safe, because each release changes the URL.
    assert "max-age=" in response.headers["Cache-Control"]


async def test_card_waits_for_the_frontend(hass: HomeAssistant) -> None:
    """Energy Hub set up first (it does not depend on the frontend): registered once it loads."""
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert "frontend" not in hass.config.components

    assert await async_setup_component(hass, "frontend", {})
    await hass.async_block_till_done()
    urls = [u for u in hass.data[DATA_EXTRA_MODULE_URL].urls if "energy_hub" in u]
    assert urls == [f"/energy_hub/card/energy-hub-card.js?v={card_version()}"]

    # A second call (a reload of the integration's setup) adds nothing.
    from custom_components.energy_hub.card import async_register_card

    await async_register_card(hass)
    await hass.async_block_till_done()
    assert [u for u in hass.data[DATA_EXTRA_MODULE_URL].urls if "energy_hub" in u] == urls


async def test_missing_bundle_is_one_warning(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken installation without the bundle still sets up; the card is just not offered."""
    assert await async_setup_component(hass, "frontend", {})
    with patch(
        "custom_components.energy_hub.card.card_version", side_effect=FileNotFoundError("gone")
    ):
        assert await async_setup_component(hass, DOMAIN, {})
        await hass.async_block_till_done()
    assert DATA_CARD not in hass.data
    assert [u for u in hass.data[DATA_EXTRA_MODULE_URL].urls if "energy_hub" in u] == []
    assert "The Energy Hub card's bundle is missing" in caplog.text
