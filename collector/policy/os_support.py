"""When an installed OS stops getting security updates: one table, one lookup.

Agents report the OS's identity (``inv.os_name``, ``inv.os_version``,
``inv.os_build``, ``inv.os_edition``, ``inv.os_release_name``); the dates are
judgement that changes with vendors' announcements, so they live once, in
``policy/data/os_support.csv`` with a source per row, and both the score
(``scoring/components.py``) and the role fit (``fit.py``) ask this module.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

from kitlife.collector.policy.tables import read_packaged

_DARWIN_FIRST_MACOS11 = 20  # Darwin 20 is macOS 11; Darwin 19 is 10.15
_DARWIN_YEAR_NAMES = 25  # Darwin 25 is macOS 26 (Tahoe), after 24 = macOS 15


@dataclass(frozen=True, slots=True)
class OsIdentity:
    """What the agent says the OS is; any field may be empty."""

    name: str = ""
    version: str = ""
    build: str = ""
    edition: str = ""
    release_name: str = ""

    @classmethod
    def from_inventory(cls, latest: Mapping[str, object]) -> OsIdentity:
        """From latest readings keyed by metric name (``inv.os_name`` ...)."""

        def text(key: str) -> str:
            value = latest.get(key)
            return value.strip() if isinstance(value, str) else ""

        return cls(
            name=text("inv.os_name"),
            version=text("inv.os_version"),
            build=text("inv.os_build"),
            edition=text("inv.os_edition"),
            release_name=text("inv.os_release_name"),
        )


@dataclass(frozen=True, slots=True)
class SupportEnd:
    """The end of security updates for one release, and where that date comes from."""

    os: str
    release: str
    edition: str
    end: dt.date
    source: str

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.os, self.release, self.edition) if p)


@dataclass(frozen=True, slots=True)
class _Row:
    os: str
    release: str
    build: int | None
    edition: str
    end: dt.date
    source: str


@functools.cache
def _rows() -> tuple[_Row, ...]:
    text = read_packaged("os_support.csv")
    lines = [ln for ln in io.StringIO(text) if not ln.startswith("#")]
    out = []
    for r in csv.DictReader(lines):
        out.append(
            _Row(
                os=r["os"],
                release=r["release"],
                build=int(r["build"]) if r["build"] else None,
                edition=r["edition"],
                end=dt.date.fromisoformat(r["end_of_support"]),
                source=r["source"],
            )
        )
    return tuple(out)


def _windows_builds(major: str) -> list[int]:
    return sorted(
        r.build
        for r in _rows()
        if r.os == "Windows" and r.release.startswith(f"{major} ") and r.build
    )


def _enterprise(edition: str) -> bool:
    low = edition.lower()
    return "enterprise" in low or "education" in low


def _windows_build(ident: OsIdentity) -> int | None:
    if ident.build.isdigit():
        return int(ident.build)
    found = re.search(r"10\.0\.(\d{5})", ident.version)
    return int(found.group(1)) if found else None


def _pick(rows: list[_Row], edition: str) -> _Row | None:
    """The edition's row, Home/Pro when the edition is unknown or not in the table."""
    if not rows:
        return None
    want = "Enterprise/Education" if _enterprise(edition) else "Home/Pro"
    for row in rows:
        if row.edition == want:
            return row
    return rows[0]


def _as_end(row: _Row | None) -> SupportEnd | None:
    if row is None:
        return None
    return SupportEnd(row.os, row.release, row.edition, row.end, row.source)


def _windows(ident: OsIdentity) -> SupportEnd | None:
    build = _windows_build(ident)
    if build is None:
        return None
    win11 = _windows_builds("11")
    if win11 and build >= win11[0]:
        # Windows 11's feature updates are free and routine under management, and
        # Microsoft has announced no end for Windows 11 itself: a feature release's
        # date is a patching matter, not the device's horizon.
        return None
    rows = [r for r in _rows() if r.os == "Windows" and r.build == build]
    if rows:
        return _as_end(_pick(rows, ident.edition))
    win10 = _windows_builds("10")
    if win10 and build < win10[-1]:
        # A Windows 10 build older than the table's oldest: its support ended no later
        # than the last Windows 10 release's did.
        last = [r for r in _rows() if r.os == "Windows" and r.build == win10[-1]]
        return _as_end(_pick(last, ident.edition))
    return None


def _macos_release(ident: OsIdentity) -> str | None:
    named = re.search(r"macOS\s+(\d+)(?:\.(\d+))?", ident.release_name)
    if named:
        major = named.group(1)
        return f"10.{named.group(2)}" if major == "10" and named.group(2) else major
    kernel = re.match(r"(\d+)\.", ident.version)
    if kernel:
        darwin = int(kernel.group(1))
        if darwin >= _DARWIN_YEAR_NAMES:  # Darwin 25 is macOS 26: Apple numbers by year now
            return str(darwin + 1)
        if darwin >= _DARWIN_FIRST_MACOS11:
            return str(darwin - 9)
        return f"10.{darwin - 4}"
    return None


def _macos(ident: OsIdentity) -> SupportEnd | None:
    release = _macos_release(ident)
    if release is None:
        return None
    return _as_end(next((r for r in _rows() if r.os == "macOS" and r.release == release), None))


def _linux(ident: OsIdentity) -> SupportEnd | None:
    patterns = (("Ubuntu", r"Ubuntu[\s-]*(\d\d\.\d\d)"), ("Debian", r"Debian\D*(\d+)"))
    for os_name, pattern in patterns:
        # The release name ("Ubuntu 22.04.4 LTS"); a kernel that names its distribution
        # ("6.5.0-ubuntu22.04") is the fallback for agents that send no release name.
        found = re.search(pattern, ident.release_name, re.IGNORECASE) or re.search(
            pattern, ident.version, re.IGNORECASE
        )
        if found:
            rows = [r for r in _rows() if r.os == os_name and r.release == found.group(1)]
            return _as_end(rows[0] if rows else None)
    return None


def support_end(ident: OsIdentity) -> SupportEnd | None:
    """The table's end-of-support date for this OS, or None when the table has no row
    (an unknown release, or a current macOS release, which Apple dates only once it ends)."""
    name = ident.name.lower()
    if name.startswith("windows"):
        return _windows(ident)
    if name in ("darwin", "macos"):
        return _macos(ident)
    if name == "linux":
        return _linux(ident)
    return None


def knows(ident: OsIdentity) -> bool:
    """True when the table speaks for this release: a dated row, a Windows 11 build it
    lists (undated on purpose), or a macOS newer than its newest row (still patched)."""
    if support_end(ident) is not None:
        return True
    name = ident.name.lower()
    if name.startswith("windows"):
        build = _windows_build(ident)
        return build is not None and build in _windows_builds("11")
    if name in ("darwin", "macos"):
        release = _macos_release(ident)
        newest = max(
            (float(r.release) for r in _rows() if r.os == "macOS" and r.release.isdigit()),
            default=0.0,
        )
        return release is not None and release.isdigit() and float(release) > newest
    return False


def is_windows10(ident: OsIdentity) -> bool:
    """A Windows NT 10.0 build below Windows 11's first (the Windows 11 upgrade question)."""
    build = _windows_build(ident) if ident.name.lower().startswith("windows") else None
    win11 = _windows_builds("11")
    return build is not None and bool(win11) and build < win11[0]


def known_releases() -> list[SupportEnd]:
    """Every row, for the simulator and the docs."""
    return [e for e in (_as_end(r) for r in _rows()) if e is not None]
