"""The OS support table: dates the collector relies on for the OS-change decision.

The agent no longer reads this table (it reports the OS's identity; end of support is
the collector's judgement). The table and its lookup stay in agent/ until the lead moves
them to the collector's policy tables at merge; these tests move with them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from importlib import resources

from kitlife.agent.os_support import end_of_support


def test_windows_10_ends_2025_10_14() -> None:
    assert end_of_support("Windows", "10 22H2") == dt.date(2025, 10, 14)


def test_edition_picks_its_row() -> None:
    assert end_of_support("Windows", "11 23H2", "Home") == dt.date(2025, 11, 11)
    assert end_of_support("Windows", "11 23H2", "Enterprise") == dt.date(2026, 11, 10)


def test_unknown_version_is_none() -> None:
    assert end_of_support("Windows", "12 99H9") is None
    assert end_of_support("Ubuntu", "22.04") == dt.date(2027, 4, 30)


def test_every_row_is_dated_and_sourced() -> None:
    text = resources.files("kitlife.agent.data").joinpath("os_support.csv").read_text("utf-8")
    rows = list(csv.DictReader(ln for ln in io.StringIO(text) if not ln.startswith("#")))
    assert len(rows) >= 15
    for row in rows:
        dt.date.fromisoformat(row["end_of_support"])
        assert row["source"].startswith("https://")
