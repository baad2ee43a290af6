"""Client for the GB Carbon Intensity API (NESO): national and regional intensity and mix."""

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import re
from typing import Any

from .errors import (
    ApiConnectionError,
    ApiNotFoundError,
    ApiRateLimitedError,
    ApiResponseError,
)
from .http import DEFAULT_RETRY_AFTER, JsonApiClient
from .parse import iso_time, rounded as _int_or_none

DEFAULT_BASE_URL = "https://api.carbonintensity.org.uk"

SLOT = timedelta(minutes=30)
MAX_RANGE = timedelta(days=14)
"""The API's longest ``{from}/{to}`` range (its docs; national and regional alike)."""
RANGE_CHUNK = MAX_RANGE - SLOT
"""What one range request covers: half an hour under the limit, so a ``to - from`` of exactly
14 days is never needed (a year is still 27 requests: 365 x 48 / 671 = 26.1)."""
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_INWARD = re.compile(r"^[0-9][A-Z]{2}$")


def outward_code(postcode: str) -> str:
    """Reduce a GB postcode to its outward code ("bs16 1ab" -> "BS16").

    Raises ValueError when it is not a postcode.
    """
    text = " ".join(postcode.upper().split())
    if " " in text:
        outward, _, inward = text.partition(" ")
        if not _INWARD.match(inward):
            raise ValueError(f"not a postcode: {postcode!r}")
    elif len(text) > 4 and _INWARD.match(text[-3:]):
        outward = text[:-3]  # a full postcode typed without its space
    else:
        outward = text
    if not _OUTWARD.match(outward):
        raise ValueError(f"not a postcode: {postcode!r}")
    return outward


def format_time(when: datetime) -> str:
    """Format a time the way the API wants it: UTC, minute precision, ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def slot_start(when: datetime) -> datetime:
    """The start of the half-hour slot that contains ``when`` (UTC)."""
    when = when.astimezone(UTC)
    return when.replace(minute=when.minute - when.minute % 30, second=0, microsecond=0)


def _parse_time(value: Any) -> datetime:
    parsed = iso_time(value)
    if parsed is None:
        raise ApiResponseError(f"bad time {value!r}")
    return parsed


def _parse_mix(items: Any) -> dict[str, float]:
    mix: dict[str, float] = {}
    if not isinstance(items, list):
        return mix
    for item in items:
        if not isinstance(item, Mapping):
            continue
        fuel, perc = item.get("fuel"), item.get("perc")
        if isinstance(fuel, str) and isinstance(perc, int | float) and not isinstance(perc, bool):
            mix[fuel.strip().lower()] = float(perc)
    return mix


@dataclass(frozen=True, slots=True)
class IntensitySlot:
    """One half-hour: forecast and (national only, once settled) actual intensity."""

    start: datetime
    end: datetime
    forecast: int | None
    actual: int | None
    index: str | None
    mix: Mapping[str, float] = field(default_factory=dict)

    @property
    def intensity(self) -> int | None:
        """The best figure: actual when the API has it, else the forecast."""
        return self.actual if self.actual is not None else self.forecast


@dataclass(frozen=True, slots=True)
class Region:
    """A DNO region (1-14) or an aggregate (15 England, 16 Scotland, 17 Wales)."""

    region_id: int
    short_name: str
    dno_region: str | None = None
    postcode: str | None = None


@dataclass(frozen=True, slots=True)
class RegionalForecast:
    """A region and its half-hour slots, each with its generation mix."""

    region: Region
    slots: list[IntensitySlot]


@dataclass(frozen=True, slots=True)
class GenerationMix:
    """The national generation mix for one half-hour, percent by fuel."""

    start: datetime
    end: datetime
    mix: Mapping[str, float]


def _parse_slot(item: Any) -> IntensitySlot:
    if not isinstance(item, Mapping):
        raise ApiResponseError(f"expected a slot, got {type(item).__name__}")
    intensity = item.get("intensity")
    if not isinstance(intensity, Mapping):
        intensity = {}
    index = intensity.get("index")
    return IntensitySlot(
        start=_parse_time(item.get("from")),
        end=_parse_time(item.get("to")),
        forecast=_int_or_none(intensity.get("forecast")),
        actual=_int_or_none(intensity.get("actual")),
        index=index.strip().lower() if isinstance(index, str) else None,
        mix=_parse_mix(item.get("generationmix")),
    )


def _parse_region(item: Mapping[str, Any]) -> Region:
    region_id = _int_or_none(item.get("regionid"))
    if region_id is None:
        raise ApiResponseError("region without an id")
    short = item.get("shortname")
    dno = item.get("dnoregion")
    postcode = item.get("postcode")
    return Region(
        region_id=region_id,
        short_name=short if isinstance(short, str) and short else f"Region {region_id}",
        dno_region=dno if isinstance(dno, str) else None,
        postcode=postcode if isinstance(postcode, str) else None,
    )


def _data(body: Any) -> Any:
    """The ``data`` member, or None where the API answered with nothing."""
    if body is None:
        return None
    if not isinstance(body, Mapping):
        raise ApiResponseError("expected a JSON object")
    return body.get("data")


@dataclass(frozen=True, slots=True)
class IntensityPoint:
    """One half-hour of an intensity history (UTC), as the range endpoints give it."""

    start: datetime
    end: datetime
    forecast: int | None
    actual: int | None  # national only, once settled; regions never have one
    index: str | None

    def __post_init__(self) -> None:
        """A half-hour without a figure is a hole, not a point."""
        if self.forecast is None and self.actual is None:
            raise ValueError("an intensity point needs a forecast or an actual")

    @property
    def value(self) -> int:
        """The figure to use: the actual where the API has one (national), else the forecast."""
        if self.actual is not None:
            return self.actual
        assert self.forecast is not None  # __post_init__
        return self.forecast


def _aware_utc(when: datetime, name: str) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return when.astimezone(UTC)


def _slot_ceiling(when: datetime) -> datetime:
    floor = slot_start(when)
    return floor if floor == when else floor + SLOT


def _raise_body_error(body: Mapping[str, Any]) -> None:
    """An ``{"error": {"code": "400 Bad Request", "message": ...}}`` body, even in an HTTP 200."""
    error = body.get("error")
    if error is None:
        return
    code = error.get("code") if isinstance(error, Mapping) else None
    message = error.get("message") if isinstance(error, Mapping) else None
    message = message.strip() if isinstance(message, str) and message.strip() else None
    status = _int_or_none(code.split()[0]) if isinstance(code, str) and code.split() else None
    detail = f"the API answered an error: {code or '?'}: {message or error!r}"[:300]
    if status == 400:
        raise CarbonIntensityBadRequest(detail, message)
    if status == 429:
        raise ApiRateLimitedError(detail, retry_after=DEFAULT_RETRY_AFTER)
    if status is not None and status >= 500:
        raise ApiConnectionError(detail)
    raise ApiResponseError(detail)


def _range_items(body: Any, *, regional: bool) -> list[Any]:
    """The half-hour items of a range answer, whatever wrapper it came in.

    National: ``{"data": [items]}``. Regional: ``{"data": {"regionid", ..., "data": [items]}}``
    (what the API sends) or ``{"data": [{"regionid", ..., "data": [items]}]}`` (its docs).
    An empty body, ``{"data": []}`` or ``{"data": null}`` is no data.
    """
    if body is None:
        return []
    if not isinstance(body, Mapping):
        raise ApiResponseError("expected a JSON object")
    _raise_body_error(body)
    data = body.get("data")
    if isinstance(data, Mapping):
        if isinstance(data.get("data"), list):  # a region object
            return list(data["data"])
        return [data] if "from" in data else []  # a single item
    if not isinstance(data, list):
        return []
    if regional or (data and isinstance(data[0], Mapping) and "from" not in data[0]):
        regions = [item for item in data if isinstance(item, Mapping) and "from" not in item]
        if regions:
            inner = regions[0].get("data")
            return list(inner) if isinstance(inner, list) else []
    return data


def _parse_point(item: Any) -> IntensityPoint | None:
    """A half-hour item, or None when it is not one we can use (no time, no figure)."""
    if not isinstance(item, Mapping):
        return None
    start, end = iso_time(item.get("from")), iso_time(item.get("to"))
    if start is None or start != slot_start(start):
        return None
    if end is None or end - start != SLOT:
        end = start + SLOT  # the API's half-hours are all 30 minutes; a bad "to" is not data
    intensity = item.get("intensity")
    if not isinstance(intensity, Mapping):
        return None
    forecast = _int_or_none(intensity.get("forecast"))
    actual = _int_or_none(intensity.get("actual"))
    if forecast is None and actual is None:
        return None
    index = intensity.get("index")
    return IntensityPoint(
        start=start,
        end=end,
        forecast=forecast,
        actual=actual,
        index=index.strip().lower() if isinstance(index, str) and index.strip() else None,
    )


class CarbonIntensityBadRequest(ApiResponseError):
    """HTTP 400: the API refused what was asked (``{"error": {"code", "message"}}``)."""

    def __init__(self, message: str, api_message: str | None) -> None:
        """Keep the API's own message ("No postcode match can be found.")."""
        super().__init__(message)
        self.api_message = api_message


def error_message(body: str) -> str | None:
    """The ``message`` of the API's documented error body, if it is one."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    error = parsed.get("error") if isinstance(parsed, Mapping) else None
    message = error.get("message") if isinstance(error, Mapping) else None
    return message.strip() if isinstance(message, str) and message.strip() else None


class CarbonIntensityClient(JsonApiClient):
    """GB Carbon Intensity API. No authentication."""

    def _raise_for_status(
        self, status: int, body: str, content_type: str, retry_after: str | None
    ) -> None:
        """A 400 carries the API's reason (``{"error": {"code": "400 Bad Request", ...}}``)."""
        if status == 400 and "html" not in content_type.lower():
            message = error_message(body)
            raise CarbonIntensityBadRequest(
                f"{self.base_url} answered HTTP 400: {message or body[:200]}", message
            )
        super()._raise_for_status(status, body, content_type, retry_after)

    async def national_forecast(self, start: datetime) -> list[IntensitySlot]:
        """National slots for 48 h from the slot containing ``start`` (``actual`` once known)."""
        body = await self._request_json(
            "GET", f"/intensity/{format_time(start)}/fw48h", allow_empty=True
        )
        data = _data(body)
        if not isinstance(data, list):
            return []
        return sorted((_parse_slot(item) for item in data), key=lambda slot: slot.start)

    async def national_generation(self) -> GenerationMix | None:
        """The national generation mix for the current half-hour."""
        data = _data(await self._request_json("GET", "/generation", allow_empty=True))
        if isinstance(data, list):  # the documented shape; an object is accepted too
            data = data[0] if data else None
        if not isinstance(data, Mapping):
            return None
        return GenerationMix(
            start=_parse_time(data.get("from")),
            end=_parse_time(data.get("to")),
            mix=_parse_mix(data.get("generationmix")),
        )

    async def region_for_postcode(self, postcode: str) -> Region:
        """The region an outward code belongs to. ApiNotFoundError when the API does not know it:
        an answer without data, or HTTP 400 ("No postcode match can be found.", as for W7)."""
        outward = outward_code(postcode)
        try:
            body = await self._request_json(
                "GET", f"/regional/postcode/{outward}", allow_empty=True
            )
        except CarbonIntensityBadRequest as err:
            # The outward code is well formed (checked above): a 400 refuses that postcode.
            raise ApiNotFoundError(f"unknown postcode {outward!r}: {err.api_message}") from err
        data = _data(body)
        if isinstance(data, list):
            data = data[0] if data else None
        if not isinstance(data, Mapping):
            raise ApiNotFoundError(f"unknown postcode {postcode!r}")
        return _parse_region(data)

    async def regional_forecast(self, start: datetime, region_id: int) -> RegionalForecast:
        """A region's slots for 48 h from the slot containing ``start``, each with its mix."""
        body = await self._request_json(
            "GET",
            f"/regional/intensity/{format_time(start)}/fw48h/regionid/{region_id}",
            allow_empty=True,
        )
        data = _data(body)
        if isinstance(data, list):  # the docs' (wrong) example shape
            data = data[0] if data else None
        if not isinstance(data, Mapping):
            raise ApiNotFoundError(f"no data for region {region_id}")
        slots = data.get("data")
        return RegionalForecast(
            region=_parse_region(data),
            slots=sorted(
                (_parse_slot(item) for item in slots if isinstance(item, Mapping))
                if isinstance(slots, list)
                else [],
                key=lambda slot: slot.start,
            ),
        )

    async def intensity_history(
        self,
        start: datetime,
        end: datetime,
        *,
        region_id: int | None = None,
        postcode: str | None = None,
    ) -> AsyncIterator[tuple[IntensityPoint, ...]]:
        """The half-hourly intensity from ``start`` to ``end``, one chunk per request.

        National by default (``/intensity/{from}/{to}``: forecast and, once settled, actual);
        a region with ``region_id`` (``/regional/intensity/{from}/{to}/regionid/{id}``) or
        ``postcode`` (an outward code; a full postcode is cut to it:
        ``/regional/intensity/{from}/{to}/postcode/{outward}``), forecast only.

        Covers the half-hours that start at or after the one containing ``start`` and before
        ``end`` (aware datetimes; UTC throughout, so a UK clock-change day is simply 46 or 50
        of them). One request per 14 days less half an hour (a year is 27 requests), oldest
        first; each yields that span's half-hours (:class:`IntensityPoint`, sorted; an empty
        tuple when the API had none) as soon as it is answered, so a caller keeps what it got
        if a later request fails. Every half-hour appears once across the chunks, inside
        ``[start, end)``: the API's answers also carry the half-hour ending at ``{from}`` and
        may repeat one, and those are dropped. An answer that stops before its span's end is
        asked once more for the rest (one more request); a half-hour the API still did not
        give (a hole, or past the forecast horizon: ask no later than needed) is absent, never
        filled in; one with neither figure likewise.

        Raises ValueError for naive times, both ``region_id`` and ``postcode``, or a postcode
        that is not one; the api errors of the other methods otherwise (an error body inside
        an HTTP 200 included: ``CarbonIntensityBadRequest`` for a 400 code).
        """
        if region_id is not None and postcode is not None:
            raise ValueError("give region_id or postcode, not both")
        if postcode is not None:
            place = f"/postcode/{outward_code(postcode)}"
        elif region_id is not None:
            place = f"/regionid/{int(region_id)}"
        else:
            place = ""
        prefix = "/regional/intensity" if place else "/intensity"
        first = slot_start(_aware_utc(start, "start"))
        last = _slot_ceiling(_aware_utc(end, "end"))
        chunk_start = first
        while chunk_start < last:
            chunk_end = min(chunk_start + RANGE_CHUNK, last)
            points = await self._range_points(prefix, place, chunk_start, chunk_end)
            if points and (tail := max(points) + SLOT) < chunk_end:
                # The answer stopped short (the regional ranges stop at a new year:
                # jnioche/carbonintensity-api#6): ask once for the rest; what that second
                # answer lacks too is a hole.
                points.update(await self._range_points(prefix, place, tail, chunk_end))
            yield tuple(points[key] for key in sorted(points))
            chunk_start = chunk_end

    async def _range_points(
        self, prefix: str, place: str, start: datetime, end: datetime
    ) -> dict[datetime, IntensityPoint]:
        """One range request: its half-hours inside ``[start, end)`` by start, each once."""
        body = await self._request_json(
            "GET", f"{prefix}/{format_time(start)}/{format_time(end)}{place}", allow_empty=True
        )
        points: dict[datetime, IntensityPoint] = {}
        for item in _range_items(body, regional=bool(place)):
            point = _parse_point(item)
            if point is not None and start <= point.start < end:
                points.setdefault(point.start, point)  # a repeated half-hour: the first wins
        return points
