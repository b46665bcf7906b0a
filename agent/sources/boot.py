"""Boot duration and login-to-usable time, as the OS itself recorded them.

Why: a long boot is the first minute of a user's day, every day. The OS keeps
the figure (systemd-analyze, the Windows Diagnostics-Performance event 100,
macOS kern.boottime and the loginwindow start in the unified log); this source
only reads it. The answer cannot change until the next boot, so it is cached
per boot and the tools run once per boot, not once per cycle.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import psutil

from kitlife.agent.commands import Output, run
from kitlife.agent.experience import parsers
from kitlife.agent.readings import SourceResult

Runner = Callable[[list[str]], Output]


def _linux(runner: Runner) -> tuple[parsers.BootTimes | None, str]:
    out = runner(["systemd-analyze", "time"])
    if not out.ok:
        return None, out.reason
    times = parsers.parse_systemd_analyze(out.text)
    if times is None:
        return None, "boot not finished yet, or systemd-analyze output unparseable"
    return times, ""


def _windows(runner: Runner) -> tuple[parsers.BootTimes | None, str]:
    out = runner(
        [
            "wevtutil",
            "qe",
            "Microsoft-Windows-Diagnostics-Performance/Operational",
            "/q:*[System[(EventID=100)]]",
            "/c:1",
            "/rd:true",
            "/f:xml",
        ]
    )
    if not out.ok:
        return None, f"boot performance log unreadable ({out.reason})"
    times = parsers.windows_boot_times(parsers.parse_win_events(out.text))
    if times is None:
        return None, "no boot performance event (event 100) recorded"
    return times, ""


def _macos(runner: Runner) -> tuple[parsers.BootTimes | None, str]:
    out = runner(["sysctl", "kern.boottime"])
    boottime = parsers.parse_kern_boottime(out.text) if out.ok else None
    if boottime is None:
        return None, out.reason or "kern.boottime unparseable"
    log = runner(
        [
            "log",
            "show",
            "--style",
            "syslog",
            "--start",
            _log_time(boottime),
            "--end",
            _log_time(boottime + 900),
            "--predicate",
            'process == "loginwindow" AND eventMessage CONTAINS "Login Window Application Started"',
        ]
    )
    if not log.ok:
        return None, f"unified log unreadable ({log.reason})"
    times = parsers.macos_boot_times(boottime, log.text)
    if times is None:
        return None, "no login window start after the boot in the log (or the clock stepped)"
    return times, ""


def _log_time(t: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


class BootSource:
    """Reads the boot record once per boot (keyed by the OS boot time) and repeats it."""

    def __init__(self, runner: Runner = run, platform: str = sys.platform) -> None:
        self.runner = runner
        self.platform = platform
        self._cache: tuple[float, parsers.BootTimes | None, str] | None = None

    def _read(self) -> tuple[parsers.BootTimes | None, str]:
        if self.platform.startswith("linux"):
            return _linux(self.runner)
        if self.platform == "win32":
            return _windows(self.runner)
        if self.platform == "darwin":
            return _macos(self.runner)
        return None, f"boot duration not supported on {self.platform}"

    def collect(self) -> SourceResult:
        result = SourceResult("boot")
        try:
            booted = psutil.boot_time()
        except (OSError, RuntimeError):
            booted = 0.0
        if self._cache is None or self._cache[0] != booted:
            times, reason = self._read()
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


_BOOT = BootSource()


def collect_boot() -> SourceResult:
    return _BOOT.collect()
