"""Constants for Energy Hub."""

import logging
from typing import Final

DOMAIN: Final = "energy_hub"
LOGGER = logging.getLogger(__package__)

CONF_SOURCE: Final = "source"
CONF_BASE_URL: Final = "base_url"
CONF_ADVANCED: Final = "advanced"

ATTRIBUTION: Final = "Data provided by Energy Hub sources"
