"""OS and CPU identity: ``/etc/os-release``, ``/proc/cpuinfo`` and CPU-generation facts.

Windows 11's supported-CPU list is too large to ship; instead the agent reports
the facts it is decided on (vendor, family, model, and the marketing generation
read from the brand string) and leaves the verdict to the collector.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kitlife.agent.parsers._common import ParseError, as_text


def parse_os_release(data: str | bytes) -> dict[str, str]:
    """``KEY=value`` / ``KEY="value"`` lines of os-release(5)."""
    out: dict[str, str] = {}
    for line in as_text(data).splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.isidentifier():
            out[key] = value.strip().strip('"').strip("'")
    if not out:
        raise ParseError("no os-release fields")
    return out


@dataclass(slots=True)
class CpuId:
    vendor: str | None
    family: int | None
    model: int | None
    brand: str | None


def parse_cpuinfo(data: str | bytes) -> CpuId:
    """The first processor block of ``/proc/cpuinfo`` (x86 and most ARM kernels)."""
    fields: dict[str, str] = {}
    for line in as_text(data).splitlines():
        if not line.strip():
            if fields:
                break
            continue
        k, sep, v = line.partition(":")
        if sep:
            fields.setdefault(k.strip().lower(), v.strip())
    if not fields:
        raise ParseError("empty cpuinfo")

    def num(key: str) -> int | None:
        v = fields.get(key, "")
        try:
            return int(v, 0)
        except ValueError:
            return None

    return CpuId(
        vendor=fields.get("vendor_id") or fields.get("cpu implementer"),
        family=num("cpu family"),
        model=num("model"),
        brand=fields.get("model name") or fields.get("hardware"),
    )


_WINDOWS_EDITION = re.compile(r"\bWindows\s+(?:Server\s+)?\d+(?:\s+R2)?\s+(?P<edition>\S.*)$", re.I)


def parse_windows_edition(caption: str) -> str | None:
    """The edition in ``Win32_OperatingSystem.Caption``, as Windows words it.

    ``Microsoft Windows 11 Enterprise`` -> ``Enterprise``; ``Microsoft Windows 10
    Pro for Workstations`` -> ``Pro for Workstations``; a localised caption keeps its
    language (``Professionnel``). None when the caption names no edition. Which
    editions share an end-of-support date is the collector's judgement, not a fact.
    """
    m = _WINDOWS_EDITION.search(" ".join(caption.split()))
    return m.group("edition") if m else None


def parse_wmi_cpu_description(text: str) -> tuple[int | None, int | None]:
    """``Intel64 Family 6 Model 142 Stepping 10`` -> (6, 142)."""
    m = re.search(r"Family\s+([0-9]+)\s+Model\s+([0-9]+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


_INTEL_CORE = re.compile(r"\bi[3579]-([0-9]{4,5})([A-Z]\w*)?", re.IGNORECASE)
_INTEL_CORE_GEN1 = re.compile(r"\bi[357]\s+CPU\s+(?:[A-Z]\s+)?[0-9]{3}\b", re.IGNORECASE)
_RYZEN = re.compile(r"\bRyzen\s+(?:[0-9]|Threadripper)\s+(?:PRO\s+)?([0-9])[0-9]{3}", re.IGNORECASE)


def cpu_generation(brand: str) -> int | None:
    """Intel Core i3/5/7/9 generation or AMD Ryzen series from the brand string.

    ``i5-8350U`` -> 8, ``i7-10510U`` -> 10, ``i5-1135G7`` -> 11, ``i5-1235U`` -> 12,
    ``Ryzen 5 3500U`` -> 3. None for anything else (Apple, Core Ultra, Celeron...).
    """
    m = _INTEL_CORE.search(brand)
    if m:
        digits = m.group(1)
        if len(digits) == 5:
            return int(digits[:2])
        if (
            digits.startswith("1")
            and int(digits[:2]) in range(10, 15)
            and ((m.group(2) or "").upper().startswith("G") or int(digits[:2]) >= 12)
        ):
            return int(digits[:2])
        return int(digits[0])
    if _INTEL_CORE_GEN1.search(brand):
        return 1  # "Core i3 CPU M 350": first generation (Arrandale/Clarkdale) naming
    m = _RYZEN.search(brand)
    return int(m.group(1)) if m else None
