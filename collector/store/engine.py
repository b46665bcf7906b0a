"""Engines for the two supported databases, set up the way the store needs them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def sqlite_file(url: str | URL) -> str | None:
    """The database file of an SQLite URL; None for in-memory SQLite and other databases.

    Both the store (where to put its writers' lock) and ``kitlife serve``
    (whether several workers can share the database) ask this.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    return database if database and database != ":memory:" else None


_BACKENDS = ("sqlite", "postgresql")


def check_url(url: str) -> str:
    """``url`` when it names a database the store supports; ValueError saying what does."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError as err:
        raise ValueError(f"{url!r} is not a database URL: {err}") from err
    if backend not in _BACKENDS:
        raise ValueError(
            f"unsupported database {backend!r}: use sqlite:///PATH or postgresql+psycopg://..."
        )
    return url


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (0600), or make it so.

    It holds device keys' and tokens' digests, hostnames and every reading:
    SQLite would create it 0644 under the usual umask. Its ``-wal`` and
    ``-shm`` files take the database file's mode from SQLite itself. A
    folder made here is 0700; one that exists already is left as it is.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.name == "posix" and os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL a sized pool."""
    parsed = make_url(check_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: the ack tells the agent it may delete a batch, so a commit
            # must be on disk before the ack leaves; NORMAL could lose acked
            # batches to a power cut.
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    raise AssertionError(f"check_url let {parsed.get_backend_name()!r} through")


def relax_sqlite_durability(engine: Engine) -> bool:
    """SQLite only: commit with synchronous=NORMAL instead of FULL on this engine.

    For estates that can be regenerated (the simulator): WAL + NORMAL stays
    consistent after a crash and may only lose the newest commits. Returns True
    when it applied.
    """
    if engine.dialect.name != "sqlite":
        return False
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _normal(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return True
