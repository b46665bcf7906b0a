"""Every source the agent has, with its cadence and where it runs: one declared table.

Nothing is discovered: a source exists because it is a row here, and the loop,
the upload child and the one-shot commands (``once``, ``show``) all read this
table. ``start`` builds the source's collect function for one process, on that
process's platform: a stateful sampler (CPU and disk deltas, the boot cache,
the reliability refresh) lives as long as the function it returns.

Where a source runs:

* ``LOOP``: in the resident loop, every ``cadence_s`` (None: every sampling
  interval). Light and cheap: psutil, a few /proc reads, OS logs cached.
* ``CHILD``: hardware probes, run in the hourly upload child when due (so at
  most one Python start an hour in steady state). Their modules import parsers
  and run smartctl, upower, dmidecode, PowerShell: nothing the loop should hold.
  Their rows import :mod:`kitlife.agent.sources.hardware` only when started.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial

from kitlife.agent.platforms import Platform
from kitlife.agent.readings import SourceResult
from kitlife.agent.sources.boot import BootSource
from kitlife.agent.sources.reliability import ReliabilitySource
from kitlife.agent.sources.responsiveness import ResponsivenessSampler
from kitlife.agent.sources.system import collect_basic_inventory, collect_system
from kitlife.agent.sources.use import UseSampler

SourceFn = Callable[[], SourceResult]


class Where(Enum):
    LOOP = "loop"
    CHILD = "child"


@dataclass(frozen=True, slots=True)
class Options:
    """What a source may need from the configuration or the caller."""

    report_crash_names: bool = False
    # None: CPU share since the previous call (the loop, no extra sleep);
    # seconds: block that long for a share (a one-shot run has no previous call).
    cpu_interval_s: float | None = None


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    cadence_s: float | None  # None: every sampling interval (sample_interval_s)
    where: Where
    start: Callable[[Platform, Options], SourceFn]


def _hardware(kind: str) -> Callable[[Platform, Options], SourceFn]:
    def start(platform: Platform, options: Options) -> SourceFn:
        from kitlife.agent.sources import hardware  # child only: keeps parsers out of the loop

        collect: dict[str, Callable[[Platform], SourceResult]] = {
            "battery": hardware.collect_battery,
            "storage": hardware.collect_storage,
            "thermal": hardware.collect_thermal,
            "inventory": hardware.collect_inventory,
        }
        return partial(collect[kind], platform)

    return start


SOURCES: tuple[Source, ...] = (
    Source(
        "system",
        None,
        Where.LOOP,
        lambda p, o: partial(collect_system, o.cpu_interval_s, p.system_volume),
    ),
    # OS family, release, host name, cores: they rarely change.
    Source("os", 86400.0, Where.LOOP, lambda p, o: collect_basic_inventory),
    # The experience samplers keep state between cycles (deltas, the p95 window,
    # active time), so they live in the loop rather than in a child.
    Source("responsiveness", None, Where.LOOP, lambda p, o: ResponsivenessSampler(p).collect),
    Source("use", None, Where.LOOP, lambda p, o: UseSampler(p).collect),
    # The boot record changes once per boot; the source caches it per boot.
    Source("boot", 3600.0, Where.LOOP, lambda p, o: BootSource(p).collect),
    # Reads the OS logs at most every 15 minutes (the source caches between).
    Source(
        "reliability",
        900.0,
        Where.LOOP,
        lambda p, o: ReliabilitySource(p, o.report_crash_names).collect,
    ),
    # Capacity moves over weeks; on_ac changes are accumulated by the use source.
    Source("battery", 3600.0, Where.CHILD, _hardware("battery")),
    # Throttle counters are cumulative, so an hourly reading loses no event.
    Source("thermal", 3600.0, Where.CHILD, _hardware("thermal")),
    # SMART counters move slowly, and smartctl wakes sleeping disks.
    Source("storage", 4 * 3600.0, Where.CHILD, _hardware("storage")),
    # Identity, OS and firmware rarely change.
    Source("inventory", 86400.0, Where.CHILD, _hardware("inventory")),
)

BY_NAME: dict[str, Source] = {s.name: s for s in SOURCES}


def start_sources(
    platform: Platform, options: Options, where: Where | None = None
) -> dict[str, SourceFn]:
    """Collect functions for the sources that run ``where`` (every source when None)."""
    return {
        s.name: s.start(platform, options) for s in SOURCES if where is None or s.where is where
    }
