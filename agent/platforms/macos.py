"""macOS: ioreg, system_profiler, sysctl and the unified log, all readable without root.

CPU temperatures and fan speeds need root (``powermetrics``) or private SMC
calls on macOS, so the agent reports only the battery temperature from ioreg
and says the rest is unavailable rather than shipping a privileged helper.
Hardware parsers are imported inside the hardware methods (see the package
docstring); experience commands go through ``runner`` so tests replay captures.
"""

from __future__ import annotations

import platform as pyplatform
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kitlife.agent.commands import CommandError, Output, output, output_bytes, run
from kitlife.agent.experience import parsers as xp
from kitlife.agent.paths import is_admin, user_state_dir
from kitlife.agent.platforms import DAY_S, RELIABILITY_WINDOWS_S, StallCounters
from kitlife.agent.readings import SourceResult

if TYPE_CHECKING:
    from kitlife.agent.parsers.system_profiler import MacPower

Runner = Callable[[list[str]], Output]
_SYSTEM_FOLDER = Path("/Library/Application Support/kitlife")


class MacOS:
    name = "darwin"
    system_volume = "/"

    def __init__(
        self, root: Path = Path("/"), runner: Runner = run, home: Path | None = None
    ) -> None:
        self.root = root
        self.runner = runner
        self.home = home

    # -- folders ----------------------------------------------------------------------
    def default_state_dir(self) -> Path:
        return _SYSTEM_FOLDER if is_admin() else user_state_dir()

    def config_path(self) -> Path:
        return _SYSTEM_FOLDER / "agent.toml"

    # -- experience -------------------------------------------------------------------
    def boot_times(self) -> tuple[xp.BootTimes | None, str]:
        """kern.boottime, then the loginwindow start in the unified log after it."""
        out = self.runner(["sysctl", "kern.boottime"])
        boottime = xp.parse_kern_boottime(out.text) if out.ok else None
        if boottime is None:
            return None, out.reason or "kern.boottime unparseable"
        log = self.runner(
            [
                "log",
                "show",
                "--style",
                "syslog",
                "--start",
                _log_time(boottime),
                "--end",
                _log_time(boottime + 900),
                "--predicate",
                'process == "loginwindow" AND eventMessage CONTAINS '
                '"Login Window Application Started"',
            ]
        )
        if not log.ok:
            return None, f"unified log unreadable ({log.reason})"
        times = xp.macos_boot_times(boottime, log.text)
        if times is None:
            return None, "no login window start after the boot in the log (or the clock stepped)"
        return times, ""

    def reliability(self, out: SourceResult, now_s: float, report_crash_names: bool) -> None:
        """Shutdown causes from the unified log; DiagnosticReports counted by kind.

        Only file counts by kind: report names and contents are never read or
        sent, so crash names are not available here whatever the setting.
        """
        log = self.runner(
            [
                "log",
                "show",
                "--last",
                "30d",
                "--style",
                "syslog",
                "--predicate",
                'eventMessage CONTAINS "Previous shutdown cause"',
            ]
        )
        if log.ok:
            causes = xp.macos_shutdown_causes(log.text)
            for label, span in RELIABILITY_WINDOWS_S.items():
                n = sum(
                    1
                    for t, code in causes
                    if now_s - span <= t <= now_s and code not in xp.CLEAN_SHUTDOWN_CAUSES
                )
                out.add(f"rel.unexpected_shutdowns_{label}", n)
        else:
            out.missing(f"unified log unreadable ({log.reason})", "shutdowns")
        stamps: dict[str, list[float]] = {"crash": [], "hang": [], "panic": []}
        home = self.home if self.home is not None else Path.home()
        folders = [
            self.root / "Library" / "Logs" / "DiagnosticReports",
            home / "Library" / "Logs" / "DiagnosticReports",
        ]
        readable = False
        for folder in folders:
            try:
                files = list(folder.iterdir())
            except OSError:
                continue
            readable = True
            for f in files:
                kind = _report_kind(f.name)
                if kind:
                    try:
                        stamps[kind].append(f.stat().st_mtime)
                    except OSError:
                        continue
        if not readable:
            out.missing("DiagnosticReports not readable", "app-crashes")
            return
        for label, span in RELIABILITY_WINDOWS_S.items():
            out.add(
                f"rel.app_crashes_{label}", sum(1 for t in stamps["crash"] if now_s - span <= t)
            )
            out.add(f"rel.os_crashes_{label}", sum(1 for t in stamps["panic"] if now_s - span <= t))
        out.add("rel.app_hangs_24h", sum(1 for t in stamps["hang"] if now_s - DAY_S <= t))

    def stall_counters(self) -> StallCounters:
        return StallCounters()  # no PSI, per-disk busy time or throttle time without root

    def input_idle_s(self) -> tuple[float | None, str]:
        """HIDIdleTime from ioreg."""
        out = self.runner(["ioreg", "-c", "IOHIDSystem", "-d", "4"])
        value = xp.parse_ioreg_idle(out.text) if out.ok else None
        return value, "" if value is not None else (out.reason or "no HIDIdleTime in ioreg")

    def notification_command(self, title: str, body: str) -> list[str]:
        script = (
            f"display notification {_applescript_string(body)} "
            f"with title {_applescript_string(title)}"
        )
        return ["osascript", "-e", script]

    # -- hardware (in a child) --------------------------------------------------------
    def battery(self, out: SourceResult) -> None:
        from kitlife.agent.parsers.emit import emit_battery
        from kitlife.agent.parsers.ioreg import parse_ioreg_battery

        packs = parse_ioreg_battery(output_bytes(["ioreg", "-r", "-c", "AppleSmartBattery", "-a"]))
        packs = [p for p in packs if p.has_capacity()]
        power = self._sppower(out)
        if not packs and (power is None or power.battery is None):
            out.missing("no battery")
            return
        for b in packs:
            if power is not None and power.battery is not None:
                sp = power.battery
                b.cycle_count = b.cycle_count or sp.cycle_count
                b.serial = b.serial or sp.serial
                b.manufacturer = b.manufacturer or sp.manufacturer
                b.on_ac = b.on_ac if b.on_ac is not None else sp.on_ac
                b.full_mah = b.full_mah or sp.full_mah
            emit_battery(out, b)
        if power is not None and power.battery is not None:
            name = packs[0].name if packs else "battery"
            if not packs:
                emit_battery(out, power.battery)
            out.add("battery.os_max_capacity_pct", power.max_capacity_pct, name)
            out.add("battery.os_condition", power.condition, name)

    def _sppower(self, out: SourceResult) -> MacPower | None:
        """system_profiler's view: JSON on 10.15+, the text form before that."""
        from kitlife.agent.parsers._common import ParseError
        from kitlife.agent.parsers.system_profiler import parse_sppower, parse_sppower_text

        try:
            return parse_sppower(
                output(["system_profiler", "SPPowerDataType", "-json"], timeout=30)
            )
        except (CommandError, ParseError):
            pass
        try:
            return parse_sppower_text(output(["system_profiler", "SPPowerDataType"], timeout=30))
        except (CommandError, ParseError) as exc:
            out.missing(f"system_profiler: {exc}", "os_health")
            return None

    def storage(self, out: SourceResult) -> None:
        from kitlife.agent.platforms._smart import read_smart

        read_smart(out)

    def thermal(self, out: SourceResult) -> None:
        from kitlife.agent.parsers._common import ParseError
        from kitlife.agent.parsers.ioreg import parse_ioreg_battery

        out.missing("CPU temperature and fans need root (powermetrics) on macOS", "cpu")
        try:
            packs = parse_ioreg_battery(
                output_bytes(["ioreg", "-r", "-c", "AppleSmartBattery", "-a"])
            )
        except (CommandError, ParseError):
            return
        for b in packs:
            out.add("thermal.temperature_c", b.temperature_c, f"battery/{b.name}")

    def inventory(self, out: SourceResult) -> None:
        from kitlife.agent.parsers.system_profiler import parse_sphardware
        from kitlife.agent.platforms._common import basic_inventory, cpu_facts

        basic_inventory(out)
        version = pyplatform.mac_ver()[0]
        out.add("inv.os_release_name", f"macOS {version}" if version else None)
        try:
            out.add("inv.os_build", output(["sw_vers", "-buildVersion"], timeout=5).strip() or None)
        except CommandError as exc:
            out.missing(exc.reason, "os_build")
        hw = parse_sphardware(
            output(["system_profiler", "SPHardwareDataType", "-json"], timeout=30)
        )
        out.add("inv.vendor", "Apple")
        out.add("inv.model", hw.model_id or hw.model)
        out.add("inv.serial", hw.serial)
        out.add("inv.bios_version", hw.firmware)
        vendor = "Apple" if hw.chip and hw.chip.startswith("Apple") else None
        cpu_facts(out, hw.chip, vendor, None, None)
        out.missing("RAM on every supported Mac is soldered; macOS does not list slots", "memory")
        out.missing("Windows 11 readiness (TPM, Secure Boot) does not apply to Macs", "tpm")


def _log_time(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def _report_kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".panic") or lower.startswith(("kernel", "panic-full")):
        return "panic"
    if lower.endswith(".hang"):
        return "hang"
    if lower.endswith((".ips", ".crash")):
        return "crash"
    return None


def _applescript_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
