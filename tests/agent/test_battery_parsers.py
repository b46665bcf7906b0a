"""Battery parsers against real captures (tests/fixtures/battery, PROVENANCE.md).

One table per format; numbers read off each capture by hand (Wh -> mWh by x1000).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kitlife.agent.parsers.dmi import parse_dmidecode_batteries
from kitlife.agent.parsers.emit import emit_battery
from kitlife.agent.parsers.sysfs_battery import read_power_supplies, read_power_supply_dir
from kitlife.agent.parsers.system_profiler import parse_sppower_text
from kitlife.agent.parsers.upower import parse_upower
from kitlife.agent.readings import SourceResult
from tests.agent.conftest import fixture_bytes

# upower -i: (file, design mWh, full mWh, now mWh, cycles, percent, on AC, voltage mV, chemistry)
UPOWER = [
    (
        "glpi_upower_infos_4.1_fr.txt",
        54000,
        54000,
        24645,
        None,
        51.0,
        False,
        14827,
        "lithium-polymer",
    ),
    (
        "fusion_upower_infos_1_worn.txt",
        51504,
        39264,
        39264,
        None,
        100.0,
        True,
        14800,
        "lithium-ion",
    ),
    ("fusion_upower_infos_3_asus.txt", 89208, 74496, 67011, None, 89.0, True, 15120, "lithium-ion"),
    (
        "fusion_upower_info_2_dell.txt",
        57532,
        53405,
        47371,
        None,
        88.0,
        True,
        8541,
        "lithium-polymer",
    ),
]

# system_profiler SPPowerDataType (text): (file, full mAh, now mAh, cycles, condition, on AC, mV)
SPPOWER_TEXT = [
    ("fusion_charged-SPPowerDataType.txt", 4069, 3798, 125, "Normal", True, 12997),
    ("fusion_charging-SPPowerDataType.txt", 4069, 3798, 125, "Normal", True, 12997),
    ("fusion_10.11-SPPowerDataType.txt", 6078, 4552, 552, "Normal", False, 7921),
]

# dmidecode type 22: (file, index, design mWh, design mV, chemistry, made, model)
DMI_T22 = [
    ("glpi_dmidecode_t22_win10-dell-xps.txt", 0, 57530, 7600, "LiP", "2017-09-15", "DELL JHXPY53"),
    ("glpi_dmidecode_t22_windows-10-notebook.txt", 0, 23540, 11400, "LiP", "2018-05-24", "00HW023"),
    ("glpi_dmidecode_t22_windows-10-notebook.txt", 1, 26060, 11460, "LiP", "2018-06-02", "01AV406"),
    (
        "../dmi/linuxhw_dmidecode_XPS13-9360_00D8A2E4BC62.txt",
        0,
        61440,
        7600,
        "LiP",
        "2019-10-29",
        "DELL TP1GT61",
    ),
]


@pytest.mark.parametrize(
    ("name", "design", "full", "now", "cycles", "pct", "on_ac", "mv", "chem"), UPOWER
)
def test_upower(
    name: str,
    design: int,
    full: int,
    now: int,
    cycles: int | None,
    pct: float,
    on_ac: bool,
    mv: int,
    chem: str,
) -> None:
    b = parse_upower(fixture_bytes("battery", name))
    assert b is not None
    assert (b.design_mwh, b.full_mwh, b.remaining_mwh) == (design, full, now)
    assert b.cycle_count == cycles  # every sample says "N/A" or omits it
    assert b.charge_pct == pct
    assert b.on_ac is on_ac
    assert b.voltage_mv == mv
    assert b.chemistry == chem


def test_upower_worn_pack_is_visible_in_the_facts() -> None:
    b = parse_upower(fixture_bytes("battery", "fusion_upower_infos_1_worn.txt"))
    assert b is not None and b.full_mwh is not None and b.design_mwh is not None
    assert round(100 * b.full_mwh / b.design_mwh) == 76  # upower itself says capacity 76,2349%


def test_upower_peripheral_is_not_a_system_battery() -> None:
    assert parse_upower(fixture_bytes("battery", "glpi_upower_infos_4.2_mouse.txt")) is None


def test_upower_identity() -> None:
    b = parse_upower(fixture_bytes("battery", "glpi_upower_infos_4.1_fr.txt"))
    assert b is not None
    assert (b.name, b.manufacturer, b.model, b.serial) == (
        "BAT0",
        "SMP-COS3.66",
        "DELL XDY9K16",
        "3829",
    )


@pytest.mark.parametrize(("name", "full", "now", "cycles", "cond", "on_ac", "mv"), SPPOWER_TEXT)
def test_sppower_text(
    name: str, full: int, now: int, cycles: int, cond: str, on_ac: bool, mv: int
) -> None:
    p = parse_sppower_text(fixture_bytes("battery", name))
    assert p.battery is not None
    assert (p.battery.full_mah, p.battery.remaining_mah, p.battery.cycle_count) == (
        full,
        now,
        cycles,
    )
    assert p.condition == cond
    assert p.battery.on_ac is on_ac
    assert p.battery.voltage_mv == mv
    assert p.battery.manufacturer in ("SMP", "DP")


@pytest.mark.parametrize(("name", "index", "design", "mv", "chem", "made", "model"), DMI_T22)
def test_dmidecode_type22(
    name: str, index: int, design: int, mv: int, chem: str, made: str, model: str
) -> None:
    b = parse_dmidecode_batteries(fixture_bytes("battery", name))[index]
    assert (b.design_mwh, b.design_voltage_mv, b.chemistry) == (design, mv, chem)
    assert (b.manufacture_date, b.model, b.manufacturer) == (made, model, "SMP")


def test_emit_battery_uses_registry_units() -> None:
    out = SourceResult("battery")
    b = parse_upower(fixture_bytes("battery", "fusion_upower_infos_3_asus.txt"))
    assert b is not None
    emit_battery(out, b)
    got = {r.metric: r.value for r in out.readings}
    assert got["battery.design_capacity_mwh"] == 89208
    assert got["battery.full_charge_capacity_mwh"] == 74496
    assert got["battery.on_ac"] == 1
    assert got["battery.charge_pct"] == 89
    assert {r.component for r in out.readings} == {"BAT0"}


def test_sysfs_supply_without_type_in_uevent_is_typed_from_its_type_file(tmp_path: Path) -> None:
    # Some drivers leave POWER_SUPPLY_TYPE out of uevent; the kernel still has the `type`
    # attribute file. Before, such a pack was skipped and the battery vanished.
    supply = tmp_path / "sys" / "class" / "power_supply" / "BAT0"
    supply.mkdir(parents=True)
    (supply / "uevent").write_text(
        "POWER_SUPPLY_NAME=BAT0\nPOWER_SUPPLY_PRESENT=1\n"
        "POWER_SUPPLY_ENERGY_FULL_DESIGN=57020000\nPOWER_SUPPLY_ENERGY_FULL=41630000\n"
    )
    (supply / "type").write_text("Battery\n")
    (batteries,) = [read_power_supplies(tmp_path).batteries]
    assert [(b.name, b.design_mwh, b.full_mwh) for b in batteries] == [("BAT0", 57020, 41630)]


def test_a_copied_supply_folder_reads_like_the_live_tree(tmp_path: Path) -> None:
    supply = tmp_path / "BAT1"
    supply.mkdir()
    (supply / "uevent").write_text(
        "POWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_CHARGE_FULL_DESIGN=4400000\n"
        "POWER_SUPPLY_CHARGE_FULL=3100000\n"
    )
    (pack,) = read_power_supply_dir(supply).batteries
    assert (pack.name, pack.design_mah, pack.full_mah) == ("BAT1", 4400, 3100)


def test_mains_supply_without_type_in_uevent_is_not_a_battery(tmp_path: Path) -> None:
    supply = tmp_path / "AC"
    supply.mkdir()
    (supply / "uevent").write_text("POWER_SUPPLY_NAME=AC\nPOWER_SUPPLY_ONLINE=1\n")
    (supply / "type").write_text("Mains\n")
    assert read_power_supply_dir(tmp_path).batteries == []
    assert read_power_supply_dir(tmp_path).on_ac is True
