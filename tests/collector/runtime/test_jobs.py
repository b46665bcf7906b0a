"""The background scheduler: jobs on their clock, failures survived, services started, stopped."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from kitlife.collector.runtime.jobs import Job, Jobs, server_jobs
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store import Store


class Recorder:
    """A service that notes when it was started and stopped."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def start(self) -> None:
        self.log.append(f"start {self.name}")

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")


async def _until(check: object, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_a_job_runs_after_its_delay_then_every_interval_with_the_store(store: Store) -> None:
    seen: list[tuple[float, Store, str]] = []

    def run(s: Store) -> None:
        seen.append((time.monotonic(), s, threading.current_thread().name))

    async def main() -> float:
        jobs = Jobs(store)
        jobs.add(Job("tick", first_delay_s=0.2, interval_s=0.05, run=run))
        t0 = time.monotonic()
        await jobs.start()
        await _until(lambda: len(seen) >= 3)
        await jobs.stop()
        return t0

    t0 = asyncio.run(main())
    assert seen[0][0] - t0 >= 0.2
    assert all(s is store for _, s, _ in seen)
    assert all(name != threading.main_thread().name for *_, name in seen)  # off the loop


def test_a_failing_round_is_logged_and_the_schedule_goes_on(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def flaky(_: Store) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first round breaks")

    async def main() -> dict[str, int]:
        jobs = Jobs(store)
        jobs.add(Job("flaky", 0.0, 0.02, flaky))
        await jobs.start()
        await _until(lambda: len(calls) >= 3)
        await jobs.stop()
        return jobs.rounds

    rounds = asyncio.run(main())
    assert rounds["flaky"] >= 2
    assert "background job flaky failed" in caplog.text


def test_a_zero_interval_switches_a_job_off_and_names_are_unique(store: Store) -> None:
    jobs = Jobs(store)
    jobs.add(Job("off", 0.0, 0.0, lambda _: None))
    jobs.add(Job("on", 0.0, 60.0, lambda _: None))
    assert jobs.names == ["on"]
    with pytest.raises(ValueError, match="already scheduled"):
        jobs.add(Job("on", 0.0, 1.0, lambda _: None))


def test_services_start_with_the_jobs_and_stop_in_reverse_order(store: Store) -> None:
    log: list[str] = []

    async def main() -> None:
        jobs = Jobs(store)
        jobs.add_service(Recorder("a", log))
        jobs.add_service(Recorder("b", log))
        await jobs.start()
        await jobs.stop()
        await jobs.stop()  # a second stop finds nothing left to stop

    asyncio.run(main())
    assert log == ["start a", "start b", "stop b", "stop a"]


def test_the_server_schedules_prune_from_the_settings(sqlite_url: str) -> None:
    store = Store.from_url(sqlite_url)
    try:
        log: list[str] = []
        on = server_jobs(Settings(db_url=sqlite_url), store, Recorder("rescorer", log))
        assert on.names == ["prune", "amnesty-remind"]
        off = server_jobs(
            Settings(db_url=sqlite_url, prune_interval_s=0, amnesty_remind_every_s=0), store, None
        )
        assert off.names == []
    finally:
        store.close()
