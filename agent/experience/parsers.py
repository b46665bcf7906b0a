"""Pure parsers over captured OS output: no I/O, no clock, never raising on junk.

Each returns ``None`` (or an empty list) for input it cannot read, so a source
can say "unparseable" instead of crashing; durations are never negative.
Inputs are what the tools print: ``systemd-analyze``, ``journalctl --list-boots
-o json`` and ``journalctl -o json``, ``coredumpctl list --json=short``,
``/proc/pressure/*``, ``loginctl show-seat``, Windows event XML as exported by
``wevtutil qe /f:xml`` or ``Get-WinEvent | ToXml()``, and macOS ``ioreg``,
``sysctl kern.boottime`` and ``log show``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the XML parser loads only where Windows events are parsed
    import xml.etree.ElementTree as ET

# --- durations --------------------------------------------------------------------------

_UNIT_S = {"d": 86400.0, "h": 3600.0, "min": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(min|ms|us|µs|d|h|s)(?![a-z])")


def parse_systemd_duration(text: str) -> float | None:
    """'1min 5.947s' -> 65.947; '850ms' -> 0.85; None when nothing matches."""
    parts = _PART.findall(text)
    if not parts:
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


# --- boot ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BootTimes:
    """Seconds; ``None`` where the OS did not say."""

    duration_s: float | None = None
    os_ready_s: float | None = None
    login_to_usable_s: float | None = None


_STARTUP = re.compile(r"Startup finished in (?P<parts>.*?)=\s*(?P<total>[^\n]+)")
_PHASE = re.compile(r"((?:\d+(?:\.\d+)?\s*(?:min|ms|us|µs|d|h|s)\s*)+)\((\w+)\)")
_TARGET = re.compile(r"^\S+\.target reached after (?P<d>.+?) in userspace", re.M)


def parse_systemd_analyze(text: str) -> BootTimes | None:
    """``systemd-analyze`` (time) output -> boot duration and time to the default target.

    ``os_ready_s`` is kernel (+ initrd) + the time userspace took to reach the
    default target; firmware and loader time count only in ``duration_s``.
    """
    m = _STARTUP.search(text)
    if not m:
        return None
    total = parse_systemd_duration(m.group("total"))
    phases = {
        name: parse_systemd_duration(d) or 0.0 for d, name in _PHASE.findall(m.group("parts"))
    }
    if total is None or total < 0:
        return None
    ready: float | None = None
    t = _TARGET.search(text)
    if t:
        reached = parse_systemd_duration(t.group("d"))
        if reached is not None:
            ready = phases.get("kernel", 0.0) + phases.get("initrd", 0.0) + reached
    return BootTimes(duration_s=total, os_ready_s=ready)


# --- Windows event XML -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WinEvent:
    provider: str
    event_id: int
    time_s: float | None
    data: dict[str, str] = field(default_factory=dict)
    values: tuple[str, ...] = ()


_NS = re.compile(r"\{[^}]*\}")
_EVENT_CHUNK = re.compile(r"<Event[\s>].*?</Event>", re.S)


def _local(tag: str) -> str:
    return _NS.sub("", tag)


def parse_iso_utc(text: str) -> float | None:
    """'2026-11-24T08:01:12.5000000Z' (7 or 9 fractional digits) -> epoch seconds."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$", text.strip())
    if not m:
        return None
    zone = m.group(3) or "Z"
    zone = "+00:00" if zone == "Z" else zone
    try:
        base = datetime.fromisoformat(m.group(1) + zone).timestamp()
    except ValueError:
        return None
    frac = m.group(2) or ""
    return base + (int(frac) / 10 ** len(frac) if frac else 0.0)


def _event_from_element(root: ET.Element) -> WinEvent | None:
    provider, event_id, when = "", None, None
    data: dict[str, str] = {}
    values: list[str] = []
    for el in root.iter():
        tag = _local(el.tag)
        if tag == "Provider":
            provider = el.get("Name", "")
        elif tag == "EventID" and el.text and el.text.strip().isdigit():
            event_id = int(el.text.strip())
        elif tag == "TimeCreated":
            when = parse_iso_utc(el.get("SystemTime", ""))
        elif tag == "Data":
            value = (el.text or "").strip()
            values.append(value)
            if el.get("Name"):
                data[el.get("Name", "")] = value
    if event_id is None:
        return None
    return WinEvent(provider, event_id, when, data, tuple(values))


def parse_win_events(text: str) -> list[WinEvent]:
    """Every ``<Event>`` in wevtutil or Get-WinEvent XML output; unreadable ones are skipped.

    The input is the OS's own event log rendered locally, and each chunk is
    parsed alone, so one damaged event does not hide the rest.
    """
    import xml.etree.ElementTree as ET

    events = []
    for chunk in _EVENT_CHUNK.findall(text):
        if "<!DOCTYPE" in chunk or "<!ENTITY" in chunk:
            continue  # event XML never declares entities; refuse rather than expand them
        try:
            root = ET.fromstring(chunk)  # noqa: S314 - local OS output, entity declarations refused
        except ET.ParseError:
            continue
        event = _event_from_element(root)
        if event is not None:
            events.append(event)
    return events


def _int_ms(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip()) / 1000.0


def windows_boot_times(events: list[WinEvent]) -> BootTimes | None:
    """The newest Diagnostics-Performance 100 event -> boot, main path and post-boot seconds."""
    boots = [
        e for e in events if e.event_id == 100 and e.provider.endswith("Diagnostics-Performance")
    ]
    if not boots:
        return None
    newest = max(boots, key=lambda e: e.time_s or 0.0)
    return BootTimes(
        duration_s=_int_ms(newest.data.get("BootTime")),
        os_ready_s=_int_ms(newest.data.get("MainPathBootTime")),
        login_to_usable_s=_int_ms(newest.data.get("BootPostBootTime")),
    )


@dataclass(slots=True)
class Reliability:
    """Event counts in a window, plus crashing executables' base names (never paths)."""

    unexpected_shutdowns: int = 0
    os_crashes: int = 0
    app_crashes: int = 0
    app_hangs: int = 0
    crash_exes: dict[str, int] = field(default_factory=dict)


_EXE = re.compile(r"[^\\/]+$")
_SAFE_EXE = re.compile(r"[^A-Za-z0-9._+-]")


def exe_base_name(value: str) -> str:
    """'C:\\x\\OUTLOOK.EXE' or '/usr/lib/firefox/firefox' -> the last part, 64 safe chars."""
    m = _EXE.search(value.strip())
    base = m.group(0) if m else ""
    return _SAFE_EXE.sub("_", base)[:64]


def _cluster(times: list[float], gap_s: float) -> int:
    """How many groups the times fall into when events closer than ``gap_s`` are one."""
    count, last = 0, None
    for t in sorted(times):
        if last is None or t - last > gap_s:
            count += 1
        last = t
    return count


def windows_reliability(events: list[WinEvent], since_s: float, until_s: float) -> Reliability:
    """Kernel-Power 41 / EventLog 6008 (one shutdown logs both: merged within 10 min),
    bugchecks (1001 from BugCheck/WER-SystemErrorReporting, or a 41 whose
    BugcheckCode is not 0; also merged within 10 min), Application Error 1000
    and Application Hang 1002, counted when ``since_s <= time < until_s``."""
    out = Reliability()
    shutdowns: list[float] = []
    bugchecks: list[float] = []
    for e in events:
        if e.time_s is None or not since_s <= e.time_s < until_s:
            continue
        if (e.event_id == 41 and e.provider.endswith("Kernel-Power")) or (
            e.event_id == 6008 and e.provider == "EventLog"
        ):
            shutdowns.append(e.time_s)
            # A non-zero BugcheckCode in 41 is a blue screen even when no 1001 was written.
            if e.data.get("BugcheckCode", "0").strip() not in ("", "0"):
                bugchecks.append(e.time_s)
        elif e.event_id == 1001 and e.provider in {
            "Microsoft-Windows-WER-SystemErrorReporting",
            "BugCheck",
        }:
            bugchecks.append(e.time_s)
        elif e.event_id in (1000, 1002) and e.provider in {"Application Error", "Application Hang"}:
            if e.event_id == 1000:
                out.app_crashes += 1
                name = exe_base_name(e.data.get("AppName") or (e.values[0] if e.values else ""))
                if name:
                    out.crash_exes[name] = out.crash_exes.get(name, 0) + 1
            else:
                out.app_hangs += 1
    out.unexpected_shutdowns = _cluster(shutdowns, 600.0)
    out.os_crashes = _cluster(bugchecks, 600.0)
    return out


# --- Linux journal ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Boot:
    index: int
    boot_id: str
    first_s: float
    last_s: float


def _json_records(text: str) -> list[Any]:
    """A JSON array, or one JSON value per line (optionally RS-prefixed, as json-seq)."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except ValueError:
            return []
        return value if isinstance(value, list) else []
    records = []
    for raw in stripped.replace("\x1e", "\n").splitlines():
        line = raw.strip()
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def parse_list_boots(text: str) -> list[Boot]:
    """``journalctl --list-boots -o json`` -> boots, oldest first; bad rows are skipped."""
    boots = []
    for r in _json_records(text):
        if not isinstance(r, dict):
            continue
        try:
            boots.append(
                Boot(
                    int(r["index"]),
                    str(r["boot_id"]),
                    int(r["first_entry"]) / 1e6,
                    int(r["last_entry"]) / 1e6,
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(boots, key=lambda b: b.index)


# Messages only a clean shutdown or reboot writes near the end of a boot.
_CLEAN_END = re.compile(
    r"Journal stopped|Reached target (System Power Off|System Reboot|System Halt|Shutdown)"
    r"|System is (powering down|rebooting|halting)|Shutting down\.|systemd-shutdown|"
    r"Received SIGTERM from PID 1"
)


# systemd catalog ids, the same in every language: journald stopping
# (SD_MESSAGE_JOURNAL_STOP) and "System shutdown initiated" (SD_MESSAGE_SHUTDOWN).
_CLEAN_END_IDS = frozenset({"d93fb3c9c24d451a97cea615ce59c00b", "98268866d1d54a499c4e98921d93bc40"})


def _message(record: dict[str, Any]) -> str:
    msg = record.get("MESSAGE", "")
    if isinstance(msg, list):  # journalctl prints non-UTF-8 messages as byte arrays
        try:
            return bytes(int(b) & 0xFF for b in msg).decode("utf-8", "replace")
        except (TypeError, ValueError):
            return ""
    return msg if isinstance(msg, str) else ""


def boot_ended_cleanly(text: str) -> bool | None:
    """The last messages of a boot (``journalctl -b ID -n 30 -o json``) -> clean or not.

    ``None`` when there are no readable records at all (so: unknown, not unclean).
    """
    records = [r for r in _json_records(text) if isinstance(r, dict)]
    if not records:
        return None
    return any(
        r.get("MESSAGE_ID") in _CLEAN_END_IDS or _CLEAN_END.search(_message(r)) for r in records
    )


@dataclass(frozen=True, slots=True)
class Crash:
    time_s: float
    exe: str
    signal: int | None


def parse_coredumpctl(text: str) -> list[Crash]:
    """``coredumpctl list --json=short`` -> crashes (executable base name only).

    'No coredumps found.' and other non-JSON text give an empty list.
    """
    crashes = []
    for r in _json_records(text):
        if not isinstance(r, dict):
            continue
        try:
            t = int(r["time"]) / 1e6
        except (KeyError, TypeError, ValueError):
            continue
        sig = r.get("sig")
        crashes.append(
            Crash(t, exe_base_name(str(r.get("exe") or "")), sig if isinstance(sig, int) else None)
        )
    return crashes


# --- Linux PSI ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pressure:
    avg10: float
    avg60: float
    avg300: float
    total_us: int


_PSI = re.compile(
    r"^(some|full) avg10=(\d+(?:\.\d+)?) avg60=(\d+(?:\.\d+)?) avg300=(\d+(?:\.\d+)?) total=(\d+)$",
    re.M,
)


def parse_psi(text: str) -> dict[str, Pressure]:
    """A /proc/pressure/{cpu,memory,io} file -> {'some': ..., 'full': ...} (either may lack)."""
    return {
        kind: Pressure(float(a10), float(a60), float(a300), int(total))
        for kind, a10, a60, a300, total in _PSI.findall(text)
    }


# --- idle time -----------------------------------------------------------------------------------


def parse_key_values(text: str) -> dict[str, str]:
    """``loginctl show-*`` output (Key=Value lines)."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def logind_idle_s(text: str, monotonic_now_s: float) -> float | None:
    """``loginctl show-seat seat0`` -> seconds since input on the seat.

    IdleHint=no is 0 (in use); IdleHint=yes uses IdleSinceHintMonotonic (µs,
    CLOCK_MONOTONIC), clamped at 0 so a clock oddity never gives a negative idle time.
    """
    kv = parse_key_values(text)
    hint = kv.get("IdleHint")
    if hint == "no":
        return 0.0
    if hint != "yes":
        return None
    since = kv.get("IdleSinceHintMonotonic", "")
    if not since.isdigit() or int(since) == 0:
        return None
    return max(0.0, monotonic_now_s - int(since) / 1e6)


_HID_IDLE = re.compile(r'"HIDIdleTime"\s*=\s*(\d+)')


def parse_ioreg_idle(text: str) -> float | None:
    """``ioreg -c IOHIDSystem`` -> seconds since input (HIDIdleTime is nanoseconds).

    With several IOHIDSystem entries the smallest idle time is the truth.
    """
    values = [int(v) for v in _HID_IDLE.findall(text)]
    return min(values) / 1e9 if values else None


# --- macOS ----------------------------------------------------------------------------------

_BOOTTIME = re.compile(r"sec\s*=\s*(\d+)(?:,\s*usec\s*=\s*(\d+))?")


def parse_kern_boottime(text: str) -> float | None:
    """``sysctl kern.boottime`` -> epoch seconds of the boot."""
    m = _BOOTTIME.search(text)
    if not m:
        return None
    return int(m.group(1)) + (int(m.group(2)) / 1e6 if m.group(2) else 0.0)


_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?([+-]\d{4})\s+(.*)$", re.M)


def _log_time(date: str, clock: str, frac: str | None, zone: str) -> float | None:
    try:
        base = datetime.fromisoformat(f"{date}T{clock}{zone[:3]}:{zone[3:]}").timestamp()
    except ValueError:
        return None
    return base + (int(frac) / 10 ** len(frac) if frac else 0.0)


def parse_log_show(text: str, pattern: str) -> list[tuple[float, str]]:
    """``log show`` (default or syslog style) lines whose text matches ``pattern``."""
    rx = re.compile(pattern)
    out = []
    for date, clock, frac, zone, rest in _LOG_LINE.findall(text):
        if rx.search(rest):
            t = _log_time(date, clock, frac or None, zone)
            if t is not None:
                out.append((t, rest))
    return out


_CAUSE = re.compile(r"[Pp]revious [Ss]hutdown [Cc]ause:\s*(-?\d+)")
# 5 is the normal "shutdown or restart from software"; every other code is a power
# loss, a forced power-off, a thermal or watchdog stop, or a panic.
CLEAN_SHUTDOWN_CAUSES = frozenset({5})


def macos_shutdown_causes(text: str) -> list[tuple[float, int]]:
    """``log show --predicate 'eventMessage CONTAINS "Previous shutdown cause"'`` -> (t, code)."""
    out = []
    for t, rest in parse_log_show(text, r"[Pp]revious [Ss]hutdown [Cc]ause"):
        m = _CAUSE.search(rest)
        if m:
            out.append((t, int(m.group(1))))
    return out


def macos_boot_times(boottime_s: float, log_text: str) -> BootTimes | None:
    """Boot to the login window, from kern.boottime and the loginwindow start line.

    A login window "before" the boot (a clock that stepped) gives None, not a
    negative duration.
    """
    starts = [
        t
        for t, _ in parse_log_show(log_text, r"Login Window Application Started")
        if t >= boottime_s
    ]
    if not starts:
        return None
    return BootTimes(duration_s=min(starts) - boottime_s)


# --- Linux block devices ------------------------------------------------------------------------


def parse_diskstats(text: str) -> dict[str, int]:
    """/proc/diskstats -> {device name: milliseconds spent doing I/O} (field 13)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 13 and parts[12].isdigit():
            out[parts[2]] = int(parts[12])
    return out


# --- Windows sessions -----------------------------------------------------------------------------

_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_IDLE_DHM = re.compile(r"^(?:(\d+)\+)?(\d+):(\d\d)$")


def _quser_idle_s(cell: str) -> float | None:
    if cell.isdigit():
        return int(cell) * 60.0
    m = _IDLE_DHM.match(cell)
    if m:
        days, hours, minutes = int(m.group(1) or 0), int(m.group(2)), int(m.group(3))
        return ((days * 24 + hours) * 60 + minutes) * 60.0
    if cell == "." or cell.isalpha():  # "none", ".", or the localised word for none
        return 0.0
    return None


def parse_quser_idle(text: str) -> float | None:
    """``quser`` / ``query user`` -> seconds since input in the most recently used session.

    Works from a service (session 0), where GetLastInputInfo only sees the
    service's own session. The column layout is fixed but the words are
    localised, so the idle time is read as the token just before the logon
    date; only that number is kept (never the user or session names).
    Sessions in state "Active" are preferred when the output is in English.
    """
    rows: list[tuple[str, float]] = []
    for line in text.splitlines():
        tokens = line.split()
        for i, token in enumerate(tokens):
            if i >= 2 and _DATE.match(token):
                idle = _quser_idle_s(tokens[i - 1])
                if idle is not None:
                    rows.append((tokens[i - 2].lower(), idle))
                break
    if not rows:
        return None
    active = [idle for state, idle in rows if state == "active"]
    return min(active or [idle for _, idle in rows])
