"""Reliability: unexpected shutdowns, OS crashes, application crashes and hangs, as counts.

Why: a laptop that crashes or loses its work is the second thing users
complain about, and counts per day show it without reading anyone's files.
Only counts leave the laptop; the base names of crashing executables (never
paths) are added only when the admin sets ``report_crash_names``.

Sources of truth: Windows System and Application event logs (Kernel-Power 41,
EventLog 6008, bugcheck 1001, Application Error 1000, Application Hang 1002);
the Linux journal (a boot whose predecessor did not end with shutdown messages)
plus systemd-coredump and the pstore archive of kernel panics; the macOS
unified log's "Previous shutdown cause" and DiagnosticReports file counts. Each OS's
reading and counting is its platform's :meth:`~kitlife.agent.platforms.Platform.reliability`.

The event logs are read at most every ``refresh_s`` (15 minutes); between
refreshes the cached counts are repeated, so the tools never run every cycle.
Past boots never change, so each one's verdict is cached by boot id.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kitlife.agent.platforms import Platform
from kitlife.agent.readings import SourceResult


class ReliabilitySource:
    """The platform's counts, refreshed at most every ``refresh_s`` and repeated between."""

    def __init__(
        self,
        platform: Platform,
        report_crash_names: bool = False,
        refresh_s: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.platform = platform
        self.report_crash_names = report_crash_names
        self.refresh_s = refresh_s
        self.clock = clock
        self._cached: tuple[float, SourceResult] | None = None

    def collect(self) -> SourceResult:
        now = self.clock()
        if self._cached is not None and 0 <= now - self._cached[0] < self.refresh_s:
            return self._cached[1]
        result = SourceResult("reliability")
        self.platform.reliability(result, now, self.report_crash_names)
        self._cached = (now, result)
        return result
