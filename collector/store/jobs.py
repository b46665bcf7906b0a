"""Background work shared by several collector hosts over one database: each round done once.

Why: behind a load balancer every host (and every uvicorn worker) runs the
same schedule (:mod:`kitlife.collector.runtime.jobs`). Two things keep them
from doing the same work twice, both on the database they already share, not
on a coordinator of our own:

- :func:`claim_round`: a job's round is claimed by one conditional ``UPDATE``
  of its ``job_rounds`` row (``WHERE started_ms <= now - interval``); the
  database lets exactly one claimer's update match, so of two hosts whose
  clocks fire a second apart the second finds the round taken. Works the same
  on SQLite (one host) and PostgreSQL.
- :func:`exclusive`: on PostgreSQL a session advisory lock keyed by the job's
  name is held while the round runs, so a round that outlasts its interval is
  not overlapped by the next one (``pg_try_advisory_lock``: a busy lock means
  skip, never queue). A session that dies takes its lock with it.
- :func:`claim_devices`: the rescorer's per-device work. A device is claimed
  by moving its ``scored_s`` forward in one ``UPDATE .. RETURNING``, so a
  device whose batches reached two hosts is rescored by one of them.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator, Sequence

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from kitlife.collector.store.schema import devices, job_rounds
from kitlife.collector.store.store import Store

# First key of the PostgreSQL advisory locks of background jobs ("kj").
_JOB_LOCK = 0x6B6A


def holder_name() -> str:
    """Who claims: host and process, for the row and the logs."""
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def claim_round(store: Store, name: str, interval_s: float, now_s: float, holder: str) -> bool:
    """True when this caller gets the job's round that is due at ``now_s``; False: taken.

    A round is due when the last one was claimed at least ``interval_s`` ago
    (less a tenth, so that hosts whose timers drift a little still share one
    schedule rather than each running late rounds).
    """
    now_ms = int(now_s * 1000)
    due_before = now_ms - int(interval_s * 900)
    c = job_rounds.c
    with store.engine.begin() as conn:
        taken = conn.execute(
            update(job_rounds)
            .where(c.name == name, c.started_ms <= due_before)
            .values(started_ms=now_ms, holder=holder, rounds=c.rounds + 1)
        ).rowcount
        if taken:
            return True
        exists = conn.execute(select(c.name).where(c.name == name)).first()
    if exists is not None:
        return False
    try:  # the job's first round ever: whoever inserts the row has it
        with store.engine.begin() as conn:
            conn.execute(
                insert(job_rounds).values(name=name, started_ms=now_ms, holder=holder, rounds=1)
            )
    except IntegrityError:
        return False
    return True


def rounds(store: Store) -> dict[str, tuple[int, str, int]]:
    """job name -> (last claimed at, epoch ms; by whom; rounds claimed so far)."""
    c = job_rounds.c
    with store.engine.connect() as conn:
        return {
            r.name: (int(r.started_ms), str(r.holder), int(r.rounds))
            for r in conn.execute(select(c.name, c.started_ms, c.holder, c.rounds))
        }


@contextlib.contextmanager
def exclusive(store: Store, name: str) -> Iterator[bool]:
    """Yields True while this session holds the job's lock, False if another holds it.

    PostgreSQL: a session advisory lock keyed by the job's name (per schema:
    advisory locks are per database). SQLite serves one host, whose round
    claim is enough: always True.
    """
    if store.dialect != "postgresql":
        yield True
        return
    key = (_JOB_LOCK, func.hashtext(func.current_schema() + ":" + name))
    with store.engine.connect() as conn:
        got = bool(conn.execute(select(func.pg_try_advisory_lock(*key))).scalar_one())
        conn.commit()
        try:
            yield got
        finally:
            if got and not conn.invalidated:
                conn.execute(select(func.pg_advisory_unlock(*key)))
                conn.commit()


def claim_devices(
    store: Store, device_ids: Sequence[int], not_since_s: float, now_s: int
) -> list[int]:
    """The devices of ``device_ids`` not scored since ``not_since_s``, now claimed by this caller.

    The claim moves ``scored_s`` to ``now_s``; the score written afterwards
    keeps it. Another host asking for the same devices gets none of them.
    """
    if not device_ids:
        return []
    c = devices.c
    with store.engine.begin() as conn:
        return sorted(
            int(r.id)
            for r in conn.execute(
                update(devices)
                .where(
                    and_(
                        c.id.in_(sorted(device_ids)),
                        or_(c.scored_s.is_(None), c.scored_s < not_since_s),
                    )
                )
                .values(scored_s=now_s)
                .returning(c.id)
            )
        )
