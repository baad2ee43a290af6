"""The shared readers of loosely typed JSON values (api/parse.py)."""

from datetime import UTC, datetime
import math

import pytest

from custom_components.energy_hub.api.parse import iso_time, number, rounded, text, text_or_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (3, 3.0),
        (2.5, 2.5),
        (" 4.25 ", 4.25),
        ("", None),
        ("-", None),
        ("junk", None),
        (None, None),
        (True, None),
        (math.nan, None),
        ("inf", None),
        ([1], None),
    ],
)
def test_number(raw: object, expected: float | None) -> None:
    """Finite numbers from numbers and numeric strings; None for everything else."""
    assert number(raw) == expected


def test_rounded() -> None:
    """The nearest whole number (banker's rounding, as ``round``), None when not a number."""
    assert [rounded(v) for v in (2.4, "2.6", 2.5, "x", math.inf)] == [2, 3, 2, None, None]


def test_text_and_ids() -> None:
    """Stripped non-empty strings; ids sent as whole numbers become text."""
    assert [text(v) for v in (" a ", "", "  ", 7, None)] == ["a", None, None, None, None]
    assert [text_or_id(v) for v in (" a ", 7, True, 7.0, "")] == ["a", "7", None, None, None]


def test_iso_time() -> None:
    """``Z`` and offsets to UTC; no offset: UTC, or None when that is not allowed."""
    utc = datetime(2024, 6, 5, 22, 0, tzinfo=UTC)
    assert iso_time("2024-06-05T22:00:00Z") == utc
    assert iso_time(" 2024-06-05T22:00:00z ") == utc
    assert iso_time("2024-06-06T00:00:00+02:00") == utc
    assert iso_time("2024-06-05T22:00:00") == utc
    assert iso_time("2024-06-05T22:00:00", naive_is_utc=False) is None
    assert [iso_time(v) for v in ("", "noon", None, 1717624800)] == [None, None, None, None]
