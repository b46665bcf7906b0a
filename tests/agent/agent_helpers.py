"""Real processes for the agent's tests: a ``kitlife serve`` collector and the agent CLI."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent
T0 = 1_750_000_000.0
KITLIFE = str(BIN / "kitlife")
AGENT = str(BIN / "kitlife-agent")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Collector:
    """``kitlife serve`` on a loopback port with an SQLite file; can be stopped and restarted."""

    def __init__(self, tmp: Path, port: int | None = None) -> None:
        self.db_path = tmp / "collector.sqlite3"
        self.db_url = f"sqlite:///{self.db_path}"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "collector.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def token(self) -> str:
        out = subprocess.run(
            [KITLIFE, "--db", self.db_url, "token", "create", "--role", "enroll", "--uses", "5"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return out.stdout.strip()

    def start(self, timeout_s: float = 30.0) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [KITLIFE, "--db", self.db_url, "serve", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"collector exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("collector did not come up")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def stored(self) -> tuple[int, int, int]:
        """(batches, points, distinct batch ids) as the collector's database holds them."""
        with contextlib.closing(sqlite3.connect(self.db_path)) as db:
            n, points, distinct = db.execute(
                "SELECT count(*), coalesce(sum(n_points), 0), count(DISTINCT batch_uid) "
                "FROM batches"
            ).fetchone()
        return int(n), int(points), int(distinct)

    def stored_times(self) -> tuple[int, int]:
        """Earliest first_s and latest last_s over every stored batch."""
        with contextlib.closing(sqlite3.connect(self.db_path)) as db:
            lo, hi = db.execute("SELECT min(first_s), max(last_s) FROM batches").fetchone()
        return int(lo), int(hi)


@contextlib.contextmanager
def running_collector(tmp: Path) -> Iterator[Collector]:
    collector = Collector(tmp)
    collector.start()
    try:
        yield collector
    finally:
        collector.stop()


def agent_env(state_dir: Path, **values: Any) -> dict[str, str]:
    """The environment of an agent process: its own state folder, no system config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITLIFE_")}
    env["KITLIFE_AGENT_STATE_DIR"] = str(state_dir)
    env["KITLIFE_AGENT_CONFIG"] = str(state_dir / "absent.toml")
    env["KITLIFE_AGENT_ALLOW_HTTP"] = "1"
    for key, value in values.items():
        env[f"KITLIFE_AGENT_{key.upper()}"] = str(value)
    return env


def agent(
    args: list[str], env: Mapping[str, str], timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AGENT, *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def enroll(collector: Collector, env: Mapping[str, str]) -> None:
    done = agent(["enroll", "--url", collector.url, "--token", collector.token()], env)
    assert done.returncode == 0, done.stderr


def spool_counts(state_dir: Path) -> dict[str, int]:
    """Counters and depth of an agent's spool, read the way ``status`` reads it."""
    from kitlife.agent.spool import Spool

    with Spool(state_dir / "spool.db", readonly=True) as spool:
        stats = spool.stats()
        in_batches = sum(int(r[0]) for r in spool._db.execute("SELECT n_points FROM batches"))
        return {
            "added": stats.added_points,
            "dropped": stats.dropped_points,
            "readings": stats.readings,
            "batches": stats.batches,
            "in_batches": in_batches,
            "next_seq": stats.next_seq,
            "rejected": spool.meta_int("rejected_batches"),
        }


def wait_for(predicate: Any, timeout_s: float, interval_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())


class Thread(threading.Thread):
    """A daemon thread that re-raises its exception in join()."""

    def __init__(self, target: Any) -> None:
        super().__init__(daemon=True)
        self._target_fn = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._target_fn()
        except BaseException as err:
            self.error = err


class FakeClock:
    """Time that passes only when the loop sleeps; ``on_wait`` scripts the world."""

    def __init__(self, on_wait: Callable[[FakeClock], None] | None = None) -> None:
        self.mono = 1000.0
        self.wall_s = T0
        self.waits: list[float] = []
        self.on_wait = on_wait
        self.suspend_next_s = 0.0

    def monotonic(self) -> float:
        return self.mono

    def wall(self) -> float:
        return self.wall_s

    def wait(self, event: threading.Event, timeout_s: float) -> bool:
        if event.is_set():
            return True
        self.waits.append(timeout_s)
        self.mono += timeout_s
        # A suspend: the monotonic clock stops (Linux, macOS), the wall clock does not.
        self.wall_s += timeout_s + self.suspend_next_s
        self.suspend_next_s = 0.0
        if self.on_wait is not None:
            self.on_wait(self)
        return event.is_set()
