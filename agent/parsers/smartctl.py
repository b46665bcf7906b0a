"""Parse ``smartctl`` output: the JSON of ``smartctl -j -a`` (7.0+) and the classic text.

JSON is preferred because its keys are stable; the text parser exists because
smartctl 6.x (still on older LTS images) has no JSON, and because most public
captures of failing drives are text. Both produce the same :class:`DiskHealth`.

Digit grouping in text follows the C locale of the build (``1,000``, ``1.000``,
``1 000``, ``1’000`` all occur in real captures); :func:`parse_int` reads them all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from kitlife.agent.parsers._common import (
    ParseError,
    as_text,
    clean,
    is_digits,
    leading_int,
    parse_int,
)


@dataclass(frozen=True, slots=True)
class AtaAttribute:
    """One row of the ATA SMART attribute table."""

    id: int
    name: str
    value: int | None
    worst: int | None
    thresh: int | None
    raw: int | None
    when_failed: str = ""


@dataclass(slots=True)
class DiskHealth:
    """What one smartctl run says about one drive. ``None`` means the drive did not say."""

    protocol: str | None = None  # "ATA", "NVMe" or "SCSI"
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    capacity_bytes: int | None = None
    rotation_rpm: int | None = None
    smart_passed: bool | None = None
    power_on_hours: int | None = None
    temperature_c: int | None = None
    power_cycles: int | None = None
    attributes: dict[int, AtaAttribute] = field(default_factory=dict)
    nvme_percentage_used: int | None = None
    nvme_available_spare: int | None = None
    nvme_spare_threshold: int | None = None
    nvme_media_errors: int | None = None
    nvme_unsafe_shutdowns: int | None = None
    nvme_data_units_written: int | None = None
    nvme_critical_warning: int | None = None
    nvme_error_log_entries: int | None = None
    scsi_grown_defects: int | None = None
    scsi_uncorrected_read: int | None = None
    scsi_uncorrected_write: int | None = None
    scsi_uncorrected_verify: int | None = None


class SmartctlDeviceError(ParseError):
    """smartctl ran but could not open or query the device (permission, missing, asleep)."""


_PERMISSION_HINTS = ("permission denied", "operation not permitted", "access is denied")


def device_error(text: str) -> str | None:
    """A short reason when smartctl's output says the device could not be opened, else None."""
    low = text.lower()
    if any(h in low for h in _PERMISSION_HINTS):
        return "permission denied (needs root or CAP_SYS_RAWIO)"
    if "no such device" in low or "no such file or directory" in low:
        return "device not found"
    return None


def parse_smartctl(data: str | bytes) -> DiskHealth:
    """Either format: JSON when the output is a JSON object, else classic text."""
    text = as_text(data)
    if text.lstrip().startswith("{"):
        return parse_smartctl_json(text)
    return parse_smartctl_text(text)


# --------------------------------------------------------------------------- packed raw values

COMMAND_TIMEOUT_ID = 188
_WORD = 0xFFFF
_THREE_WORDS = re.compile(r"^\s*([0-9]+)\s+([0-9]+)\s+([0-9]+)\s*$")


def decode_packed_raw(attr_id: int, raw: int | None, raw_string: str) -> int | None:
    """The count an attribute's raw value stands for, where a vendor packs several into it.

    SMART 188 (command timeout) on Seagate drives holds three 16-bit counters in its 48-bit
    raw value: the total timeouts in the low word, those over 5 s and over 7.5 s above it.
    smartctl decodes it for drives its database knows (``-v 188,raw16``) and prints the
    three words most significant first (``"12 12 12"``): the total is the last. Where it
    prints the undecoded number (``51540393996``), the low word is taken: a drive never
    logs 65,536 timeouts and keeps working, so a larger raw value is packed, not a count.
    This is Scrutiny's reading too (its issue 522). Other attributes pass through.
    """
    if attr_id != COMMAND_TIMEOUT_ID or raw is None:
        return raw
    words = _THREE_WORDS.match(raw_string)
    if words:
        return int(words.group(3))
    return raw & _WORD if raw > _WORD else raw


# --------------------------------------------------------------------------- JSON


def _dict(obj: Any, key: str) -> dict[str, Any]:
    val = obj.get(key) if isinstance(obj, dict) else None
    return val if isinstance(val, dict) else {}


def _int(val: Any) -> int | None:
    if isinstance(val, bool):
        return None
    if isinstance(val, int):
        return val
    if isinstance(val, float) and val.is_integer():
        return int(val)
    return None


def parse_smartctl_json(data: str | bytes) -> DiskHealth:
    """Read the JSON of ``smartctl -j -a`` / ``-x``."""
    text = as_text(data)
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not ("smartctl" in doc or "device" in doc):
        raise ParseError("not smartctl JSON (no 'smartctl' or 'device' object)")
    messages = _dict(doc, "smartctl").get("messages")
    if isinstance(messages, list):
        joined = " ".join(str(m.get("string", "")) for m in messages if isinstance(m, dict))
        reason = device_error(joined)
        if reason and "model_name" not in doc:
            raise SmartctlDeviceError(reason)
    h = DiskHealth()
    proto = _dict(doc, "device").get("protocol")
    h.protocol = proto if isinstance(proto, str) and proto else None
    h.model = clean(doc.get("model_name") or doc.get("scsi_model_name"))
    h.serial = clean(doc.get("serial_number"))
    h.firmware = clean(doc.get("firmware_version") or doc.get("scsi_revision"))
    h.capacity_bytes = _int(_dict(doc, "user_capacity").get("bytes")) or _int(
        doc.get("nvme_total_capacity")
    )
    h.rotation_rpm = _int(doc.get("rotation_rate"))
    passed = _dict(doc, "smart_status").get("passed")
    h.smart_passed = passed if isinstance(passed, bool) else None
    h.power_on_hours = _int(_dict(doc, "power_on_time").get("hours"))
    h.temperature_c = _int(_dict(doc, "temperature").get("current"))
    h.power_cycles = _int(doc.get("power_cycle_count"))
    table = _dict(doc, "ata_smart_attributes").get("table")
    if isinstance(table, list):
        for row in table:
            attr = _json_attribute(row)
            if attr is not None:
                h.attributes[attr.id] = attr
    log = _dict(doc, "nvme_smart_health_information_log")
    if log:
        h.protocol = h.protocol or "NVMe"
        h.nvme_critical_warning = _int(log.get("critical_warning"))
        h.nvme_available_spare = _int(log.get("available_spare"))
        h.nvme_spare_threshold = _int(log.get("available_spare_threshold"))
        h.nvme_percentage_used = _int(log.get("percentage_used"))
        h.nvme_data_units_written = _int(log.get("data_units_written"))
        h.nvme_unsafe_shutdowns = _int(log.get("unsafe_shutdowns"))
        h.nvme_media_errors = _int(log.get("media_errors"))
        h.nvme_error_log_entries = _int(log.get("num_err_log_entries"))
        if h.power_on_hours is None:
            h.power_on_hours = _int(log.get("power_on_hours"))
        if h.temperature_c is None:
            h.temperature_c = _int(log.get("temperature"))
        if h.power_cycles is None:
            h.power_cycles = _int(log.get("power_cycles"))
    _json_scsi(doc, h)
    if h.model is None and h.smart_passed is None and not h.attributes and not log:
        raise ParseError("smartctl JSON without any drive data")
    return h


def _json_scsi(doc: dict[str, Any], h: DiskHealth) -> None:
    """SAS/SCSI health: the grown defect list and the error counter log's uncorrected totals."""
    h.scsi_grown_defects = _int(doc.get("scsi_grown_defect_list"))
    counters = _dict(doc, "scsi_error_counter_log")
    h.scsi_uncorrected_read = _int(_dict(counters, "read").get("total_uncorrected_errors"))
    h.scsi_uncorrected_write = _int(_dict(counters, "write").get("total_uncorrected_errors"))
    h.scsi_uncorrected_verify = _int(_dict(counters, "verify").get("total_uncorrected_errors"))


def _json_attribute(row: Any) -> AtaAttribute | None:
    if not isinstance(row, dict):
        return None
    attr_id = _int(row.get("id"))
    if attr_id is None:
        return None
    raw_obj = _dict(row, "raw")
    raw_str = raw_obj.get("string")
    # The raw string is what smartctl decoded for this attribute ("38 (Min/Max 22/40)");
    # raw.value packs min/max into one 48-bit number for temperatures, so prefer the string.
    raw = leading_int(raw_str) if isinstance(raw_str, str) else None
    if raw is None:
        raw = _int(raw_obj.get("value"))
    raw = decode_packed_raw(attr_id, raw, raw_str if isinstance(raw_str, str) else "")
    when = row.get("when_failed")
    return AtaAttribute(
        id=attr_id,
        name=str(row.get("name", "")),
        value=_int(row.get("value")),
        worst=_int(row.get("worst")),
        thresh=_int(row.get("thresh")),
        raw=raw,
        when_failed=when if isinstance(when, str) else "",
    )


# --------------------------------------------------------------------------- text

_KV = re.compile(r"^([A-Za-z][^:]{1,60}):\s*(.*?)\s*$")
_HEALTH = re.compile(r"self-assessment test result:\s*(\S+)", re.IGNORECASE)
_SCSI_HEALTH = re.compile(r"SMART Health Status:\s*(\S+)", re.IGNORECASE)
_ATTR_HEADER = re.compile(r"^ID#\s+ATTRIBUTE_NAME\s+(FLAGS?)\s+VALUE\s+WORST\s+THRESH")
_NUMBER_PREFIX = re.compile(r"^([0-9,.' \u00a0\u202f\u2019]+?)(?:\s*\[|\s*bytes|\s*$)")


def _number(value: str) -> int | None:
    """The integer at the start of a text value: ``1,000,204,886,016 bytes [1.00 TB]``."""
    m = _NUMBER_PREFIX.match(value.strip())
    if not m:
        return None
    try:
        return parse_int(m.group(1))
    except ParseError:
        return None


def _percent(value: str) -> int | None:
    return _number(value.replace("%", ""))


def parse_smartctl_text(data: str | bytes) -> DiskHealth:
    """Read the text of ``smartctl -a`` / ``--all`` (ATA, NVMe, SCSI)."""
    text = as_text(data)
    if "=== START OF" not in text:
        reason = device_error(text)
        if reason:
            raise SmartctlDeviceError(reason)
        raise ParseError("no smartctl section header")
    h = DiskHealth()
    kv: dict[str, str] = {}
    lines = text.splitlines()
    attr_long: bool | None = None
    for line in lines:
        m = _HEALTH.search(line)
        if m:
            h.smart_passed = m.group(1).upper().startswith("PASSED")
            continue
        m = _SCSI_HEALTH.search(line)
        if m:
            h.smart_passed = m.group(1).upper() == "OK"
            continue
        m = _ATTR_HEADER.match(line.strip())
        if m:
            attr_long = m.group(1) == "FLAG"
            continue
        if attr_long is not None:
            attr = _text_attribute(line, attr_long)
            if attr is not None:
                h.attributes[attr.id] = attr
                continue
            if not line.strip() or line.lstrip().startswith("|"):
                attr_long = None
            continue
        m = _KV.match(line.strip())
        if m:
            kv.setdefault(m.group(1).strip().lower(), m.group(2))
    _fill_info(h, kv, text)
    if h.model is None and h.smart_passed is None and not h.attributes:
        raise ParseError("smartctl text without drive data")
    return h


def _text_attribute(line: str, long_format: bool) -> AtaAttribute | None:
    parts = line.split()
    if len(parts) < 7 or not is_digits(parts[0]):
        return None
    raw_at = 9 if long_format else 7
    when = parts[8] if long_format and len(parts) > 8 else (parts[6] if not long_format else "")
    raw_text = " ".join(parts[raw_at:]) if len(parts) > raw_at else ""
    raw = decode_packed_raw(int(parts[0]), leading_int(raw_text), raw_text)

    def num(s: str) -> int | None:
        return int(s) if is_digits(s) else None

    return AtaAttribute(
        id=int(parts[0]),
        name=parts[1],
        value=num(parts[3]),
        worst=num(parts[4]),
        thresh=num(parts[5]),
        raw=raw,
        when_failed="" if when == "-" else when,
    )


def _fill_info(h: DiskHealth, kv: dict[str, str], text: str) -> None:
    def get(*keys: str) -> str | None:
        for k in keys:
            if k in kv:
                return kv[k]
        return None

    h.model = clean(get("device model", "model number", "product"))
    h.serial = clean(get("serial number", "serial number:"))
    h.firmware = clean(get("firmware version", "revision"))
    # Some firmware reports "Total NVM Capacity: 0"; take the first positive figure.
    for key in ("user capacity", "total nvm capacity", "namespace 1 size/capacity"):
        size = _number(kv.get(key, ""))
        if size:
            h.capacity_bytes = size
            break
    rot = get("rotation rate")
    if rot is not None:
        h.rotation_rpm = 0 if "solid state" in rot.lower() else _number(rot.replace("rpm", ""))
    if "SMART/Health Information (NVMe" in text:
        h.protocol = "NVMe"
        warn = get("critical warning")
        if warn:
            try:
                h.nvme_critical_warning = int(warn.split()[0], 0)
            except ValueError:
                h.nvme_critical_warning = None
        h.nvme_available_spare = _percent(get("available spare") or "")
        h.nvme_spare_threshold = _percent(get("available spare threshold") or "")
        h.nvme_percentage_used = _percent(get("percentage used") or "")
        h.nvme_data_units_written = _number(get("data units written") or "")
        h.nvme_unsafe_shutdowns = _number(get("unsafe shutdowns") or "")
        h.nvme_media_errors = _number(get("media and data integrity errors") or "")
        h.nvme_error_log_entries = _number(get("error information log entries") or "")
        h.power_on_hours = _number(get("power on hours") or "")
        h.power_cycles = _number(get("power cycles") or "")
        temp = get("temperature")
        h.temperature_c = _number(temp.split()[0]) if temp else None
    elif h.attributes or "Device Model:" in text:
        h.protocol = "ATA"
        _from_attributes(h)
    elif "SMART Health Status:" in text:
        h.protocol = "SCSI"
        temp = get("current drive temperature")
        h.temperature_c = _number(temp.split()[0]) if temp else None
        # "Accumulated power on time, hours:minutes 12345:30": the key itself holds a colon.
        m = re.search(r"power on time, hours:minutes\s+([0-9,.]+):", text)
        if m:
            h.power_on_hours = _number(m.group(1))
        _text_scsi(h, text)


_GROWN = re.compile(r"^\s*Elements in grown defect list:\s*([0-9][0-9,.' ]*)\s*$", re.MULTILINE)
_COUNTER_ROW = re.compile(r"^\s*(read|write|verify):\s+(.*\S)\s*$", re.MULTILINE)


def _text_scsi(h: DiskHealth, text: str) -> None:
    """``Elements in grown defect list: N`` and the error counter log rows (last column)."""
    m = _GROWN.search(text)
    if m:
        h.scsi_grown_defects = _number(m.group(1))
    for row in _COUNTER_ROW.finditer(text):
        cells = row.group(2).split()
        # seven columns: ECC fast, delayed, rereads, corrected, invocations, GB, uncorrected
        if len(cells) != 7 or not is_digits(cells[-1]):
            continue
        uncorrected = int(cells[-1])
        if row.group(1) == "read":
            h.scsi_uncorrected_read = uncorrected
        elif row.group(1) == "write":
            h.scsi_uncorrected_write = uncorrected
        else:
            h.scsi_uncorrected_verify = uncorrected


def _from_attributes(h: DiskHealth) -> None:
    """Fill the drive-wide facts an ATA drive only reports as attributes."""
    attrs = h.attributes
    if h.power_on_hours is None and 9 in attrs:
        h.power_on_hours = attrs[9].raw
    if h.power_cycles is None and 12 in attrs:
        h.power_cycles = attrs[12].raw
    if h.temperature_c is None:
        for tid in (194, 190):
            if tid in attrs and attrs[tid].raw is not None:
                h.temperature_c = attrs[tid].raw
                break


def ata_fill(h: DiskHealth) -> DiskHealth:
    """Apply the attribute fallbacks to JSON results too (old JSON lacks top-level fields)."""
    if h.protocol in (None, "ATA") and h.attributes:
        _from_attributes(h)
    return h


# --------------------------------------------------------------------------- scan


@dataclass(frozen=True, slots=True)
class ScannedDevice:
    """One line of ``smartctl --scan-open``: the path and the ``-d`` type to use."""

    name: str
    type: str
    open_error: str = ""


def parse_scan(data: str | bytes) -> list[ScannedDevice]:
    """Read ``smartctl --scan-open`` (``-j`` JSON or text ``/dev/sda -d sat # ...``)."""
    text = as_text(data)
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ParseError(f"invalid JSON: {exc}") from exc
        if not isinstance(doc, dict) or not ("devices" in doc or "smartctl" in doc):
            raise ParseError("not smartctl --scan JSON")
        # smartctl omits "devices" entirely when it finds none (a VM, a container).
        devices = doc.get("devices", [])
        if not isinstance(devices, list):
            raise ParseError("scan JSON 'devices' is not a list")
        out = []
        for d in devices:
            if isinstance(d, dict) and isinstance(d.get("name"), str):
                err = d.get("open_error")
                out.append(
                    ScannedDevice(
                        d["name"], str(d.get("type", "")), err if isinstance(err, str) else ""
                    )
                )
        return out
    out = []
    for line in text.splitlines():
        body = line.split("#", 1)[0].split()
        if not body or not body[0].startswith(("/dev/", "IOService")):
            continue
        dtype = body[2] if len(body) >= 3 and body[1] == "-d" else ""
        out.append(ScannedDevice(body[0], dtype))
    return out
