"""CPU, memory, swap, system volume, boot time and basic inventory, from psutil."""

from __future__ import annotations

import platform
import socket
import time

import psutil

from kitlife.agent.readings import SourceResult


def collect_system(cpu_interval_s: float | None = None, system_volume: str = "/") -> SourceResult:
    """One sample of CPU, memory, swap and the system volume.

    ``system_volume`` is the volume the OS lives on (the platform's); no other
    mount point (and no path) is reported.

    ``cpu_interval_s=None`` measures CPU busy share since the previous call
    (what the service loop wants: no extra sleep); a number blocks that long
    (what a one-shot run wants).
    """
    result = SourceResult("system")
    try:
        result.add("cpu.busy_pct", psutil.cpu_percent(interval=cpu_interval_s))
        result.add("cpu.count_logical", psutil.cpu_count(logical=True))
        vm = psutil.virtual_memory()
        result.add("mem.total_bytes", vm.total)
        result.add("mem.available_bytes", vm.available)
        result.add("mem.used_pct", vm.percent)
        sw = psutil.swap_memory()
        result.add("swap.total_bytes", sw.total)
        result.add("swap.used_pct", sw.percent)
        boot = psutil.boot_time()
        result.add("boot.time_s", int(boot))
        result.add("uptime_s", max(0, int(time.time() - boot)))
        if hasattr(psutil, "getloadavg"):
            result.add("cpu.load1", psutil.getloadavg()[0])
    except (OSError, RuntimeError) as err:
        result.missing(f"psutil failed: {err}")
    try:
        du = psutil.disk_usage(system_volume)
        result.add("disk.total_bytes", du.total)
        result.add("disk.used_pct", du.percent)
    except OSError as err:
        result.missing(f"system volume unreadable: {err.strerror or err}", "system-volume")
    return result


def collect_basic_inventory() -> SourceResult:
    """What the OS says of itself without privileges; the hardware module adds more."""
    result = SourceResult("os")
    result.add("inv.hostname", socket.gethostname()[:255])
    result.add("inv.os_name", platform.system())
    result.add("inv.os_version", platform.release())
    result.add("inv.machine", platform.machine())
    cpu = platform.processor()
    if cpu:
        result.add("inv.cpu_model", cpu[:255])
    try:
        cores = psutil.cpu_count(logical=False)
        result.add("inv.cpu_cores", cores)
    except (OSError, RuntimeError) as err:
        result.missing(f"cpu count: {err}")
    return result
