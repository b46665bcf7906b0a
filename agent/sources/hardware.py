"""Hardware health sources: battery, storage, thermal and inventory.

Each ``collect_*`` asks the platform to fill a SourceResult and never raises:
whatever escapes the platform becomes ``unavailable`` with a reason, so one
broken command costs one source one cycle. ``SOURCES`` tells the scheduler how
often each is worth running (inventory rarely changes; thermal rides with battery).
"""

from __future__ import annotations

from collections.abc import Callable

from kitlife.agent.commands import CommandError
from kitlife.agent.parsers._common import ParseError
from kitlife.agent.platforms import Platform
from kitlife.agent.readings import SourceResult

CADENCE_S: dict[str, int] = {
    "inventory": 86400,
    "storage": 4 * 3600,
    "battery": 3600,
    # Hourly, beside battery, in the same probe child: the throttle counters are
    # cumulative, so an hourly reading loses no event; a faster cadence would
    # start a Python child every minute (about 150 ms of CPU each time).
    "thermal": 3600,
}


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


SOURCES: dict[str, tuple[Callable[[Platform], SourceResult], int]] = {
    "battery": (collect_battery, CADENCE_S["battery"]),
    "storage": (collect_storage, CADENCE_S["storage"]),
    "thermal": (collect_thermal, CADENCE_S["thermal"]),
    "inventory": (collect_inventory, CADENCE_S["inventory"]),
}
