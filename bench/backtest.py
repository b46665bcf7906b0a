"""Backtest of battery fade forecasts: cut real and simulated histories, score against what came.

Each series is cut at several points; a forecast is made from the data before the cut
(exactly as the scorer makes it, :func:`kitlife.collector.policy.scoring.trend.fit_fade`
with the thresholds table's constants) and compared with the observed level every
``lead_step_days`` after the cut: the error of the expected level, and whether the
observed level falls inside the stated interval. The observed level at a day is the mean
of the daily readings within ``window_days`` of it, the same smoothing the scorer's
binned fit applies.

Two sets, kept apart on purpose:

* ``simulated``: a seeded fleet of fading packs (square-root-of-age fade of varied
  strength and exponent, gaps, reading noise). The model and its constants were chosen on
  this set only.
* ``held-out``: real logs (``tests/fixtures/battery/``, see PROVENANCE.md), never used to
  choose anything; their figures are the ones docs/scoring.md states.

    .venv/bin/python bench/backtest.py            # both sets, new model and the old one
    .venv/bin/python bench/backtest.py --grid     # the constant search, on the simulated set
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from kitlife.collector.policy.scoring import load_thresholds
from kitlife.collector.policy.scoring.history import DailySeries, day_number
from kitlife.collector.policy.scoring.thresholds import Thresholds
from kitlife.collector.policy.scoring.trend import DAYS_PER_MONTH, fit_fade, fit_trend

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "battery"
HELD_OUT = {"mantovani-macbook-2020": FIXTURES / "mantovani_macbook_2020_daily.csv"}


@dataclass(frozen=True, slots=True)
class FadeParams:
    """The forecast's constants (their home is the thresholds table; overridable for the grid)."""

    interval: float
    recent_fraction: float
    age_factor: float
    min_span_days: float
    min_points: int
    max_points: int

    @classmethod
    def from_table(cls, t: Thresholds) -> FadeParams:
        return cls(
            interval=t.number("forecast.interval"),
            recent_fraction=t.number("forecast.recent_fraction"),
            age_factor=t.number("forecast.age_factor"),
            min_span_days=t.number("trend.min_span_days"),
            min_points=int(t.number("trend.min_points")),
            max_points=int(t.number("trend.max_points")),
        )


@dataclass(frozen=True, slots=True)
class Check:
    """One forecast checked against one later observation."""

    series: str
    cutoff_day: float
    lead_months: float
    low: float
    expected: float
    high: float
    observed: float

    @property
    def inside(self) -> bool:
        return self.low <= self.observed <= self.high

    @property
    def error(self) -> float:
        return self.expected - self.observed


# A forecaster takes the history up to a cut and returns a function of months ahead.
Forecaster = Callable[[DailySeries], Callable[[float], tuple[float, float, float]] | None]


def fade_forecaster(params: FadeParams) -> Forecaster:
    """The scorer's model."""

    def make(history: DailySeries) -> Callable[[float], tuple[float, float, float]] | None:
        forecast = fit_fade(
            history,
            min_span_days=params.min_span_days,
            min_points=params.min_points,
            max_points=params.max_points,
            interval=params.interval,
            recent_fraction=params.recent_fraction,
            age_factor=params.age_factor,
        )
        return forecast.at if forecast is not None else None

    return make


def linear_forecaster(params: FadeParams, confidence: float) -> Forecaster:
    """The model kitlife used before: latest reading plus the Theil-Sen slope interval, linear."""

    def make(history: DailySeries) -> Callable[[float], tuple[float, float, float]] | None:
        trend = fit_trend(
            history,
            min_span_days=params.min_span_days,
            min_points=params.min_points,
            max_points=params.max_points,
            confidence=confidence,
        )
        if trend is None:
            return None
        now = float(history.values[-1])

        def at(months: float) -> tuple[float, float, float]:
            ends = sorted(now + r * months for r in (trend.low_per_month, trend.high_per_month))
            return ends[0], now + trend.per_month * months, ends[1]

        return at

    return make


def observed(series: DailySeries, day: float, window_days: float) -> float | None:
    """Mean of the readings within ``window_days`` of ``day`` (None when there are none)."""
    near = np.abs(series.days - day) <= window_days
    return float(series.values[near].mean()) if near.any() else None


def backtest(
    name: str,
    series: DailySeries,
    forecaster: Forecaster,
    *,
    cutoffs: int = 7,
    first_cut_days: float = 60.0,
    lead_step_days: float = 30.0,
    window_days: float = 7.0,
) -> list[Check]:
    """Cut ``series`` at ``cutoffs`` evenly spaced days and check every later month."""
    start, end = float(series.days[0]), float(series.days[-1])
    last_cut = end - lead_step_days
    if last_cut <= start + first_cut_days:
        return []
    checks: list[Check] = []
    for cut in np.linspace(start + first_cut_days, last_cut, cutoffs):
        before = series.days <= cut
        history = DailySeries(series.days[before], series.values[before])
        at = forecaster(history)
        if at is None:
            continue
        cut_day = float(history.days[-1])
        target = cut_day + lead_step_days
        while target <= end:
            truth = observed(series, target, window_days)
            if truth is not None:
                lo, mid, hi = at((target - cut_day) / DAYS_PER_MONTH)
                months = (target - cut_day) / DAYS_PER_MONTH
                checks.append(Check(name, cut_day, months, lo, mid, hi, truth))
            target += lead_step_days
    return checks


@dataclass(frozen=True, slots=True)
class Summary:
    """Coverage (share of checks whose observed level lay inside the interval), per cut-off
    coverage (share of cut-offs whose every later check did) and mean absolute error."""

    checks: int
    cutoffs: int
    coverage: float
    cutoffs_all_inside: float
    mae_points: float
    mean_width_points: float


def summarise(checks: Sequence[Check]) -> Summary:
    if not checks:
        return Summary(0, 0, math.nan, math.nan, math.nan, math.nan)
    by_cut: dict[tuple[str, float], list[Check]] = {}
    for c in checks:
        by_cut.setdefault((c.series, c.cutoff_day), []).append(c)
    return Summary(
        checks=len(checks),
        cutoffs=len(by_cut),
        coverage=sum(c.inside for c in checks) / len(checks),
        cutoffs_all_inside=sum(all(c.inside for c in cs) for cs in by_cut.values()) / len(by_cut),
        mae_points=sum(abs(c.error) for c in checks) / len(checks),
        mean_width_points=sum(c.high - c.low for c in checks) / len(checks),
    )


# --- data ---------------------------------------------------------------------------------------


def read_mantovani(path: Path) -> DailySeries:
    """``Date,Cycles,ExpDate,FullCapacity,DesignCapacity`` rows -> % of design per day."""
    days: list[float] = []
    values: list[float] = []
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            full, design = row["FullCapacity"].strip(), row["DesignCapacity"].strip()
            if not full or not design:
                continue
            day = day_number(datetime.strptime(row["Date"].strip(), "%d %b %Y").date())
            days.append(float(day))
            values.append(100.0 * float(full) / float(design))
    return DailySeries(np.array(days), np.array(values))


def held_out() -> dict[str, DailySeries]:
    return {name: read_mantovani(path) for name, path in HELD_OUT.items()}


def simulated(seed: int = 20261205, packs: int = 120) -> dict[str, DailySeries]:
    """Fading packs: health = 100 - c * age^k (k 0.4-0.9: fade that slows with age), observed
    for 6-24 months from an age of 3 days to 30 months (new packs fade fastest), read on
    30-100% of days with noise of 0.3-3 points (macOS readings jump by 100-400 mAh on a
    6,000 mAh pack)."""
    rng = np.random.default_rng(seed)
    out: dict[str, DailySeries] = {}
    for i in range(packs):
        k = rng.uniform(0.4, 0.9)
        loss_at_3y = rng.uniform(8.0, 35.0)
        c = loss_at_3y / (36.0 * DAYS_PER_MONTH) ** k
        age0 = rng.uniform(0.1, 30.0) * DAYS_PER_MONTH
        length = int(rng.uniform(6.0, 24.0) * DAYS_PER_MONTH)
        age = age0 + np.arange(length, dtype=np.float64)
        keep = rng.random(length) < rng.uniform(0.3, 1.0)
        noise = rng.normal(0.0, rng.uniform(0.3, 3.0), length)
        health = 100.0 - c * age**k + noise
        out[f"sim-{i:03d}"] = DailySeries(np.arange(length, dtype=np.float64)[keep], health[keep])
    return out


def run(sets: dict[str, DailySeries], forecaster: Forecaster) -> Summary:
    checks: list[Check] = []
    for name, series in sets.items():
        checks.extend(backtest(name, series, forecaster))
    return summarise(checks)


def _grid(base: FadeParams, sets: dict[str, DailySeries]) -> Iterable[tuple[FadeParams, Summary]]:
    for fraction in (0.33, 0.5, 0.75):
        for age_factor in (1.0, 2.0, 3.0, 5.0):
            for interval in (0.8, 0.9):
                params = replace(
                    base, recent_fraction=fraction, age_factor=age_factor, interval=interval
                )
                yield params, run(sets, fade_forecaster(params))


def _line(label: str, s: Summary) -> str:
    return (
        f"{label:<44} checks {s.checks:4d}  cut-offs {s.cutoffs:3d}  "
        f"coverage {s.coverage:6.1%}  all-inside {s.cutoffs_all_inside:6.1%}  "
        f"MAE {s.mae_points:5.2f}  width {s.mean_width_points:5.1f}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", action="store_true", help="search constants on the simulated set")
    args = parser.parse_args(argv)
    t = load_thresholds()
    params = FadeParams.from_table(t)
    sim = simulated()
    real = held_out()
    if args.grid:
        for p, s in _grid(params, sim):
            label = f"fraction {p.recent_fraction} age x{p.age_factor} interval {p.interval}"
            print(_line(label, s))
        return
    old = linear_forecaster(params, t.number("trend.confidence"))
    new = fade_forecaster(params)
    print(_line("simulated (tuning), old linear model", run(sim, old)))
    print(_line("simulated (tuning), fade model", run(sim, new)))
    for name, series in real.items():
        print(_line(f"{name} (held out), old linear model", run({name: series}, old)))
        print(_line(f"{name} (held out), fade model", run({name: series}, new)))


if __name__ == "__main__":
    main()
