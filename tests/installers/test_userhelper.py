"""The per-user rating prompt reads the service's schedule and asks once per period."""

from __future__ import annotations

from pathlib import Path

from kitlife.agent.feedback import META_EVERY
from kitlife.agent.spool import Spool
from kitlife.agent.userhelper import check_once

DAY = 86400


def test_asks_when_due_then_not_again_within_the_period(tmp_path: Path) -> None:
    spool_path = tmp_path / "spool.db"
    with Spool(spool_path, 1 << 20) as spool:
        spool.set_meta(META_EVERY, 30)
    asked = tmp_path / "user" / "asked"
    shown: list[int] = []

    def send() -> bool:
        shown.append(1)
        return True

    assert check_once(spool_path, asked, 100 * DAY, send)
    assert not check_once(spool_path, asked, 101 * DAY, send)
    assert check_once(spool_path, asked, 131 * DAY, send)
    assert len(shown) == 2


def test_never_asks_without_a_schedule_or_a_spool(tmp_path: Path) -> None:
    def send() -> bool:
        raise AssertionError("must not be called")

    assert not check_once(tmp_path / "missing.db", tmp_path / "asked", 100 * DAY, send)
