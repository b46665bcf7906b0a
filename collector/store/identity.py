"""Which enrolment facts say "this is the same laptop": vendor and serial number.

A laptop that is reimaged, or whose agent state is wiped, enrols again with a
fresh token. Its firmware still reports the same vendor and serial, so the
collector can give it back its old device (one row, one history) instead of a
second one. Firmware is often left unfilled, though, and then thousands of
different machines report the same placeholder serial; those must never be
taken for one machine. A serial counts only when it is not a known placeholder
and does not look like one.

The placeholder list joins the agent's own (``agent/parsers/_common.py``), the
serials OCS Inventory NG ships in its default ``blacklist_serials`` table, and
the vendor strings systemd's hwdb (``20-dmi-id.hwdb``) marks as meaningless.
The collector keeps its own copy because it also hears from older agents and
other tools that send the raw firmware string.
"""

from __future__ import annotations

from collections.abc import Mapping

# A device is given back to a re-enrolling laptop only after this long without
# a batch (see Store.enroll): an hour is four missed 15-minute uploads, and a
# reimage takes longer than that. The default of KITLIFE_REATTACH_AFTER_SILENT_S
# (runtime/settings.py), which reaches the store as a constructor argument.
REATTACH_AFTER_SILENT_S = 3600

# Compared case-folded, after trimming whitespace.
PLACEHOLDER_SERIALS = frozenset(
    s.casefold()
    for s in (
        "",
        "-",
        "--",
        "n/a",
        "na",
        "none",
        "null",
        "(null string)",
        "unknown",
        "invalid",
        "not specified",
        "not available",
        "not applicable",
        "to be filled by o.e.m.",
        "default string",
        "system serial number",
        "chassis serial number",
        "base board serial number",
        "serial number xxxxxx",
        "systemserialnumb",
        "oem_serial",
        "eval",
        "iatpass",
        "0123456789",
        "12345",
        "123456",
        "1234567",
        "12345678",
        "123456789",
        "1234567890",
        "123456789000",
        "12345678901234567",
        "sys-1234567890",
        "sys-9876543210",
        "sn-12345",
        "sn-1234567890",
    )
)
PLACEHOLDER_VENDORS = frozenset(
    s.casefold()
    for s in (
        "",
        "-",
        "n/a",
        "none",
        "unknown",
        "not specified",
        "o.e.m.",
        "oem",
        "to be filled by o.e.m.",
        "default string",
        "system manufacturer",
    )
)
# Shorter than this is no serial number (the lists above hold "0" and "1").
MIN_SERIAL_LEN = 4


def _clean(value: str | None) -> str:
    return (value or "").strip().strip("\x00").strip()[:255]


def usable_serial(serial: str | None) -> str | None:
    """The serial as it identifies a machine, or None for a placeholder."""
    s = _clean(serial)
    if len(s) < MIN_SERIAL_LEN or s.casefold() in PLACEHOLDER_SERIALS:
        return None
    if len(set(s.casefold())) == 1:  # 0000000, xxxxxxxxxxx, NNNNNNN, 1111111111
        return None
    return s


def usable_vendor(vendor: str | None) -> str | None:
    v = _clean(vendor)
    return None if v.casefold() in PLACEHOLDER_VENDORS else v


def hardware_identity(facts: Mapping[str, str]) -> tuple[str, str] | None:
    """(vendor, serial) from enrolment facts, or None when either is missing or a placeholder."""
    vendor = usable_vendor(facts.get("inv.vendor"))
    serial = usable_serial(facts.get("inv.serial"))
    return (vendor, serial) if vendor and serial else None


def same_vendor(a: str, b: str) -> bool:
    """Vendors compared as firmware writes them, ignoring case and outer spaces."""
    return _clean(a).casefold() == _clean(b).casefold()
