"""Use and dormancy: active time per interval, input idle time, and time on battery.

Why: a laptop nobody has touched for weeks is a candidate for an amnesty day
and redeployment, and a device that lives on battery wears it out sooner.
Only how long ago the last keyboard or pointer input happened is read, from
the OS (logind's seat IdleHint, or xprintidle where there is an X display, on
Linux; the sessions' idle time from ``quser``, else GetLastInputInfo, on
Windows; HIDIdleTime from ``ioreg`` on macOS):
never which key, which window, or what was typed.

Active time in an interval is the interval minus the idle time at its end,
capped at the interval: an estimate good to one cycle (the resident loop
samples every minute). Intervals come from the monotonic clock; an interval
longer than ``MAX_INTERVAL_S`` (a suspend, or a stalled loop) is not counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psutil

from kitlife.agent.platforms import Platform
from kitlife.agent.readings import SourceResult

MAX_INTERVAL_S = 3600.0
# When the OS cannot say (no logind, no display), ask again only this often:
# the failing tool would otherwise be the costliest part of every cycle.
RETRY_IDLE_S = 600.0


class UseSampler:
    def __init__(
        self,
        platform: Platform,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.clock = clock
        self._prev_t: float | None = None
        self._prev_on_battery: bool | None = None
        self._idle_failed: tuple[float, str] | None = None

    def collect(self) -> SourceResult:
        result = SourceResult("use")
        now = self.clock()
        dt = None if self._prev_t is None else now - self._prev_t
        self._prev_t = now
        if self._idle_failed and 0 <= now - self._idle_failed[0] < RETRY_IDLE_S:
            idle, reason = None, self._idle_failed[1]
        else:
            idle, reason = self.platform.input_idle_s()
            self._idle_failed = (now, reason) if idle is None else None
        if idle is None:
            result.missing(reason, "idle")
        else:
            idle = max(0.0, idle)
            result.add("use.input_idle_s", round(idle))
            result.add("use.days_since_active", round(idle / 86400, 2))
        on_battery = self._on_battery(result)
        if dt is None:
            result.missing("first sample: active and unplugged time start next cycle", "interval")
        elif dt <= 0 or dt > MAX_INTERVAL_S:
            result.missing(f"interval of {dt:.0f} s not counted (clock or suspend)", "interval")
        else:
            if idle is not None:
                result.add("use.active_s", round(dt - min(dt, idle)))
            if on_battery is not None and self._prev_on_battery is not None:
                share = (int(on_battery) + int(self._prev_on_battery)) / 2
                result.add("use.unplugged_interval_s", round(dt * share))
        self._prev_on_battery = on_battery
        return result

    @staticmethod
    def _on_battery(result: SourceResult) -> bool | None:
        try:
            battery = psutil.sensors_battery()
        except (OSError, RuntimeError, AttributeError) as err:
            result.missing(f"battery state unreadable: {err}", "power")
            return None
        if battery is None:
            result.missing("no battery", "power")
            return None
        if battery.power_plugged is None:
            result.missing("the OS does not say whether mains power is connected", "power")
            return None
        return not battery.power_plugged
