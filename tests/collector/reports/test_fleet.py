"""The fleet report publishes every figure with a method and a source."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kitlife.collector.cli.main import cli
from kitlife.collector.policy.fit import load_roles
from kitlife.collector.policy.register import day_of, parse_date
from kitlife.collector.policy.scoring.carbon import default_boavizta
from kitlife.collector.reports.fleet import fleet_report
from kitlife.collector.tools.estate_inputs import devices_from_estate
from kitlife.collector.tools.simulate import generate_estate

END = dt.date(2026, 11, 25)
PUBLISHED = {
    "devices_in_use",
    "pct_refurbished_or_remanufactured_at_purchase",
    "pct_reused_or_redeployed",
    "end_of_life_routes",
    "pct_to_landfill",
    "embodied_carbon_estate_kg",
    "carbon_avoided_keeping_kg",
    "water_avoided_m3",
    "raw_materials_avoided_kg",
}


def _retired(estate):  # type: ignore[no-untyped-def]
    return [
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


def test_every_published_figure_has_method_and_source() -> None:
    estate = generate_estate(150, 12, seed=4, end=END)
    rep = fleet_report(
        devices_from_estate(estate), _retired(estate), default_boavizta(), load_roles(), END
    )
    figures = {f["id"]: f for f in json.loads(json.dumps(rep))["figures"]}
    assert set(figures) >= PUBLISHED
    for f in figures.values():
        assert f["method"] and f["source"] and f["unit"]
    assert figures["end_of_life_routes"]["value"]["landfill"] == 0
    assert "Boavizta" in figures["embodied_carbon_estate_kg"]["source"]
    assert "carbon_ledger" in figures["carbon_avoided_keeping_kg"]["method"]
    assert rep["models_that_last"] and rep["by_site"] and rep["by_age"]


def _figure(rep: dict[str, Any], key: str) -> Any:
    return next(f["value"] for f in rep["figures"] if f["id"] == key)


def test_a_fleet_younger_than_the_refresh_and_all_kept_avoids_nothing_by_keeping() -> None:
    """Keeping what the 4-year refresh would also keep avoids no purchase.

    Before the ledger every kept device counted as a new device not bought: on the
    simulated 300-device estate 74,008 of its 74,544 kg embodied were "avoided".
    """
    fleet = [
        dataclasses.replace(f, purchase_day=day_of(END) - 3 * 365, purchase_route="new")
        for f in devices_from_estate(generate_estate(60, 3, seed=4, end=END))
    ]
    decisions = {f.key: "keep" for f in fleet}
    rep = fleet_report(fleet, [], default_boavizta(), load_roles(), END, decisions=decisions)
    assert _figure(rep, "embodied_carbon_estate_kg") > 0
    assert _figure(rep, "carbon_avoided_keeping_kg") == 0
    assert len(rep["carbon_ledger"]) == len(fleet)
    assert all(r["kg_co2e"] == 0 and r["kind"] == "kept" for r in rep["carbon_ledger"])


def test_the_fleet_figures_are_the_sums_of_the_ledger_rows() -> None:
    estate = generate_estate(300, 12, seed=1, end=END)
    fleet = devices_from_estate(estate)
    decisions = {f.key: "keep" for f in fleet}
    rep = fleet_report(fleet, [], default_boavizta(), load_roles(), END, decisions=decisions)
    rows = rep["carbon_ledger"]
    kept = [r for r in rows if r["kind"] == "kept"]
    refurb = [r for r in rows if r["kind"] == "refurbished_purchase"]
    assert abs(_figure(rep, "carbon_avoided_keeping_kg") - sum(r["kg_co2e"] for r in kept)) <= 1
    assert (
        abs(
            _figure(rep, "carbon_avoided_refurbished_purchases_kg")
            - sum(r["kg_co2e"] for r in refurb)
        )
        <= 1
    )
    assert (
        0
        < _figure(rep, "carbon_avoided_keeping_kg")
        < _figure(rep, "embodied_carbon_estate_kg") / 4
    )
    for r in rows:
        assert r["formula"] and r["sources"] and r["serial"] and r["asset_tag"]
    past = next(r for r in kept if r["kg_co2e"] > 0)
    years = past["inputs"]["years_kept_past_refresh_in_period"]
    expected = past["inputs"]["embodied_new_kg"] * years / past["inputs"]["refresh_years"]
    assert abs(past["kg_co2e"] - expected) < 0.2


def test_a_repair_subtracts_its_parts_in_the_ledger() -> None:
    (f,) = devices_from_estate(generate_estate(1, 2, seed=4, end=END))[:1]
    young = dataclasses.replace(
        f, purchase_day=day_of(END) - 365, purchase_route="new", repair_parts_kgco2e=5.3
    )
    rep = fleet_report([young], [], default_boavizta(), load_roles(), END, {young.key: "repair"})
    (row,) = rep["carbon_ledger"]
    assert row["kg_co2e"] == -5.3 and row["inputs"]["repair_parts_kg"] == 5.3


def test_report_fleet_json_over_a_simulated_database(sqlite_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["--db", sqlite_url, "simulate", "--devices", "20", "--months", "2", "--end", "2026-11-25"],
    )
    assert result.exit_code == 0, result.output
    out = runner.invoke(cli, ["--db", sqlite_url, "report", "fleet", "--format", "json"])
    assert out.exit_code == 0, out.output
    rep = json.loads(out.output)
    ids = {f["id"] for f in rep["figures"]}
    assert ids >= PUBLISHED
    assert all(f["source"] for f in rep["figures"])
    plan = runner.invoke(cli, ["--db", sqlite_url, "redeploy", "plan", "--json"])
    assert plan.exit_code == 0, plan.output
    assert "summary" in json.loads(plan.output)


def test_every_move_names_both_devices_and_both_people(sqlite_url: str, tmp_path: Path) -> None:
    """Asset tag, serial and hostname of the device handed over and the one handed back."""
    runner = CliRunner()
    reg = tmp_path / "reg.csv"
    args = ["--db", sqlite_url, "simulate", "--devices", "120", "--months", "2", "--seed", "5"]
    result = runner.invoke(cli, [*args, "--end", "2026-11-25", "--register-csv", str(reg)])
    assert result.exit_code == 0, result.output
    register = {r["serial"]: r for r in csv.DictReader(io.StringIO(reg.read_text("utf-8")))}
    out = runner.invoke(cli, ["--db", sqlite_url, "redeploy", "plan", "--json"])
    moves = json.loads(out.output)["moves"]
    assert moves
    for m in moves:
        given = register[m["device_serial"]]
        assert m["device_asset_tag"] == given["asset_tag"] and m["device_hostname"]
        assert m["from_holder"] == (given["holder_id"] or "spare stock")
        assert m["replaces"], "every simulated holder has a device today"
        assert register[m["replaces_serial"]]["holder_id"] == m["holder_id"]
        assert m["replaces_asset_tag"] and m["replaces_hostname"] and m["replaced_to"]
    text = runner.invoke(cli, ["--db", sqlite_url, "redeploy", "plan"]).output
    assert f"serial {moves[0]['device_serial']}" in text


def test_unmatched_fit_and_site_plan_over_a_simulated_database(
    sqlite_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    reg = tmp_path / "reg.csv"
    args = ["--db", sqlite_url, "simulate", "--devices", "40", "--months", "2"]
    result = runner.invoke(cli, [*args, "--end", "2026-11-25", "--register-csv", str(reg)])
    assert result.exit_code == 0, result.output
    lines = reg.read_text(encoding="utf-8").splitlines()
    dropped = lines[1].split(",")[0]
    extra = "ZZ999,,h-new,office,York,2025-01-01,new,2028-01-01,,,in_use,,,,0"
    reg.write_text("\n".join([lines[0], *lines[2:], extra]) + "\n", encoding="utf-8")
    assert runner.invoke(cli, ["--db", sqlite_url, "assets", "import", str(reg)]).exit_code == 0
    out = runner.invoke(cli, ["--db", sqlite_url, "assets", "unmatched", "--json"])
    found = json.loads(out.output)
    assert [d["serial"] for d in found["devices_without_register_row"]] == [dropped]
    assert [r["serial"] for r in found["register_rows_without_device"]] == ["ZZ999"]
    fit = runner.invoke(cli, ["--db", sqlite_url, "redeploy", "fit", "--poor", "--json"])
    assert fit.exit_code == 0, fit.output
    assert all(r["poor"] and r["reasons"] for r in json.loads(fit.output))
    plan = runner.invoke(cli, ["--db", sqlite_url, "redeploy", "plan", "--site", "York", "--json"])
    assert all(m["site"] == "York" for m in json.loads(plan.output)["moves"])
    csv_out = runner.invoke(cli, ["--db", sqlite_url, "report", "fleet", "--format", "csv"])
    lines = csv_out.output.splitlines()
    assert lines[0] == "section,group,name,value,unit,method,source"
    # The breakdowns JSON has are in the CSV too (issue 17: they were JSON-only).
    assert {line.split(",")[0] for line in lines[1:]} >= {"figure", "by_model", "by_site", "by_age"}


def test_recorded_decisions_feed_the_report(db_url: str) -> None:
    from kitlife.collector.policy.register import parse_register
    from kitlife.collector.reports.fleet_service import fleet_report_from_store
    from kitlife.collector.store import Store
    from kitlife.collector.store.assets import record_decisions, replace_register
    from kitlife.collector.tools.simulate import populate, register_csv_text

    estate = generate_estate(6, 1, seed=3, end=END)
    store = Store.from_url(db_url)
    store.upgrade()
    populate(store, estate, batch_days=31)
    rows, errors = parse_register(register_csv_text(estate.register).encode(), load_roles().roles)
    assert errors == []
    replace_register(store, rows)
    ids = [d["id"] for d in store.list_devices()]
    record_decisions(store, {i: ("keep", "healthy") for i in ids[:3]}, source="test")
    record_decisions(store, {ids[0]: ("recycle", "board failed")}, source="test")
    rep = fleet_report_from_store(store, load_roles(), END)
    assert rep["decisions_source"] == "per-device decisions"
    decided = {}
    for g in rep["by_site"]:
        for k in ("keep", "recycle", "undecided"):
            decided[k] = decided.get(k, 0) + g.get(k, 0)
    assert decided == {"keep": 2, "recycle": 1, "undecided": len(ids) - 3}
    store.close()


def test_experience_section_is_filled_on_a_simulated_estate(sqlite_url: str) -> None:
    """Simulated agents send experience signals and ratings; the report and
    ``kitlife experience`` both read them back through the store."""
    from kitlife.collector.policy.register import parse_register
    from kitlife.collector.reports.experience import DAY_S, experience
    from kitlife.collector.reports.fleet_service import fleet_report_from_store
    from kitlife.collector.store import Store
    from kitlife.collector.store.assets import replace_register
    from kitlife.collector.tools.simulate import populate, register_csv_text

    estate = generate_estate(30, 3, seed=8, end=END)
    store = Store.from_url(sqlite_url)
    store.upgrade()
    populate(store, estate, batch_days=14)
    rows, errors = parse_register(register_csv_text(estate.register).encode(), load_roles().roles)
    assert errors == []
    replace_register(store, rows)

    section = fleet_report_from_store(store, load_roles(), END)["experience"]
    held = sum(1 for d in estate.devices if d.holder_id)
    assert section["devices"] == held
    assert section["device_days"] > 10 * held  # working days in the last 30
    assert 0 < section["responsiveness_index"] < 100
    assert section["ratings"] > 0 and 1 <= section["sentiment_avg"] <= 5
    assert section["by_site"] and sum(r["devices"] for r in section["by_site"]) == held

    now_s = (END - dt.date(1970, 1, 1)).days * DAY_S + DAY_S - 1
    by_model = experience(store, "model", 30, now_s=now_s)
    assert sum(r["devices"] for r in by_model) == held
    assert all(r["responsiveness_index"] is not None for r in by_model)
    store.close()
