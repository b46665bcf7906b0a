"""One small interface per OS: each platform fills a SourceResult from its own commands.

OS calls stay thin here; all parsing lives in :mod:`kitlife.agent.parsers` as
pure functions tested on captured output. ``current_platform()`` picks the
implementation once per process.
"""

from __future__ import annotations

import functools
import sys
from typing import Protocol

from kitlife.agent.readings import SourceResult


class Platform(Protocol):
    """What :mod:`kitlife.agent.sources.hardware` needs from an OS."""

    name: str

    def battery(self, out: SourceResult) -> None: ...

    def storage(self, out: SourceResult) -> None: ...

    def thermal(self, out: SourceResult) -> None: ...

    def inventory(self, out: SourceResult) -> None: ...


@functools.cache
def current_platform() -> Platform:
    """The platform for this OS, built once."""
    if sys.platform == "darwin":
        from kitlife.agent.platforms.macos import MacOS

        return MacOS()
    if sys.platform == "win32":
        from kitlife.agent.platforms.windows import Windows

        return Windows()
    from kitlife.agent.platforms.linux import Linux

    return Linux()
