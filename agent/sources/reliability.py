"""Reliability: unexpected shutdowns, OS crashes, application crashes and hangs, as counts.

Why: a laptop that crashes or loses its work is the second thing users
complain about, and counts per day show it without reading anyone's files.
Only counts leave the laptop; the base names of crashing executables (never
paths) are added only when the admin sets ``report_crash_names``.

Sources of truth: Windows System and Application event logs (Kernel-Power 41,
EventLog 6008, bugcheck 1001, Application Error 1000, Application Hang 1002);
the Linux journal (a boot whose predecessor did not end with shutdown messages)
plus systemd-coredump and the pstore archive of kernel panics; the macOS
unified log's "Previous shutdown cause" and DiagnosticReports file counts.

The event logs are read at most every ``refresh_s`` (15 minutes); between
refreshes the cached counts are repeated, so the tools never run every cycle.
Past boots never change, so each one's verdict is cached by boot id.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

from kitlife.agent.commands import Output, run
from kitlife.agent.experience import parsers
from kitlife.agent.readings import SourceResult

Runner = Callable[[list[str]], Output]
DAY_S = 86400
WINDOWS = {"24h": DAY_S, "30d": 30 * DAY_S}


class ReliabilitySource:
    def __init__(
        self,
        runner: Runner = run,
        platform: str = sys.platform,
        root: Path = Path("/"),
        home: Path | None = None,
        report_crash_names: bool = False,
        refresh_s: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.runner = runner
        self.platform = platform
        self.root = root
        self.home = home if home is not None else Path.home()
        self.report_crash_names = report_crash_names
        self.refresh_s = refresh_s
        self.clock = clock
        self._boot_clean: dict[str, bool | None] = {}
        self._cached: tuple[float, SourceResult] | None = None

    # -- per platform: fill ``result`` for the window [now - 30 d, now) ------------------------
    def _linux(self, result: SourceResult, now: float) -> None:
        boots_out = self.runner(["journalctl", "--list-boots", "-o", "json", "--no-pager"])
        boots = parsers.parse_list_boots(boots_out.text) if boots_out.ok else []
        if not boots_out.ok:
            result.missing(f"journal unreadable ({boots_out.reason})", "shutdowns")
        elif len(boots) < 2:
            result.missing("the journal holds no previous boot (volatile journal?)", "shutdowns")
        else:
            followed_unclean: list[float] = []
            for before, after in itertools.pairwise(boots):
                if after.first_s < now - WINDOWS["30d"]:
                    continue
                if before.boot_id not in self._boot_clean:
                    tail = self.runner(
                        ["journalctl", "-b", before.boot_id, "-n", "30", "-o", "json", "--no-pager"]
                    )
                    self._boot_clean[before.boot_id] = (
                        parsers.boot_ended_cleanly(tail.text) if tail.ok else None
                    )
                if self._boot_clean[before.boot_id] is False:
                    followed_unclean.append(after.first_s)
            for label, span in WINDOWS.items():
                n = sum(1 for t in followed_unclean if now - span <= t <= now)
                result.add(f"rel.unexpected_shutdowns_{label}", n)
        self._linux_panics(result, now)
        dumps = self.runner(
            [
                "coredumpctl",
                "list",
                "--json=short",
                "--no-pager",
                f"--since=@{int(now) - WINDOWS['30d']}",
            ]
        )
        if dumps.ok or "No coredumps found" in (dumps.text + dumps.reason):
            self._count_crashes(result, parsers.parse_coredumpctl(dumps.text), now)
        else:
            result.missing(f"coredumps unreadable ({dumps.reason})", "app-crashes")
        result.missing("Linux keeps no record of applications that stopped responding", "hangs")

    def _linux_panics(self, result: SourceResult, now: float) -> None:
        archive = self.root / "var" / "lib" / "systemd" / "pstore"
        try:
            entries = [p.stat().st_mtime for p in archive.iterdir()]
        except OSError:
            result.missing("no pstore archive: kernel panics are not recorded here", "os-crashes")
            return
        for label, span in WINDOWS.items():
            result.add(f"rel.os_crashes_{label}", sum(1 for t in entries if now - span <= t <= now))

    def _count_crashes(
        self, result: SourceResult, crashes: list[parsers.Crash], now: float
    ) -> None:
        for label, span in WINDOWS.items():
            result.add(
                f"rel.app_crashes_{label}", sum(1 for c in crashes if now - span <= c.time_s <= now)
            )
        if self.report_crash_names:
            names: dict[str, int] = {}
            for c in crashes:
                if now - DAY_S <= c.time_s <= now and c.exe:
                    names[c.exe] = names.get(c.exe, 0) + 1
            for name, n in sorted(names.items()):
                result.add("rel.app_crashes_by_exe_24h", n, name)

    def _windows(self, result: SourceResult, now: float) -> None:
        span_ms = WINDOWS["30d"] * 1000
        system = self.runner(
            [
                "wevtutil",
                "qe",
                "System",
                f"/q:*[System[(EventID=41 or EventID=6008 or EventID=1001) and "
                f"TimeCreated[timediff(@SystemTime) <= {span_ms}]]]",
                "/f:xml",
            ]
        )
        app = self.runner(
            [
                "wevtutil",
                "qe",
                "Application",
                f"/q:*[System[(EventID=1000 or EventID=1002) and "
                f"TimeCreated[timediff(@SystemTime) <= {span_ms}]]]",
                "/f:xml",
            ]
        )
        if not system.ok:
            result.missing(f"System event log unreadable ({system.reason})", "shutdowns")
        if not app.ok:
            result.missing(f"Application event log unreadable ({app.reason})", "app-crashes")
        events = parsers.parse_win_events(system.text + app.text)
        for label, span in WINDOWS.items():
            counts = parsers.windows_reliability(events, now - span, now + 1)
            if system.ok:
                result.add(f"rel.unexpected_shutdowns_{label}", counts.unexpected_shutdowns)
                result.add(f"rel.os_crashes_{label}", counts.os_crashes)
            if app.ok:
                result.add(f"rel.app_crashes_{label}", counts.app_crashes)
                if label == "24h":
                    result.add("rel.app_hangs_24h", counts.app_hangs)
                    if self.report_crash_names:
                        for name, n in sorted(counts.crash_exes.items()):
                            result.add("rel.app_crashes_by_exe_24h", n, name)

    def _macos(self, result: SourceResult, now: float) -> None:
        log = self.runner(
            [
                "log",
                "show",
                "--last",
                "30d",
                "--style",
                "syslog",
                "--predicate",
                'eventMessage CONTAINS "Previous shutdown cause"',
            ]
        )
        if log.ok:
            causes = parsers.macos_shutdown_causes(log.text)
            for label, span in WINDOWS.items():
                n = sum(
                    1
                    for t, code in causes
                    if now - span <= t <= now and code not in parsers.CLEAN_SHUTDOWN_CAUSES
                )
                result.add(f"rel.unexpected_shutdowns_{label}", n)
        else:
            result.missing(f"unified log unreadable ({log.reason})", "shutdowns")
        # DiagnosticReports: file COUNTS by kind; names and contents are never read or sent.
        stamps: dict[str, list[float]] = {"crash": [], "hang": [], "panic": []}
        folders = [
            self.root / "Library" / "Logs" / "DiagnosticReports",
            self.home / "Library" / "Logs" / "DiagnosticReports",
        ]
        readable = False
        for folder in folders:
            try:
                files = list(folder.iterdir())
            except OSError:
                continue
            readable = True
            for f in files:
                kind = _report_kind(f.name)
                if kind:
                    try:
                        stamps[kind].append(f.stat().st_mtime)
                    except OSError:
                        continue
        if not readable:
            result.missing("DiagnosticReports not readable", "app-crashes")
            return
        for label, span in WINDOWS.items():
            result.add(
                f"rel.app_crashes_{label}", sum(1 for t in stamps["crash"] if now - span <= t)
            )
            result.add(
                f"rel.os_crashes_{label}", sum(1 for t in stamps["panic"] if now - span <= t)
            )
        result.add("rel.app_hangs_24h", sum(1 for t in stamps["hang"] if now - DAY_S <= t))

    def collect(self) -> SourceResult:
        now = self.clock()
        if self._cached is not None and 0 <= now - self._cached[0] < self.refresh_s:
            return self._cached[1]
        result = SourceResult("reliability")
        if self.platform.startswith("linux"):
            self._linux(result, now)
        elif self.platform == "win32":
            self._windows(result, now)
        elif self.platform == "darwin":
            self._macos(result, now)
        else:
            result.missing(f"reliability records not supported on {self.platform}")
        self._cached = (now, result)
        return result


def _report_kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".panic") or lower.startswith(("kernel", "panic-full")):
        return "panic"
    if lower.endswith(".hang"):
        return "hang"
    if lower.endswith((".ips", ".crash")):
        return "crash"
    return None


_SOURCES: dict[bool, ReliabilitySource] = {}


def collect_reliability(report_crash_names: bool = False) -> SourceResult:
    """The process-wide source for this setting (caches survive between cycles)."""
    if report_crash_names not in _SOURCES:
        _SOURCES[report_crash_names] = ReliabilitySource(report_crash_names=report_crash_names)
    return _SOURCES[report_crash_names].collect()
