"""The frozen agent's entry script: ``kitlife-agent`` as PyInstaller builds it.

The service starts its children as ``sys.executable -m kitlife.agent.childjob
...`` (see :mod:`kitlife.agent.service`). In a frozen build ``sys.executable``
is this program, not a Python interpreter, so it must understand that command
line itself: ``-m MODULE ARGS`` runs ``MODULE`` as ``__main__`` exactly as
``python -m`` would, for modules of :mod:`kitlife.agent` only (the children and
the Windows service host), so the frozen agent is no general interpreter.
Everything else is the ordinary ``kitlife-agent`` entry point.
"""

from __future__ import annotations

import runpy
import sys

# What ``-m`` may run: the agent's own modules, nothing else.
RUNNABLE_PREFIX = "kitlife.agent."


def runnable_module(argv: list[str]) -> str | None:
    """The module ``argv`` asks to run as ``-m MODULE ...``, or None for an ordinary command."""
    if len(argv) >= 2 and argv[0] == "-m" and argv[1].startswith(RUNNABLE_PREFIX):
        return argv[1]
    return None


def main() -> None:
    module = runnable_module(sys.argv[1:])
    if module is None:
        from kitlife.agent.entry import main as agent_main

        agent_main()
        return
    # As `python -m`: argv[0] is the module's name, its own arguments follow.
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
