"""A typical 15-minute batch: what one laptop uploads on its normal cycle.

15 one-minute samples of 25 numeric metrics (system, battery, NVMe, agent)
plus a few inventory texts: about the shape the agent produces.
"""

from __future__ import annotations

import random

from kitlife.protocol import Batch, Series, Text, encode_batch

# (metric id, component, exponent, typical value, jitter)
_NUMERIC: tuple[tuple[int, str, int, float, float], ...] = (
    (1, "", -1, 12.0, 10.0),
    (3, "", 0, 16e9, 0.0),
    (4, "", 0, 6e9, 1e9),
    (5, "", -1, 55.0, 10.0),
    (7, "", -1, 3.0, 1.0),
    (9, "", -1, 61.0, 0.1),
    (11, "", 0, 86_400.0, 0.0),
    (12, "", -2, 0.8, 0.5),
    (102, "BAT0", 0, 41_000.0, 500.0),
    (103, "BAT0", 0, 312.0, 0.0),
    (104, "BAT0", 0, 80.0, 5.0),
    (105, "BAT0", 0, 1.0, 0.0),
    (107, "BAT0", 0, 12_400.0, 100.0),
    (200, "nvme0n1", 0, 1.0, 0.0),
    (201, "nvme0n1", 0, 5_200.0, 0.0),
    (202, "nvme0n1", 0, 38.0, 4.0),
    (210, "nvme0n1", 0, 7.0, 0.0),
    (211, "nvme0n1", 0, 100.0, 0.0),
    (213, "nvme0n1", 0, 0.0, 0.0),
    (214, "nvme0n1", 0, 41.0, 0.0),
    (215, "nvme0n1", 0, 9e6, 1e3),
    (216, "nvme0n1", 0, 0.0, 0.0),
    (217, "nvme0n1", 0, 0.0, 0.0),
    (900, "", 0, 31e6, 1e6),
    (901, "", -2, 120.0, 1.0),
)


def typical_batch(device_uid: str, seq: int, t0: int, rng: random.Random | None = None) -> Batch:
    """15 samples a minute apart from ``t0``, for ``device_uid``, sequence ``seq``."""
    rng = rng or random.Random(seq)
    stamps = tuple(t0 + 60 * i for i in range(15))
    series = tuple(
        Series(
            mid,
            comp,
            stamps,
            tuple(round(base + rng.uniform(-jit, jit), -exp if exp < 0 else 0) for _ in stamps),
            exp,
        )
        for mid, comp, exp, base, jit in _NUMERIC
    )
    last = stamps[-1]
    texts = (
        Text(400, "", last, f"host-{device_uid[:8]}"),
        Text(401, "", last, "Windows"),
        Text(402, "", last, "11 23H2"),
        Text(406, "", last, f"SN{device_uid[:10].upper()}"),
        Text(153, "BAT0", last, "BAT-4711"),
    )
    return Batch(device_uid, "spool-" + device_uid[:6], seq, last + 5, "0.1.0", series, texts)


def typical_body(device_uid: str, seq: int, t0: int) -> bytes:
    return encode_batch(typical_batch(device_uid, seq, t0))
