"""The user's rating: fixed choices only, and a schedule that never nags twice a period."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitlife.agent.feedback import (
    REASONS,
    FeedbackError,
    feedback_result,
    maybe_prompt,
    prompt_due,
    record_feedback,
    remember_collector_config,
)
from kitlife.agent.spool import Spool

DAY = 86400


def test_score_and_reason_codes() -> None:
    r = feedback_result(2, "slow")
    got = [(x.metric, x.value) for x in r.readings]
    assert got == [("feedback.score", 2), ("feedback.reason", 1)]
    assert feedback_result(5, None).readings[1].value == 0
    with pytest.raises(FeedbackError):
        feedback_result(6, None)
    with pytest.raises(FeedbackError):
        feedback_result(3, "my boss")
    assert sorted(REASONS.values()) == list(range(1, 8))


def test_prompt_schedule() -> None:
    assert prompt_due(100 * DAY, 30, 0, 0) is True
    assert prompt_due(100 * DAY, 30, 80 * DAY, 0) is False
    assert prompt_due(100 * DAY, 30, 60 * DAY, 75 * DAY) is False  # rated recently
    assert prompt_due(100 * DAY, 30, 70 * DAY, 0) is True
    assert prompt_due(100 * DAY, 0, 0, 0) is False
    assert prompt_due(10 * DAY, 30, 100 * DAY, 0) is True  # clock went far back


@given(st.floats(0, 1e10), st.integers(-5, 400), st.floats(0, 1e10), st.floats(0, 1e10))
def test_prompt_due_is_total(now: float, every: int, asked: float, rated: float) -> None:
    assert prompt_due(now, every, asked, rated) in (True, False)


def test_feedback_spooled_and_prompt_recorded(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db") as spool:
        remember_collector_config(spool, {"feedback_ask_every_days": 30})
        remember_collector_config(spool, {"feedback_ask_every_days": "nonsense"})
        assert spool.meta_int("feedback_ask_every_days") == 30
        shown: list[int] = []
        assert maybe_prompt(spool, 100 * DAY, lambda: shown.append(1) or True) is True
        assert maybe_prompt(spool, 100 * DAY + 60, lambda: True) is False
        record_feedback(spool, 4, "battery", 100 * DAY + 120)
        assert spool.stats().readings == 3  # asked, score, reason
        assert shown == [1]
