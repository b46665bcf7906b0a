"""Windows: PowerShell CIM queries printed as JSON, and powercfg's battery report.

Every query is one ``powershell -NoProfile -Command`` with a timeout; WMI can
hang for tens of seconds on a sick machine, which must not stall the agent.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from kitlife.agent.commands import CommandError, output
from kitlife.agent.parsers._common import ParseError, clean
from kitlife.agent.parsers.powercfg import parse_batteryreport
from kitlife.agent.parsers.system import parse_windows_edition, parse_wmi_cpu_description
from kitlife.agent.parsers.wmi import (
    batteries_from_wmi,
    cim_date,
    first,
    memory_slots,
    parse_cim_json,
    thermal_zones,
)
from kitlife.agent.platforms._common import basic_inventory, cpu_facts, psutil_thermal
from kitlife.agent.platforms._smart import read_smart
from kitlife.agent.readings import SourceResult
from kitlife.agent.sources.emit import emit_battery


def cim(cls: str, namespace: str = "root/cimv2", timeout: float = 30) -> str:
    cmd = (
        f"Get-CimInstance -Namespace {namespace} -ClassName {cls} "
        "| ConvertTo-Json -Depth 3 -Compress"
    )
    return output(["powershell", "-NoProfile", "-NonInteractive", "-Command", cmd], timeout=timeout)


class Windows:
    name = "windows"

    def battery(self, out: SourceResult) -> None:
        packs = []
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "battery.xml"
            try:
                output(["powercfg", "/batteryreport", "/xml", "/output", str(report)], timeout=60)
                packs = parse_batteryreport(report.read_bytes())
            except (CommandError, ParseError, OSError) as exc:
                out.missing(f"powercfg: {exc}", "batteryreport")
        if not packs:
            try:
                packs = batteries_from_wmi(
                    cim("BatteryStaticData", "root/wmi"),
                    cim("BatteryFullChargedCapacity", "root/wmi"),
                    cim("BatteryCycleCount", "root/wmi"),
                )
            except (CommandError, ParseError) as exc:
                # Desktops answer these classes with "not supported": that is no battery.
                out.missing(f"WMI battery classes: {exc}", "wmi")
        packs = [p for p in packs if p.has_capacity()]
        if not packs:
            out.missing("no battery")
            return
        on_ac = None
        try:
            status = parse_cim_json(cim("BatteryStatus", "root/wmi"))
            online = [s["PowerOnline"] for s in status if isinstance(s.get("PowerOnline"), bool)]
            on_ac = any(online) if online else None
        except (CommandError, ParseError) as exc:
            out.missing(f"BatteryStatus: {exc}", "on_ac")
        for b in packs:
            b.on_ac = on_ac
            emit_battery(out, b)

    def storage(self, out: SourceResult) -> None:
        read_smart(out)

    def thermal(self, out: SourceResult) -> None:
        psutil_thermal(out)
        try:
            zones = thermal_zones(cim("MSAcpi_ThermalZoneTemperature", "root/wmi"))
        except CommandError as exc:
            out.missing(exc.reason, "acpi_thermal_zone")
            return
        for name, celsius in zones.items():
            out.add("thermal.temperature_c", celsius, f"acpi/{name}")

    def inventory(self, out: SourceResult) -> None:
        basic_inventory(out)
        # One WMI class failing (access denied, provider hung) costs only its own facts.
        for section, fill in (
            ("bios", self._bios),
            ("system", self._system),
            ("cpu", self._cpu),
            ("os", self._os),
            ("disks", self._disks),
            ("memory", self._memory),
        ):
            try:
                fill(out)
            except CommandError as exc:
                out.missing(exc.reason, section)
            except ParseError as exc:
                out.missing(f"unparseable ({exc})", section)
        self._readiness(out)

    def _bios(self, out: SourceResult) -> None:
        bios = first(cim("Win32_BIOS"))
        out.add("inv.bios_vendor", clean(bios.get("Manufacturer")))
        out.add("inv.bios_version", clean(bios.get("SMBIOSBIOSVersion")))
        out.add("inv.serial", clean(bios.get("SerialNumber")))
        out.add("inv.bios_date", cim_date(bios.get("ReleaseDate")))

    def _system(self, out: SourceResult) -> None:
        cs = first(cim("Win32_ComputerSystem"))
        out.add("inv.vendor", clean(cs.get("Manufacturer")))
        out.add("inv.model", clean(cs.get("Model")))
        encl = parse_cim_json(cim("Win32_SystemEnclosure"))
        if encl:
            out.add("inv.asset_tag", clean(encl[0].get("SMBIOSAssetTag")))

    def _cpu(self, out: SourceResult) -> None:
        cpu = first(cim("Win32_Processor"))
        fam, model = parse_wmi_cpu_description(str(cpu.get("Description", "")))
        cpu_facts(out, clean(cpu.get("Name")), clean(cpu.get("Manufacturer")), fam, model)

    def _os(self, out: SourceResult) -> None:
        osi = first(cim("Win32_OperatingSystem"))
        caption = str(osi.get("Caption", ""))
        out.add("inv.os_release_name", clean(caption))
        # The build number names the feature release (19045 is 10 22H2, 22631 is 11 23H2).
        out.add("inv.os_build", clean(osi.get("BuildNumber")))
        out.add("inv.os_edition", parse_windows_edition(caption))

    def _disks(self, out: SourceResult) -> None:
        for disk in parse_cim_json(cim("Win32_DiskDrive")):
            size = disk.get("Size")
            if isinstance(size, int) and disk.get("MediaType") != "Removable Media":
                out.add("inv.disk_bytes", size, f"pd{disk.get('Index', '')}")

    def _memory(self, out: SourceResult) -> None:
        slots, used = memory_slots(cim("Win32_PhysicalMemoryArray"), cim("Win32_PhysicalMemory"))
        out.add("inv.ram_slots_total", slots)
        out.add("inv.ram_slots_used", used)
        out.missing("Windows does not report reliably whether RAM is soldered", "ram_soldered")

    def _readiness(self, out: SourceResult) -> None:
        """TPM and Secure Boot facts for the Windows 11 check (both need an elevated agent)."""
        try:
            tpm = parse_cim_json(cim("Win32_Tpm", "root/cimv2/Security/MicrosoftTpm"))
            out.add("inv.tpm_present", int(bool(tpm)))
            if tpm:
                spec = str(tpm[0].get("SpecVersion") or "").split(",")[0].strip()
                out.add("inv.tpm_version", spec or None)
        except (CommandError, ParseError) as exc:
            out.missing(f"TPM: {exc}", "tpm")
        try:
            sb = output(
                ["powershell", "-NoProfile", "-Command", "Confirm-SecureBootUEFI"], timeout=15
            )
            out.add("inv.secure_boot", int(sb.strip().lower() == "true"))
            out.add("inv.uefi", 1)
        except CommandError as exc:
            out.missing(f"Secure Boot: {exc}", "secure_boot")
