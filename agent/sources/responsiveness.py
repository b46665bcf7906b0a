"""Responsiveness: how busy and how stalled the laptop was since the previous cycle.

Why: a slow laptop is what users complain about first, and the supplier is paid
partly on it. The sampler keeps one snapshot of cumulative counters (CPU times,
swap-in bytes, PSI stall totals, disk I/O time, throttle time) and the last 60
busy shares; each cycle reports deltas over the time since the previous one,
measured on the monotonic clock, so an NTP step or DST change cannot make an
interval negative. It costs a handful of /proc reads per cycle.

Granularity is the cycle: "time above 90% busy" counts whole intervals whose
mean busy share was at least 90%, and the p95 is over the recent cycles'
shares. On its first call the sampler takes two snapshots a short moment
apart so that a one-shot run (``kitlife-agent once``/``show``) has values too.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

from kitlife.agent.experience.parsers import Pressure
from kitlife.agent.platforms import Platform
from kitlife.agent.readings import SourceResult

PSI_RESOURCES = ("cpu", "memory", "io")
MAX_INTERVAL_S = 3600.0


@dataclass(slots=True)
class Snapshot:
    t: float
    cpu_busy: float | None = None
    cpu_total: float | None = None
    swap_in: int | None = None
    psi: dict[str, tuple[int, int]] = field(default_factory=dict)  # resource -> (some, full) µs
    # The parsed files, kept so the cycle's averages come from the same read as the totals.
    pressure: dict[str, dict[str, Pressure]] = field(default_factory=dict)
    disk_ms: dict[str, int] = field(default_factory=dict)
    throttle_ms: int | None = None


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation): a value that was actually seen."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


class ResponsivenessSampler:
    """Keeps the previous snapshot and recent busy shares; one instance per process."""

    def __init__(
        self,
        platform: Platform,
        clock: Callable[[], float] = time.monotonic,
        warmup_s: float = 0.25,
        window: int = 60,
    ) -> None:
        self.platform = platform
        self.clock = clock
        self.warmup_s = warmup_s
        self._prev: Snapshot | None = None
        self._busy: deque[float] = deque(maxlen=window)

    # -- reading counters ----------------------------------------------------------------
    def _cpu(self, snap: Snapshot) -> None:
        times = psutil.cpu_times()
        fields = times._asdict()
        # guest time is already inside user/nice on Linux: leave it out of the total.
        total = sum(v for k, v in fields.items() if k not in ("guest", "guest_nice"))
        idle = fields.get("idle", 0.0) + fields.get("iowait", 0.0)
        snap.cpu_total, snap.cpu_busy = total, total - idle

    def snapshot(self) -> Snapshot:
        snap = Snapshot(self.clock())
        with contextlib.suppress(OSError, RuntimeError):
            self._cpu(snap)
        with contextlib.suppress(OSError, RuntimeError):
            snap.swap_in = int(psutil.swap_memory().sin)
        counters = self.platform.stall_counters()
        snap.pressure = counters.pressure
        snap.psi = {
            res: (p["some"].total_us, p["full"].total_us if "full" in p else 0)
            for res, p in counters.pressure.items()
            if "some" in p
        }
        snap.disk_ms = counters.disk_busy_ms
        snap.throttle_ms = counters.throttle_ms
        return snap

    # -- one cycle -------------------------------------------------------------------------
    def collect(self) -> SourceResult:
        result = SourceResult("responsiveness")
        if self._prev is None:
            self._prev = self.snapshot()
            time.sleep(self.warmup_s)
        now = self.snapshot()
        prev, self._prev = self._prev, now
        dt = now.t - prev.t
        try:
            vm = psutil.virtual_memory()
            result.add("resp.mem_available_pct", round(100.0 * vm.available / vm.total, 1))
        except (OSError, RuntimeError, ZeroDivisionError) as err:
            result.missing(f"memory: {err}", "memory")
        if dt <= 0:
            result.missing("the clock did not advance since the previous cycle", "interval")
            return result
        if dt > MAX_INTERVAL_S:
            # A suspended or stalled loop: deltas over hours say nothing about responsiveness.
            result.missing(f"interval of {dt:.0f} s too long to summarise (suspend?)", "interval")
            return result
        self._cpu_readings(result, prev, now, dt)
        self._rest(result, prev, now, dt)
        return result

    def _cpu_readings(self, result: SourceResult, prev: Snapshot, now: Snapshot, dt: float) -> None:
        if None in (prev.cpu_total, now.cpu_total, prev.cpu_busy, now.cpu_busy):
            result.missing("CPU times unreadable", "cpu")
            return
        assert prev.cpu_total is not None and now.cpu_total is not None
        assert prev.cpu_busy is not None and now.cpu_busy is not None
        d_total = now.cpu_total - prev.cpu_total
        if d_total <= 0:
            result.missing("CPU counters did not advance or were reset", "cpu")
            return
        busy = min(100.0, max(0.0, 100.0 * (now.cpu_busy - prev.cpu_busy) / d_total))
        self._busy.append(busy)
        result.add("resp.cpu_busy_pct", round(busy, 1))
        result.add("resp.cpu_busy_p95_pct", round(percentile(list(self._busy), 95), 1))
        result.add("resp.cpu_above90_s", round(dt) if busy >= 90.0 else 0)

    def _rest(self, result: SourceResult, prev: Snapshot, now: Snapshot, dt: float) -> None:
        if prev.swap_in is not None and now.swap_in is not None and now.swap_in >= prev.swap_in:
            result.add("resp.swap_in_bytes_per_s", round((now.swap_in - prev.swap_in) / dt))
        elif now.swap_in is None:
            result.missing("swap-in counter not exposed", "swap")
        if not now.psi:
            result.missing("no /proc/pressure (not Linux, or a kernel without PSI)", "psi")
        for res in PSI_RESOURCES:
            parsed = now.pressure.get(res, {})
            for kind in ("some", "full"):
                p = parsed.get(kind)
                if p is None:
                    continue
                result.add(f"resp.psi_{kind}_avg10_pct", p.avg10, res)
                result.add(f"resp.psi_{kind}_avg60_pct", p.avg60, res)
                result.add(f"resp.psi_{kind}_total_s", round(p.total_us / 1e6, 3), res)
            if res in prev.psi and res in now.psi:
                stall = (now.psi[res][0] - prev.psi[res][0]) / 1e6
                if stall >= 0:
                    result.add("resp.psi_some_stall_s", round(min(stall, dt), 2), res)
        if not now.disk_ms:
            result.missing("disk busy time not exposed (not Linux, or no /proc/diskstats)", "disk")
        for name, ms in now.disk_ms.items():
            before = prev.disk_ms.get(name)
            if before is not None and ms >= before:
                share = min(100.0, 100.0 * (ms - before) / 1000.0 / dt)
                result.add("resp.disk_busy_pct", round(share, 1), name)
        if now.throttle_ms is None:
            result.missing("no thermal throttle counters exposed by this CPU or OS", "throttle")
        elif prev.throttle_ms is not None and now.throttle_ms >= prev.throttle_ms:
            throttled = min(dt, (now.throttle_ms - prev.throttle_ms) / 1000.0)
            result.add("resp.thermal_throttle_s", round(throttled, 1))
