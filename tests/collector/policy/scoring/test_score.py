from __future__ import annotations

import json
import time

import kitlife.collector.policy.scoring as scoring
from kitlife.collector.policy.scoring import (
    Action,
    DeviceHistory,
    load_catalogue,
    load_thresholds,
    parse_catalogue_csv,
    score_device,
    score_fleet,
)
from tests.collector.policy.scoring.conftest import NOW, Build


def test_public_api_names_all_exist() -> None:
    assert all(hasattr(scoring, name) for name in scoring.__all__)


def test_device_without_readings_has_not_enough_data() -> None:
    result = score_device(DeviceHistory("empty", {}), now=NOW)
    assert result.action is Action.INSUFFICIENT_DATA
    assert result.score is None
    assert "not enough data" in result.reasons[0].text


def test_device_with_only_inventory_has_not_enough_data(laptop: Build) -> None:
    result = score_device(laptop(battery_pct=None, nvme_used_pct=None), now=NOW)
    assert result.action is Action.INSUFFICIENT_DATA


def test_healthy_laptop_is_kept(laptop: Build) -> None:
    result = score_device(laptop(), now=NOW)
    assert result.action is Action.KEEP
    assert result.score is not None and result.score >= 70


def test_healthy_laptop_poor_fit_for_role_is_redeployed(laptop: Build) -> None:
    assert score_device(laptop(), now=NOW, role_fit="poor").action is Action.REDEPLOY


def test_worn_battery_is_repaired_with_cost_and_numbers(laptop: Build) -> None:
    result = score_device(laptop(battery_pct=62, fade_pct_per_month=1.8), now=NOW)
    assert result.action is Action.REPAIR
    assert [r.part for r in result.repairs] == ["battery"]
    assert result.repair_cost_gbp == 80
    texts = " | ".join(r.text for r in result.reasons)
    assert "battery BAT0 fading -1.8 points a month now" in texts
    assert "crosses 60% in 1 months" in texts
    assert "battery GBP 80 (indicative), 30 min, 5.3 kg CO2e" in texts
    assert result.rul_as_is.limiting == "battery:BAT0"


def test_repair_footprint_subtracts_the_part(laptop: Build) -> None:
    result = score_device(laptop(battery_pct=55), now=NOW)
    assert result.footprint is not None
    assert result.footprint.parts_kgco2e == 5.29
    avoided = result.footprint.new_device_kgco2e - 5.29
    assert abs(result.footprint.carbon_avoided_kgco2e - avoided) < 1e-9


def test_windows_10_device_not_ready_for_11_is_donated(laptop: Build) -> None:
    result = score_device(laptop(os_version="10.0.19045", win11_ready=False), now=NOW)
    assert result.action is Action.DONATE


def test_windows_10_device_ready_for_11_is_repaired_by_upgrade(laptop: Build) -> None:
    result = score_device(laptop(os_version="10.0.19045", win11_ready=True), now=NOW)
    assert result.action is Action.REPAIR
    assert [r.part for r in result.repairs] == ["os_upgrade"]


def test_windows_10_device_of_unknown_readiness_is_upgraded_after_a_check(laptop: Build) -> None:
    result = score_device(laptop(os_version="10.0.19045"), now=NOW)
    assert result.action is Action.REPAIR
    assert [r.part for r in result.repairs] == ["os_upgrade"]
    assert "readiness is unknown" in result.reasons[0].text


def test_many_repairs_above_the_cheap_limit_mean_refurbish(laptop: Build) -> None:
    history = laptop(
        battery_pct=50,
        nvme_used_pct=95,
        os_version="10.0.19045",
        win11_ready=True,
        extra={("mem.used_pct", ""): 95.0},
    )
    dear = parse_catalogue_csv(
        "part,resets,cost_gbp,labour_min,embodied_kgco2e,indicative,source,note\n"
        "battery,battery,150,30,5,yes,s,\nssd,storage,150,30,30,yes,s,\nos_upgrade,os,0,60,0,yes,s,\n"
    )
    assert score_device(history, now=NOW, catalogue=dear).action is Action.REFURBISH


def test_failed_drive_with_no_replacement_part_is_recycled(laptop: Build) -> None:
    history = laptop(battery_pct=50, extra={("storage.smart_passed", "nvme0"): 0})
    no_parts = parse_catalogue_csv(
        "part,resets,cost_gbp,labour_min,embodied_kgco2e,indicative,source,note\n"
        "keyboard,keyboard,50,40,,yes,s,\n"
    )
    result = score_device(history, now=NOW, catalogue=no_parts)
    assert result.action is Action.RECYCLE
    assert result.footprint is not None
    assert result.footprint.carbon_avoided_kgco2e == 0


def test_longer_horizon_never_raises_the_score(laptop: Build) -> None:
    history = laptop(
        battery_pct=75, fade_pct_per_month=1.0, nvme_used_pct=60, wear_pct_per_month=1.0
    )
    short = score_device(history, now=NOW, horizon_months=12).score
    long = score_device(history, now=NOW, horizon_months=36).score
    assert short is not None and long is not None
    assert long <= short


def test_every_reason_traces_to_a_table_row(laptop: Build) -> None:
    keys = {row.key for row in load_thresholds().rows}
    parts = {p.part for p in load_catalogue().parts}
    history = laptop(
        battery_pct=62,
        fade_pct_per_month=1.8,
        os_version="10.0.19045",
        nvme_used_pct=85,
        extra={("mem.used_pct", ""): 95.0},
    )
    result = score_device(history, now=NOW)
    assert result.footprint is not None
    reasons = (
        result.reasons
        + result.footprint.reasons
        + [r for c in result.components for r in c.reasons]
    )
    for reason in reasons:
        assert reason.source
        if reason.key.startswith("repair_catalogue.csv:"):
            assert set(reason.key.split(":", 1)[1].split("+")) <= parts
        elif not reason.key.startswith("boavizta-data-us.csv"):
            assert reason.key in keys


def test_assessment_is_json_serialisable_without_nan(laptop: Build) -> None:
    result = score_device(laptop(battery_pct=62, fade_pct_per_month=1.8), now=NOW)
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert '"action": "repair"' in text


def test_fleet_scores_every_device_in_order(laptop: Build) -> None:
    fleet = [laptop(), laptop(battery_pct=55)]
    assert [a.action for a in score_fleet(fleet, now=NOW)] == [Action.KEEP, Action.REPAIR]


def test_one_device_scores_in_under_5_ms(laptop: Build) -> None:
    history = laptop(
        battery_pct=75,
        fade_pct_per_month=1.0,
        history_days=548,
        nvme_used_pct=60,
        wear_pct_per_month=1.0,
    )
    score_device(history, now=NOW)
    began = time.perf_counter()
    for _ in range(100):
        score_device(history, now=NOW)
    assert (time.perf_counter() - began) / 100 < 0.005
