"""Wire format v1: golden bytes, round trips, limits, and junk that must stay a ProtocolError."""

from __future__ import annotations

import contextlib
import zlib
from pathlib import Path

import msgpack
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from kitlife.protocol import (
    MAGIC,
    Batch,
    Limits,
    ProtocolError,
    Series,
    Text,
    Unavailable,
    decode_batch,
    encode_batch,
)

GOLDEN = Path(__file__).parent.parent / "fixtures" / "protocol" / "golden_v1.bin"
# The msgpack layer of the golden batch, byte for byte; zstd output may vary across
# zstd releases, so the payload is pinned here and the stored frame pins decoding.
GOLDEN_MSGPACK_CRC32 = 0x03B284CC


def golden_batch() -> Batch:
    return Batch(
        device_id="0123456789abcdef0123456789abcdef",
        spool_id="fedcba9876543210",
        seq=42,
        sent_at_s=1_790_000_900,
        agent_version="0.1.0",
        series=(
            Series(1, "", (1_790_000_000, 1_790_000_060, 1_790_000_120), (12.5, 99.9, 0.0), -1),
            Series(101, "BAT0", (1_790_000_000,), (41230.0,), 0),
        ),
        texts=(Text(400, "", 1_790_000_000, "lt-0042"),),
        unavailable=(Unavailable("storage", "nvme0", "permission denied"),),
    )


def _payload(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().stream_reader(data[len(MAGIC) :]).read()


def test_golden_bytes_decode_to_the_golden_batch() -> None:
    assert decode_batch(GOLDEN.read_bytes()) == golden_batch()


def test_golden_msgpack_layer_is_pinned() -> None:
    payload = _payload(encode_batch(golden_batch()))
    assert payload == _payload(GOLDEN.read_bytes())
    assert zlib.crc32(payload) == GOLDEN_MSGPACK_CRC32


def test_layout_is_positional_with_interned_components() -> None:
    body = msgpack.unpackb(_payload(encode_batch(golden_batch())))
    assert body[0] == 1 and body[6] == ["", "BAT0", "nvme0"]
    metric_id, comp, exp, t0, deltas, values = body[7][0]
    assert (metric_id, comp, exp, t0, deltas, values) == (
        1,
        0,
        -1,
        1_790_000_000,
        [60, 60],
        [125, 999, 0],
    )


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
names = st.text(max_size=40)


@st.composite
def series(draw: st.DrawFn) -> Series:
    n = draw(st.integers(1, 30))
    t0 = draw(st.integers(0, 2**34))
    deltas = draw(st.lists(st.integers(0, 86400), min_size=n - 1, max_size=n - 1))
    stamps = [t0]
    for d in deltas:
        stamps.append(stamps[-1] + d)
    exp = draw(st.integers(-3, 3))
    values = tuple(
        round(v / 10.0**exp) * 10.0**exp for v in draw(st.lists(finite, min_size=n, max_size=n))
    )
    return Series(draw(st.integers(0, 65535)), draw(names), tuple(stamps), values, exp)


batches = st.builds(
    Batch,
    # Ids are limited to 128 bytes of UTF-8: 32 characters of up to 4 bytes each.
    device_id=st.text(min_size=1, max_size=32),
    spool_id=st.text(min_size=1, max_size=32),
    seq=st.integers(0, 2**62),
    sent_at_s=st.integers(0, 2**34),
    agent_version=st.text(max_size=20),
    series=st.lists(series(), max_size=8).map(tuple),
    texts=st.lists(
        st.builds(Text, st.integers(0, 65535), names, st.integers(0, 2**34), st.text(max_size=100)),
        max_size=5,
    ).map(tuple),
    unavailable=st.lists(
        st.builds(Unavailable, st.text(max_size=30), names, st.text(max_size=100)), max_size=5
    ).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(batches)
def test_round_trip(batch: Batch) -> None:
    decoded = decode_batch(encode_batch(batch))
    assert decoded.batch_id == batch.batch_id
    assert decoded.texts == batch.texts and decoded.unavailable == batch.unavailable
    for got, sent in zip(decoded.series, batch.series, strict=True):
        assert got.timestamps_s == sent.timestamps_s
        assert got.values == pytest.approx(sent.values, rel=1e-9, abs=10.0**got.exponent)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_raise_only_protocol_error(data: bytes) -> None:
    for candidate in (data, MAGIC + data, MAGIC + zstandard.ZstdCompressor().compress(data)):
        try:
            decode_batch(candidate)
        except ProtocolError as err:
            assert err.status in (400, 413, 415) and err.reason
        # a decode that succeeds is fine too: it passed every check


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**64 - 1)
        | st.floats()
        | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=12),
        max_leaves=60,
    )
)
def test_any_msgpack_shape_raises_only_protocol_error(obj: object) -> None:
    data = MAGIC + zstandard.ZstdCompressor().compress(msgpack.packb(obj))
    with contextlib.suppress(ProtocolError):
        decode_batch(data)


def test_truncated_batches_are_refused() -> None:
    data = encode_batch(golden_batch())
    for cut in range(len(data)):
        with pytest.raises(ProtocolError):
            decode_batch(data[:cut])


def test_wrong_version_is_415() -> None:
    data = bytearray(encode_batch(golden_batch()))
    data[3] = 2
    with pytest.raises(ProtocolError) as info:
        decode_batch(bytes(data))
    assert info.value.status == 415


def test_compressed_size_limit_is_413() -> None:
    data = encode_batch(golden_batch())
    with pytest.raises(ProtocolError) as info:
        decode_batch(data, Limits(max_compressed_bytes=len(data) - 1))
    assert info.value.status == 413


def test_zip_bomb_stops_at_decompressed_limit() -> None:
    bomb = MAGIC + zstandard.ZstdCompressor().compress(b"\x00" * (20 << 20))
    assert len(bomb) < 4096
    with pytest.raises(ProtocolError) as info:
        decode_batch(bomb)
    assert info.value.status == 413


def test_point_count_limit() -> None:
    many = Batch("d", "s", 1, 0, "v", (Series(1, "", tuple(range(1000)), (1.0,) * 1000),))
    with pytest.raises(ProtocolError) as info:
        decode_batch(encode_batch(many), Limits(max_points=999))
    assert info.value.status == 413


def test_string_length_limit() -> None:
    long_text = Batch("d", "s", 1, 0, "v", texts=(Text(400, "", 0, "x" * 2000),))
    with pytest.raises(ProtocolError):
        decode_batch(encode_batch(long_text))


def test_unknown_metric_ids_decode() -> None:
    future = Batch("d", "s", 1, 0, "v", (Series(65000, "", (1,), (3.0,)),))
    assert decode_batch(encode_batch(future)).series[0].metric_id == 65000


def test_trailing_additions_from_a_newer_agent_are_ignored() -> None:
    body = msgpack.unpackb(_payload(encode_batch(golden_batch())))
    body.append(["something", "new"])
    data = MAGIC + zstandard.ZstdCompressor().compress(msgpack.packb(body))
    assert decode_batch(data) == golden_batch()


def test_non_finite_values_cannot_be_encoded() -> None:
    with pytest.raises(ProtocolError):
        encode_batch(Batch("d", "s", 1, 0, "v", (Series(1, "", (1,), (float("nan"),)),)))


def test_garbage_after_the_frame_is_refused() -> None:
    data = encode_batch(golden_batch())
    with pytest.raises(ProtocolError, match="after the batch's zstd frame"):
        decode_batch(data + b"garbage")


def test_a_second_frame_after_the_batch_is_refused() -> None:
    second = zstandard.ZstdCompressor().compress(b"\0" * (1 << 20))
    with pytest.raises(ProtocolError, match="after the batch's zstd frame"):
        decode_batch(encode_batch(golden_batch()) + second)


@pytest.mark.parametrize(
    "compressor",
    [
        zstandard.ZstdCompressor(write_content_size=False),
        zstandard.ZstdCompressor(write_checksum=True),
        zstandard.ZstdCompressor(level=19),
    ],
)
def test_any_single_frame_decodes(compressor: zstandard.ZstdCompressor) -> None:
    """Without a declared size, with a checksum, other levels: one frame is one frame."""
    data = MAGIC + compressor.compress(_payload(encode_batch(golden_batch())))
    assert decode_batch(data) == golden_batch()


def _nested_empties(n_outer: int, n_inner: int) -> bytes:
    """A v1 header, then a trailing member of ``n_outer`` arrays of ``n_inner`` empty arrays."""
    head = msgpack.packb([1, "d", "s", 1, 0, "v", [""], [], [], []])
    inner = b"\xdd" + n_inner.to_bytes(4, "big") + b"\x90" * n_inner
    outer = b"\xdd" + n_outer.to_bytes(4, "big") + inner * n_outer
    return bytes([head[0] + 1]) + head[1:] + outer


def test_nested_empty_arrays_stop_at_the_object_budget() -> None:
    """7 MiB of empty arrays from 400 bytes: per-array limits pass it, the total does not."""
    import time
    import tracemalloc

    bomb = MAGIC + zstandard.ZstdCompressor().compress(_nested_empties(14, 500_000))
    assert len(bomb) < 1024
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(ProtocolError) as info:
            decode_batch(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.status == 413 and info.value.limit == "max_lists"
    # Before the budget: every list built, about 500 MB and seconds of work.
    assert peak < 32 << 20, peak
    assert time.perf_counter() - t0 < 2.0


def test_the_largest_valid_batch_fits_the_object_budget() -> None:
    """Every count at its limit at once still decodes: the budget refuses no valid batch."""
    limits = Limits()
    per = limits.max_points // limits.max_series - 2
    series = [[1, 0, 0, 0, [1] * (per - 1), [7] * per] for _ in range(limits.max_series)]
    texts = [[400, 0, 0, "x"] for _ in range(limits.max_texts)]
    unavailable = [["s", 0, "r"] for _ in range(limits.max_unavailable)]
    components = [""] + [f"c{i}" for i in range(limits.max_components - 1)]
    body = [1, "d", "s", 1, 0, "v", components, series, texts, unavailable]
    data = MAGIC + zstandard.ZstdCompressor().compress(msgpack.packb(body))
    assert len(decode_batch(data, limits).series) == limits.max_series


def test_string_limits_count_bytes_of_utf8() -> None:
    """1,024 bytes, whatever the script: 400 three-byte characters are over it."""
    limits = Limits()
    ok = Batch("d", "s", 1, 0, "v", texts=(Text(400, "", 0, "型" * 341),))
    assert decode_batch(encode_batch(ok), limits).texts[0].value == "型" * 341
    over = Batch("d", "s", 1, 0, "v", texts=(Text(400, "", 0, "型" * 342),))
    with pytest.raises(ProtocolError):
        decode_batch(encode_batch(over), limits)
    long_id = Batch("d", "s", 1, 0, "é" * 65)  # 130 bytes, over the 128 of an id
    with pytest.raises(ProtocolError, match="bytes of UTF-8"):
        decode_batch(encode_batch(long_id), limits)
