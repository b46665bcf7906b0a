"""Fuzzers for the wire decoder and the HTTP API: no input may crash or earn a 5xx.

Inputs are mutants of real typical batches (bytes flipped, cut, spliced or
appended; members of the msgpack array swapped for wrong types, huge
integers, long strings, deep or wide nestings; random bytes behind a valid
magic), drawn from a seeded generator so that a failure can be replayed.

- :func:`fuzz_decoder` runs ``decode_summary`` and ``decode_batch`` on each
  in process: ProtocolError is the only allowed exception;
- :func:`fuzz_http` posts each to a running collector as a device: every
  answer must be below 500;
- :func:`fuzz_openapi` runs schemathesis over every operation in the spec.

The test suite runs each at a CI size (tests/protocol/test_fuzz.py,
tests/collector/api/test_probes.py); the long form is ``bench.probes`` (100,000
decoder and HTTP inputs) or this module's main::

    .venv/bin/python -m bench.fuzz --inputs 100000
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import msgpack
import zstandard

from bench.typical import typical_body
from kitlife.protocol import CONTENT_TYPE, MAGIC, ProtocolError, decode_batch, decode_summary

_ZSTD = zstandard.ZstdCompressor()


def _payload(body: bytes) -> Any:
    raw = zstandard.ZstdDecompressor().decompress(body[len(MAGIC) :])
    return msgpack.unpackb(raw)


def _odd_value(rng: random.Random) -> Any:
    """Something a decoder does not expect where it is."""
    choice = rng.randrange(10)
    if choice == 0:
        big = 2 ** rng.choice([31, 32, 40, 63, 64]) * rng.choice([1, -1]) - rng.randrange(2)
        return min(max(big, -(2**63)), 2**64 - 1)  # what msgpack can carry
    if choice == 1:
        return "x" * rng.choice([0, 1, 127, 128, 129, 1024, 1025, 5000])
    if choice == 2:
        return rng.random() * 1e300
    if choice == 3:
        return [[]] * rng.choice([1, 100, 5000])
    if choice == 4:
        return None
    if choice == 5:
        return rng.choice([True, False])
    if choice == 6:
        value: Any = []
        for _ in range(rng.randrange(1, 60)):
            value = [value]
        return value
    if choice == 7:
        return "\0" * rng.randrange(1, 10) + "é型"
    if choice == 8:
        return -rng.randrange(1, 10**6)
    return rng.randbytes(rng.randrange(0, 16)).decode("latin-1")


def _mutate_member(body: Any, rng: random.Random) -> Any:
    """Replace one member somewhere in the batch's array structure."""
    node = body
    for _ in range(rng.randrange(1, 5)):
        if not isinstance(node, list) or not node:
            break
        i = rng.randrange(len(node))
        if rng.random() < 0.4 or not isinstance(node[i], list):
            node[i] = _odd_value(rng)
            return body
        node = node[i]
    if isinstance(node, list):
        node.append(_odd_value(rng))
    return body


def mutants(uid: str, n: int, seed: int = 19) -> Iterator[bytes]:
    """``n`` fuzzed bodies built from ``uid``'s real batches."""
    rng = random.Random(seed)
    t0 = int(time.time()) - 900
    base = [typical_body(uid, seq, t0) for seq in range(1, 9)]
    for i in range(n):
        body = base[i % len(base)]
        kind = rng.randrange(7)
        if kind == 0:  # bytes flipped
            data = bytearray(body)
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(MAGIC), len(data))] = rng.randrange(256)
            yield bytes(data)
        elif kind == 1:  # cut short
            yield body[: rng.randrange(len(body))]
        elif kind == 2:  # something after the frame
            yield body + rng.choice([rng.randbytes(rng.randrange(1, 64)), _ZSTD.compress(b"x")])
        elif kind == 3:  # one member of the structure swapped
            packed = msgpack.packb(_mutate_member(_payload(body), rng), use_bin_type=True)
            yield MAGIC + _ZSTD.compress(packed)
        elif kind == 4:  # random bytes behind the magic, or a random frame
            junk = rng.randbytes(rng.randrange(0, 512))
            yield MAGIC + (junk if rng.random() < 0.5 else _ZSTD.compress(junk))
        elif kind == 5:  # two batches spliced
            other = base[rng.randrange(len(base))]
            cut = rng.randrange(len(MAGIC), min(len(body), len(other)))
            yield body[:cut] + other[cut:]
        else:  # a valid batch (must stay accepted)
            yield body


def fuzz_decoder(n: int, seed: int = 19) -> dict[str, int]:
    """Decode ``n`` mutants both ways; ``crashes`` counts anything but ProtocolError."""
    counts: Counter[str] = Counter()
    for data in mutants("0123456789abcdef0123456789abcdef", n, seed):
        for decode in (decode_summary, decode_batch):
            try:
                decode(data)
                counts["accepted"] += 1
            except ProtocolError:
                counts["refused"] += 1
            except Exception:
                counts["crashes"] += 1
    counts["inputs"] = n
    return dict(counts)


def fuzz_http(url: str, uid: str, key: str, n: int, seed: int = 19) -> dict[str, int]:
    """Post ``n`` mutants as device ``uid``; counts by status class (``5xx`` must stay 0)."""
    counts: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": CONTENT_TYPE}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for data in mutants(uid, n, seed):
            code = client.post("/v1/batches", content=data).status_code
            if code == 429:  # our own per-device limit; never with one client
                counts["429"] += 1
            counts[f"{code // 100}xx"] += 1
    counts["inputs"] = n
    return dict(counts)


def fuzz_openapi(url: str, token: str, spec: dict[str, Any], examples: int) -> list[str]:
    """schemathesis over every operation of ``spec``; the 5xx answers found (none expected)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    @schemathesis.serializer(CONTENT_TYPE)
    def _raw_batch(_ctx: object, value: object) -> bytes:
        """The batch body is opaque binary in the spec: send what was generated, as bytes."""
        return value if isinstance(value, bytes) else str(value).encode()

    failures: list[str] = []
    schema = schemathesis.openapi.from_dict(spec)
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            if case.path.endswith("/revoke"):
                return  # would revoke the fuzzer's own devices
            response = case.call(base_url=url, headers={"Authorization": f"Bearer {token}"})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.path}: {response.status_code}")

        check()
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--inputs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=19)
    args = ap.parse_args(argv)
    result = fuzz_decoder(args.inputs, args.seed)
    print(json.dumps(result))
    return 1 if result.get("crashes") else 0


if __name__ == "__main__":
    raise SystemExit(main())
