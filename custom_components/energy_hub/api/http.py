"""A small JSON-over-HTTP helper that every vendor client builds on."""

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import json
import logging
import re
from typing import Any, TypedDict, Unpack
from urllib.parse import unquote

import aiohttp

from .errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiNotFoundError,
    ApiRateLimitedError,
    ApiResponseError,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 20.0
DEFAULT_RETRY_AFTER = 60.0

_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][\d:.]*Z?)?$")
_HEX_ID = re.compile(r"^[0-9a-fA-F-]{16,}$")


def _identifier_like(segment: str) -> bool:
    """A path segment that may name an account, meter, device or person: four or more digits
    (MPAN, MPRN, meter serial, account number, MAC as a number, tariff code) that are not a
    date, a long hex id (GUID), or anything with an ``@``."""
    text = unquote(segment)
    if "@" in text or _HEX_ID.match(text):
        return True
    return sum(char.isdigit() for char in text) >= 4 and not _DATE_LIKE.match(text)


def loggable_url(url: str) -> str:
    """``url`` for a log line: the host and the path with identifier-looking segments as
    ``*``, no query (queries carry device ids and tokens), no user information."""
    head, _, rest = url.partition("://")
    if not rest:
        head, rest = "", url
    rest = rest.split("#", 1)[0]
    path_and_query = rest.split("?", 1)
    authority, _, path = path_and_query[0].partition("/")
    host = authority.rsplit("@", 1)[-1]
    segments = ["*" if _identifier_like(part) else part for part in path.split("/")]
    query = "?..." if len(path_and_query) > 1 else ""
    return f"{head + '://' if head else ''}{host}/{'/'.join(segments)}{query}"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Read a Retry-After header: delta seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except TypeError, ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RequestOptions(TypedDict, total=False):
    """What a request may carry besides its headers."""

    params: Mapping[str, str | int] | None
    json_body: Any
    data: Any
    auth: aiohttp.BasicAuth | None


class JsonApiClient:
    """Base for vendor clients: one session, one base URL, errors mapped to :mod:`.errors`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Use the caller's session (Home Assistant's shared one in production)."""
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.request_count = 0

    async def _request_json(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        allow_empty: bool = False,
        **request: Unpack[RequestOptions],
    ) -> Any:
        """Make one request and return the decoded JSON body.

        ``allow_empty``: an empty 200 body returns None instead of raising.
        """
        raw, _ = await self._request_bytes(
            method, path, headers={"Accept": "application/json", **(headers or {})}, **request
        )
        body = raw.decode("utf-8", errors="replace")
        if not body.strip():
            if allow_empty:
                return None
            raise ApiResponseError(f"Empty response from {path}")
        try:
            return json.loads(body)
        except ValueError as err:
            raise ApiResponseError(f"Malformed JSON from {path}") from err

    async def _request_bytes(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        **request: Unpack[RequestOptions],
    ) -> tuple[bytes, str]:
        """Make one request; return the body as bytes and its content type (binary answers
        such as protobuf). HTTP errors raise as for JSON."""
        url = f"{self.base_url}{path}"
        self.request_count += 1
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug("%s %s", method, loggable_url(url))
        try:
            async with self._session.request(
                method,
                url,
                params=request.get("params"),
                headers=dict(headers or {}),
                json=request.get("json_body"),
                data=request.get("data"),
                auth=request.get("auth"),
                timeout=self._timeout,
            ) as resp:
                body = await resp.read()
                status = resp.status
                content_type = resp.headers.get("Content-Type", "")
                retry_after = resp.headers.get("Retry-After")
        except TimeoutError as err:
            raise ApiConnectionError(f"Timed out talking to {self.base_url}") from err
        except aiohttp.ClientError as err:
            # Connection errors name the host only; others (invalid URL, redirects) the URL.
            detail = str(err) if isinstance(err, aiohttp.ClientConnectionError) else ""
            raise ApiConnectionError(
                f"Cannot reach {loggable_url(self.base_url)}: {detail or type(err).__name__}"
            ) from err
        except ValueError as err:  # a URL aiohttp cannot use (typed in before it was checked)
            raise ApiConnectionError(f"Unusable server URL {loggable_url(self.base_url)}") from err
        except asyncio.CancelledError:
            raise

        if status >= 400:
            text = body.decode("utf-8", errors="replace")
            self._raise_for_status(status, text, content_type, retry_after)
        return body, content_type

    def _raise_for_status(
        self, status: int, body: str, content_type: str, retry_after: str | None
    ) -> None:
        """Map an HTTP error status to an API error. Vendors override for their quirks."""
        is_html = "html" in content_type.lower() or body.lstrip().startswith("<")
        if status == 429:
            delay = parse_retry_after(retry_after)
            raise ApiRateLimitedError(
                f"Rate limited by {self.base_url}",
                retry_after=DEFAULT_RETRY_AFTER if delay is None else delay,
            )
        if status >= 500 or is_html:
            raise ApiConnectionError(f"{self.base_url} answered HTTP {status}")
        if status in (401, 403):
            raise ApiAuthError(f"{self.base_url} rejected the credentials (HTTP {status})")
        if status == 404:
            raise ApiNotFoundError(f"Not found (HTTP 404): {body[:200]}")
        raise ApiResponseError(f"{self.base_url} answered HTTP {status}: {body[:200]}")
