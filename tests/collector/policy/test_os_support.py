"""The collector's OS table: one date per release, found from what agents report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kitlife.collector.policy import fit
from kitlife.collector.policy.os_support import (
    OsIdentity,
    is_windows10,
    known_releases,
    support_end,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("ident", "end", "label"),
    [
        # Windows: the build names the feature release, the caption's edition picks the row.
        (OsIdentity("Windows", "10", "19045", "Pro"), "2025-10-14", "Windows 10 22H2 Home/Pro"),
        (
            OsIdentity("Windows", "10", "19044", "Enterprise"),
            "2024-06-11",
            "Windows 10 21H2 Enterprise/Education",
        ),
        (OsIdentity("Windows", "10.0.19044"), "2023-06-13", "Windows 10 21H2 Home/Pro"),
        # An older Windows 10 build than the table's: ended no later than 22H2 did.
        (OsIdentity("Windows", "10", "18363"), "2025-10-14", "Windows 10 22H2 Home/Pro"),
        # Linux: the release name, or a kernel that names its distribution.
        (
            OsIdentity("Linux", "6.8.0-45-generic", release_name="Ubuntu 22.04.4 LTS"),
            "2027-04-30",
            "Ubuntu 22.04",
        ),
        (OsIdentity("Linux", "6.5.0-ubuntu24.04"), "2029-04-30", "Ubuntu 24.04"),
        (
            OsIdentity("Linux", "6.1.0-13-amd64", release_name="Debian GNU/Linux 12 (bookworm)"),
            "2028-06-30",
            "Debian 12",
        ),
        # macOS: the release name, else the Darwin kernel's major version.
        (OsIdentity("Darwin", "22.6.0", release_name="macOS 13.6.1"), "2025-07-29", "macOS 13"),
        (OsIdentity("Darwin", "22.6.0"), "2025-07-29", "macOS 13"),
        (OsIdentity("Darwin", "19.6.0"), "2022-07-20", "macOS 10.15"),
    ],
)
def test_support_end_from_identity(ident: OsIdentity, end: str, label: str) -> None:
    found = support_end(ident)
    assert found is not None
    assert found.end == dt.date.fromisoformat(end)
    assert found.label == label
    assert found.source.startswith("https://")


@pytest.mark.parametrize(
    "ident",
    [
        OsIdentity("Darwin", "25.1.0"),  # macOS 26: current, Apple dates it only once it ends
        OsIdentity("Darwin", "24.6.0", release_name="macOS 15.6"),
        OsIdentity("Linux", "6.12.0", release_name="Fedora Linux 41"),
        OsIdentity("Windows", "10", "22631", "Enterprise"),  # Windows 11: feature updates are free
        OsIdentity("Windows", "10", "99999"),
        OsIdentity("FreeBSD", "14.1"),
        OsIdentity(),
    ],
)
def test_unknown_or_current_release_has_no_date(ident: OsIdentity) -> None:
    assert support_end(ident) is None


def test_windows10_is_judged_from_the_table_builds() -> None:
    assert is_windows10(OsIdentity("Windows", "10", "19045"))
    assert not is_windows10(OsIdentity("Windows", "10", "22000"))
    assert not is_windows10(OsIdentity("Linux", "10.0.19045"))


def test_role_fit_and_score_read_the_same_dates() -> None:
    """Both consumers ask one table: the redeploy plan and the score cannot disagree."""
    assert fit.os_support_end("Linux", "6.5.0-ubuntu22.04") == dt.date(2027, 4, 30)
    assert fit.os_support_end("Windows", "10.0.19045") == dt.date(2025, 10, 14)
    assert fit.os_support_end("Windows", "10.0.22631") is None  # Windows 11: no end announced


def test_every_row_is_cited_and_dated() -> None:
    rows = known_releases()
    assert len(rows) >= 25
    assert all(r.source.startswith("https://") for r in rows)
    assert len({(r.os, r.release, r.edition) for r in rows}) == len(rows)
