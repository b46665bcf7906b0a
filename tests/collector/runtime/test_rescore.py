"""Scoring from the store: histories read back, results kept, decisions listed."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from kitlife.collector.reports.decisions import decision_rows
from kitlife.collector.reports.device import device_report
from kitlife.collector.runtime.rescore import Rescorer, rescore
from kitlife.collector.store import Store
from kitlife.collector.store.histories import load_histories
from kitlife.protocol import Batch, Series, Text, encode_batch, metric_by_name

DAY = 86400
NOW = 1_790_000_000 - 1_790_000_000 % DAY


def _series(name: str, component: str, days: list[int], values: list[float]) -> Series:
    m = metric_by_name(name)
    return Series(m.id, component, tuple(NOW - d * DAY for d in days), tuple(values), m.exponent)


def _laptop(store: Store, host: str, full_mwh: list[float]) -> int:
    uid, key = store.enroll(store.create_enrol_token(1, 60), {"inv.hostname": host})
    device = store.device_for_key(key)
    assert device is not None
    days = list(range(len(full_mwh) * 10 - 10, -1, -10))  # one reading every 10 days
    batch = Batch(
        uid,
        "s",
        1,
        NOW,
        "test",
        (
            _series("battery.design_capacity_mwh", "BAT0", days, [56000.0] * len(days)),
            _series("battery.full_charge_capacity_mwh", "BAT0", days, full_mwh),
            _series("battery.cycle_count", "BAT0", days, [300.0] * len(days)),
            _series("nvme.percentage_used_pct", "nvme0", days, [12.0] * len(days)),
            _series("storage.smart_passed", "nvme0", days, [1.0] * len(days)),
        ),
        (Text(metric_by_name("inv.model").id, "", NOW, "Latitude 5490"),),
    )
    assert store.ingest(device, encode_batch(batch), now_s=NOW)
    return device.id


def test_history_comes_back_as_daily_series(store: Store) -> None:
    row_id = _laptop(store, "a", [50000.0, 49000.0, 48000.0])
    ((got_id, history),) = list(load_histories(store, [row_id], NOW // DAY))
    assert got_id == row_id
    series = history.series("battery.full_charge_capacity_mwh", "BAT0")
    assert series is not None
    assert list(series.values) == [50000.0, 49000.0, 48000.0]
    assert history.number("battery.design_capacity_mwh", "BAT0") == 56000.0
    assert history.model == "Latitude 5490"


def test_rescore_keeps_results_and_worn_battery_is_repaired(store: Store) -> None:
    healthy = _laptop(store, "healthy", [54000.0 - 50 * i for i in range(8)])
    worn = _laptop(store, "worn", [40000.0 - 1500 * i for i in range(8)])
    summary = rescore(store, now_s=NOW)
    assert summary.devices == 2
    rows = {r["hostname"]: r for r in decision_rows(store)}
    assert rows["healthy"]["decision"] == "keep"
    assert rows["worn"]["decision"] == "repair"
    assert any("battery" in reason and "%" in reason for reason in rows["worn"]["reasons"])
    assert rows["worn"]["score"] is not None
    report = device_report(store, "worn")
    assert report["assessment"]["action"] == "repair"
    assert {c["component"] for c in report["assessment"]["components"]} >= {"battery", "storage"}
    assert healthy != worn


def test_rescore_history_accumulates(store: Store) -> None:
    _laptop(store, "x", [50000.0, 49000.0])
    rescore(store, now_s=NOW)
    rescore(store, now_s=NOW + 60)
    from sqlalchemy import func, select

    from kitlife.collector.store.schema import scores

    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(scores)).scalar_one() == 2


def test_simulated_estate_gets_a_decision_with_reasons_for_every_device(db_url: str) -> None:
    import json

    from click.testing import CliRunner

    from kitlife.collector.cli.main import cli

    runner = CliRunner()
    result = runner.invoke(
        cli, ["--db", db_url, "simulate", "--devices", "40", "--months", "6", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "scored 40 devices" in result.output
    listed = runner.invoke(cli, ["--db", db_url, "decisions", "--json"])
    rows = json.loads(listed.output)
    assert len(rows) == 40
    for row in rows:
        assert row["decision"] in {"keep", "repair", "redeploy", "refurbish", "donate", "recycle"}
        assert row["score"] is not None and 0 <= row["score"] <= 100
        assert row["reasons"] and row["sources"]
        assert any(ch.isdigit() for reason in row["reasons"] for ch in reason)
    for row in (r for r in rows if r["decision"] == "redeploy"):
        assert any(
            reason.split(" role: ")[0] in {"office", "field", "analyst", "developer"}
            for reason in row["reasons"]
        ), row


def _score_rows(store: Store, device_id: int) -> int:
    from sqlalchemy import func, select

    from kitlife.collector.store.schema import scores

    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(scores).where(scores.c.device_id == device_id)
            ).scalar_one()
        )


def _wait_for(predicate: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.parametrize("min_interval_s", [3600.0, 0.0])
def test_background_rescorer_rescores_a_device_at_most_once_per_interval(
    store: Store, min_interval_s: float
) -> None:
    device = _laptop(store, "a", [50000.0, 49000.0, 48000.0])
    rescorer = Rescorer(store, delay_s=0.0, min_interval_s=min_interval_s, duty=1.0)
    rescorer.start()
    try:
        rescorer.mark([device])  # never scored: due at once
        assert _wait_for(lambda: _score_rows(store, device) == 1)
        rescorer.mark([device])  # scored a moment ago
        if min_interval_s:
            time.sleep(1.0)
            assert _score_rows(store, device) == 1
        else:
            assert _wait_for(lambda: _score_rows(store, device) == 2)
    finally:
        rescorer.stop()


def test_a_restarted_rescorer_remembers_scores_from_the_store(store: Store) -> None:
    device = _laptop(store, "a", [50000.0, 49000.0, 48000.0])
    rescore(store, [device])
    rescorer = Rescorer(store, delay_s=0.0, min_interval_s=3600.0)
    rescorer.start()
    try:
        rescorer.mark([device])
        time.sleep(1.0)
        assert _score_rows(store, device) == 1
        assert rescorer.rescored == 0
    finally:
        rescorer.stop()


def test_rescorer_waits_while_ingest_is_busy_but_not_forever(store: Store) -> None:
    device = _laptop(store, "a", [50000.0, 49000.0, 48000.0])
    busy = [True]
    rescorer = Rescorer(store, delay_s=0.0, busy=lambda: busy[0], max_defer_s=1.5, quiet_s=0.2)
    rescorer.start()
    try:
        t0 = time.monotonic()
        rescorer.mark([device])
        time.sleep(0.5)
        assert _score_rows(store, device) == 0  # deferred while busy
        assert _wait_for(lambda: _score_rows(store, device) == 1)
        assert time.monotonic() - t0 >= 1.5  # ... until max_defer_s, then it moves on
    finally:
        rescorer.stop()
