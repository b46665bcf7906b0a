"""The forecast backtest, short form: the suite fails if calibration falls.

Figures (docs/scoring.md, docs/validation.md): an 80% interval must hold the later
observed level in at least 80% of checks, on the simulated tuning set and on the
held-out real MacBook log, and do better there than the straight-line model it replaced.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.backtest import (
    FadeParams,
    backtest,
    fade_forecaster,
    held_out,
    linear_forecaster,
    run,
    simulated,
    summarise,
)
from kitlife.collector.policy.scoring import load_thresholds


@pytest.fixture(scope="module")
def params() -> FadeParams:
    return FadeParams.from_table(load_thresholds())


def test_held_out_real_log_is_read_as_percent_of_design() -> None:
    series = held_out()["mantovani-macbook-2020"]
    assert series.days.size == 95  # 97 data rows, the first two without capacities
    assert series.values[0] == pytest.approx(100 * 5642 / 6669)
    assert series.values[-1] == pytest.approx(100 * 4941 / 6669)


def test_eighty_percent_intervals_hold_the_later_level_on_the_held_out_log(
    params: FadeParams,
) -> None:
    summary = run(held_out(), fade_forecaster(params))
    assert summary.checks >= 20
    assert summary.coverage >= params.interval


def test_the_fade_model_is_better_calibrated_than_the_straight_line(params: FadeParams) -> None:
    real = held_out()
    new = run(real, fade_forecaster(params))
    old = run(real, linear_forecaster(params, load_thresholds().number("trend.confidence")))
    assert new.coverage > old.coverage
    assert new.mae_points <= old.mae_points + 0.25


def test_eighty_percent_intervals_hold_on_the_simulated_set(params: FadeParams) -> None:
    sim = dict(list(simulated().items())[:40])
    summary = run(sim, fade_forecaster(params))
    assert summary.coverage >= params.interval
    assert summary.cutoffs_all_inside >= 0.7


def test_a_narrower_stated_interval_is_measured_as_narrower(params: FadeParams) -> None:
    # The check can fail: an interval stated at 50% must cover less than one at 80%.
    sim = dict(list(simulated().items())[:20])
    wide = run(sim, fade_forecaster(params))
    narrow = run(sim, fade_forecaster(replace(params, interval=0.5)))
    assert narrow.coverage < wide.coverage


def test_no_cut_off_without_a_later_observation() -> None:
    series = held_out()["mantovani-macbook-2020"]
    checks = backtest("x", series, lambda history: None)
    assert checks == []
    assert summarise(checks).checks == 0
