"""The collect_* entry points: never raise, name their source, carry cadence.

Platforms here are small stand-ins for the OS (not the code under test); the
SMART runner replays real smartctl captures as if smartctl had printed them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kitlife.agent.commands import CommandError, output
from kitlife.agent.parsers._common import ParseError
from kitlife.agent.platforms._smart import read_smart
from kitlife.agent.platforms.linux import Linux
from kitlife.agent.readings import SourceResult
from kitlife.agent.sources.hardware import (
    collect_battery,
    collect_inventory,
    collect_storage,
    collect_thermal,
)
from kitlife.agent.sources.table import BY_NAME, SOURCES, Options, Where
from tests.agent.conftest import fixture_bytes


class Broken:
    """A platform whose every call fails the way real OS calls fail."""

    name = "broken"

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def battery(self, out: SourceResult) -> None:
        raise self.exc

    def storage(self, out: SourceResult) -> None:
        raise self.exc

    def thermal(self, out: SourceResult) -> None:
        raise self.exc

    def inventory(self, out: SourceResult) -> None:
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (CommandError("smartctl not installed"), "smartctl not installed"),
        (ParseError("no header"), "unparseable (no header)"),
        (PermissionError(13, "denied"), "permission denied"),
        (ZeroDivisionError("boom"), "error (ZeroDivisionError: boom)"),
    ],
)
def test_collect_never_raises(exc: Exception, reason: str) -> None:
    for collect, name in (
        (collect_battery, "battery"),
        (collect_storage, "storage"),
        (collect_thermal, "thermal"),
        (collect_inventory, "inventory"),
    ):
        result = collect(Broken(exc))
        assert result.source == name
        assert result.readings == []
        assert [u.reason for u in result.unavailable] == [reason]


def test_sources_table() -> None:
    hardware = {s.name: s.cadence_s for s in SOURCES if s.where is Where.CHILD}
    assert hardware == {"inventory": 86400, "storage": 14400, "battery": 3600, "thermal": 3600}
    assert {s.name for s in SOURCES if s.where is Where.LOOP} == {
        "system",
        "os",
        "responsiveness",
        "use",
        "boot",
        "reliability",
    }
    assert len(BY_NAME) == len(SOURCES)  # one row per name
    for name in hardware:
        collect = BY_NAME[name].start(Broken(CommandError("x")), Options())  # type: ignore[arg-type]
        assert collect().source == name


def _replay(files: dict[str, str]) -> object:
    """A runner that answers smartctl with captured output, keyed by the device argument."""

    def runner(argv: list[str]) -> str:
        if "--scan-open" in argv:
            return fixture_bytes("smartctl", "scrutiny_smartctl_scan_nvme.json").decode()
        return fixture_bytes("smartctl", files[argv[-1]]).decode()

    return runner


def test_read_smart_replays_a_capture() -> None:
    out = SourceResult("storage")
    done = read_smart(out, _replay({"/dev/nvme0": "scrutiny_smart-nvme-failed.json"}))  # type: ignore[arg-type]
    assert done == ["nvme0"]
    got = {r.metric: r.value for r in out.readings if r.component == "nvme0"}
    assert got["nvme.media_errors"] == 7
    assert got["storage.model"] == "Samsung SSD 970 EVO 500GB"


def test_read_smart_reports_missing_smartctl() -> None:
    def runner(argv: list[str]) -> str:
        raise CommandError("smartctl not installed")

    out = SourceResult("storage")
    assert read_smart(out, runner) == []
    assert [u.reason for u in out.unavailable] == ["smartctl not installed"]


def test_read_smart_permission_denied_per_disk() -> None:
    def runner(argv: list[str]) -> str:
        if "--scan-open" in argv:
            return fixture_bytes("smartctl", "scrutiny_smartctl_scan_nvme.json").decode()
        return "Smartctl open device: /dev/nvme0 failed: Permission denied\n"

    out = SourceResult("storage")
    read_smart(out, runner)
    assert [(u.component, u.reason) for u in out.unavailable] == [
        ("nvme0", "permission denied (needs root or CAP_SYS_RAWIO)")
    ]


def test_run_reports_missing_command_and_timeout() -> None:
    with pytest.raises(CommandError, match="not installed"):
        output(["kitlife-no-such-command-xyz"])
    with pytest.raises(CommandError, match="timeout"):
        output(["sleep", "5"], timeout=0.2)
    assert output(["echo", "ok"]).strip() == "ok"


def test_linux_platform_on_an_empty_root(tmp_path: Path) -> None:
    """A root with no sysfs at all (a container, a chroot) gives reasons, not errors."""
    linux = Linux(root=tmp_path)
    battery = collect_battery(linux)
    assert battery.readings == [] or all(r.metric.startswith("battery.") for r in battery.readings)
    assert any("battery" in u.reason for u in battery.unavailable) or battery.readings
    thermal = collect_thermal(linux)
    assert any("thermal_throttle" in u.reason for u in thermal.unavailable)
    inventory = collect_inventory(linux)
    reasons = " ".join(u.reason for u in inventory.unavailable)
    assert "dmi" in reasons and "os-release" in reasons


def test_read_smart_scan_without_devices_key() -> None:
    """smartctl 7.x leaves "devices" out when it sees none (this CI container)."""

    def runner(argv: list[str]) -> str:
        return '{"json_format_version": [1, 0], "smartctl": {"version": [7, 3], "exit_status": 0}}'

    out = SourceResult("storage")
    assert read_smart(out, runner) == []
    assert [u.reason for u in out.unavailable] == ["no disks visible to smartctl"]
