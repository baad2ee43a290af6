"""Every error and abort a config flow, reauth, reconfigure or options step can return has its
text in translations/en.json, in the section Home Assistant reads it from; every field of every
form has a label and a help text; no text is left for a step, error or abort that is gone.

The errors and aborts are collected from the code (an AST walk over the package): each
``FlowError("...")``, ``async_abort(reason="...")`` and ``_abort_if_...(error|reason="...")``,
the reasons Home Assistant itself returns for the calls the flow makes, and the reasons
derived from a source's key. An error counts for the options when a ``validate_options`` (or
the options flow) reaches it through the package's functions.
"""

import ast
from collections.abc import Iterator, Mapping
import json
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from custom_components.energy_hub.config_flow import EnergyHubConfigFlow, EnergyHubOptionsFlow
from custom_components.energy_hub.sources import SOURCES

PACKAGE = Path(__file__).parents[1] / "custom_components" / "energy_hub"
EN: dict[str, Any] = json.loads((PACKAGE / "translations" / "en.json").read_text())
TREES = {path: ast.parse(path.read_text()) for path in sorted(PACKAGE.rglob("*.py"))}
#: Where flows live: the flow classes and the sources (api/ and the runtime raise no
#: FlowError and show no form).
FLOW_TREES = [
    tree
    for path, tree in TREES.items()
    if path.name == "config_flow.py" or path.parent.name == "sources"
]

#: Where a flow's errors and aborts start: the config flow and options flow classes, and the
#: source hooks they call.
CONFIG_ROOTS = {
    "EnergyHubConfigFlow",
    "flow_form",
    "async_flow_submit",
    "async_credentials_submit",
    "async_reconfigure_submit",
}
OPTIONS_ROOTS = {"EnergyHubOptionsFlow", "validate_options"}


def _functions() -> dict[str, list[ast.AST]]:
    """Every function and method of the flows and sources by name (names repeat: all kept),
    and the two flow classes."""
    found: dict[str, list[ast.AST]] = {}
    for tree in FLOW_TREES:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and not node.name.startswith("__")
            ) or (isinstance(node, ast.ClassDef) and node.name.endswith("Flow")):
                found.setdefault(node.name, []).append(node)
    return found


def _class_texts() -> dict[str, set[str]]:
    """Strings the sources give their class attributes (``not_found = "site_not_found"``), by
    attribute name: what ``FlowError(cls.not_found)`` can be."""
    found: dict[str, set[str]] = {}
    for tree in FLOW_TREES:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and (text := _text(node.value)) is not None
            ):
                found.setdefault(node.target.id, set()).add(text)
    return found


FUNCTIONS = _functions()


def _called(node: ast.AST) -> Iterator[str]:
    """Names of what ``node`` calls (``f()``, ``x.f()``, ``super().f()``)."""
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            if isinstance(call.func, ast.Name):
                yield call.func.id
            elif isinstance(call.func, ast.Attribute):
                yield call.func.attr


def _reachable(roots: set[str]) -> list[ast.AST]:
    """The package's functions ``roots`` reach through calls (by name: generous)."""
    seen: set[str] = set()
    todo = [name for name in roots if name in FUNCTIONS]
    nodes: list[ast.AST] = []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in FUNCTIONS[name]:
            nodes.append(node)
            todo += [called for called in _called(node) if called in FUNCTIONS]
    return nodes


def _text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {kw.arg: kw.value for kw in call.keywords if kw.arg}


def _errors(nodes: list[ast.AST]) -> set[str]:
    """The first argument of every ``FlowError(...)`` in ``nodes``."""
    out: set[str] = set()
    for node in nodes:
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "FlowError"
            ):
                first = call.args[0] if call.args else None
                if isinstance(first, ast.Attribute) and first.attr in CLASS_TEXTS:
                    out |= CLASS_TEXTS[first.attr]  # a source's own (cls.not_found)
                    continue
                text = _text(first)
                assert text is not None, ast.unparse(call)  # a key, never computed
                out.add(text)
    return out


def _flow_calls(nodes: list[ast.AST]) -> Iterator[tuple[str, ast.Call]]:
    for node in nodes:
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                yield call.func.attr, call


def _aborts(nodes: list[ast.AST]) -> set[str]:
    """Abort reasons the flow code returns, written out or Home Assistant's defaults for the
    calls it makes; reasons built from a source key are :func:`_derived_aborts`."""
    out: set[str] = set()
    for name, call in _flow_calls(nodes):
        keywords = _keywords(call)
        if name == "async_abort":
            reason = keywords.get("reason")
            if (text := _text(reason)) is not None:
                out.add(text)
            else:  # built per source: checked by _derived_aborts, which must know its shape
                assert isinstance(reason, ast.JoinedStr), ast.unparse(call)
                assert ast.unparse(reason) == "f'{source.key}_already_configured'"
        elif name == "_abort_if_unique_id_configured":
            error = keywords.get("error")
            if error is None:
                out.add("already_configured")
            else:
                assert ast.unparse(error) == "f'{source.key}_already_configured'"
        elif name == "_abort_if_unique_id_mismatch":
            out.add(_text(keywords.get("reason")) or "unique_id_mismatch")
        elif name == "async_update_reload_and_abort":
            if (text := _text(keywords.get("reason"))) is not None:
                out.add(text)
            else:  # Home Assistant's: per the flow's source
                out |= {"reauth_successful", "reconfigure_successful"}
        elif name == "async_set_unique_id" and "raise_on_progress" not in keywords:
            out.add("already_in_progress")
    return out


def _derived_aborts() -> set[str]:
    """One "already configured" per source: the flow names it after the source's key."""
    return {f"{key}_already_configured" for key in SOURCES}


CLASS_TEXTS = _class_texts()
CONFIG_NODES = _reachable(CONFIG_ROOTS)
OPTIONS_NODES = _reachable(OPTIONS_ROOTS)


def test_the_walk_finds_what_it_should() -> None:
    """The collection itself: known errors and aborts of each kind are found where they are
    (a walk that found nothing would pass everything)."""
    config_errors = _errors(CONFIG_NODES)
    assert {"invalid_postcode", "invalid_auth", "invalid_credentials", "not_a_number"} <= (
        config_errors
    )
    assert {"invalid_refresh_token", "region_already_added", "tariff_already_added"} <= (
        config_errors
    )
    assert {"no_sites", "site_not_found", "no_devices", "device_not_found"} <= config_errors
    options_errors = _errors(OPTIONS_NODES)
    assert {"invalid_plant", "invalid_choice", "not_a_number", "bands_gap"} <= options_errors
    assert "invalid_postcode" not in options_errors  # the walk follows calls, not everything
    aborts = _aborts(CONFIG_NODES)
    assert {"wrong_account", "no_credentials", "nothing_to_reconfigure"} <= aborts
    assert {"reauth_successful", "reconfigure_successful", "already_in_progress"} <= aborts
    assert "already_configured" not in aborts  # each source has its own


def test_every_config_flow_error_has_its_text() -> None:
    """config.error holds every error of the user, reauth and reconfigure steps."""
    missing = _errors(CONFIG_NODES) - set(EN["config"]["error"])
    assert not missing


def test_every_options_error_has_its_text() -> None:
    """options.error holds every error an options step can show (invalid_plant: Hoymiles)."""
    missing = _errors(OPTIONS_NODES) - set(EN["options"]["error"])
    assert not missing
    assert EN["options"]["error"]["invalid_plant"] == EN["config"]["error"]["invalid_plant"]


def test_every_abort_has_its_text() -> None:
    """config.abort holds every abort of the user, reauth and reconfigure flows; the options
    flow aborts nowhere (if it did, options.abort would need the text)."""
    missing = (_aborts(CONFIG_NODES) | _derived_aborts()) - set(EN["config"]["abort"])
    assert not missing
    assert not _aborts(OPTIONS_NODES) - set(EN["options"].get("abort", {}))


def test_no_text_for_what_is_gone() -> None:
    """No text is left for an abort, error or options step the code no longer has."""
    aborts = _aborts(CONFIG_NODES) | _derived_aborts()
    assert set(EN["config"]["abort"]) <= aborts
    assert set(EN["config"]["error"]) <= _errors(list(FLOW_TREES))
    steps = {source.options_step() for source in SOURCES.values() if source.options_schema()}
    assert set(EN["options"]["step"]) == steps


def _forms() -> Iterator[tuple[str, str, vol.Schema]]:
    """Every form: (section, step id, schema) of each source's flow steps, reauth,
    reconfigure and options."""
    for source in SOURCES.values():
        for step_id in source.flow_steps:
            yield "config", step_id, source.flow_form(step_id, None).schema
        if (credentials := source.credentials_schema()) is not None:
            yield "config", "reauth_confirm", credentials
        if (reconfigure := source.reconfigure_schema()) is not None:
            yield "config", source.reconfigure_step_id, reconfigure
        if (options := source.options_schema()) is not None:
            yield "options", source.options_step(), options


def _labelled(step: Mapping[str, Any], schema: vol.Schema, where: str) -> list[str]:
    """What ``schema``'s fields lack in ``step`` (a step's or a section's texts)."""
    lacking: list[str] = []
    for marker, value in schema.schema.items():
        field = str(getattr(marker, "schema", marker))
        inner = getattr(value, "schema", None)
        if isinstance(inner, vol.Schema):  # a section: its name, then its own fields
            texts = step.get("sections", {}).get(field, {})
            if not texts.get("name"):
                lacking.append(f"{where}: section {field} has no name")
            lacking += _labelled(texts, inner, f"{where}.{field}")
            continue
        if not step.get("data", {}).get(field):
            lacking.append(f"{where}: {field} has no label")
        if not step.get("data_description", {}).get(field):
            lacking.append(f"{where}: {field} has no help text")
    return lacking


@pytest.mark.parametrize(
    ("section", "step_id", "schema"),
    [pytest.param(*form, id=f"{form[0]}.{form[1]}") for form in _forms()],
)
def test_every_field_has_a_label_and_a_help_text(
    section: str, step_id: str, schema: vol.Schema
) -> None:
    """A form's every field (sections' too) has a label and a help text, and the form a
    title."""
    step = EN[section]["step"].get(step_id)
    assert step is not None, step_id
    assert step.get("title"), step_id
    assert not _labelled(step, schema, step_id)


def test_every_step_the_flows_show_has_a_method() -> None:
    """Each source's reconfigure and options steps can be submitted: Home Assistant calls
    ``async_step_<step id>`` of the flow."""
    for source in SOURCES.values():
        if source.reconfigure_schema() is not None:
            assert hasattr(EnergyHubConfigFlow, f"async_step_{source.reconfigure_step_id}")
        if source.options_schema() is not None:
            assert hasattr(EnergyHubOptionsFlow, f"async_step_{source.options_step()}")


def test_the_options_steps_are_the_sources_own() -> None:
    """One options step per source, titled for it; no help text starts with another source's
    name (they did: "Hoymiles: ..." in a step every source shared)."""
    names = ("Hoymiles", "Aretas", "XOLTA", "Octopus", "Elexon", "Carbon Intensity")
    for source in SOURCES.values():
        if source.options_schema() is None:
            continue
        step = EN["options"]["step"][source.options_step()]
        fields = {str(getattr(m, "schema", m)) for m in source.options_schema().schema}
        assert set(step["data"]) == fields, source.key
        for text in step["data_description"].values():
            assert not text.startswith(tuple(f"{name}:" for name in names)), text
