"""Source adapters: one per vendor or data feed. The registry below is the only list."""

from typing import Any, Final

from .aretas import AretasSource
from .base import Source
from .carbon_intensity import CarbonIntensitySource
from .elexon import ElexonSource
from .home import HomeSource
from .hoymiles import HoymilesSource
from .octopus import OctopusSource
from .tariff import TariffSource
from .xolta import XoltaSource

SOURCES: Final[dict[str, type[Source[Any]]]] = {
    source.key: source
    for source in (
        AretasSource,
        CarbonIntensitySource,
        ElexonSource,
        HomeSource,
        HoymilesSource,
        OctopusSource,
        TariffSource,
        XoltaSource,
    )
}
