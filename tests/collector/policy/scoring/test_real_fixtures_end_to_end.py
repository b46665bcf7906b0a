"""Real captured outputs, through the agent's own parsers, into the scorer.

Every smartctl and battery capture in tests/fixtures/ (see PROVENANCE.md) is
parsed by the agent's parsers, emitted as the readings the agent would upload,
and judged by the scorer. The expected verdicts come from reading each sample
by hand: a drive counts as failing when its own data shows a failure sign
(overall self-assessment FAILED, reallocated or pending sectors, NVMe media
errors, spare below its threshold, a critical warning); no outcome after the
capture is known for any of them, so this checks that the rules fire on real
data, not that they predict failure. Counts go to docs/scoring.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kitlife.agent.parsers.dmi import parse_dmidecode_batteries
from kitlife.agent.parsers.emit import emit_battery, emit_disk
from kitlife.agent.parsers.smartctl import ata_fill, parse_smartctl
from kitlife.agent.parsers.system_profiler import parse_sppower_text
from kitlife.agent.parsers.upower import parse_upower
from kitlife.agent.readings import SourceResult
from kitlife.collector.policy.scoring import DeviceHistory, Status, score_device
from tests.collector.policy.scoring.conftest import NOW

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
SMART = sorted(p for p in (FIXTURES / "smartctl").iterdir() if "scan" not in p.name)

# Read by hand from each sample: the drives whose own data shows a failure sign.
FAILING_DRIVES = {
    "scrutiny_smart-fail2.json": "self-assessment FAILED, 1975 reallocated, 8 pending",
    "linuxhw_APPLE_HUA722010CLA330_4A1CCA954289.txt": "50 reallocated sectors",
    "scrutiny_smart-nvme-failed.json": "7 NVMe media errors",
    "exporter_SEAGATE_ST373453LC_26.json": "SCSI: 260 grown defects, 535 uncorrected write errors",
    "scrutiny_scsi-smart.json": "SCSI: 56 grown defects",
}


def _storage_status(path: Path) -> Status:
    out = SourceResult("storage")
    emit_disk(out, "disk0", ata_fill(parse_smartctl(path.read_bytes())))
    history = DeviceHistory(path.name, {(r.metric, r.component): r.value for r in out.readings})
    (component,) = [
        c for c in score_device(history, now=NOW).components if c.component == "storage"
    ]
    return component.status


def test_there_are_thirty_real_smart_samples() -> None:
    assert len(SMART) >= 30


@pytest.mark.parametrize("path", SMART, ids=lambda p: p.name)
def test_real_drive_is_flagged_exactly_when_its_data_shows_failure(path: Path) -> None:
    status = _storage_status(path)
    if path.name in FAILING_DRIVES:
        assert status in (Status.WARN, Status.FAIL), FAILING_DRIVES[path.name]
    else:
        assert status is Status.OK


def _packs(path: Path) -> list[SourceResult]:
    data = path.read_bytes()
    if "upower" in path.name:
        packs = [p for p in [parse_upower(data)] if p is not None]
    elif "SPPowerDataType" in path.name:
        battery = parse_sppower_text(data).battery
        packs = [battery] if battery is not None else []
    else:
        packs = parse_dmidecode_batteries(data)
    results = []
    for pack in packs:
        out = SourceResult("battery")
        emit_battery(out, pack)
        results.append(out)
    return results


# Full-charge over design, read by hand; None where the sample has no design figure.
BATTERY_HEALTH = {
    "fusion_upower_info_2_dell.txt": [92.83],
    "fusion_upower_infos_1_worn.txt": [76.23],
    "fusion_upower_infos_3_asus.txt": [83.51],
    "glpi_upower_infos_4.1_fr.txt": [100.0],
    "glpi_upower_infos_4.2_mouse.txt": [],  # a mouse, not a laptop pack
    "fusion_10.11-SPPowerDataType.txt": [None],
    "fusion_charged-SPPowerDataType.txt": [None],
    "fusion_charging-SPPowerDataType.txt": [None],
    "glpi_dmidecode_t22_win10-dell-xps.txt": [None],
    "glpi_dmidecode_t22_windows-10-notebook.txt": [None, None],
}


@pytest.mark.parametrize("name", sorted(BATTERY_HEALTH))
def test_real_battery_is_judged_on_its_own_numbers(name: str) -> None:
    expected = BATTERY_HEALTH[name]
    judged = []
    for out in _packs(FIXTURES / "battery" / name):
        history = DeviceHistory(name, {(r.metric, r.component): r.value for r in out.readings})
        judged += [c for c in score_device(history, now=NOW).components if c.component == "battery"]
    assert len(judged) == len(expected)
    for component, health in zip(judged, expected, strict=True):
        if health is None:
            assert component.status is Status.UNKNOWN  # says so, rather than guessing
        else:
            assert component.level == pytest.approx(health, abs=0.01)
            # Fleet/osquery: normal above 80% of design; Intune: 60-80% "moderate".
            assert component.status is (Status.OK if health > 80 else Status.WARN)
