"""Wire format v1: ``MAGIC`` + zstd(msgpack(array)).

Layout of the msgpack array (positional, no maps, so nothing is spent on keys)::

    [ version: int (1),
      device_id: str, spool_id: str, seq: int, sent_at_s: int, agent_version: str,
      components: [str, ...],                  # interned; index 0 is "" (the device)
      series: [[metric_id, comp_idx, exponent, t0_s, [dt_s, ...], [q, ...]], ...],
      texts: [[metric_id, comp_idx, t_s, str], ...],
      unavailable: [[source, comp_idx, reason], ...],
      ...later additions, ignored by this decoder ]

A numeric value ``v`` travels as the integer ``q = round(v / 10**exponent)``;
timestamps as a base and deltas (``len(dt) == len(q) - 1``). Within v1 only
additions are allowed: new metric ids, and new trailing array members.

The decoder checks every limit before it allocates: the compressed size, the
decompressed size (read through a bounded stream, never trusting the frame
header), every array and string length (msgpack's own ``max_*_len``), the
total number of points, and the exact shape and types of each member. Any
failure becomes :class:`ProtocolError`; nothing else escapes.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgpack

from kitlife.protocol.errors import ProtocolError
from kitlife.protocol.model import Batch, Series, Text, Unavailable

if TYPE_CHECKING:
    import zstandard

# zstandard is imported where a batch is encoded or decoded, not at import time:
# the agent's resident loop imports this package but never compresses (sealing
# runs in the upload child), and zstandard costs it about 0.9 MB.

WIRE_VERSION = 1
MAGIC = b"KLB\x01"
CONTENT_TYPE = "application/vnd.kitlife.batch"

_T_MAX = 2**40  # epoch seconds far beyond any real clock; rejects garbage early
_Q_MAX = 2**63 - 1
_EXP_MIN, _EXP_MAX = -9, 9


@dataclass(frozen=True, slots=True)
class Limits:
    """Hard limits on one batch. Both sides use the same numbers."""

    max_compressed_bytes: int = 1 << 20  # 1 MiB on the wire
    max_decompressed_bytes: int = 8 << 20  # 8 MiB of msgpack
    max_series: int = 4096
    max_points: int = 500_000  # all series and texts together
    max_texts: int = 4096
    max_components: int = 256
    max_unavailable: int = 512
    max_str_len: int = 1024
    max_id_len: int = 128  # device id, spool id, agent version

    @property
    def max_array_len(self) -> int:
        return max(
            self.max_series,
            self.max_points,
            self.max_texts,
            self.max_components,
            self.max_unavailable,
            16,
        )


DEFAULT_LIMITS = Limits()
_ZSTD_LEVEL = 3


def _quantise(value: float, exponent: int) -> int:
    if not math.isfinite(value):
        raise ProtocolError(f"value {value!r} is not finite")
    return round(value / 10.0**exponent) if exponent else round(value)


def _dequantise(q: int, exponent: int) -> float:
    # Divide for negative exponents: 3 / 10 is 0.3, 3 * 0.1 is not.
    return float(q * 10**exponent) if exponent >= 0 else q / 10 ** (-exponent)


def encode_batch(batch: Batch, *, level: int = _ZSTD_LEVEL) -> bytes:
    """Encode a batch. Raises ProtocolError for values the format cannot carry."""
    components: dict[str, int] = {"": 0}

    def comp(name: str) -> int:
        return components.setdefault(name, len(components))

    series = []
    for s in batch.series:
        if len(s.timestamps_s) != len(s.values) or not s.values:
            raise ProtocolError("series needs one timestamp per value, at least one")
        ts = list(s.timestamps_s)
        deltas = [b - a for a, b in itertools.pairwise(ts)]
        series.append(
            [
                s.metric_id,
                comp(s.component),
                s.exponent,
                ts[0],
                deltas,
                [_quantise(v, s.exponent) for v in s.values],
            ]
        )
    texts = [[t.metric_id, comp(t.component), t.t_s, t.value] for t in batch.texts]
    unavailable = [[u.source, comp(u.component), u.reason] for u in batch.unavailable]
    body = [
        WIRE_VERSION,
        batch.device_id,
        batch.spool_id,
        batch.seq,
        batch.sent_at_s,
        batch.agent_version,
        list(components),
        series,
        texts,
        unavailable,
    ]
    import zstandard

    packed: bytes = msgpack.packb(body, use_bin_type=True)
    compressed: bytes = zstandard.ZstdCompressor(level=level).compress(packed)
    return MAGIC + compressed


_READ_CHUNK = 1 << 17
_local = threading.local()


def _decompressor() -> zstandard.ZstdDecompressor:
    """This thread's decompressor (they are not safe to share between threads)."""
    import zstandard

    dctx: zstandard.ZstdDecompressor | None = getattr(_local, "dctx", None)
    if dctx is None:
        dctx = zstandard.ZstdDecompressor(max_window_size=1 << 23)
        _local.dctx = dctx
    return dctx


def _decompress(data: bytes, limits: Limits) -> bytes:
    if len(data) > limits.max_compressed_bytes:
        raise ProtocolError(
            f"batch is {len(data)} bytes, over the limit of {limits.max_compressed_bytes}",
            status=413,
        )
    if len(data) < len(MAGIC) or data[:3] != MAGIC[:3]:
        raise ProtocolError("not a kitlife batch (bad magic)")
    if data[3] != WIRE_VERSION:
        raise ProtocolError(
            f"unsupported wire version {data[3]}; this collector speaks {WIRE_VERSION}", status=415
        )
    # A bounded stream read: the frame header's content size is not trusted.
    # Read in chunks, not read(limit): that allocated the whole limit (8 MiB)
    # for every batch, and the decompressor is reused per thread because
    # creating one costs more than decompressing a typical batch.
    import zstandard

    limit = limits.max_decompressed_bytes
    parts: list[bytes] = []
    size = 0
    try:
        with _decompressor().stream_reader(memoryview(data)[len(MAGIC) :]) as reader:
            while True:
                chunk = reader.read(_READ_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise ProtocolError(
                        f"batch decompresses to more than {limit} bytes", status=413
                    )
                parts.append(chunk)
    except zstandard.ZstdError as err:
        raise ProtocolError(f"corrupt compression: {err}") from err
    raw = parts[0] if len(parts) == 1 else b"".join(parts)
    if not raw:
        raise ProtocolError("empty batch")
    return raw


def _unpack(raw: bytes, limits: Limits) -> Any:
    try:
        return msgpack.unpackb(
            raw,
            raw=False,
            use_list=True,
            strict_map_key=True,
            max_str_len=limits.max_str_len,
            max_bin_len=0,
            max_array_len=limits.max_array_len,
            max_map_len=0,
            max_ext_len=0,
        )
    except (ValueError, TypeError, msgpack.UnpackException, RecursionError) as err:
        raise ProtocolError(f"malformed msgpack: {err}") from err


def _int(value: Any, what: str, lo: int, hi: int) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise ProtocolError(f"{what} must be an integer in [{lo}, {hi}]")
    return value


def _ints(values: list[Any], what: str, lo: int, hi: int) -> None:
    """Every member an int in [lo, hi]: _int for a whole list, the loops in C (hot path)."""
    if values and (not set(map(type, values)) <= _INT_ONLY or min(values) < lo or max(values) > hi):
        raise ProtocolError(f"{what} must be an integer in [{lo}, {hi}]")


_INT_ONLY = frozenset({int})


def _dequantise_all(qs: list[int], exponent: int) -> tuple[float, ...]:
    """_dequantise over a list, the same arithmetic, without a call per value."""
    if exponent >= 0:
        return tuple(map(float, map((10**exponent).__mul__, qs)))
    return tuple(map((10 ** (-exponent)).__rtruediv__, qs))


def _str(value: Any, what: str, max_len: int) -> str:
    if type(value) is not str or len(value) > max_len:
        raise ProtocolError(f"{what} must be a string of at most {max_len} characters")
    return value


def _list(value: Any, what: str, max_len: int, exact: int | None = None) -> list[Any]:
    if type(value) is not list:
        raise ProtocolError(f"{what} must be a list")
    if len(value) > max_len:
        raise ProtocolError(f"{what} holds more than {max_len} items", status=413)
    if exact is not None and len(value) != exact:
        raise ProtocolError(f"{what} must have {exact} members")
    return value


def _comp(value: Any, components: Sequence[str], what: str) -> str:
    return components[_int(value, what, 0, len(components) - 1)]


def decode_batch(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Batch:
    """Decode and validate a batch; raises ProtocolError and nothing else."""
    try:
        return _decode(data, limits)
    except ProtocolError:
        raise
    except Exception as err:  # defence in depth: any slip in validation stays a 4xx
        raise ProtocolError(f"malformed batch: {type(err).__name__}") from err


def _decode(data: bytes, limits: Limits) -> Batch:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProtocolError("batch must be bytes")
    body = _list(_unpack(_decompress(bytes(data), limits), limits), "batch", 64)
    if len(body) < 10:
        raise ProtocolError(f"batch has {len(body)} members, v1 needs 10")
    if _int(body[0], "version", 0, 255) != WIRE_VERSION:
        raise ProtocolError(f"unsupported wire version {body[0]}", status=415)
    device_id = _str(body[1], "device_id", limits.max_id_len)
    spool_id = _str(body[2], "spool_id", limits.max_id_len)
    if not device_id or not spool_id:
        raise ProtocolError("device_id and spool_id must not be empty")
    seq = _int(body[3], "seq", 0, _Q_MAX)
    sent_at_s = _int(body[4], "sent_at_s", 0, _T_MAX)
    agent_version = _str(body[5], "agent_version", limits.max_id_len)
    components = [
        _str(c, "component", limits.max_str_len)
        for c in _list(body[6], "components", limits.max_components)
    ]
    if not components or components[0] != "":
        raise ProtocolError("components must start with the empty (device) component")

    raw_series = _list(body[7], "series", limits.max_series)
    raw_texts = _list(body[8], "texts", limits.max_texts)
    raw_unavailable = _list(body[9], "unavailable", limits.max_unavailable)

    points = len(raw_texts)
    series: list[Series] = []
    for item in raw_series:
        metric_id, comp_idx, exponent, t0, deltas, qs = _list(item, "series item", 6, exact=6)
        _list(qs, "values", limits.max_points)
        _list(deltas, "time deltas", limits.max_points)
        points += len(qs)
        if points > limits.max_points:
            raise ProtocolError(f"batch holds more than {limits.max_points} points", status=413)
        if not qs or len(deltas) != len(qs) - 1:
            raise ProtocolError("series needs one time delta fewer than values, and a value")
        exp = _int(exponent, "exponent", _EXP_MIN, _EXP_MAX)
        t = _int(t0, "t0", 0, _T_MAX)
        _ints(deltas, "time delta", -_T_MAX, _T_MAX)
        stamps = list(itertools.accumulate(deltas, initial=t))
        if deltas and not (min(stamps) >= 0 and max(stamps) <= _T_MAX):
            raise ProtocolError("timestamp out of range")
        _ints(qs, "value", -_Q_MAX, _Q_MAX)
        values = _dequantise_all(qs, exp)
        series.append(
            Series(
                _int(metric_id, "metric id", 0, 65535),
                _comp(comp_idx, components, "component index"),
                tuple(stamps),
                values,
                exp,
            )
        )
    texts = []
    for item in raw_texts:
        metric_id, comp_idx, t_s, value = _list(item, "text item", 4, exact=4)
        texts.append(
            Text(
                _int(metric_id, "metric id", 0, 65535),
                _comp(comp_idx, components, "component index"),
                _int(t_s, "text time", 0, _T_MAX),
                _str(value, "text value", limits.max_str_len),
            )
        )
    unavailable = []
    for item in raw_unavailable:
        source, comp_idx, reason = _list(item, "unavailable item", 3, exact=3)
        unavailable.append(
            Unavailable(
                _str(source, "source", limits.max_id_len),
                _comp(comp_idx, components, "component index"),
                _str(reason, "reason", limits.max_str_len),
            )
        )
    return Batch(
        device_id,
        spool_id,
        seq,
        sent_at_s,
        agent_version,
        tuple(series),
        tuple(texts),
        tuple(unavailable),
    )
