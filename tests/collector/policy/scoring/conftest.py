"""Builders for scoring tests: a laptop whose readings each test changes one at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from kitlife.collector.policy.scoring import DeviceHistory

NOW = date(2026, 11, 25)
DESIGN_MWH = 50000.0
Build = Callable[..., DeviceHistory]


def daily(values: list[float], end: date = NOW) -> list[tuple[date, float]]:
    """Daily rollups ending on ``end``, one per day."""
    start = end - timedelta(days=len(values) - 1)
    return [(start + timedelta(days=i), v) for i, v in enumerate(values)]


def build_laptop(
    *,
    battery_pct: float | None = 95.0,
    fade_pct_per_month: float = 0.0,
    history_days: int = 180,
    unplugged_h_per_day: float = 3.0,
    cycles: float = 300.0,
    nvme_used_pct: float | None = 10.0,
    wear_pct_per_month: float = 0.0,
    media_errors: float = 0.0,
    ata: dict[str, float] | None = None,
    ata_daily: dict[str, list[float]] | None = None,
    os_version: str = "10.0.22631",
    model: str = "Latitude 5420",
    win11_ready: bool | None = None,
    extra: dict[tuple[str, str], Any] | None = None,
    extra_daily: dict[tuple[str, str], list[tuple[date, float]]] | None = None,
) -> DeviceHistory:
    latest: dict[tuple[str, str], float | str] = {
        ("inv.os_name", ""): "Windows",
        ("inv.os_version", ""): os_version,
        ("inv.vendor", ""): "Dell Inc.",
        ("inv.model", ""): model,
    }
    series: dict[tuple[str, str], Any] = {}
    months = [(history_days - 1 - i) / (365.25 / 12) for i in range(history_days)]
    if battery_pct is not None:
        pct = [battery_pct + fade_pct_per_month * m for m in months]
        latest |= {
            ("battery.design_capacity_mwh", "BAT0"): DESIGN_MWH,
            ("battery.full_charge_capacity_mwh", "BAT0"): DESIGN_MWH * battery_pct / 100,
            ("battery.cycle_count", "BAT0"): cycles,
            ("battery.unplugged_s", "BAT0"): unplugged_h_per_day * 3600 * (history_days - 1),
        }
        series[("battery.full_charge_capacity_mwh", "BAT0")] = daily(
            [DESIGN_MWH * p / 100 for p in pct]
        )
        series[("battery.unplugged_s", "BAT0")] = daily(
            [unplugged_h_per_day * 3600 * i for i in range(history_days)]
        )
    if nvme_used_pct is not None:
        latest |= {
            ("storage.smart_passed", "nvme0"): 1,
            ("nvme.percentage_used_pct", "nvme0"): nvme_used_pct,
            ("nvme.available_spare_pct", "nvme0"): 100,
            ("nvme.available_spare_threshold_pct", "nvme0"): 10,
            ("nvme.critical_warning", "nvme0"): 0,
            ("nvme.media_errors", "nvme0"): media_errors,
        }
        series[("nvme.percentage_used_pct", "nvme0")] = daily(
            [nvme_used_pct - wear_pct_per_month * m for m in months]
        )
    if ata is not None:
        latest[("storage.smart_passed", "sda")] = 1
        latest |= {(f"ata.{name}", "sda"): value for name, value in ata.items()}
        for name, values in (ata_daily or {}).items():
            series[(f"ata.{name}", "sda")] = daily(values)
    latest |= extra or {}
    series |= extra_daily or {}
    return DeviceHistory("laptop-1", latest, series, win11_ready=win11_ready)


@pytest.fixture
def laptop() -> Build:
    return build_laptop
