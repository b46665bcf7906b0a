"""Inventory parsers: dmidecode memory layout and /proc/cpuinfo on real captures."""

from __future__ import annotations

import pytest

from kitlife.agent.parsers.dmi import bios_date_iso, parse_dmidecode_memory
from kitlife.agent.parsers.system import (
    cpu_generation,
    parse_cpuinfo,
    parse_windows_edition,
    parse_wmi_cpu_description,
)
from tests.agent.conftest import fixture_bytes

GIB = 1 << 30


@pytest.mark.parametrize(
    ("name", "slots", "used", "total", "soldered"),
    [
        ("glpi_dmidecode_memory_hynix-kingmax.txt", 2, 2, 16 * GIB, False),
        ("glpi_dmidecode_memory_positivo-informatica.txt", 2, 1, 8 * GIB, False),
        ("linuxhw_dmidecode_XPS13-9360_00D8A2E4BC62.txt", 2, 2, 16 * GIB, True),
    ],
)
def test_memory_layout(name: str, slots: int, used: int, total: int, soldered: bool) -> None:
    m = parse_dmidecode_memory(fixture_bytes("dmi", name))
    assert (m.slots_total, m.slots_used, m.total_bytes, m.soldered) == (
        slots,
        used,
        total,
        soldered,
    )


def test_cpuinfo_first_generation_core() -> None:
    cpu = parse_cpuinfo(fixture_bytes("inventory", "fusion_cpuinfo_toshiba-r630-2-core.txt"))
    assert (cpu.vendor, cpu.family, cpu.model) == ("GenuineIntel", 6, 37)
    assert cpu.brand == "Intel(R) Core(TM) i3 CPU       M 350  @ 2.27GHz"
    assert cpu_generation(cpu.brand) == 1


# Brand strings as CPUs report them (Intel ARK / AMD product names); the rule under test is
# the generation read from the model number, which is what the Windows 11 list keys on.
@pytest.mark.parametrize(
    ("brand", "gen"),
    [
        ("Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz", 8),
        ("Intel(R) Core(TM) i7-10510U CPU @ 1.80GHz", 10),
        ("11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz", 11),
        ("12th Gen Intel(R) Core(TM) i5-1235U", 12),
        ("Intel(R) Core(TM) i5-7200U CPU @ 2.50GHz", 7),
        ("AMD Ryzen 5 3500U with Radeon Vega Mobile Gfx", 3),
        ("AMD Ryzen 7 PRO 5850U with Radeon Graphics", 5),
        ("Apple M1", None),
        ("Intel(R) Celeron(R) N4020 CPU @ 1.10GHz", None),
    ],
)
def test_cpu_generation(brand: str, gen: int | None) -> None:
    assert cpu_generation(brand) == gen


def test_wmi_cpu_description_and_bios_date() -> None:
    assert parse_wmi_cpu_description("Intel64 Family 6 Model 142 Stepping 10") == (6, 142)
    assert parse_wmi_cpu_description("ARMv8 (64-bit) Family 8 Model D4B Revision 0") == (None, None)
    assert bios_date_iso("09/15/2017") == "2017-09-15"
    assert bios_date_iso("not a date") is None


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("/Date(1514764800000)/", "2018-01-01"),  # Windows PowerShell 5.1 ConvertTo-Json
        ("2018-01-01T00:00:00", "2018-01-01"),  # PowerShell 7
        ("20180101000000.000000+000", "2018-01-01"),  # WMI DMTF datetime
        ("/Date(99999999999999999999)/", None),
        ("2018-13-45", None),
        (None, None),
    ],
)
def test_cim_date_forms(value: str | None, iso: str | None) -> None:
    from kitlife.agent.parsers.wmi import cim_date

    assert cim_date(value) == iso


@pytest.mark.parametrize(
    ("caption", "edition"),
    [
        ("Microsoft Windows 11 Enterprise", "Enterprise"),
        ("Microsoft Windows 10 Pro", "Pro"),
        ("Microsoft Windows 11 Home Single Language", "Home Single Language"),
        ("Microsoft Windows 10 Enterprise LTSC", "Enterprise LTSC"),
        ("Microsoft Windows 11 Pro for Workstations ", "Pro for Workstations"),
        ("Microsoft Windows 10 Education", "Education"),
        ("Microsoft Windows 10 Professionnel", "Professionnel"),
        ("Microsoft Windows Server 2019 Standard", "Standard"),
        ("Microsoft Windows 11", None),
        ("", None),
    ],
)
def test_windows_edition_is_read_from_the_caption(caption: str, edition: str | None) -> None:
    assert parse_windows_edition(caption) == edition
