"""quality_scale.yaml: loads with Home Assistant's own YAML loader and names every rule.

hassfest skips this file for custom integrations, so nothing else would notice a typo or a
YAML error in it.
"""

from pathlib import Path

from homeassistant.util.yaml import load_yaml_dict

QUALITY_SCALE = (
    Path(__file__).parents[1] / "custom_components" / "energy_hub" / "quality_scale.yaml"
)

#: ``ALL_RULES`` of hassfest's quality_scale.py (Home Assistant 2026.10/2026.11): 54 rules.
ALL_RULES = {
    # Bronze
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow",
    "config-flow-test-coverage",
    "dependency-transparency",
    "docs-actions",
    "docs-conditions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "docs-triggers",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
    # Silver
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
    # Gold
    "devices",
    "diagnostics",
    "discovery",
    "discovery-update-info",
    "docs-data-update",
    "docs-examples",
    "docs-known-limitations",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-translations",
    "exception-translations",
    "icon-translations",
    "reconfiguration-flow",
    "repair-issues",
    "stale-devices",
    # Platinum
    "async-dependency",
    "inject-websession",
    "strict-typing",
}


def test_quality_scale_loads_and_names_every_rule() -> None:
    """Every rule once, a known status, and a comment wherever a rule is exempt."""
    rules = load_yaml_dict(str(QUALITY_SCALE))["rules"]
    assert len(ALL_RULES) == 54
    assert set(rules) == ALL_RULES
    for name, rule in rules.items():
        status = rule if isinstance(rule, str) else rule["status"]
        assert status in {"done", "todo", "exempt"}, name
        if status == "exempt":
            assert isinstance(rule, dict), name
            assert rule["comment"].strip(), name
