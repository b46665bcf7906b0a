"""Linux: sysfs first (no root, no tools), commands only where sysfs has nothing."""

from __future__ import annotations

import os
import re
from pathlib import Path

from kitlife.agent.commands import CommandError, output
from kitlife.agent.parsers._common import ParseError
from kitlife.agent.parsers.battery import BatteryFacts
from kitlife.agent.parsers.dmi import (
    CHASSIS_TYPES,
    bios_date_iso,
    parse_dmidecode_batteries,
    parse_dmidecode_memory,
    read_dmi_id,
)
from kitlife.agent.parsers.sysfs_battery import read_power_supplies
from kitlife.agent.parsers.system import parse_cpuinfo, parse_os_release
from kitlife.agent.parsers.thermal import read_throttle
from kitlife.agent.parsers.upower import parse_upower
from kitlife.agent.platforms._common import basic_inventory, cpu_facts, psutil_thermal
from kitlife.agent.platforms._smart import read_smart
from kitlife.agent.readings import SourceResult
from kitlife.agent.sources.emit import emit_battery

_SECURE_BOOT_VAR = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


class Linux:
    """All paths hang off ``root`` so tests can point the platform at a captured tree."""

    name = "linux"

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = root

    def battery(self, out: SourceResult) -> None:
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
        read_smart(out)

    def thermal(self, out: SourceResult) -> None:
        psutil_thermal(out)
        t = read_throttle(self.root)
        if t is None:
            out.missing("no thermal_throttle counters in sysfs", "cpu")
            return
        out.add("thermal.core_throttle_count", t.core_total)
        out.add("thermal.package_throttle_count", t.package_total)

    def inventory(self, out: SourceResult) -> None:
        basic_inventory(out)
        self._dmi(out)
        self._os(out)
        self._cpu(out)
        self._memory(out)
        self._disks(out)
        self._firmware_security(out)

    def _dmi(self, out: SourceResult) -> None:
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
        try:
            cpu = parse_cpuinfo((self.root / "proc" / "cpuinfo").read_bytes())
        except (OSError, ParseError) as exc:
            out.missing(f"cpuinfo unreadable ({exc})", "cpu")
            return
        cpu_facts(out, cpu.brand, cpu.vendor, cpu.family, cpu.model)

    def _memory(self, out: SourceResult) -> None:
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
