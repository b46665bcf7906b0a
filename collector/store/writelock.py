"""One SQLite writer at a time across worker processes, handed over without polling.

Why: SQLite lets one connection write at a time and makes the others wait in
its busy handler, which sleeps 1, 2, 5, 10, 15 ... ms between tries. With
several uvicorn workers each committing a group every few milliseconds, those
sleeps would be most of the latency. An exclusive ``flock`` on a file beside
the database is a queue the kernel keeps: the next writer wakes the moment
the lock is released. Writers that do not take it (the CLI, the rescorer's
score rows) still meet SQLite's own lock and busy timeout, as before.

POSIX only; where ``fcntl`` is missing (Windows), :func:`available` is False
and ``kitlife serve`` keeps SQLite to one worker.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


def available() -> bool:
    return fcntl is not None


class WriteLock:
    """An exclusive lock shared by every process that opens the same ``path``.

    ``flock`` belongs to the open file, which this process's threads share, so
    a thread lock orders them first and the file lock then orders processes.
    """

    def __init__(self, path: str) -> None:
        if fcntl is None:
            raise OSError("file locks need fcntl (POSIX)")
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._threads = threading.Lock()

    def __enter__(self) -> WriteLock:
        self._threads.acquire()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        os.close(self._fd)
