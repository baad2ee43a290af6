"""The Hoymiles S-Miles cloud client at the HTTP level (aioresponses)."""

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
import math
import struct
from typing import Any

import aiohttp
from aioresponses import CallbackResult, aioresponses
import pytest

from custom_components.energy_hub.api import protobuf
from custom_components.energy_hub.api.errors import (
    ApiAuthError,
    ApiClientOutdatedError,
    ApiNotFoundError,
    ApiRateLimitedError,
    ApiResponseError,
)
from custom_components.energy_hub.api.hoymiles import (
    DEFAULT_BASE_URL,
    DEFAULT_REGION_URL,
    LOGIN_ORDER,
    MAX_PAGES,
    PATH_DEVICE_TREE,
    PATH_DEVICE_TREE_HOME,
    PATH_ENERGY_STATS,
    PATH_LOGIN_HOME,
    PATH_LOGIN_V0,
    PATH_LOGIN_V3,
    PATH_MICRO_CHART,
    PATH_MICRO_CHART_HOME,
    PATH_POWER_BY_DAY,
    PATH_PRE_INSP,
    PATH_REALTIME,
    PATH_REALTIME_HOME,
    PATH_REGION,
    PATH_STATION_FIND,
    PATH_STATION_FIND_HOME,
    PATH_STATIONS,
    PATH_STATIONS_HOME,
    QUOTA_POWER,
    QUOTA_TEMPERATURE,
    DataProfile,
    DeviceKind,
    HoymilesAccountLockedError,
    HoymilesClient,
    HoymilesCurve,
    HoymilesHomeOnlyError,
    HoymilesRefusedError,
    LoginVariant,
    argon2id_hex,
    md5_hex,
    md5_sha256,
    parse_device_tree,
    parse_micro_chart,
    parse_number,
    parse_power_curve,
    parse_realtime,
    point_spans,
    sha256_hex,
)
from tests.conftest import load_json

USER = "user@example.com"
PASSWORD = "s3cret pässword"
SALT = "00112233445566778899aabbccddeeff"
REGION = DEFAULT_REGION_URL
DATA = DEFAULT_BASE_URL
TOKEN = "3.token-one"
TOKEN_2 = "3.token-two"


def ok(data: Any) -> dict[str, Any]:
    return {"status": "0", "message": "success", "data": data, "systemNotice": None}


def fail(status: str, message: str) -> dict[str, Any]:
    return {"status": status, "message": message, "data": None}


def pre(nonce: str, salt: str | None = SALT) -> dict[str, Any]:
    return ok({"n": nonce, "a": salt, "v": 3 if salt else 2, "dc": 1, "f": 0, "t": 159})


class Log:
    """Every request in order: (url, json body, headers)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    def reply(self, payload: Any, status: int = 200, **headers: str) -> Callable[..., Any]:
        def callback(url: Any, **kwargs: Any) -> CallbackResult:
            self.calls.append((str(url), kwargs.get("json") or {}, dict(kwargs.get("headers", {}))))
            return CallbackResult(status=status, payload=payload, headers=headers or None)

        return callback

    @property
    def paths(self) -> list[str]:
        return [url.split(".com", 1)[-1] for url, _, _ in self.calls]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


@pytest.fixture
def log() -> Log:
    return Log()


def region_ok(mocked: aioresponses, log: Log) -> None:
    mocked.post(REGION + PATH_REGION, callback=log.reply(load_json("hoymiles/region_c.json")))


def argon_login(mocked: aioresponses, log: Log, nonce: str = "n1", token: str = TOKEN) -> None:
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre(nonce)))
    mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(ok({"token": token})))


# --- login variants ------------------------------------------------------------------------------


def test_login_order_is_documented() -> None:
    assert LOGIN_ORDER == (
        LoginVariant.V3_ARGON2ID,
        LoginVariant.V3_MD5_SHA256,
        LoginVariant.V3_SHA256,
        LoginVariant.HOME_C,
        LoginVariant.V0_MD5,
    )


def test_hashes() -> None:
    """Known answers: the dotted hash, md5/sha256 hex, Argon2id over the hex-decoded salt."""
    assert md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72"
    assert sha256_hex("abc").startswith("ba7816bf8f01cfea")
    assert md5_sha256("abc") == (
        "900150983cd24fb0d6963f7d28e17f72.ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    )
    digest = argon2id_hex("password", "73616c7473616c74")  # "saltsalt"
    assert len(digest) == 64
    assert digest == argon2id_hex("password", "73616c7473616c74")
    assert digest != argon2id_hex("password2", "73616c7473616c74")


async def test_argon2id_login_then_data(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    region_ok(mocked, log)
    argon_login(mocked, log)
    mocked.post(
        DATA + PATH_REALTIME,
        callback=log.reply(load_json("hoymiles/count_station_real_data.pv_only.json")),
    )
    client = HoymilesClient(session, f" {USER} ", PASSWORD)
    realtime = await client.station_realtime(4711, "Europe/Amsterdam")

    assert log.paths == [PATH_REGION, PATH_PRE_INSP, PATH_LOGIN_V3, PATH_REALTIME]
    assert log.calls[0][1] == {"email": USER}
    assert log.calls[1][1] == {"u": USER}
    assert log.calls[2][1] == {"u": USER, "ch": argon2id_hex(PASSWORD, SALT), "n": "n1"}
    _, body, headers = log.calls[3]
    assert body == {"sid": 4711}
    assert headers["Authorization"] == TOKEN  # raw token, no "Bearer"
    assert headers["User-Agent"] == "sma/ad/2.10.0/159/1"
    assert client.login_variant is LoginVariant.V3_ARGON2ID
    assert client.login_count == 1
    assert client.request_count == 4
    assert client.login_url == "https://euapi.hoymiles.com"
    assert realtime.pv_power_w == 1483.9
    assert realtime.today_energy_wh == 36687.0
    assert realtime.total_energy_wh == 18213913.0
    assert realtime.data_time_local == datetime(2024, 8, 4, 14, 18, 12)
    assert realtime.data_time == datetime(2024, 8, 4, 12, 18, 12, tzinfo=UTC)
    assert realtime.energy_flow is None


async def test_salt_less_account_uses_the_dotted_hash(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """No salt: Argon2id does not apply and its unused nonce serves the dotted try."""
    region_ok(mocked, log)
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre("n1", None)))
    mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(ok({"token": TOKEN})))
    client = HoymilesClient(session, USER, PASSWORD)
    assert await client.login() is LoginVariant.V3_MD5_SHA256
    assert log.paths == [PATH_REGION, PATH_PRE_INSP, PATH_LOGIN_V3]
    assert log.calls[2][1] == {"u": USER, "ch": md5_sha256(PASSWORD), "n": "n1"}


async def test_fallback_order_and_remembering(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """Each salt-less try gets a fresh nonce; then login_c, then legacy v0, which is kept:
    each moved on because the answer said the method was wrong, not the password."""
    region_ok(mocked, log)
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre("n1", None)))
    mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(fail("7", "")))
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre("n2", None)))
    mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(fail("7", "")))
    installer_only = "The account can only be used in installer app"
    mocked.post(REGION + PATH_LOGIN_HOME, callback=log.reply(fail("1", installer_only)))
    mocked.post(DATA + PATH_LOGIN_V0, callback=log.reply(ok({"token": TOKEN})))
    client = HoymilesClient(session, USER, PASSWORD)
    assert await client.login() is LoginVariant.V0_MD5
    assert log.paths == [
        PATH_REGION,
        PATH_PRE_INSP,
        PATH_LOGIN_V3,
        PATH_PRE_INSP,
        PATH_LOGIN_V3,
        PATH_LOGIN_HOME,
        PATH_LOGIN_V0,
    ]
    assert log.calls[2][1]["ch"] == md5_sha256(PASSWORD)
    assert log.calls[4][1] == {"u": USER, "ch": sha256_hex(PASSWORD), "n": "n2"}
    assert log.calls[5][1] == {"user_name": USER, "password": md5_sha256(PASSWORD)}
    assert log.calls[6][1] == {"user_name": USER, "password": md5_hex(PASSWORD)}

    # the next login goes straight to the variant that worked (the region is kept too)
    mocked.post(DATA + PATH_LOGIN_V0, callback=log.reply(ok({"token": TOKEN_2})))
    assert await client.login() is LoginVariant.V0_MD5
    assert log.paths[7:] == [PATH_LOGIN_V0]
    assert client.login_count == 2


async def test_home_account_message_moves_on(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """ "Can only login to the S-Miles Home." on v3 with a salt is not a wrong password."""
    region_ok(mocked, log)
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre("n1")))
    mocked.post(
        REGION + PATH_LOGIN_V3, callback=log.reply(fail("1", "Can only login to the S-Miles Home."))
    )
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre("n2")))
    mocked.post(REGION + PATH_LOGIN_HOME, callback=log.reply(ok({"token": TOKEN})))
    client = HoymilesClient(session, USER, PASSWORD)
    assert await client.login() is LoginVariant.HOME_C
    # the message rules out every v3 hash: straight to login_c
    assert log.paths == [PATH_REGION, PATH_PRE_INSP, PATH_LOGIN_V3, PATH_LOGIN_HOME]


async def test_stored_variant_is_tried_first(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    region_ok(mocked, log)
    mocked.post(REGION + PATH_LOGIN_HOME, callback=log.reply(ok({"token": TOKEN})))
    client = HoymilesClient(session, USER, PASSWORD, login_variant=LoginVariant.HOME_C)
    assert await client.login() is LoginVariant.HOME_C
    assert log.paths == [PATH_REGION, PATH_LOGIN_HOME]


async def test_remembered_variant_rejected_is_final(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """A variant that worked before and is now refused means the password changed: no more
    tries that would only count towards a lockout."""
    region_ok(mocked, log)
    mocked.post(REGION + PATH_LOGIN_HOME, callback=log.reply(fail("1", "Invalid credentials")))
    client = HoymilesClient(session, USER, PASSWORD, login_variant=LoginVariant.HOME_C)
    with pytest.raises(ApiAuthError, match="Invalid credentials"):
        await client.login()
    assert log.paths == [PATH_REGION, PATH_LOGIN_HOME]


async def test_wrong_password(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """A salted account refusing the Argon2id hash: the password is wrong, one try only."""
    region_ok(mocked, log)
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre("n1")))
    mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(fail("1", "Invalid credentials")))
    client = HoymilesClient(session, USER, "wrong")
    with pytest.raises(ApiAuthError, match="Invalid credentials"):
        await client.stations()
    assert log.paths == [PATH_REGION, PATH_PRE_INSP, PATH_LOGIN_V3]
    assert client._token is None


LOGINS = {PATH_LOGIN_V3, PATH_LOGIN_HOME, PATH_LOGIN_V0}
WRONG = "Log in failed. Please check your account and password.#7"
APP_LOW = "Your app version is low. Please update to the latest version."


@pytest.mark.parametrize("message", ["Invalid credentials", WRONG])
async def test_wrong_password_salt_less(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log, message: str
) -> None:
    """A salt-less account: the service cannot tell a wrong encoding from a wrong password, so
    the hash's second encoding is tried once; then it ends: two failed logins, not four (the
    fifth in a row locks the account for 30 minutes)."""
    region_ok(mocked, log)
    for nonce in ("n1", "n2"):
        mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre(nonce, None)))
        mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(fail("1", message)))
    with pytest.raises(ApiAuthError, match="rejected the credentials"):
        await HoymilesClient(session, USER, "wrong").login()
    assert log.paths == [PATH_REGION, PATH_PRE_INSP, PATH_LOGIN_V3, PATH_PRE_INSP, PATH_LOGIN_V3]
    assert [path for path in log.paths if path in LOGINS] == [PATH_LOGIN_V3] * 2


async def test_wrong_password_after_a_wrong_method(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """An S-Miles Home account: v3 says the method is wrong (no password checked), login_c
    says the password is wrong: one failed login, the legacy login is not tried."""
    region_ok(mocked, log)
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre("n1", None)))
    home = "This account can only be used for logging in to the S-Miles Home app."
    mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(fail("1", home)))
    mocked.post(REGION + PATH_LOGIN_HOME, callback=log.reply(fail("1", "Invalid credentials")))
    with pytest.raises(ApiAuthError, match="Invalid credentials"):
        await HoymilesClient(session, USER, "wrong").login()
    assert log.paths == [PATH_REGION, PATH_PRE_INSP, PATH_LOGIN_V3, PATH_LOGIN_HOME]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (PATH_PRE_INSP, "User does not exist"),
        (PATH_PRE_INSP, "Account does not exist."),
        (PATH_LOGIN_V3, "user not found"),
    ],
)
async def test_unknown_user_ends_the_login(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log, where: str, message: str
) -> None:
    """ "User does not exist": no other variant is tried."""
    region_ok(mocked, log)
    if where == PATH_PRE_INSP:
        mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(fail("1", message)))
    else:
        mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre("n1", None)))
        mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(fail("1", message)))
    with pytest.raises(ApiAuthError, match="does not know this account"):
        await HoymilesClient(session, USER, PASSWORD).login()
    assert log.paths[-1] == where
    assert len(log.calls) == (2 if where == PATH_PRE_INSP else 3)


async def test_app_version_low(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """ "App version is low" on every method: its own error (not rejected credentials), after
    one try per method (the other v3 hashes would get the same answer)."""
    region_ok(mocked, log)
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre("n1", None)))
    mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(fail("1", APP_LOW)))
    mocked.post(REGION + PATH_LOGIN_HOME, callback=log.reply(fail("1", APP_LOW)))
    mocked.post(DATA + PATH_LOGIN_V0, callback=log.reply(fail("1", APP_LOW)))
    with pytest.raises(ApiClientOutdatedError, match="app version is low") as caught:
        await HoymilesClient(session, USER, PASSWORD).login()
    assert not isinstance(caught.value, ApiAuthError)
    assert log.paths == [
        PATH_REGION,
        PATH_PRE_INSP,
        PATH_LOGIN_V3,
        PATH_LOGIN_HOME,
        PATH_LOGIN_V0,
    ]


async def test_app_version_low_then_refused(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """v3 wants a newer app, the next method refuses: the app version is the message (a
    password retyped would not help), and nothing more is tried."""
    region_ok(mocked, log)
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre("n1")))
    mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(fail("1", APP_LOW)))
    mocked.post(REGION + PATH_LOGIN_HOME, callback=log.reply(fail("1", "Invalid credentials")))
    with pytest.raises(ApiClientOutdatedError):
        await HoymilesClient(session, USER, PASSWORD).login()
    assert log.paths == [PATH_REGION, PATH_PRE_INSP, PATH_LOGIN_V3, PATH_LOGIN_HOME]


@pytest.mark.parametrize(
    "answer",
    [
        {"n": "n1", "a": SALT, "u": 1},
        {"n": "n1", "a": SALT, "v": 3, "dc": 1, "f": 0, "t": 159},
        {"data": {"n": "n1", "a": SALT, "v": 3}},
    ],
    ids=["top-level", "top-level-full", "data-without-status"],
)
async def test_pre_insp_without_the_envelope(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log, answer: dict[str, Any]
) -> None:
    """pre-insp fields at the top level (or under data without a status) are read: the v3
    login goes ahead with that nonce and salt."""
    region_ok(mocked, log)
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(answer))
    mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(ok({"token": TOKEN})))
    client = HoymilesClient(session, USER, PASSWORD)
    assert await client.login() is LoginVariant.V3_ARGON2ID
    assert log.paths == [PATH_REGION, PATH_PRE_INSP, PATH_LOGIN_V3]
    assert log.calls[2][1] == {"u": USER, "ch": argon2id_hex(PASSWORD, SALT), "n": "n1"}


@pytest.mark.parametrize(
    ("message", "retry_after"),
    [
        ("Too many failed attempts, the account is locked. Try again in 30 min.", 1800.0),
        ("Account locked", 1800.0),
        ("Login too frequent, try again in 5 minutes", 300.0),
    ],
)
async def test_locked_account(
    session: aiohttp.ClientSession,
    mocked: aioresponses,
    log: Log,
    message: str,
    retry_after: float,
) -> None:
    region_ok(mocked, log)
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(pre("n1")))
    mocked.post(REGION + PATH_LOGIN_V3, callback=log.reply(fail("1", message)))
    with pytest.raises(HoymilesAccountLockedError) as caught:
        await HoymilesClient(session, USER, PASSWORD).login()
    assert isinstance(caught.value, ApiRateLimitedError)
    assert caught.value.retry_after == retry_after
    assert len(log.calls) == 3  # no further variants


async def test_rate_limited_http(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    region_ok(mocked, log)
    mocked.post(REGION + PATH_PRE_INSP, status=429, headers={"Retry-After": "120"}, body="{}")
    with pytest.raises(ApiRateLimitedError) as caught:
        await HoymilesClient(session, USER, PASSWORD).login()
    assert caught.value.retry_after == 120.0


@pytest.mark.parametrize(("flag", "match"), [(1, "expired"), (2, "email")])
async def test_pre_insp_flags(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log, flag: int, match: str
) -> None:
    region_ok(mocked, log)
    body = pre("n1")
    body["data"]["f"] = flag
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(body))
    with pytest.raises(ApiAuthError, match=match):
        await HoymilesClient(session, USER, PASSWORD).login()


async def test_unknown_account(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    mocked.post(REGION + PATH_REGION, callback=log.reply(ok({"login_url": "", "dc": -1})))
    with pytest.raises(ApiAuthError, match="does not know"):
        await HoymilesClient(session, USER, PASSWORD).login()
    assert len(log.calls) == 1


# --- tokens --------------------------------------------------------------------------------------


async def test_token_expiry_mid_session(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """status "100": one silent re-login (region kept), then the call is repeated."""
    region_ok(mocked, log)
    argon_login(mocked, log)
    realtime = load_json("hoymiles/count_station_real_data.pv_only.json")
    expired = load_json("hoymiles/error_token_verify.json")
    mocked.post(DATA + PATH_REALTIME, callback=log.reply(realtime))
    mocked.post(DATA + PATH_REALTIME, callback=log.reply(realtime))
    mocked.post(DATA + PATH_REALTIME, callback=log.reply(expired))
    argon_login(mocked, log, nonce="n2", token=TOKEN_2)
    mocked.post(DATA + PATH_REALTIME, callback=log.reply(realtime))
    client = HoymilesClient(session, USER, PASSWORD)
    for _ in range(3):
        assert (await client.station_realtime(1)).pv_power_w == 1483.9
    assert log.paths == [
        PATH_REGION,
        PATH_PRE_INSP,
        PATH_LOGIN_V3,
        PATH_REALTIME,
        PATH_REALTIME,  # the token is reused
        PATH_REALTIME,  # "token verify error."
        PATH_PRE_INSP,
        PATH_LOGIN_V3,
        PATH_REALTIME,
    ]
    assert log.calls[5][2]["Authorization"] == TOKEN
    assert log.calls[8][2]["Authorization"] == TOKEN_2
    assert log.calls[7][1] == {"u": USER, "ch": argon2id_hex(PASSWORD, SALT), "n": "n2"}
    assert client.login_count == 2
    assert client.request_count == 9


async def test_second_token_rejection_is_an_auth_error(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    region_ok(mocked, log)
    argon_login(mocked, log)
    expired = load_json("hoymiles/error_token_verify.json")
    mocked.post(DATA + PATH_STATIONS, callback=log.reply(expired))
    argon_login(mocked, log, nonce="n2", token=TOKEN_2)
    mocked.post(DATA + PATH_STATIONS, callback=log.reply(expired))
    client = HoymilesClient(session, USER, PASSWORD)
    with pytest.raises(ApiAuthError, match="fresh login"):
        await client.stations()
    assert log.paths.count(PATH_LOGIN_V3) == 2
    assert client._token is None


async def test_no_permission_and_other_statuses(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    region_ok(mocked, log)
    argon_login(mocked, log)
    mocked.post(DATA + PATH_STATION_FIND, callback=log.reply(fail("3", "No Permission.")))
    mocked.post(DATA + PATH_STATION_FIND, callback=log.reply(fail("9", "Server busy")))
    mocked.post(DATA + PATH_STATION_FIND, callback=log.reply({"data": {}}))
    client = HoymilesClient(session, USER, PASSWORD)
    with pytest.raises(ApiNotFoundError, match="No Permission"):
        await client.station_details(1)
    with pytest.raises(ApiResponseError, match="status 9: Server busy"):
        await client.station_details(1)
    with pytest.raises(ApiResponseError, match="without a status"):
        await client.station_details(1)
    assert client.login_count == 1


# --- base URLs -----------------------------------------------------------------------------------


async def test_single_base_url(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """An overridden base serves region, logins and data; an untrusted login_url is ignored."""
    base = "http://127.0.0.1:8765/hoymiles"
    mocked.post(
        base + PATH_REGION, callback=log.reply(ok({"login_url": "https://evil.example", "dc": 0}))
    )
    mocked.post(base + PATH_PRE_INSP, callback=log.reply(pre("n1")))
    mocked.post(base + PATH_LOGIN_V3, callback=log.reply(ok({"token": TOKEN})))
    mocked.post(base + PATH_STATIONS, callback=log.reply(ok({"list": [], "total": 0})))
    client = HoymilesClient(session, USER, PASSWORD, base_url=base + "/")
    assert (client.region_url, client.legacy_login_url) == (base, base)
    assert await client.stations() == []
    assert [url for url, _, _ in log.calls] == [
        base + PATH_REGION,
        base + PATH_PRE_INSP,
        base + PATH_LOGIN_V3,
        base + PATH_STATIONS,
    ]
    assert client.login_url == base


async def test_odd_pre_insp_answers(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """A pre-insp refused for no stated reason, or without a nonce, is an answer the login
    cannot use: no login is tried (each would risk a failed one)."""
    region_ok(mocked, log)
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(fail("100", "token verify error.")))
    mocked.post(REGION + PATH_PRE_INSP, callback=log.reply(ok({"a": None})))
    client = HoymilesClient(session, USER, PASSWORD)
    with pytest.raises(ApiResponseError, match="refused: token verify error"):
        await client.login()
    with pytest.raises(ApiResponseError, match="without a nonce"):
        await client.login()
    assert log.paths == [PATH_REGION, PATH_PRE_INSP, PATH_PRE_INSP]


async def test_region_lookup_failure_falls_back(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    mocked.post(REGION + PATH_REGION, callback=log.reply(fail("2", "Parameter error.")))
    argon_login(mocked, log)
    client = HoymilesClient(session, USER, PASSWORD)
    assert await client.login() is LoginVariant.V3_ARGON2ID
    assert client.login_url == REGION


# --- data ----------------------------------------------------------------------------------------


async def test_station_pages(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    region_ok(mocked, log)
    argon_login(mocked, log)
    first = [{"id": n, "name": f"Plant {n}", "capacitor": "4.6"} for n in range(100)]
    second = [{"sid": 100, "name": "", "capacitor": "-"}, {"name": "no id"}]
    mocked.post(DATA + PATH_STATIONS, callback=log.reply(ok({"list": first, "total": 101})))
    mocked.post(DATA + PATH_STATIONS, callback=log.reply(ok({"list": second, "total": 101})))
    stations = await HoymilesClient(session, USER, PASSWORD).stations()
    assert len(stations) == 101
    assert (stations[0].id, stations[0].name, stations[0].capacity_kwp) == (0, "Plant 0", 4.6)
    assert (stations[-1].id, stations[-1].name, stations[-1].capacity_kwp) == (100, None, None)
    assert [body for _, body, _ in log.calls[3:]] == [
        {"page": 1, "page_size": 100},
        {"page": 2, "page_size": 100},
    ]


def _plants(ids: range) -> list[dict[str, Any]]:
    return [{"id": n, "name": f"Plant {n}", "capacitor": "0.8"} for n in ids]


async def test_station_pages_follow_the_total(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """A service answering 10 plants a page (100 asked): the pages go on until the reported
    total is read."""
    region_ok(mocked, log)
    argon_login(mocked, log)
    for first in (0, 10, 20):
        page = _plants(range(first, min(first + 10, 25)))
        mocked.post(DATA + PATH_STATIONS, callback=log.reply(ok({"list": page, "total": 25})))
    stations = await HoymilesClient(session, USER, PASSWORD).stations()
    assert [station.id for station in stations] == list(range(25))
    assert [body for _, body, _ in log.calls[3:]] == [
        {"page": 1, "page_size": 100},
        {"page": 2, "page_size": 100},
        {"page": 3, "page_size": 100},
    ]


@pytest.mark.parametrize(
    ("pages", "expected", "asked"),
    [
        # an empty page before the total: what was read is kept
        ([ok({"list": _plants(range(10)), "total": 25}), ok({"list": [], "total": 25})], 10, 2),
        # the same page again (a service ignoring "page"): no endless loop
        ([ok({"list": _plants(range(10)), "total": 25})] * 2, 10, 2),
        # no total: a short page is the last
        ([ok({"list": _plants(range(10))})], 10, 1),
        # the total said once, then missing: still followed
        (
            [ok({"list": _plants(range(10)), "total": 12}), ok({"list": _plants(range(10, 12))})],
            12,
            2,
        ),
    ],
    ids=["empty-page", "repeated-page", "no-total", "total-once"],
)
async def test_station_pages_stop_safely(
    session: aiohttp.ClientSession,
    mocked: aioresponses,
    log: Log,
    pages: list[dict[str, Any]],
    expected: int,
    asked: int,
) -> None:
    region_ok(mocked, log)
    argon_login(mocked, log)
    for page in pages:
        mocked.post(DATA + PATH_STATIONS, callback=log.reply(page))
    stations = await HoymilesClient(session, USER, PASSWORD).stations()
    assert [station.id for station in stations] == list(range(expected))
    assert log.paths.count(PATH_STATIONS) == asked


async def test_station_pages_limit(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """A service that never ends its pages (a total it never reaches) stops at MAX_PAGES."""
    region_ok(mocked, log)
    argon_login(mocked, log)
    for page in range(MAX_PAGES + 1):
        plant = _plants(range(page, page + 1))
        mocked.post(DATA + PATH_STATIONS, callback=log.reply(ok({"list": plant, "total": 10**6})))
    stations = await HoymilesClient(session, USER, PASSWORD).stations()
    assert len(stations) == MAX_PAGES
    assert log.paths.count(PATH_STATIONS) == MAX_PAGES


async def test_station_details(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    region_ok(mocked, log)
    argon_login(mocked, log)
    mocked.post(
        DATA + PATH_STATION_FIND, callback=log.reply(load_json("hoymiles/station_find.json"))
    )
    details = await HoymilesClient(session, USER, PASSWORD).station_details(1000001)
    assert log.calls[-1][1] == {"id": 1000001}
    assert details.id == 1000001
    assert details.timezone == "Europe/Amsterdam"
    assert details.capacity_kwp == 4.6
    assert details.has_energy_flow is True
    assert details.battery_capacity_kwh == 0.0
    assert details.currency == "EUR"
    assert details.five_minute_upload is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", None),
        ("   ", None),
        (None, None),
        ("-", None),
        ("n/a", None),
        ("NaN", None),
        ("inf", None),
        (True, None),
        ([], None),
        ("0", 0.0),
        ("12.5", 12.5),
        (" 3523955 ", 3523955.0),
        ("-140", -140.0),
        (7, 7.0),
        (0.25, 0.25),
    ],
)
def test_parse_number(raw: Any, expected: float | None) -> None:
    assert parse_number(raw) == expected


def test_realtime_odd_values() -> None:
    """Missing keys, nulls, empty strings and "-" are None, never 0; numbers may be numbers."""
    realtime = parse_realtime(
        {
            "today_eq": "",
            "month_eq": "-",
            "real_power": None,
            "total_eq": 1234,
            "data_time": "",
            "last_data_time": "2024-05-14 19:15:02",
            "reflux_station_data": {"pv_power": "", "grid_power": "-", "bms_soc": None},
        },
        timezone="Not/AZone",
    )
    assert realtime.pv_power_w is None
    assert realtime.today_energy_wh is None
    assert realtime.month_energy_wh is None
    assert realtime.year_energy_wh is None  # missing
    assert realtime.total_energy_wh == 1234.0
    assert realtime.data_time_local == datetime(2024, 5, 14, 19, 15, 2)
    assert realtime.data_time is None  # unknown zone
    flow = realtime.energy_flow
    assert flow is not None
    assert (flow.pv_power_w, flow.grid_power_w, flow.battery_soc_percent) == (None, None, None)
    assert flow.load_power_w is None
    assert flow.grid_import.total_wh is None
    with pytest.raises(ApiResponseError):
        parse_realtime(None)


def test_realtime_samples() -> None:
    """The hybrid fixtures: Energy Hub signs (grid + import, battery + discharging)."""
    reflux = parse_realtime(load_json("hoymiles/count_station_real_data.with_reflux.json")["data"])
    flow = reflux.energy_flow
    assert flow is not None
    assert (flow.pv_power_w, flow.load_power_w, flow.grid_power_w) == (125.4, 265.4, 140.0)
    assert flow.battery_power_w == 0.0
    assert flow.grid_import_today_wh == 31913466.13
    assert flow.grid_import.total_wh == 0.0
    assert flow.meter_location == 2
    assert reflux.year_energy_wh == 789429.0

    zero = parse_realtime(load_json("hoymiles/count_station_real_data.hybrid_zero.json")["data"])
    assert zero.pv_power_w is None
    assert zero.year_energy_wh is None
    assert zero.today_energy_wh == 0.0
    assert zero.capacity_kwp == 4.6
    assert zero.energy_flow is not None
    assert zero.energy_flow.battery_soc_percent == 0.0
    assert zero.energy_flow.inverter_count == 1

    signed = parse_realtime({"reflux_station_data": {"grid_power": "800", "bms_power": "-300"}})
    assert signed.energy_flow is not None
    assert signed.energy_flow.grid_power_w == -800.0  # exporting
    assert signed.energy_flow.battery_power_w == 300.0  # discharging


async def test_device_tree_micro(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    region_ok(mocked, log)
    argon_login(mocked, log)
    sample = load_json("hoymiles/station_select_device_of_tree.micro.json")
    mocked.post(DATA + PATH_DEVICE_TREE, callback=log.reply(sample))
    tree = await HoymilesClient(session, USER, PASSWORD).device_tree(7)
    assert log.calls[-1][1] == {"id": 7}
    [dtu] = tree.of_kind(DeviceKind.DTU)
    assert (dtu.id, dtu.serial, dtu.model, dtu.connected, dtu.parent_id) == (
        21,
        "DTU000000002",
        "DTU-Pro",
        True,
        None,
    )
    first, second = tree.microinverters
    assert (first.serial, first.model, first.port_count, first.parent_id) == (
        "MI0000000001",
        "HM-800",
        2,
        21,
    )
    assert (second.model, second.port_count, second.software_version) == (
        "HM-1500",
        4,
        "V01.00.18",
    )
    assert first.connected is True and first.warning is False
    assert (
        tree.of_kind(DeviceKind.BATTERY)
        == tree.of_kind(DeviceKind.METER)
        == tree.of_kind(DeviceKind.HYBRID_INVERTER)
        == ()
    )


def test_device_tree_hybrid_and_odd_nodes() -> None:
    tree = parse_device_tree(
        load_json("hoymiles/station_select_device_of_tree.hybrid.json")["data"]
    )
    [dtu] = tree.of_kind(DeviceKind.DTU)
    [inverter] = tree.of_kind(DeviceKind.HYBRID_INVERTER)
    [battery] = tree.of_kind(DeviceKind.BATTERY)
    assert (dtu.model, dtu.connected) == ("DTS-WIFI-G1", False)
    assert (inverter.model, inverter.parent_id, inverter.hardware_version) == (
        "HYS-4.6LV-EUG1",
        dtu.id,
        None,
    )
    assert (battery.serial, battery.parent_id, battery.model, battery.connected) == (
        "BAT000000001",
        inverter.id,
        None,
        None,
    )
    # S-Miles Home trees nest under "devices"; unknown types fall back to the model name
    odd = parse_device_tree(
        [
            {
                "id": "5",
                "sn": "X",
                "type": 99,
                "model_no": "DTU-Lite-S",
                "devices": [
                    {"id": 6, "type": None, "model_no": "DDSU666", "warn_data": None},
                    {"id": 7, "model_no": "HMS-800W-2T", "warn_data": {"connect": 0}},
                    {"id": 8, "type": 42},
                    {"sn": "no id"},
                ],
            }
        ]
    )
    assert [(d.id, d.kind) for d in odd.devices] == [
        (5, DeviceKind.DTU),
        (6, DeviceKind.METER),
        (7, DeviceKind.MICROINVERTER),
        (8, DeviceKind.UNKNOWN),
    ]
    assert odd.devices[2].connected is False
    with pytest.raises(ApiResponseError):
        parse_device_tree({"list": []})


async def test_daily_generation(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """One request per month; pv_eq, else PV to load + battery + grid; odd values None."""
    region_ok(mocked, log)
    argon_login(mocked, log)
    october = [
        {"date": "2026-10-30", "pv_eq": "1200.5"},
        {"date": "2026-10-31", "pv_eq": ""},
    ]
    november = [
        {"date": "2026-11-01", "p2l": "100", "p2b": "50", "p2g": "25.5"},
        {"date": "2026-11-02", "p2l": "100", "p2b": "-"},
        {"date": "2026-11-03", "pv_eq": 900},
        {"date": "junk", "pv_eq": "1"},
        {"pv_eq": "1"},
    ]
    mocked.post(DATA + PATH_ENERGY_STATS, callback=log.reply(ok({"list": october})))
    mocked.post(DATA + PATH_ENERGY_STATS, callback=log.reply(ok({"list": november})))
    days = await HoymilesClient(session, USER, PASSWORD).daily_generation(
        9, date(2026, 10, 31), date(2026, 11, 2)
    )
    assert [(d.day, d.pv_energy_wh) for d in days] == [
        (date(2026, 10, 31), None),
        (date(2026, 11, 1), 175.5),
        (date(2026, 11, 2), None),
    ]
    assert [body for _, body, _ in log.calls[3:]] == [
        {"sid": 9, "mode": 2, "date": "2026-10", "type": 6},
        {"sid": 9, "mode": 2, "date": "2026-11", "type": 6},
    ]


async def test_daily_generation_empty_range(session: aiohttp.ClientSession) -> None:
    client = HoymilesClient(session, USER, PASSWORD)
    assert await client.daily_generation(1, date(2026, 2, 1), date(2026, 1, 1)) == []
    assert client.request_count == 0


# --- protobuf charts ------------------------------------------------------------------------------


def _key(number: int, wire: int) -> bytes:
    return bytes([number << 3 | wire])


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (payloads here stay under 128 bytes: one length byte)."""
    assert len(payload) < 128
    return _key(number, 2) + bytes([len(payload)]) + payload


def _floats(values: list[float], fmt: str = "<f") -> bytes:
    return b"".join(struct.pack(fmt, value) for value in values)


def _line(quota: str, values: list[float], micro: int, fmt: str = "<f") -> bytes:
    return _field(1, quota.encode()) + _field(2, _floats(values, fmt)) + _key(3, 0) + bytes([micro])


def _chart(labels: list[str], lines: list[bytes], day: str = "2026-06-06") -> bytes:
    return (
        b"".join(_field(1, label.encode()) for label in labels)
        + b"".join(_field(2, line) for line in lines)
        + _field(3, day.encode())
    )


def test_protobuf_wire_format() -> None:
    """Hand-made bytes: varints, strings, packed and unpacked floats, skipped fields, and
    malformed input as an ApiResponseError."""
    raw = (
        _key(1, 0)
        + b"\xac\x02"  # 300
        + _field(2, "é".encode())
        + _key(3, 5)
        + struct.pack("<f", 1.5)
        + _key(3, 1)
        + struct.pack("<d", 2.25)
        + _key(4, 0)
        + b"\x01"
    )
    message = protobuf.decode(raw)
    assert message.integer(1) == 300
    assert message.string(2) == "é"
    assert message.floats(3) == [1.5, 2.25]
    assert message.integer(9) is None
    assert message.string(9) is None
    assert message.message(9) is None
    assert protobuf.decode(_field(1, _floats([1.0, 2.0], "<d"))).floats(1, count_hint=2) == [
        1.0,
        2.0,
    ]
    assert protobuf.decode(_field(1, _floats([1.0, 2.0]))).floats(1, count_hint=2) == [1.0, 2.0]
    for broken in (
        b"\x08",  # a varint cut short
        b"\x08" + b"\xff" * 11,  # a varint too long
        b"\x12\x05ab",  # a string cut short
        b"\x1d\x00",  # a fixed32 cut short
        b"\x19\x00",  # a fixed64 cut short
        b"\x0b",  # a group (wire type 3)
        b"\x00\x00",  # field number 0
    ):
        with pytest.raises(ApiResponseError):
            protobuf.decode(broken)
    with pytest.raises(ApiResponseError, match="odd length"):
        protobuf.decode(_field(1, b"\x00\x00\x00")).floats(1)


def test_micro_chart() -> None:
    """Series per microinverter and quota at plant-local times; float32 and doubles; NaN and
    unreadable labels are dropped; energy is the area under the curve."""
    labels = ["10:00", "10:05", "bad", "10:10"]
    raw = _chart(
        labels,
        [
            _line(QUOTA_POWER, [120.0, 180.0, 999.0, 60.0], 41),
            _line(QUOTA_TEMPERATURE, [30.5, math.nan, 31.0, 32.25], 41, "<d"),
            _line(QUOTA_POWER, [1.0, 2.0, 3.0, 4.0], 0)[:-2],  # no micro id: skipped
        ],
    )
    day = parse_micro_chart(raw, date(2026, 1, 1), "Europe/Amsterdam")
    assert day.day == date(2026, 6, 6)  # the chart's own date
    power = day.curve(41, QUOTA_POWER)
    assert power is not None
    assert power.times == (
        datetime(2026, 6, 6, 8, 0, tzinfo=UTC),
        datetime(2026, 6, 6, 8, 5, tzinfo=UTC),
        datetime(2026, 6, 6, 8, 10, tzinfo=UTC),
    )
    assert power.values == (120.0, 180.0, 60.0)
    assert power.energy_wh() == pytest.approx((120 + 180 + 60) * 5 / 60)
    assert power.last == (datetime(2026, 6, 6, 8, 10, tzinfo=UTC), 60.0)
    temperature = day.curve(41, QUOTA_TEMPERATURE)
    assert temperature is not None
    assert temperature.values == (30.5, None, 32.25)
    assert day.curve(7, QUOTA_POWER) is None
    assert set(day.series) == {41}
    empty = parse_micro_chart(b"", date(2026, 6, 7), None)
    assert empty.series == {}
    assert empty.day == date(2026, 6, 7)


def test_power_curve_hours_and_clock_change() -> None:
    """Quarter-hour points in daylight, hourly at night; each point's energy goes to the hours
    its span covers; the autumn day's repeated hour is told apart by its order."""
    labels = ["00:00", "01:00", "02:00", "02:30", "02:00", "02:15", "03:00"]
    values = [0.0, 0.0, 400.0, 800.0, 100.0, 200.0, 40.0]
    # The sandbox's night shape: the repeated hour's label right after itself.
    night = parse_power_curve(
        b"".join(_field(1, label.encode()) for label in ["01:00", "02:00", "02:00", "03:00"])
        + _field(3, b"2026-10-25"),
        date(2026, 10, 25),
        "Europe/Amsterdam",
    )
    assert night.times == tuple(
        datetime(2026, 10, 24, 23, 0, tzinfo=UTC) + timedelta(hours=n) for n in range(4)
    )
    raw = (
        b"".join(_field(1, label.encode()) for label in labels)
        + _field(2, _field(1, b"grid_power") + _field(2, _floats(values)))
        + _field(3, b"2026-10-25")
    )
    curve = parse_power_curve(raw, date(2026, 10, 25), "Europe/Amsterdam")
    first_pass = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)  # 02:00 CEST
    second_pass = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # 02:00 CET
    assert curve.times[2:6] == (
        first_pass,
        first_pass + timedelta(minutes=30),
        second_pass,
        second_pass + timedelta(minutes=15),
    )
    hours = curve.hourly_energy_wh()
    # Spans are capped at the chart's step (15 minutes).
    assert hours[first_pass] == pytest.approx((400 + 800) * 0.25)
    assert hours[second_pass] == pytest.approx((100 + 200) * 0.25)
    assert hours[datetime(2026, 10, 25, 2, 0, tzinfo=UTC)] == pytest.approx(40 * 0.25)
    assert curve.energy_wh() == pytest.approx(sum(hours.values()))
    assert parse_power_curve(_field(3, b"2026-10-25"), date(2026, 10, 25), None).times == ()


def test_curve_span_across_an_hour() -> None:
    """A point whose span crosses the hour is shared between both hours."""
    start = datetime(2026, 6, 6, 9, 50, tzinfo=UTC)
    times = (start, start + timedelta(minutes=20))
    step = timedelta(minutes=5)
    assert point_spans(times, step) == (900.0, 900.0)  # the chart's step, at most 15 minutes
    curve = HoymilesCurve(times=times, values=(600.0, None), spans=point_spans(times, step))
    hours = curve.hourly_energy_wh()
    assert hours == {
        datetime(2026, 6, 6, 9, tzinfo=UTC): pytest.approx(600 * 10 / 60),
        datetime(2026, 6, 6, 10, tzinfo=UTC): pytest.approx(600 * 5 / 60),
    }
    assert HoymilesCurve(times=(), values=(), spans=()).last is None


def test_point_spans() -> None:
    """The chart's most common gap is its step: a stray label shares its slot instead of
    shrinking the day, a gap (missed uploads) is not filled, a single point is one default
    step."""
    start = datetime(2026, 6, 6, 10, 0, tzinfo=UTC)
    minutes = [0, 5, 10, 15, 16, 20, 25, 40, 45]
    times = [start + timedelta(minutes=m) for m in minutes]
    assert point_spans(times, timedelta(minutes=5)) == (
        300.0,
        300.0,
        300.0,
        60.0,  # 10:15 until the stray 10:16
        240.0,
        300.0,
        300.0,  # 10:25: one step, not the 15 minutes to 10:40
        300.0,
        300.0,
    )
    assert point_spans(times[:1], timedelta(minutes=5)) == (300.0,)
    assert point_spans([], timedelta(minutes=5)) == ()


async def test_chart_calls(session: aiohttp.ClientSession, mocked: aioresponses, log: Log) -> None:
    """Protobuf answers come back decoded; a JSON envelope instead is read for its status:
    "100" logs in again and repeats the call, "3" is not found, "0" is an empty chart."""
    region_ok(mocked, log)
    argon_login(mocked, log)
    raw = _chart(["12:00"], [_line(QUOTA_POWER, [250.0], 41), _line(QUOTA_TEMPERATURE, [40.0], 41)])

    def binary(body: bytes) -> Callable[..., Any]:
        def callback(url: Any, **kwargs: Any) -> CallbackResult:
            log.calls.append((str(url), kwargs.get("json") or {}, dict(kwargs["headers"])))
            return CallbackResult(body=body, content_type="application/octet-stream")

        return callback

    expired = load_json("hoymiles/error_token_verify.json")
    mocked.post(DATA + PATH_MICRO_CHART, callback=log.reply(expired))
    argon_login(mocked, log, nonce="n2", token=TOKEN_2)
    mocked.post(DATA + PATH_MICRO_CHART, callback=binary(raw))
    client = HoymilesClient(session, USER, PASSWORD)
    day = await client.micro_day(1001, date(2026, 6, 6), [41, 42], timezone="Europe/Amsterdam")
    curve = day.curve(41, QUOTA_POWER)
    assert curve is not None
    assert curve.values == (250.0,)
    assert log.calls[-1][1] == {
        "sid": 1001,
        "date": "2026-06-06",
        "mi_list": [41, 42],
        "quota": [QUOTA_POWER, QUOTA_TEMPERATURE],
    }
    assert log.calls[-1][2]["Authorization"] == TOKEN_2
    assert (await client.micro_day(1001, date(2026, 6, 6), [])).series == {}

    mocked.post(DATA + PATH_POWER_BY_DAY, callback=log.reply(fail("3", "No Permission.")))
    with pytest.raises(ApiNotFoundError):
        await client.power_curve(9, date(2026, 6, 6))
    mocked.post(DATA + PATH_POWER_BY_DAY, callback=log.reply(ok(None)))
    assert (await client.power_curve(1001, date(2026, 6, 6))).times == ()
    mocked.post(DATA + PATH_POWER_BY_DAY, callback=log.reply(fail("2", "Parameter error.")))
    with pytest.raises(HoymilesRefusedError, match="status 2"):  # the service said no
        await client.power_curve(1001, date(2026, 6, 6))
    # Unreadable answers are plain ApiResponseErrors (a failed fetch), never refusals.
    mocked.post(DATA + PATH_POWER_BY_DAY, callback=binary(b'{"status": "0", "da'))
    with pytest.raises(ApiResponseError, match="Malformed") as malformed:
        await client.power_curve(1001, date(2026, 6, 6))
    assert not isinstance(malformed.value, HoymilesRefusedError)
    mocked.post(DATA + PATH_POWER_BY_DAY, callback=binary(b"\x0a\x05ab"))
    with pytest.raises(ApiResponseError, match="truncated") as truncated:
        await client.power_curve(1001, date(2026, 6, 6))
    assert not isinstance(truncated.value, HoymilesRefusedError)
    assert log.paths[-5:] == [PATH_POWER_BY_DAY] * 5


# --- S-Miles Home accounts --------------------------------------------------------------------

HOME_ONLY = fail("1", "This account can only be used for logging in to the S-Miles Home app.")


async def test_home_account_moves_to_the_app_endpoints(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """HTTP 403 on the installer station list: the `_c` endpoints from then on, the plant
    named `sid` in their bodies; history stays on the installer paths."""
    region_ok(mocked, log)
    argon_login(mocked, log)
    mocked.post(DATA + PATH_STATIONS, callback=log.reply(HOME_ONLY, status=403))
    mocked.post(
        DATA + PATH_STATIONS_HOME,
        callback=log.reply(ok({"list": [{"sid": 77, "name": "Shed"}], "total": 1})),
    )
    mocked.post(
        DATA + PATH_STATION_FIND_HOME,
        callback=log.reply(ok({"sid": 77, "timezone": {"tz_name": "UTC+01"}})),
    )
    tree = {"id": 5, "sn": "DTU5", "type": 1, "devices": [{"id": 6, "sn": "MI6", "type": 3}]}
    mocked.post(DATA + PATH_DEVICE_TREE_HOME, callback=log.reply(ok([tree])))
    realtime = load_json("hoymiles/count_station_real_data.pv_only.json")
    mocked.post(DATA + PATH_REALTIME_HOME, callback=log.reply(realtime))
    mocked.post(DATA + PATH_ENERGY_STATS, callback=log.reply(ok({"list": []})))
    client = HoymilesClient(session, USER, PASSWORD)
    stations = await client.stations()
    assert [(station.id, station.name) for station in stations] == [(77, "Shed")]
    assert client.profile is DataProfile.HOME
    details = await client.station_details(77)
    assert details.id == 77
    assert details.timezone is None  # no IANA name: the source falls back to its default
    devices = (await client.device_tree(77)).devices
    assert [(d.id, d.kind, d.parent_id) for d in devices] == [
        (5, DeviceKind.DTU, None),
        (6, DeviceKind.MICROINVERTER, 5),
    ]
    assert (await client.station_realtime(77)).pv_power_w == 1483.9
    assert await client.daily_generation(77, date(2026, 6, 1), date(2026, 6, 2)) == []
    assert log.paths[3:] == [
        PATH_STATIONS,
        PATH_STATIONS_HOME,
        PATH_STATION_FIND_HOME,
        PATH_DEVICE_TREE_HOME,
        PATH_REALTIME_HOME,
        PATH_ENERGY_STATS,
    ]
    assert log.calls[4][1] == {"page": 1, "page_size": 100}
    assert [body for _, body, _ in log.calls[5:8]] == [{"sid": 77}] * 3


async def test_home_refusal_by_status_and_after_the_move(
    session: aiohttp.ClientSession, mocked: aioresponses, log: Log
) -> None:
    """A status naming the S-Miles Home app moves the client too (and the chart goes to its
    `_c` twin); once there, a 403 or a refusal is an error of the call, never a re-login."""
    region_ok(mocked, log)
    argon_login(mocked, log)
    mocked.post(DATA + PATH_MICRO_CHART, callback=log.reply(HOME_ONLY))
    mocked.post(DATA + PATH_MICRO_CHART_HOME, callback=log.reply(ok(None)))
    client = HoymilesClient(session, USER, PASSWORD)
    assert (await client.micro_day(77, date(2026, 6, 6), [6])).series == {}
    assert client.profile is DataProfile.HOME
    assert log.paths[-2:] == [PATH_MICRO_CHART, PATH_MICRO_CHART_HOME]
    assert log.calls[-1][1]["sid"] == 77

    mocked.post(DATA + PATH_REALTIME_HOME, callback=log.reply(HOME_ONLY, status=403))
    with pytest.raises(ApiResponseError, match="403"):
        await client.station_realtime(77)
    mocked.post(DATA + PATH_POWER_BY_DAY, callback=log.reply(HOME_ONLY))
    with pytest.raises(HoymilesHomeOnlyError):
        await client.power_curve(77, date(2026, 6, 6))
    assert client.login_count == 1
