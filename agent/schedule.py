"""Pure timing rules of the service loop: when a job is next due, how long to back off.

Everything here takes the clock as an argument, so the rules are tested with
plain numbers instead of sleeping. The loop (:mod:`kitlife.agent.service`)
feeds them ``time.monotonic()`` for scheduling, because the wall clock can be
set back or forward by NTP or a user, and ``time.time()`` only to detect such
jumps and suspends.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# A wall-minus-monotonic offset that moves by more than this between two wake-ups
# means the laptop slept (Linux and macOS stop the monotonic clock in suspend) or
# the wall clock was set. A few seconds of slack absorb NTP slewing and a late wake-up.
JUMP_TOLERANCE_S = 5.0
# Jobs due within this window of each other run in one wake-up, so five sources
# on the same cadence cost one wake-up, not five.
COALESCE_S = 1.0
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 3600.0
RETRY_AFTER_MAX_S = 86400.0


@dataclass(slots=True)
class Job:
    """One recurring duty: a source to sample or the upload, with its own cadence.

    ``slack_s`` > 0 marks a job that may run up to that much after its due
    time so it shares a wake-up with another job (the upload rides on a
    sampling tick instead of waking the laptop on its own). It never runs
    early, so a Retry-After is still obeyed.
    """

    name: str
    cadence_s: float
    due: float  # on the monotonic clock
    slack_s: float = 0.0

    def to_wall(self, mono_now: float, wall_now: float) -> float:
        """This job's due time on the wall clock, for ``status`` (another process)."""
        return wall_now + (self.due - mono_now)


def advance(due: float, cadence_s: float, now: float) -> float:
    """The next due time after a job ran at ``now`` for the slot ``due``.

    On time or a little late, the job stays on its grid (``due + cadence``), so
    it does not drift by the loop's own latency. If a whole slot or more was
    missed (the process was stopped, the machine was busy or asleep) the missed
    slots are *not* replayed: the job has just run once and is re-aligned to
    ``now + cadence``.
    """
    nxt = due + cadence_s
    return nxt if nxt > now else now + cadence_s


def next_wakeup(jobs: Iterable[Job]) -> float:
    """When the loop must wake: the earliest strict job, or a slack job that cannot wait.

    A job with slack whose window ``[due, due + slack]`` contains the next
    strict wake-up waits for it; otherwise it wakes the loop at its own due time.
    """
    jobs = list(jobs)
    wake = min((j.due for j in jobs if j.slack_s <= 0), default=math.inf)
    for job in jobs:
        if job.slack_s > 0 and job.due + job.slack_s < wake:
            wake = min(wake, job.due)
    return wake


def due_jobs(jobs: Iterable[Job], now: float, coalesce_s: float = COALESCE_S) -> list[Job]:
    """Jobs to run at ``now``: the due ones, plus sampling jobs due within ``coalesce_s``.

    Jobs with slack (the upload) are never pulled forward: their due time may
    come from a collector's Retry-After, which must not be undercut.
    """
    return [job for job in jobs if job.due <= now + (0.0 if job.slack_s > 0 else coalesce_s)]


def clock_jumped(
    previous_offset: float, offset: float, tolerance_s: float = JUMP_TOLERANCE_S
) -> bool:
    """True when wall-minus-monotonic moved: a suspend/resume or the wall clock set.

    ``offset`` is ``time.time() - time.monotonic()`` at one wake-up; in normal
    running it stays constant to within NTP slewing.
    """
    return abs(offset - previous_offset) > tolerance_s


def realign_after_jump(jobs: Iterable[Job], now: float) -> None:
    """After a suspend or clock jump: every job runs once now, then keeps its cadence.

    This is the catch-up rule: whatever the length of the sleep, one cycle is
    taken on wake-up (fresh readings of a laptop that just woke are worth
    having) and none of the missed ones are invented.
    """
    for job in jobs:
        job.due = now


def backoff_s(
    failures: int,
    rng: random.Random,
    base_s: float = BACKOFF_BASE_S,
    cap_s: float = BACKOFF_CAP_S,
) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(n-1))].

    Full jitter (rather than a fixed exponential delay) spreads the retries of
    72,000 agents that all lost the collector at the same moment, so its return
    is not met by a synchronised flood.
    """
    if failures <= 0:
        return 0.0
    ceiling = min(cap_s, base_s * 2.0 ** min(failures - 1, 62))
    return rng.uniform(0.0, ceiling)


def retry_delay_s(
    failures: int,
    retry_after: float | None,
    rng: random.Random,
    base_s: float = BACKOFF_BASE_S,
    cap_s: float = BACKOFF_CAP_S,
) -> float:
    """How long to wait before the next upload attempt after a failure.

    A collector that says ``Retry-After`` is obeyed: never sooner than told,
    plus up to 10 % jitter (at most 60 s) so the agents it told the same
    number do not all come back in the same second. Otherwise full-jitter
    backoff, at least 1 s so a zero draw does not retry in a tight loop.
    """
    if retry_after is not None:
        retry_after = min(max(retry_after, 0.0), RETRY_AFTER_MAX_S)
        return retry_after + rng.uniform(0.0, min(retry_after * 0.1, 60.0))
    return max(1.0, backoff_s(failures, rng, base_s, cap_s))


def parse_retry_after(value: str | None, now_s: float) -> float | None:
    """Retry-After as seconds from ``now_s``: delta-seconds or an HTTP date.

    None when absent or unparseable (then the agent's own backoff applies);
    capped at a day so a broken header cannot silence an agent for good.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), int(RETRY_AFTER_MAX_S)))
    from email.utils import parsedate_to_datetime  # rare path; 0.5 MB not kept resident

    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, min(when - now_s, RETRY_AFTER_MAX_S))


def schedule_snapshot(jobs: Iterable[Job], mono_now: float, wall_now: float) -> dict[str, int]:
    """Job name -> wall-clock due time (epoch s), as persisted for ``status``."""
    return {job.name: round(job.to_wall(mono_now, wall_now)) for job in jobs}


def earliest(snapshot: Mapping[str, int]) -> tuple[str, int] | None:
    """The job that is due first in a persisted snapshot."""
    if not snapshot:
        return None
    name = min(snapshot, key=lambda k: snapshot[k])
    return name, snapshot[name]
