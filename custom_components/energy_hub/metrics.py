"""The metric catalog: every value Energy Hub can report, declared once.

Each metric is a Home Assistant entity description (sensor or binary sensor) whose key is the
metric key. A source reports readings by metric key; the platforms build entities from this
catalog and only for the metrics a source actually reports.
"""

from dataclasses import dataclass
from typing import ClassVar, Final

from homeassistant.components.binary_sensor import BinarySensorEntityDescription
from homeassistant.components.event import EventEntityDescription
from homeassistant.components.number import NumberDeviceClass, NumberEntityDescription, NumberMode
from homeassistant.components.select import SelectEntityDescription
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    Platform,
    UnitOfEnergy,
    UnitOfMass,
    UnitOfPower,
    UnitOfTemperature,
)
from homeassistant.helpers.entity import EntityDescription

UNIT_CARBON_INTENSITY: Final = "gCO2/kWh"
#: Wholesale and imbalance prices, as the GB market quotes them.
UNIT_GBP_PER_MWH: Final = "GBP/MWh"


@dataclass(frozen=True, kw_only=True)
class EnergyHubEntityDescription(EntityDescription):
    """What Home Assistant's entity descriptions lack: the platform, unrecorded attributes.

    The key is the translation key: entity names and icons are keyed by it.
    """

    #: The platform whose entities this describes (each subclass names its own).
    platform: ClassVar[Platform]
    #: Attributes too large or too volatile for the recorder (forecasts, rate tables).
    unrecorded_attributes: frozenset[str] = frozenset()
    #: Attributes kept out of the recorder on this metric's entities only (their own entity
    #: class): the shared set above stays as it was, so no other entity's state info changes.
    own_unrecorded_attributes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        """The translation key is the key (unless one is given)."""
        if self.translation_key is None:
            object.__setattr__(self, "translation_key", self.key)


@dataclass(frozen=True, kw_only=True)
class EnergyHubSensorEntityDescription(EnergyHubEntityDescription, SensorEntityDescription):
    """A sensor Energy Hub can create: device class, state class, unit, precision, options."""

    platform: ClassVar[Platform] = Platform.SENSOR


@dataclass(frozen=True, kw_only=True)
class EnergyHubBinarySensorEntityDescription(
    EnergyHubEntityDescription, BinarySensorEntityDescription
):
    """An on/off reading Energy Hub can create."""

    platform: ClassVar[Platform] = Platform.BINARY_SENSOR


@dataclass(frozen=True, kw_only=True)
class EnergyHubEventEntityDescription(EnergyHubEntityDescription, EventEntityDescription):
    """An event entity: fired again whenever its reading's attributes change (a day's rates).

    The reading's value is the event type, its attributes the event's.
    """

    platform: ClassVar[Platform] = Platform.EVENT


@dataclass(frozen=True, kw_only=True)
class EnergyHubSelectEntityDescription(EnergyHubEntityDescription, SelectEntityDescription):
    """A choice that commands a device (a battery's mode): the reading's value is the option
    shown; choosing one asks the source to send it."""

    platform: ClassVar[Platform] = Platform.SELECT


@dataclass(frozen=True, kw_only=True)
class EnergyHubNumberEntityDescription(EnergyHubEntityDescription, NumberEntityDescription):
    """A value that commands a device (a battery's power setpoint): the reading's value is
    shown, its ``min`` and ``max`` attributes bound it; setting it asks the source to send it."""

    platform: ClassVar[Platform] = Platform.NUMBER


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


def _share(key: str, *, enabled: bool = True) -> EnergyHubSensorEntityDescription:
    return EnergyHubSensorEntityDescription(
        key=key,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        entity_registry_enabled_default=enabled,
    )


def _power_mw(key: str, *, enabled: bool = True) -> EnergyHubSensorEntityDescription:
    return EnergyHubSensorEntityDescription(
        key=key,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.MEGA_WATT,
        suggested_display_precision=0,
        entity_registry_enabled_default=enabled,
    )


def _price_per_mwh(key: str) -> EnergyHubSensorEntityDescription:
    return EnergyHubSensorEntityDescription(
        key=key,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UNIT_GBP_PER_MWH,
        suggested_display_precision=2,
    )


def _timestamp(
    key: str, category: EntityCategory | None = None
) -> EnergyHubSensorEntityDescription:
    """An instant (a window's start, when data last arrived)."""
    return EnergyHubSensorEntityDescription(
        key=key, device_class=SensorDeviceClass.TIMESTAMP, entity_category=category
    )


_METRICS: Final[tuple[EnergyHubEntityDescription, ...]] = (
    EnergyHubSensorEntityDescription(
        key="carbon_intensity",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UNIT_CARBON_INTENSITY,
        suggested_display_precision=0,
        unrecorded_attributes=frozenset({"forecast"}),
    ),
    EnergyHubSensorEntityDescription(
        key="carbon_intensity_index",
        device_class=SensorDeviceClass.ENUM,
        options=list(CARBON_INDEX_OPTIONS),
    ),
    *(_share(f"share_{fuel}", enabled=fuel not in MINOR_FUELS) for fuel in KNOWN_FUELS),
    _share("share_fuel", enabled=False),
    _share("renewable_share"),
    _share("fossil_share"),
    _timestamp("greenest_window_start"),
    EnergyHubSensorEntityDescription(
        key="greenest_window_intensity",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UNIT_CARBON_INTENSITY,
        suggested_display_precision=0,
    ),
    EnergyHubBinarySensorEntityDescription(key="greenest_window_active"),
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
    EnergyHubSensorEntityDescription(
        key="settlement_period", entity_category=EntityCategory.DIAGNOSTIC
    ),
    _timestamp("last_retrieved", EntityCategory.DIAGNOSTIC),
)


# --- rates (tariff and Octopus sources) ------------------------------------------------------
def _price(key: str) -> EnergyHubSensorEntityDescription:
    """A price per kWh (or per day); the unit comes with the reading (its currency)."""
    return EnergyHubSensorEntityDescription(
        key=key, state_class=SensorStateClass.MEASUREMENT, suggested_display_precision=4
    )


#: Event types of the day-rate events, before ``_<day>_day_rates``: the Octopus Energy
#: integration's own for Octopus meters, Energy Hub's for a typed-in tariff.
DAY_RATES_EVENT_KINDS: Final = (
    "octopus_energy_electricity",
    "octopus_energy_gas",
    "energy_hub_tariff",
)

RATE_METRICS: Final[tuple[EnergyHubEntityDescription, ...]] = (
    EnergyHubSensorEntityDescription(
        key="rate_current",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        unrecorded_attributes=frozenset({"rates_today", "rates_tomorrow"}),
        own_unrecorded_attributes=frozenset({"rates"}),
    ),
    _price("rate_next"),
    _price("rate_previous"),
    _price("rate_min_today"),
    _price("rate_max_today"),
    _price("rate_average_today"),
    _price("standing_charge"),
    _timestamp("rate_next_start"),
    EnergyHubBinarySensorEntityDescription(key="cheapest_rate_now"),
    # Export meters: the best time to export is the dearest.
    EnergyHubBinarySensorEntityDescription(key="highest_rate_now"),
    # Standing windows (``variant``: the window's name): the next or current best window.
    _timestamp("window_start"),
    _timestamp("window_end"),
    EnergyHubSensorEntityDescription(key="window_price", suggested_display_precision=4),
    EnergyHubBinarySensorEntityDescription(key="window_active"),
    # A day's rates as the Octopus Energy integration's events carry them (Predbat reads them).
    *(
        EnergyHubEventEntityDescription(
            key=f"{day}_day_rates",
            event_types=[f"{kind}_{day}_day_rates" for kind in DAY_RATES_EVENT_KINDS],
            own_unrecorded_attributes=frozenset({"rates"}),
        )
        for day in ("previous", "current", "next")
    ),
    EnergyHubSensorEntityDescription(key="tariff_code", entity_category=EntityCategory.DIAGNOSTIC),
    _timestamp("latest_reading", EntityCategory.DIAGNOSTIC),
)


# --- batteries, PV and the house (XOLTA, Aretas) ----------------------------------------------
def _power_w(key: str) -> EnergyHubSensorEntityDescription:
    return EnergyHubSensorEntityDescription(
        key=key,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
    )


def _energy_kwh(key: str) -> EnergyHubSensorEntityDescription:
    """A counter: only ever grows (restored across restarts), for the Energy dashboard."""
    return EnergyHubSensorEntityDescription(
        key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
    )


#: A plant's or device's state (Hoymiles): reporting, not reporting, reporting a warning.
DEVICE_STATUS_OPTIONS: Final = ("online", "offline", "warning")

BATTERY_METRICS: Final[tuple[EnergyHubEntityDescription, ...]] = (
    EnergyHubSensorEntityDescription(
        key="battery_soc",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
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
    _energy_kwh("house_energy"),  # XOLTA: the house's own consumption, as XOLTA measures it
    EnergyHubSensorEntityDescription(
        key="estimated_capacity",
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
    ),
    _energy_kwh("pv_energy_today"),  # back to 0 at the plant's local midnight
    EnergyHubSensorEntityDescription(
        key="inverter_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
    ),
    EnergyHubSensorEntityDescription(
        key="device_status",
        device_class=SensorDeviceClass.ENUM,
        options=list(DEVICE_STATUS_OPTIONS),
    ),
    _timestamp("last_report", EntityCategory.DIAGNOSTIC),
    #: A value of a type the vendor describes at run time: name (``variant``) and unit come
    #: with the reading.
    EnergyHubSensorEntityDescription(
        key="device_reading", state_class=SensorStateClass.MEASUREMENT
    ),
)

#: A battery that can be steered (XOLTA's official API): its mode, its external setpoint.
BATTERY_MODE_OPTIONS: Final = ("self_consumption", "external_control", "idle")
BATTERY_CONTROL_METRICS: Final[tuple[EnergyHubEntityDescription, ...]] = (
    EnergyHubSelectEntityDescription(key="battery_mode", options=list(BATTERY_MODE_OPTIONS)),
    EnergyHubNumberEntityDescription(
        key="battery_setpoint",
        device_class=NumberDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        native_step=1,
        mode=NumberMode.BOX,
    ),
)


# --- the household (Home) ------------------------------------------------------------------
def _home_total(key: str, *, energy: bool) -> EnergyHubSensorEntityDescription:
    """Today's or this month's total of one of the home's statistics. No state class: the
    hour-exact figures are the home's long-term statistics, which the sensor only follows."""
    return EnergyHubSensorEntityDescription(
        key=key,
        device_class=SensorDeviceClass.ENERGY if energy else SensorDeviceClass.WEIGHT,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR if energy else UnitOfMass.KILOGRAMS,
        suggested_display_precision=2 if energy else 1,
    )


HOME_OUTPUTS: Final = ("consumption", "grid_import_co2", "export_avoided_co2", "solar_avoided_co2")

HOME_METRICS: Final[tuple[EnergyHubEntityDescription, ...]] = (
    *(
        _home_total(f"home_{output}_{period}", energy=output == "consumption")
        for output in HOME_OUTPUTS
        for period in ("today", "month")
    ),
    *(
        EnergyHubSensorEntityDescription(
            key=f"home_battery_value_{period}",
            device_class=SensorDeviceClass.MONETARY,
            suggested_display_precision=2,
        )
        for period in ("today", "month")
    ),
    *(_home_total(f"home_battery_co2_{period}", energy=False) for period in ("today", "month")),
    _power_w("home_power"),
    EnergyHubSensorEntityDescription(
        key="home_emissions_rate",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement="g/h",
        suggested_display_precision=0,
    ),
)

#: Every description by key (the metric key a source's readings name).
METRICS: Final[dict[str, EnergyHubEntityDescription]] = {
    description.key: description
    for description in (
        *_METRICS,
        *RATE_METRICS,
        *BATTERY_METRICS,
        *HOME_METRICS,
        *BATTERY_CONTROL_METRICS,
    )
}

#: Attribute names kept out of the recorder, whichever entity carries them.
UNRECORDED_ATTRIBUTES: Final[frozenset[str]] = frozenset().union(
    *(description.unrecorded_attributes for description in METRICS.values())
)
