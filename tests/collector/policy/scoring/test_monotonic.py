"""Worse data never raises the condition scores: as-is, and after every repair (the bound).

The headline score is the score of the recommended path (docs/scoring.md), so it may rise
when worse data makes a repair worthwhile; the two condition scores may not.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kitlife.collector.policy.scoring import DeviceHistory, score_device
from tests.collector.policy.scoring.conftest import NOW, build_laptop

SETTINGS = settings(max_examples=80, deadline=None)


def _scores(history: DeviceHistory) -> tuple[int, int]:
    a = score_device(history, now=NOW)
    assert a.score_as_is is not None and a.score_after_repair is not None
    return a.score_as_is, a.score_after_repair


def _no_higher(worse: DeviceHistory, base: DeviceHistory) -> None:
    """Neither condition score of ``worse`` is above ``base``'s."""
    (worse_as_is, worse_after), (as_is, after) = _scores(worse), _scores(base)
    assert worse_as_is <= as_is and worse_after <= after


def _with(history: DeviceHistory, key: tuple[str, str], value: float) -> DeviceHistory:
    return DeviceHistory(history.device_id, {**history.latest, key: value}, history.daily)


@SETTINGS
@given(st.floats(5, 100), st.floats(0, 40), st.floats(0, 3), st.floats(0, 5))
def test_lower_full_charge_never_raises_the_score(
    pct: float, drop: float, fade: float, hours: float
) -> None:
    base = build_laptop(battery_pct=pct, fade_pct_per_month=fade, unplugged_h_per_day=hours)
    worse = _with(base, ("battery.full_charge_capacity_mwh", "BAT0"), 500.0 * max(pct - drop, 0.0))
    _no_higher(worse, base)


@SETTINGS
@given(
    st.integers(0, 5000),
    st.integers(0, 5000),
    st.sampled_from(
        [
            "reallocated_sectors",
            "reported_uncorrect",
            "command_timeout",
            "pending_sectors",
            "offline_uncorrectable",
        ]
    ),
)
def test_higher_sata_counts_never_raise_the_score(count: int, more: int, attribute: str) -> None:
    base = build_laptop(
        nvme_used_pct=None, ata={attribute: count}, ata_daily={attribute: [float(count)] * 60}
    )
    worse = _with(base, (f"ata.{attribute}", "sda"), float(count + more))
    _no_higher(worse, base)


@SETTINGS
@given(st.floats(0, 150), st.floats(0, 100), st.floats(0, 4))
def test_higher_percentage_used_never_raises_the_score(
    used: float, more: float, wear: float
) -> None:
    base = build_laptop(nvme_used_pct=used, wear_pct_per_month=wear)
    worse = _with(base, ("nvme.percentage_used_pct", "nvme0"), min(used + more, 255.0))
    _no_higher(worse, base)


@SETTINGS
@given(st.integers(0, 100), st.integers(0, 100))
def test_more_media_errors_never_raise_the_score(errors: int, more: int) -> None:
    base = build_laptop(
        media_errors=errors, extra_daily={("nvme.media_errors", "nvme0"): [(NOW, float(errors))]}
    )
    worse = _with(base, ("nvme.media_errors", "nvme0"), float(errors + more))
    _no_higher(worse, base)


@SETTINGS
@given(st.floats(0, 100), st.floats(0, 100))
def test_less_available_spare_never_raises_the_score(spare: float, less: float) -> None:
    base = build_laptop(extra={("nvme.available_spare_pct", "nvme0"): spare})
    worse = _with(base, ("nvme.available_spare_pct", "nvme0"), max(spare - less, 0.0))
    _no_higher(worse, base)
