"""Every name, error and icon the code can use has its text in translations/en.json."""

import json
from pathlib import Path
import re

from custom_components.energy_hub.metrics import METRICS
from custom_components.energy_hub.sources import SOURCES

PACKAGE = Path(__file__).parents[1] / "custom_components" / "energy_hub"
EN = json.loads((PACKAGE / "translations" / "en.json").read_text())
ICONS = json.loads((PACKAGE / "icons.json").read_text())
CODE = "\n".join(path.read_text() for path in PACKAGE.rglob("*.py"))


def test_every_metric_has_a_name_and_an_icon() -> None:
    """Entity names and icons are keyed by the metric key, per platform."""
    for metric in METRICS.values():
        platform = str(metric.platform)
        names = EN["entity"][platform]
        assert metric.translation_key in names, metric.key
        assert names[metric.translation_key]["name"], metric.key
        assert metric.translation_key in ICONS["entity"][platform], metric.key
        for option in getattr(metric, "options", None) or ():  # sensors have options
            assert option in names[metric.translation_key]["state"], (metric.key, option)


def test_no_stale_entity_translations() -> None:
    """Nothing in the translations names a metric that no longer exists."""
    for platform, names in EN["entity"].items():
        for key in names:
            assert key in METRICS, (platform, key)
            assert str(METRICS[key].platform) == platform


def test_every_source_has_its_menu_entry_and_steps() -> None:
    """The source menu and each source's form have titles and field labels."""
    menu = EN["config"]["step"]["user"]["menu_options"]
    assert set(menu) == set(SOURCES)
    for source in SOURCES.values():
        for step_id in source.flow_steps:
            step = EN["config"]["step"][step_id]
            assert step["title"]
            schema = source.flow_form(step_id, None).schema
            fields = {str(key) for key in schema.schema}
            assert fields <= set(step.get("data", {})) | set(step.get("sections", {}))
        if (options := source.options_schema()) is not None:
            labels = EN["options"]["step"][source.options_step()]["data"]
            assert {str(key) for key in options.schema} <= set(labels)


def test_every_error_and_exception_key_is_translated() -> None:
    """Flow errors, aborts and exception translation keys used in code all have texts."""
    errors = set(re.findall(r'FlowError\(\s*"([a-z_]+)"', CODE))
    assert errors
    assert errors <= set(EN["config"]["error"])
    exceptions = set(re.findall(r'translation_key="([a-z_]+)"', CODE))
    assert exceptions
    assert exceptions <= set(EN["exceptions"])
