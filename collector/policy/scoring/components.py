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
    Trend,
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


def _judge_battery_pack(history: DeviceHistory, pack: str, ctx: Context) -> ComponentAssessment:
    t = ctx.thresholds
    notes: list[str] = []
    reasons: list[Reason] = []
    part = ctx.catalogue.cheapest_for("battery")
    capacity = _battery_capacity(history, pack)
    eol_key = "battery.health_most_impacted_below_pct"
    eol = t.number(eol_key)

    def unknown(note: str) -> ComponentAssessment:
        notes.append(note)
        return ComponentAssessment(
            "battery",
            pack,
            Status.UNKNOWN,
            level_unit="% of design",
            repair_part=part.part if part else None,
            reasons=reasons,
            data_quality=notes,
        )

    if capacity is None:
        return unknown(f"battery {pack}: no design and full-charge capacity pair")
    design, full, unit = capacity
    # Below one mWh (or mAh) no laptop pack was ever designed: not a reading, and
    # dividing by it would overflow.
    if design < 1 or full < 0:
        return unknown(f"battery {pack}: design {design:g} / full {full:g} {unit} is not a reading")
    max_pct = t.number("battery.full_above_design_max_pct")
    health = 100.0 * full / design
    if health > max_pct:
        return unknown(
            f"battery {pack}: full-charge {full:g} {unit} is {health:.0f}% of design "
            f"(above {max_pct:g}%), a bad reading"
        )
    health = min(health, 100.0)
    cycles = history.number("battery.cycle_count", pack)
    if cycles is not None and cycles < 0:
        notes.append(f"battery {pack}: cycle count {cycles:g} is negative, ignored")
        cycles = None

    status = Status.OK
    moderate = t.number("battery.health_moderate_below_pct")
    if health < eol:
        status = Status.FAIL
        reasons.append(
            ctx.reason(
                f"battery {pack} at {health:.0f}% of design ({full:g} of {design:g} {unit}), "
                f"below {eol:g}% ('most impacted')",
                eol_key,
            )
        )
    elif health < moderate:
        status = Status.WARN
        reasons.append(
            ctx.reason(
                f"battery {pack} at {health:.0f}% of design, in the {eol:g}-{moderate:g}% "
                "'moderately impacted' band",
                "battery.health_moderate_below_pct",
            )
        )
    elif health <= t.number("battery.fleet_normal_min_health_pct"):
        status = Status.WARN
        reasons.append(
            ctx.reason(
                f"battery {pack} at {health:.0f}% of design, not above "
                f"{t.number('battery.fleet_normal_min_health_pct'):g}% (Fleet 'Normal')",
                "battery.fleet_normal_min_health_pct",
            )
        )
    max_cycles = t.number("battery.fleet_normal_max_cycles")
    if cycles is not None and cycles >= max_cycles:
        status = max(status, Status.WARN, key=_severity)
        reasons.append(
            ctx.reason(
                f"battery {pack} has {cycles:g} cycles, at or above {max_cycles:g}",
                "battery.fleet_normal_max_cycles",
            )
        )

    trend, crossing = _battery_trend(
        history, pack, ctx, unit=unit, design=design, health=health, eol=eol, notes=notes
    )
    if trend is not None and crossing is not None:
        p = p_serves(crossing, ctx.horizon_months)
        reasons.append(
            ctx.reason(
                f"battery {pack} changing {trend.per_month:+.1f} points a month "
                f"(interval {trend.low_per_month:+.1f} to {trend.high_per_month:+.1f}), "
                f"crosses {eol:g}% in {_fmt_months(crossing.months)} months "
                f"(interval {_fmt_months(crossing.soonest)} to {_fmt_months(crossing.latest)})",
                eol_key,
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

    weight = 1.0
    hours = _unplugged_h_per_day(history, pack, ctx, notes)
    if hours is not None:
        docked = t.number("battery.docked_max_unplugged_h_per_day")
        reference = t.number("battery.unplugged_reference_h_per_day")
        if hours < docked:
            weight = 0.0
            reasons.append(
                ctx.reason(
                    f"battery {pack} on battery {hours * 60:.0f} min a day: docked, a worn battery "
                    "is not urgent",
                    "battery.docked_max_unplugged_h_per_day",
                )
            )
        else:
            weight = min(1.0, hours / reference)
            reasons.append(
                ctx.reason(
                    f"battery {pack} on battery {hours:.1f} h a day, counts {weight:.0%} "
                    f"(full weight at {reference:g} h)",
                    "battery.unplugged_reference_h_per_day",
                )
            )
    p = 1.0 - weight * (1.0 - p)
    months = crossing.months if crossing is not None else None
    soon = status is Status.FAIL or (months is not None and months < ctx.horizon_months)
    p_repaired = 1.0 if part is not None else p
    m, lo, hi = _crossing_fields(crossing)
    if crossing is None and status is Status.FAIL:
        m, lo, hi = 0.0, 0.0, 0.0
    return ComponentAssessment(
        "battery",
        pack,
        status,
        level=round(health, 2),
        level_unit="% of design",
        threshold_key=eol_key,
        trend=trend,
        months_to_threshold=m,
        months_low=lo,
        months_high=hi,
        p_serves=p,
        repair_part=part.part if part else None,
        p_serves_repaired=max(p, p_repaired),
        needs_repair=soon and weight > 0,
        reasons=reasons,
        data_quality=notes,
    )


def _battery_trend(
    history: DeviceHistory,
    pack: str,
    ctx: Context,
    *,
    unit: str,
    design: float,
    health: float,
    eol: float,
    notes: list[str],
) -> tuple[Trend | None, Crossing | None]:
    series = history.series(f"battery.full_charge_capacity_{unit}", pack)
    if series is None:
        return None, None
    with np.errstate(over="ignore"):  # absurd values become inf and are dropped below
        pct = 100.0 * series.values / design
    max_pct = ctx.thresholds.number("battery.full_above_design_max_pct")
    bad = (pct < 0) | (pct > max_pct)
    if bad.any():
        notes.append(f"battery {pack}: {int(bad.sum())} daily values out of range ignored")
    cleaned = DailySeries(series.days[~bad], pct[~bad])
    if cleaned.days.size == 0:
        return None, None
    # A jump up of more than the moderate band's width is a pack swap, not a recovery.
    jump = ctx.thresholds.number("battery.health_moderate_below_pct") - eol
    rises = cleaned.values[1:] - cleaned.values[:-1] > jump
    cleaned = _after_last_break(cleaned, rises, notes, f"battery {pack}")
    trend = ctx.trend(cleaned)
    if trend is None:
        return None, None
    return trend, months_to_cross(health, eol, trend, rising=False)


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


def _check_ata(history: DeviceHistory, disk: str, ctx: Context, found: _DiskFindings) -> None:
    reasons, notes = found.reasons, found.notes
    t = ctx.thresholds
    window = t.number("ata.growth_window_days")
    fail_afr = t.number("ata.afr_fail_critical_pct")
    years = ctx.horizon_months / 12.0
    for metric, label in _ATA_ATTRIBUTES:
        raw = history.number(metric, disk)
        buckets = t.afr.get(metric)
        if raw is None or buckets is None:
            continue
        if raw < 0:
            notes.append(f"{disk}: {label} {raw:g} is negative, ignored")
            continue
        grew = _growth(_counter_since_reset(history, metric, disk, notes), raw, window, ctx.now_day)
        now = buckets.lookup(raw)
        # Project the window's growth over the horizon: a count that is climbing is judged by
        # where it is heading, not only where it is.
        projected = buckets.lookup(raw + grew * ctx.horizon_months * DAYS_PER_MONTH / window)
        status = Status.OK
        if now.afr_pct >= fail_afr:
            status = Status.FAIL
        elif raw > t.number("ata.raw_above_zero_warn"):
            status = Status.WARN
        if grew > 0:
            status = Status.FAIL if status is not Status.OK else Status.WARN
        p = math.exp(-projected.afr_pct / 100.0 * years)
        found.worsen(status, p)
        if status is not Status.OK:
            growth = f", {grew:g} new in the last {window:g} days" if grew > 0 else ""
            reasons.append(
                ctx.reason(
                    f"{disk}: {label} {raw:g}{growth}; observed annual failure rate "
                    f"{projected.afr_pct:.1f}% for drives heading there "
                    f"(fail at >= {fail_afr:g}%)",
                    projected.afr_key,
                )
            )


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
    """One assessment per disk with any storage, NVMe or ATA reading."""
    disks = set(history.components("storage.")) | set(history.components("nvme."))
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
