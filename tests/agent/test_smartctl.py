"""smartctl parsers against real captures (tests/fixtures/smartctl, PROVENANCE.md).

Every expected number below was read off the capture by hand, not produced by
the parser; a mismatch means the parser, not the table, is wrong.
"""

from __future__ import annotations

import pytest

from kitlife.agent.parsers._common import ParseError
from kitlife.agent.parsers.emit import emit_disk
from kitlife.agent.parsers.smartctl import (
    SmartctlDeviceError,
    ata_fill,
    decode_packed_raw,
    device_error,
    parse_scan,
    parse_smartctl,
    parse_smartctl_json,
    parse_smartctl_text,
)
from kitlife.agent.readings import SourceResult
from tests.agent.conftest import FIXTURES, fixture_bytes

# (file, protocol, passed, capacity bytes, power-on h, temp C)
DRIVE_TABLE = [
    ("exporter_nvme-null-CT250P2SSD8-nvme0.json", "NVMe", True, 250059350016, 10147, 26),
    ("exporter_nvme-null-INTEL_MEMPEK1W032GA-nvme0.json", "NVMe", True, 29260513280, 41159, 31),
    ("exporter_nvme-null-INTEL_SSDPE2MX450G7-nvme0.json", "NVMe", True, 450098159616, 22944, 11),
    ("exporter_nvme-null-INTEL_SSDPEDMD016T4-nvme0.json", "NVMe", True, 1600321314816, 57288, 21),
    ("exporter_nvme-null-INTEL_SSDPEDMD400G4-nvme0.json", "NVMe", True, 400088457216, 41951, 28),
    ("exporter_nvme-null-INTEL_SSDPEK1A058GA-nvme0.json", "NVMe", True, 58977157120, 3752, 44),
    (
        "exporter_nvme-null-MTFDHAX1T6MCE-1AN1ZABYY-nvme0.json",
        "NVMe",
        True,
        1600321314816,
        29891,
        32,
    ),
    (
        "exporter_nvme-null-SAMSUNG_MZPLL1T6HAJQ-00005-nvme0.json",
        "NVMe",
        True,
        1600321314816,
        28074,
        40,
    ),
    (
        "exporter_nvme-null-Samsung_SSD_970_EVO_Plus_250GB-nvme0.json",
        "NVMe",
        True,
        250059350016,
        3149,
        35,
    ),
    ("exporter_HITACHI_H109060SESUN600G_10.json", "SCSI", True, 600127266816, 22364, 26),
    ("exporter_SEAGATE_ST373453LC_26.json", "SCSI", True, 73407820800, 102880, 33),
    ("exporter_ST3500418AS_11.json", "ATA", True, 500107862016, 44670, 32),
    ("pysmart_megaraid_ph_sas_hdd_0.txt", "SCSI", True, 4000787030016, None, 40),
    ("pysmart_sas_hdd_0_issue_51.txt", "SCSI", True, 12000138625024, None, 32),
    ("scrutiny_scsi-smart.json", "SCSI", True, 4000787030016, 43549, 34),
    ("linuxhw_APPLE_HTS547575A9E384_15BE1B1301E3.txt", "ATA", True, 750156374016, 19379, 40),
    ("linuxhw_APPLE_HUA722010CLA330_4A1CCA954289.txt", "ATA", True, 1000204886016, 6460, 50),
    ("pysmart_heliumhdd_win10.json", "ATA", True, 16000900661248, 593, 26),
    ("pysmart_issue_49_sata.txt", "ATA", True, 512110190592, 2376, None),
    ("pysmart_macos_ssd_0.txt", "ATA", True, 251000193024, 20503, 52),
    ("pysmart_nvme_10_issue_73_win11.txt", "NVMe", True, 2000398934016, 509, 54),
    ("pysmart_nvme_11_issue_75.txt", "NVMe", True, 256060514304, 10188, 48),
    ("pysmart_nvme_12_issue_89.txt", "NVMe", True, 2000398934016, 6433, 42),
    ("pysmart_nvme_13_issue_96.txt", "NVMe", True, 1024209543168, 396, 43),
    ("pysmart_nvme_1_issue_37.txt", "NVMe", True, 500107862016, 15, 41),
    ("pysmart_nvme_3_issue_52.txt", "NVMe", True, 1000204886016, 31, 34),
    ("pysmart_nvme_5_issue_46_win10.txt", "NVMe", True, 500107862016, 669, 33),
    ("pysmart_nvme_6.txt", "NVMe", True, 256060514304, 8737, 59),
    ("pysmart_nvme_8.txt", "NVMe", True, 2000398934016, 3457, 44),
    ("pysmart_nvme_9_issue_72_win10.txt", "NVMe", True, 500107862016, 3387, 38),
    ("pysmart_nvme_win10_0_issue_64.txt", "NVMe", True, 1000204886016, 3441, 62),
    ("pysmart_sat_ssd_0_issue_65.txt", "ATA", True, 120034123776, 133, 32),
    ("pysmart_sata_hdd_0_issue42.txt", "ATA", True, 12000138625024, 252, 38),
    ("pysmart_sata_ssd_1_issue_72_win10.txt", "ATA", True, 240057409536, 3517, 47),
    ("scrutiny_smart-fail2.json", "ATA", False, 500107862016, 65592, 25),
    ("scrutiny_smart-nvme-failed.json", "NVMe", True, 500107862016, 12798, 35),
]

# NVMe health log: (file, % used, spare, spare threshold, media errors, data units written,
#                   unsafe shutdowns, error log entries, critical warning)
NVME_TABLE = [
    ("exporter_nvme-null-CT250P2SSD8-nvme0.json", 0, 100, 5, 0, 1002900, 5, 1, 0),
    ("exporter_nvme-null-INTEL_MEMPEK1W032GA-nvme0.json", 1, 100, 0, 0, 4744607, 173, 0, 0),
    ("exporter_nvme-null-INTEL_SSDPE2MX450G7-nvme0.json", 0, 98, 10, 0, 6981141, 4, 0, 0),
    ("exporter_nvme-null-INTEL_SSDPEDMD016T4-nvme0.json", 41, 99, 10, 0, 32381395004, 0, 0, 0),
    ("exporter_nvme-null-MTFDHAX1T6MCE-1AN1ZABYY-nvme0.json", 69, 100, 5, 0, 2184152450, 7, 1, 0),
    ("pysmart_nvme_6.txt", 32, 100, 10, 0, 36580058, 102, 2597, 0),
    ("pysmart_nvme_11_issue_75.txt", 33, 100, 10, 0, 41930020, 106, 2888, 0),
    ("pysmart_nvme_12_issue_89.txt", 1, 100, 10, 0, 49987853, 35, 0, 0),
    ("pysmart_nvme_13_issue_96.txt", 0, 100, 1, 0, 1506179, 5, 0, 0),
    ("pysmart_nvme_3_issue_52.txt", 0, 100, 10, 0, 852433, 24, 2, 0),
    ("pysmart_nvme_9_issue_72_win10.txt", 1, 100, 10, 0, 16184623, 46, 0, 0),
    ("pysmart_nvme_10_issue_73_win11.txt", 0, 100, 25, 0, 4952637, 5, 0, 0),
    ("pysmart_nvme_win10_0_issue_64.txt", 13, 100, 10, 0, 264489347, 36, 0, 0),
    ("scrutiny_smart-nvme-failed.json", 3, 99, 10, 7, 65602088, 10, 62, 0),
]

# ATA attributes: (file, attribute id, normalised, threshold, raw)
ATA_TABLE = [
    ("scrutiny_smart-fail2.json", 5, 1, 5, 1975),
    ("scrutiny_smart-fail2.json", 197, 100, 0, 8),
    ("scrutiny_smart-fail2.json", 194, 240, 0, 25),
    ("linuxhw_APPLE_HUA722010CLA330_4A1CCA954289.txt", 5, 100, 5, 50),
    ("linuxhw_APPLE_HUA722010CLA330_4A1CCA954289.txt", 199, 200, 0, 1),
    ("linuxhw_APPLE_HTS547575A9E384_15BE1B1301E3.txt", 193, 1, 0, 1496518),
    ("pysmart_sata_hdd_0_issue42.txt", 1, 82, 44, 176373483),
    ("pysmart_sata_hdd_0_issue42.txt", 241, 100, 0, 3625709712),
    ("pysmart_sata_ssd_1_issue_72_win10.txt", 9, 100, 10, 3517),
    ("pysmart_sat_ssd_0_issue_65.txt", 5, 100, 50, 0),
    ("pysmart_sat_ssd_0_issue_65.txt", 233, 100, 0, 896),
    ("pysmart_macos_ssd_0.txt", 173, 165, 100, 3294309909395),
    ("pysmart_issue_49_sata.txt", 180, 100, 5, 1472),
    ("pysmart_heliumhdd_win10.json", 22, 100, 25, 100),
    ("exporter_ST3500418AS_11.json", 5, 100, 36, 1),
    ("exporter_ST3500418AS_11.json", 188, 100, 0, 1),
    ("exporter_ST3500418AS_11.json", 194, 32, 0, 32),
]

# SAS/SCSI: (file, grown defects, uncorrected read, write, verify errors)
SCSI_TABLE = [
    ("exporter_SEAGATE_ST373453LC_26.json", 260, 1, 535, None),
    ("exporter_HITACHI_H109060SESUN600G_10.json", 0, 0, 0, 0),
    ("scrutiny_scsi-smart.json", 56, 0, 0, None),
    ("pysmart_sas_hdd_0_issue_51.txt", 0, 0, 0, 0),
    ("pysmart_megaraid_ph_sas_hdd_0.txt", 0, 0, 0, 0),
]


def _drive_files() -> list[str]:
    return sorted(p.name for p in (FIXTURES / "smartctl").iterdir() if "scan" not in p.name)


def test_every_smart_fixture_is_in_the_table() -> None:
    assert sorted(row[0] for row in DRIVE_TABLE) == _drive_files()
    assert len(DRIVE_TABLE) >= 30


@pytest.mark.parametrize(("name", "protocol", "passed", "capacity", "hours", "temp"), DRIVE_TABLE)
def test_drive_facts(
    name: str, protocol: str, passed: bool, capacity: int, hours: int, temp: int | None
) -> None:
    h = ata_fill(parse_smartctl(fixture_bytes("smartctl", name)))
    assert h.protocol == protocol
    assert h.smart_passed is passed
    assert h.capacity_bytes == capacity
    assert h.power_on_hours == hours
    assert h.temperature_c == temp
    assert h.model


@pytest.mark.parametrize(
    ("name", "used", "spare", "threshold", "media", "written", "unsafe", "errlog", "warning"),
    NVME_TABLE,
)
def test_nvme_health_log(
    name: str,
    used: int,
    spare: int,
    threshold: int,
    media: int,
    written: int,
    unsafe: int,
    errlog: int,
    warning: int,
) -> None:
    h = parse_smartctl(fixture_bytes("smartctl", name))
    assert (h.nvme_percentage_used, h.nvme_available_spare, h.nvme_spare_threshold) == (
        used,
        spare,
        threshold,
    )
    assert h.nvme_media_errors == media
    assert h.nvme_data_units_written == written
    assert h.nvme_unsafe_shutdowns == unsafe
    assert h.nvme_error_log_entries == errlog
    assert h.nvme_critical_warning == warning


@pytest.mark.parametrize(("name", "attr", "value", "thresh", "raw"), ATA_TABLE)
def test_ata_attribute(name: str, attr: int, value: int, thresh: int, raw: int) -> None:
    a = parse_smartctl(fixture_bytes("smartctl", name)).attributes[attr]
    assert (a.value, a.thresh, a.raw) == (value, thresh, raw)


def test_failing_attribute_is_marked() -> None:
    h = parse_smartctl(fixture_bytes("smartctl", "scrutiny_smart-fail2.json"))
    assert h.attributes[5].when_failed == "now"


def test_identity_text_and_json() -> None:
    t = parse_smartctl(fixture_bytes("smartctl", "pysmart_sata_hdd_0_issue42.txt"))
    assert (t.model, t.serial, t.firmware, t.rotation_rpm) == (
        "OOS12000G",
        "00008AXB",
        "OOS1",
        7200,
    )
    j = parse_smartctl(fixture_bytes("smartctl", "scrutiny_smart-fail2.json"))
    assert (j.model, j.serial, j.firmware, j.rotation_rpm) == (
        "Hitachi HDS721050DLE630",
        "MSK423Y20S3HBC",
        "MS1OA650",
        7200,
    )
    ssd = parse_smartctl(fixture_bytes("smartctl", "pysmart_macos_ssd_0.txt"))
    assert ssd.rotation_rpm == 0  # "Solid State Device"


def test_redacted_serial_is_not_reported() -> None:
    # linuxhw anonymises serials as "--"; smartctl_exporter as "REDACTED" (kept: it is text).
    assert (
        parse_smartctl(
            fixture_bytes("smartctl", "linuxhw_APPLE_HTS547575A9E384_15BE1B1301E3.txt")
        ).serial
        is None
    )


def test_text_parser_refuses_json_and_json_parser_refuses_text() -> None:
    with pytest.raises(ParseError):
        parse_smartctl_text(fixture_bytes("smartctl", "scrutiny_smart-fail2.json"))
    with pytest.raises(ParseError):
        parse_smartctl_json(fixture_bytes("smartctl", "pysmart_nvme_6.txt"))


def test_scan_json() -> None:
    devices = parse_scan(fixture_bytes("smartctl", "scrutiny_smartctl_scan_simple.json"))
    assert [d.name for d in devices] == [f"/dev/sd{c}" for c in "abcdefg"]
    assert {d.type for d in devices} == {"scsi"}
    nvme = parse_scan(fixture_bytes("smartctl", "scrutiny_smartctl_scan_nvme.json"))
    assert [(d.name, d.type) for d in nvme] == [("/dev/nvme0", "nvme")]


def test_device_error_reasons() -> None:
    assert device_error("Smartctl open device: /dev/sda failed: Permission denied") == (
        "permission denied (needs root or CAP_SYS_RAWIO)"
    )
    assert device_error(fixture_bytes("smartctl", "pysmart_nvme_6.txt").decode()) is None
    with pytest.raises(SmartctlDeviceError):
        parse_smartctl_text("Smartctl open device: /dev/sda failed: Permission denied\n")


def test_emit_disk_readings_for_failing_drive() -> None:
    out = SourceResult("storage")
    emit_disk(
        out, "sdc", ata_fill(parse_smartctl(fixture_bytes("smartctl", "scrutiny_smart-fail2.json")))
    )
    got = {(r.metric, r.component): r.value for r in out.readings}
    assert got[("storage.smart_passed", "sdc")] == 0
    assert got[("ata.reallocated_sectors", "sdc")] == 1975
    assert got[("ata.pending_sectors", "sdc")] == 8
    assert got[("ata.attr_normalised", "sdc:5")] == 1
    assert got[("ata.attr_threshold", "sdc:5")] == 5
    assert got[("storage.power_on_hours", "sdc")] == 65592
    assert got[("storage.temperature_c", "sdc")] == 25


def test_emit_disk_readings_for_worn_nvme() -> None:
    out = SourceResult("storage")
    h = parse_smartctl(
        fixture_bytes("smartctl", "exporter_nvme-null-MTFDHAX1T6MCE-1AN1ZABYY-nvme0.json")
    )
    emit_disk(out, "nvme0", h)
    got = {r.metric: r.value for r in out.readings}
    assert got["nvme.percentage_used_pct"] == 69
    assert got["nvme.available_spare_threshold_pct"] == 5
    assert got["storage.protocol"] == "NVMe"


@pytest.mark.parametrize("row", SCSI_TABLE, ids=lambda r: r[0])
def test_scsi_defects_and_uncorrected_errors_match_the_capture(
    row: tuple[str, int, int, int, int | None],
) -> None:
    name, defects, read, write, verify = row
    h = parse_smartctl(fixture_bytes("smartctl", name))
    assert h.protocol == "SCSI"
    assert (h.scsi_grown_defects, h.scsi_uncorrected_read) == (defects, read)
    assert (h.scsi_uncorrected_write, h.scsi_uncorrected_verify) == (write, verify)
    out = SourceResult("storage")
    emit_disk(out, "sdb", h)
    emitted = {r.metric: r.value for r in out.readings}
    assert emitted["scsi.grown_defects"] == defects
    assert emitted["scsi.uncorrected_write_errors"] == write


@pytest.mark.parametrize(
    ("raw", "string", "count"),
    [
        (51540393996, "12 12 12", 12),  # smartctl -v 188,raw16: the total is the last word
        (4295032853, "1 1 21", 21),
        (51540393996, "51540393996", 12),  # undecoded: the low word
        (4295032853, "4295032853", 21),  # the rkarlsba/ymse Seagate listing's value
        (7, "7", 7),
    ],
)
def test_packed_seagate_command_timeouts_decode_to_their_total(
    raw: int, string: str, count: int
) -> None:
    assert decode_packed_raw(188, raw, string) == count


def test_other_attributes_keep_their_raw_value() -> None:
    assert decode_packed_raw(5, 51540393996, "51540393996") == 51540393996
