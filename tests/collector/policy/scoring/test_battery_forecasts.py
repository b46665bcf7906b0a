"""Battery judgement on the cases issue 15 found wrong on real data.

The slowing-fade history is simulated faithfully to the issue's year-long log (a pack at
95% fading ever more slowly to 86%, daily rollups with reading noise); the OS-label cases
use the readings macOS's system_profiler gives when it reports no mAh figures.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from kitlife.collector.policy.scoring import (
    Action,
    ComponentAssessment,
    DeviceHistory,
    Status,
    score_device,
)
from tests.collector.policy.scoring.conftest import NOW, Build

DESIGN_MAH = 6000.0


def _slowing_fade(days: int, seed: int = 15) -> list[float]:
    """% of design: 100 - k sqrt(age), from 95% on day 0 to 86% on day 365, noise sd 0.8."""
    rng = np.random.default_rng(seed)
    age = np.arange(days, dtype=np.float64) + 10.0
    k = 14.0 / np.sqrt(375.0)
    return list(100.0 - k * np.sqrt(age) + rng.normal(0.0, 0.8, days))


def _mac(pct: list[float], end: date = NOW) -> DeviceHistory:
    start = end - timedelta(days=len(pct) - 1)
    full = [(start + timedelta(days=i), DESIGN_MAH * p / 100) for i, p in enumerate(pct)]
    latest: dict[tuple[str, str], float | str] = {
        ("inv.os_name", ""): "macOS",
        ("inv.os_version", ""): "14.6",
        ("battery.design_capacity_mah", "battery"): DESIGN_MAH,
        ("battery.full_charge_capacity_mah", "battery"): full[-1][1],
        ("battery.cycle_count", "battery"): 300.0,
    }
    return DeviceHistory("mac", latest, {("battery.full_charge_capacity_mah", "battery"): full})


def _battery(components: list[ComponentAssessment]) -> ComponentAssessment:
    return next(c for c in components if c.component == "battery")


def test_a_healthy_pack_is_not_replaced_on_a_forecast_from_six_months() -> None:
    year = _slowing_fade(366)
    result = score_device(_mac(year[:183]), now=NOW)
    battery = _battery(result.components)
    assert battery.status is Status.OK
    assert not battery.needs_repair
    assert "battery" not in [r.part for r in result.repairs]
    assert result.action is Action.KEEP
    # The plan says what it waits for instead of buying a part.
    assert battery.waits_for is not None
    assert any("no part bought on the forecast alone" in r.text for r in result.reasons)


def test_the_six_month_forecast_interval_holds_the_level_a_year_on() -> None:
    year = _slowing_fade(366)
    battery = _battery(score_device(_mac(year[:183]), now=NOW).components)
    assert battery.forecast is not None
    low, expected, high = battery.forecast.at(6.0)
    truth = float(np.mean(year[-8:]))
    assert low <= truth <= high
    # A straight line from the six-month slope misses by 3.6 points; the slowing path by ~2.
    straight = battery.forecast.level + battery.forecast.per_month * 6.0
    assert abs(expected - truth) < abs(straight - truth) - 1.0
    # The pack has not crossed 80% a year on; the forecast does not say it will by then.
    assert min(np.convolve(year, np.ones(7) / 7, mode="valid")) > 80
    assert battery.forecast.crossing(80.0).latest > 6.0


def test_forecast_is_less_sure_when_the_history_is_short() -> None:
    year = _slowing_fade(366)
    long_fc = _battery(score_device(_mac(year[:183]), now=NOW).components).forecast
    short_fc = _battery(score_device(_mac(year[:45]), now=NOW).components).forecast
    assert long_fc is not None and short_fc is not None
    width = [fc.at(12.0)[2] - fc.at(12.0)[0] for fc in (long_fc, short_fc)]
    assert width[1] > width[0]


def _mac_without_mah(**readings: float | str) -> DeviceHistory:
    latest: dict[tuple[str, str], float | str] = {("inv.os_name", ""): "macOS"}
    latest |= {(f"battery.{k}", "battery"): v for k, v in readings.items()}
    return DeviceHistory("mac", latest)


def test_macos_percentage_and_service_label_judge_a_pack_without_mah() -> None:
    history = _mac_without_mah(
        os_max_capacity_pct=72, os_condition="Service Recommended", cycle_count=812
    )
    battery = _battery(score_device(history, now=NOW).components)
    assert battery.status is Status.WARN
    assert battery.level == 72
    assert battery.needs_repair
    keys = {r.key for r in battery.reasons}
    assert "battery.os_condition.service_recommended" in keys
    assert "battery.health_moderate_below_pct" in keys


def test_macos_replace_now_label_alone_fails_the_pack() -> None:
    battery = _battery(
        score_device(_mac_without_mah(os_condition="Replace Now"), now=NOW).components
    )
    assert battery.status is Status.FAIL


def test_macos_normal_label_with_a_high_percentage_is_ok() -> None:
    history = _mac_without_mah(os_max_capacity_pct=93, os_condition="Normal")
    assert _battery(score_device(history, now=NOW).components).status is Status.OK


def test_one_reading_of_a_worn_pack_gets_a_costed_battery_repair(laptop: Build) -> None:
    for pct in (63.0, 68.0, 74.0, 12.0):
        result = score_device(laptop(battery_pct=pct, history_days=1), now=NOW)
        assert [r.part for r in result.repairs] == ["battery"], pct
        assert result.repair_cost_gbp > 0
        assert any(r.key == "repair_catalogue.csv:battery" for r in result.reasons), pct


def test_worn_pack_repair_is_costed_beside_refurbish(laptop: Build) -> None:
    # A worn battery and a drive past its rated endurance: more than a cheap fix, and the
    # battery's repair is still priced in the reasons.
    result = score_device(laptop(battery_pct=68.0, history_days=1, nvme_used_pct=120.0), now=NOW)
    assert "battery" in [r.part for r in result.repairs]
    assert any(r.key == "repair_catalogue.csv:battery" for r in result.reasons)
