"""Issue 19.10: every batch the agent can seal is one the collector accepts.

The agent sealed batches the collector always refused (a 400-character model
name in a three-byte script is 1,200 bytes, over the 1,024-byte limit); the
uploader took the 400 as final and deleted the batch, every reading in it.
Now sealing cuts a field that cannot travel and counts why; hypothesis feeds
the spool readings with any strings, values and numbers of series and
components, and each sealed batch must pass the collector's own decoder.
"""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kitlife.agent.readings import Reading, SourceResult
from kitlife.agent.spool import Spool
from kitlife.collector.runtime.settings import Settings
from kitlife.protocol import (
    CONTENT_TYPE,
    REGISTRY,
    Unavailable,
    decode_summary,
    metric_by_name,
)
from tests.collector.api.conftest import Live, running

NUMERIC = [m.name for m in REGISTRY if m.kind != "text"]
TEXT = [m.name for m in REGISTRY if m.kind == "text"]
# Strings in any script: ASCII, Latin, three-byte CJK, four-byte emoji.
ANY_TEXT = st.text(alphabet=st.sampled_from("aé型😀\0 "), max_size=700) | st.sampled_from(
    ["", "型" * 400, "x" * 1025, "😀" * 300]
)
ANY_VALUE = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**70), 2**70)


def _results(draw: st.DrawFn) -> list[SourceResult]:
    results = []
    for i in range(draw(st.integers(1, 3))):
        result = SourceResult(f"src{i}" + draw(st.sampled_from(["", "型" * 60])))
        for _ in range(draw(st.integers(0, 12))):
            component = draw(st.sampled_from(["", "BAT0", "nvme0"]) | ANY_TEXT)
            if draw(st.booleans()):
                result.readings.append(
                    Reading(draw(st.sampled_from(TEXT)), draw(ANY_TEXT), component)
                )
            else:
                result.readings.append(
                    Reading(draw(st.sampled_from(NUMERIC)), draw(ANY_VALUE), component)
                )
        if draw(st.booleans()):
            result.unavailable.append(Unavailable(result.source, draw(ANY_TEXT), draw(ANY_TEXT)))
        results.append(result)
    return results


readings = st.composite(_results)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cycles=st.lists(readings(), min_size=1, max_size=4), max_points=st.integers(1, 40))
def test_every_sealed_batch_passes_the_collectors_decoder(
    tmp_path_factory: object, cycles: list[list[SourceResult]], max_points: int
) -> None:
    path = tmp_path_factory.mktemp("spool") / "spool.db"  # type: ignore[attr-defined]
    with Spool(path) as spool:
        now = int(time.time())
        for i, results in enumerate(cycles):
            spool.add(results, now - 60 * (len(cycles) - i))
        spool.seal_all("0123456789abcdef0123456789abcdef", "0.1.0", max_points)
        for _, body in spool.pending():
            decode_summary(body)  # raises ProtocolError for what the collector would refuse
        assert spool.stats().readings == 0  # nothing left behind, nothing stuck


def test_an_oversized_field_is_cut_and_counted_not_the_batch_lost(
    tmp_path: Path, sqlite_url: str
) -> None:
    with running(Settings(db_url=sqlite_url, prune_interval_s=0)) as live:
        _oversized_field_round_trip(tmp_path, live)


def _oversized_field_round_trip(tmp_path: Path, live: Live) -> None:
    uid, key = live.enroll("pc-cjk")
    model = "型" * 400  # 1,200 bytes of UTF-8
    result = SourceResult("inventory")
    result.readings += [Reading("inv.model", model), Reading("cpu.busy_pct", 12.5)]
    with Spool(tmp_path / "spool.db") as spool:
        spool.add([result], int(time.time()) - 60)
        (seq,) = spool.seal_all(uid, "0.1.0", 1000)
        ((_, body),) = spool.pending()
        assert spool.meta_int("trimmed_long_text") == 1
    batch = decode_summary(body)
    (text,) = batch.texts
    assert text.metric_id == metric_by_name("inv.model").id
    assert text.value == "型" * 341  # 1,023 bytes: cut at a character, not inside one
    assert batch.n_points == 2
    with live.client(key) as c:
        r = c.post("/v1/batches", content=body, headers={"Content-Type": CONTENT_TYPE})
    assert r.status_code == 200, r.text
    assert seq == 1
