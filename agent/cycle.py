"""One collection cycle: run the due sources, add the agent's own cost, spool it all."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping

import psutil

from kitlife.agent.readings import SourceResult
from kitlife.agent.sources.system import collect_basic_inventory, collect_system
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


def self_cost(spool: Spool) -> SourceResult:
    """What the agent itself costs the laptop, so the fleet view can show it."""
    result = SourceResult("agent")
    me = psutil.Process()
    result.add("agent.rss_bytes", me.memory_info().rss)
    times = me.cpu_times()
    result.add("agent.cpu_s", round(times.user + times.system, 2))
    result.add("agent.spool_dropped_total", spool.meta_int("dropped_points"))
    return result


def default_sources(cpu_interval_s: float | None) -> dict[str, SourceFn]:
    return {
        "system": lambda: collect_system(cpu_interval_s),
        "os": collect_basic_inventory,
    }


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
