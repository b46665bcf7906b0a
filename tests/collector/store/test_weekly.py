"""The rescorer's stored weeks: read through them, a history equals one folded from the days.

Real ingest on both databases; the reference is worked out here by hand from
``Store.daily_rollups`` (a counter's week is its largest daily last, a
gauge's the mean of its daily means), not by the code under test.
"""

from __future__ import annotations

import time

import numpy as np
from sqlalchemy import select

from kitlife.collector.store import Store, weekly
from kitlife.collector.store.histories import _COUNTERS, LOOKBACK_DAYS, _series_ids, load_histories
from kitlife.collector.store.schema import device_weeks
from kitlife.protocol import Batch, Series, encode_batch, metric_by_name

DAY = 86_400
TODAY = int(time.time()) // DAY
CPU = metric_by_name("cpu.busy_pct")
ERRORS = metric_by_name("nvme.media_errors")


def _batch(uid: str, seq: int, days: list[int], base: float) -> bytes:
    """Two cpu samples and one media-error reading on each day (epoch days)."""
    cpu_t = tuple(d * DAY + h * 3600 for d in days for h in (9, 15))
    cpu_v = tuple(round(base + (d % 5) + h / 10, 1) for d in days for h in (9, 15))
    err_t = tuple(d * DAY + 12 * 3600 for d in days)
    err_v = tuple(float(max(0, d - days[0] - 20)) for d in days)
    return encode_batch(
        Batch(
            uid,
            "w",
            seq,
            days[-1] * DAY + 13 * 3600,
            "test",
            (
                Series(CPU.id, "", cpu_t, cpu_v, CPU.exponent),
                Series(ERRORS.id, "nvme0", err_t, err_v, ERRORS.exponent),
            ),
        )
    )


def _reference(store: Store, device_id: int) -> dict[tuple[int, str], list[tuple[int, float]]]:
    weeks: dict[tuple[int, str, int], list[float]] = {}
    for r in store.daily_rollups(device_id):
        if r["day"] < weekly.week_start(TODAY - LOOKBACK_DAYS):
            continue
        key = (r["metric_id"], r["component"], r["day"] // 7)
        if r["metric_id"] in _COUNTERS:
            weeks[key] = [max(weeks.get(key, [r["last"]])[0], r["last"])]
        else:
            weeks.setdefault(key, []).append(r["sum"] / r["n"])
    out: dict[tuple[int, str], list[tuple[int, float]]] = {}
    for (mid, comp, week), acc in sorted(weeks.items()):
        value = acc[0] if mid in _COUNTERS else sum(acc) / len(acc)
        out.setdefault((mid, comp), []).append((week * 7 + 3, value))
    return out


def _read(store: Store, device_id: int) -> dict[tuple[int, str], list[tuple[int, float]]]:
    ((_, history),) = list(load_histories(store, [device_id], TODAY))
    out = {}
    for (name, comp), series in history.daily.items():
        assert not isinstance(series, list | tuple)
        mid = metric_by_name(name).id
        out[(mid, comp)] = list(
            zip(series.days.astype(int).tolist(), series.values.tolist(), strict=True)
        )
    return out


def _row(store: Store, device_id: int) -> tuple[int, int] | None:
    with store.engine.connect() as conn:
        row = conn.execute(
            select(device_weeks.c.upto_day, device_weeks.c.version).where(
                device_weeks.c.device_id == device_id
            )
        ).first()
    return None if row is None else (int(row.upto_day), int(row.version))


def test_history_through_stored_weeks_equals_the_days_folded(store: Store) -> None:
    uid, key = store.enroll(store.create_enrol_token(1, 60), {"inv.hostname": "w"})
    device = store.device_for_key(key)
    assert device is not None
    first = TODAY - 70
    for seq, start in enumerate(range(first, TODAY, 7)):
        days = list(range(start, min(start + 7, TODAY)))
        assert store.ingest(device, _batch(uid, seq, days, 20.0), now_s=days[-1] * DAY + 14 * 3600)

    cold = _read(store, device.id)  # folded from the days, and the weeks stored
    assert cold == _reference(store, device.id)
    stored = _row(store, device.id)
    assert stored is not None and stored[0] == weekly.closed_before(TODAY)
    assert _read(store, device.id) == cold  # through the stored weeks

    # A late batch (an agent back from a week offline) rewrites closed days.
    assert store.ingest(device, _batch(uid, 99, [first + 3, first + 4], 60.0))
    late = _row(store, device.id)
    assert late is not None
    assert late[0] <= weekly.week_start(first + 3) and late[1] > stored[1]
    after = _read(store, device.id)
    assert after == _reference(store, device.id) != cold
    assert _read(store, device.id) == after


def test_a_late_batch_during_a_rescore_is_not_overwritten(store: Store) -> None:
    uid, key = store.enroll(store.create_enrol_token(1, 60), {"inv.hostname": "r"})
    device = store.device_for_key(key)
    assert device is not None
    days = list(range(TODAY - 40, TODAY))
    assert store.ingest(device, _batch(uid, 0, days, 30.0))
    with store.engine.connect() as conn:  # a rescore reads ...
        _, pending = weekly.read(
            conn, [device.id], TODAY - LOOKBACK_DAYS, TODAY, _series_ids(), _COUNTERS
        )
    assert pending
    assert store.ingest(device, _batch(uid, 1, [TODAY - 30], 90.0))  # ... a late batch lands ...
    with store.engine.begin() as conn:  # ... and the rescore writes what it read
        weekly.write(conn, pending)
    row = _row(store, device.id)
    assert row is not None and row[0] <= weekly.week_start(TODAY - 30)
    assert _read(store, device.id) == _reference(store, device.id)


def test_a_recent_batch_leaves_the_stored_weeks_alone(store: Store) -> None:
    uid, key = store.enroll(store.create_enrol_token(1, 60), {"inv.hostname": "n"})
    device = store.device_for_key(key)
    assert device is not None
    assert store.ingest(device, _batch(uid, 0, list(range(TODAY - 30, TODAY)), 10.0))
    _read(store, device.id)
    before = _row(store, device.id)
    assert store.ingest(device, _batch(uid, 1, [TODAY - 1, TODAY], 11.0))
    assert _row(store, device.id) == before
    assert _read(store, device.id) == _reference(store, device.id)


def test_fold_matches_numpy() -> None:
    rows = [(1, d, [[CPU.id, "", 2, 2.0 * d, d, d, d, 0]]) for d in range(14, 28)]
    got = weekly.fold(rows, _COUNTERS)[1][(CPU.id, "")]
    assert got[0].tolist() == [2, 3]
    assert np.allclose(got[1], [np.mean(range(14, 21)), np.mean(range(21, 28))])
