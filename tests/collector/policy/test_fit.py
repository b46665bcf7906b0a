"""Role fit: shortfalls in numbers, the roles file checked, OS horizons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kitlife.collector.policy.fit import (
    DeviceFacts,
    assess,
    fact_arrays,
    load_roles,
    mismatch_by_role,
    os_support_end,
    parse_roles,
)

CFG = load_roles()
TODAY = dt.date(2026, 11, 25)


def test_reasons_are_in_numbers_and_match_the_vectorised_formula() -> None:
    f = DeviceFacts("d", 8, 4, 512, 92, 60000, "Windows", "10.0.26100", 40, 93, 5, "analyst")
    fit = assess(f, "analyst", CFG, TODAY)
    assert fit.poor
    assert "RAM 8 GB < analyst minimum 16 GB" in fit.reasons
    assert "memory used p95 93% > 85%" in fit.reasons
    assert fit.mismatch == pytest.approx(0.5 + (93 - 85) / 85)
    mm = mismatch_by_role(fact_arrays([f], CFG, TODAY), CFG, ["analyst"])
    assert mm[0, 0] == pytest.approx(fit.mismatch)


def test_pressure_is_scaled_to_another_roles_workload() -> None:
    f = DeviceFacts("d", 16, 8, 512, 95, 60000, "Windows", "10.0.26100", 30, 60, 0, "office")
    assert not assess(f, "office", CFG, TODAY).poor
    dev = assess(f, "developer", CFG, TODAY)
    assert any("estimated from its office holder's use" in r for r in dev.reasons)


def test_windows_10_is_out_of_support() -> None:
    assert os_support_end("Windows", "10.0.19045") == dt.date(2025, 10, 14)
    f = DeviceFacts("d", 16, 8, 512, 95, 60000, "Windows", "10.0.19045")
    fit = assess(f, "office", CFG, TODAY)
    assert any("support ended 2025-10-14" in r for r in fit.reasons)


def test_roles_file_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"roles.x lacks"):
        parse_roles("[roles.x]\nmin_ram_gb = 8\n")
    p = tmp_path / "roles.toml"
    p.write_text(
        "[roles.kiosk]\nmin_ram_gb=4\nmin_cores=2\nmin_storage_gb=64\n"
        "min_battery_health_pct=0\nmin_runtime_h=0\nmax_cpu_busy_p95=90\n"
        "max_mem_used_p95=95\nmax_swap_used_p95=50\n",
        encoding="utf-8",
    )
    assert list(load_roles(p).roles) == ["kiosk"]
