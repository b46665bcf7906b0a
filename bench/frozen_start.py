"""Size and start time of the frozen agent, onedir against onefile.

Builds both with :mod:`kitlife.installers.freeze` and times, per build,
``kitlife-agent --version`` and a child start as the service makes it
(``-m kitlife.agent.childjob list-sources``). Warm: median of ``--runs``
after one unmeasured run. Cold: the first run after dropping the page cache
(root only; otherwise "-").

Usage: ``python bench/frozen_start.py [--runs 10]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from kitlife.installers.freeze import freeze

COMMANDS = {
    "--version": ["--version"],
    "child start": ["-m", "kitlife.agent.childjob", "list-sources"],
}


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def once_s(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - start


def drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True, timeout=60)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        builds = {}
        for kind, onefile in (("onedir", False), ("onefile", True)):
            start = time.perf_counter()
            built = freeze(base / kind / "dist", base / kind / "work", onefile=onefile)
            exe = built if onefile else built / "kitlife-agent"
            builds[kind] = (built, exe, time.perf_counter() - start)
        print("| build | size | build time | command | cold start | warm start (median) |")
        print("|---|---|---|---|---|---|")
        for kind, (built, exe, build_s) in builds.items():
            for name, extra in COMMANDS.items():
                argv = [str(exe), *extra]
                cold = f"{once_s(argv) * 1000:.0f} ms" if drop_caches() else "-"
                once_s(argv)
                warm = statistics.median(once_s(argv) for _ in range(args.runs))
                print(
                    f"| {kind} | {size_mb(built):.1f} MB | {build_s:.0f} s | `{name}` "
                    f"| {cold} | {warm * 1000:.0f} ms |"
                )


if __name__ == "__main__":
    main()
