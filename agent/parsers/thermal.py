"""Linux CPU thermal-throttle counters from sysfs.

``/sys/devices/system/cpu/cpu*/thermal_throttle/{core,package}_throttle_count``
count how often the CPU slowed itself down for heat since boot: a clogged fan or
dried thermal paste shows up here long before a user complains.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(slots=True)
class Throttle:
    core_total: int
    package_total: int | None
    cpus: int


def read_throttle(root: Path = Path("/")) -> Throttle | None:
    """Sum the counters over CPUs; None when the kernel exposes none (VMs, ARM)."""
    base = root / "sys" / "devices" / "system" / "cpu"
    core = cpus = 0
    package: dict[str, int] = {}
    if not base.is_dir():
        return None
    for cpu in sorted(base.glob("cpu[0-9]*")):
        tt = cpu / "thermal_throttle"
        if not tt.is_dir():
            continue
        try:
            core += int((tt / "core_throttle_count").read_text().strip())
            cpus += 1
        except (OSError, ValueError):
            continue
        try:
            # Package counters repeat on every CPU of the package; keep one per package.
            pkg_id = (cpu / "topology" / "physical_package_id").read_text().strip()
        except OSError:
            pkg_id = "0"
        with contextlib.suppress(OSError, ValueError):
            package[pkg_id] = int((tt / "package_throttle_count").read_text().strip())
    if cpus == 0:
        return None
    return Throttle(core, sum(package.values()) if package else None, cpus)
