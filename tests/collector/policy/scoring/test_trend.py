from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import theilslopes

from kitlife.collector.policy.scoring import DailySeries, fit_trend, theil_sen
from kitlife.collector.policy.scoring.trend import (
    Crossing,
    Trend,
    downsample,
    months_to_cross,
    p_serves,
)

FIT = {"min_span_days": 30, "min_points": 5, "max_points": 36, "confidence": 0.95}


@pytest.mark.parametrize("seed", range(40))
def test_theil_sen_matches_scipy_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    x = np.sort(rng.choice(np.arange(400.0), size=n, replace=False))
    y = rng.normal(0, 1, n).round(int(rng.integers(0, 3)))  # rounding makes ties in y
    ours = theil_sen(x, y)
    ref = theilslopes(y, x, alpha=0.95)
    assert ours.slope == pytest.approx(ref.slope)
    assert ours.intercept == pytest.approx(ref.intercept)
    assert ours.low_slope == pytest.approx(ref.low_slope)
    assert ours.high_slope == pytest.approx(ref.high_slope)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 300), st.integers(-50, 50)),
        min_size=3,
        max_size=40,
        unique_by=lambda p: p[0],
    )
)
def test_theil_sen_matches_scipy_with_ties_in_y(points: list[tuple[int, int]]) -> None:
    x = np.array([p[0] for p in points], dtype=np.float64)
    y = np.array([p[1] for p in points], dtype=np.float64)
    ours = theil_sen(x, y, 0.9)
    ref = theilslopes(y, x, alpha=0.9)
    assert ours.slope == pytest.approx(ref.slope)
    assert ours.low_slope == pytest.approx(ref.low_slope)
    assert ours.high_slope == pytest.approx(ref.high_slope)


def test_theil_sen_ignores_one_wild_reading() -> None:
    x = np.arange(30.0)
    y = 100 - 0.5 * x
    y[10] = -1000
    assert theil_sen(x, y).slope == pytest.approx(-0.5)


def test_trend_is_silent_below_the_minimum_span() -> None:
    series = DailySeries(np.arange(20.0), np.arange(20.0))
    assert fit_trend(series, **FIT) is None


def test_trend_is_silent_below_the_minimum_points() -> None:
    series = DailySeries(np.array([0.0, 20, 40, 60]), np.array([1.0, 2, 3, 4]))
    assert fit_trend(series, **FIT) is None


def test_trend_reports_slope_per_month() -> None:
    series = DailySeries(np.arange(90.0), 100 - 0.1 * np.arange(90.0))
    trend = fit_trend(series, **FIT)
    assert trend is not None
    assert trend.per_month == pytest.approx(-0.1 * 365.25 / 12)


def test_downsample_keeps_at_most_max_points_and_the_mean_level() -> None:
    series = DailySeries(np.arange(548.0), np.full(548, 7.0))
    binned = downsample(series, 36)
    assert binned.days.size <= 36
    assert np.all(binned.values == 7.0)


def test_falling_level_crosses_when_the_gap_is_used_up() -> None:
    trend = Trend(-2.0, -3.0, -1.0, 100, 180)
    crossing = months_to_cross(70, 60, trend, rising=False)
    assert (crossing.months, crossing.soonest, crossing.latest) == pytest.approx((5, 10 / 3, 10))


def test_level_past_threshold_has_crossed() -> None:
    trend = Trend(1.0, 0.5, 1.5, 100, 180)
    assert months_to_cross(95, 90, trend, rising=True).months == 0


def test_flat_trend_never_crosses() -> None:
    trend = Trend(0.0, -0.1, 0.1, 100, 180)
    crossing = months_to_cross(50, 90, trend, rising=True)
    assert math.isinf(crossing.months)
    assert crossing.soonest == pytest.approx(400)


def test_p_serves_is_one_before_the_soonest_crossing_and_zero_after_the_latest() -> None:
    crossing = Crossing(30, 20, 40)
    assert p_serves(crossing, 10) == 1.0
    assert p_serves(crossing, 30) == 0.5
    assert p_serves(crossing, 50) == 0.0


@given(st.floats(0, 100), st.floats(0, 100), st.floats(0, 100), st.floats(0, 50))
def test_p_serves_never_rises_when_crossing_comes_sooner(
    soonest: float, spread: float, later: float, cut: float
) -> None:
    months = soonest + spread
    latest = months + later
    late = Crossing(months, soonest, latest)
    early = Crossing(max(months - cut, 0), max(soonest - cut, 0), max(latest - cut, 0))
    assert p_serves(early, 24) <= p_serves(late, 24) + 1e-12
