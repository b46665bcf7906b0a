"""Look up when an OS version stops getting security updates (agent/data/os_support.csv).

The table ships with the agent and is data, not code: updating a date is a
one-line CSV change with its source URL next to it.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from importlib import resources


@functools.cache
def _table() -> list[dict[str, str]]:
    text = resources.files("kitlife.agent.data").joinpath("os_support.csv").read_text("utf-8")
    rows = [ln for ln in io.StringIO(text) if not ln.startswith("#")]
    return list(csv.DictReader(rows))


def end_of_support(os_name: str, version: str, edition: str = "") -> dt.date | None:
    """The end date for this OS version (Home/Pro first for Windows when edition is unknown)."""
    matches = [
        r for r in _table() if r["os"].lower() == os_name.lower() and r["version"] == version
    ]
    if edition:
        matches = [r for r in matches if edition.lower() in r["edition"].lower()] or matches
    if not matches:
        return None
    return dt.date.fromisoformat(matches[0]["end_of_support"])
