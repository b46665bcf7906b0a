"""macOS: ioreg and system_profiler, both readable without root.

CPU temperatures and fan speeds need root (``powermetrics``) or private SMC
calls on macOS, so the agent reports only the battery temperature from ioreg
and says the rest is unavailable rather than shipping a privileged helper.
"""

from __future__ import annotations

import platform as pyplatform

from kitlife.agent.commands import CommandError, output, output_bytes
from kitlife.agent.parsers._common import ParseError
from kitlife.agent.parsers.ioreg import parse_ioreg_battery
from kitlife.agent.parsers.system_profiler import (
    MacPower,
    parse_sphardware,
    parse_sppower,
    parse_sppower_text,
)
from kitlife.agent.platforms._common import basic_inventory, cpu_facts
from kitlife.agent.platforms._smart import read_smart
from kitlife.agent.readings import SourceResult
from kitlife.agent.sources.emit import emit_battery


class MacOS:
    name = "darwin"

    def battery(self, out: SourceResult) -> None:
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
        read_smart(out)

    def thermal(self, out: SourceResult) -> None:
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
