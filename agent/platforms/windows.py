"""Windows: PowerShell CIM queries printed as JSON, powercfg, wevtutil and quser.

Every query is one command with a timeout; WMI can hang for tens of seconds on
a sick machine, which must not stall the agent. Hardware parsers are imported
inside the hardware methods (see the package docstring); experience commands
go through ``runner`` so tests replay captured event logs.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from pathlib import Path

from kitlife.agent.commands import CommandError, Output, output, run
from kitlife.agent.experience import parsers as xp
from kitlife.agent.platforms import RELIABILITY_WINDOWS_S, StallCounters
from kitlife.agent.readings import SourceResult

Runner = Callable[[list[str]], Output]


def cim(cls: str, namespace: str = "root/cimv2", timeout: float = 30) -> str:
    cmd = (
        f"Get-CimInstance -Namespace {namespace} -ClassName {cls} "
        "| ConvertTo-Json -Depth 3 -Compress"
    )
    return output(["powershell", "-NoProfile", "-NonInteractive", "-Command", cmd], timeout=timeout)


class Windows:
    name = "windows"
    system_volume = "C:\\"

    def __init__(self, runner: Runner = run) -> None:
        self.runner = runner

    # -- folders ----------------------------------------------------------------------
    def default_state_dir(self) -> Path:
        # The service runs as LocalSystem: one machine-wide folder, whoever is logged in.
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "kitlife"

    def config_path(self) -> Path:
        return self.default_state_dir() / "agent.toml"

    # -- experience -------------------------------------------------------------------
    def boot_times(self) -> tuple[xp.BootTimes | None, str]:
        """The newest Diagnostics-Performance event 100."""
        out = self.runner(
            [
                "wevtutil",
                "qe",
                "Microsoft-Windows-Diagnostics-Performance/Operational",
                "/q:*[System[(EventID=100)]]",
                "/c:1",
                "/rd:true",
                "/f:xml",
            ]
        )
        if not out.ok:
            return None, f"boot performance log unreadable ({out.reason})"
        times = xp.windows_boot_times(xp.parse_win_events(out.text))
        if times is None:
            return None, "no boot performance event (event 100) recorded"
        return times, ""

    def reliability(self, out: SourceResult, now_s: float, report_crash_names: bool) -> None:
        """System log (41, 6008, 1001) and Application log (1000, 1002) over 30 days."""
        span_ms = RELIABILITY_WINDOWS_S["30d"] * 1000
        system = self.runner(
            [
                "wevtutil",
                "qe",
                "System",
                f"/q:*[System[(EventID=41 or EventID=6008 or EventID=1001) and "
                f"TimeCreated[timediff(@SystemTime) <= {span_ms}]]]",
                "/f:xml",
            ]
        )
        app = self.runner(
            [
                "wevtutil",
                "qe",
                "Application",
                f"/q:*[System[(EventID=1000 or EventID=1002) and "
                f"TimeCreated[timediff(@SystemTime) <= {span_ms}]]]",
                "/f:xml",
            ]
        )
        if not system.ok:
            out.missing(f"System event log unreadable ({system.reason})", "shutdowns")
        if not app.ok:
            out.missing(f"Application event log unreadable ({app.reason})", "app-crashes")
        events = xp.parse_win_events(system.text + app.text)
        for label, span in RELIABILITY_WINDOWS_S.items():
            counts = xp.windows_reliability(events, now_s - span, now_s + 1)
            if system.ok:
                out.add(f"rel.unexpected_shutdowns_{label}", counts.unexpected_shutdowns)
                out.add(f"rel.os_crashes_{label}", counts.os_crashes)
            if app.ok:
                out.add(f"rel.app_crashes_{label}", counts.app_crashes)
                if label == "24h":
                    out.add("rel.app_hangs_24h", counts.app_hangs)
                    if report_crash_names:
                        for name, n in sorted(counts.crash_exes.items()):
                            out.add("rel.app_crashes_by_exe_24h", n, name)

    def stall_counters(self) -> StallCounters:
        return StallCounters()  # no PSI or throttle time; disk time needs perf counters

    def input_idle_s(self) -> tuple[float | None, str]:
        """The sessions' idle time from quser, else GetLastInputInfo.

        quser answers from a service too; GetLastInputInfo only for the caller's session.
        """
        out = self.runner(["quser"])
        value = xp.parse_quser_idle(out.text) if out.text else None
        if value is not None:
            return value, ""
        value = last_input_idle_s()
        if value is None:
            return None, f"no session idle time (quser: {out.reason or 'no sessions'})"
        return value, ""

    def notification_command(self, title: str, body: str) -> list[str]:
        """A toast via the WinRT ToastNotificationManager, as one PowerShell -Command."""
        toast = (
            "<toast><visual><binding template='ToastGeneric'>"
            f"<text>{_xml(title)}</text><text>{_xml(body)}</text>"
            "</binding></visual></toast>"
        )
        ps_literal = "'" + toast.replace("'", "''") + "'"
        script = (
            "[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, "
            "ContentType=WindowsRuntime] > $null; "
            "[Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, "
            "ContentType=WindowsRuntime] > $null; "
            "$x = New-Object Windows.Data.Xml.Dom.XmlDocument; "
            f"$x.LoadXml({ps_literal}); "
            "$t = [Windows.UI.Notifications.ToastNotification]::new($x); "
            "[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier('kitlife')"
            ".Show($t)"
        )
        return ["powershell", "-NoProfile", "-NonInteractive", "-Command", script]

    # -- hardware (in a child) --------------------------------------------------------
    def battery(self, out: SourceResult) -> None:
        import tempfile

        from kitlife.agent.parsers._common import ParseError
        from kitlife.agent.parsers.emit import emit_battery
        from kitlife.agent.parsers.powercfg import parse_batteryreport
        from kitlife.agent.parsers.wmi import batteries_from_wmi, parse_cim_json

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
        from kitlife.agent.platforms._smart import read_smart

        read_smart(out)

    def thermal(self, out: SourceResult) -> None:
        from kitlife.agent.parsers.wmi import thermal_zones
        from kitlife.agent.platforms._common import psutil_thermal

        psutil_thermal(out)
        try:
            zones = thermal_zones(cim("MSAcpi_ThermalZoneTemperature", "root/wmi"))
        except CommandError as exc:
            out.missing(exc.reason, "acpi_thermal_zone")
            return
        for name, celsius in zones.items():
            out.add("thermal.temperature_c", celsius, f"acpi/{name}")

    def inventory(self, out: SourceResult) -> None:
        from kitlife.agent.parsers._common import ParseError
        from kitlife.agent.platforms._common import basic_inventory

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
        from kitlife.agent.parsers._common import clean
        from kitlife.agent.parsers.wmi import cim_date, first

        bios = first(cim("Win32_BIOS"))
        out.add("inv.bios_vendor", clean(bios.get("Manufacturer")))
        out.add("inv.bios_version", clean(bios.get("SMBIOSBIOSVersion")))
        out.add("inv.serial", clean(bios.get("SerialNumber")))
        out.add("inv.bios_date", cim_date(bios.get("ReleaseDate")))

    def _system(self, out: SourceResult) -> None:
        from kitlife.agent.parsers._common import clean
        from kitlife.agent.parsers.wmi import first, parse_cim_json

        cs = first(cim("Win32_ComputerSystem"))
        out.add("inv.vendor", clean(cs.get("Manufacturer")))
        out.add("inv.model", clean(cs.get("Model")))
        encl = parse_cim_json(cim("Win32_SystemEnclosure"))
        if encl:
            out.add("inv.asset_tag", clean(encl[0].get("SMBIOSAssetTag")))

    def _cpu(self, out: SourceResult) -> None:
        from kitlife.agent.parsers._common import clean
        from kitlife.agent.parsers.system import parse_wmi_cpu_description
        from kitlife.agent.parsers.wmi import first
        from kitlife.agent.platforms._common import cpu_facts

        cpu = first(cim("Win32_Processor"))
        fam, model = parse_wmi_cpu_description(str(cpu.get("Description", "")))
        cpu_facts(out, clean(cpu.get("Name")), clean(cpu.get("Manufacturer")), fam, model)

    def _os(self, out: SourceResult) -> None:
        from kitlife.agent.parsers._common import clean
        from kitlife.agent.parsers.system import parse_windows_edition
        from kitlife.agent.parsers.wmi import first

        osi = first(cim("Win32_OperatingSystem"))
        caption = str(osi.get("Caption", ""))
        out.add("inv.os_release_name", clean(caption))
        # The build number names the feature release (19045 is 10 22H2, 22631 is 11 23H2).
        out.add("inv.os_build", clean(osi.get("BuildNumber")))
        out.add("inv.os_edition", parse_windows_edition(caption))

    def _disks(self, out: SourceResult) -> None:
        from kitlife.agent.parsers.wmi import parse_cim_json

        for disk in parse_cim_json(cim("Win32_DiskDrive")):
            size = disk.get("Size")
            if isinstance(size, int) and disk.get("MediaType") != "Removable Media":
                out.add("inv.disk_bytes", size, f"pd{disk.get('Index', '')}")

    def _memory(self, out: SourceResult) -> None:
        from kitlife.agent.parsers.wmi import memory_slots

        slots, used = memory_slots(cim("Win32_PhysicalMemoryArray"), cim("Win32_PhysicalMemory"))
        out.add("inv.ram_slots_total", slots)
        out.add("inv.ram_slots_used", used)
        out.missing("Windows does not report reliably whether RAM is soldered", "ram_soldered")

    def _readiness(self, out: SourceResult) -> None:
        """TPM and Secure Boot facts for the Windows 11 check (both need an elevated agent)."""
        from kitlife.agent.parsers._common import ParseError
        from kitlife.agent.parsers.wmi import parse_cim_json

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


def _xml(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


class _LastInputInfo(ctypes.Structure):
    _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]


def last_input_idle_s() -> float | None:
    """Seconds since the last keyboard or mouse input in this session (GetLastInputInfo).

    None when the call fails (a service with no desktop session) or where there is
    no user32 (ctypes.windll exists only on Windows). Only the elapsed time is read,
    never which key or where.
    """
    windll = getattr(ctypes, "windll", None)
    info = _LastInputInfo()
    info.cbSize = ctypes.sizeof(info)
    if windll is None or not windll.user32.GetLastInputInfo(ctypes.byref(info)):
        return None
    # Both counters are 32-bit milliseconds since boot and wrap after 49.7 days.
    now = int(windll.kernel32.GetTickCount()) & 0xFFFFFFFF
    return ((now - int(info.dwTime)) & 0xFFFFFFFF) / 1000.0
