"""Per-cycle cost of each agent source: CPU ms per cycle, so the costly ones show.

Usage: .venv/bin/python bench/agent_sources.py [N]

Each source runs once cold (first call: caches fill, samplers warm up), then
N times warm, as the resident loop would call it each cycle. CPU is
time.process_time() for the agent's own process plus os.times() children time
for the tools it runs (journalctl, systemd-analyze, ...); wall time is shown
too because a source may wait (the responsiveness warm-up sleeps once).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kitlife.agent.cycle import default_sources, run_source
from kitlife.agent.experience import parsers

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def _children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def measure(name: str, fn: object, n: int) -> tuple[float, float, float, float, float]:
    def once() -> tuple[float, float, float]:
        c0, k0, w0 = time.process_time(), _children_cpu(), time.perf_counter()
        run_source(name, fn)  # type: ignore[arg-type]
        return (
            time.process_time() - c0,
            _children_cpu() - k0,
            time.perf_counter() - w0,
        )

    cold_cpu, cold_kids, _ = once()
    cpu = kids = wall = 0.0
    for _ in range(n):
        a, b, c = once()
        cpu, kids, wall = cpu + a, kids + b, wall + c
    return cold_cpu + cold_kids, cpu / n, kids / n, wall / n, n


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    sources = default_sources(cpu_interval_s=None)
    print(f"{n} warm runs per source on {sys.platform}; CPU ms per cycle")
    heads = ("cold ms", "own ms", "tools ms", "total ms", "wall ms")
    print(f"{'source':<16}" + "".join(f"{h:>10}" for h in heads))
    for name, fn in sources.items():
        cold, own, kids, wall, _ = measure(name, fn, n)
        print(
            f"{name:<16}{cold * 1e3:>10.2f}{own * 1e3:>10.2f}{kids * 1e3:>10.2f}"
            f"{(own + kids) * 1e3:>10.2f}{wall * 1e3:>10.2f}"
        )


def parser_costs(n: int) -> None:
    """The parsers on captured output scaled to a busy month, for the tools this host lacks."""
    events = "".join(
        (FIXTURES / "winevent" / f).read_text()
        for f in ("system_reliability.xml", "application_crashes.xml")
    )
    cases = {
        "win events x50 (350 ev)": (parsers.parse_win_events, events * 50),
        "systemd-analyze": (
            parsers.parse_systemd_analyze,
            (FIXTURES / "systemd_analyze" / "arch_vm_2022.txt").read_text(),
        ),
        "list-boots (4 boots)": (
            parsers.parse_list_boots,
            (FIXTURES / "journal" / "list_boots_systemd_testsuite04.json").read_text(),
        ),
        "psi cpu": (parsers.parse_psi, (FIXTURES / "psi" / "cpu").read_text()),
    }
    print(f"\nparsers, CPU ms per call over {n} calls")
    for name, (fn, text) in cases.items():
        t0 = time.process_time()
        for _ in range(n):
            fn(text)  # type: ignore[operator]
        print(f"{name:<28}{(time.process_time() - t0) / n * 1e3:>10.3f}")


if __name__ == "__main__":
    main()
    parser_costs(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
