"""The user's own voice: a 1-5 rating with a fixed-choice reason, and when to ask for one.

Why: the supplier is paid partly on user sentiment, and a device slow for one
role may be fine for another, so the person using it is asked directly. There
is no free text: the reason is one of a fixed list, sent as a small integer
code, so nothing the user types can leave the laptop.

The collector may send ``feedback_ask_every_days`` in an upload's ack; the
agent keeps it in the spool's meta table and :func:`prompt_due` (pure) decides
when to show a notification (see :mod:`kitlife.agent.notify`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kitlife.agent.readings import SourceResult
from kitlife.agent.spool import Spool

# Code 0 means "no reason given". Codes never change meaning once shipped.
REASONS: dict[str, int] = {
    "slow": 1,
    "battery": 2,
    "crashes": 3,
    "heat-noise": 4,
    "screen-keyboard": 5,
    "storage": 6,
    "other": 7,
}
REASON_NAMES = {code: name for name, code in REASONS.items()}
META_EVERY = "feedback_ask_every_days"
META_ASKED = "feedback_last_asked_s"
META_RATED = "feedback_last_rated_s"
MAX_EVERY_DAYS = 366


class FeedbackError(ValueError):
    """A score or reason outside the fixed choices."""


def feedback_result(score: int, reason: str | None) -> SourceResult:
    """The rating as readings; refuses anything but 1-5 and a listed reason."""
    if not 1 <= score <= 5:
        raise FeedbackError(f"score must be 1 to 5, not {score}")
    if reason is not None and reason not in REASONS:
        raise FeedbackError(f"reason must be one of {', '.join(REASONS)}")
    result = SourceResult("feedback")
    result.add("feedback.score", score)
    result.add("feedback.reason", REASONS[reason] if reason else 0)
    return result


def record_feedback(spool: Spool, score: int, reason: str | None, now_s: int) -> None:
    """Spool the rating (it goes with the next upload) and remember when it was given."""
    spool.add([feedback_result(score, reason)], now_s)
    spool.set_meta(META_RATED, now_s)


def remember_collector_config(spool: Spool, config: Mapping[str, Any]) -> None:
    """Keep ``feedback_ask_every_days`` from an ack (0 = never ask); ignore nonsense."""
    value = config.get(META_EVERY)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_EVERY_DAYS:
        spool.set_meta(META_EVERY, value)


def prompt_due(now_s: float, every_days: int, last_asked_s: float, last_rated_s: float) -> bool:
    """True when the user should be asked for a rating now.

    Never when ``every_days`` is 0 or less. Otherwise due once ``every_days``
    have passed since the later of the last question and the last rating (a
    rating given unprompted counts, so nobody is asked twice in a period).
    A clock that stepped backwards by more than a period makes the last time
    untrustworthy: then it is due, rather than silent for ever.
    """
    if every_days <= 0:
        return False
    period = every_days * 86400
    last = max(last_asked_s, last_rated_s, 0.0)
    if last == 0.0:
        return True
    if last - now_s > period:
        return True
    return now_s - last >= period


def maybe_prompt(spool: Spool, now_s: int, send: Any) -> bool:
    """Ask for a rating if due: ``send()`` shows the notification; returns whether it did."""
    if not prompt_due(
        now_s,
        spool.meta_int(META_EVERY),
        spool.meta_int(META_ASKED),
        spool.meta_int(META_RATED),
    ):
        return False
    if not send():
        return False
    spool.set_meta(META_ASKED, now_s)
    asked = SourceResult("feedback-prompt")
    asked.add("feedback.asked", 1)
    spool.add([asked], now_s)
    return True
