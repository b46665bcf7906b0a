"""kitlife wire format, shared by the agent and the collector.

This package is the only place that knows the byte layout of a batch.

Public API::

    encode_batch(batch, level=3) -> bytes
    decode_batch(data, limits=DEFAULT_LIMITS) -> Batch
    decode_summary(data, limits=DEFAULT_LIMITS) -> BatchSummary   same checks, per-day aggregates
    Batch, Series, Text, Unavailable     the decoded model
    Limits, DEFAULT_LIMITS               hard limits checked before allocation
    ProtocolError                        the only exception decode_batch raises
    REGISTRY, Metric, metric_by_name      the metric-id registry

Errors: ProtocolError(reason) carries a one-line, user-safe ``reason`` and a
``status`` (400, 413 or 415) that an HTTP server can answer with.
"""

from kitlife.protocol.errors import ProtocolError
from kitlife.protocol.model import Batch, BatchSummary, DayAggregate, Series, Text, Unavailable
from kitlife.protocol.registry import REGISTRY, Metric, metric_by_id, metric_by_name
from kitlife.protocol.wire import (
    CONTENT_TYPE,
    DEFAULT_LIMITS,
    MAGIC,
    WIRE_VERSION,
    Limits,
    decode_batch,
    decode_summary,
    encode_batch,
)

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_LIMITS",
    "MAGIC",
    "REGISTRY",
    "WIRE_VERSION",
    "Batch",
    "BatchSummary",
    "DayAggregate",
    "Limits",
    "Metric",
    "ProtocolError",
    "Series",
    "Text",
    "Unavailable",
    "decode_batch",
    "decode_summary",
    "encode_batch",
    "metric_by_id",
    "metric_by_name",
]
