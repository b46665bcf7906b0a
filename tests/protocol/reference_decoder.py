"""A plain reference validator for wire v1: the decoder as first written, one check per value.

Why it is kept: kitlife.protocol.wire validates column by column with C
builtins because that is the
collector's hot path. This slower, obvious version is what the fast one is
held to in test_decode_equivalence.py: same batches accepted, same result.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from kitlife.protocol import DEFAULT_LIMITS, Batch, Limits, ProtocolError, Series, Text, Unavailable
from kitlife.protocol.wire import (
    _EXP_MAX,
    _EXP_MIN,
    _Q_MAX,
    _T_MAX,
    WIRE_VERSION,
    _decompress,
    _unpack,
    utf8_len,
)

_INT_ONLY = frozenset({int})


def _int(value: Any, what: str, lo: int, hi: int) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise ProtocolError(f"{what} must be an integer in [{lo}, {hi}]")
    return value


def _ints(values: list[Any], what: str, lo: int, hi: int) -> None:
    """Every member an int in [lo, hi]: _int for a whole list, the loops in C (hot path)."""
    if values and (not set(map(type, values)) <= _INT_ONLY or min(values) < lo or max(values) > hi):
        raise ProtocolError(f"{what} must be an integer in [{lo}, {hi}]")


def _dequantise_all(qs: list[int], exponent: int) -> tuple[float, ...]:
    """_dequantise over a list, the same arithmetic, without a call per value."""
    if exponent >= 0:
        return tuple(map(float, map((10**exponent).__mul__, qs)))
    return tuple(map((10 ** (-exponent)).__rtruediv__, qs))


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


def reference_decode(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Batch:
    """Decode value by value, one check per field: slow and plain, on purpose."""
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
