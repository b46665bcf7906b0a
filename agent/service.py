"""``kitlife-agent run``: the resident service loop (systemd, launchd, Windows service).

One thread, one scheduler. Every duty is a :class:`~kitlife.agent.schedule.Job`
with its own cadence on the monotonic clock; the loop sleeps on an
:class:`threading.Event` until the earliest one is due (no polling: one
wake-up per sampling interval when nothing else is due), runs every job due
within a second of it, and goes back to sleep. ``stop()`` sets the same event,
so SIGTERM, SIGINT and a Windows service stop all end the sleep at once.

What stays resident is what sampling needs (psutil, sqlite3, msgpack, zstd).
The upload (httpx) and the hardware probes (smartctl, upower, PowerShell and
the parsers of their output) run in one short-lived child an hour
(:mod:`kitlife.agent.childjob`) that hands its memory back to the OS when it
exits: the probes due before the next upload ride with it, so a steady laptop
starts one Python process an hour. See docs/agent.md for the measurements.

Catch-up rule: when the wall clock moves against the monotonic clock (suspend
and resume, or the clock was set), every job runs once now and then keeps its
cadence from there; missed cycles are never replayed. A job that is merely
late by a whole cadence or more (process stopped, machine thrashing) is
handled the same way by :func:`~kitlife.agent.schedule.advance`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from kitlife import __version__
from kitlife.agent import schedule
from kitlife.agent.config import REMOTE_KEYS, AgentConfig
from kitlife.agent.credentials import NotEnrolledError, load_credentials
from kitlife.agent.cycle import collect_into
from kitlife.agent.paths import make_private_dir
from kitlife.agent.platforms import Platform, current_platform
from kitlife.agent.readings import SourceResult
from kitlife.agent.sources.table import SOURCES, Options, Where
from kitlife.agent.spool import SPOOL_FILE, Spool, SpoolError

log = logging.getLogger(__name__)

UPLOAD_JOB = "upload"
LOG_FILE = "agent.log"
# A child that overruns this is killed; its work is redone by the next one.
CHILD_TIMEOUT_S = 600.0
# An upload due at most this long before a sampling tick waits for the tick:
# one wake-up instead of two. It never runs early, so Retry-After still holds.
UPLOAD_SLACK_MAX_S = 60.0
# Once the loop is told to stop, an upload child in flight gets this long to finish.
STOP_GRACE_S = 5.0

SourceFn = Callable[[], SourceResult]


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A source the loop schedules: run in the loop, or by name in the upload child.

    ``cadence_s`` None means "every sampling interval" and follows the
    configured (or collector-sent) ``sample_interval_s``.
    """

    fn: SourceFn | None
    cadence_s: float | None = None
    in_child: bool = False


def declared_sources(platform: Platform, report_crash_names: bool = False) -> dict[str, SourceSpec]:
    """The table's sources as the loop runs them (:mod:`kitlife.agent.sources.table`).

    Loop sources are started here, once: their samplers keep state between
    cycles. Child sources get no function in this process; the upload child
    starts them by name.
    """
    options = Options(report_crash_names=report_crash_names)
    return {
        s.name: SourceSpec(s.start(platform, options), s.cadence_s)
        if s.where is Where.LOOP
        else SourceSpec(None, s.cadence_s, in_child=True)
        for s in SOURCES
    }


# -- clocks -----------------------------------------------------------------------------
class Clock(Protocol):
    """Time as the loop sees it; tests inject one that jumps instead of sleeping."""

    def monotonic(self) -> float: ...

    def wall(self) -> float: ...

    def wait(self, event: threading.Event, timeout_s: float) -> bool:
        """Sleep until ``event`` is set or ``timeout_s`` passes; True when set."""
        ...


class RealClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, timeout_s: float) -> bool:
        return event.wait(max(0.0, timeout_s))


# -- upload runners ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChildOutcome:
    """What a child job reported (or why it reported nothing)."""

    ok: bool
    data: dict[str, Any]
    error: str = ""


class UploadRunner(Protocol):
    """Runs the due hardware probes and one upload pass; the loop takes the outcome when woken."""

    def start(self, config: AgentConfig, wake: threading.Event, probes: list[str]) -> None:
        """``probes``: hardware sources to run and spool before the upload."""
        ...

    def running(self) -> bool: ...

    def take(self) -> ChildOutcome | None:
        """The finished pass's outcome, once; None while running or idle."""
        ...

    def stop(self, grace_s: float) -> None: ...


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


class ChildProcess:
    """One ``python -m kitlife.agent.childjob ...`` run, waited for on a helper thread.

    The helper thread blocks in ``communicate`` (no polling) and sets the
    loop's wake event when the child is done, so the outcome is handled at
    once rather than at the next sampling tick.
    """

    def __init__(
        self, args: list[str], stdin: str, wake: threading.Event, timeout_s: float
    ) -> None:
        self._outcome: ChildOutcome | None = None
        self._taken = False
        self.command = args[0] if args else ""
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kitlife.agent.childjob", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_child_env(),
        )
        self._thread = threading.Thread(
            target=self._wait, args=(stdin, wake, timeout_s), daemon=True, name="child-wait"
        )
        self._thread.start()

    def _wait(self, stdin: str, wake: threading.Event, timeout_s: float) -> None:
        try:
            out, err = self.proc.communicate(stdin, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            outcome = ChildOutcome(False, {}, f"child timed out after {timeout_s:.0f} s")
        else:
            outcome = _parse_child(out, err, self.proc.returncode)
        if err.strip():
            # Bounded: a chatty child must not fill the log.
            log.warning("child %s said: %s", self.command, err.strip()[-2000:])
        with self._lock:
            self._outcome = outcome
        wake.set()

    def done(self) -> bool:
        with self._lock:
            return self._outcome is not None

    def take(self) -> ChildOutcome | None:
        with self._lock:
            if self._outcome is None or self._taken:
                return None
            self._taken = True
            return self._outcome

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)


def _parse_child(out: str, err: str, returncode: int | None) -> ChildOutcome:
    lines = [line for line in out.splitlines() if line.strip()]
    try:
        data = json.loads(lines[-1]) if lines else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        tail = err.strip().splitlines()[-1:] or [f"exit status {returncode}"]
        return ChildOutcome(False, {}, f"child gave no result: {tail[0][:300]}")
    return ChildOutcome(bool(data.get("ok")), data, str(data.get("error") or ""))


class SubprocessUploader:
    """The default: each upload pass, with the probes due, in its own short-lived process."""

    def __init__(self) -> None:
        self._child: ChildProcess | None = None

    def start(self, config: AgentConfig, wake: threading.Event, probes: list[str]) -> None:
        from kitlife.agent.childjob import config_to_json

        self._child = ChildProcess(
            ["upload", *probes], config_to_json(config), wake, CHILD_TIMEOUT_S
        )

    def running(self) -> bool:
        return self._child is not None and not self._child.done()

    def take(self) -> ChildOutcome | None:
        return self._child.take() if self._child is not None else None

    def stop(self, grace_s: float) -> None:
        # The child needs no cleanup of ours: it acks batch by batch, so cutting
        # it short loses nothing. Give it a moment to finish the batch in flight.
        if self._child is not None:
            self._child.join(grace_s)


class InProcessUploader:
    """Upload inside the loop's own process (imports httpx here).

    For the tests that simulate a week in seconds, and for hosts where spawning
    a child is impossible; it costs the resident memory the child avoids.
    """

    def __init__(self) -> None:
        self._outcome: ChildOutcome | None = None

    def start(self, config: AgentConfig, wake: threading.Event, probes: list[str]) -> None:
        from kitlife.agent.childjob import upload

        data = upload(config, probes)
        self._outcome = ChildOutcome(bool(data.get("ok")), data, str(data.get("error") or ""))
        wake.set()

    def running(self) -> bool:
        return False

    def take(self) -> ChildOutcome | None:
        outcome, self._outcome = self._outcome, None
        return outcome

    def stop(self, grace_s: float) -> None:
        return None


# -- the loop ---------------------------------------------------------------------------
class ServiceLoop:
    """The scheduler; ``run()`` returns when ``stop()`` is called (by a signal or a service)."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        sources: Mapping[str, SourceSpec] | None = None,
        uploader: UploadRunner | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        platform: Platform | None = None,
        pinned: frozenset[str] | None = None,
    ) -> None:
        self.config = config
        self.pinned = config.pinned if pinned is None else pinned
        self.clock: Clock = clock or RealClock()
        self.rng = rng or random.Random()
        self.uploader: UploadRunner = uploader or SubprocessUploader()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._sources: dict[str, SourceSpec] = dict(
            declared_sources(platform or current_platform(), config.report_crash_names)
            if sources is None
            else sources
        )
        self._spool: Spool | None = None
        self.upload_failures = 0
        self.cycles = 0
        self.uploads_ok = 0
        self._probe: ChildProcess | None = None
        self.jobs: dict[str, schedule.Job] = {}
        # Hardware probes: not woken for; each upload takes those due before the next one.
        self.probe_jobs: dict[str, schedule.Job] = {}
        self._offset: float | None = None
        self._trim_due = False

    # -- control --------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the loop to finish: safe from a signal handler or another thread."""
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- spool ----------------------------------------------------------------------
    def spool(self) -> Spool:
        """The open spool, (re)opened on demand; a damaged file is set aside here."""
        if self._spool is None:
            self._spool = Spool(self.config.state_dir / SPOOL_FILE, self.config.spool_max_bytes)
            if self._spool.set_aside_as:
                log.error(
                    "spool was damaged: set aside as %s; a new spool was started",
                    self._spool.set_aside_as,
                )
        return self._spool

    def _spool_failed(self, err: sqlite3.Error) -> None:
        """A spool error mid-run: damage means reopen (set aside); busy means try later."""
        if isinstance(err, sqlite3.OperationalError):
            log.warning("spool busy or unwritable (%s); this cycle's readings are skipped", err)
            return
        log.error("spool damaged while running (%s); reopening", err)
        if self._spool is not None:
            with contextlib.suppress(sqlite3.Error):
                self._spool.close()
            self._spool = None

    # -- scheduling -----------------------------------------------------------------
    def _cadence(self, spec: SourceSpec) -> float:
        return float(spec.cadence_s or self.config.sample_interval_s)

    def _plan(self, now: float) -> None:
        for name, spec in self._sources.items():
            jobs = self.probe_jobs if spec.in_child else self.jobs
            jobs[name] = schedule.Job(name, self._cadence(spec), now)
        splay = self.rng.uniform(0.0, float(self.config.startup_splay_s))
        self.jobs[UPLOAD_JOB] = schedule.Job(
            UPLOAD_JOB, float(self.config.upload_interval_s), now + splay, self._upload_slack()
        )

    def _upload_slack(self) -> float:
        return float(min(self.config.sample_interval_s, UPLOAD_SLACK_MAX_S))

    def _apply(self, new: AgentConfig) -> None:
        """Take a new config (from the collector's ack) without restarting."""
        old, self.config = self.config, new
        now = self.clock.monotonic()
        if new.sample_interval_s != old.sample_interval_s:
            for name, spec in self._sources.items():
                job = self.jobs.get(name)
                if job is not None and spec.cadence_s is None:
                    job.cadence_s = float(new.sample_interval_s)
                    job.due = min(job.due, now + job.cadence_s)
        if new.upload_interval_s != old.upload_interval_s:
            self.jobs[UPLOAD_JOB].cadence_s = float(new.upload_interval_s)
        self.jobs[UPLOAD_JOB].slack_s = self._upload_slack()
        if self._spool is not None:
            self._spool.max_bytes = new.spool_max_bytes

    def _load_remote_config(self) -> None:
        """Re-apply what a collector sent before a restart (kept in spool meta)."""
        try:
            raw = json.loads(self.spool().meta("collector_config") or "{}")
        except (ValueError, sqlite3.Error, SpoolError):
            raw = {}
        if isinstance(raw, dict) and raw:
            new, _ = self.config.with_remote(raw, self.pinned)
            self.config = new

    # -- the work -------------------------------------------------------------------
    def _handle_upload(self, outcome: ChildOutcome, now: float) -> None:
        job = self.jobs[UPLOAD_JOB]
        if outcome.ok:
            self.upload_failures = 0
            self.uploads_ok += 1
            job.due = now + job.cadence_s
            remote = outcome.data.get("config")
            if isinstance(remote, dict) and remote:
                new, _refused = self.config.with_remote(remote, self.pinned)
                accepted = {
                    k: getattr(new, k)
                    for k, v in remote.items()
                    if k in REMOTE_KEYS and getattr(new, k) == v
                }
                if new != self.config:
                    log.info("collector changed the config: %s", accepted)
                    self._apply(new)
                if accepted:
                    self._persist({"collector_config": json.dumps(accepted, sort_keys=True)})
            log.info("upload: %s batch(es) acknowledged", outcome.data.get("acked", 0))
            return
        self.upload_failures += 1
        retry_after = outcome.data.get("retry_after_s")
        ra = float(retry_after) if isinstance(retry_after, int | float) else None
        # The cap is never below the normal upload interval: an agent set to upload
        # every 6 h must not retry hourly while the collector is down.
        cap = max(schedule.BACKOFF_CAP_S, float(self.config.upload_interval_s))
        delay = schedule.retry_delay_s(self.upload_failures, ra, self.rng, cap_s=cap)
        job.due = now + delay
        log.warning(
            "upload failed (%s); attempt %d, next in %.0f s",
            outcome.error or "unknown error",
            self.upload_failures,
            delay,
        )
        self._persist({"upload_failures": self.upload_failures})

    def _persist(self, values: Mapping[str, str | int | float]) -> None:
        try:
            spool = self.spool()
            for key, value in values.items():
                spool.set_meta(key, value)
        except SpoolError as err:
            log.warning("spool unavailable: %s", err)
        except sqlite3.Error as err:
            self._spool_failed(err)

    def _probes_due(self, now: float) -> list[str]:
        """The hardware probes due before the next upload, moved on one cadence each.

        Run a little early rather than late: with the default hourly upload and
        hourly battery and thermal cadences they ride every upload, and storage
        and inventory every fourth and 24th, so the laptop starts one child an hour.
        """
        horizon = now + self.jobs[UPLOAD_JOB].cadence_s
        due = [job for job in self.probe_jobs.values() if job.due <= horizon]
        for job in due:
            job.due = schedule.advance(job.due, job.cadence_s, now)
        return [job.name for job in due]

    def _start_upload(self, now: float) -> None:
        """Hand the due probes and the upload to one child, which spools, seals and sends.

        Sealing happens in the child too: zstd's compression context costs the
        process that uses it about 0.5 MB of heap that glibc keeps afterwards.
        Not enrolled yet: the probes still run (``show`` and the first upload
        have them), and the upload is retried with backoff.
        """
        job = self.jobs[UPLOAD_JOB]
        try:
            load_credentials(self.config.state_dir)
        except NotEnrolledError as err:
            self.upload_failures += 1
            job.due = now + schedule.retry_delay_s(self.upload_failures, None, self.rng)
            log.warning("%s", err)
            probes = self._probes_due(now)
            if probes:
                self._start_probe_only(probes)
            return
        # Until the child reports, the upload job is not due; the outcome sets it.
        job.due = now + CHILD_TIMEOUT_S + job.cadence_s
        try:
            self.uploader.start(self.config, self._wake, self._probes_due(now))
        except OSError as err:  # no memory or process slots for a child: back off
            self._handle_upload(ChildOutcome(False, {}, f"cannot start upload: {err}"), now)

    def _start_probe_only(self, probes: list[str]) -> None:
        from kitlife.agent.childjob import config_to_json

        if self._probe is not None and not self._probe.done():
            log.warning("hardware probe still running; %s skipped this time", ", ".join(probes))
            return
        try:
            self._probe = ChildProcess(
                ["probe", *probes], config_to_json(self.config), self._wake, CHILD_TIMEOUT_S
            )
        except OSError as err:
            log.warning("cannot start the hardware probe: %s", err)

    def tick(self) -> None:
        """One wake-up: notice jumps, take finished uploads, run what is due, persist."""
        now = self.clock.monotonic()
        wall = self.clock.wall()
        offset = wall - now
        if self._offset is not None and schedule.clock_jumped(self._offset, offset):
            log.info(
                "clock jump of %.0f s (suspend/resume or clock set): one cycle now, "
                "missed cycles are not replayed",
                offset - self._offset,
            )
            upload = self.jobs[UPLOAD_JOB]
            upload_due = upload.due
            schedule.realign_after_jump([*self.jobs.values(), *self.probe_jobs.values()], now)
            # Network is often not up in the first second after resume; upload soon,
            # spread out, unless an upload is already under way.
            upload.due = (
                upload_due
                if self.uploader.running()
                else min(upload_due, now + self.rng.uniform(5.0, 60.0))
            )
        self._offset = offset

        outcome = self.uploader.take()
        if outcome is not None:
            self._handle_upload(outcome, now)
            # Spawning and reaping a child leaves pipe buffers and a thread arena
            # behind; once per upload (every 15 min) it is worth handing back.
            self._trim_due = True
        if self._probe is not None:
            probed = self._probe.take()
            if probed is not None and not probed.ok:
                log.warning("hardware probe failed: %s", probed.error)

        due = schedule.due_jobs(self.jobs.values(), now)
        in_loop: list[str] = []
        run_upload = False
        for job in due:
            if job.name == UPLOAD_JOB:
                run_upload = not self.uploader.running()
                if not run_upload:  # never spin on a job that cannot run yet
                    job.due = now + job.cadence_s
                continue
            in_loop.append(job.name)
            job.due = schedule.advance(job.due, job.cadence_s, now)
        snapshot = self._snapshot(now, wall)
        meta: dict[str, str | int | float] = {"schedule": json.dumps(snapshot, sort_keys=True)}
        if in_loop:
            try:
                runnable = {n: s.fn for n, s in self._sources.items() if s.fn is not None}
                collect_into(self.spool(), runnable, in_loop, now_s=int(wall), meta=meta)
                self.cycles += 1
            except SpoolError as err:
                log.warning("spool unavailable: %s", err)
            except sqlite3.Error as err:
                self._spool_failed(err)
        if run_upload:
            self._start_upload(now)
        if run_upload or not in_loop:
            self._persist({"schedule": json.dumps(self._snapshot(now, wall), sort_keys=True)})

    def _snapshot(self, now: float, wall: float) -> dict[str, int]:
        return schedule.schedule_snapshot(
            [*self.jobs.values(), *self.probe_jobs.values()], now, wall
        )

    def run(self, ready: Callable[[], None] | None = None) -> int:
        """Loop until stopped; returns the process exit status (0 for a clean stop)."""
        self._offset = None
        try:
            self._load_remote_config()
        except SpoolError as err:
            log.warning("spool unavailable at start: %s", err)
        self._plan(self.clock.monotonic())
        self._persist(
            {
                "agent_pid": os.getpid(),
                "agent_started_s": int(self.clock.wall()),
                "agent_version": __version__,
            }
        )
        log.info(
            "kitlife-agent %s running: sample every %d s, upload every %d s",
            __version__,
            self.config.sample_interval_s,
            self.config.upload_interval_s,
        )
        if ready is not None:
            ready()
        first = True
        while not self._stop.is_set():
            # Cleared before the tick, not after: a child that finishes during the
            # tick sets it again, and the wait below then returns at once.
            self._wake.clear()
            try:
                self.tick()
            except Exception:
                # A bug must not become a crash loop or, worse, a hot loop: log it,
                # push every due job one cadence on, and sleep as usual.
                log.exception("cycle failed; the loop carries on")
                now = self.clock.monotonic()
                for job in self.jobs.values():
                    if job.due <= now:
                        job.due = now + min(job.cadence_s, 60.0)
            if first or self._trim_due:
                release_memory()
                first = self._trim_due = False
            if self._stop.is_set():
                break
            delay = schedule.next_wakeup(self.jobs.values()) - self.clock.monotonic()
            if delay > 0:
                self.clock.wait(self._wake, delay)
        self.shutdown()
        return 0

    def shutdown(self) -> None:
        """Let an upload in flight finish briefly, then close the spool cleanly."""
        self.uploader.stop(STOP_GRACE_S)
        outcome = self.uploader.take()
        if outcome is not None:
            self._handle_upload(outcome, self.clock.monotonic())
        self._persist({"agent_pid": 0})
        if self._spool is not None:
            self._spool.close()  # the last close checkpoints the WAL into the main file
            self._spool = None
        log.info("kitlife-agent stopped")


def release_memory() -> None:
    """Give start-up garbage back to the OS once (glibc keeps freed heap otherwise).

    Worth about 0.7 MB of RSS on Linux after imports and the first cycle; a
    no-op elsewhere. Called after the first cycle and after each upload, not
    per cycle: it costs a few milliseconds.
    """
    import gc

    gc.collect()
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")  # glibc only: OSError on macOS, Windows and musl
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


# -- process set-up ---------------------------------------------------------------------
class BoundedLogHandler(logging.FileHandler):
    """``RotatingFileHandler(maxBytes=max_bytes, backupCount=1)``, without its import.

    ``logging.handlers`` pulls in pickle, queue and the socket handlers: about
    0.5 MB of resident memory in a process that must stay under 20 MB, for
    one method. Same behaviour: when the next record would take the file past
    ``max_bytes``, it becomes ``agent.log.1`` (replacing the previous one) and
    a new file starts, so the log never takes more than twice ``max_bytes``.
    """

    def __init__(self, path: Path, max_bytes: int) -> None:
        super().__init__(path, mode="a", encoding="utf-8", delay=True)
        self.max_bytes = max_bytes

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._would_overflow(record):
                self._rotate()
        except OSError:
            self.handleError(record)
        super().emit(record)

    def _would_overflow(self, record: logging.LogRecord) -> bool:
        if self.stream is None:  # delay=True: opened on first use
            self.stream = self._open()
        size = self.stream.tell()
        return size > 0 and size + len(self.format(record)) + 1 > self.max_bytes

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        path = Path(self.baseFilename)
        if path.exists():
            os.replace(path, path.with_name(path.name + ".1"))
        self.stream = self._open()


def setup_logging(config: AgentConfig) -> logging.Handler | None:
    """A bounded log in the state folder: one file plus one rotated copy.

    Messages name sources, paths in the state folder, the collector URL and
    errors; never readings, hostnames, user names or keys.
    """
    try:
        make_private_dir(config.state_dir)
        handler = BoundedLogHandler(config.state_dir / LOG_FILE, config.log_max_bytes)
    except OSError as err:
        log.warning("no log file in %s: %s", config.state_dir, err)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
        for other in root.handlers:
            if other is not handler and other.level == logging.NOTSET:
                other.setLevel(logging.WARNING)  # stderr (journal) stays at warnings
    return handler


def run_service(config: AgentConfig, *, in_process_upload: bool = False) -> int:
    """Entry point of ``kitlife-agent run``: signals wired to a clean stop.

    Signal handlers are only installed from the main thread (a Windows service
    runs this on a worker thread and stops it with :func:`request_stop`); the
    previous handlers and the log handler are put back on return, so an
    embedding process is left as it was.
    """
    handler = setup_logging(config)
    loop = ServiceLoop(
        config, uploader=InProcessUploader() if in_process_upload else SubprocessUploader()
    )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        loop.stop()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGINT", "SIGBREAK", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is not None:
                previous[sig] = signal.signal(sig, on_signal)
    _RUNNING.append(loop)
    try:
        return loop.run()
    finally:
        _RUNNING.remove(loop)
        for sig, old in previous.items():
            signal.signal(sig, old)
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()


# The loop run_service is running, for a stop request from another thread.
_RUNNING: list[ServiceLoop] = []


def request_stop() -> None:
    """For the Windows service's SvcStop (another thread): end ``run_service`` cleanly."""
    for loop in list(_RUNNING):
        loop.stop()


# -- status (another process) -----------------------------------------------------------
def status_dict(config: AgentConfig) -> dict[str, Any]:
    """Everything ``kitlife-agent status`` shows, read without changing the spool."""
    try:
        creds = load_credentials(config.state_dir)
        device_id: str | None = creds.device_id
        collector_url: str | None = creds.collector_url
    except NotEnrolledError:
        device_id, collector_url = None, config.collector_url or None
    info: dict[str, Any] = {
        "agent_version": __version__,
        "state_dir": str(config.state_dir),
        "device_id": device_id,
        "collector_url": collector_url,
        "log_file": str(config.state_dir / LOG_FILE),
    }
    try:
        spool = Spool(config.state_dir / SPOOL_FILE, config.spool_max_bytes, readonly=True)
    except SpoolError as err:
        info.update(last_upload_s=None, last_error=str(err), spool=None, next_due={}, service=None)
        return info
    with spool:
        stats = spool.stats()
        try:
            sched = json.loads(spool.meta("schedule") or "{}")
        except ValueError:
            sched = {}
        try:
            remote = json.loads(spool.meta("collector_config") or "{}")
        except ValueError:
            remote = {}
        pid = spool.meta_int("agent_pid")
        info.update(
            last_upload_s=spool.meta_int("last_upload_s") or None,
            last_error=spool.meta("last_error") or None,
            upload_failures=spool.meta_int("upload_failures"),
            collector_config=remote if isinstance(remote, dict) else {},
            service={
                "pid": pid or None,
                "running": bool(pid) and _alive(pid),
                "started_s": spool.meta_int("agent_started_s") or None,
            },
            next_due=dict(sorted(sched.items(), key=lambda kv: kv[1]))
            if isinstance(sched, dict)
            else {},
            spool={
                "readings": stats.readings,
                "batches": stats.batches,
                "bytes": stats.bytes,
                "max_bytes": stats.max_bytes,
                "added_readings": stats.added_points,
                "dropped_readings": stats.dropped_points,
                "rejected_batches": spool.meta_int("rejected_batches"),
                "set_aside": spool.meta("set_aside_name") or None,
                "spool_id": stats.spool_id,
            },
        )
    return info


def _alive(pid: int) -> bool:
    try:
        import psutil

        return bool(psutil.pid_exists(pid))
    except (ImportError, OSError):
        return False


def format_status(info: Mapping[str, Any], now_s: float | None = None) -> list[str]:
    """The human form of :func:`status_dict`."""
    now_s = time.time() if now_s is None else now_s

    def when(t: Any) -> str:
        if not t:
            return "never"
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))
        delta = int(t - now_s)
        rel = f"in {delta} s" if delta >= 0 else f"{-delta} s ago"
        return f"{stamp} ({rel})"

    lines = [
        f"kitlife-agent {info['agent_version']}",
        f"device:      {info['device_id'] or 'not enrolled'}",
        f"collector:   {info['collector_url'] or '-'}",
        f"state dir:   {info['state_dir']}",
    ]
    service = info.get("service")
    if service:
        state = f"running (pid {service['pid']})" if service["running"] else "not running"
        lines.append(f"service:     {state}")
    lines.append(f"last upload: {when(info.get('last_upload_s'))}")
    if info.get("last_error"):
        lines.append(f"last error:  {info['last_error']}")
    spool = info.get("spool")
    if spool:
        lines.append(
            f"spool:       {spool['readings']} readings, {spool['batches']} sealed batches, "
            f"{spool['bytes']} of {spool['max_bytes']} bytes"
        )
        lines.append(
            f"dropped:     {spool['dropped_readings']} readings (spool full), "
            f"{spool['rejected_batches']} batches refused by the collector"
        )
        if spool.get("set_aside"):
            lines.append(f"recovered:   a damaged spool was set aside as {spool['set_aside']}")
    due = info.get("next_due") or {}
    if due and not (service and service.get("running")):
        lines.append("next due as last planned (the service is not running):")
    for name, t in due.items():
        lines.append(f"next {name + ':':<12} {when(t)}")
    return lines
