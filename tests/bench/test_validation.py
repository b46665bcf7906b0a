"""Validation on every real sample: the suite fails if a figure falls or the doc drifts.

Targets (issue 15): >= 95% of failing drives flagged, <= 2% of healthy ones, battery values
matching the source in every supported format, every capture parsed, and the 80% forecast
interval holding the later level at least 80% of the time on the held-out log.
"""

from __future__ import annotations

import pytest

from bench.validation import DOC, Figures, figures, generated, rows


@pytest.fixture(scope="module")
def measured() -> Figures:
    return figures(rows())


def test_figures_reach_their_targets(measured: Figures) -> None:
    assert measured.problems() == []


def test_every_failing_drive_is_flagged_and_no_healthy_one(measured: Figures) -> None:
    assert measured.failing >= 6
    assert measured.failing_flagged == measured.failing
    assert measured.healthy >= 40
    assert measured.healthy_flagged == 0


def test_every_battery_capture_matches_its_source(measured: Figures) -> None:
    assert measured.battery_samples >= 8
    assert measured.battery_matched == measured.battery_samples


def test_the_targets_can_fail(measured: Figures) -> None:
    from dataclasses import replace

    worse = replace(measured, healthy_flagged=2, forecast_coverage=0.7)
    assert len(worse.problems()) == 2


def test_the_doc_shows_what_the_code_measures() -> None:
    text = DOC.read_text(encoding="utf-8")
    for table in generated().values():
        assert table in text
