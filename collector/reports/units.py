"""Numbers as a person reads them: rounded, with their unit, in one place.

The CLI's tables and the web pages both print through :func:`human`, so
"mem.total_bytes 25276194816" reads "23.5 GiB" wherever it is shown, and JSON
and CSV keep the exact numbers for programs.
"""

from __future__ import annotations

import math
import time
from typing import Any

_BYTE_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")


def size(n_bytes: float) -> str:
    """1024-based sizes (what the OS reports memory and disks in): '23.5 GiB'."""
    value = float(n_bytes)
    for unit in _BYTE_UNITS:
        if abs(value) < 1024 or unit == _BYTE_UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def duration(seconds: float) -> str:
    """'45 s', '12 min', '3.5 h', '4 days'."""
    s = float(seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.0f} days"


def months(value: float | None) -> str:
    """Months to a threshold: '19 months', 'over 10 years', 'now', 'unknown'."""
    if value is None:
        return "unknown"
    if math.isinf(value) or value > 120:
        return "over 10 years"
    if value <= 0:
        return "now"
    return f"{value:.0f} months" if value >= 2 else f"{value * 30.44:.0f} days"


def when(t_s: float | None) -> str:
    """UTC date and minute, or '-'."""
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t_s)) if t_s else "-"


def ago(t_s: float | None, now_s: float | None = None) -> str:
    """'5 min ago', 'in 3 h' (a time in the future says so), or 'never'."""
    if not t_s:
        return "never"
    delta = (time.time() if now_s is None else now_s) - t_s
    if abs(delta) < 1:
        return "just now"
    return f"{duration(abs(delta))} ago" if delta > 0 else f"in {duration(-delta)}"


def human(value: Any, unit: str) -> str:
    """A reading with its unit, rounded for reading; text and codes pass through."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    v = float(value)
    if unit == "bytes":
        return size(v)
    if unit == "bytes/s":
        return size(v) + "/s"
    if unit == "s":
        return duration(v)
    if unit == "epoch s":
        return when(v)
    if unit in ("%", "% of design"):
        return f"{v:.0f} %" if abs(v) >= 10 else f"{v:.1f} %"
    if unit in ("mWh", "mAh"):
        return f"{v / 1000:.1f} {unit[1:]}"  # Wh, Ah
    if unit in ("bool",):
        return "yes" if v else "no"
    text = f"{v:.0f}" if v.is_integer() or abs(v) >= 100 else f"{v:.3g}"
    return f"{text} {unit}".strip() if unit not in ("code", "count", "") else text
