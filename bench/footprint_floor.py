"""The floor under ``kitlife-agent run``: the resident loop's imports, and no work.

``bench/agent_footprint.py`` runs this beside the agent so that the loop's own
cost shows against what the interpreter and the loop's module set cost by
themselves. It imports what the running loop imports (the service module, the
entry point's config loader and logging, and the samplers the loop starts,
which pull in psutil and the platform module), then wakes once per interval
on a :class:`threading.Event`, as the loop does, and goes back to sleep. No
sampling, no spool, no child; start-up garbage is handed back to the OS once,
as the loop does after its first cycle.

Run frozen (built by the benchmark with the agent's own PyInstaller options)
or by the agent's interpreter: ``footprint_floor.py [INTERVAL_S]``.
"""

from __future__ import annotations

import logging
import sys
import threading


def main() -> None:
    interval_s = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    # The same imports as kitlife.agent.entry's fast path and the loop it starts.
    from kitlife.agent.config import load_config  # noqa: F401
    from kitlife.agent.platforms import current_platform
    from kitlife.agent.service import declared_sources, release_memory

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Starting the samplers imports what sampling needs; none of them is called.
    declared_sources(current_platform())
    # The loop hands its start-up garbage back once too (after its first cycle).
    release_memory()
    wake = threading.Event()
    while not wake.wait(interval_s):
        pass


if __name__ == "__main__":
    main()
