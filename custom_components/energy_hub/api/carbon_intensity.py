"""Client for the GB Carbon Intensity API (NESO): national and regional intensity and mix."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import re
from typing import Any

from .errors import ApiNotFoundError, ApiResponseError
from .http import JsonApiClient
from .parse import iso_time, rounded as _int_or_none

DEFAULT_BASE_URL = "https://api.carbonintensity.org.uk"

SLOT = timedelta(minutes=30)
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
