"""What a wire v2 would save: bytes per device-day of v1 against candidate v2 encodings.

A measurement for the design in docs/scaling.md, not an implementation: the
protocol stays v1 (a v2 goes behind the version byte with golden vectors for
both, once chosen). The same simulated laptop day as bench/wire.py (96
uploads of 15 minutes), each batch encoded as:

- ``v1``: the shipped format (msgpack lists, quantised integers, timestamps as
  deltas, zstd level 3 per batch);
- ``v2 delta``: the same, each series' values as first value + differences,
  and timestamps as (start, step) when evenly spaced;
- ``v2 dict``: v1's msgpack compressed with a zstd dictionary trained on other
  days' batches (shipped with the protocol, so both ends hold it);
- ``v2 delta+dict``: both.

    .venv/bin/python -m bench.wire_v2
"""

from __future__ import annotations

import itertools
import random

import msgpack
import zstandard

from bench.wire import UPLOAD_EVERY_S, day_of_readings, to_batch
from kitlife.protocol import Batch, encode_batch

T0 = 1_790_000_000 - 1_790_000_000 % 86_400


def _body(batch: Batch, delta: bool) -> bytes:
    comps: dict[str, int] = {"": 0}
    series = []
    for s in batch.series:
        ts = list(s.timestamps_s)
        q = [round(v / 10.0**s.exponent) for v in s.values]
        dts = [b - a for a, b in itertools.pairwise(ts)]
        if delta:
            dts = [dts[0], len(dts)] if dts and len(set(dts)) == 1 else dts
            q = q[:1] + [b - a for a, b in itertools.pairwise(q)]
        series.append(
            [s.metric_id, comps.setdefault(s.component, len(comps)), s.exponent, ts[0], dts, q]
        )
    texts = [
        [t.metric_id, comps.setdefault(t.component, len(comps)), t.t_s, t.value]
        for t in batch.texts
    ]
    body = [
        2,
        batch.device_id,
        batch.spool_id,
        batch.seq,
        batch.sent_at_s,
        batch.agent_version,
        list(comps),
        series,
        texts,
        [],
    ]
    return msgpack.packb(body, use_bin_type=True)


def _day_batches(seed: int) -> list[Batch]:
    rng = random.Random(seed)
    readings = day_of_readings(rng, T0)
    out = []
    for seq, start in enumerate(range(T0, T0 + 86_400, UPLOAD_EVERY_S)):
        chunk = [r for r in readings if start <= r[2] < start + UPLOAD_EVERY_S]
        if chunk:
            out.append(to_batch(chunk, seq))
    return out


def main() -> None:
    training = [
        _body(b, d) for seed in range(2, 12) for b in _day_batches(seed) for d in (False, True)
    ]
    dictionary = zstandard.train_dictionary(16_384, training)
    plain = zstandard.ZstdCompressor(level=3)
    with_dict = zstandard.ZstdCompressor(level=3, dict_data=dictionary)
    day = _day_batches(1)
    sizes = {
        "v1 (shipped)": sum(len(encode_batch(b)) for b in day),
        "v2 delta": sum(len(plain.compress(_body(b, True))) + 2 for b in day),
        "v2 dict": sum(len(with_dict.compress(_body(b, False))) + 2 for b in day),
        "v2 delta+dict": sum(len(with_dict.compress(_body(b, True))) + 2 for b in day),
    }
    v1 = sizes["v1 (shipped)"]
    print(f"{len(day)} batches, one device-day; dictionary {len(dictionary.as_bytes())} bytes")
    for name, n in sizes.items():
        print(
            f"{name:<16} {n:>8,} bytes/device-day  {n / len(day):>6.0f} bytes/batch  {v1 / n:4.2f}x"
        )


if __name__ == "__main__":
    main()
