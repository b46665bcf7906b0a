"""One interface per OS, chosen once: every OS branch of the agent is behind it.

``current_platform()`` picks :class:`~kitlife.agent.platforms.linux.Linux`,
:class:`~kitlife.agent.platforms.macos.MacOS` or
:class:`~kitlife.agent.platforms.windows.Windows` from ``sys.platform``; this is
the only place the agent looks at ``sys.platform``. A platform module holds the
thin OS calls and the file and command readers for its OS; everything that
turns their output into facts is a pure function in :mod:`kitlife.agent.parsers`
or :mod:`kitlife.agent.experience.parsers`.

Two kinds of callers use a platform:

* the experience sources, resident in the service loop: :meth:`Platform.boot_times`,
  :meth:`Platform.reliability`, :meth:`Platform.stall_counters`,
  :meth:`Platform.input_idle_s`; and the rating prompt's
  :meth:`Platform.notification_command`;
* the hardware sources, in a short-lived child: :meth:`Platform.battery`,
  :meth:`Platform.storage`, :meth:`Platform.thermal`, :meth:`Platform.inventory`.

The hardware methods import their parsers when called, so the resident loop,
which only calls the first kind, never loads them (docs/agent.md, memory).
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kitlife.agent.experience.parsers import BootTimes, Pressure
    from kitlife.agent.readings import SourceResult

DAY_S = 86400
# The windows the reliability counts cover, by the suffix of their metric names.
RELIABILITY_WINDOWS_S: dict[str, int] = {"24h": DAY_S, "30d": 30 * DAY_S}


@dataclass(frozen=True, slots=True)
class StallCounters:
    """Cumulative kernel counters the responsiveness sampler turns into deltas.

    Empty (and ``throttle_ms`` None) where the OS keeps no such counters: only
    Linux has PSI, per-disk busy time and throttle time in files a user can read.
    """

    pressure: dict[str, dict[str, Pressure]] = field(default_factory=dict)
    disk_busy_ms: dict[str, int] = field(default_factory=dict)
    throttle_ms: int | None = None


class Platform(Protocol):
    """What the sources need from an OS."""

    name: str
    # The volume the OS lives on, for disk usage (no other mount point is reported).
    system_volume: str

    def default_state_dir(self) -> Path: ...

    def config_path(self) -> Path: ...

    # -- experience, in the resident loop -----------------------------------------------
    def boot_times(self) -> tuple[BootTimes | None, str]:
        """The last boot's durations as the OS recorded them, or None and the reason."""
        ...

    def reliability(self, out: SourceResult, now_s: float, report_crash_names: bool) -> None:
        """Fill ``rel.*`` counts for :data:`RELIABILITY_WINDOWS_S` ending at ``now_s``."""
        ...

    def stall_counters(self) -> StallCounters: ...

    def input_idle_s(self) -> tuple[float | None, str]:
        """Seconds since the last keyboard or pointer input, or None and the reason."""
        ...

    def notification_command(self, title: str, body: str) -> list[str]: ...

    # -- hardware, in a child -----------------------------------------------------------
    def battery(self, out: SourceResult) -> None: ...

    def storage(self, out: SourceResult) -> None: ...

    def thermal(self, out: SourceResult) -> None: ...

    def inventory(self, out: SourceResult) -> None: ...


def platform_for(system: str) -> Platform:
    """The platform for a ``sys.platform`` value; anything not macOS or Windows is Linux."""
    if system == "darwin":
        from kitlife.agent.platforms.macos import MacOS

        return MacOS()
    if system == "win32":
        from kitlife.agent.platforms.windows import Windows

        return Windows()
    from kitlife.agent.platforms.linux import Linux

    return Linux()


@functools.cache
def current_platform() -> Platform:
    """This machine's platform, built once per process."""
    return platform_for(sys.platform)
