"""Home Assistant's Energy dashboard set up with Energy Hub's statistics, in Chromium.

As a user does it, against the sandbox: Settings > Dashboards > Energy, a grid connection with
Octopus's import and export, their cost and compensation and a grid power sensor; solar from
Hoymiles; the XOLTA battery; Octopus gas; on Home Assistant 2026.11 the new Home consumption card.
Then the Energy dashboard shows yesterday's figures, equal to the statistics Energy Hub wrote, and
`energy/validate` has nothing to say about them.

The same module runs on 2026.10 (`.venv`) and 2026.11 (`ENERGY_HUB_BROWSER_VENV=.venv-ha-next`):
the version-specific screens branch on the release that runs. Screenshots (light theme) land in
docs/energy-*.png when ENERGY_HUB_SCREENSHOTS is set (else in a temporary folder).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
import io
import math
from pathlib import Path
import re
import tempfile
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image
from playwright.sync_api import Locator, Page, TimeoutError as PlaywrightTimeoutError, expect
import pytest
import pytest_socket

from .conftest import SHOTS, PageLog, chromium, hass_call, open_page, wait_for_frontend
from .harness import Stack

#: The kWh counter wired to 2026.11's Home consumption card. Energy Hub's own home-consumption
#: statistic (the Home source) does not exist yet: until then the smart meter's import, which is
#: the whole home's consumption in a home without solar or battery. One constant to switch.
HOME_ENERGY_STATISTIC = "energy_hub:octopus_1900000000001_import_energy"
#: The home's power: what XOLTA measures the house uses.
HOME_POWER_ENTITY = "sensor.xolta_sandbox_house_house_consumption"

#: The sandbox's Octopus account: import and export meters (MPAN) and the gas meter (MPRN).
IMPORT = "energy_hub:octopus_1900000000001_import_energy"
IMPORT_COST = "energy_hub:octopus_1900000000001_import_cost"
EXPORT = "energy_hub:octopus_1900000000002_export_energy"
EXPORT_COMPENSATION = "energy_hub:octopus_1900000000002_export_compensation"
GAS = "energy_hub:octopus_3000000001_gas_energy"
GAS_COST = "energy_hub:octopus_3000000001_gas_cost"
#: The demo Hoymiles account's first plant, and the XOLTA sandbox house.
SOLAR = "energy_hub:hoymiles_1001_pv_energy"
SOLAR_POWER = "sensor.hoymiles_balcony_row_pv_power"
BATTERY_OUT = "energy_hub:xolta_sandbox_house_battery_discharged_energy"
BATTERY_IN = "energy_hub:xolta_sandbox_house_battery_charged_energy"
BATTERY_POWER = "sensor.xolta_sandbox_house_battery_power"
BATTERY_SOC = "sensor.xolta_sandbox_house_battery_state_of_charge"
GRID_POWER = "sensor.xolta_sandbox_house_grid_power"
#: Energy Hub's power sensors in the preferences: live states whose statistics Home Assistant's
#: recorder compiles itself, every five minutes.
POWER_ENTITIES = {GRID_POWER, SOLAR_POWER, BATTERY_POWER, HOME_POWER_ENTITY}
#: What the dashboard shows for yesterday, each complete there.
DAILY = [IMPORT, IMPORT_COST, EXPORT, EXPORT_COMPENSATION, GAS, GAS_COST, SOLAR]
DAILY += [BATTERY_OUT, BATTERY_IN]

TZ = ZoneInfo("Europe/London")
#: Home Assistant's units picker helper lists these for an energy statistic.
ENERGY_UNITS = "cal, Gcal, GJ, GWh, J, kcal, kJ, kWh, Mcal, MJ"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The sandbox and Home Assistant with the Energy dashboard (`energy:`), onboarded, with the
    sources a household wires into it: Carbon Intensity, Octopus, Hoymiles and XOLTA."""
    with tempfile.TemporaryDirectory(prefix="energy-hub-energy-") as tmp:
        stack = Stack(Path(tmp), extra_config="energy:\n")
        try:
            stack.start_sandbox()
            stack.start_hass()
            stack.onboard()
            stack.add_entry("carbon_intensity", {"postcode": "BS16", "advanced": {}})
            stack.add_entry(
                "octopus",
                {"api_key": "sk_live_sandbox", "account_number": "A-1B2C3D4E", "advanced": {}},
            )
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
            yield stack
        finally:
            stack.stop()


def _yesterday() -> tuple[datetime, datetime]:
    today = datetime.now(TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=1), today


@pytest.fixture(scope="module")
def release(stack: Stack) -> tuple[int, int]:
    """The Home Assistant release that runs, e.g. (2026, 11)."""
    pytest_socket.enable_socket()  # set up before the test's own fixture enables them
    return stack.version()


@pytest.fixture(scope="module")
def yesterday(stack: Stack) -> dict[str, float]:
    """Waits until the backfills have written every hour of yesterday (the newest hour each
    source has complete: Octopus publishes up to midnight), then yesterday's change per
    statistic as the recorder holds it, and the statistics' names."""
    start, end = _yesterday()
    last = {
        statistic: (end - timedelta(hours=2 if statistic == SOLAR else 1)).isoformat()
        for statistic in DAILY
    }
    with chromium() as browser:
        page, _ = open_page(browser, stack, dark=False)
        page.goto(f"{stack.url}/")
        wait_for_frontend(page)
        # Polled in the page (every half second, up to three minutes) until each statistic
        # holds its last hour of yesterday: 23:00, or 22:00 for the Hoymiles plants, whose days
        # are Central European (an hour ahead: the hour after is their today's first).
        missing = page.evaluate(
            """async ([last, start, end]) => {
                 const hass = document.querySelector('home-assistant').hass;
                 const deadline = Date.now() + 180000;
                 for (;;) {
                   const rows = await hass.callWS({
                     type: 'recorder/statistics_during_period', statistic_ids: Object.keys(last),
                     start_time: start, end_time: end, period: 'hour', types: ['change']});
                   const missing = Object.keys(last).filter(id => !(rows[id] || []).some(
                     row => row.start === Date.parse(last[id])));
                   if (!missing.length || Date.now() > deadline) return missing;
                   await new Promise(resolve => setTimeout(resolve, 500));
                 }
               }""",
            [last, (end - timedelta(hours=2)).isoformat(), end.isoformat()],
        )
        assert missing == [], f"no statistics for yesterday's last hour: {missing}"
        change = {
            statistic: hass_call(
                page,
                {
                    "type": "recorder/statistic_during_period",
                    "statistic_id": statistic,
                    "fixed_period": {"start_time": start.isoformat(), "end_time": end.isoformat()},
                    "types": ["change"],
                },
            )
            for statistic in [*DAILY, HOME_ENERGY_STATISTIC]
        }
        page.context.close()
    return {statistic: float(value["change"]) for statistic, value in change.items()}


@pytest.fixture(scope="module")
def names(stack: Stack, yesterday: dict[str, float]) -> dict[str, str]:
    """The statistics' names, as the pickers list them."""
    with chromium() as browser:
        page, _ = open_page(browser, stack, dark=False)
        page.goto(f"{stack.url}/")
        wait_for_frontend(page)
        listed = hass_call(page, {"type": "recorder/list_statistic_ids"})
        page.context.close()
    return {s["statistic_id"]: s["name"] for s in listed if s.get("name")}


# --- helpers ------------------------------------------------------------------------------
def _shot(target: Page | Locator, name: str) -> None:
    """A small PNG: the page or one element, reduced to a 64-colour palette."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(target.screenshot()))
    image.convert("RGB").quantize(colors=64).save(SHOTS / f"{name}.png", optimize=True)


def _clean(log: PageLog) -> None:
    assert log.errors == []
    assert log.external == []


def _dialog(page: Page, tag: str) -> Locator:
    """An open energy settings dialog (its element stays in the page, empty, once closed)."""
    dialog = page.locator(tag)
    expect(dialog.locator("ha-dialog")).to_have_count(1)
    return dialog


def _panel(dialog: Locator) -> Locator:
    """The dialog's visible panel (the first; the pickers' popovers hold dialogs too)."""
    return dialog.locator('dialog[part="dialog"]').first


def _closed(dialog: Locator) -> None:
    expect(dialog.locator("ha-dialog")).to_have_count(0)


def _labels(dialog: Locator) -> list[str]:
    """The statistic pickers' labels, top to bottom, as the dialog shows them."""
    return list(dialog.locator("ha-statistic-picker").evaluate_all("els => els.map(e => e.label)"))


def _picker(dialog: Locator, label: str) -> Locator:
    """The statistic picker with this label (waits for it: some appear after a choice)."""
    pickers = dialog.locator("ha-statistic-picker")
    expect(pickers.filter(has_text=label)).to_have_count(1)
    return pickers.filter(has_text=label)


def _pick(page: Page, dialog: Locator, label: str, search: str, item: str) -> None:
    """Open a picker, type into its search field as a user does, click the item. The field
    can take the text before the list is ready to filter: then the text is typed again."""
    picker = _picker(dialog, label)
    picker.click()
    field = page.locator("ha-picker-combo-box input").locator("visible=true")
    expect(field).to_be_focused()
    found = (
        page.locator("ha-picker-combo-box ha-combo-box-item")
        .locator("visible=true")
        .filter(has_text=item)
    )
    for _ in range(3):
        field.fill(search)
        try:
            found.wait_for(timeout=5_000)
            break
        except PlaywrightTimeoutError:
            field.fill("")
    found.click()
    expect(picker).to_contain_text(item)


def _has_value(dialog: Locator, label: str, statistic: str) -> None:
    """The picker holds this statistic (or entity) id."""
    expect(_picker(dialog, label)).to_have_js_property("value", statistic)


def _name(dialog: Locator, name: str) -> None:
    """Type a display name; leaving the field (Tab) commits it, as a user's next click does."""
    field = dialog.get_by_role("textbox", name="Display name")
    field.fill(name)
    field.press("Tab")
    expect(field).to_have_value(name)


def _open_settings(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/config/energy")
    wait_for_frontend(page)
    expect(page.get_by_role("button", name="Add grid connection")).to_be_visible(timeout=30_000)


def _prefs(page: Page) -> dict[str, Any]:
    return dict(hass_call(page, {"type": "energy/get_prefs"}))


def _source(page: Page, kind: str) -> dict[str, Any]:
    sources = [s for s in _prefs(page)["energy_sources"] if s["type"] == kind]
    assert len(sources) == 1, sources
    return dict(sources[0])


# --- the configuration, as a user walks it -------------------------------------------------
def test_settings_dashboards_energy_opens_the_configuration(
    stack: Stack, yesterday: dict[str, float], light: tuple[Page, PageLog]
) -> None:
    """Settings > Dashboards lists Energy; with nothing configured yet it opens a step-by-step
    setup, and its Edit dashboard button the Energy configuration, whose Electricity grid card
    offers grid connections and Electricity Maps (Home Assistant's carbon integration, formerly
    CO2 Signal)."""
    page, log = light
    page.goto(f"{stack.url}/config/dashboard")
    wait_for_frontend(page)
    page.get_by_role("link", name="Dashboards").first.click()
    page.get_by_text("Energy", exact=True).last.click()
    expect(page).to_have_url(re.compile(r"/energy/setup$"))
    expect(page.get_by_role("button", name="Add grid connection")).to_be_visible()
    page.get_by_role("button", name="Edit dashboard").click()
    expect(page).to_have_url(re.compile(r"/config/energy"))
    expect(page.get_by_role("button", name="Add grid connection")).to_be_visible()
    expect(page.get_by_text("Grid connections", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Add Electricity Maps integration")).to_be_visible()
    for gone in ("Add consumption", "Add return", "CO2 Signal"):
        expect(page.get_by_text(gone)).to_have_count(0)
    _clean(log)


def test_grid_connection_with_octopus_cost_compensation_and_power(
    stack: Stack,
    yesterday: dict[str, float],
    names: dict[str, str],
    release: tuple[int, int],
    light: tuple[Page, PageLog],
) -> None:
    page, log = light
    _open_settings(page, stack)
    page.get_by_role("button", name="Add grid connection").click()
    dialog = _dialog(page, "dialog-energy-grid-settings")
    expect(dialog).to_contain_text("Configure grid connection")
    assert _labels(dialog) == ["Energy imported from grid", "Energy exported to grid"]
    expect(_picker(dialog, "Energy imported from grid")).to_contain_text(ENERGY_UNITS)

    _pick(page, dialog, "Energy imported from grid", "Octopus import", names[IMPORT])
    _pick(page, dialog, "Energy exported to grid", "Octopus export", names[EXPORT])
    # Statistics (not entities): only "an entity tracking the total" is offered for money.
    for option in ("Use an entity with current price", "Use a static price"):
        expect(dialog.get_by_role("radio", name=option)).to_be_disabled()
    dialog.get_by_role("radio", name="Use an entity tracking the total costs").check()
    _pick(page, dialog, "Entity with the total costs", "Octopus import", names[IMPORT_COST])
    dialog.get_by_role("radio", name="Use an entity tracking the total compensation").check()
    _pick(
        page,
        dialog,
        "Entity with the total compensation",
        "Octopus export",
        names[EXPORT_COMPENSATION],
    )
    # XOLTA's grid power is + importing, - exporting: Home Assistant's "Standard".
    dialog.get_by_role("radio", name="Standard").check()
    _pick(page, dialog, "Power measurement", "Grid power", "XOLTA Sandbox house")

    assert _labels(dialog) == [
        "Energy imported from grid",
        "Energy exported to grid",
        "Entity with the total costs",
        "Entity with the total compensation",
        "Power measurement",
    ]
    for label, statistic in zip(
        _labels(dialog),
        [IMPORT, EXPORT, IMPORT_COST, EXPORT_COMPENSATION, GRID_POWER],
        strict=True,
    ):
        _has_value(dialog, label, statistic)
    # Named once every choice has settled (a later choice re-renders the form).
    _name(dialog, "Octopus")
    page.set_viewport_size({"width": 1000, "height": 1750})
    # Back to the top of the form (typing the name scrolled it) for the picture.
    _picker(dialog, "Energy imported from grid").evaluate("e => e.scrollIntoView({block: 'start'})")
    _shot(_panel(dialog), "energy-grid-connection")
    dialog.get_by_role("button", name="Save").click()
    _closed(dialog)
    page.set_viewport_size({"width": 1100, "height": 900})

    grid = _source(page, "grid")
    assert {k: v for k, v in grid.items() if v is not None} == {
        "type": "grid",
        "name": "Octopus",
        "stat_energy_from": IMPORT,
        "stat_energy_to": EXPORT,
        "stat_cost": IMPORT_COST,
        "stat_compensation": EXPORT_COMPENSATION,
        "cost_adjustment_day": 0.0,
        "power_config": {"stat_rate": GRID_POWER},
        "stat_rate": GRID_POWER,
    }
    row = page.locator("ha-energy-grid-settings").get_by_text("Octopus", exact=True)
    expect(row).to_be_visible()
    _clean(log)


def test_solar_from_hoymiles_and_battery_from_xolta(
    stack: Stack,
    yesterday: dict[str, float],
    names: dict[str, str],
    light: tuple[Page, PageLog],
) -> None:
    page, log = light
    _open_settings(page, stack)
    page.get_by_role("button", name="Add solar production").click()
    dialog = _dialog(page, "dialog-energy-solar-settings")
    assert _labels(dialog) == ["Solar production energy", "Solar production power"]
    # The plant's statistic (a year of hourly history, named "... PV energy (hourly history)",
    # unlike its live sensor, whose history starts the day the entry was added): searching
    # "Energy Hub" lists Energy Hub's statistics apart from the entities.
    _pick(page, dialog, "Solar production energy", "Energy Hub", names[SOLAR])
    _pick(page, dialog, "Solar production power", "Balcony Row", "PV power")
    _has_value(dialog, "Solar production energy", SOLAR)
    _has_value(dialog, "Solar production power", SOLAR_POWER)
    _shot(_panel(dialog), "energy-solar")
    dialog.get_by_role("button", name="Save").click()
    _closed(dialog)
    assert _source(page, "solar") == {
        "type": "solar",
        "stat_energy_from": SOLAR,
        "stat_rate": SOLAR_POWER,
        "config_entry_solar_forecast": None,
    }

    page.get_by_role("button", name="Add battery system").click()
    dialog = _dialog(page, "dialog-energy-battery-settings")
    assert _labels(dialog) == [
        "Energy discharged from the battery",
        "Energy charged into the battery",
        "Battery state of charge sensor",
    ]
    _pick(page, dialog, "Energy discharged from the battery", "XOLTA", names[BATTERY_OUT])
    _pick(page, dialog, "Energy charged into the battery", "XOLTA", names[BATTERY_IN])
    # XOLTA's battery power is + discharging, - charging: "Standard" again.
    dialog.get_by_role("radio", name="Standard").check()
    _pick(page, dialog, "Battery power", "Battery power", "XOLTA Sandbox house")
    _pick(page, dialog, "Battery state of charge sensor", "XOLTA", "Battery state of charge")
    page.set_viewport_size({"width": 1000, "height": 1300})
    _shot(_panel(dialog), "energy-battery")
    dialog.get_by_role("button", name="Save").click()
    _closed(dialog)
    battery = _source(page, "battery")
    assert battery == {
        "type": "battery",
        "stat_energy_from": BATTERY_OUT,
        "stat_energy_to": BATTERY_IN,
        "power_config": {"stat_rate": BATTERY_POWER},
        "stat_rate": BATTERY_POWER,
        "stat_soc": BATTERY_SOC,
    }
    _clean(log)


def test_gas_from_octopus(
    stack: Stack,
    yesterday: dict[str, float],
    names: dict[str, str],
    light: tuple[Page, PageLog],
) -> None:
    page, log = light
    _open_settings(page, stack)
    # A link to /config/energy/gas (inside a tab on 2026.10).
    page.get_by_role("link", name="Gas", exact=True).first.click()
    page.get_by_role("button", name="Add gas source").click()
    dialog = _dialog(page, "dialog-energy-gas-settings")
    _pick(page, dialog, _labels(dialog)[0], "Octopus gas", names[GAS])
    dialog.get_by_role("radio", name="Use an entity tracking the total costs").check()
    _pick(page, dialog, "Entity with the total costs", "Octopus gas", names[GAS_COST])
    _shot(_panel(dialog), "energy-gas")
    dialog.get_by_role("button", name="Save").click()
    _closed(dialog)
    gas = _source(page, "gas")
    assert {k: v for k, v in gas.items() if v is not None} == {
        "type": "gas",
        "stat_energy_from": GAS,
        "stat_cost": GAS_COST,
    }
    _clean(log)


def test_home_consumption_card(
    stack: Stack,
    yesterday: dict[str, float],
    names: dict[str, str],
    release: tuple[int, int],
    light: tuple[Page, PageLog],
) -> None:
    """2026.11's Home consumption card takes a kWh counter of the whole home (and its power);
    2026.10 has no such card and refuses a `home` source."""
    page, log = light
    _open_settings(page, stack)
    card = page.get_by_text("Home consumption", exact=True)
    if release < (2026, 11):
        expect(page.get_by_role("button", name="Add solar production")).to_be_visible()
        expect(card).to_have_count(0)
        expect(page.get_by_role("button", name="Add home meter")).to_have_count(0)
        before = _prefs(page)
        refused = page.evaluate(
            """async (msg) => {
                 try { await document.querySelector('home-assistant').hass.callWS(msg); }
                 catch (err) { return err; }
                 return null;
               }""",
            {
                "type": "energy/save_prefs",
                "energy_sources": [
                    *before["energy_sources"],
                    {"type": "home", "stat_energy_to": HOME_ENERGY_STATISTIC},
                ],
            },
        )
        assert refused is not None and refused["code"] == "invalid_format", refused
        assert _prefs(page) == before
        _clean(log)
        return
    expect(card).to_be_visible()
    page.get_by_role("button", name="Add home meter").click()
    dialog = _dialog(page, "dialog-energy-home-settings")
    expect(dialog).to_contain_text("Configure home consumption")
    assert _labels(dialog) == ["Home energy", "Home power"]
    _pick(page, dialog, "Home energy", "Energy Hub", names[HOME_ENERGY_STATISTIC])
    _pick(page, dialog, "Home power", "House consumption", "XOLTA Sandbox house")
    _has_value(dialog, "Home energy", HOME_ENERGY_STATISTIC)
    _has_value(dialog, "Home power", HOME_POWER_ENTITY)
    _name(dialog, "Home")
    _shot(_panel(dialog), "energy-home-2026.11")
    dialog.get_by_role("button", name="Save").click()
    _closed(dialog)
    assert _source(page, "home") == {
        "type": "home",
        "name": "Home",
        "stat_energy_to": HOME_ENERGY_STATISTIC,
        "stat_rate": HOME_POWER_ENTITY,
    }
    _clean(log)


def test_settings_page_lists_every_source(
    stack: Stack, yesterday: dict[str, float], release: tuple[int, int], light: tuple[Page, PageLog]
) -> None:
    page, log = light
    page.set_viewport_size({"width": 1000, "height": 1900 if release >= (2026, 11) else 1700})
    _open_settings(page, stack)
    kinds = [s["type"] for s in _prefs(page)["energy_sources"]]
    expected = ["grid", "solar", "battery", "gas"]
    assert sorted(kinds) == sorted(expected + (["home"] if release >= (2026, 11) else []))
    expect(page.get_by_text("Octopus", exact=True)).to_be_visible()
    _shot(page, f"energy-settings-{release[0]}.{release[1]}")
    _clean(log)


# --- what the dashboard shows ---------------------------------------------------------------
def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text.replace("\u2212", "-")))


def _table(page: Page) -> dict[str, tuple[float | None, float | None]]:
    """The Totals card: label -> (energy in kWh, cost in GBP)."""
    rows: dict[str, tuple[float | None, float | None]] = {}
    for text in page.locator("hui-energy-sources-table-card tr").all_inner_texts():
        cells = [c.strip() for c in text.split("\t") if c.strip()]
        if not cells or cells[0] == "Source":
            continue
        energy = next((c for c in cells[1:] if c.endswith("kWh")), None)
        cost = next((c for c in cells[1:] if c.startswith("£")), None)
        rows[cells[0]] = (
            _number(energy) if energy else None,
            _number(cost) if cost else None,
        )
    return rows


def _shown(value: float | None, expected: float) -> bool:
    """Shown to 0.01 as the dashboard rounds."""
    return value is not None and math.isclose(value, expected, abs_tol=0.0051)


def test_energy_dashboard_shows_yesterday_from_energy_hub(
    stack: Stack, yesterday: dict[str, float], release: tuple[int, int], light: tuple[Page, PageLog]
) -> None:
    page, log = light
    page.set_viewport_size({"width": 1100, "height": 1150})
    page.goto(f"{stack.url}/config/dashboard")
    wait_for_frontend(page)
    page.get_by_role("link", name="Energy").first.click()
    selector = page.locator("hui-energy-period-selector")
    expect(selector).to_be_visible(timeout=30_000)
    # It opens on today (on yesterday in the first hour of a day): one step back to yesterday.
    start, end = _yesterday()
    shown = re.compile(rf"(^|\s)({start.day} {start:%b}|{end.day} {end:%b})(\s|$)")
    expect(selector).to_have_text(shown)
    if not selector.get_by_text(f"{start.day} {start:%b}", exact=True).count():
        selector.get_by_role("button", name="Previous").click()
    expect(selector).to_have_text(re.compile(rf"(^|\s){start.day} {start:%b}(\s|$)"))

    y = yesterday
    grid_energy = y[IMPORT] - y[EXPORT]
    grid_cost = y[IMPORT_COST] - y[EXPORT_COMPENSATION]
    expected = {
        "Solar total": (y[SOLAR], None),
        "Battery total": (y[BATTERY_OUT] - y[BATTERY_IN], None),
        "Grid total": (grid_energy, grid_cost),
        "Gas total": (y[GAS], y[GAS_COST]),
        "Total costs": (None, grid_cost + y[GAS_COST]),
    }
    if release >= (2026, 11):
        expected["Home"] = (y[HOME_ENERGY_STATISTIC], None)
    table = page.locator("hui-energy-sources-table-card")
    expect(table).to_contain_text("Gas total")
    expect(table).to_contain_text(f"£{grid_cost + y[GAS_COST]:.2f}")
    shown = _table(page)
    assert set(shown) == set(expected)
    for label, (energy, cost) in expected.items():
        if energy is not None:
            assert _shown(shown[label][0], energy), (label, shown[label], energy)
        else:
            assert shown[label][0] is None
        if cost is not None:
            assert _shown(shown[label][1], cost), (label, shown[label], cost)
        else:
            assert shown[label][1] is None, (label, shown[label])
    # The distribution: the grid's import and the gas, in kWh to one decimal.
    distribution = page.locator("hui-energy-distribution-card")
    expect(distribution).to_contain_text(f"{y[IMPORT]:.1f} kWh")
    expect(distribution).to_contain_text(f"{y[GAS]:.1f} kWh")
    expect(
        page.locator("hui-energy-usage-graph-card canvas, hui-energy-usage-graph-card svg").first
    ).to_be_visible()
    _shot(page, f"energy-dashboard-{release[0]}.{release[1]}")
    _clean(log)


def test_validate_reports_no_issue_for_energy_hub(
    stack: Stack, yesterday: dict[str, float], release: tuple[int, int], light: tuple[Page, PageLog]
) -> None:
    """`energy/validate` has nothing to say about Energy Hub's statistics; the only thing it
    may report is a power sensor whose statistics the recorder has not compiled yet (it does
    every five minutes; this Home Assistant started a minute ago)."""
    page, log = light
    page.goto(f"{stack.url}/")
    wait_for_frontend(page)
    prefs = _prefs(page)
    # Which power sensors the recorder has compiled statistics for (rows of five minutes), asked
    # before validating (it only adds): those must have no issue whatever happens meanwhile.
    rows = hass_call(
        page,
        {
            "type": "recorder/statistics_during_period",
            "statistic_ids": sorted(POWER_ENTITIES),
            "start_time": (datetime.now(TZ) - timedelta(hours=1)).isoformat(),
            "period": "5minute",
            "types": ["mean"],
        },
    )
    compiled = {entity for entity, values in rows.items() if values}
    result = hass_call(page, {"type": "energy/validate"})
    assert len(result["energy_sources"]) == len(prefs["energy_sources"])
    issues = [issue for source in result["energy_sources"] for issue in source]
    issues += [issue for device in result["device_consumption"] for issue in device]
    for issue in issues:
        assert issue["type"] == "statistics_not_defined", issue
        for entity, _ in issue["affected_entities"]:
            assert entity in POWER_ENTITIES - compiled, (issue, compiled)
    _clean(log)
