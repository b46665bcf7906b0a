"""Every parser meets junk: random text and bytes, truncated and foreign captures.

The contract: a parser returns a result or raises ParseError (its only documented
error, which the source turns into ``unavailable: unparseable (...)``). Anything
else escaping is a bug.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kitlife.agent.parsers._common import ParseError, parse_float, parse_int
from kitlife.agent.parsers.dmi import parse_dmidecode_batteries, parse_dmidecode_memory
from kitlife.agent.parsers.ioreg import parse_ioreg_battery
from kitlife.agent.parsers.powercfg import parse_batteryreport
from kitlife.agent.parsers.smartctl import (
    parse_scan,
    parse_smartctl,
    parse_smartctl_json,
    parse_smartctl_text,
)
from kitlife.agent.parsers.sysfs_battery import parse_uevent
from kitlife.agent.parsers.system import parse_cpuinfo, parse_os_release
from kitlife.agent.parsers.system_profiler import (
    parse_sphardware,
    parse_sppower,
    parse_sppower_text,
)
from kitlife.agent.parsers.upower import parse_upower
from kitlife.agent.parsers.wmi import (
    batteries_from_wmi,
    cim_date,
    memory_slots,
    parse_cim_json,
    thermal_zones,
)
from tests.agent.conftest import FIXTURES

PARSERS: list[tuple[str, Callable[[Any], object]]] = [
    ("smartctl", parse_smartctl),
    ("smartctl_json", parse_smartctl_json),
    ("smartctl_text", parse_smartctl_text),
    ("scan", parse_scan),
    ("uevent", parse_uevent),
    ("upower", parse_upower),
    ("ioreg", parse_ioreg_battery),
    ("sppower", parse_sppower),
    ("sppower_text", parse_sppower_text),
    ("sphardware", parse_sphardware),
    ("batteryreport", parse_batteryreport),
    ("cim", parse_cim_json),
    ("wmi_batteries", lambda d: batteries_from_wmi(d, d, d)),
    ("thermal_zones", thermal_zones),
    ("memory_slots", lambda d: memory_slots(d, d)),
    ("cim_date", lambda d: cim_date(d if isinstance(d, str) else d.decode("latin-1"))),
    ("dmidecode_memory", parse_dmidecode_memory),
    ("dmidecode_batteries", parse_dmidecode_batteries),
    ("cpuinfo", parse_cpuinfo),
    ("os_release", parse_os_release),
]


def _survives(parse: Callable[[Any], object], data: str | bytes) -> None:
    with contextlib.suppress(ParseError):
        parse(data)


JUNK_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize(("label", "parse"), PARSERS, ids=[p[0] for p in PARSERS])
@JUNK_SETTINGS
@given(data=st.text())
def test_random_text(label: str, parse: Callable[[Any], object], data: str) -> None:
    _survives(parse, data)


@pytest.mark.parametrize(("label", "parse"), PARSERS, ids=[p[0] for p in PARSERS])
@JUNK_SETTINGS
@given(data=st.binary())
def test_random_bytes(label: str, parse: Callable[[Any], object], data: bytes) -> None:
    _survives(parse, data)


# Shapes that look almost right: real captures cut short, JSON of the wrong shape,
# a UTF-16 Windows pipe, a NUL-padded sysfs read, an XML bomb's opening.
NEAR_MISSES: list[str | bytes] = [
    "",
    "\n\n",
    "{}",
    "[]",
    "null",
    '{"smartctl": {"messages": [{"string": "Permission denied"}]}}',
    '{"device": 1, "nvme_smart_health_information_log": []}',
    '{"SPPowerDataType": {}}',
    '{"SPHardwareDataType": [null, 3]}',
    "[1, 2, 3]",
    "<BatteryReport><Batteries><Battery><DesignCapacity>x</DesignCapacity></Battery>",
    "<?xml version='1.0'?><!DOCTYPE a [<!ENTITY b 'c'>]><BatteryReport>&b;</BatteryReport>",
    "=== START OF INFORMATION SECTION ===\n",
    "ID# ATTRIBUTE_NAME FLAG VALUE WORST THRESH\n  5 x",
    "Memory Device\n",
    "POWER_SUPPLY_=\n",
    b"\xff\xfe" + "Portable Battery".encode("utf-16-le"),
    b"\xff\xfe\x00",
    b"BAT0\x00\x00\x00",
    "native-path: x\nbattery\npower supply: yes\nenergy-full: 1,2,3 Wh\n",
    "{" * 5000,
]


@pytest.mark.parametrize(("label", "parse"), PARSERS, ids=[p[0] for p in PARSERS])
def test_near_misses(label: str, parse: Callable[[Any], object]) -> None:
    for data in NEAR_MISSES:
        _survives(parse, data)


@pytest.mark.parametrize(("label", "parse"), PARSERS, ids=[p[0] for p in PARSERS])
def test_truncated_real_captures(label: str, parse: Callable[[Any], object]) -> None:
    """Every real fixture cut at several points, fed to every parser."""
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix == ".md":
            continue
        data = path.read_bytes()
        for cut in (1, len(data) // 3, len(data) // 2, len(data) - 1):
            _survives(parse, data[:cut])


@given(st.text(max_size=30))
def test_number_helpers(text: str) -> None:
    for helper in (parse_int, parse_float):
        with contextlib.suppress(ParseError):
            helper(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,000,204,886,016", 1000204886016),
        ("256.060.514.304", 256060514304),
        ("1 000 204 886 016", 1000204886016),
        ("2’000’398’934’016", 2000398934016),
        ("42", 42),
    ],
)
def test_parse_int_locales(text: str, value: int) -> None:
    assert parse_int(text) == value


def test_parse_int_refuses_decimals() -> None:
    with pytest.raises(ParseError):
        parse_int("17,3")


@JUNK_SETTINGS
@given(data=st.binary().map(lambda b: b"bplist00" + b))
def test_ioreg_binary_plist_junk(data: bytes) -> None:
    """ioreg -a may answer in binary plist form; a corrupt one must not escape as struct.error."""
    _survives(parse_ioreg_battery, data)
