"""The fleet report's amnesty section: reminded, booked, returned by route, still out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

from click.testing import CliRunner

from kitlife.collector.cli.main import cli
from kitlife.collector.policy import amnesty as policy
from kitlife.collector.policy.fit import load_roles
from kitlife.collector.reports.fleet_service import fleet_report_from_store
from kitlife.collector.runtime.amnesty import ScheduleRequest, export_csv, handback, schedule
from kitlife.collector.store import Store
from tests.collector.amnesty_estate import POINTS_CSV, build


def test_fleet_report_counts_a_campaign_end_to_end(store: Store) -> None:
    build(store)
    today = int(time.time()) // 86_400
    schedule(
        store,
        ScheduleRequest(
            name="spring",
            date=policy.EPOCH + dt.timedelta(days=today + 2),
            sites=("London", "Bristol"),
            points_csv=POINTS_CSV,
            channels=("csv",),
        ),
    )
    exported = list(csv.DictReader(io.StringIO(export_csv(store, 1, "http://x", int(time.time())))))
    assert sorted(r["site"] for r in exported) == ["Bristol"] + ["London"] * 4
    handback(store, "pc-ref", "refurbish", "nist-800-88-purge", "R-1")
    handback(store, "pc-idle", "redeploy")
    rep = fleet_report_from_store(store, load_roles(), dt.datetime.now(dt.UTC).date())
    section = rep["amnesty"]
    assert section["people_asked"] == 5 and section["people_reminded"] == 5
    assert section["returned_by_route"] == {
        "refurbish": 1,
        "donate": 0,
        "recycle": 0,
        "redeploy": 1,
    }
    assert section["pct_by_route"]["refurbished"] == 50.0
    assert section["flagged_devices_still_out"] == 1  # pc-gone, dormant, not returned
    assert section["carbon_avoided_kg"] > 0 and section["method"]
    eol = next(f for f in rep["figures"] if f["id"] == "end_of_life_routes")
    assert eol["value"]["refurbish"] == 1  # the hand-back feeds the end-of-life map
    text = CliRunner().invoke(
        cli, ["--db", store.engine.url.render_as_string(hide_password=False), "report", "fleet"]
    )
    assert "Amnesty days: 5 people asked, 5 reminded, 0 booked; 2 devices returned" in text.output
