"""Cut a batch to what every collector accepts, and say what was cut.

Why: the agent sealed batches the collector would always refuse (a
400-character model name in a three-byte script is 1,200 bytes of UTF-8,
over the 1,024-byte string limit; a value too large to quantise; more
series than a batch may hold). The collector answers such a batch with
400, the agent takes that as final and deletes it: every reading in it was
lost for one bad field. :func:`conform` applies the decoder's own limits
before encoding instead: a string too long is truncated (at a character
boundary), a value or time that cannot travel is dropped, a list over its
limit keeps its first members, and each kind of cut is counted under a
reason, so the rest of the batch arrives. The agent keeps the counts with
its spool's statistics (``trimmed_*``).

The compressed and decompressed sizes depend on the encoding, so they are
not checked here: the agent encodes, checks, and seals fewer points when a
batch would be too large (agent/spool.py).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from typing import TypeVar

from kitlife.protocol.model import Batch, Series, Text, Unavailable
from kitlife.protocol.wire import _EXP_MAX, _EXP_MIN, _Q_MAX, _T_MAX, DEFAULT_LIMITS, Limits


def truncate_utf8(value: str, max_bytes: int) -> str:
    """``value`` cut to at most ``max_bytes`` bytes of UTF-8, never inside a character."""
    if len(value) <= max_bytes // 4 or (value.isascii() and len(value) <= max_bytes):
        return value
    data = value.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return value
    return data[:max_bytes].decode("utf-8", "ignore")


_T = TypeVar("_T", Series, Text, Unavailable)


class _Cutter:
    """Counts what it cuts, by reason."""

    def __init__(self) -> None:
        self.cut: Counter[str] = Counter()

    def text(self, value: str, max_bytes: int, reason: str) -> str:
        short = truncate_utf8(value, max_bytes)
        if short != value:
            self.cut[reason] += 1
        return short

    def keep(self, items: list[_T], limit: int, reason: str) -> None:
        if len(items) > limit:
            self.cut[reason] += len(items) - limit
            del items[limit:]


def _in_range(value: object, exponent: int) -> bool:
    # Not only NaN and infinities: SQLite stores a NaN as NULL, so the spool hands back None.
    if not isinstance(value, float | int) or not math.isfinite(value):
        return False
    q = value / 10.0**exponent
    return -_Q_MAX <= q <= _Q_MAX


def _series(s: Series, limits: Limits, cutter: _Cutter) -> Series | None:
    if not (0 <= s.metric_id <= 65535 and _EXP_MIN <= s.exponent <= _EXP_MAX):
        cutter.cut["bad_metric"] += 1
        return None
    points = [
        (t, v)
        for t, v in zip(s.timestamps_s, s.values, strict=True)
        if 0 <= t <= _T_MAX and _in_range(v, s.exponent)
    ]
    if len(points) < len(s.values):
        cutter.cut["bad_value"] += len(s.values) - len(points)
    if not points:
        return None
    component = cutter.text(s.component, limits.max_str_len, "long_component")
    return Series(
        s.metric_id,
        component,
        tuple(t for t, _ in points),
        tuple(v for _, v in points),
        s.exponent,
    )


def conform(batch: Batch, limits: Limits = DEFAULT_LIMITS) -> tuple[Batch, dict[str, int]]:
    """``batch`` as any collector with ``limits`` decodes it, and the cuts by reason.

    The ids (device, spool) are the collector's and the spool's own and
    always within their limit; the agent version is cut like any string.
    """
    cutter = _Cutter()
    series: list[Series] = [
        kept for s in batch.series if (kept := _series(s, limits, cutter)) is not None
    ]
    texts: list[Text] = []
    for t in batch.texts:
        if not (0 <= t.metric_id <= 65535 and 0 <= t.t_s <= _T_MAX):
            cutter.cut["bad_value"] += 1
            continue
        texts.append(
            Text(
                t.metric_id,
                cutter.text(t.component, limits.max_str_len, "long_component"),
                t.t_s,
                cutter.text(t.value, limits.max_str_len, "long_text"),
            )
        )
    unavailable: list[Unavailable] = [
        Unavailable(
            cutter.text(u.source, limits.max_id_len, "long_source"),
            cutter.text(u.component, limits.max_str_len, "long_component"),
            cutter.text(u.reason, limits.max_str_len, "long_reason"),
        )
        for u in batch.unavailable
    ]
    cutter.keep(series, limits.max_series, "too_many_series")
    cutter.keep(texts, limits.max_texts, "too_many_texts")
    cutter.keep(unavailable, limits.max_unavailable, "too_many_unavailable")
    _keep_components(series, texts, unavailable, limits.max_components, cutter)
    points = sum(len(s.values) for s in series) + len(texts)
    if points > limits.max_points:
        # The spool seals at most max_points readings: only a caller's own mistake gets here.
        raise ValueError(f"batch holds {points} points, over the limit of {limits.max_points}")
    conformed = replace(
        batch,
        agent_version=cutter.text(batch.agent_version, limits.max_id_len, "long_agent_version"),
        series=tuple(series),
        texts=tuple(texts),
        unavailable=tuple(unavailable),
    )
    return conformed, dict(cutter.cut)


def _keep_components(
    series: list[Series],
    texts: list[Text],
    unavailable: list[Unavailable],
    max_components: int,
    cutter: _Cutter,
) -> None:
    """Drop what names a component beyond the first ``max_components - 1`` (index 0 is "")."""
    names: dict[str, None] = {"": None}
    for component in _components(series, texts, unavailable):
        names.setdefault(component, None)
    if len(names) <= max_components:
        return
    allowed = set(list(names)[:max_components])
    before = len(series) + len(texts) + len(unavailable)
    series[:] = [x for x in series if x.component in allowed]
    texts[:] = [x for x in texts if x.component in allowed]
    unavailable[:] = [x for x in unavailable if x.component in allowed]
    cutter.cut["too_many_components"] += before - len(series) - len(texts) - len(unavailable)


def _components(
    series: list[Series], texts: list[Text], unavailable: list[Unavailable]
) -> list[str]:
    """Every component named, in the encoder's order (series, texts, unavailable)."""
    return [
        *(s.component for s in series),
        *(t.component for t in texts),
        *(u.component for u in unavailable),
    ]
