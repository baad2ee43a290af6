"""Best windows to run a load, from held prices and carbon intensities: pure computation.

No vendor and no Home Assistant here: rates (:class:`~.sources.rates.Rate`, a price per kWh
over ``[start, end)``) and intensity points (``(start, end, gCO2/kWh)``) in, windows out.

A window is scored by its time-weighted average over the data it spans (a half-hour the
window covers in part counts for the part it covers):

- ``price``: the average price per kWh;
- ``carbon``: the average intensity, gCO2/kWh;
- ``blend``: price and carbon as one cost per kWh,
  ``price + intensity (g/kWh) x carbon price (per tonne) / 1,000,000``.

Both series are piecewise constant, so the best start is always one of: the earliest start,
the latest end minus the duration, a data edge (a half-hour boundary for half-hourly data),
or a data edge minus the duration (the window ends on it). Those are the only starts tried;
a window starts on a whole minute given by those. A window needs every series the objective
uses for all of its length: a gap in the data is never guessed.

The next windows are the best ones overlapping none chosen before them (the best, then the
best that does not overlap it, then the best that overlaps neither); ties go to the earliest.
"""

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .sources.rates import Rate

#: ``(start, end, gCO2/kWh)``: the carbon intensity over ``[start, end)``.
type IntensityPoint = tuple[datetime, datetime, float]

GRAMS_PER_TONNE = 1_000_000
MIN_DURATION = timedelta(minutes=15)
MAX_DURATION = timedelta(hours=12)
#: The best window and the next two.
WINDOW_COUNT = 3
#: Scores equal to this many decimals are a tie (the earlier window wins).
TIE_DECIMALS = 9


class Objective(StrEnum):
    """What a window minimises."""

    PRICE = "price"
    CARBON = "carbon"
    BLEND = "blend"

    @property
    def needs_prices(self) -> bool:
        """Whether the objective reads the tariff."""
        return self is not Objective.CARBON

    @property
    def needs_intensity(self) -> bool:
        """Whether the objective reads the carbon intensity."""
        return self is not Objective.PRICE


@dataclass(frozen=True, slots=True)
class Window:
    """A window and its time-weighted averages (None: that series does not cover it)."""

    start: datetime
    end: datetime
    #: Average price per kWh over the window.
    price: float | None
    #: Average carbon intensity, gCO2/kWh.
    intensity: float | None
    #: The objective's cost per kWh (price, g/kWh or blended price).
    score: float


class NoWindowData(Exception):
    """No window of the duration lies within held data in the span asked for.

    ``until``: where the held data (of every series the objective needs) end; None when
    none are held.
    """

    def __init__(self, until: datetime | None) -> None:
        """Keep where the held data end."""
        super().__init__(until)
        self.until = until


class Series:
    """A piecewise-constant function over the spans it covers (pieces sorted, no overlap)."""

    def __init__(self, pieces: Iterable[tuple[datetime, datetime, float]]) -> None:
        """Keep the non-empty pieces by start; a piece overlapping the one before it is cut
        to start where that one ends."""
        ordered: list[tuple[datetime, datetime, float]] = []
        for start, end, value in sorted(pieces, key=lambda piece: piece[0]):
            begin = max(start, ordered[-1][1]) if ordered else start
            if end > begin:
                ordered.append((begin, end, value))
        self.pieces = ordered
        self._starts = [piece[0] for piece in ordered]

    @classmethod
    def of_rates(cls, rates: Iterable[Rate]) -> Series:
        """Prices from rates."""
        return cls((rate.start, rate.end, rate.value) for rate in rates)

    def runs(self) -> list[tuple[datetime, datetime]]:
        """The spans covered without a gap."""
        out: list[tuple[datetime, datetime]] = []
        for start, end, _ in self.pieces:
            if out and out[-1][1] == start:
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        return out

    def edges(self) -> set[datetime]:
        """Every instant the value can change."""
        return {edge for start, end, _ in self.pieces for edge in (start, end)}

    def average(self, start: datetime, end: datetime) -> float | None:
        """The time-weighted average over ``[start, end)``; None unless covered throughout."""
        index = bisect_right(self._starts, start) - 1
        if index < 0:
            return None
        cursor = start
        total = 0.0
        for piece_start, piece_end, value in self.pieces[index:]:
            if piece_start > cursor or cursor >= end:
                break
            if piece_end <= cursor:
                continue
            upto = min(piece_end, end)
            total += value * (upto - cursor).total_seconds()
            cursor = upto
        if cursor < end:
            return None
        return total / (end - start).total_seconds()


def _intersect(
    first: list[tuple[datetime, datetime]], second: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a_start, a_end in first:
        for b_start, b_end in second:
            lo, hi = max(a_start, b_start), min(a_end, b_end)
            if lo < hi:
                out.append((lo, hi))
    return sorted(out)


def find_windows(
    *,
    objective: Objective,
    duration: timedelta,
    earliest: datetime,
    latest: datetime | None,
    prices: Sequence[Rate] | None = None,
    intensities: Sequence[IntensityPoint] | None = None,
    carbon_price: float = 0.0,
    count: int = WINDOW_COUNT,
) -> list[Window]:
    """The best ``count`` windows of ``duration`` within ``[earliest, latest]``, best first,
    none overlapping another.

    ``prices`` are needed for ``price`` and ``blend``, ``intensities`` for ``carbon`` and
    ``blend`` (ValueError without them); ``carbon_price`` is per tonne of CO2 in the prices'
    currency. Raises :class:`NoWindowData` when no window has the data it needs.
    """
    price_series = Series.of_rates(prices) if prices is not None else None
    carbon_series = Series(intensities) if intensities is not None else None
    needed: list[Series] = []
    if objective.needs_prices:
        if price_series is None:
            raise ValueError("prices needed")
        needed.append(price_series)
    if objective.needs_intensity:
        if carbon_series is None:
            raise ValueError("intensities needed")
        needed.append(carbon_series)
    covered = needed[0].runs()
    for series in needed[1:]:
        covered = _intersect(covered, series.runs())
    until = covered[-1][1] if covered else None
    spans = [(max(lo, earliest), hi if latest is None else min(hi, latest)) for lo, hi in covered]
    spans = [(lo, hi) for lo, hi in spans if hi - lo >= duration]
    if not spans:
        raise NoWindowData(until)

    def feasible(start: datetime) -> bool:
        return any(lo <= start and start + duration <= hi for lo, hi in spans)

    edges = set().union(*(series.edges() for series in needed))
    candidates = {lo for lo, _ in spans} | {hi - duration for _, hi in spans}
    candidates |= {edge for edge in edges if feasible(edge)}
    candidates |= {edge - duration for edge in edges if feasible(edge - duration)}

    def score(start: datetime) -> Window:
        end = start + duration
        price = price_series.average(start, end) if price_series else None
        intensity = carbon_series.average(start, end) if carbon_series else None
        if objective is Objective.PRICE:
            value = price
        elif objective is Objective.CARBON:
            value = intensity
        else:
            value = (
                price + intensity * carbon_price / GRAMS_PER_TONNE
                if price is not None and intensity is not None
                else None
            )
        if value is None:  # not reached: candidates lie in covered spans
            raise NoWindowData(until)
        return Window(start, end, price, intensity, value)

    scored = {start: score(start) for start in candidates}
    chosen: list[Window] = []
    while len(chosen) < count:
        free = [
            window
            for window in scored.values()
            if all(window.end <= taken.start or window.start >= taken.end for taken in chosen)
        ]
        if not free:
            break
        best = min(free, key=lambda window: (round(window.score, TIE_DECIMALS), window.start))
        chosen.append(best)
        # The next best may sit right against this one: starts there are candidates too.
        for start in (best.start - duration, best.end):
            if start not in scored and feasible(start):
                scored[start] = score(start)
    return chosen
