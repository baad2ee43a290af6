"""Config entries of the sandbox's accounts, as the config flow creates them.

One factory per source; a test passes what it varies (options, a password, a title).
"""

from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_hub.const import DOMAIN
import sandbox.aretas as sb_aretas
import sandbox.hoymiles as sb_hoymiles
import sandbox.octopus as sb_octopus

#: The entry id of :func:`octopus_entry` (repair issue ids start with it).
OCTOPUS_ENTRY_ID = "01OCTOPUSSANDBOXENTRY00000"
XOLTA_USER = "demo@xolta.example"
XOLTA_SITE = "sandbox-house"


def octopus_entry(
    days: int = 3, title: str = sb_octopus.ACCOUNT_NUMBER, **options: Any
) -> MockConfigEntry:
    """The sandbox's Octopus account (import, export, gas) with a short backfill."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        entry_id=OCTOPUS_ENTRY_ID,
        unique_id=f"octopus_{sb_octopus.ACCOUNT_NUMBER.lower()}",
        data={
            "source": "octopus",
            "api_key": sb_octopus.API_KEY,
            "account_number": sb_octopus.ACCOUNT_NUMBER,
        },
        options={
            "backfill_days": days,
            "gas_calorific_value": 39.5,
            "gas_meter_unit": "m3",
            **options,
        },
    )


def hoymiles_entry(
    plants: list[str] | None = None,
    password: str = sb_hoymiles.PASSWORD,
    title: str | None = None,
    user: str = sb_hoymiles.DEMO_USER,
    **options: Any,
) -> MockConfigEntry:
    """A sandbox Hoymiles account (the demo one by default); ``plants`` default to two of the
    demo account's three."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title or f"Hoymiles {user}",
        unique_id=f"hoymiles_{user}",
        data={"source": "hoymiles", "username": user, "password": password},
        options={
            "plants": plants if plants is not None else ["1001", "1003"],
            "scan_interval": 5,
            "history_days": 1,
            **options,
        },
    )


def xolta_entry(days: int = 1, **data: Any) -> MockConfigEntry:
    """The sandbox house of the demo XOLTA account; ``data`` overrides the credentials."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Sandbox house",
        unique_id=f"xolta_{data.get('site_id', XOLTA_SITE)}",
        data={
            "source": "xolta",
            "username": XOLTA_USER,
            "password": "xolta-sandbox",
            "site_id": XOLTA_SITE,
            "site_name": "Sandbox house",
            **data,
        },
        options={"history_days": days},
    )


def xolta_official_entry(days: int = 1, **data: Any) -> MockConfigEntry:
    """The sandbox house through XOLTA's official API (the sandbox's one-site client); the
    client id and secret are kept as the entry's username and password."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Sandbox house",
        unique_id=f"xolta_{data.get('site_id', XOLTA_SITE)}",
        data={
            "source": "xolta",
            "connection": "api",
            "username": "sandbox-client",
            "password": "sandbox-secret",
            "site_id": XOLTA_SITE,
            "site_name": "Sandbox house",
            **data,
        },
        options={"history_days": days},
    )


def aretas_entry(
    days: int = 1, max_gap: int | None = 60, mac: int = sb_aretas.BESS_MAC
) -> MockConfigEntry:
    """A sandbox Aretas device; ``max_gap=None`` leaves the gap option at its default."""
    options: dict[str, Any] = {"history_days": days}
    if max_gap is not None:
        options["max_gap_minutes"] = max_gap
    return MockConfigEntry(
        domain=DOMAIN,
        title=sb_aretas.DEVICES[mac],
        unique_id=f"aretas_{mac}",
        data={
            "source": "aretas",
            "username": sb_aretas.USERNAME,
            "password": sb_aretas.PASSWORD,
            "mac": mac,
            "name": sb_aretas.DEVICES[mac],
        },
        options=options,
    )


def tariff_entry(bands: str, name: str = "Flux import") -> MockConfigEntry:
    """A typed-in import tariff in pounds."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=name,
        unique_id=f"tariff_{name.lower().replace(' ', '_')}_import",
        data={"source": "tariff", "name": name, "direction": "import", "currency": "GBP"},
        options={"bands": bands},
    )


def regional_carbon_entry(region_id: int = 12, postcode: str = "BS16") -> MockConfigEntry:
    """A Carbon Intensity entry for one region (South England by default), as the flow makes
    it from a postcode."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="South England",
        unique_id=f"carbon_intensity_region_{region_id}",
        data={"source": "carbon_intensity", "postcode": postcode, "region_id": region_id},
        options={"window_hours": 3},
    )
