"""Packed device rows: the merge rules of the per-row upserts they replaced, checked
against a plain fold, in the format module and through the whole ingest path."""

from __future__ import annotations

import itertools
import math
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kitlife.collector.store import Store, packed
from kitlife.collector.store.ingest import Item
from kitlife.protocol import Batch, Series, Text, decode_batch, decode_summary, encode_batch

KEYS = [(5, ""), (9, ""), (102, "BAT0"), (102, "BAT1")]

day_entries = st.builds(
    lambda key, n, values, last_s: packed.DayEntry(
        key[0], key[1], n, sum(values), min(values), max(values), values[-1], last_s
    ),
    st.sampled_from(KEYS),
    st.integers(1, 100),
    st.lists(st.integers(-1000, 1000).map(float), min_size=1, max_size=4),
    st.integers(0, 50),
)


def _reference_day(entries: list[packed.DayEntry]) -> dict[tuple[int, str], tuple[Any, ...]]:
    out: dict[tuple[int, str], list[Any]] = {}
    for e in entries:
        cur = out.get((e.metric_id, e.component))
        if cur is None:
            out[e.metric_id, e.component] = list(e)
            continue
        cur[2] += e.n
        cur[3] += e.sum
        cur[4] = min(cur[4], e.min)
        cur[5] = max(cur[5], e.max)
        if e.last_s >= cur[7]:
            cur[6], cur[7] = e.last, e.last_s
    return {k: tuple(v) for k, v in out.items()}


@given(st.lists(day_entries, max_size=30), st.lists(st.integers(0, 30), max_size=5))
def test_a_day_folded_in_any_chunks_is_the_plain_fold(
    entries: list[packed.DayEntry], cuts: list[int]
) -> None:
    stored: bytes | None = None
    bounds = sorted({0, len(entries), *(c for c in cuts if c <= len(entries))})
    for lo, hi in itertools.pairwise(bounds):
        stored = packed.merged_day(stored, entries[lo:hi])
    got = {k: tuple(v) for k, v in packed.unpack_day(stored).items()}
    assert got == _reference_day(entries)
    if stored is not None:  # stored sorted by key, as the format says
        keys = [tuple(e[:2]) for e in msgpack.unpackb(stored)[1]]
        assert keys == sorted(keys)


latest_entries = st.builds(
    lambda key, t, v: packed.LatestEntry(key[0], key[1], t, v, None),
    st.sampled_from(KEYS),
    st.integers(0, 20),
    st.integers(-5, 5).map(float),
)


@given(st.lists(latest_entries, max_size=30), st.integers(0, 30))
def test_latest_keeps_the_newest_reading_and_the_later_of_equal_times(
    entries: list[packed.LatestEntry], cut: int
) -> None:
    stored = packed.merged_latest(None, entries[:cut])
    stored = packed.merged_latest(stored, entries[cut:])
    expected: dict[tuple[int, str], packed.LatestEntry] = {}
    for e in entries:
        key = (e.metric_id, e.component)
        if key not in expected or e.t_s >= expected[key].t_s:
            expected[key] = e
    assert packed.unpack_latest(stored) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"\xc1",
        msgpack.packb([2, []]),
        msgpack.packb([1, [[1, 2]]]),
        msgpack.packb([1, [7]]),
        msgpack.packb("x"),
        msgpack.packb(3),
    ],
)
def test_bytes_that_are_not_a_packed_row_are_refused(data: bytes) -> None:
    with pytest.raises(packed.PackedError):
        packed.unpack_day(data)


# -- through the ingest path, on both databases ---------------------------------------
DAY0 = 1_790_000_000 - 1_790_000_000 % 86_400

points = st.lists(
    st.tuples(st.integers(0, 2 * 86_400 - 1), st.integers(-500, 500)),
    min_size=1,
    max_size=6,
    unique_by=lambda p: p[0],
)
batch_series = st.lists(
    st.tuples(st.sampled_from(KEYS), points), min_size=1, max_size=3, unique_by=lambda s: s[0]
)


def _reference(bodies: list[bytes]) -> tuple[dict[Any, list[Any]], dict[Any, Any]]:
    """Per (device, metric, component, day) the plain fold of every reading, and latest."""
    days: dict[Any, list[Any]] = {}
    latest: dict[Any, Any] = {}
    for body in bodies:
        b = decode_batch(body)
        for s in b.series:
            for t, v in zip(s.timestamps_s, s.values, strict=True):
                key = (b.device_id, s.metric_id, s.component, t // 86_400)
                cur = days.setdefault(key, [0, 0.0, math.inf, -math.inf, None, -1])
                cur[0] += 1
                cur[1] += v
                cur[2] = min(cur[2], v)
                cur[3] = max(cur[3], v)
                if t >= cur[5]:
                    cur[4], cur[5] = v, t
                lk = (b.device_id, s.metric_id, s.component)
                if lk not in latest or t >= latest[lk][0]:
                    latest[lk] = (t, v)
        for x in b.texts:
            lk = (b.device_id, x.metric_id, x.component)
            if lk not in latest or x.t_s >= latest[lk][0]:
                latest[lk] = (x.t_s, x.value)
    return days, latest


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=st.lists(st.tuples(st.integers(0, 1), batch_series), min_size=1, max_size=8),
    groups=st.lists(st.integers(1, 4), min_size=8, max_size=8),
    retry=st.integers(0, 7),
)
def test_ingest_in_any_grouping_stores_the_plain_fold(
    store: Store,
    batches: list[tuple[int, list[tuple[tuple[int, str], list[tuple[int, int]]]]]],
    groups: list[int],
    retry: int,
) -> None:
    token = store.create_enrol_token(2, 60)
    devices = []
    for _ in range(2):
        _, key = store.enroll(token, {})
        dev = store.device_for_key(key)
        assert dev is not None
        devices.append(dev)
    items, bodies = [], []
    for seq, (which, series) in enumerate(batches):
        dev = devices[which]
        stamps = [t for _, pts in series for t, _ in pts]
        b = Batch(
            dev.uid,
            "s",
            seq,
            DAY0 + max(stamps),
            "test",
            tuple(
                Series(
                    key[0],
                    key[1],
                    tuple(DAY0 + t for t, _ in sorted(pts)),
                    tuple(float(v) for _, v in sorted(pts)),
                    0,
                )
                for key, pts in series
            ),
            (Text(406, "", DAY0 + max(stamps), f"SER{seq}"),),
        )
        body = encode_batch(b)
        bodies.append(body)
        items.append(Item(dev.id, dev.uid, decode_summary(body), body))
    if retry < len(items):  # an agent's retry lands later and must count once
        items.append(items[retry])
    start = 0
    for size in groups:
        if start >= len(items):
            break
        store.ingest_many(items[start : start + size])
        start += size
    if start < len(items):
        store.ingest_many(items[start:])

    want_days, want_latest = _reference(bodies)
    got_days: dict[Any, list[Any]] = {}
    got_latest: dict[Any, Any] = {}
    for dev in devices:
        for r in store.daily_rollups(dev.id):
            got_days[dev.uid, r["metric_id"], r["component"], r["day"]] = [
                r["n"],
                r["sum"],
                r["min"],
                r["max"],
                r["last"],
                r["last_s"],
            ]
        for r in store.latest_readings(dev.id):
            got_latest[dev.uid, r["metric_id"], r["component"]] = (
                r["t_s"],
                r["txt"] if r["txt"] is not None else r["num"],
            )
    assert got_days == want_days
    assert got_latest == want_latest


def test_a_reading_from_the_future_does_not_pin_the_series() -> None:
    """Stored before the clock check (or within the skew): the next reading replaces it."""
    future = packed.LatestEntry(1, "", 2**40, 99.0, None)
    now = packed.LatestEntry(1, "", 1_790_000_000, 42.0, None)
    stored = packed.merged_latest(None, [future], not_after_s=1_790_000_100)
    stored = packed.merged_latest(stored, [now], not_after_s=1_790_000_100)
    assert packed.unpack_latest(stored)[1, ""].num == 42.0
