from __future__ import annotations

import re

from kitlife.collector.policy.scoring import ComponentAssessment, Status, score_device
from tests.collector.policy.scoring.conftest import NOW, Build, daily


def _component(assessment_components: list[ComponentAssessment], kind: str) -> ComponentAssessment:
    return next(c for c in assessment_components if c.component == kind)


def _judge(history: object, kind: str) -> ComponentAssessment:
    return _component(score_device(history, now=NOW).components, kind)  # type: ignore[arg-type]


def test_battery_below_60_percent_fails(laptop: Build) -> None:
    battery = _judge(laptop(battery_pct=55), "battery")
    assert battery.status is Status.FAIL
    assert battery.p_serves == 0
    assert battery.needs_repair


def test_battery_in_moderate_band_warns(laptop: Build) -> None:
    assert _judge(laptop(battery_pct=70), "battery").status is Status.WARN


def test_battery_at_1000_cycles_warns(laptop: Build) -> None:
    assert _judge(laptop(cycles=1000), "battery").status is Status.WARN


def test_fading_battery_reports_months_to_60_percent(laptop: Build) -> None:
    battery = _judge(laptop(battery_pct=70, fade_pct_per_month=2.0), "battery")
    assert battery.trend is not None
    assert battery.trend.per_month < 0
    assert battery.months_to_threshold is not None
    # 10 points at 2 a month is 5 months on a straight line; the expected path slows with
    # age (square root, effective age twice the 6-month span) and takes 6-7; the
    # pessimistic bound stays linear at the fast end of the rate interval.
    assert 5.5 < battery.months_to_threshold < 7.5
    assert battery.months_low is not None and battery.months_low <= 5.0
    assert battery.months_high is not None and battery.months_high > battery.months_to_threshold
    assert any(re.search(r"crosses 60% in [67] months", r.text) for r in battery.reasons)


def test_short_history_gives_no_trend(laptop: Build) -> None:
    battery = _judge(laptop(battery_pct=70, fade_pct_per_month=2.0, history_days=20), "battery")
    assert battery.trend is None
    assert battery.months_to_threshold is None


def test_worn_battery_on_a_docked_laptop_is_not_urgent(laptop: Build) -> None:
    battery = _judge(laptop(battery_pct=55, unplugged_h_per_day=0.05), "battery")
    assert battery.status is Status.FAIL
    assert not battery.needs_repair
    assert battery.p_serves == 1.0
    assert any("docked" in r.text for r in battery.reasons)


def test_little_time_on_battery_scales_urgency(laptop: Build) -> None:
    worn_mobile = _judge(laptop(battery_pct=55, unplugged_h_per_day=3), "battery")
    worn_light = _judge(laptop(battery_pct=55, unplugged_h_per_day=1), "battery")
    assert worn_mobile.p_serves == 0
    assert worn_light.p_serves == 0.5


def test_full_charge_far_above_design_is_a_bad_reading(laptop: Build) -> None:
    history = laptop(extra={("battery.full_charge_capacity_mwh", "BAT0"): 70000.0})
    battery = _judge(history, "battery")
    assert battery.status is Status.UNKNOWN
    assert any("bad reading" in n for n in battery.data_quality)


def test_pack_swap_restarts_the_battery_trend(laptop: Build) -> None:
    old = [60.0 - 0.1 * i for i in range(100)]
    new = [98.0 - 0.01 * i for i in range(80)]
    history = laptop(
        battery_pct=97.2,
        extra_daily={
            ("battery.full_charge_capacity_mwh", "BAT0"): daily([500 * p for p in old + new])
        },
    )
    battery = _judge(history, "battery")
    assert any("history broken" in n for n in battery.data_quality)
    assert battery.trend is not None
    assert battery.trend.per_month > -1


def test_nvme_at_90_percent_used_fails(laptop: Build) -> None:
    assert _judge(laptop(nvme_used_pct=91), "storage").status is Status.FAIL


def test_nvme_at_80_percent_used_warns(laptop: Build) -> None:
    assert _judge(laptop(nvme_used_pct=82), "storage").status is Status.WARN


def test_nvme_wear_trend_projects_months_to_90(laptop: Build) -> None:
    storage = _judge(laptop(nvme_used_pct=70, wear_pct_per_month=2.0), "storage")
    assert storage.months_to_threshold is not None
    assert 9 < storage.months_to_threshold < 11


def test_spare_below_the_drives_own_threshold_fails(laptop: Build) -> None:
    history = laptop(extra={("nvme.available_spare_pct", "nvme0"): 5})
    assert _judge(history, "storage").status is Status.FAIL


def test_critical_warning_fails(laptop: Build) -> None:
    history = laptop(extra={("nvme.critical_warning", "nvme0"): 4})
    storage = _judge(history, "storage")
    assert storage.status is Status.FAIL
    assert any("0x04" in r.text for r in storage.reasons)


def test_smart_overall_failed_fails(laptop: Build) -> None:
    history = laptop(extra={("storage.smart_passed", "nvme0"): 0})
    assert _judge(history, "storage").status is Status.FAIL


def test_growing_media_errors_fail(laptop: Build) -> None:
    history = laptop(
        media_errors=5,
        extra_daily={("nvme.media_errors", "nvme0"): daily([0.0] * 170 + [5.0] * 10)},
    )
    assert _judge(history, "storage").status is Status.FAIL


def test_steady_media_errors_warn(laptop: Build) -> None:
    steady = daily([5.0] * 180)
    history = laptop(media_errors=5, extra_daily={("nvme.media_errors", "nvme0"): steady})
    assert _judge(history, "storage").status is Status.WARN


def test_one_reallocated_sector_passes_in_its_low_risk_bucket(laptop: Build) -> None:
    # Backblaze via Scrutiny: raw 1-4 is a 2.7% AFR bucket, next to 2.5% at zero.
    storage = _judge(laptop(nvme_used_pct=None, ata={"reallocated_sectors": 1}), "storage")
    assert storage.status is Status.OK


def test_reallocated_sectors_in_a_7_percent_bucket_warn(laptop: Build) -> None:
    storage = _judge(laptop(nvme_used_pct=None, ata={"reallocated_sectors": 5}), "storage")
    assert storage.status is Status.WARN
    assert any(r.key == "ata.afr.reallocated_sectors.4-16" for r in storage.reasons)


def test_a_few_command_timeouts_do_not_warn(laptop: Build) -> None:
    # Scrutiny's lowest 188 bucket is 0-100 (2.5% AFR, so that a bad cable does not alarm).
    storage = _judge(laptop(nvme_used_pct=None, ata={"command_timeout": 12}), "storage")
    assert storage.status is Status.OK


def test_more_than_100_command_timeouts_fail(laptop: Build) -> None:
    storage = _judge(laptop(nvme_used_pct=None, ata={"command_timeout": 150}), "storage")
    assert storage.status is Status.FAIL


def test_packed_seagate_command_timeout_is_read_as_its_total(laptop: Build) -> None:
    # 51540393996 = 0x000C_000C_000C: 12 timeouts in each of Seagate's three counters.
    storage = _judge(laptop(nvme_used_pct=None, ata={"command_timeout": 51540393996}), "storage")
    assert storage.status is Status.OK
    assert any("12 timeouts in total" in n for n in storage.data_quality)


def test_normalised_value_at_its_threshold_fails(laptop: Build) -> None:
    history = laptop(
        nvme_used_pct=None,
        ata={"reallocated_sectors": 0},
        extra={("ata.attr_normalised", "sda:5"): 36.0, ("ata.attr_threshold", "sda:5"): 36.0},
    )
    storage = _judge(history, "storage")
    assert storage.status is Status.FAIL
    assert any(r.key == "ata.normalised_at_or_below_threshold_fails" for r in storage.reasons)


def test_zero_threshold_never_fails(laptop: Build) -> None:
    history = laptop(
        nvme_used_pct=None,
        ata={"reallocated_sectors": 0},
        extra={("ata.attr_normalised", "sda:193"): 1.0, ("ata.attr_threshold", "sda:193"): 0.0},
    )
    assert _judge(history, "storage").status is Status.OK


def test_sas_drive_with_uncorrected_errors_fails(laptop: Build) -> None:
    history = laptop(
        nvme_used_pct=None,
        extra={
            ("storage.smart_passed", "sdb"): 1.0,
            ("scsi.grown_defects", "sdb"): 260.0,
            ("scsi.uncorrected_write_errors", "sdb"): 535.0,
        },
    )
    storage = _judge(history, "storage")
    assert storage.status is Status.FAIL
    assert any(r.key == "scsi.uncorrected_errors_fail_above" for r in storage.reasons)


def test_sas_drive_with_steady_grown_defects_warns(laptop: Build) -> None:
    history = laptop(
        nvme_used_pct=None,
        extra={("storage.smart_passed", "sdb"): 1.0, ("scsi.grown_defects", "sdb"): 56.0},
    )
    assert _judge(history, "storage").status is Status.WARN


def test_reallocated_sectors_in_a_10_percent_afr_bucket_fail(laptop: Build) -> None:
    storage = _judge(laptop(nvme_used_pct=None, ata={"reallocated_sectors": 20}), "storage")
    assert storage.status is Status.FAIL
    assert any(r.key == "ata.afr.reallocated_sectors.16-70" for r in storage.reasons)


def test_growing_sector_count_escalates(laptop: Build) -> None:
    history = laptop(
        nvme_used_pct=None,
        ata={"reallocated_sectors": 3},
        ata_daily={"reallocated_sectors": [0.0] * 170 + [3.0] * 10},
    )
    storage = _judge(history, "storage")
    assert storage.status is Status.FAIL
    assert any("3 new in the last 30 days" in r.text for r in storage.reasons)


def test_counter_going_backwards_is_noted_as_a_drive_swap(laptop: Build) -> None:
    history = laptop(
        nvme_used_pct=None,
        ata={"reallocated_sectors": 0},
        ata_daily={"reallocated_sectors": [40.0] * 100 + [0.0] * 80},
    )
    storage = _judge(history, "storage")
    assert storage.status is Status.OK
    assert any("history broken" in n for n in storage.data_quality)


def test_negative_power_on_hours_is_noted(laptop: Build) -> None:
    history = laptop(extra={("storage.power_on_hours", "nvme0"): -5})
    assert any("power-on hours -5" in n for n in _judge(history, "storage").data_quality)


def test_windows_10_past_end_of_support_fails(laptop: Build) -> None:
    os_ = _judge(laptop(os_version="10.0.19045"), "os")
    assert os_.status is Status.FAIL
    assert os_.p_serves == 0
    assert any("2025-10-14" in r.text for r in os_.reasons)


def test_windows_11_has_no_end_of_support_row(laptop: Build) -> None:
    assert _judge(laptop(os_version="10.0.22631"), "os").status is Status.UNKNOWN


def test_memory_pressure_warns(laptop: Build) -> None:
    history = laptop(extra={("mem.used_pct", ""): 95.0})
    assert _judge(history, "memory").status is Status.WARN


def test_ram_upgrade_offered_only_when_not_soldered(laptop: Build) -> None:
    history = laptop(extra={("mem.used_pct", ""): 95.0})
    assert _judge(history, "memory").repair_part is None


def test_os_support_from_the_collectors_table_not_the_agents_report() -> None:
    """The agent reports identity; the date is the collector's table's, whatever an
    older agent claims in inv.os_end_of_support."""
    from kitlife.collector.policy.scoring import DeviceHistory

    def os_part(release: str, claimed: str = "") -> tuple[str, float | None, list[str]]:
        history = DeviceHistory(
            "d",
            {
                ("inv.os_name", ""): "Linux",
                ("inv.os_version", ""): "6.1.0",
                ("inv.os_release_name", ""): release,
                ("inv.os_end_of_support", ""): claimed,
            },
        )
        (part,) = [c for c in score_device(history, now=NOW).components if c.component == "os"]
        return part.status.value, part.months_to_threshold, [r.source for r in part.reasons]

    status, months, sources = os_part("Debian GNU/Linux 12 (bookworm)", claimed="2020-01-01")
    # Debian 12 LTS ends 2028-06-30: 19 months after NOW, inside the 24-month horizon.
    assert status == "warn" and months is not None and 18 < months < 20
    assert sources == ["https://wiki.debian.org/LTS"]
    assert os_part("Debian GNU/Linux 10 (buster)", claimed="2040-01-01")[:2] == ("fail", 0.0)
    assert os_part("Ubuntu 24.04.1 LTS")[0] == "ok"  # 2029-04-30: beyond the horizon
    assert os_part("Fedora Linux 41")[0] == "unknown"
