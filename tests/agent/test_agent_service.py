"""The service loop on an injected clock: cadence, wake-ups, suspend catch-up, ack config."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from kitlife.agent import schedule
from kitlife.agent.config import AgentConfig
from kitlife.agent.readings import SourceResult
from kitlife.agent.service import ChildOutcome, ServiceLoop, SourceSpec, format_status, status_dict
from kitlife.agent.spool import Spool
from tests.agent.agent_helpers import FakeClock


class ScriptedUploads:
    """Stands in for the collector's answers; the loop's handling is what is tested."""

    def __init__(self, outcomes: list[ChildOutcome]) -> None:
        self.outcomes = outcomes
        self.started: list[AgentConfig] = []
        self.probed: list[list[str]] = []
        self._pending: ChildOutcome | None = None

    def start(self, config: AgentConfig, wake: threading.Event, probes: list[str]) -> None:
        self.started.append(config)
        self.probed.append(probes)
        self._pending = self.outcomes.pop(0) if self.outcomes else ChildOutcome(True, {})
        wake.set()

    def running(self) -> bool:
        return False

    def take(self) -> ChildOutcome | None:
        outcome, self._pending = self._pending, None
        return outcome

    def stop(self, grace_s: float) -> None:
        return None


def _config(tmp_path: Path, **kw: object) -> AgentConfig:
    base = AgentConfig(
        state_dir=tmp_path,
        sample_interval_s=60,
        upload_interval_s=900,
        startup_splay_s=0,
        allow_http=True,
    )
    return base.with_overrides(kw, "test")


def _sampler(stamps: list[float], clock: FakeClock) -> Callable[[], SourceResult]:
    def sample() -> SourceResult:
        stamps.append(clock.wall_s)
        result = SourceResult("system")
        result.add("cpu.busy_pct", 12.5)
        return result

    return sample


def _enrolled(tmp_path: Path) -> None:
    from kitlife.agent.credentials import Credentials, save_credentials

    save_credentials(tmp_path, Credentials("http://127.0.0.1:9", "dev1", "key"))


def test_one_wakeup_per_interval_and_suspend_is_not_replayed(tmp_path: Path) -> None:
    stamps: list[float] = []
    loop: ServiceLoop

    def script(clock: FakeClock) -> None:
        elapsed = clock.mono - 1000.0
        if 600 <= elapsed < 660 and not getattr(clock, "slept", False):
            clock.slept = True  # type: ignore[attr-defined]
            clock.suspend_next_s = 8 * 3600.0  # the lid closes for eight hours
        if elapsed >= 1200:
            loop.stop()

    clock = FakeClock(script)
    loop = ServiceLoop(
        _config(tmp_path),
        sources={"system": SourceSpec(_sampler(stamps, clock))},
        uploader=ScriptedUploads([]),
        clock=clock,
        pinned=frozenset(),
    )
    assert loop.run() == 0
    gaps = [round(b - a) for a, b in itertools.pairwise(stamps)]
    # Every minute, then one sample on waking from the 8 h sleep, then every minute again:
    # nothing like the 480 missed samples is replayed.
    assert len(stamps) <= 22
    assert max(gaps) >= 8 * 3600
    assert sum(1 for g in gaps if g > 120) == 1
    assert all(g == 60 for g in gaps if g <= 120), gaps
    # No polling: the loop slept about once per sample (plus the upload's own wake-ups).
    assert len(clock.waits) <= len(stamps) + 2
    assert min(clock.waits) > 0


def test_a_late_wakeup_runs_once_and_realigns(tmp_path: Path) -> None:
    stamps: list[float] = []
    loop: ServiceLoop

    def script(clock: FakeClock) -> None:
        elapsed = clock.mono - 1000.0
        if 120 <= elapsed < 180 and not getattr(clock, "stalled", False):
            clock.stalled = True  # type: ignore[attr-defined]
            # The process was SIGSTOPped (or the VM paused) for 10 min: both clocks moved.
            clock.mono += 600
            clock.wall_s += 600
        if elapsed >= 1000:
            loop.stop()

    clock = FakeClock(script)
    loop = ServiceLoop(
        _config(tmp_path),
        sources={"system": SourceSpec(_sampler(stamps, clock))},
        uploader=ScriptedUploads([]),
        clock=clock,
        pinned=frozenset(),
    )
    loop.run()
    gaps = [round(b - a) for a, b in itertools.pairwise(stamps)]
    assert gaps.count(660) == 1
    assert all(g == 60 for g in gaps if g != 660)


def test_ack_config_is_applied_persisted_and_bad_values_ignored(tmp_path: Path) -> None:
    _enrolled(tmp_path)
    stamps: list[float] = []
    loop: ServiceLoop

    def script(clock: FakeClock) -> None:
        if clock.mono - 1000.0 >= 3 * 3600:
            loop.stop()

    clock = FakeClock(script)
    uploads = ScriptedUploads(
        [
            ChildOutcome(
                True,
                {
                    "acked": 1,
                    "config": {"sample_interval_s": 120, "upload_interval_s": "soon"},
                },
            ),
            ChildOutcome(True, {"acked": 1, "config": {"sample_interval_s": 0}}),
            ChildOutcome(True, {"acked": 1, "config": ["not", "a", "dict"]}),
            ChildOutcome(True, {"acked": 1, "config": {"upload_interval_s": 10**9}}),
        ]
    )
    loop = ServiceLoop(
        _config(tmp_path),
        sources={"system": SourceSpec(_sampler(stamps, clock))},
        uploader=uploads,
        clock=clock,
        pinned=frozenset(),
    )
    assert loop.run() == 0
    assert loop.config.sample_interval_s == 120
    assert loop.config.upload_interval_s == 900
    gaps = {round(b - a) for a, b in itertools.pairwise(stamps[3:])}
    assert gaps == {120}
    assert len(uploads.started) >= 4  # it kept uploading through every bad ack
    with Spool(tmp_path / "spool.db") as spool:
        assert json.loads(spool.meta("collector_config")) == {"sample_interval_s": 120}

    # A restart starts with what the collector said last time.
    clock2 = FakeClock(lambda c: loop2.stop())
    loop2 = ServiceLoop(
        _config(tmp_path),
        sources={"system": SourceSpec(_sampler([], clock2))},
        uploader=ScriptedUploads([]),
        clock=clock2,
        pinned=frozenset(),
    )
    loop2.run()
    assert loop2.config.sample_interval_s == 120
    # ... unless this machine pinned the key on purpose.
    clock3 = FakeClock(lambda c: loop3.stop())
    loop3 = ServiceLoop(
        _config(tmp_path),
        sources={"system": SourceSpec(_sampler([], clock3))},
        uploader=ScriptedUploads([]),
        clock=clock3,
        pinned=frozenset({"sample_interval_s"}),
    )
    loop3.run()
    assert loop3.config.sample_interval_s == 60


def test_upload_failures_back_off_and_retry_after_is_obeyed(tmp_path: Path) -> None:
    _enrolled(tmp_path)
    loop: ServiceLoop
    starts: list[float] = []

    class Recording(ScriptedUploads):
        def start(self, config: AgentConfig, wake: threading.Event, probes: list[str]) -> None:
            starts.append(clock.mono)
            super().start(config, wake, probes)

    def script(clock: FakeClock) -> None:
        if len(starts) >= 7 or clock.mono - 1000 > 86400:
            loop.stop()

    clock = FakeClock(script)
    fail = ChildOutcome(False, {"error": "connection refused", "retry_after_s": None})
    busy = ChildOutcome(False, {"error": "HTTP 503", "retry_after_s": 300})
    uploads = Recording([fail, fail, fail, fail, busy, ChildOutcome(True, {"acked": 1})])
    loop = ServiceLoop(
        _config(tmp_path, sample_interval_s=3600),
        sources={"system": SourceSpec(_sampler([], clock))},
        uploader=uploads,
        clock=clock,
        pinned=frozenset(),
    )
    loop.run()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Each bound allows the upload's slack (it may wait up to 60 s for a sampling tick).
    for n, gap in enumerate(gaps[:4], start=1):
        assert 1.0 <= gap <= min(3600, 30 * 2 ** (n - 1)) + 1.5 + 60, gaps
    assert 300 <= gaps[4] <= 331 + 60  # told 300 s: never sooner, at most 10 % jitter later
    assert 899 <= gaps[5] <= 901 + 60  # success: back to the normal interval
    assert loop.upload_failures == 0


def test_hourly_upload_carries_the_probes_due_so_one_child_an_hour(tmp_path: Path) -> None:
    """Default cadences: battery and thermal every upload, storage every 4th, inventory daily."""
    _enrolled(tmp_path)
    loop: ServiceLoop
    day = 86400.0

    def script(clock: FakeClock) -> None:
        if clock.mono - 1000.0 >= 2 * day - 1:
            loop.stop()

    clock = FakeClock(script)
    uploads = ScriptedUploads([])
    hardware = {
        "battery": SourceSpec(None, 3600.0, in_child=True),
        "thermal": SourceSpec(None, 3600.0, in_child=True),
        "storage": SourceSpec(None, 4 * 3600.0, in_child=True),
        "inventory": SourceSpec(None, day, in_child=True),
    }
    loop = ServiceLoop(
        _config(tmp_path, upload_interval_s=3600),
        sources={"system": SourceSpec(_sampler([], clock)), **hardware},
        uploader=uploads,
        clock=clock,
        pinned=frozenset(),
    )
    loop.run()
    # Two days of hourly uploads, and no child but the upload child.
    assert 47 <= len(uploads.started) <= 49
    runs = {name: sum(name in p for p in uploads.probed) for name in hardware}
    assert runs["battery"] == runs["thermal"] == len(uploads.started)
    assert 12 <= runs["storage"] <= 13
    # At 0 h, 23 h and 47 h: a probe due before the next upload rides with this one,
    # up to an hour early, and keeps its own grid (no drift).
    assert runs["inventory"] == 3
    assert uploads.probed[0] == ["battery", "thermal", "storage", "inventory"]
    assert loop._probe is None  # no probe-only child while enrolled
    info = status_dict(_config(tmp_path))
    assert {"battery", "storage", "inventory", "upload"} <= set(info["next_due"])


def test_not_enrolled_still_probes_in_a_child_of_its_own(tmp_path: Path) -> None:
    loop: ServiceLoop
    started: list[list[str]] = []

    def script(clock: FakeClock) -> None:
        loop.stop()

    clock = FakeClock(script)
    loop = ServiceLoop(
        _config(tmp_path),
        sources={"system": SourceSpec(_sampler([], clock))},
        uploader=ScriptedUploads([]),
        clock=clock,
        pinned=frozenset(),
    )
    loop.probe_jobs["battery"] = schedule.Job("battery", 3600.0, clock.mono)
    loop._start_probe_only = started.append  # type: ignore[method-assign]
    loop._plan(clock.mono)
    loop.probe_jobs["battery"] = schedule.Job("battery", 3600.0, clock.mono)
    loop.jobs["upload"].due = clock.mono
    loop.tick()
    assert started == [["battery"]]
    assert loop.upload_failures == 1


def test_status_reads_schedule_without_touching_the_spool(tmp_path: Path) -> None:
    clock = FakeClock(lambda c: loop.stop())
    loop = ServiceLoop(
        _config(tmp_path),
        sources={"system": SourceSpec(_sampler([], clock))},
        uploader=ScriptedUploads([]),
        clock=clock,
        pinned=frozenset(),
    )
    loop.run()
    info = status_dict(_config(tmp_path))
    assert set(info["next_due"]) == {"system", "upload"}
    assert info["spool"]["readings"] >= 2
    assert info["service"]["running"] is False
    text = "\n".join(format_status(info))
    assert "next system:" in text and "spool:" in text and "dropped:" in text


def test_status_without_a_spool_says_so(tmp_path: Path) -> None:
    info = status_dict(_config(tmp_path))
    assert info["spool"] is None
    assert "no spool" in info["last_error"]
    assert not (tmp_path / "spool.db").exists()


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_signal_stops_the_real_loop_cleanly(tmp_path: Path, signame: str) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.agent.agent_helpers import AGENT, agent_env, wait_for

    env = agent_env(tmp_path, sample_interval_s=3600, startup_splay_s=3600)
    proc = subprocess.Popen([AGENT, "run"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(
            lambda: (
                (tmp_path / "agent.log").exists()
                and "running" in (tmp_path / "agent.log").read_text()
            ),
            20,
        )
        time.sleep(0.3)
        t0 = time.monotonic()
        os.kill(proc.pid, getattr(signal, signame))
        assert proc.wait(10) == 0
        assert time.monotonic() - t0 < 3  # the hour-long sleep ended at once
    finally:
        if proc.poll() is None:
            proc.kill()
    log = (tmp_path / "agent.log").read_text()
    assert "stopped" in log
    # The spool was closed cleanly: the WAL was checkpointed away.
    wal = tmp_path / "spool.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert sys.executable  # the agent ran from this environment


def test_a_failing_cycle_neither_kills_nor_spins_the_loop(tmp_path: Path) -> None:
    calls: list[float] = []

    def broken() -> SourceResult:
        calls.append(clock.mono)
        raise RuntimeError("sensor driver bug")

    loop: ServiceLoop

    def script(c: FakeClock) -> None:
        if c.mono - 1000 > 600:
            loop.stop()

    clock = FakeClock(script)
    loop = ServiceLoop(
        _config(tmp_path),
        sources={"system": SourceSpec(broken)},
        uploader=ScriptedUploads([]),
        clock=clock,
        pinned=frozenset(),
    )
    assert loop.run() == 0
    # A broken source becomes an "unavailable" reason each minute, not a crash.
    assert 10 <= len(calls) <= 12
    with Spool(tmp_path / "spool.db") as spool:
        row = spool._db.execute("SELECT reason FROM unavailable WHERE source='system'").fetchone()
    assert row is not None and "RuntimeError" in row[0]


def test_log_is_bounded_to_one_file_plus_one_copy(tmp_path: Path) -> None:
    import logging

    from kitlife.agent.service import BoundedLogHandler

    handler = BoundedLogHandler(tmp_path / "agent.log", 4096)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("kitlife.test.bounded")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for i in range(2000):
            logger.warning("upload failed (connection refused); attempt %d", i)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["agent.log", "agent.log.1"]
    assert all((tmp_path / f).stat().st_size <= 4096 for f in files)
    assert "attempt 1999" in (tmp_path / "agent.log").read_text()


def test_request_stop_ends_run_service_from_another_thread(tmp_path: Path) -> None:
    """What the Windows service's SvcStop does: stop the loop from its own thread."""
    import signal
    import time

    from kitlife.agent import service

    before = signal.getsignal(signal.SIGTERM)
    config = _config(tmp_path, sample_interval_s=3600, startup_splay_s=3600)

    def stopper() -> None:
        deadline = time.monotonic() + 30
        while not service._RUNNING and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        service.request_stop()

    thread = threading.Thread(target=stopper, daemon=True)
    thread.start()
    t0 = time.monotonic()
    assert service.run_service(config) == 0
    assert time.monotonic() - t0 < 20  # not the hour-long sleep
    thread.join(5)
    assert signal.getsignal(signal.SIGTERM) is before  # handlers put back
    assert "kitlife-agent stopped" in (tmp_path / "agent.log").read_text()


def test_the_resident_loop_loads_no_parsers_and_no_httpx(tmp_path: Path) -> None:
    """Hardware parsers and httpx belong to the hourly child; the loop that stays is light."""
    import subprocess
    import sys

    code = f"""
import sys
from pathlib import Path
from kitlife.agent.config import AgentConfig
from kitlife.agent.service import ServiceLoop
config = AgentConfig(state_dir=Path({str(tmp_path)!r}), startup_splay_s=0)
loop = ServiceLoop(config, pinned=frozenset())
loop._start_probe_only = lambda names: None  # not enrolled: no child needed for this check
loop._plan(loop.clock.monotonic())
loop.tick()
loop.tick()
loop.shutdown()
heavy = sorted(m for m in sys.modules if m.startswith(("kitlife.agent.parsers", "httpx")))
print(heavy, sorted(loop.probe_jobs))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split("]")[0] == "[", done.stdout
    assert "battery" in done.stdout  # the hardware sources are scheduled, just not loaded
