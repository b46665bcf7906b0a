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

The decoder checks every limit before it allocates: the compressed size, that
the body is exactly one zstd frame (nothing after it), the decompressed size
(read through a bounded stream, never trusting the frame header), every
array and string length (msgpack's own ``max_*_len``; strings in bytes of
UTF-8), the total number of objects the unpacker may build (so nested empty
arrays cannot turn 8 MiB into a gigabyte of lists), the total number of
points, and the exact shape and types of each member. Any failure becomes
:class:`ProtocolError`; nothing else escapes.
"""

from __future__ import annotations

import itertools
import math
import operator
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import msgpack

from kitlife.protocol.errors import ProtocolError
from kitlife.protocol.model import Batch, BatchSummary, DayAggregate, Series, Text, Unavailable

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
    max_str_len: int = 1024  # bytes of UTF-8, not characters
    max_id_len: int = 128  # device id, spool id, agent version (bytes)
    # Room for trailing members a newer v1 agent may add: counted in the object budget.
    max_addition_items: int = 65_536

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

    @property
    def max_items(self) -> int:
        """Array members a valid batch can hold in all, nested arrays included.

        Per-array limits alone do not bound the total: 500,000 arrays of
        500,000 empty arrays each pass them. A batch holds per series a list
        of 6 with its deltas and values (one fewer delta than values), per
        text a list of 4, per unavailable source a list of 3, plus the top
        level and the additions' allowance.
        """
        return (
            2 * self.max_points
            + 9 * self.max_series
            + 5 * self.max_texts
            + 4 * self.max_unavailable
            + self.max_components
            + 64
            + self.max_addition_items
        )

    @property
    def max_lists(self) -> int:
        """Arrays a valid batch can hold in all: three per series, one per text and source."""
        return 3 * self.max_series + self.max_texts + self.max_unavailable + 16 + 4096


DEFAULT_LIMITS = Limits()
_ZSTD_LEVEL = 3

# Every member of a v1 batch in wire order, with the members of each item of
# the lists: what encode_batch writes, named. docs/privacy.md lists each one
# as a field every upload carries (tests/protocol/test_envelope.py holds the
# three together).
LAYOUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("version", ()),
    ("device_id", ()),
    ("spool_id", ()),
    ("seq", ()),
    ("sent_at_s", ()),
    ("agent_version", ()),
    ("components", ()),
    ("series", ("metric_id", "comp_idx", "exponent", "t0_s", "dt_s", "q")),
    ("texts", ("metric_id", "comp_idx", "t_s", "value")),
    ("unavailable", ("source", "comp_idx", "reason")),
)


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


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _frame_length(frame: memoryview) -> int:
    """The length of the zstd frame at the start of ``frame``, from its block headers.

    Why: zstd stops at the end of the first frame and ignores what follows, so
    garbage or a second 50 MiB frame after a valid batch was accepted and
    stored. Walking the block headers (3 bytes each; a typical batch has one
    block) costs microseconds and decompresses nothing.
    """
    import zstandard

    if bytes(frame[:4]) != _ZSTD_MAGIC:
        raise ProtocolError("not a zstd frame")
    try:
        pos = zstandard.frame_header_size(frame)
    except zstandard.ZstdError as err:
        raise ProtocolError(f"corrupt compression: {err}") from err
    checksum = 4 if frame[4] & 0x04 else 0
    end = len(frame)
    while True:
        if pos + 3 > end:
            raise ProtocolError("corrupt compression: truncated block")
        header = frame[pos] | frame[pos + 1] << 8 | frame[pos + 2] << 16
        kind, size = (header >> 1) & 3, header >> 3
        if kind == 3:
            raise ProtocolError("corrupt compression: reserved block type")
        pos += 3 + (1 if kind == 1 else size)  # an RLE block stores one byte
        if header & 1:
            return pos + checksum


def _decompress(data: bytes, limits: Limits) -> bytes:
    if len(data) > limits.max_compressed_bytes:
        raise ProtocolError(
            f"batch is {len(data)} bytes, over the limit of {limits.max_compressed_bytes}",
            status=413,
            limit="max_compressed_bytes",
        )
    if len(data) < len(MAGIC) or data[:3] != MAGIC[:3]:
        raise ProtocolError("not a kitlife batch (bad magic)")
    if data[3] != WIRE_VERSION:
        raise ProtocolError(
            f"unsupported wire version {data[3]}; this collector speaks {WIRE_VERSION}", status=415
        )
    # The frame header's content size is only believed when it is within the
    # limit, and zstd then checks the output against it; otherwise (no size,
    # or an oversized claim) a bounded stream read decides. Read in chunks,
    # not read(limit): that allocated the whole limit (8 MiB) for every batch,
    # and the decompressor is reused per thread because creating one costs
    # more than decompressing a typical batch.
    import zstandard

    limit = limits.max_decompressed_bytes
    frame = memoryview(data)[len(MAGIC) :]
    if _frame_length(frame) != len(frame):
        raise ProtocolError("data after the batch's zstd frame")
    try:
        declared = zstandard.frame_content_size(frame)
    except zstandard.ZstdError as err:
        raise ProtocolError(f"corrupt compression: {err}") from err
    if declared > limit and declared != zstandard.CONTENTSIZE_UNKNOWN:
        _too_big(limit)  # believed when it says too much: nothing to gain by reading on
    if 0 < declared <= limit:
        try:
            raw = _decompressor().decompress(frame)
        except zstandard.ZstdError as err:
            raise ProtocolError(f"corrupt compression: {err}") from err
        if len(raw) > limit:  # defence in depth; zstd holds it to the declared size
            _too_big(limit)
        return raw
    parts: list[bytes] = []
    size = 0
    try:
        with _decompressor().stream_reader(frame) as reader:
            while True:
                chunk = reader.read(_READ_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    _too_big(limit)
                parts.append(chunk)
    except zstandard.ZstdError as err:
        raise ProtocolError(f"corrupt compression: {err}") from err
    raw = parts[0] if len(parts) == 1 else b"".join(parts)
    if not raw:
        raise ProtocolError("empty batch")
    return raw


def _too_big(limit: int) -> NoReturn:
    raise ProtocolError(
        f"batch decompresses to more than {limit} bytes", status=413, limit="max_decompressed_bytes"
    )


# Payloads up to this size are unpacked without the object budget: every
# msgpack object takes at least a byte, so their size bounds the objects, and
# the typical batch (about 2 KB) pays nothing for the hook.
_BUDGET_FROM = 1 << 16


class _Budget:
    """A msgpack ``list_hook`` that stops the unpacker once too many members were built."""

    __slots__ = ("items", "lists")

    def __init__(self, limits: Limits) -> None:
        self.items = limits.max_items
        self.lists = limits.max_lists

    def __call__(self, members: list[Any]) -> list[Any]:
        self.items -= len(members)
        self.lists -= 1
        if self.items < 0 or self.lists < 0:
            raise ProtocolError(
                "batch holds more nested items than any valid batch",
                status=413,
                limit="max_lists" if self.lists < 0 else "max_items",
            )
        return members


def _unpack(raw: bytes, limits: Limits) -> Any:
    hook = None if len(raw) <= _BUDGET_FROM else _Budget(limits)
    try:
        return msgpack.unpackb(
            raw,
            list_hook=hook,
            raw=False,
            use_list=True,
            strict_map_key=True,
            max_str_len=limits.max_str_len,
            max_bin_len=0,
            max_array_len=limits.max_array_len,
            max_map_len=0,
            max_ext_len=0,
        )
    except ProtocolError:
        raise
    except (ValueError, TypeError, msgpack.UnpackException, RecursionError) as err:
        raise ProtocolError(f"malformed msgpack: {err}") from err


def _int(value: Any, what: str, lo: int, hi: int) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise ProtocolError(f"{what} must be an integer in [{lo}, {hi}]")
    return value


_INT_ONLY = frozenset({int})


def _dequantise_all(qs: list[int], exponent: int) -> tuple[float, ...]:
    """_dequantise over a list, the same arithmetic, without a call per value."""
    if exponent >= 0:
        return tuple(map(float, map((10**exponent).__mul__, qs)))
    return tuple(map((10 ** (-exponent)).__rtruediv__, qs))


def utf8_len(value: str) -> int:
    """The length in bytes of UTF-8 that every string limit counts (ASCII: no encoding)."""
    return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))


def _str(value: Any, what: str, max_len: int) -> str:
    if type(value) is not str or utf8_len(value) > max_len:
        raise ProtocolError(f"{what} must be a string of at most {max_len} bytes of UTF-8")
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
    batch = _decode_guarded(data, limits, materialise=True)
    assert isinstance(batch, Batch)
    return batch


def decode_summary(data: bytes, limits: Limits = DEFAULT_LIMITS) -> BatchSummary:
    """Validate a batch exactly as :func:`decode_batch` does, and summarise it by day.

    Why a second decoder: the collector stores the raw chunk as received and
    needs from each series only its daily aggregates and newest reading. Those
    come straight from the quantised integers with C builtins (``min``,
    ``max``, ``sum`` over the msgpack lists), without building a float per
    value or an object per series: about a quarter of ``decode_batch``'s cost
    on a typical batch. Both share one validation loop, so a batch one
    accepts the other accepts; a property test holds them to it.
    """
    summary = _decode_guarded(data, limits, materialise=False)
    assert isinstance(summary, BatchSummary)
    return summary


def _decode_guarded(data: bytes, limits: Limits, *, materialise: bool) -> Batch | BatchSummary:
    try:
        return _decode(data, limits, materialise=materialise)
    except ProtocolError:
        raise
    except Exception as err:  # defence in depth: any slip in validation stays a 4xx
        raise ProtocolError(f"malformed batch: {type(err).__name__}") from err


_DAY_S = 86_400
_MUL = {e: 10**e if e > 0 else 1 for e in range(_EXP_MIN, _EXP_MAX + 1)}
_DIV = {e: 10**-e if e < 0 else 1 for e in range(_EXP_MIN, _EXP_MAX + 1)}


def _bad(what: str, status: int = 400) -> NoReturn:
    raise ProtocolError(what, status=status)


def _decode(data: bytes, limits: Limits, *, materialise: bool) -> Batch | BatchSummary:
    """The one validation loop; builds a Batch or, cheaper, a BatchSummary.

    Hot path of the collector: checks are written inline rather than through
    helpers, since a call per field was most of the cost.
    """
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

    series, days, points, lo, hi = _series(raw_series, components, limits, materialise)
    points += len(raw_texts)
    if points > limits.max_points:
        raise ProtocolError(f"batch holds more than {limits.max_points} points", status=413)
    texts = []
    for item in raw_texts:
        metric_id, comp_idx, t_s, value = _list(item, "text item", 4, exact=4)
        t = _int(t_s, "text time", 0, _T_MAX)
        texts.append(
            Text(
                _int(metric_id, "metric id", 0, 65535),
                _comp(comp_idx, components, "component index"),
                t,
                _str(value, "text value", limits.max_str_len),
            )
        )
        if lo < 0 or t < lo:
            lo = t
        hi = max(hi, t)
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
    if materialise:
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
    if lo < 0:
        lo = hi = sent_at_s
    return BatchSummary(
        device_id,
        spool_id,
        seq,
        sent_at_s,
        agent_version,
        tuple(days),
        tuple(texts),
        tuple(unavailable),
        points,
        lo,
        hi,
    )


def _all(values: Iterable[Any], kind: type) -> bool:
    return set(map(type, values)) <= {kind}


def _series(
    raw: list[Any], components: list[str], limits: Limits, materialise: bool
) -> tuple[list[Series], list[DayAggregate], int, int, int]:
    """Validate every series at once, column by column, with the loops in C.

    The collector's hot path: a typical batch carries 25 series of 15 values,
    and one Python-level check per field per series was most of a decode.
    Columns come from ``zip(*raw)``; each check is a ``map`` or a builtin over
    a whole column. Returns (series, day aggregates, points, oldest, newest
    time); ``oldest`` is -1 when there are no series.
    """
    if not raw:
        return [], [], 0, -1, -1
    if not _all(raw, list):
        _bad("series item must be a list")
    try:
        metric_ids, comp_idxs, exps, t0s, deltas, qss = zip(*raw, strict=True)
    except ValueError:
        _bad("series item must have 6 members")
    if not (_all(qss, list) and _all(deltas, list)):
        _bad("values and time deltas must be lists")
    max_points = limits.max_points
    lens = list(map(len, qss))
    points = sum(lens)
    if max(lens) > max_points or max(map(len, deltas)) > max_points:
        _bad(f"values holds more than {max_points} items", 413)
    if points > max_points:
        _bad(f"batch holds more than {max_points} points", 413)
    if min(lens) < 1 or set(map(operator.sub, lens, map(len, deltas))) != {1}:
        _bad("series needs one time delta fewer than values, and a value")
    if not _all(exps, int) or min(exps) < _EXP_MIN or max(exps) > _EXP_MAX:
        _bad(f"exponent must be an integer in [{_EXP_MIN}, {_EXP_MAX}]")
    if not _all(t0s, int) or min(t0s) < 0 or max(t0s) > _T_MAX:
        _bad(f"t0 must be an integer in [0, {_T_MAX}]")
    # Every value and delta an int (not a float, not a bool: msgpack has both),
    # checked in C over the whole batch at once.
    all_deltas = list(itertools.chain.from_iterable(deltas))
    if not (_all(itertools.chain.from_iterable(qss), int) and _all(all_deltas, int)):
        _bad(f"values and time deltas must be integers within [{-_Q_MAX}, {_Q_MAX}]")
    q_sums = list(map(sum, qss))
    d_sums = list(map(sum, deltas))
    q_mins, q_maxs = list(map(min, qss)), list(map(max, qss))
    if min(q_mins) < -_Q_MAX or max(q_maxs) > _Q_MAX:
        _bad(f"value must be an integer in [{-_Q_MAX}, {_Q_MAX}]")
    d_min = min(all_deltas) if all_deltas else 0
    # With no negative delta, each delta is at most their sum, which the
    # timestamp range check below bounds: the upper end needs no pass of its own.
    if d_min < -_T_MAX or (d_min < 0 and max(all_deltas) > _T_MAX):
        _bad(f"time delta must be an integer in [{-_T_MAX}, {_T_MAX}]")
    if not _all(metric_ids, int) or min(metric_ids) < 0 or max(metric_ids) > 65535:
        _bad("metric id must be an integer in [0, 65535]")
    n_comp = len(components)
    if not _all(comp_idxs, int) or min(comp_idxs) < 0 or max(comp_idxs) >= n_comp:
        _bad(f"component index must be an integer in [0, {n_comp - 1}]")
    comps = list(map(components.__getitem__, comp_idxs))
    in_order = d_min >= 0
    if in_order:  # the usual case: oldest first, so the ends are the extremes
        firsts = t0s
        lasts = tuple(map(operator.add, t0s, d_sums))
        stamps = None
    else:
        stamps = _stamps(t0s, deltas)
        firsts, lasts = tuple(map(min, stamps)), tuple(map(max, stamps))
    lo, hi = min(firsts), max(lasts)
    if lo < 0 or hi > _T_MAX:
        _bad("timestamp out of range")
    if materialise:
        if stamps is None:
            stamps = _stamps(t0s, deltas)
        return (
            list(
                map(
                    Series,
                    metric_ids,
                    comps,
                    map(tuple, stamps),
                    map(_dequantise_all, qss, exps),
                    exps,
                )
            ),
            [],
            points,
            lo,
            hi,
        )
    day_firsts = [t // _DAY_S for t in firsts]
    day_lasts = [t // _DAY_S for t in lasts]
    if in_order and day_firsts == day_lasts:
        # Every series within one day, oldest first: the last value is the
        # newest (and the later one wins among equal times).
        muls = list(map(_MUL.__getitem__, exps))
        divs = list(map(_DIV.__getitem__, exps))

        def deq(qs: Iterable[int]) -> map[float]:
            # q * 10**e / 1 or q * 1 / 10**-e: _dequantise's arithmetic, in C.
            return map(operator.truediv, map(operator.mul, qs, muls), divs)

        # tuple.__new__ over zipped columns builds the named tuples in C; calling
        # DayAggregate(...) runs its Python-level __new__ once per series.
        columns = zip(
            metric_ids,
            comps,
            day_lasts,
            lens,
            deq(q_sums),
            deq(q_mins),
            deq(q_maxs),
            deq(map(operator.itemgetter(-1), qss)),
            lasts,
            strict=True,
        )
        days = list(map(tuple.__new__, itertools.repeat(DayAggregate), columns))
        return [], days, points, lo, hi
    # Some series span midnight or run out of order (rare): every series goes
    # point by point, which gives one-day series the same aggregates.
    if stamps is None:
        stamps = _stamps(t0s, deltas)
    days = [
        aggregate
        for args in zip(metric_ids, comps, exps, stamps, qss, strict=True)
        for aggregate in _by_day(*args)
    ]
    return [], days, points, lo, hi


def _stamps(t0s: Sequence[int], deltas: Sequence[list[int]]) -> list[list[int]]:
    """Each series' timestamps from its start and deltas."""
    return [list(itertools.accumulate(d, initial=t)) for t, d in zip(t0s, deltas, strict=True)]


def _by_day(
    metric_id: int, component: str, exp: int, stamps: list[int], qs: list[int]
) -> list[DayAggregate]:
    """Aggregates of a series that spans midnight or runs out of order (rare)."""
    acc: dict[int, list[int]] = {}  # day -> [n, sum, min, max, last, last_s]
    for t, q in zip(stamps, qs, strict=True):
        a = acc.get(t // _DAY_S)
        if a is None:
            acc[t // _DAY_S] = [1, q, q, q, q, t]
            continue
        a[0] += 1
        a[1] += q
        a[2] = min(a[2], q)
        a[3] = max(a[3], q)
        if t >= a[5]:
            a[4], a[5] = q, t
    return [
        DayAggregate(
            metric_id,
            component,
            day,
            n,
            _dequantise(total, exp),
            _dequantise(q_lo, exp),
            _dequantise(q_hi, exp),
            _dequantise(last, exp),
            last_s,
        )
        for day, (n, total, q_lo, q_hi, last, last_s) in sorted(acc.items())
    ]
