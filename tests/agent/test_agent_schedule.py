"""Timing rules: next due, coalescing, suspend catch-up, backoff and Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitlife.agent import schedule
from kitlife.agent.schedule import Job


def test_on_time_job_stays_on_its_grid() -> None:
    # Ran 0.3 s late: the next slot is still due + cadence, so latency never accumulates.
    assert schedule.advance(due=100.0, cadence_s=60.0, now=100.3) == 160.0


def test_missed_slots_are_not_replayed() -> None:
    # Stopped for ten minutes: one run now, then one cadence from now; no burst of ten.
    assert schedule.advance(due=100.0, cadence_s=60.0, now=700.0) == 760.0
    assert schedule.advance(due=100.0, cadence_s=60.0, now=160.0) == 220.0


@given(
    due=st.floats(0, 1e6),
    cadence=st.floats(1, 86400),
    late=st.floats(0, 1e6),
)
def test_advance_is_always_in_the_future_and_at_most_one_cadence_away(
    due: float, cadence: float, late: float
) -> None:
    now = due + late
    nxt = schedule.advance(due, cadence, now)
    assert now < nxt <= now + cadence + 1e-6


def test_next_wakeup_and_coalescing() -> None:
    jobs = [Job("system", 60, 160.0), Job("battery", 300, 160.5), Job("upload", 900, 500.0)]
    assert schedule.next_wakeup(jobs) == 160.0
    # One wake-up at 160 runs both sources due within a second of each other.
    assert [j.name for j in schedule.due_jobs(jobs, 160.0)] == ["system", "battery"]
    assert [j.name for j in schedule.due_jobs(jobs, 150.0)] == []


def test_upload_waits_for_a_sampling_tick_but_never_runs_early() -> None:
    upload = Job("upload", 900, 150.0, slack_s=60)
    jobs = [Job("system", 60, 160.0), upload]
    # Due 10 s before a sampling tick: it waits for the tick (one wake-up, not two).
    assert schedule.next_wakeup(jobs) == 160.0
    assert upload in schedule.due_jobs(jobs, 160.0)
    # Due 0.5 s after the tick (a Retry-After): not pulled forward by coalescing.
    upload.due = 160.5
    assert upload not in schedule.due_jobs(jobs, 160.0)
    # Due long before the next tick: it wakes the loop itself.
    upload.due = 50.0
    assert schedule.next_wakeup(jobs) == 50.0
    assert schedule.next_wakeup([upload]) == 50.0


def test_clock_jump_detection() -> None:
    offset = 1_700_000_000.0 - 5000.0
    assert not schedule.clock_jumped(offset, offset + 0.2)  # NTP slew
    assert schedule.clock_jumped(offset, offset + 3600)  # an hour of suspend
    assert schedule.clock_jumped(offset, offset - 120)  # clock set back


def test_suspend_catch_up_runs_once_then_realigns() -> None:
    # A laptop samples every 60 s, sleeps from mono 1000 for 8 hours (mono stops, wall runs).
    jobs = [Job("system", 60, 1030.0), Job("os", 86400, 50_000.0)]
    schedule.realign_after_jump(jobs, now=1001.0)
    assert [j.due for j in jobs] == [1001.0, 1001.0]
    ran = schedule.due_jobs(jobs, 1001.0)
    assert len(ran) == 2
    for job in ran:
        job.due = schedule.advance(job.due, job.cadence_s, 1001.0)
    assert [j.due for j in jobs] == [1061.0, 1001.0 + 86400]


def test_schedule_snapshot_is_wall_clock() -> None:
    jobs = [Job("system", 60, 130.0)]
    assert schedule.schedule_snapshot(jobs, mono_now=100.0, wall_now=1_000_000.0) == {
        "system": 1_000_030
    }
    assert schedule.earliest({"a": 5, "b": 3}) == ("b", 3)
    assert schedule.earliest({}) is None


@given(failures=st.integers(1, 500), seed=st.integers(0, 2**32))
def test_full_jitter_backoff_bounds(failures: int, seed: int) -> None:
    rng = random.Random(seed)
    delay = schedule.backoff_s(failures, rng, base_s=30, cap_s=3600)
    assert 0.0 <= delay <= min(3600, 30 * 2 ** (failures - 1))


def test_backoff_is_spread_over_the_whole_window() -> None:
    rng = random.Random(1)
    draws = [schedule.backoff_s(10, rng, base_s=30, cap_s=3600) for _ in range(2000)]
    # Full jitter: roughly uniform on [0, cap], not clustered at the cap.
    assert min(draws) < 100 and max(draws) > 3500
    assert 1500 < sum(draws) / len(draws) < 2100
    assert schedule.backoff_s(0, rng) == 0.0


def test_retry_delay_obeys_retry_after_and_never_spins() -> None:
    rng = random.Random(2)
    for _ in range(200):
        delay = schedule.retry_delay_s(1, 2.0, rng)
        assert 2.0 <= delay <= 2.2
        assert schedule.retry_delay_s(1, None, rng) >= 1.0
    assert schedule.retry_delay_s(1, 10**9, rng) <= schedule.RETRY_AFTER_MAX_S + 60
    assert schedule.retry_delay_s(1, -5.0, rng) == 0.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("999999999", 86400.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_retry_after_parsing(header: str | None, expected: float | None) -> None:
    assert schedule.parse_retry_after(header, now_s=1_700_000_000) == expected


def test_retry_after_http_date() -> None:
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC), usegmt=True)
    past = format_datetime(datetime(2026, 11, 25, 11, 0, 0, tzinfo=UTC), usegmt=True)
    assert schedule.parse_retry_after(later, now.timestamp()) == 30.0
    assert schedule.parse_retry_after(past, now.timestamp()) == 0.0
