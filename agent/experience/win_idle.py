"""Windows: seconds since the last keyboard or mouse input (GetLastInputInfo).

Behind the platform boundary: imported only on Windows; elsewhere the caller
never reaches it. Only the elapsed time is read, never which key or where.
"""

from __future__ import annotations

import ctypes
import sys


class _LastInputInfo(ctypes.Structure):
    _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]


def idle_seconds() -> float | None:
    """None off Windows or when the call fails (e.g. a service with no desktop session)."""
    if sys.platform != "win32":
        return None
    info = _LastInputInfo()
    info.cbSize = ctypes.sizeof(info)
    windll = getattr(ctypes, "windll", None)
    if windll is None or not windll.user32.GetLastInputInfo(ctypes.byref(info)):
        return None
    # Both counters are 32-bit milliseconds since boot and wrap after 49.7 days.
    now = windll.kernel32.GetTickCount() & 0xFFFFFFFF
    return ((now - info.dwTime) & 0xFFFFFFFF) / 1000.0
