"""Prometheus metrics of the collector, served at /metrics (token-protected).

With several uvicorn workers each process counts on its own; ``kitlife serve
--workers N`` sets ``PROMETHEUS_MULTIPROC_DIR`` so /metrics adds them up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

if TYPE_CHECKING:
    from kitlife.collector.store.ingest import Item

INGEST_BATCHES = Counter(
    "kitlife_ingest_batches_total",
    "Batches acknowledged, by result (stored, or duplicate: a retry of a stored batch)",
    ["result"],
)
INGEST_BYTES = Counter("kitlife_ingest_bytes_total", "Compressed batch bytes stored")
INGEST_POINTS = Counter("kitlife_ingest_points_total", "Samples and texts in stored batches")
INGEST_REJECTED = Counter(
    "kitlife_ingest_rejected_total",
    "Batches refused, by reason",
    ["reason"],
)
INGEST_SECONDS = Histogram(
    "kitlife_ingest_seconds",
    "Time from admission to ack of POST /v1/batches",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
GROUP_SIZE = Histogram(
    "kitlife_ingest_group_size",
    "Batches per group-commit transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
GROUP_SECONDS = Histogram(
    "kitlife_ingest_group_seconds",
    "Time to write and commit one group",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
INFLIGHT = Gauge(
    "kitlife_ingest_inflight",
    "POST /v1/batches requests admitted and not yet answered",
    multiprocess_mode="livesum",
)
PRUNED = Counter("kitlife_pruned_batches_total", "Raw batches deleted by retention")

REASONS = (
    "content_type",
    "too_large",
    "unauthorised",
    "bad_batch",
    "wrong_device",
    "revoked",
    "overload",
    "error",
    "timeout",
    "future",
)


_STORED = INGEST_BATCHES.labels("stored")
_DUPLICATE = INGEST_BATCHES.labels("duplicate")


def observe_group(items: Sequence[Item], results: Sequence[object], seconds: float) -> None:
    """Count a committed group: once per group, not per request.

    Why: with several workers each metric update goes through a shared
    memory-mapped file, a lock and a pid check; per request that was about
    7 % of the event loop's time under load. Counted before the acks leave.
    """
    GROUP_SIZE.observe(len(items))
    GROUP_SECONDS.observe(seconds)
    stored = [item for item, result in zip(items, results, strict=True) if result is True]
    duplicates = sum(1 for result in results if result is False)
    if stored:
        _STORED.inc(len(stored))
        INGEST_BYTES.inc(sum(len(item.body) for item in stored))
        INGEST_POINTS.inc(sum(item.batch.n_points for item in stored))
    if duplicates:
        _DUPLICATE.inc(duplicates)


def render() -> tuple[bytes, str]:
    """The exposition text: this process's metrics, or all workers' if multiprocess."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
