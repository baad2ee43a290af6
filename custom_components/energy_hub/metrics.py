"""The metric catalog: every value Energy Hub can report, declared once.

A source reports readings by metric key; the platforms build entities from this catalog and
only for the metrics a source actually reports.
"""

from dataclasses import dataclass, field
from typing import Final

from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    Platform,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
)

UNIT_CARBON_INTENSITY: Final = "gCO2/kWh"
#: Wholesale and imbalance prices, as the GB market quotes them.
UNIT_GBP_PER_MWH: Final = "GBP/MWh"


@dataclass(frozen=True, kw_only=True, slots=True)
class Metric:
    """How a kind of value is shown: platform, classes, unit, precision, name, icon."""

    key: str
    platform: Platform = Platform.SENSOR
    device_class: SensorDeviceClass | BinarySensorDeviceClass | None = None
    state_class: SensorStateClass | None = None
    unit: str | None = None
    precision: int | None = None
    entity_category: EntityCategory | None = None
    enabled_default: bool = True
    options: tuple[str, ...] | None = None
    #: Attributes too large or too volatile for the recorder (forecasts, rate tables).
    unrecorded_attributes: frozenset[str] = field(default_factory=frozenset)

    @property
    def translation_key(self) -> str:
        """Entity names and icons are keyed by the metric key."""
        return self.key


CARBON_INDEX_OPTIONS: Final = ("very_low", "low", "moderate", "high", "very_high")

#: Fuels the generation-mix sources name; any other fuel is reported as ``share_fuel``.
KNOWN_FUELS: Final = (
    "biomass",
    "coal",
    "gas",
    "hydro",
    "imports",
    "nuclear",
    "other",
    "solar",
    "storage",
    "wind",
)
#: Fuels whose sensors are disabled until the user enables them: small shares.
MINOR_FUELS: Final = frozenset({"coal", "hydro", "other", "storage"})


#: Fuel types of transmission-metered generation (Elexon's codes, lower case); any other fuel
#: is reported as ``generation_fuel``.
GENERATION_FUELS: Final = (
    "biomass",
    "ccgt",
    "coal",
    "npshyd",
    "nuclear",
    "ocgt",
    "oil",
    "other",
    "ps",
    "solar",
    "wind",
)
#: Generation sensors disabled until the user enables them: small or rarely running.
MINOR_GENERATION_FUELS: Final = frozenset({"coal", "npshyd", "ocgt", "oil", "other", "ps"})
#: GB interconnectors by link name; a link not listed is reported as ``interconnector``.
INTERCONNECTORS: Final = (
    "britned",
    "east_west",
    "eleclink",
    "greenlink",
    "ifa",
    "ifa2",
    "moyle",
    "nemo_link",
    "north_sea_link",
    "viking_link",
)


def _share(key: str, *, enabled: bool = True) -> Metric:
    return Metric(
        key=key,
        state_class=SensorStateClass.MEASUREMENT,
        unit=PERCENTAGE,
        precision=1,
        enabled_default=enabled,
    )


def _power_mw(key: str, *, enabled: bool = True) -> Metric:
    return Metric(
        key=key,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        unit=UnitOfPower.MEGA_WATT,
        precision=0,
        enabled_default=enabled,
    )


def _price_per_mwh(key: str) -> Metric:
    return Metric(
        key=key, state_class=SensorStateClass.MEASUREMENT, unit=UNIT_GBP_PER_MWH, precision=2
    )


_METRICS: Final[tuple[Metric, ...]] = (
    Metric(
        key="carbon_intensity",
        state_class=SensorStateClass.MEASUREMENT,
        unit=UNIT_CARBON_INTENSITY,
        precision=0,
        unrecorded_attributes=frozenset({"forecast"}),
    ),
    Metric(
        key="carbon_intensity_index",
        device_class=SensorDeviceClass.ENUM,
        options=CARBON_INDEX_OPTIONS,
    ),
    *(_share(f"share_{fuel}", enabled=fuel not in MINOR_FUELS) for fuel in KNOWN_FUELS),
    _share("share_fuel", enabled=False),
    _share("renewable_share"),
    _share("fossil_share"),
    Metric(key="greenest_window_start", device_class=SensorDeviceClass.TIMESTAMP),
    Metric(
        key="greenest_window_intensity",
        state_class=SensorStateClass.MEASUREMENT,
        unit=UNIT_CARBON_INTENSITY,
        precision=0,
    ),
    Metric(key="greenest_window_active", platform=Platform.BINARY_SENSOR),
    *(
        _power_mw(f"generation_{fuel}", enabled=fuel not in MINOR_GENERATION_FUELS)
        for fuel in GENERATION_FUELS
    ),
    _power_mw("generation_fuel", enabled=False),
    *(_power_mw(f"interconnector_{link}") for link in INTERCONNECTORS),
    _power_mw("interconnector"),
    _power_mw("total_generation"),
    _power_mw("national_demand"),
    _price_per_mwh("system_buy_price"),
    _price_per_mwh("system_sell_price"),
    _price_per_mwh("market_index_price"),
    Metric(key="settlement_period", entity_category=EntityCategory.DIAGNOSTIC),
    Metric(
        key="last_retrieved",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
)


# --- rates (tariff and Octopus sources) ------------------------------------------------------
def _price(key: str) -> Metric:
    """A price per kWh (or per day); the unit comes with the reading (its currency)."""
    return Metric(key=key, state_class=SensorStateClass.MEASUREMENT, precision=4)


RATE_METRICS: Final[tuple[Metric, ...]] = (
    Metric(
        key="rate_current",
        state_class=SensorStateClass.MEASUREMENT,
        precision=4,
        unrecorded_attributes=frozenset({"rates_today", "rates_tomorrow"}),
    ),
    _price("rate_next"),
    _price("rate_previous"),
    _price("rate_min_today"),
    _price("rate_max_today"),
    _price("rate_average_today"),
    _price("standing_charge"),
    Metric(key="rate_next_start", device_class=SensorDeviceClass.TIMESTAMP),
    Metric(key="cheapest_rate_now", platform=Platform.BINARY_SENSOR),
    Metric(key="tariff_code", entity_category=EntityCategory.DIAGNOSTIC),
    Metric(
        key="latest_reading",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
)


# --- batteries, PV and the house (XOLTA, Aretas) ----------------------------------------------
def _power_w(key: str) -> Metric:
    return Metric(
        key=key,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        unit=UnitOfPower.WATT,
        precision=0,
    )


def _energy_kwh(key: str) -> Metric:
    """A counter: only ever grows (restored across restarts), for the Energy dashboard."""
    return Metric(
        key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        unit=UnitOfEnergy.KILO_WATT_HOUR,
        precision=2,
    )


#: A plant's or device's state (Hoymiles): reporting, not reporting, reporting a warning.
DEVICE_STATUS_OPTIONS: Final = ("online", "offline", "warning")

BATTERY_METRICS: Final[tuple[Metric, ...]] = (
    Metric(
        key="battery_soc",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        unit=PERCENTAGE,
        precision=0,
    ),
    _power_w("battery_power"),  # + discharging, - charging
    _power_w("pv_power"),
    _power_w("grid_power"),  # + importing, - exporting
    _power_w("house_power"),
    _energy_kwh("battery_charged_energy"),
    _energy_kwh("battery_discharged_energy"),
    _energy_kwh("pv_energy"),
    _energy_kwh("grid_import_energy"),
    _energy_kwh("grid_export_energy"),
    Metric(
        key="estimated_capacity",
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        state_class=SensorStateClass.MEASUREMENT,
        unit=UnitOfEnergy.KILO_WATT_HOUR,
        precision=1,
    ),
    _energy_kwh("pv_energy_today"),  # back to 0 at the plant's local midnight
    Metric(
        key="inverter_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        unit=UnitOfTemperature.CELSIUS,
        precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        enabled_default=False,
    ),
    Metric(key="device_status", device_class=SensorDeviceClass.ENUM, options=DEVICE_STATUS_OPTIONS),
    Metric(
        key="last_report",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    #: A value of a type the vendor describes at run time: name (``variant``) and unit come
    #: with the reading.
    Metric(key="device_reading", state_class=SensorStateClass.MEASUREMENT),
)

METRICS: Final[dict[str, Metric]] = {
    metric.key: metric for metric in (*_METRICS, *RATE_METRICS, *BATTERY_METRICS)
}

#: Attribute names kept out of the recorder, whichever entity carries them.
UNRECORDED_ATTRIBUTES: Final[frozenset[str]] = frozenset().union(
    *(metric.unrecorded_attributes for metric in METRICS.values())
)
