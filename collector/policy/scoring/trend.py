"""Robust trends: Theil-Sen slope with Sen's (1968) confidence interval.

:func:`theil_sen` is the same estimator as ``scipy.stats.theilslopes`` (median of
pairwise slopes; interval from Sen's eq. 2.6 with tie corrections), written with
numpy partitions instead of a full sort so a fleet rescore stays fast; a test
compares the two on random data. :func:`fit_trend` refuses to speak on too short
a history and averages long ones into equal time bins first.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kitlife.collector.policy.scoring.history import DailySeries, FloatArray

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True, slots=True)
class TheilSen:
    slope: float
    intercept: float
    low_slope: float
    high_slope: float


def _tie_term(sorted_values: FloatArray) -> float:
    """Sen's tie correction, sum of k(k-1)(2k+5) over groups of k equal values."""
    change = np.flatnonzero(sorted_values[1:] != sorted_values[:-1])
    if change.size == sorted_values.size - 1:
        return 0.0
    edges = np.concatenate(([0], change + 1, [sorted_values.size]))
    k = np.diff(edges).astype(np.float64)
    return float(np.sum(k * (k - 1) * (2 * k + 5)))


@lru_cache(maxsize=256)
def _pairs(n: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    i, j = np.triu_indices(n, k=1)
    return i, j


def _sorted_median(sorted_values: FloatArray) -> float:
    n = sorted_values.size
    mid = n // 2
    return float(sorted_values[mid] if n % 2 else (sorted_values[mid - 1] + sorted_values[mid]) / 2)


_Z_CACHE: dict[float, float] = {}


def _z(confidence: float) -> float:
    z = _Z_CACHE.get(confidence)
    if z is None:
        alpha = 1.0 - confidence if confidence > 0.5 else confidence
        z = _Z_CACHE[confidence] = NormalDist().inv_cdf(alpha / 2.0)
    return z


def theil_sen(x: FloatArray, y: FloatArray, confidence: float = 0.95) -> TheilSen:
    """Median pairwise slope of y on x, intercept median(y) - slope * median(x).

    Needs at least two distinct x. The slope interval at ``confidence`` follows
    scipy.stats.theilslopes exactly (same ranks, same rounding).
    """
    i, j = _pairs(x.size)
    dx = x[j] - x[i]
    dy = y[j] - y[i]
    increasing = bool((x[1:] > x[:-1]).all())
    if increasing:
        # The usual case (days in order): every pair has dx > 0, no x ties.
        slopes = dy / dx
        sorted_x, x_ties = x, 0.0
    else:
        # scipy takes every ordered pair with dx > 0: each unordered pair with distinct x once.
        distinct = dx != 0
        slopes = dy[distinct] / dx[distinct]
        sorted_x = np.sort(x)
        x_ties = _tie_term(sorted_x)
    n_slopes = slopes.size
    if n_slopes == 0:
        raise ValueError("theil_sen needs at least two distinct x values")
    z = _z(confidence)
    sorted_y = np.sort(y)
    n = float(y.size)
    sigsq = (n * (n - 1) * (2 * n + 5) - x_ties - _tie_term(sorted_y)) / 18.0
    sigma = math.sqrt(sigsq) if sigsq > 0 else math.nan
    mid = n_slopes // 2
    ranks = [mid - 1, mid] if n_slopes % 2 == 0 else [mid]
    if math.isnan(sigma):
        upper_rank = lower_rank = -1
    else:
        upper_rank = min(round((n_slopes - z * sigma) / 2.0), n_slopes - 1)
        lower_rank = max(round((n_slopes + z * sigma) / 2.0) - 1, 0)
        ranks += [lower_rank, upper_rank]
    part = np.partition(slopes, sorted(set(ranks)))
    median = float(part[mid]) if n_slopes % 2 else float((part[mid - 1] + part[mid]) / 2.0)
    intercept = _sorted_median(sorted_y) - median * _sorted_median(sorted_x)
    if lower_rank < 0:
        return TheilSen(median, intercept, math.nan, math.nan)
    return TheilSen(median, intercept, float(part[lower_rank]), float(part[upper_rank]))


def downsample(series: DailySeries, max_points: int) -> DailySeries:
    """Mean of each of at most ``max_points`` equal time bins (empty bins dropped)."""
    days, values = series.days, series.values
    if days.size <= max_points:
        return series
    start, stop = days[0], days[-1]
    width = (stop - start) / max_points
    bins = np.minimum(((days - start) / width).astype(np.int64), max_points - 1)
    counts = np.bincount(bins, minlength=max_points)
    filled = counts > 0
    day_sums = np.bincount(bins, weights=days, minlength=max_points)[filled]
    value_sums = np.bincount(bins, weights=values, minlength=max_points)[filled]
    return DailySeries(day_sums / counts[filled], value_sums / counts[filled])


@dataclass(frozen=True, slots=True)
class Trend:
    """Slope per month with confidence bounds, over ``points`` rollups spanning ``span_days``."""

    per_month: float
    low_per_month: float
    high_per_month: float
    points: int
    span_days: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_trend(
    series: DailySeries | None,
    *,
    min_span_days: float,
    min_points: int,
    max_points: int,
    confidence: float,
) -> Trend | None:
    """The trend of a daily series, or None when it is too short to say anything."""
    if series is None or series.days.size < min_points:
        return None
    span = float(series.days[-1] - series.days[0])
    if span < min_span_days:
        return None
    binned = downsample(series, max_points)
    fit = theil_sen(binned.days, binned.values, confidence)
    low, high = fit.low_slope, fit.high_slope
    if math.isnan(low) or math.isnan(high):
        return None
    return Trend(
        per_month=fit.slope * DAYS_PER_MONTH,
        low_per_month=low * DAYS_PER_MONTH,
        high_per_month=high * DAYS_PER_MONTH,
        points=int(series.days.size),
        span_days=span,
    )


@dataclass(frozen=True, slots=True)
class Crossing:
    """Months until a level crosses its threshold: estimate and interval (inf = not on trend)."""

    months: float
    soonest: float
    latest: float


def months_to_cross(level: float, threshold: float, trend: Trend, *, rising: bool) -> Crossing:
    """When ``level`` moving at ``trend`` reaches ``threshold``.

    ``rising`` is True when crossing means going up (wear), False when going down
    (battery capacity). Already past the threshold gives zero months.
    """
    sign = 1.0 if rising else -1.0
    gap = sign * (threshold - level)
    if gap <= 0:
        return Crossing(0.0, 0.0, 0.0)
    rates = sorted(sign * r for r in (trend.per_month, trend.low_per_month, trend.high_per_month))
    slow, mid, fast = rates

    def months(rate: float) -> float:
        return gap / rate if rate > 0 else math.inf

    return Crossing(months(mid), months(fast), months(slow))


def p_serves(crossing: Crossing, horizon_months: float) -> float:
    """Chance the threshold is not crossed within the horizon.

    Piecewise linear in the horizon: 1 up to the soonest crossing, 0.5 at the
    estimate, 0 at the latest (staying 0.5 beyond the estimate when the slow
    bound never crosses). Shorter crossings never give a higher chance.
    """
    soonest, months, latest = crossing.soonest, crossing.months, crossing.latest
    h = horizon_months
    if h <= soonest:
        return 1.0
    if h <= months:
        return 1.0 - 0.5 * (h - soonest) / (months - soonest)
    if math.isinf(latest):
        return 0.5
    if h >= latest:
        return 0.0
    return 0.5 * (latest - h) / (latest - months)


# --- fade forecasts ----------------------------------------------------------------------------


def decelerated(days_ahead: float, age_days: float) -> float:
    """Days of fade at today's rate that a fade slowing like the square root of age adds.

    Calendar and cycle ageing of Li-ion cells grows roughly with the square root of
    time (SEI growth), so the rate falls as 1/sqrt(age). A pack whose fade rate today
    is ``r`` at effective age ``T`` loses ``r * 2T(sqrt(1 + h/T) - 1)`` over the next
    ``h`` days, always less than the linear ``r * h``. ``age_days <= 0`` is linear.
    """
    if age_days <= 0:
        return days_ahead
    return 2.0 * age_days * (math.sqrt(1.0 + days_ahead / age_days) - 1.0)


def _days_to_reach(gap: float, rate_per_day: float, age_days: float) -> float:
    """Days until a path falling at ``rate_per_day`` (decelerating with ``age_days``) drops
    ``gap`` points (inf when it never does)."""
    if gap <= 0:
        return 0.0
    if rate_per_day >= 0:
        return math.inf
    fade = gap / -rate_per_day  # days of fade at today's rate
    if age_days <= 0:
        return fade
    return age_days * ((1.0 + fade / (2.0 * age_days)) ** 2 - 1.0)


def rate_at_end(window_days: float, age_days: float) -> float:
    """Today's fade rate as a share of the average rate over the last ``window_days``,
    for a fade that slows like the square root of age and a pack ``age_days`` old today.

    Averaging c/sqrt(t) over [T - w, T] gives 2c(sqrt(T) - sqrt(T - w))/w, and today's
    rate is c/sqrt(T): the ratio is w / (2 sqrt(T) (sqrt(T) - sqrt(T - w))). A pack new at
    the first reading (T = w) fades today at half its average rate; an old pack (T much
    larger than w) at nearly the average rate.
    """
    if window_days <= 0 or age_days <= 0:
        return 1.0
    age = max(age_days, window_days)
    root = math.sqrt(age)
    return window_days / (2.0 * root * (root - math.sqrt(age - window_days)))


@dataclass(frozen=True, slots=True)
class FadeForecast:
    """Where a falling level (battery capacity, % of design) is heading, with an interval.

    ``level`` is the fitted level on the last day. ``per_month`` is the average fade rate
    over the history (Theil-Sen) and ``low_per_month``/``high_per_month`` its interval (with
    that of the recent part). The expected path starts at ``expected_per_month``, today's
    rate for a pack ``age_days`` old whose fade slows like the square root of age, and keeps
    slowing; the optimistic bound does the same from ``slow_per_month`` for a pack new at
    the first reading (``optimistic_age_days``); the pessimistic bound keeps
    ``fast_per_month`` for ever. Both bounds are widened by ``z`` times ``noise``, the
    scatter of the binned readings around the fit, so a forecast from a short or bending
    history says less. ``interval`` is the stated coverage.
    """

    level: float
    per_month: float
    low_per_month: float
    high_per_month: float
    expected_per_month: float
    fast_per_month: float
    slow_per_month: float
    age_days: float
    optimistic_age_days: float
    noise: float
    z: float
    interval: float
    points: int
    span_days: float

    def at(self, months_ahead: float) -> tuple[float, float, float]:
        """(low, expected, high) level ``months_ahead`` from the last reading."""
        h = max(0.0, months_ahead) * DAYS_PER_MONTH
        spread = self.z * self.noise
        per_day = 1.0 / DAYS_PER_MONTH
        low = self.level + self.fast_per_month * per_day * h - spread
        expected = self.level + self.expected_per_month * per_day * decelerated(h, self.age_days)
        high = (
            self.level
            + self.slow_per_month * per_day * decelerated(h, self.optimistic_age_days)
            + spread
        )
        return min(low, expected), expected, max(high, expected)

    def crossing(self, threshold: float) -> Crossing:
        """Months until the level falls to ``threshold``: expected, soonest and latest."""
        spread = self.z * self.noise
        gap = self.level - threshold
        per_day = 1.0 / DAYS_PER_MONTH
        soonest = _days_to_reach(gap - spread, self.fast_per_month * per_day, 0.0)
        months = _days_to_reach(gap, self.expected_per_month * per_day, self.age_days)
        latest = _days_to_reach(
            gap + spread, self.slow_per_month * per_day, self.optimistic_age_days
        )
        return Crossing(
            months / DAYS_PER_MONTH,
            min(soonest, months) / DAYS_PER_MONTH,
            max(latest, months) / DAYS_PER_MONTH,
        )

    def trend(self) -> Trend:
        return Trend(
            self.per_month, self.low_per_month, self.high_per_month, self.points, self.span_days
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mad_sigma(values: FloatArray) -> float:
    """1.4826 x median absolute deviation: a standard deviation that ignores outliers."""
    if values.size < 3:
        return 0.0
    centre = float(np.median(values))
    return 1.4826 * float(np.median(np.abs(values - centre)))


def fit_fade(
    series: DailySeries | None,
    *,
    min_span_days: float,
    min_points: int,
    max_points: int,
    interval: float,
    recent_fraction: float,
    age_factor: float,
) -> FadeForecast | None:
    """A fade forecast from a daily series of a falling level, or None when too short.

    Two Theil-Sen fits with Sen's interval at ``interval``: the whole (binned) history and
    its last ``recent_fraction``. Today's level is the recent line at the last day (on a
    bending history the whole-history line misses the end of the curve). The expected rate
    today is the whole-history rate scaled by :func:`rate_at_end` for a pack
    ``age_factor`` times the span old; the slow bound is the slowest end of either
    interval, scaled for a pack new at the first reading; the fast bound is the fastest
    end, unscaled. A short or noisy recent part has a wide interval, and so has the
    forecast. The constants were chosen by the backtest (bench/backtest.py); the measured
    calibration is in docs/scoring.md.
    """
    if series is None or series.days.size < min_points:
        return None
    span = float(series.days[-1] - series.days[0])
    if span < min_span_days:
        return None
    binned = downsample(series, max_points)
    last = float(series.days[-1])
    fit = theil_sen(binned.days, binned.values, interval)
    if math.isnan(fit.low_slope) or math.isnan(fit.high_slope):
        return None
    age = age_factor * span
    level = fit.intercept + fit.slope * last
    fast = min(fit.low_slope, fit.high_slope)
    slow = max(fit.low_slope, fit.high_slope) * rate_at_end(span, span)
    low, high = fit.low_slope, fit.high_slope
    recent = binned.days >= last - recent_fraction * span
    if int(recent.sum()) >= min_points:
        tail = theil_sen(binned.days[recent], binned.values[recent], interval)
        if not (math.isnan(tail.low_slope) or math.isnan(tail.high_slope)):
            window = last - float(binned.days[recent][0])
            level = tail.intercept + tail.slope * last
            low, high = min(low, tail.low_slope), max(high, tail.high_slope)
            fast = min(fast, tail.low_slope, tail.high_slope)
            slow = max(slow, max(tail.low_slope, tail.high_slope) * rate_at_end(window, span))
    residuals = binned.values - (fit.intercept + fit.slope * binned.days)
    to_month = DAYS_PER_MONTH
    return FadeForecast(
        level=float(level),
        per_month=fit.slope * to_month,
        low_per_month=low * to_month,
        high_per_month=high * to_month,
        expected_per_month=min(0.0, fit.slope * rate_at_end(span, age)) * to_month,
        fast_per_month=min(0.0, fast) * to_month,
        slow_per_month=min(0.0, slow) * to_month,
        age_days=age,
        optimistic_age_days=span,
        noise=_mad_sigma(residuals),
        z=-_z(interval),
        interval=interval,
        points=int(series.days.size),
        span_days=span,
    )
