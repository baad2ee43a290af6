"""The metric catalog: every value Energy Hub can report, declared once.

A source reports readings by metric key; the platforms build entities from this catalog and
only for the metrics a source actually reports.
"""

from dataclasses import dataclass, field
from typing import Final

from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import PERCENTAGE, EntityCategory, Platform

UNIT_CARBON_INTENSITY: Final = "gCO2/kWh"


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


def _share(key: str, *, enabled: bool = True) -> Metric:
    return Metric(
        key=key,
        state_class=SensorStateClass.MEASUREMENT,
        unit=PERCENTAGE,
        precision=1,
        enabled_default=enabled,
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
    Metric(
        key="last_retrieved",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
)

METRICS: Final[dict[str, Metric]] = {metric.key: metric for metric in _METRICS}

#: Attribute names kept out of the recorder, whichever entity carries them.
UNRECORDED_ATTRIBUTES: Final[frozenset[str]] = frozenset().union(
    *(metric.unrecorded_attributes for metric in _METRICS)
)
