"""Property-based: no form input crashes a flow, and nothing non-finite reaches an entry.

For every source, every step of its config flow and its options form, hypothesis draws
input from the form's own schema: odd text, NaN and infinities (as floats and as text such
as "nan"), huge numbers, odd server URLs, values outside a select's options, next to values
that work (the sandbox accounts), so later steps are reached too. Vendors are the in-process
sandbox; any other host is refused by aioresponses. A flow may answer with a form and its
errors, the next step, an entry or an abort, or refuse the input through the form's schema
(HA answers HTTP 400 with the field error); anything else would be an HTTP 500 in the UI.
"""

from collections.abc import AsyncIterator, Mapping
import math
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import TestClient, TestServer
from aioresponses import aioresponses
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData, section
from homeassistant.helpers import selector
from homeassistant.util import dt as dt_util
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.energy_hub.const import DOMAIN
from custom_components.energy_hub.sources import SOURCES
from custom_components.energy_hub.sources.tariff import parse_bands
from sandbox import create_app
import sandbox.aretas as sb_aretas
import sandbox.hoymiles as sb_hoymiles
import sandbox.octopus as sb_octopus

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

BANDS = "00:00-07:00 0.09\n07:00-24:00 0.30"
#: Values that work, per source and field: with them the flows reach their later steps.
GOOD: Mapping[str, Mapping[str, tuple[Any, ...]]] = {
    "aretas": {"username": (sb_aretas.USERNAME,), "password": (sb_aretas.PASSWORD,)},
    "carbon_intensity": {"postcode": ("", "NG1 1AA")},
    "elexon": {},
    "home": {"name": ("Home",)},
    "hoymiles": {"username": (sb_hoymiles.DEMO_USER,), "password": (sb_hoymiles.PASSWORD,)},
    "octopus": {
        "api_key": (sb_octopus.API_KEY,),
        "account_number": (sb_octopus.ACCOUNT_NUMBER,),
    },
    "tariff": {"name": ("Home",), "currency": ("GBP", ""), "bands": (BANDS,)},
    "xolta": {"username": ("two.sites@xolta.example",), "password": ("xolta-sandbox",)},
}
ODD_TEXT = (
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "-0",
    " ",
    "A-1B2C3D4E:",
    "key:with:colons",
    "00:00-24:00 nan",
    "00:00-24:00 inf",
    "00:00-12:00 1e400\n12:00-24:00 0.1",
    "from 2026-01-01\n00:00-24:00 -inf",
    "☃️",
    "\x00",
    "a" * 300,
)
ODD_BANDS = (
    "00:00-24:00 nan",
    "00:00-24:00 inf",
    "00:00-12:00 1e400\n12:00-24:00 0.1",
    "from 2026-01-01\n00:00-24:00 -inf",
    "00:00-24:00 1e308",
    "00:00-24:00 0x10",
    "99:99-24:00 1",
    "from 2026-02-30\n00:00-24:00 1",
)
ODD_URLS = (
    "http://[::1",
    "http://[::1]:1/",
    "https://user:pass@mirror.example.test/",
    "https://user@mirror.example.test",
    "ftp://mirror.example.test",
    "mirror.example.test",
    "https://",
    "http:///path",
    "http://mirror.example.test:99999",
    "http://mirror.example.test:abc",
    "https://mirror.example.test/?q=1",
    "https://mirror.example.test/#frag",
    "https://mir ror.example.test",
    "javascript:alert(1)",
    "https://mirror.example.test/api/",
    "http://127.0.0.1:1",
)
ODD_NUMBERS = (
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    0,
    -1,
    0.5,
    2.5,
    10**20,
    "nan",
    "inf",
    "-inf",
    "1e999",
    "NaN",
    "12",
)


def _good_strategy(good: Mapping[str, tuple[Any, ...]], name: str, validator: Any) -> Any:
    """Values that work for one field: the source's own, a select's options, an in-range
    number; None when the field has none (a server URL: left out)."""
    if name in good:
        return st.sampled_from(good[name])
    if isinstance(validator, selector.NumberSelector):
        low = int(validator.config.get("min", 0))
        return st.integers(min_value=low, max_value=int(validator.config.get("max", low + 100)))
    if isinstance(validator, selector.BooleanSelector):
        return st.booleans()
    if isinstance(validator, selector.SelectSelector):
        options = [
            option if isinstance(option, str) else option["value"]
            for option in validator.config["options"]
        ]
        if not options:
            return None
        if validator.config.get("multiple"):
            return st.lists(st.sampled_from(options), min_size=1, unique=True)
        return st.sampled_from(options)
    return None


def _odd_strategy(name: str, validator: Any) -> st.SearchStrategy[Any]:
    """Odd values for one field, from its selector."""
    if isinstance(validator, selector.NumberSelector):
        return st.one_of(
            st.sampled_from([math.nan, math.inf, -math.inf, "nan"]),
            st.sampled_from(ODD_NUMBERS),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(min_value=-(10**30), max_value=10**30),
        )
    if isinstance(validator, selector.BooleanSelector):
        return st.sampled_from(["nan", math.nan, 1, None])
    if isinstance(validator, selector.SelectSelector):
        one = st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=12))
        if validator.config.get("multiple"):
            return st.one_of(
                st.lists(one, max_size=3),
                st.just([]),
                st.sampled_from(["1001,1002", "nan", math.nan]),
            )
        return one
    if name == "bands":
        return st.one_of(
            st.sampled_from(ODD_BANDS[:4]),
            st.sampled_from(ODD_BANDS),
            st.builds("00:00-24:00 {}".format, st.sampled_from(ODD_NUMBERS)),
            st.text(max_size=40),
        )
    if name == "base_url":
        return st.one_of(st.sampled_from(ODD_URLS), st.sampled_from(ODD_URLS[:3]), st.text())
    return st.one_of(
        st.sampled_from(ODD_TEXT),
        st.text(max_size=40),
        st.sampled_from([math.nan, 12, None]),
    )


def _input_strategy(
    schema: vol.Schema, good: Mapping[str, tuple[Any, ...]]
) -> st.SearchStrategy[dict[str, Any]]:
    """A submission of ``schema`` (sections as dicts): each field odd or good as drawn, an
    optional field sometimes left out."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        names = [str(getattr(marker, "schema", marker)) for marker in schema.schema]
        # Half the submissions have exactly one odd field (the others work), so each field's
        # own check is reached; the other half draw each field odd or good.
        single = draw(st.sampled_from([*names, None]))
        out: dict[str, Any] = {}
        for marker, validator in schema.schema.items():
            name = str(getattr(marker, "schema", marker))
            if isinstance(validator, section):
                out[name] = draw(_input_strategy(validator.schema, good))
                continue
            working = _good_strategy(good, name, validator)
            if working is None:
                odd = True
            elif single is not None:
                odd = name == single
            else:
                odd = draw(st.integers(0, 2)) == 0
            if isinstance(marker, vol.Optional) and draw(st.integers(0, 5)) == 0:
                continue
            out[name] = draw(_odd_strategy(name, validator) if odd else working)
        return out

    return build()


def _assert_finite(value: Any, where: str) -> None:
    if isinstance(value, float):
        assert math.isfinite(value), where
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _assert_finite(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for item in value:
            _assert_finite(item, where)


@pytest.fixture
async def vendors(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """The sandbox on loopback for every vendor; any other host is refused."""
    async with TestClient(
        TestServer(create_app(clock=dt_util.utcnow), host="127.0.0.1", access_log=None)
    ) as client:
        monkeypatch.setenv("ENERGY_HUB_SANDBOX_URL", str(client.make_url("")).rstrip("/"))
        with aioresponses(passthrough=["http://127.0.0.1"]):
            yield client


@pytest.fixture
def no_setup() -> Any:
    """Entries are created but not set up (the flows are under test, not the sources)."""
    with (
        patch("custom_components.energy_hub.async_setup_entry", return_value=True),
        patch("custom_components.energy_hub.async_unload_entry", return_value=True),
    ):
        yield


async def _clear_entries(hass: HomeAssistant, vendors: TestClient) -> None:  # type: ignore[type-arg]
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_remove(entry.entry_id)
    sb_hoymiles.sandbox_of(vendors.server.app)._failures.clear()
    sb_hoymiles.sandbox_of(vendors.server.app)._locked_until.clear()


async def _submit(hass: HomeAssistant, flow_id: str, user_input: dict[str, Any]) -> Any:
    """One submission; a refusal by the form's schema is an answer too (HTTP 400)."""
    try:
        return await hass.config_entries.flow.async_configure(flow_id, user_input)
    except InvalidData:
        return None


@pytest.mark.usefixtures("no_setup")
@pytest.mark.parametrize("source_key", sorted(SOURCES))
@FUZZ
@given(data=st.data())
async def test_config_flow_never_crashes(
    hass: HomeAssistant,
    vendors: TestClient,  # type: ignore[type-arg]
    source_key: str,
    data: st.DataObject,
) -> None:
    """Every step of every source's flow: a form (with errors), the next step, an entry or
    an abort; an entry's data and options hold only finite numbers."""
    await _clear_entries(hass, vendors)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": source_key}
    )
    flow_id = result["flow_id"]
    for _ in range(4):  # a source has at most two steps; errors show the same step again
        assert result["type"] is FlowResultType.FORM
        assert set(result["errors"] or {}) <= {"base"} | {
            str(getattr(key, "schema", key)) for key in result["data_schema"].schema
        }
        user_input = data.draw(
            _input_strategy(result["data_schema"], GOOD[source_key]), label=result["step_id"]
        )
        answer = await _submit(hass, flow_id, user_input)
        if answer is None:
            continue  # refused by the schema: the same form is still open
        result = answer
        if result["type"] is FlowResultType.CREATE_ENTRY:
            _assert_finite(result["data"], "data")
            _assert_finite(result["options"], "options")
            _assert_finite(dict(result["result"].options), "entry.options")
            if source_key == "tariff":  # the prices are text: every one parsed must be finite
                periods = parse_bands(result["options"]["bands"])
                _assert_finite([band.rate for p in periods for band in p.bands], "bands")
            return
        if result["type"] is FlowResultType.ABORT:
            assert result["reason"] == f"{source_key}_already_configured"
            return
    hass.config_entries.flow.async_abort(flow_id)


#: Entries of the sandbox accounts (reauth with the right password succeeds).
_ACCOUNTS: Mapping[str, Mapping[str, Any]] = {
    "aretas": {
        "username": sb_aretas.USERNAME,
        "password": "old",
        "mac": sb_aretas.BESS_MAC,
        "name": "BESS",
    },
    "hoymiles": {"username": sb_hoymiles.DEMO_USER, "password": "old"},
    "octopus": {"api_key": "old", "account_number": sb_octopus.ACCOUNT_NUMBER},
    "xolta": {
        "username": "two.sites@xolta.example",
        "password": "old",
        "site_id": "sandbox-house",
        "site_name": "Sandbox house",
    },
}


@pytest.mark.usefixtures("no_setup")
@pytest.mark.parametrize(
    "source_key", sorted(key for key, source in SOURCES.items() if source.credentials_schema())
)
@settings(FUZZ, max_examples=12)  # a Hoymiles login hashes with Argon2: slow on purpose
@given(data=st.data())
async def test_reauth_never_crashes(
    hass: HomeAssistant,
    vendors: TestClient,  # type: ignore[type-arg]
    source_key: str,
    data: st.DataObject,
) -> None:
    """The credentials form of reauth and reconfigure: a form with errors or an abort."""
    await _clear_entries(hass, vendors)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"{source_key}_fuzz",
        data={"source": source_key, **_ACCOUNTS[source_key]},
        options=dict(SOURCES[source_key].default_options),
    )
    entry.add_to_hass(hass)
    start = data.draw(st.sampled_from([entry.start_reauth_flow, entry.start_reconfigure_flow]))
    result = await start(hass)
    for _ in range(3):
        assert result["type"] is FlowResultType.FORM
        user_input = data.draw(_input_strategy(result["data_schema"], GOOD[source_key]))
        answer = await _submit(hass, result["flow_id"], user_input)
        if answer is None:
            continue
        if answer["type"] is FlowResultType.ABORT:
            assert answer["reason"] in {
                "wrong_account",
                "reauth_successful",
                "reconfigure_successful",
            }
            _assert_finite(dict(entry.data), "entry.data")
            break
        result = answer
    else:
        hass.config_entries.flow.async_abort(result["flow_id"])


_CHOICES = {"hoymiles": {"plants": {"1001": "Balcony Row", "1003": "Hybrid House"}}}
_ENTRY_DATA = {
    "aretas": {"username": "u", "password": "p", "mac": 1, "name": "BESS"},
    "carbon_intensity": {},
    "elexon": {},
    "home": {"name": "Home"},
    "hoymiles": {"username": "u", "password": "p"},
    "octopus": {"api_key": "k", "account_number": "A-1B2C3D4E"},
    "tariff": {"name": "Home", "direction": "import", "currency": "GBP"},
    "xolta": {"username": "u", "password": "p", "site_id": "s", "site_name": "S"},
}


@pytest.mark.parametrize(
    "source_key", sorted(key for key, source in SOURCES.items() if source.options_schema())
)
@FUZZ
@given(data=st.data())
async def test_options_never_crash(
    hass: HomeAssistant, source_key: str, data: st.DataObject
) -> None:
    """Every source's options: a form with errors or options that hold only finite numbers
    and, where the running source offers choices, only those."""
    source = SOURCES[source_key]
    options = {**source.default_options, **({"bands": BANDS} if source_key == "tariff" else {})}
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"source": source_key, **_ENTRY_DATA[source_key]},
        options=options,
        state=ConfigEntryState.LOADED,
    )
    entry.add_to_hass(hass)
    choices = _CHOICES.get(source_key, {})
    entry.runtime_data = SimpleNamespace(source=SimpleNamespace(option_choices=lambda: choices))
    with patch.object(hass.config_entries, "async_schedule_reload"):
        result = await hass.config_entries.options.async_init(entry.entry_id)
        for _ in range(3):
            assert result["type"] is FlowResultType.FORM
            user_input = data.draw(_input_strategy(result["data_schema"], GOOD[source_key]))
            try:
                result = await hass.config_entries.options.async_configure(
                    result["flow_id"], user_input
                )
            except InvalidData:
                continue
            if result["type"] is FlowResultType.CREATE_ENTRY:
                _assert_finite(dict(entry.options), "options")
                if source_key == "tariff":
                    periods = parse_bands(entry.options["bands"])
                    _assert_finite([band.rate for p in periods for band in p.bands], "bands")
                for field, known in choices.items():
                    assert set(entry.options[field]) <= set(known)
                break
        else:
            hass.config_entries.options.async_abort(result["flow_id"])
    await hass.config_entries.async_remove(entry.entry_id)
