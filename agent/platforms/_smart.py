"""SMART collection shared by every OS: smartctl enumerates, then reads each disk.

We call smartctl directly rather than through pySMART: pySMART runs smartctl
without a timeout (a sleeping USB bridge would stall the agent) and only parses
text; smartctl >= 7 gives JSON, which we prefer, and the text parser covers 6.x.
"""

from __future__ import annotations

from collections.abc import Callable

from kitlife.agent.commands import CommandError, output
from kitlife.agent.parsers._common import ParseError
from kitlife.agent.parsers.emit import emit_disk
from kitlife.agent.parsers.smartctl import (
    DiskHealth,
    SmartctlDeviceError,
    ata_fill,
    device_error,
    parse_scan,
    parse_smartctl,
)
from kitlife.agent.readings import SourceResult

Runner = Callable[[list[str]], str]

# smartctl exit-code bits 0-1 mean "could not run / open"; bits 2-7 describe the
# drive (failing, past errors) and still come with data we want.
_DATA_EXIT_CODES = tuple(c for c in range(256) if not c & 0b11)


def _default_runner(argv: list[str]) -> str:
    return output(argv, timeout=30.0, ok_codes=_DATA_EXIT_CODES)


def disk_label(device: str) -> str:
    """``/dev/nvme0`` -> ``nvme0``; ``/dev/sda`` -> ``sda``; Windows ``/dev/pd0`` -> ``pd0``."""
    return device.rstrip("/").rsplit("/", 1)[-1] or device


def read_smart(out: SourceResult, runner: Runner = _default_runner) -> list[str]:
    """Fill ``out`` for every disk smartctl finds; return the labels of disks read."""
    try:
        scan = runner(["smartctl", "--scan-open", "-j"])
    except CommandError as exc:
        out.missing(exc.reason)
        return []
    try:
        devices = parse_scan(scan)
    except ParseError:
        try:
            devices = parse_scan(runner(["smartctl", "--scan-open"]))
        except (CommandError, ParseError) as exc:
            out.missing(f"unparseable (smartctl --scan-open: {exc})")
            return []
    if not devices:
        reason = device_error(scan) or "no disks visible to smartctl"
        out.missing(reason)
        return []
    done = []
    for dev in devices:
        label = disk_label(dev.name)
        if dev.open_error:
            # --scan-open already tried the device: as a normal user this is where
            # "Permission denied" shows up, before any per-disk call.
            out.missing(device_error(dev.open_error) or f"cannot open ({dev.open_error})", label)
            continue
        argv = ["smartctl", "-j", "-a", dev.name]
        if dev.type:
            argv[1:1] = ["-d", dev.type]
        try:
            health = _read_one(runner, argv)
        except SmartctlDeviceError as exc:
            out.missing(str(exc), label)
            continue
        except CommandError as exc:
            out.missing(exc.reason, label)
            continue
        except ParseError as exc:
            out.missing(f"unparseable ({exc})", label)
            continue
        emit_disk(out, label, health)
        done.append(label)
    return done


def _read_one(runner: Runner, argv: list[str]) -> DiskHealth:
    text = runner(argv)
    reason = device_error(text) if '"model_name"' not in text else None
    if reason:
        raise SmartctlDeviceError(reason)
    try:
        return ata_fill(parse_smartctl(text))
    except ParseError:
        # smartctl 6.x ignores -j and prints text or an error: retry without it.
        legacy = [a for a in argv if a != "-j"]
        return ata_fill(parse_smartctl(runner(legacy)))
