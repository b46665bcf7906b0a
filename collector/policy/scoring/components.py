"""Per-component judges: battery, storage, OS support, memory and CPU pressure.

Each judge is a function ``(history, context) -> list[ComponentAssessment]`` in
:data:`JUDGES`; a new component (thermal, Windows 11 readiness...) is one more
function appended there. Judges are pure: bad readings become data-quality notes
and an ``unknown`` status, never an exception and never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from kitlife.collector.policy.os_support import OsIdentity, is_windows10, support_end
from kitlife.collector.policy.scoring.catalogue import Catalogue
from kitlife.collector.policy.scoring.history import DailySeries, DeviceHistory, day_number
from kitlife.collector.policy.scoring.results import ComponentAssessment, Reason, Status
from kitlife.collector.policy.scoring.thresholds import Thresholds
from kitlife.collector.policy.scoring.trend import (
    DAYS_PER_MONTH,
    Crossing,
    FadeForecast,
    Trend,
    fit_fade,
    fit_trend,
    months_to_cross,
    p_serves,
)

_SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Context:
    """What every judge needs besides the device: tables, horizon and today (days since epoch)."""

    thresholds: Thresholds
    catalogue: Catalogue
    horizon_months: float
    now_day: int

    def reason(self, text: str, key: str) -> Reason:
        return Reason(text, key, self.thresholds.row(key).source)

    def trend(self, series: DailySeries | None) -> Trend | None:
        t = self.thresholds
        return fit_trend(
            series,
            min_span_days=t.number("trend.min_span_days"),
            min_points=int(t.number("trend.min_points")),
            max_points=int(t.number("trend.max_points")),
            confidence=t.number("trend.confidence"),
        )

    def fade(self, series: DailySeries | None) -> FadeForecast | None:
        """The battery fade forecast, with the constants the backtest chose."""
        t = self.thresholds
        return fit_fade(
            series,
            min_span_days=t.number("trend.min_span_days"),
            min_points=int(t.number("trend.min_points")),
            max_points=int(t.number("trend.max_points")),
            interval=t.number("forecast.interval"),
            recent_fraction=t.number("forecast.recent_fraction"),
            age_factor=t.number("forecast.age_factor"),
        )

    def band_p(self, status: Status) -> float:
        """Chance of serving the horizon from the level alone (no usable trend)."""
        if status is Status.FAIL:
            return 0.0
        if status is Status.WARN:
            return self.thresholds.number("score.unknown_trend_p_warn")
        return self.thresholds.number("score.unknown_trend_p_good")


Judge = Callable[[DeviceHistory, Context], list[ComponentAssessment]]


def _fmt_months(months: float) -> str:
    return "never" if math.isinf(months) else f"{months:.0f}"


def _after_last_break(
    series: DailySeries, breaks: np.ndarray, notes: list[str], what: str
) -> DailySeries:
    """The part of ``series`` after the last step flagged in ``breaks`` (one per diff)."""
    if not breaks.any():
        return series
    last = int(np.flatnonzero(breaks)[-1]) + 1
    notes.append(
        f"{what}: history broken on day {int(series.days[last])} (part swapped or counter reset); "
        "trend and growth use the data since then"
    )
    return DailySeries(series.days[last:], series.values[last:])


def _counter_since_reset(
    history: DeviceHistory, metric: str, component: str, notes: list[str]
) -> DailySeries | None:
    """A counter's daily series after its last backwards step, negatives dropped."""
    series = history.series(metric, component)
    if series is None:
        return None
    bad = series.values < 0
    if bad.any():
        notes.append(f"{metric} {component}: {int(bad.sum())} negative daily values ignored")
        series = DailySeries(series.days[~bad], series.values[~bad])
        if series.days.size == 0:
            return None
    return _after_last_break(
        series, series.values[1:] < series.values[:-1], notes, f"{metric} {component}"
    )


def _growth(series: DailySeries | None, latest: float, window_days: float, now_day: int) -> float:
    """How much a counter grew over the window ending now (0 when unknown)."""
    if series is None:
        return 0.0
    inside = series.days >= now_day - window_days
    if not inside.any():
        return 0.0
    start = float(series.values[inside][0])
    return max(0.0, latest - start)


def _crossing_fields(
    crossing: Crossing | None,
) -> tuple[float | None, float | None, float | None]:
    if crossing is None:
        return None, None, None
    return crossing.months, crossing.soonest, crossing.latest


# --- battery ---------------------------------------------------------------------------------


def _battery_capacity(history: DeviceHistory, pack: str) -> tuple[float, float, str] | None:
    for unit in ("mwh", "mah"):
        design = history.number(f"battery.design_capacity_{unit}", pack)
        full = history.number(f"battery.full_charge_capacity_{unit}", pack)
        if design is not None and full is not None:
            return design, full, unit
    return None


def _unplugged_h_per_day(
    history: DeviceHistory, pack: str, ctx: Context, notes: list[str]
) -> float | None:
    series = _counter_since_reset(history, "battery.unplugged_s", pack, notes)
    if series is None or series.days.size < 2:
        return None
    span = float(series.days[-1] - series.days[0])
    if span < ctx.thresholds.number("battery.unplugged_min_span_days"):
        return None
    return float(series.values[-1] - series.values[0]) / span / _SECONDS_PER_HOUR


_CONDITION_PREFIX = "battery.os_condition."


def _condition_key(condition: str) -> str:
    """The table key of an OS label: "Service Recommended" -> ...service_recommended."""
    return _CONDITION_PREFIX + "_".join(condition.lower().split())


@dataclass(slots=True)
class _PackLevel:
    """The pack's health now, in % of design, and where the figure came from."""

    health: float
    what: str
    unit: str = ""
    design: float | None = None


def _pack_level(
    history: DeviceHistory, pack: str, ctx: Context, notes: list[str]
) -> _PackLevel | None:
    """Health from the design / full-charge pair, else the OS's own maximum-capacity %."""
    capacity = _battery_capacity(history, pack)
    max_pct = ctx.thresholds.number("battery.full_above_design_max_pct")
    if capacity is not None:
        design, full, unit = capacity
        # Below one mWh (or mAh) no laptop pack was ever designed: not a reading, and
        # dividing by it would overflow.
        if design < 1 or full < 0:
            notes.append(
                f"battery {pack}: design {design:g} / full {full:g} {unit} is not a reading"
            )
            return None
        health = 100.0 * full / design
        if health > max_pct:
            notes.append(
                f"battery {pack}: full-charge {full:g} {unit} is {health:.0f}% of design "
                f"(above {max_pct:g}%), a bad reading"
            )
            return None
        return _PackLevel(
            min(health, 100.0), f"({full:g} of {design:g} {unit})", unit=unit, design=design
        )
    os_pct = history.number("battery.os_max_capacity_pct", pack)
    if os_pct is None:
        return None
    if not 0 <= os_pct <= max_pct:
        notes.append(f"battery {pack}: OS maximum capacity {os_pct:g}% is out of range, ignored")
        return None
    return _PackLevel(min(os_pct, 100.0), "(the OS's own maximum-capacity figure)")


def _judge_condition(
    history: DeviceHistory, pack: str, ctx: Context, reasons: list[Reason]
) -> Status | None:
    """The OS's own battery label (macOS "Service Recommended", "Replace Soon"...), if it says one.

    Each label is a row of the thresholds table (1 = warn, 2 = fail); "Normal" and unknown
    labels judge nothing."""
    condition = history.text("battery.os_condition", pack)
    if condition is None:
        return None
    key = _condition_key(condition)
    try:
        level = ctx.thresholds.number(key)
    except KeyError:
        return None
    status = Status.FAIL if level >= 2 else Status.WARN if level >= 1 else Status.OK
    if status is not Status.OK:
        reasons.append(ctx.reason(f"battery {pack}: the OS says '{condition}'", key))
    return status


def _battery_level_status(
    pack: str, level: _PackLevel, ctx: Context, reasons: list[Reason]
) -> Status:
    t = ctx.thresholds
    eol_key = "battery.health_most_impacted_below_pct"
    eol = t.number(eol_key)
    moderate = t.number("battery.health_moderate_below_pct")
    health = level.health
    if health < eol:
        reasons.append(
            ctx.reason(
                f"battery {pack} at {health:.0f}% of design {level.what}, "
                f"below {eol:g}% ('most impacted')",
                eol_key,
            )
        )
        return Status.FAIL
    if health < moderate:
        reasons.append(
            ctx.reason(
                f"battery {pack} at {health:.0f}% of design {level.what}, in the "
                f"{eol:g}-{moderate:g}% 'moderately impacted' band",
                "battery.health_moderate_below_pct",
            )
        )
        return Status.WARN
    normal = t.number("battery.fleet_normal_min_health_pct")
    if health <= normal:
        reasons.append(
            ctx.reason(
                f"battery {pack} at {health:.0f}% of design {level.what}, not above "
                f"{normal:g}% (Fleet 'Normal')",
                "battery.fleet_normal_min_health_pct",
            )
        )
        return Status.WARN
    return Status.OK


def _battery_usage_weight(
    history: DeviceHistory, pack: str, ctx: Context, reasons: list[Reason], notes: list[str]
) -> float:
    """How much a worn battery matters on this laptop: 0 docked, 1 at the reference hours."""
    t = ctx.thresholds
    hours = _unplugged_h_per_day(history, pack, ctx, notes)
    if hours is None:
        return 1.0
    docked = t.number("battery.docked_max_unplugged_h_per_day")
    reference = t.number("battery.unplugged_reference_h_per_day")
    if hours < docked:
        reasons.append(
            ctx.reason(
                f"battery {pack} on battery {hours * 60:.0f} min a day: docked, a worn battery "
                "is not urgent",
                "battery.docked_max_unplugged_h_per_day",
            )
        )
        return 0.0
    weight = min(1.0, hours / reference)
    reasons.append(
        ctx.reason(
            f"battery {pack} on battery {hours:.1f} h a day, counts {weight:.0%} "
            f"(full weight at {reference:g} h)",
            "battery.unplugged_reference_h_per_day",
        )
    )
    return weight


def _judge_battery_pack(history: DeviceHistory, pack: str, ctx: Context) -> ComponentAssessment:
    """Health now (capacity pair, else the OS's %), the OS's label, cycles, and the forecast.

    A pack that is worn today (warn or fail) gets the catalogue battery as its repair, so
    the plan costs it beside refurbishing. A pack that is healthy today is never repaired
    on a forecast alone: its repair waits, and ``waits_for`` says for what.
    """
    t = ctx.thresholds
    notes: list[str] = []
    reasons: list[Reason] = []
    part = ctx.catalogue.cheapest_for("battery")
    eol_key = "battery.health_most_impacted_below_pct"
    eol = t.number(eol_key)
    level = _pack_level(history, pack, ctx, notes)
    condition = _judge_condition(history, pack, ctx, reasons)
    if level is None and condition is None:
        if not notes:
            notes.append(f"battery {pack}: no design and full-charge capacity pair")
        return ComponentAssessment(
            "battery",
            pack,
            Status.UNKNOWN,
            level_unit="% of design",
            repair_part=part.part if part else None,
            reasons=reasons,
            data_quality=notes,
        )
    status = Status.OK if level is None else _battery_level_status(pack, level, ctx, reasons)
    if condition is not None:
        status = max(status, condition, key=_severity)
    cycles = history.number("battery.cycle_count", pack)
    if cycles is not None and cycles < 0:
        notes.append(f"battery {pack}: cycle count {cycles:g} is negative, ignored")
        cycles = None
    max_cycles = t.number("battery.fleet_normal_max_cycles")
    if cycles is not None and cycles >= max_cycles:
        status = max(status, Status.WARN, key=_severity)
        reasons.append(
            ctx.reason(
                f"battery {pack} has {cycles:g} cycles, at or above {max_cycles:g}",
                "battery.fleet_normal_max_cycles",
            )
        )

    forecast = None if level is None else _battery_forecast(history, pack, ctx, level, notes)
    crossing = None
    if forecast is not None:
        crossing = forecast.crossing(eol)
        p = 0.0 if status is Status.FAIL else p_serves(crossing, ctx.horizon_months)
        low, expected, high = forecast.at(ctx.horizon_months)
        reasons.append(
            ctx.reason(
                f"battery {pack} fading {forecast.per_month:+.1f} points a month now "
                f"(interval {forecast.low_per_month:+.1f} to {forecast.high_per_month:+.1f}), "
                f"slowing with age: {expected:.0f}% in {ctx.horizon_months:g} months "
                f"({forecast.interval:.0%} interval {low:.0f}-{high:.0f}%); crosses {eol:g}% in "
                f"{_fmt_months(crossing.months)} months (interval {_fmt_months(crossing.soonest)} "
                f"to {_fmt_months(crossing.latest)})",
                "forecast.interval",
            )
        )
    else:
        p = ctx.band_p(status)
        reasons.append(
            ctx.reason(
                f"battery {pack}: trend unknown (needs {t.number('trend.min_points'):g} daily "
                f"rollups over {t.number('trend.min_span_days'):g} days)",
                "trend.min_span_days",
            )
        )

    weight = _battery_usage_weight(history, pack, ctx, reasons, notes)
    p = 1.0 - weight * (1.0 - p)
    worn = status in (Status.WARN, Status.FAIL)
    waits_for = None
    if not worn and crossing is not None and crossing.soonest < ctx.horizon_months and part:
        moderate = t.number("battery.health_moderate_below_pct")
        waits_for = (
            f"battery {pack}: healthy today, no part bought on the forecast alone; replace "
            f"when it reads below {moderate:g}% of design (forecast: {eol:g}% in "
            f"{_fmt_months(crossing.months)} months, interval {_fmt_months(crossing.soonest)} to "
            f"{_fmt_months(crossing.latest)})"
        )
    m, lo, hi = _crossing_fields(crossing)
    if crossing is None and status is Status.FAIL:
        m, lo, hi = 0.0, 0.0, 0.0
    return ComponentAssessment(
        "battery",
        pack,
        status,
        level=None if level is None else round(level.health, 2),
        level_unit="% of design",
        threshold_key=eol_key,
        trend=forecast.trend() if forecast is not None else None,
        months_to_threshold=m,
        months_low=lo,
        months_high=hi,
        p_serves=p,
        repair_part=part.part if part else None,
        p_serves_repaired=max(p, 1.0 if part is not None else p),
        needs_repair=worn and weight > 0 and part is not None,
        waits_for=waits_for if weight > 0 else None,
        forecast=forecast,
        reasons=reasons,
        data_quality=notes,
    )


def _battery_forecast(
    history: DeviceHistory, pack: str, ctx: Context, level: _PackLevel, notes: list[str]
) -> FadeForecast | None:
    """The fade forecast from the pack's daily % of design (capacity pair, else the OS's %)."""
    if level.design is not None:
        series = history.series(f"battery.full_charge_capacity_{level.unit}", pack)
        if series is None:
            return None
        with np.errstate(over="ignore"):  # absurd values become inf and are dropped below
            pct = 100.0 * series.values / level.design
    else:
        series = history.series("battery.os_max_capacity_pct", pack)
        if series is None:
            return None
        pct = series.values
    eol = ctx.thresholds.number("battery.health_most_impacted_below_pct")
    max_pct = ctx.thresholds.number("battery.full_above_design_max_pct")
    bad = (pct < 0) | (pct > max_pct)
    if bad.any():
        notes.append(f"battery {pack}: {int(bad.sum())} daily values out of range ignored")
    cleaned = DailySeries(series.days[~bad], pct[~bad])
    if cleaned.days.size == 0:
        return None
    # A jump up of more than the moderate band's width is a pack swap, not a recovery.
    jump = ctx.thresholds.number("battery.health_moderate_below_pct") - eol
    rises = cleaned.values[1:] - cleaned.values[:-1] > jump
    cleaned = _after_last_break(cleaned, rises, notes, f"battery {pack}")
    return ctx.fade(cleaned)


def _severity(status: Status) -> int:
    return (Status.UNKNOWN, Status.OK, Status.WARN, Status.FAIL).index(status)


def judge_battery(history: DeviceHistory, ctx: Context) -> list[ComponentAssessment]:
    """One assessment per battery pack that reports capacities."""
    return [_judge_battery_pack(history, pack, ctx) for pack in history.components("battery.")]


# --- storage ---------------------------------------------------------------------------------

_ATA_ATTRIBUTES = (
    ("ata.reallocated_sectors", "SMART 5 reallocated sectors"),
    ("ata.reported_uncorrect", "SMART 187 reported uncorrectable"),
    ("ata.command_timeout", "SMART 188 command timeouts"),
    ("ata.pending_sectors", "SMART 197 pending sectors"),
    ("ata.offline_uncorrectable", "SMART 198 offline uncorrectable"),
)


@dataclass(slots=True)
class _DiskFindings:
    """What the storage checks of one disk found; combined into one assessment."""

    status: Status = Status.OK
    p: float = 1.0
    level: float | None = None
    level_unit: str = ""
    threshold_key: str | None = None
    trend: Trend | None = None
    crossing: Crossing | None = None
    judged: bool = False
    reasons: list[Reason] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def worsen(self, status: Status, p: float) -> None:
        self.judged = True
        if _severity(status) > _severity(self.status):
            self.status = status
        self.p = min(self.p, p)


def _check_smart_overall(
    history: DeviceHistory, disk: str, ctx: Context, found: _DiskFindings
) -> None:
    reasons = found.reasons
    passed = history.number("storage.smart_passed", disk)
    if passed is None:
        return
    if passed == 0:
        found.worsen(Status.FAIL, 0.0)
        reasons.append(
            ctx.reason(f"{disk}: SMART overall health FAILED", "storage.smart_failed_fails")
        )
    else:
        found.worsen(Status.OK, 1.0)


def _check_nvme(history: DeviceHistory, disk: str, ctx: Context, found: _DiskFindings) -> None:
    reasons, notes = found.reasons, found.notes
    t = ctx.thresholds
    used = history.number("nvme.percentage_used_pct", disk)
    if used is not None:
        if not 0 <= used <= t.number("nvme.percentage_used_max_pct"):
            notes.append(f"{disk}: percentage used {used:g} is out of range, ignored")
        else:
            _judge_nvme_wear(history, disk, used, ctx, found)
    spare = history.number("nvme.available_spare_pct", disk)
    spare_min = history.number("nvme.available_spare_threshold_pct", disk)
    if spare is not None and spare_min is not None:
        if not (0 <= spare <= 100 and 0 <= spare_min <= 100):
            notes.append(
                f"{disk}: available spare {spare:g}% / threshold {spare_min:g}% out of range"
            )
        elif spare < spare_min:
            found.worsen(Status.FAIL, 0.0)
            reasons.append(
                ctx.reason(
                    f"{disk}: available spare {spare:g}% below the drive's own threshold "
                    f"{spare_min:g}%",
                    "nvme.available_spare_below_threshold_fails",
                )
            )
        else:
            found.worsen(Status.OK, 1.0)
    warning = history.number("nvme.critical_warning", disk)
    if warning is not None:
        if warning < 0:
            notes.append(f"{disk}: critical warning {warning:g} is not a bit field, ignored")
        elif warning != t.number("nvme.critical_warning_ok_value"):
            found.worsen(Status.FAIL, 0.0)
            reasons.append(
                ctx.reason(
                    f"{disk}: NVMe critical warning bits {int(warning):#04x} set",
                    "nvme.critical_warning_ok_value",
                )
            )
        else:
            found.worsen(Status.OK, 1.0)
    _judge_media_errors(history, disk, ctx, found)


def _judge_nvme_wear(
    history: DeviceHistory, disk: str, used: float, ctx: Context, found: _DiskFindings
) -> None:
    reasons, notes = found.reasons, found.notes
    t = ctx.thresholds
    warn, critical = (
        t.number("nvme.percentage_used_warn_pct"),
        t.number("nvme.percentage_used_critical_pct"),
    )
    status = Status.FAIL if used >= critical else Status.WARN if used >= warn else Status.OK
    series = history.series("nvme.percentage_used_pct", disk)
    if series is not None:
        series = _after_last_break(
            series, series.values[1:] < series.values[:-1], notes, f"{disk} wear"
        )
    trend = ctx.trend(series)
    found.level, found.level_unit = used, "% endurance used"
    found.threshold_key = "nvme.percentage_used_critical_pct"
    if trend is not None:
        crossing = months_to_cross(used, critical, trend, rising=True)
        found.trend, found.crossing = trend, crossing
        p = 0.0 if status is Status.FAIL else p_serves(crossing, ctx.horizon_months)
        reasons.append(
            ctx.reason(
                f"{disk}: {used:g}% of rated endurance used, {trend.per_month:.2f} points a month, "
                f"reaches {critical:g}% in {_fmt_months(crossing.months)} months "
                f"(interval {_fmt_months(crossing.soonest)} to {_fmt_months(crossing.latest)})",
                "nvme.percentage_used_critical_pct",
            )
        )
    else:
        p = ctx.band_p(status)
        key = (
            "nvme.percentage_used_critical_pct"
            if status is Status.FAIL
            else ("nvme.percentage_used_warn_pct")
        )
        reasons.append(
            ctx.reason(
                f"{disk}: {used:g}% of rated endurance used "
                f"(warn {warn:g}, critical {critical:g}); trend unknown",
                key,
            )
        )
    found.worsen(status, p)


def _judge_media_errors(
    history: DeviceHistory, disk: str, ctx: Context, found: _DiskFindings
) -> None:
    reasons, notes = found.reasons, found.notes
    t = ctx.thresholds
    errors = history.number("nvme.media_errors", disk)
    if errors is None:
        return
    if errors < 0:
        notes.append(f"{disk}: media errors {errors:g} is negative, ignored")
        return
    key = "nvme.media_errors_warn_above"
    if errors <= t.number(key):
        found.worsen(Status.OK, 1.0)
        return
    series = _counter_since_reset(history, "nvme.media_errors", disk, notes)
    window = t.number("ata.growth_window_days")
    grew = _growth(series, errors, window, ctx.now_day)
    if grew > 0:
        found.worsen(Status.FAIL, 0.0)
        reasons.append(
            ctx.reason(
                f"{disk}: {errors:g} media errors, {grew:g} new in the last {window:g} days", key
            )
        )
    else:
        found.worsen(Status.WARN, t.number("score.media_errors_p"))
        reasons.append(ctx.reason(f"{disk}: {errors:g} media errors, not growing", key))


def _command_timeouts(raw: float, ctx: Context, notes: list[str], disk: str) -> float:
    """SMART 188 as a count: a packed Seagate raw value (three 16-bit counters) is reduced to
    its low word, the total, as the agent's parser does for new readings."""
    packed_above = ctx.thresholds.number("ata.command_timeout_packed_above")
    if raw <= packed_above:
        return raw
    total = float(int(raw) & int(packed_above))
    notes.append(
        f"{disk}: SMART 188 raw {raw:.0f} is three packed 16-bit counters; "
        f"{total:.0f} timeouts in total"
    )
    return total


def _check_ata(history: DeviceHistory, disk: str, ctx: Context, found: _DiskFindings) -> None:
    """Each SATA attribute against its own Backblaze-derived failure-rate buckets.

    A bucket whose observed annual failure rate reaches the attribute's fail level fails
    the drive, one at the warn level warns; a count that grew within the growth window is
    judged by the bucket its growth leads to over the horizon. Small counts in a low-risk bucket
    (a few command timeouts: usually a cable) pass, as in Scrutiny.
    """
    reasons, notes = found.reasons, found.notes
    t = ctx.thresholds
    window = t.number("ata.growth_window_days")
    warn_afr = t.number("ata.afr_warn_pct")
    years = ctx.horizon_months / 12.0
    for metric, label in _ATA_ATTRIBUTES:
        raw = history.number(metric, disk)
        buckets = t.afr.get(metric)
        if raw is None or buckets is None:
            continue
        if raw < 0:
            notes.append(f"{disk}: {label} {raw:g} is negative, ignored")
            continue
        if metric == "ata.command_timeout":
            raw = _command_timeouts(raw, ctx, notes, disk)
        name = metric.removeprefix("ata.")
        critical = t.number(f"ata.critical.{name}") >= 1
        fail_afr = t.number(
            "ata.afr_fail_critical_pct" if critical else "ata.afr_fail_noncritical_pct"
        )
        grew = _growth(_counter_since_reset(history, metric, disk, notes), raw, window, ctx.now_day)
        now = buckets.lookup(raw)
        # Project the window's growth over the horizon: a count that is climbing is judged by
        # where it is heading, not only where it is.
        projected = buckets.lookup(raw + grew * ctx.horizon_months * DAYS_PER_MONTH / window)
        # A growing count is judged by the bucket it is heading for, a steady one by its own.
        judged = projected if grew > 0 else now
        status = Status.OK
        if judged.afr_pct >= fail_afr:
            status = Status.FAIL
        elif judged.afr_pct >= warn_afr:
            status = Status.WARN
        p = math.exp(-projected.afr_pct / 100.0 * years)
        found.worsen(status, p)
        if status is not Status.OK:
            growth = f", {grew:g} new in the last {window:g} days" if grew > 0 else ""
            reasons.append(
                ctx.reason(
                    f"{disk}: {label} {raw:g}{growth}; observed annual failure rate "
                    f"{projected.afr_pct:.1f}% for drives heading there "
                    f"(warn at >= {warn_afr:g}%, fail at >= {fail_afr:g}%)",
                    projected.afr_key,
                )
            )


def _check_normalised(
    history: DeviceHistory, disk: str, ctx: Context, found: _DiskFindings
) -> None:
    """The SMART rule itself: a normalised value at or below its non-zero threshold has failed."""
    key = "ata.normalised_at_or_below_threshold_fails"
    prefix = f"{disk}:"
    attributes = {
        c for (m, c) in history.latest if m == "ata.attr_normalised" and c.startswith(prefix)
    }
    for component in sorted(attributes, key=lambda c: (len(c), c)):
        value = history.number("ata.attr_normalised", component)
        thresh = history.number("ata.attr_threshold", component)
        if value is None or thresh is None:
            continue
        if not (0 <= value <= 255 and 0 <= thresh <= 255):
            found.notes.append(f"{component}: normalised {value:g} / threshold {thresh:g} invalid")
            continue
        # Threshold 0 means "never fails" (ATA); 254 and above are not thresholds.
        if 0 < thresh < 254 and value <= thresh:
            found.worsen(Status.FAIL, 0.0)
            found.reasons.append(
                ctx.reason(
                    f"{disk}: SMART attribute {component.removeprefix(prefix)} normalised value "
                    f"{value:g} at or below its threshold {thresh:g}: the drive's own rule says "
                    "it has failed",
                    key,
                )
            )


_SCSI_UNCORRECTED = (
    ("scsi.uncorrected_read_errors", "uncorrected read errors"),
    ("scsi.uncorrected_write_errors", "uncorrected write errors"),
    ("scsi.uncorrected_verify_errors", "uncorrected verify errors"),
)


def _check_scsi(history: DeviceHistory, disk: str, ctx: Context, found: _DiskFindings) -> None:
    """SAS/SCSI drives: the grown defect list and the error counter log's uncorrected totals."""
    t = ctx.thresholds
    reasons, notes = found.reasons, found.notes
    window = t.number("ata.growth_window_days")
    defects = history.number("scsi.grown_defects", disk)
    if defects is not None:
        if defects < 0:
            notes.append(f"{disk}: grown defect list {defects:g} is negative, ignored")
        else:
            key = "scsi.grown_defects_warn_above"
            series = _counter_since_reset(history, "scsi.grown_defects", disk, notes)
            grew = _growth(series, defects, window, ctx.now_day)
            if defects <= t.number(key):
                found.worsen(Status.OK, 1.0)
            elif grew > 0:
                found.worsen(Status.FAIL, 0.0)
                reasons.append(
                    ctx.reason(
                        f"{disk}: {defects:g} grown defects, {grew:g} new in the last "
                        f"{window:g} days",
                        "scsi.grown_defects_growing_fails",
                    )
                )
            else:
                found.worsen(Status.WARN, t.number("score.scsi_grown_defects_p"))
                reasons.append(
                    ctx.reason(f"{disk}: {defects:g} grown defects (blocks remapped)", key)
                )
    for metric, label in _SCSI_UNCORRECTED:
        errors = history.number(metric, disk)
        if errors is None:
            continue
        if errors < 0:
            notes.append(f"{disk}: {label} {errors:g} is negative, ignored")
            continue
        key = "scsi.uncorrected_errors_fail_above"
        if errors > t.number(key):
            found.worsen(Status.FAIL, 0.0)
            reasons.append(ctx.reason(f"{disk}: {errors:g} {label} (data lost)", key))
        else:
            found.worsen(Status.OK, 1.0)


def _judge_disk(history: DeviceHistory, disk: str, ctx: Context) -> ComponentAssessment:
    found = _DiskFindings()
    reasons, notes = found.reasons, found.notes
    hours = history.number("storage.power_on_hours", disk)
    if hours is not None and not 0 <= hours <= ctx.thresholds.number("storage.power_on_hours_max"):
        notes.append(f"{disk}: power-on hours {hours:g} out of range, ignored")
    _counter_since_reset(history, "storage.power_on_hours", disk, notes)
    _check_smart_overall(history, disk, ctx, found)
    _check_nvme(history, disk, ctx, found)
    _check_ata(history, disk, ctx, found)
    _check_normalised(history, disk, ctx, found)
    _check_scsi(history, disk, ctx, found)
    part = ctx.catalogue.cheapest_for("storage")
    status = found.status if found.judged else Status.UNKNOWN
    crossing = found.crossing
    months, low, high = _crossing_fields(crossing)
    if status is Status.FAIL and crossing is None:
        months, low, high = 0.0, 0.0, 0.0
    soon = status is Status.FAIL or (months is not None and months < ctx.horizon_months)
    p_repaired = 1.0 if part is not None else found.p
    return ComponentAssessment(
        "storage",
        disk,
        status,
        level=found.level,
        level_unit=found.level_unit,
        threshold_key=found.threshold_key,
        trend=found.trend,
        months_to_threshold=months,
        months_low=low,
        months_high=high,
        p_serves=found.p,
        repair_part=part.part if part else None,
        p_serves_repaired=max(found.p, p_repaired),
        needs_repair=soon,
        reasons=reasons,
        data_quality=notes,
    )


def judge_storage(history: DeviceHistory, ctx: Context) -> list[ComponentAssessment]:
    """One assessment per disk with any storage, NVMe, SCSI or ATA reading."""
    disks = set(history.components("storage.")) | set(history.components("nvme."))
    disks |= set(history.components("scsi."))
    disks |= {c for c in history.components("ata.") if ":" not in c}
    return [_judge_disk(history, disk, ctx) for disk in sorted(disks)]


# --- operating system support ------------------------------------------------------------------


def _support_left(end: date, ctx: Context, *, fail_at: float) -> tuple[float, bool, Status, str]:
    """Months of OS support left at ``end``, whether that covers the horizon, the
    status (fail at or below ``fail_at`` months) and the phrase for a reason."""
    months = (day_number(end) - ctx.now_day) / DAYS_PER_MONTH
    serves = months >= ctx.horizon_months
    status = Status.FAIL if months <= fail_at else Status.OK if serves else Status.WARN
    when = f"{months:.0f} months from now" if months > 0 else f"{-months:.0f} months ago"
    return months, serves, status, when


def judge_os(history: DeviceHistory, ctx: Context) -> list[ComponentAssessment]:
    """Months until the installed OS leaves support, from the collector's cited OS table
    (``policy/data/os_support.csv``); Windows 10 adds the Windows 11 upgrade as a repair."""
    ident = OsIdentity(
        **{f: history.text(f"inv.os_{f}") or "" for f in ("name", "version", "build", "edition")},
        release_name=history.text("inv.os_release_name") or "",
    )
    if not ident.name:
        return []
    name = ident.name
    label = ident.release_name or f"{name} {ident.version}".rstrip()
    found = support_end(ident)
    if found is None:
        return [
            ComponentAssessment(
                "os", name, Status.UNKNOWN, data_quality=[f"os: no end-of-support date for {label}"]
            )
        ]
    key = "os.months_left_min"
    months, serves, status, when = _support_left(found.end, ctx, fail_at=ctx.thresholds.number(key))
    reasons = [
        Reason(f"{found.label} support ends {found.end.isoformat()}: {when}", key, found.source)
    ]
    left = max(months, 0.0)
    upgrade = None
    p = 1.0 if serves else 0.0
    p_repaired = p
    part = ctx.catalogue.cheapest_for("os")
    if is_windows10(ident) and part is not None:
        t = ctx.thresholds
        ready = history.win11_ready
        p_upgrade = (
            (1.0 if ready else 0.0)
            if ready is not None
            else t.number("score.os_upgrade_p_unknown_readiness")
        )
        state = "readiness unknown" if ready is None else "ready" if ready else "not ready"
        reasons.append(
            ctx.reason(
                f"Windows 11 upgrade: {state}, counts {p_upgrade:.0%}",
                "score.os_upgrade_p_unknown_readiness",
            )
        )
        if ready is not False:
            upgrade = part.part
            p_repaired = max(p, p_upgrade)
    return [
        ComponentAssessment(
            "os",
            name,
            status,
            threshold_key=key,
            months_to_threshold=left,
            months_low=left,
            months_high=left,
            p_serves=p,
            repair_part=upgrade,
            p_serves_repaired=p_repaired,
            needs_repair=not serves and upgrade is not None,
            reasons=reasons,
        )
    ]


# --- memory and CPU pressure -------------------------------------------------------------------

_PRESSURE = (
    (
        "memory",
        (
            ("mem.used_pct", "pressure.mem_used_warn_pct", "memory in use"),
            ("swap.used_pct", "pressure.swap_used_warn_pct", "swap in use"),
        ),
    ),
    ("cpu", (("cpu.busy_pct", "pressure.cpu_busy_warn_pct", "CPU busy"),)),
)


def _recent_median(history: DeviceHistory, metric: str, ctx: Context) -> float | None:
    series = history.series(metric, "")
    if series is not None:
        recent = series.values[
            series.days >= ctx.now_day - ctx.thresholds.number("pressure.window_days")
        ]
        if recent.size:
            return float(np.median(recent))
    return history.number(metric, "")


def judge_pressure(history: DeviceHistory, ctx: Context) -> list[ComponentAssessment]:
    """Memory and CPU pressure from the recent median (placeholder levels, role-specific later)."""
    t = ctx.thresholds
    out: list[ComponentAssessment] = []
    for component, checks in _PRESSURE:
        reasons: list[Reason] = []
        notes: list[str] = []
        judged = False
        status = Status.OK
        for metric, key, label in checks:
            value = _recent_median(history, metric, ctx)
            if value is None:
                continue
            if not 0 <= value <= 100:
                notes.append(f"{metric} {value:g}% out of range, ignored")
                continue
            judged = True
            if value >= t.number(key):
                status = Status.WARN
                reasons.append(
                    ctx.reason(
                        f"{label} {value:.0f}% (median of recent days), at or above "
                        f"{t.number(key):g}%",
                        key,
                    )
                )
        if not judged and not notes:
            continue
        p = t.number("score.pressure_p") if status is Status.WARN else 1.0
        part = ctx.catalogue.cheapest_for(component)
        fixable = part is not None and (component != "memory" or history.ram_soldered is False)
        out.append(
            ComponentAssessment(
                component,
                component,
                status if judged else Status.UNKNOWN,
                p_serves=p,
                repair_part=part.part if fixable and part else None,
                p_serves_repaired=1.0 if fixable else p,
                needs_repair=fixable and status is Status.WARN,
                reasons=reasons,
                data_quality=notes,
            )
        )
    return out


JUDGES: tuple[Judge, ...] = (judge_battery, judge_storage, judge_os, judge_pressure)
