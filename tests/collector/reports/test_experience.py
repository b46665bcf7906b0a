"""Responsiveness index and sentiment average over real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kitlife.collector.policy.register import AssetRow
from kitlife.collector.reports.experience import (
    SiteUnavailableError,
    day_index,
    experience,
)
from kitlife.collector.store import Store
from kitlife.collector.store.assets import replace_register
from kitlife.protocol import Batch, Series, Text, encode_batch, metric_by_name

DAY = 86400
T0 = 1_795_000_000 - 1_795_000_000 % DAY  # a day start in Nov 2026


def _series(name: str, values: list[float], t: int, component: str = "") -> Series:
    m = metric_by_name(name)
    ts = tuple(t + 60 * i for i in range(len(values)))
    return Series(m.id, component, ts, tuple(values), m.exponent)


def _device(store: Store, host: str, model: str, seq_series: list[list[Series]]) -> None:
    uid, key = store.enroll(
        store.create_enrol_token(1, 60), {"inv.hostname": host, "inv.model": model}
    )
    device = store.device_for_key(key)
    assert device is not None
    for seq, series in enumerate(seq_series, 1):
        batch = Batch(
            uid,
            "spool",
            seq,
            T0 + DAY * seq,
            "test",
            tuple(series),
            (Text(405, "", T0, model),),
            (),
        )
        store.ingest(device, encode_batch(batch))


def test_day_index_formula() -> None:
    assert day_index({}) is None
    assert day_index({"cpu": 40.0, "memory": 60.0}) == 100.0
    assert day_index({"cpu": 100.0}) == 0.0
    # cpu p95 75% -> penalty 0.5 (w .25); memory 10% available -> 0.5 (w .20): 50
    assert day_index({"cpu": 75.0, "memory": 10.0}) == 50.0


def test_slices_by_model_month_and_device(store: Store) -> None:
    _device(
        store,
        "fast-1",
        "X1",
        [
            [
                _series("resp.cpu_busy_p95_pct", [30, 40], T0),
                _series("resp.mem_available_pct", [60, 60], T0),
                _series("feedback.score", [5], T0),
            ]
        ],
    )
    _device(
        store,
        "slow-1",
        "T14",
        [
            [
                _series("resp.cpu_busy_p95_pct", [100, 100], T0),
                _series("resp.psi_some_avg60_pct", [5, 40], T0, "memory"),
                _series("resp.psi_some_avg60_pct", [0, 0], T0, "io"),
                _series("boot.duration_s", [150], T0),
                _series("feedback.score", [2], T0),
                _series("feedback.reason", [1], T0),
            ],
            [
                _series("feedback.score", [1], T0 + DAY),
            ],
        ],
    )
    now = T0 + 2 * DAY
    by_model = {r["model"]: r for r in experience(store, "model", 30, now)}
    assert by_model["X1"]["responsiveness_index"] == 100.0
    assert by_model["X1"]["sentiment_avg"] == 5.0
    # T14: cpu 1.0 (w .25), pressure mean(memory)=22.5 -> 1.0 (w .2), boot 150 s -> 1.0 (w .15)
    assert by_model["T14"]["responsiveness_index"] == 0.0
    assert (by_model["T14"]["sentiment_avg"], by_model["T14"]["ratings"]) == (1.5, 2)
    (month,) = experience(store, "month", 30, now)
    assert month["month"] == "2026-11" and month["devices"] == 2 and month["ratings"] == 3
    devices = {r["hostname"]: r for r in experience(store, "device", 30, now)}
    assert devices["fast-1"]["device_days"] == 1
    assert experience(store, "model", 1, now + 60 * DAY) == []


def test_site_needs_the_asset_register(store: Store) -> None:
    _device(store, "a", "X1", [[_series("feedback.score", [4], T0)]])
    with pytest.raises(SiteUnavailableError):
        experience(store, "site", 30, T0 + DAY)
    # Once the asset register places the device, site works.
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE devices SET serial = 'S1'"))
    replace_register(store, [AssetRow(2, "S1", "", "h1", "office", "Leeds", 20000, "new", None)])
    (row,) = experience(store, "site", 30, T0 + DAY)
    assert (row["site"], row["sentiment_avg"]) == ("Leeds", 4.0)
