"""The typed-in tariff through Home Assistant: flow, price sensors at band edges, options."""

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .carbon_intensity_mocks import national_entry
from .conftest import advance, setup_integration, start_flow
from .entries import tariff_entry

FLUX = (
    "00:00-02:00 0.3072\n02:00-05:00 0.18432\n05:00-16:00 0.3072\n"
    "16:00-19:00 0.43008\n19:00-24:00 0.3072"
)
PREFIX = "sensor.flux_import"


@pytest.fixture(autouse=True)
async def london(hass: HomeAssistant) -> None:
    """Bands are local time: the tests live in London."""
    await hass.config.async_set_time_zone("Europe/London")
    hass.config.currency = "GBP"


async def test_flow_errors_then_entry(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Each problem is a form error naming the line; a good tariff makes an entry."""
    freezer.move_to("2026-01-15T15:30:00+00:00")
    flow_id = await start_flow(hass, "tariff")

    async def submit(**fields: str) -> dict:  # type: ignore[type-arg]
        base = {"name": "Flux import", "direction": "import", "bands": FLUX}
        return await hass.config_entries.flow.async_configure(flow_id, {**base, **fields})  # type: ignore[return-value]

    result = await submit(bands="00:00-12:00 0.1\n12:30-24:00 0.2")
    assert result["errors"] == {"bands": "bands_gap"}
    assert result["description_placeholders"] == {"start": "12:00", "end": "12:30"}
    result = await submit(bands="00:00-24:00 free")
    assert result["errors"] == {"bands": "invalid_rate"}
    assert result["description_placeholders"] == {"line": "1", "text": "free"}
    result = await submit(name="  ")
    assert result["errors"] == {"name": "invalid_name"}
    result = await submit(currency="pounds")
    assert result["errors"] == {"currency": "invalid_currency"}
    result = await submit()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Flux import"
    assert result["data"] == {
        "source": "tariff",
        "name": "Flux import",
        "direction": "import",
        "currency": "GBP",
    }
    assert result["options"] == {"bands": FLUX}
    await hass.async_block_till_done()
    assert hass.states.get(f"{PREFIX}_current_rate").state == "0.3072"

    flow_id = await start_flow(hass, "tariff")
    result = await submit()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "tariff_already_configured"


async def _entry(hass: HomeAssistant, bands: str = FLUX) -> MockConfigEntry:
    return await setup_integration(hass, tariff_entry(bands))


async def test_prices_at_band_edges_and_midnight(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The price moves exactly at 16:00, 19:00 and 02:00, with no request and no reload."""
    freezer.move_to("2026-01-15T15:59:59+00:00")
    await _entry(hass)
    current = hass.states.get(f"{PREFIX}_current_rate")
    assert current.state == "0.3072"
    assert current.attributes["unit_of_measurement"] == "GBP/kWh"
    assert current.attributes["state_class"] == "measurement"
    assert hass.states.get(f"{PREFIX}_next_rate").state == "0.43008"
    assert hass.states.get(f"{PREFIX}_next_rate_start").state == "2026-01-15T16:00:00+00:00"
    cheapest = "binary_sensor.flux_import_cheapest_rate_now"
    assert hass.states.get(cheapest).state == STATE_OFF

    await advance(hass, freezer, "2026-01-15T16:00:00+00:00")
    assert hass.states.get(f"{PREFIX}_current_rate").state == "0.43008"
    assert hass.states.get(f"{PREFIX}_next_rate_start").state == "2026-01-15T19:00:00+00:00"
    await advance(hass, freezer, "2026-01-15T19:00:00+00:00")
    assert hass.states.get(f"{PREFIX}_current_rate").state == "0.3072"
    # 19:00-24:00 and 00:00-02:00 are one price: the next change is 02:00 tomorrow.
    assert hass.states.get(f"{PREFIX}_next_rate_start").state == "2026-01-16T02:00:00+00:00"
    await advance(hass, freezer, "2026-01-16T00:00:00+00:00")
    assert hass.states.get(f"{PREFIX}_current_rate").state == "0.3072"
    await advance(hass, freezer, "2026-01-16T02:00:00+00:00")
    assert hass.states.get(f"{PREFIX}_current_rate").state == "0.18432"
    assert hass.states.get(cheapest).state == STATE_ON
    rates = hass.states.get(f"{PREFIX}_current_rate").attributes["rates_today"]
    assert [r["value"] for r in rates] == [0.3072, 0.18432, 0.3072, 0.43008, 0.3072]


async def test_summer_bands_follow_local_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """In summer 16:00 local is 15:00 UTC."""
    freezer.move_to("2026-07-01T14:59:00+00:00")
    await _entry(hass)
    assert hass.states.get(f"{PREFIX}_next_rate_start").state == "2026-07-01T15:00:00+00:00"


async def test_tariff_change_period(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A second period takes over on its first day."""
    freezer.move_to("2026-03-31T22:59:00+00:00")
    await _entry(hass, FLUX + "\nfrom 2026-04-01\n00:00-24:00 0.245")
    assert hass.states.get(f"{PREFIX}_current_rate").state == "0.3072"
    assert hass.states.get(f"{PREFIX}_next_rate").state == "0.245"
    await advance(hass, freezer, "2026-03-31T23:00:00+00:00")  # midnight BST
    assert hass.states.get(f"{PREFIX}_current_rate").state == "0.245"


async def test_options_edit_bands(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Editing the bands is validated like the flow, then reloads with the new prices."""
    freezer.move_to("2026-01-15T12:00:00+00:00")
    entry = await _entry(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "tariff"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"bands": "00:00-13:00 0.1\n12:00-24:00 0.2"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"bands": "bands_overlap"}
    assert result["description_placeholders"] == {"line": "2"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"bands": " 00:00-24:00 0.25 \n"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {"bands": "00:00-24:00 0.25"}
    assert hass.states.get(f"{PREFIX}_current_rate").state == "0.25"


async def test_reconfigure_without_credentials_aborts(hass: HomeAssistant) -> None:
    """Sources with no account reconfigure what they have instead (Carbon Intensity: its
    postcode; tests/test_reconfigure.py); nothing aborts "no credentials" any more."""
    entry = national_entry()
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "carbon_intensity_reconfigure"


@pytest.mark.parametrize(
    ("rate", "line"),
    [("nan", "1"), ("inf", "1"), ("-Infinity", "1"), ("1e400", "1"), ("2000000", "1")],
)
async def test_non_finite_rate_refused_in_flow_and_options(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, rate: str, line: str
) -> None:
    """A band priced NaN, infinity or beyond any currency's price is refused (it was saved,
    and the rate sensors could not be created); the stored bands stay as they were."""
    freezer.move_to("2026-01-15T12:00:00+00:00")
    flow_id = await start_flow(hass, "tariff")
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {"name": "Bad", "direction": "import", "bands": f"00:00-12:00 {rate}\n12:00-24:00 0.2"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"bands": "invalid_rate"}
    assert result["description_placeholders"] == {"line": line, "text": rate}

    entry = await _entry(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"bands": f"00:00-24:00 {rate}"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"bands": "invalid_rate"}
    assert entry.options == {"bands": FLUX}


async def test_negative_rate_accepted(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Plunge pricing: a negative price is a price."""
    freezer.move_to("2026-01-15T12:00:00+00:00")
    await _entry(hass, "00:00-12:00 0.2\n12:00-16:00 -0.0512\n16:00-24:00 0.3")
    assert hass.states.get(f"{PREFIX}_current_rate").state == "-0.0512"
