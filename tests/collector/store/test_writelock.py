"""The SQLite writers' file lock: a second process waits, and wakes as soon as it is free."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from kitlife.collector.store.writelock import WriteLock

_HOLD = """
import sys, time
from kitlife.collector.store.writelock import WriteLock
with WriteLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_second_process_waits_for_the_lock_and_gets_it_on_release(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3-writers.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, path, "1.0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        lock = WriteLock(path)
        t0 = time.monotonic()
        with lock:
            waited = time.monotonic() - t0
            released = holder.poll() is not None or holder.wait(5) == 0
        lock.close()
    finally:
        holder.wait(10)
    assert released
    assert 0.5 < waited < 5.0  # it waited for the holder, not for nothing and not forever


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    import threading

    lock = WriteLock(str(tmp_path / "x.lock"))
    inside = 0
    most = 0

    def work() -> None:
        nonlocal inside, most
        for _ in range(50):
            with lock:
                inside += 1
                most = max(most, inside)
                time.sleep(0.0005)
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lock.close()
    assert most == 1
