"""Linux: sysfs and /proc first (no root, no tools), commands only where files have nothing.

Every path hangs off ``root`` and every experience command goes through
``runner``, so tests point the platform at a captured tree and captured output
instead of patching. Hardware parsers are imported inside the hardware methods:
the resident loop calls only the experience readers (see the package docstring).
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kitlife.agent.commands import CommandError, Output, output, run
from kitlife.agent.experience import parsers as xp
from kitlife.agent.paths import is_admin, user_state_dir
from kitlife.agent.platforms import RELIABILITY_WINDOWS_S, StallCounters
from kitlife.agent.readings import SourceResult

if TYPE_CHECKING:
    from kitlife.agent.parsers.battery import BatteryFacts

Runner = Callable[[list[str]], Output]

PSI_RESOURCES = ("cpu", "memory", "io")
# Whole disks only: partitions, loop, RAM and device-mapper devices would double count.
_SKIP_DISKS = ("loop", "ram", "zram", "dm-", "sr", "fd", "md", "nbd")
_SECURE_BOOT_VAR = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


class Linux:
    """All paths hang off ``root``; experience commands go through ``runner``."""

    name = "linux"
    system_volume = "/"

    def __init__(self, root: Path = Path("/"), runner: Runner = run) -> None:
        self.root = root
        self.runner = runner
        # Whether a past boot ended cleanly never changes: asked once per boot id.
        self._boot_clean: dict[str, bool | None] = {}

    # -- folders ----------------------------------------------------------------------
    def default_state_dir(self) -> Path:
        return Path("/var/lib/kitlife") if is_admin() else user_state_dir()

    def config_path(self) -> Path:
        return Path("/etc/kitlife/agent.toml")

    # -- experience -------------------------------------------------------------------
    def boot_times(self) -> tuple[xp.BootTimes | None, str]:
        out = self.runner(["systemd-analyze", "time"])
        if not out.ok:
            return None, out.reason
        times = xp.parse_systemd_analyze(out.text)
        if times is None:
            return None, "boot not finished yet, or systemd-analyze output unparseable"
        return times, ""

    def reliability(self, out: SourceResult, now_s: float, report_crash_names: bool) -> None:
        """Unclean ends of previous boots (journal), pstore panics, coredumps; no hangs."""
        windows = RELIABILITY_WINDOWS_S
        boots_out = self.runner(["journalctl", "--list-boots", "-o", "json", "--no-pager"])
        boots = xp.parse_list_boots(boots_out.text) if boots_out.ok else []
        if not boots_out.ok:
            out.missing(f"journal unreadable ({boots_out.reason})", "shutdowns")
        elif len(boots) < 2:
            out.missing("the journal holds no previous boot (volatile journal?)", "shutdowns")
        else:
            followed_unclean: list[float] = []
            for before, after in itertools.pairwise(boots):
                if after.first_s < now_s - windows["30d"]:
                    continue
                if before.boot_id not in self._boot_clean:
                    tail = self.runner(
                        ["journalctl", "-b", before.boot_id, "-n", "30", "-o", "json", "--no-pager"]
                    )
                    self._boot_clean[before.boot_id] = (
                        xp.boot_ended_cleanly(tail.text) if tail.ok else None
                    )
                if self._boot_clean[before.boot_id] is False:
                    followed_unclean.append(after.first_s)
            for label, span in windows.items():
                n = sum(1 for t in followed_unclean if now_s - span <= t <= now_s)
                out.add(f"rel.unexpected_shutdowns_{label}", n)
        self._panics(out, now_s)
        dumps = self.runner(
            [
                "coredumpctl",
                "list",
                "--json=short",
                "--no-pager",
                f"--since=@{int(now_s) - windows['30d']}",
            ]
        )
        if dumps.ok or "No coredumps found" in (dumps.text + dumps.reason):
            _count_crashes(out, xp.parse_coredumpctl(dumps.text), now_s, report_crash_names)
        else:
            out.missing(f"coredumps unreadable ({dumps.reason})", "app-crashes")
        out.missing("Linux keeps no record of applications that stopped responding", "hangs")

    def _panics(self, out: SourceResult, now_s: float) -> None:
        archive = self.root / "var" / "lib" / "systemd" / "pstore"
        try:
            entries = [p.stat().st_mtime for p in archive.iterdir()]
        except OSError:
            out.missing("no pstore archive: kernel panics are not recorded here", "os-crashes")
            return
        for label, span in RELIABILITY_WINDOWS_S.items():
            out.add(
                f"rel.os_crashes_{label}", sum(1 for t in entries if now_s - span <= t <= now_s)
            )

    def stall_counters(self) -> StallCounters:
        pressure: dict[str, dict[str, xp.Pressure]] = {}
        for res in PSI_RESOURCES:
            text = _read(self.root / "proc" / "pressure" / res)
            if text is not None:
                pressure[res] = xp.parse_psi(text)
        disk_ms: dict[str, int] = {}
        text = _read(self.root / "proc" / "diskstats")
        block = self.root / "sys" / "block"
        for name, ms in (xp.parse_diskstats(text) if text is not None else {}).items():
            if not name.startswith(_SKIP_DISKS) and (block / name).exists():
                disk_ms[name] = ms
        return StallCounters(pressure, disk_ms, self._throttle_ms())

    def _throttle_ms(self) -> int | None:
        cpus = self.root / "sys" / "devices" / "system" / "cpu"
        try:
            entries = list(cpus.glob("cpu[0-9]*/thermal_throttle/core_throttle_total_time_ms"))
        except OSError:
            entries = []
        values = []
        for path in entries:
            text = _read(path)
            if text and text.strip().isdigit():
                values.append(int(text.strip()))
        return max(values) if values else None

    def input_idle_s(self) -> tuple[float | None, str]:
        """logind's seat IdleHint, else xprintidle where there is an X display."""
        out = self.runner(
            ["loginctl", "show-seat", "seat0", "-p", "IdleHint", "-p", "IdleSinceHintMonotonic"]
        )
        if out.ok:
            value = xp.logind_idle_s(out.text, time.monotonic())
            if value is not None:
                return value, ""
        if os.environ.get("DISPLAY"):
            x = self.runner(["xprintidle"])
            if x.ok and x.text.strip().isdigit():
                return int(x.text.strip()) / 1000.0, ""
        return None, f"no idle hint from logind ({out.reason or 'no IdleHint'}) and no X idle time"

    def notification_command(self, title: str, body: str) -> list[str]:
        # notify-send takes the text as plain arguments: no shell, nothing to escape.
        return ["notify-send", "--app-name=kitlife", title, body]

    # -- hardware (in a child) --------------------------------------------------------
    def battery(self, out: SourceResult) -> None:
        from kitlife.agent.parsers.emit import emit_battery
        from kitlife.agent.parsers.sysfs_battery import read_power_supplies

        supplies = read_power_supplies(self.root)
        packs = [b for b in supplies.batteries if b.has_capacity()]
        if not packs:
            packs = self._upower()
        if not packs:
            out.missing("no battery")
            return
        self._firmware_battery_facts(packs)
        for b in packs:
            emit_battery(out, b)

    def _firmware_battery_facts(self, packs: list[BatteryFacts]) -> None:
        """Fill static facts sysfs lacks (date, chemistry, design voltage) from SMBIOS type 22.

        Only with exactly one pack and one record, so facts are never pinned on the
        wrong pack; dmidecode needs root, so without it nothing changes.
        """
        from kitlife.agent.parsers._common import ParseError
        from kitlife.agent.parsers.dmi import parse_dmidecode_batteries

        if len(packs) != 1:
            return
        try:
            records = parse_dmidecode_batteries(output(["dmidecode", "-t", "22"], timeout=15))
        except (CommandError, ParseError):
            return
        if len(records) != 1:
            return
        b, fw = packs[0], records[0]
        b.manufacture_date = b.manufacture_date or fw.manufacture_date
        b.chemistry = b.chemistry or fw.chemistry
        b.design_voltage_mv = b.design_voltage_mv or fw.design_voltage_mv
        if b.design_mwh is None and b.design_mah is None:
            b.design_mwh = fw.design_mwh

    def _upower(self) -> list[BatteryFacts]:
        from kitlife.agent.parsers._common import ParseError
        from kitlife.agent.parsers.upower import parse_upower

        try:
            devices = output(["upower", "-e"], timeout=10).split()
        except CommandError:
            return []
        found = []
        for dev in devices:
            if "battery" not in dev.rsplit("/", 1)[-1].lower():
                continue
            try:
                b = parse_upower(output(["upower", "-i", dev], timeout=10))
            except (CommandError, ParseError):
                continue
            if b is not None and b.has_capacity():
                found.append(b)
        return found

    def storage(self, out: SourceResult) -> None:
        from kitlife.agent.platforms._smart import read_smart

        read_smart(out)

    def thermal(self, out: SourceResult) -> None:
        from kitlife.agent.parsers.thermal import read_throttle
        from kitlife.agent.platforms._common import psutil_thermal

        psutil_thermal(out)
        t = read_throttle(self.root)
        if t is None:
            out.missing("no thermal_throttle counters in sysfs", "cpu")
            return
        out.add("thermal.core_throttle_count", t.core_total)
        out.add("thermal.package_throttle_count", t.package_total)

    def inventory(self, out: SourceResult) -> None:
        from kitlife.agent.platforms._common import basic_inventory

        basic_inventory(out)
        self._dmi(out)
        self._os(out)
        self._cpu(out)
        self._memory(out)
        self._disks(out)
        self._firmware_security(out)

    def _dmi(self, out: SourceResult) -> None:
        from kitlife.agent.parsers.dmi import CHASSIS_TYPES, bios_date_iso, read_dmi_id

        try:
            dmi = read_dmi_id(self.root)
        except OSError:
            out.missing("no DMI tables in sysfs (VM or non-x86 firmware)", "dmi")
            return
        v = dmi.values
        out.add("inv.vendor", v.get("sys_vendor"))
        out.add("inv.model", v.get("product_name"))
        out.add("inv.serial", v.get("product_serial"))
        out.add("inv.asset_tag", v.get("chassis_asset_tag"))
        out.add("inv.bios_vendor", v.get("bios_vendor"))
        out.add("inv.bios_version", v.get("bios_version"))
        out.add("inv.bios_date", bios_date_iso(v.get("bios_date", "")))
        ct = v.get("chassis_type", "")
        if ct.isdigit():
            out.add("inv.chassis_type", CHASSIS_TYPES.get(int(ct), f"smbios-{ct}"))
        if "product_serial" in dmi.unreadable:
            out.missing("permission denied (serial needs root)", "inv.serial")

    def _os(self, out: SourceResult) -> None:
        from kitlife.agent.parsers._common import ParseError
        from kitlife.agent.parsers.system import parse_os_release

        for rel in ("etc/os-release", "usr/lib/os-release"):
            try:
                info = parse_os_release((self.root / rel).read_bytes())
            except (OSError, ParseError):
                continue
            version = info.get("VERSION_ID", "")
            out.add("inv.os_release_name", info.get("PRETTY_NAME") or version or None)
            out.add("inv.os_build", os.uname().release if self.root == Path("/") else None)
            out.add("inv.os_edition", info.get("VARIANT") or None)
            return
        out.missing("no os-release", "os")

    def _cpu(self, out: SourceResult) -> None:
        from kitlife.agent.parsers._common import ParseError
        from kitlife.agent.parsers.system import parse_cpuinfo
        from kitlife.agent.platforms._common import cpu_facts

        try:
            cpu = parse_cpuinfo((self.root / "proc" / "cpuinfo").read_bytes())
        except (OSError, ParseError) as exc:
            out.missing(f"cpuinfo unreadable ({exc})", "cpu")
            return
        cpu_facts(out, cpu.brand, cpu.vendor, cpu.family, cpu.model)

    def _memory(self, out: SourceResult) -> None:
        from kitlife.agent.parsers._common import ParseError
        from kitlife.agent.parsers.dmi import parse_dmidecode_memory

        try:
            layout = parse_dmidecode_memory(output(["dmidecode", "-t", "memory"], timeout=15))
        except CommandError as exc:
            out.missing(exc.reason, "memory_layout")
            return
        except ParseError as exc:
            out.missing(f"unparseable ({exc})", "memory_layout")
            return
        out.add("inv.ram_slots_total", layout.slots_total)
        out.add("inv.ram_slots_used", layout.slots_used)
        out.add("inv.ram_soldered", int(layout.soldered))

    def _disks(self, out: SourceResult) -> None:
        base = self.root / "sys" / "block"
        if not base.is_dir():
            return
        for dev in sorted(base.iterdir()):
            # Virtual, optical and eMMC boot/RPMB partitions are not disks a user stores data on.
            if re.match(r"^(loop|ram|zram|dm-|md|sr|fd)", dev.name) or re.search(
                r"(boot[0-9]+|rpmb)$", dev.name
            ):
                continue
            try:
                if (dev / "removable").read_text().strip() == "1":
                    continue
                sectors = int((dev / "size").read_text().strip())
            except (OSError, ValueError):
                continue
            if sectors > 0:
                out.add("inv.disk_bytes", sectors * 512, dev.name)  # sysfs size is 512-byte units

    def _firmware_security(self, out: SourceResult) -> None:
        efi = self.root / "sys" / "firmware" / "efi"
        out.add("inv.uefi", int(efi.is_dir()))
        tpm = self.root / "sys" / "class" / "tpm" / "tpm0"
        out.add("inv.tpm_present", int(tpm.exists()))
        try:
            major = (tpm / "tpm_version_major").read_text().strip()
            out.add("inv.tpm_version", "2.0" if major == "2" else f"{major}.x")
        except OSError:
            if tpm.exists():
                out.missing("TPM version not exposed by this kernel", "tpm")
        if efi.is_dir():
            var = efi / "efivars" / _SECURE_BOOT_VAR
            try:
                data = var.read_bytes()
                out.add("inv.secure_boot", int(len(data) >= 5 and data[4] == 1))
            except OSError:
                out.missing("SecureBoot variable unreadable", "secure_boot")
        else:
            out.add("inv.secure_boot", 0)  # legacy BIOS boot cannot have Secure Boot on


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


def _count_crashes(
    out: SourceResult, crashes: list[xp.Crash], now_s: float, report_crash_names: bool
) -> None:
    for label, span in RELIABILITY_WINDOWS_S.items():
        out.add(
            f"rel.app_crashes_{label}", sum(1 for c in crashes if now_s - span <= c.time_s <= now_s)
        )
    if report_crash_names:
        names: dict[str, int] = {}
        for c in crashes:
            if now_s - RELIABILITY_WINDOWS_S["24h"] <= c.time_s <= now_s and c.exe:
                names[c.exe] = names.get(c.exe, 0) + 1
        for name, n in sorted(names.items()):
            out.add("rel.app_crashes_by_exe_24h", n, name)
