"""Prometheus metrics of the collector, served at /metrics (token-protected).

With several uvicorn workers each process counts on its own; ``kitlife serve
--workers N`` sets ``PROMETHEUS_MULTIPROC_DIR`` so /metrics adds them up.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

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
)


def observe_group(size: int, seconds: float) -> None:
    GROUP_SIZE.observe(size)
    GROUP_SECONDS.observe(seconds)


def render() -> tuple[bytes, str]:
    """The exposition text: this process's metrics, or all workers' if multiprocess."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
