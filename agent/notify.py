"""A desktop notification asking for a rating, with the tool the platform names.

The command for each OS is :meth:`Platform.notification_command` (notify-send,
osascript, a PowerShell toast), built without running anything so it is tested
without a desktop; :func:`notify` runs it and reports whether it worked. The
text is fixed by the agent, but each builder still escapes it for its target so
that no quote can break out.
"""

from __future__ import annotations

from collections.abc import Callable

from kitlife.agent.commands import Output, run
from kitlife.agent.platforms import Platform

TITLE = "How is your laptop?"
BODY = (
    "Rate it from 1 to 5: run `kitlife-agent feedback SCORE --reason slow|battery|crashes|"
    "heat-noise|screen-keyboard|storage|other`."
)


def notify(platform: Platform, runner: Callable[[list[str]], Output] = run) -> bool:
    """Show the rating prompt; False when there is no way to (no desktop, tool missing)."""
    return runner(platform.notification_command(TITLE, BODY)).ok
