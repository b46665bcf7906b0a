"""Boot duration and login-to-usable time, as the OS itself recorded them.

Why: a long boot is the first minute of a user's day, every day. The OS keeps
the figure (systemd-analyze, the Windows Diagnostics-Performance event 100,
macOS kern.boottime and the loginwindow start in the unified log); this source
only reads it. The answer cannot change until the next boot, so it is cached
per boot and the tools run once per boot, not once per cycle.
"""

from __future__ import annotations

import psutil

from kitlife.agent.experience.parsers import BootTimes
from kitlife.agent.platforms import Platform
from kitlife.agent.readings import SourceResult


class BootSource:
    """Reads the boot record once per boot (keyed by the OS boot time) and repeats it."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._cache: tuple[float, BootTimes | None, str] | None = None

    def collect(self) -> SourceResult:
        result = SourceResult("boot")
        try:
            booted = psutil.boot_time()
        except (OSError, RuntimeError):
            booted = 0.0
        if self._cache is None or self._cache[0] != booted:
            times, reason = self.platform.boot_times()
            self._cache = (booted, times, reason)
        _, times, reason = self._cache
        if times is None:
            result.missing(reason)
            return result
        for metric, value in (
            ("boot.duration_s", times.duration_s),
            ("boot.os_ready_s", times.os_ready_s),
            ("boot.login_to_usable_s", times.login_to_usable_s),
        ):
            if value is None:
                result.missing("not recorded by this OS", metric)
            elif value < 0:
                result.missing("negative duration (clock stepped during boot)", metric)
            else:
                result.add(metric, round(value, 1))
        return result
