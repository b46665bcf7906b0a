"""The wire decoder fuzzer's short form (the long one: python -m bench.fuzz, 100,000 inputs)."""

from __future__ import annotations

from bench.fuzz import fuzz_decoder


def test_fuzzed_batches_raise_only_protocol_error() -> None:
    counts = fuzz_decoder(5_000)
    assert counts.get("crashes", 0) == 0, counts
    assert counts["accepted"] > 0 and counts["refused"] > 0, counts
