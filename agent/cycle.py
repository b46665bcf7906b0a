"""One collection cycle: run the due sources, add the agent's own cost, spool it all."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping

import psutil

from kitlife.agent.readings import SourceResult
from kitlife.agent.spool import Spool

log = logging.getLogger(__name__)

SourceFn = Callable[[], SourceResult]


def run_source(name: str, fn: SourceFn) -> SourceResult:
    """Run one source; a bug in it becomes an unavailable reason, not a dead agent."""
    try:
        return fn()
    except Exception as err:  # a broken sensor must never stop the cycle
        log.exception("source %s failed", name)
        result = SourceResult(name)
        result.missing(f"source failed: {type(err).__name__}")
        return result


_ME: list[psutil.Process] = []


def self_cost(spool: Spool) -> SourceResult:
    """What the agent itself costs the laptop, so the fleet view can show it.

    The Process handle is made once per process (building one reads
    ``/proc/self/stat`` for its start time), not once per cycle.
    """
    result = SourceResult("agent")
    if not _ME or _ME[0].pid != os.getpid():
        _ME[:] = [psutil.Process()]
    me = _ME[0]
    result.add("agent.rss_bytes", me.memory_info().rss)
    times = me.cpu_times()
    result.add("agent.cpu_s", round(times.user + times.system, 2))
    result.add("agent.spool_dropped_total", spool.meta_int("dropped_points"))
    return result


def default_sources(
    cpu_interval_s: float | None, report_crash_names: bool = False
) -> dict[str, SourceFn]:
    """Every declared source, for one-shot runs (``once``, ``show``).

    Imported here, not at module level: the service loop imports this module
    for :func:`collect_into` and starts only its loop sources.
    """
    from kitlife.agent.platforms import current_platform
    from kitlife.agent.sources.table import Options, start_sources

    return start_sources(current_platform(), Options(report_crash_names, cpu_interval_s))


def collect_into(
    spool: Spool,
    sources: dict[str, SourceFn],
    names: Iterable[str] | None = None,
    now_s: int | None = None,
    meta: Mapping[str, str | int | float] | None = None,
) -> list[SourceResult]:
    """Run the named sources (all by default) and store their results in one commit.

    ``meta`` (the loop's schedule) rides in the same commit: one fsync per cycle.
    """
    chosen = list(names) if names is not None else list(sources)
    results = [run_source(n, sources[n]) for n in chosen]
    results.append(self_cost(spool))
    spool.add(results, int(time.time()) if now_s is None else now_s, meta)
    return results
