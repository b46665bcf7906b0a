"""Fleet figures (benchmark, not test).

1. ``kitlife simulate`` throughput: a small estate through the real store path
   (Store.enroll + Store.ingest of encoded batches) into SQLite, then the fleet
   report timed over that database.
2. The redeploy plan for a 72,000-device simulated estate with ~5% injected
   poor fits: inputs built straight from the generator (no database), planner
   timed alone. Target < 30 s on 2 cores.
3. The fleet report over the same 72,000 devices in memory. Target < 5 s.

Run: .venv/bin/python bench/fleet.py [--devices 72000] [--db-devices 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time

from kitlife.collector.policy.fit import load_roles
from kitlife.collector.policy.fleet import plan_inputs
from kitlife.collector.policy.redeploy import build_plan
from kitlife.collector.policy.register import day_of, parse_date, parse_register
from kitlife.collector.policy.scoring.carbon import default_boavizta
from kitlife.collector.reports.fleet import fleet_report
from kitlife.collector.reports.fleet_service import fleet_report_from_store
from kitlife.collector.store import Store
from kitlife.collector.store.assets import replace_register
from kitlife.collector.tools.estate_inputs import devices_from_estate
from kitlife.collector.tools.simulate import (
    generate_estate,
    populate,
    register_csv_text,
    relax_sqlite_durability,
)

END = dt.date(2026, 11, 25)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=72_000)
    ap.add_argument("--db-devices", type=int, default=300)
    ap.add_argument("--months", type=int, default=18)
    ap.add_argument(
        "--exact-check",
        action="store_true",
        help="Also solve each region whole (no max_block split) and compare the optimum.",
    )
    args = ap.parse_args()
    cfg = load_roles()
    print(f"cpus available: {len(os.sched_getaffinity(0))}")

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.from_url(f"sqlite:///{tmp}/bench.sqlite3")
        store.upgrade()
        estate = generate_estate(args.db_devices, args.months, seed=11, end=END)
        t = time.perf_counter()
        relax_sqlite_durability(store)  # as `kitlife simulate` does unless --durable
        st = populate(store, estate, batch_days=30)
        wall = time.perf_counter() - t
        rows, _ = parse_register(register_csv_text(estate.register).encode(), cfg.roles)
        replace_register(store, rows)
        print(
            f"simulate (SQLite): {st.devices} devices x {args.months} months -> {st.batches} "
            f"batches, {st.points} points in {wall:.1f} s wall "
            f"(ingest {st.ingest_s:.1f} s = {st.batches_per_s:.0f} batches/s, "
            f"{st.points / st.ingest_s:.0f} points/s; encode {st.generate_s:.1f} s; "
            f"enrol {st.enrol_s:.1f} s)"
        )
        t = time.perf_counter()
        rep = fleet_report_from_store(store, cfg, END)
        print(
            f"fleet report over that database ({args.db_devices} devices): "
            f"{time.perf_counter() - t:.2f} s, {len(rep['figures'])} figures"
        )
        store.close()

    t = time.perf_counter()
    estate = generate_estate(args.devices, args.months, seed=12, end=END)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    fleet = devices_from_estate(estate)
    facts_s = time.perf_counter() - t
    injected = sum(1 for d in estate.devices if d.injected_poor_fit)
    print(
        f"estate: {len(estate.devices)} devices generated in {gen:.1f} s, "
        f"facts in {facts_s:.1f} s; "
        f"{injected} injected poor fits ({100 * injected / len(estate.devices):.1f}%)"
    )
    devs, holders = plan_inputs(fleet)
    t = time.perf_counter()
    plan = build_plan(devs, holders, cfg, END)
    plan_s = time.perf_counter() - t
    s = plan.summary()
    print(
        f"redeploy plan: {plan_s:.1f} s (target < 30 s): {s['moves']} moves, "
        f"{s['poor_fits_addressed']} poor fits addressed of {s['poor_fit_holders']} poor-fit "
        f"holders; mismatch {s['mismatch_before']} -> {s['mismatch_after']}; "
        f"{s['blocks']} blocks, largest {s['largest_block']}; exact={s['exact']}; "
        f"saves {s['saves_kg_co2e'] / 1000:.0f} t CO2e, GBP {s['saves_gbp']:,.0f}"
    )
    if args.exact_check:
        t = time.perf_counter()
        whole = build_plan(devs, holders, cfg, END, max_block=10**9)
        print(
            f"exact check: regions solved whole in {time.perf_counter() - t:.1f} s, objective "
            f"{whole.objective_after:.1f} vs blocked {plan.objective_after:.1f} "
            f"(+{100 * (plan.objective_after / whole.objective_after - 1):.2f}%)"
        )
    retired = [
        {
            "vendor": r.vendor,
            "model": r.model,
            "eol_route": r.eol_route,
            "purchase_day": day_of(parse_date(r.purchase_date)),
            "retired_day": day_of(parse_date(r.retired_date)),
        }
        for r in estate.register
        if r.status == "retired"
    ]
    t = time.perf_counter()
    rep = fleet_report(fleet, retired, default_boavizta(), cfg, END)
    print(
        f"fleet report ({args.devices} devices in memory): {time.perf_counter() - t:.2f} s "
        f"(target < 5 s); poor-fit devices {rep['poor_fit_devices']}"
    )


if __name__ == "__main__":
    main()
