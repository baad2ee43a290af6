"""Reading loosely typed JSON values: numbers, texts and times, the same way for every vendor.

Vendors send numbers as strings, ids as numbers, and times with or without a ``Z``. These
helpers never raise: what cannot be read is None, and each client decides whether a missing
value is an error.
"""

from datetime import UTC, datetime
import math
from typing import Any


def number(value: Any) -> float | None:
    """A finite number from a number or a numeric string; None for null, booleans, junk
    strings ("", "-") and NaN or infinity."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        found = float(value)
    elif isinstance(value, str):
        try:
            found = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return found if math.isfinite(found) else None


def rounded(value: Any) -> int | None:
    """:func:`number`, rounded to the nearest whole number."""
    found = number(value)
    return None if found is None else round(found)


def text(value: Any) -> str | None:
    """A non-empty string, stripped; None for anything else."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def text_or_id(value: Any) -> str | None:
    """:func:`text`, or a whole number as text (ids some payloads send as numbers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(value)


def iso_time(value: Any, *, naive_is_utc: bool = True) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (a trailing ``Z`` is UTC). A time without an
    offset is UTC, or None when ``naive_is_utc`` is false; None for anything else."""
    found = text(value)
    if found is None:
        return None
    if found[-1] in "zZ":
        found = found[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(found)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if not naive_is_utc:
            return None
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
