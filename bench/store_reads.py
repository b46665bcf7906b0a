"""Reading the packed device rows back: what a rescore and the fleet reports cost per device.

Builds an estate directly in the store's tables (typical devices: the 25
series of bench/typical.py every day for ``--days`` days, and their latest
readings), then times the three kinds of reader side by side:

- ``histories``: a rescore's read of one device (two years of days folded
  to weekly points, its latest readings), over every device: cold (no
  stored weeks yet: every day folded, the closed weeks stored on the way)
  and warm (the stored weeks and the days after them, as every later
  rescore reads);
- ``experience``: the experience report over the last 30 days, whole fleet;
- ``assets``: the asset table (every device's latest readings) and the
  pressure percentiles over 30 days, whole fleet.

Each line gives the time per device and what that means for 72,000.

    .venv/bin/python -m bench.store_reads                  # SQLite, 200 devices x 760 days
    .venv/bin/python -m bench.store_reads --db postgresql  # a fresh schema of the local one
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.typical import typical_body
from kitlife.collector.reports.experience import experience
from kitlife.collector.store import Store, packed
from kitlife.collector.store.assets import device_table, pressure_p95
from kitlife.collector.store.histories import LOOKBACK_DAYS, load_histories
from kitlife.collector.store.schema import device_days, device_state, devices
from kitlife.protocol import decode_summary

PG_BASE = os.environ.get("KITLIFE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ESTATE = 72_000


def _store(db: str, tmp: Path) -> Store:
    if db == "sqlite":
        url = f"sqlite:///{tmp / 'reads.sqlite3'}"
    else:
        import psycopg

        schema = f"bench_reads_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_BASE.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
    store = Store.from_url(url)
    store.upgrade()
    return store


def build(store: Store, n_devices: int, n_days: int, today: int) -> None:
    """``n_devices`` devices with a typical day for each of the last ``n_days`` days."""
    summary = decode_summary(typical_body("a" * 32, 1, (today - 1) * 86_400))
    day = [
        packed.DayEntry(d.metric_id, d.component, 96 * d.n, 96 * d.total, d.lo, d.hi, d.last, 0)
        for d in summary.days
    ]
    latest = packed.merged_latest(
        None,
        [(d.metric_id, d.component, d.last_s, d.last, None) for d in summary.days]
        + [(t.metric_id, t.component, t.t_s, None, t.value) for t in summary.texts],
    )
    with store.engine.begin() as conn:
        for i in range(n_devices):
            dev = conn.execute(
                insert(devices).values(
                    device_uid=uuid.uuid4().hex,
                    hostname=f"h{i}",
                    model="Latitude 5420",
                    vendor="Dell Inc.",
                    enrolled_s=0,
                )
            ).inserted_primary_key[0]
            conn.execute(
                insert(device_state),
                [{"device_id": dev, "latest": latest, "unavailable": packed.pack_unavailable([])}],
            )
            rows = [
                {
                    "device_id": dev,
                    "day": d,
                    "body": packed.merged_day(None, [e._replace(last_s=d * 86_400) for e in day]),
                }
                for d in range(today - n_days + 1, today + 1)
            ]
            conn.execute(insert(device_days), rows)


def _timed(label: str, n: int, fn: Callable[[], Any]) -> None:
    t = time.perf_counter()
    fn()
    dt = time.perf_counter() - t
    per = dt / n
    estate_min = per * ESTATE / 60
    print(f"{label:<42} {dt:8.2f} s  {per * 1e3:8.2f} ms/device  {estate_min:8.1f} min for 72,000")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--days", type=int, default=LOOKBACK_DAYS)
    args = ap.parse_args(argv)
    today = int(time.time()) // 86_400
    with tempfile.TemporaryDirectory() as tmp:
        store = _store(args.db, Path(tmp))
        t = time.perf_counter()
        build(store, args.devices, args.days, today)
        print(
            f"{args.db}: {args.devices} devices x {args.days} days built in "
            f"{time.perf_counter() - t:.1f} s"
        )
        ids = list(range(1, args.devices + 1))
        n = args.devices
        _timed(
            "histories, cold (760 days folded, weeks stored)",
            n,
            lambda: list(load_histories(store, ids, today)),
        )
        _timed(
            "histories, warm (stored weeks + open days)",
            n,
            lambda: list(load_histories(store, ids, today)),
        )
        _timed(
            "experience report, 30 days", n, lambda: experience(store, "model", 30, today * 86_400)
        )
        _timed("asset table (latest readings)", n, lambda: device_table(store))
        _timed("pressure p95, 30 days", n, lambda: pressure_p95(store, today - 29))
        store.close()


if __name__ == "__main__":
    main()
