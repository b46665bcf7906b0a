"""Collector settings: one typed object, from the environment and flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from kitlife.protocol import DEFAULT_LIMITS, Limits


def default_db_url() -> str:
    """KITLIFE_DB, else an SQLite file in the per-OS data folder."""
    url = os.environ.get("KITLIFE_DB")
    if url:
        return url
    folder = Path(platformdirs.user_data_dir("kitlife", appauthor=False))
    return f"sqlite:///{folder / 'kitlife.sqlite3'}"


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str = field(default_factory=default_db_url)
    limits: Limits = DEFAULT_LIMITS
    # Ingests in flight above this get 429 + Retry-After rather than an unbounded queue.
    max_inflight_ingests: int = int(os.environ.get("KITLIFE_MAX_INFLIGHT", "64"))
    retry_after_s: int = 30
    raw_retention_days: int = 90
    # Retention runs inside the server: first this long after start, then every interval
    # (0 turns the schedule off, e.g. when cron runs `kitlife db prune`).
    prune_first_delay_s: float = 60.0
    prune_interval_s: float = 86400.0
    # Group commit: batches per transaction, and writer threads per worker (SQLite
    # always uses one). One on PostgreSQL too by default: measured on two cores,
    # a second thread split the groups (more round trips per batch) and fought
    # the event loop for the interpreter: 2,890 vs 3,096 batches/s, p99 43 vs 36 ms.
    # Concurrency on PostgreSQL comes from workers (`serve --workers N`).
    max_group: int = 256
    group_linger_s: float = float(os.environ.get("KITLIFE_GROUP_LINGER_S", "0.001"))
    writer_threads: int = int(os.environ.get("KITLIFE_WRITER_THREADS", "1"))
    # Sent to agents in every ack; they bound-check before applying.
    agent_sample_interval_s: int = 60
    agent_upload_interval_s: int = 900
    # How often agents ask their user for a 1-5 rating (0: never).
    agent_feedback_ask_every_days: int = 30
    # Rescore a device in the background after its batch lands (kitlife score does it by hand).
    rescore_on_ingest: bool = True
    # ... at most this often per device (scores move over weeks; see Rescorer), and
    # working at most this share of the time, so scoring never crowds out ingest.
    rescore_min_interval_s: float = float(os.environ.get("KITLIFE_RESCORE_EVERY_S", "21600"))
    rescore_duty: float = 0.25
