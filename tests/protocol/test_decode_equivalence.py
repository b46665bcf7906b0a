"""The fast decoders accept exactly what the plain reference accepts, and agree with it.

decode_batch and decode_summary validate whole columns at once (see
kitlife.protocol.wire._series); reference_decoder.py
checks one value at a time. Hypothesis mutates valid batches at every level
of their msgpack structure and all three must agree on accept or reject;
on accepted batches, the summary's daily aggregates must be what the
reference's values give.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import msgpack
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kitlife.protocol import (
    MAGIC,
    Batch,
    ProtocolError,
    Series,
    Text,
    Unavailable,
    decode_batch,
    decode_summary,
    encode_batch,
)
from tests.protocol.reference_decoder import reference_decode

T0 = 1_790_000_000  # 2026-09-21, well inside one UTC day for a short series


def _payload(batch: Batch) -> list[Any]:
    data = encode_batch(batch)
    raw = zstandard.ZstdDecompressor().stream_reader(data[len(MAGIC) :]).read()
    out: list[Any] = msgpack.unpackb(raw, raw=False)
    return out


def _frame(payload: Any) -> bytes:
    packed = msgpack.packb(payload, use_bin_type=True)
    return MAGIC + zstandard.ZstdCompressor().compress(packed)


def _series(draw: st.DrawFn, i: int) -> Series:
    n = draw(st.integers(1, 6))
    start = draw(st.integers(0, 3 * 86400)) + T0
    steps = draw(st.lists(st.integers(-120, 40_000), min_size=n - 1, max_size=n - 1))
    stamps = [start]
    for d in steps:
        stamps.append(max(0, stamps[-1] + d))
    exp = draw(st.integers(-3, 3))
    qs = draw(st.lists(st.integers(-(10**12), 10**12), min_size=n, max_size=n))
    values = tuple(float(q * 10**exp) if exp >= 0 else q / 10**-exp for q in qs)
    return Series(
        draw(st.integers(0, 1000)),
        draw(st.sampled_from(["", "BAT0", "nvme0n1"])),
        tuple(stamps),
        values,
        exp,
    )


@st.composite
def batches(draw: st.DrawFn) -> Batch:
    n = draw(st.integers(0, 5))
    return Batch(
        "d" * 32,
        "spool",
        draw(st.integers(0, 10**6)),
        T0 + 900,
        "0.1.0",
        tuple(_series(draw, i) for i in range(n)),
        tuple(Text(400 + i, "", T0 + i, "x" * i) for i in range(draw(st.integers(0, 2)))),
        tuple(Unavailable("storage", "", "no access") for _ in range(draw(st.integers(0, 1)))),
    )


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),  # what msgpack can carry
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.lists(st.integers(-5, 5), max_size=3),
    st.lists(st.floats(-5, 5), max_size=3),
    st.lists(st.text(max_size=2), max_size=3),
)


def _paths(node: Any, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    out = [prefix]
    if isinstance(node, list):
        for i, child in enumerate(node):
            out.extend(_paths(child, (*prefix, i)))
    return out


def _replace(node: Any, path: tuple[int, ...], value: Any) -> Any:
    if not path:
        return value
    copy = list(node)
    copy[path[0]] = _replace(node[path[0]], path[1:], value)
    return copy


def _outcome(fn: Any, data: bytes) -> Any:
    try:
        return fn(data)
    except ProtocolError:
        return "rejected"
    except Exception as err:  # the reference is plain, not hardened
        return f"rejected ({type(err).__name__})"


def _reference_days(batch: Batch) -> dict[tuple[int, str, int], list[Any]]:
    acc: dict[tuple[int, str, int], list[Any]] = defaultdict(list)
    for s in batch.series:
        for t, v in zip(s.timestamps_s, s.values, strict=True):
            acc[(s.metric_id, s.component, t // 86400)].append((t, v))
    return acc


def _check_summary(data: bytes, reference: Batch) -> None:
    summary = decode_summary(data)
    assert summary.n_points == reference.n_points
    assert (summary.device_id, summary.spool_id, summary.seq) == (
        reference.device_id,
        reference.spool_id,
        reference.seq,
    )
    assert summary.texts == reference.texts
    assert summary.unavailable == reference.unavailable
    expected = _reference_days(reference)
    got: dict[tuple[int, str, int], list[Any]] = defaultdict(list)
    for d in summary.days:
        got[(d.metric_id, d.component, d.day)].append(d)
    assert set(got) == set(expected)
    for key, points in expected.items():
        # The same metric may come in several series: their aggregates add up.
        aggs = got[key]
        assert sum(a.n for a in aggs) == len(points)
        values = [v for _, v in points]
        assert min(a.lo for a in aggs) == min(values)
        assert max(a.hi for a in aggs) == max(values)
        # Float sums in another order differ by rounding that scales with the
        # magnitudes added, not with the result: 1e11 - 1e11 + 3825.1 may carry
        # 1e-5 of rounding. Bound the error by the sum of magnitudes.
        scale = math.fsum(abs(v) for v in values)
        assert math.isclose(
            sum(a.total for a in aggs),
            math.fsum(values),
            rel_tol=1e-9,
            abs_tol=1e-12 * scale + 1e-9,
        )
        newest = max(a.last_s for a in aggs)
        assert newest == max(t for t, _ in points)
        assert any(
            a.last in {v for t, v in points if t == newest} for a in aggs if a.last_s == newest
        )
    stamps = [t for s in reference.series for t in s.timestamps_s] + [
        t.t_s for t in reference.texts
    ]
    if stamps:
        assert (summary.first_s, summary.last_s) == (min(stamps), max(stamps))


@settings(max_examples=300, deadline=None)
@given(batches())
def test_valid_batches_decode_alike(batch: Batch) -> None:
    data = encode_batch(batch)
    reference = reference_decode(data)
    assert decode_batch(data) == reference
    _check_summary(data, reference)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.data())
def test_mutated_batches_are_accepted_or_rejected_alike(batch: Batch, data: st.DataObject) -> None:
    payload = _payload(batch)
    path = data.draw(st.sampled_from(_paths(payload)))
    mutated = _frame(_replace(payload, path, data.draw(_JUNK)))
    reference = _outcome(reference_decode, mutated)
    full = _outcome(decode_batch, mutated)
    summary = _outcome(decode_summary, mutated)
    rejected = isinstance(reference, str)
    assert isinstance(full, str) == rejected, (path, reference, full)
    assert isinstance(summary, str) == rejected, (path, reference, summary)
    if not rejected:
        assert full == reference
        _check_summary(mutated, reference)
