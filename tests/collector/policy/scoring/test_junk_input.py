"""Out-of-range and junk readings become notes, never exceptions or nonsense scores."""

from __future__ import annotations

import json
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kitlife.collector.policy.scoring import Action, DeviceHistory, score_device
from tests.collector.policy.scoring.conftest import NOW

METRICS = [
    ("battery.design_capacity_mwh", "BAT0"),
    ("battery.full_charge_capacity_mwh", "BAT0"),
    ("battery.design_capacity_mah", "BAT0"),
    ("battery.full_charge_capacity_mah", "BAT0"),
    ("battery.cycle_count", "BAT0"),
    ("battery.unplugged_s", "BAT0"),
    ("storage.smart_passed", "sda"),
    ("storage.power_on_hours", "sda"),
    ("nvme.percentage_used_pct", "nvme0"),
    ("nvme.available_spare_pct", "nvme0"),
    ("nvme.available_spare_threshold_pct", "nvme0"),
    ("nvme.media_errors", "nvme0"),
    ("nvme.critical_warning", "nvme0"),
    ("ata.reallocated_sectors", "sda"),
    ("ata.reported_uncorrect", "sda"),
    ("ata.command_timeout", "sda"),
    ("ata.pending_sectors", "sda"),
    ("ata.offline_uncorrectable", "sda"),
    ("mem.used_pct", ""),
    ("swap.used_pct", ""),
    ("cpu.busy_pct", ""),
    ("inv.os_name", ""),
    ("inv.os_version", ""),
    ("inv.model", ""),
    ("inv.vendor", ""),
]
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12),
    st.text(max_size=12),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(METRICS), VALUES, max_size=len(METRICS)),
    st.dictionaries(
        st.sampled_from(METRICS[:18]),
        st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=70),
        max_size=6,
    ),
)
def test_junk_never_raises_and_scores_stay_in_range(
    latest: dict[tuple[str, str], object], series: dict[tuple[str, str], list[float]]
) -> None:
    start = NOW - timedelta(days=69)
    daily = {
        k: [(start + timedelta(days=i), v) for i, v in enumerate(vs)] for k, vs in series.items()
    }
    history = DeviceHistory("junk", latest, daily)  # type: ignore[arg-type]
    result = score_device(history, now=NOW)
    json.dumps(result.to_dict(), allow_nan=False)
    if result.action is Action.INSUFFICIENT_DATA:
        assert result.score is None
    else:
        assert result.score is not None and 0 <= result.score <= 100


def test_negative_hours_and_backwards_counters_are_noted_not_scored() -> None:
    days = [(NOW - timedelta(days=59 - i), 0.0 if i > 30 else 100.0) for i in range(60)]
    history = DeviceHistory(
        "swapped",
        {
            ("storage.smart_passed", "sda"): 1,
            ("storage.power_on_hours", "sda"): -3,
            ("ata.reallocated_sectors", "sda"): 0,
        },
        {("ata.reallocated_sectors", "sda"): days},
    )
    result = score_device(history, now=NOW)
    assert any("power-on hours -3" in n for n in result.data_quality)
    assert any("history broken" in n for n in result.data_quality)
    assert result.action is Action.KEEP


def test_dates_and_day_numbers_give_the_same_answer() -> None:
    values = [80 - 0.05 * i for i in range(90)]
    as_dates = [(date(2026, 8, 28) + timedelta(days=i), 500 * v) for i, v in enumerate(values)]
    epoch = date(1970, 1, 1)
    as_ints = [((d - epoch).days, v) for d, v in as_dates]
    latest = {
        ("battery.design_capacity_mwh", "BAT0"): 50000.0,
        ("battery.full_charge_capacity_mwh", "BAT0"): 500 * values[-1],
    }
    key = ("battery.full_charge_capacity_mwh", "BAT0")
    a = score_device(DeviceHistory("a", latest, {key: as_dates}), now=NOW)
    b = score_device(DeviceHistory("a", latest, {key: as_ints}), now=NOW)
    assert a.to_dict() == b.to_dict()
