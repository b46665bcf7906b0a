"""Hardware health sources: battery, storage, thermal and inventory.

Each ``collect_*`` asks the platform to fill a SourceResult and never raises:
whatever escapes the platform becomes ``unavailable`` with a reason, so one
broken command costs one source one cycle. How often each runs, and where, is
declared in :mod:`kitlife.agent.sources.table`. They run in the upload child,
never in the resident loop: this module imports the parsers' error type, and the
platform's hardware methods import the parsers.
"""

from __future__ import annotations

from collections.abc import Callable

from kitlife.agent.commands import CommandError
from kitlife.agent.parsers._common import ParseError
from kitlife.agent.platforms import Platform
from kitlife.agent.readings import SourceResult


def _collect(source: str, fill: Callable[[SourceResult], None]) -> SourceResult:
    out = SourceResult(source)
    try:
        fill(out)
    except CommandError as exc:
        out.missing(exc.reason)
    except ParseError as exc:
        out.missing(f"unparseable ({exc})")
    except PermissionError:
        out.missing("permission denied")
    except Exception as exc:  # a source must never take the cycle down
        out.missing(f"error ({type(exc).__name__}: {str(exc)[:120]})")
    return out


def collect_battery(platform: Platform) -> SourceResult:
    return _collect("battery", platform.battery)


def collect_storage(platform: Platform) -> SourceResult:
    return _collect("storage", platform.storage)


def collect_thermal(platform: Platform) -> SourceResult:
    return _collect("thermal", platform.thermal)


def collect_inventory(platform: Platform) -> SourceResult:
    return _collect("inventory", platform.inventory)
