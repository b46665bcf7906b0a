"""``kitlife inspect``: real captures judged offline through the agent's parsers and the scorer."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kitlife.collector.cli.main import cli

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _inspect(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["inspect", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _component(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in doc["components"] if c["component"] == kind)


def test_sas_drive_with_uncorrected_errors_is_failing() -> None:
    doc = _inspect(str(FIXTURES / "smartctl" / "exporter_SEAGATE_ST373453LC_26.json"))
    assert doc["files"][0]["kind"] == "smartctl"
    storage = _component(doc, "storage")
    assert (storage["name"], storage["status"]) == ("sdb", "fail")
    readings = {(r["metric"], r["component"]): r["value"] for r in doc["readings"]}
    assert readings[("scsi.grown_defects", "sdb")] == 260
    assert readings[("scsi.uncorrected_write_errors", "sdb")] == 535


def test_seagate_with_one_timeout_and_one_reallocated_sector_is_healthy() -> None:
    doc = _inspect(str(FIXTURES / "smartctl" / "exporter_ST3500418AS_11.json"))
    assert _component(doc, "storage")["status"] == "ok"


def test_captures_of_one_machine_are_judged_together() -> None:
    doc = _inspect(
        str(FIXTURES / "smartctl" / "pysmart_sas_hdd_0_issue_51.txt"),
        str(FIXTURES / "battery" / "fusion_upower_infos_1_worn.txt"),
    )
    assert [f["kind"] for f in doc["files"]] == ["smartctl", "upower"]
    assert _component(doc, "storage")["status"] == "ok"
    battery = _component(doc, "battery")
    assert battery["status"] == "warn"
    assert battery["level"] == round(100 * 39264 / 51504, 2)
    assert [r["part"] for r in doc["repairs"]] == ["battery"]


def _history_csv(tmp_path: Path, last_row: int) -> Path:
    """The held-out MacBook log as a readings history (time,metric,value,component)."""
    path = tmp_path / "history.csv"
    source = FIXTURES / "battery" / "mantovani_macbook_2020_daily.csv"
    with source.open(newline="") as f, path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["time", "metric", "value", "component"])
        for i, row in enumerate(csv.DictReader(f)):
            if i > last_row or not row["FullCapacity"]:
                continue
            when = datetime.strptime(row["Date"], "%d %b %Y").date().isoformat()
            writer.writerow([when, "battery.full_charge_capacity_mah", row["FullCapacity"], "b"])
            writer.writerow([when, "battery.design_capacity_mah", row["DesignCapacity"], "b"])
            writer.writerow([when, "battery.cycle_count", row["Cycles"], "b"])
    return path


def test_a_history_gives_the_forecast_with_its_interval(tmp_path: Path) -> None:
    doc = _inspect(str(_history_csv(tmp_path, last_row=150)))
    assert doc["now"] == "2021-04-16"
    battery = _component(doc, "battery")
    forecast = battery["forecast"]
    assert forecast["interval"] == 0.8
    assert forecast["level"] < 80
    assert battery["months_low"] <= battery["months_to_threshold"] <= battery["months_high"]
    assert battery["trend"]["per_month"] < 0


def test_text_output_names_the_forecast_interval(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["inspect", str(_history_csv(tmp_path, last_row=150))])
    assert result.exit_code == 0, result.output
    assert "80% interval" in result.output


def test_sysfs_folder_whose_uevent_lacks_the_type(tmp_path: Path) -> None:
    supply = tmp_path / "BAT0"
    supply.mkdir()
    (supply / "uevent").write_text(
        "POWER_SUPPLY_NAME=BAT0\nPOWER_SUPPLY_ENERGY_FULL_DESIGN=50000000\n"
        "POWER_SUPPLY_ENERGY_FULL=31000000\n"
    )
    (supply / "type").write_text("Battery\n")
    doc = _inspect(str(supply))
    battery = _component(doc, "battery")
    assert (battery["name"], battery["level"], battery["status"]) == ("BAT0", 62.0, "warn")


def test_macos_report_without_mah_uses_the_os_percentage_and_label(tmp_path: Path) -> None:
    # Built from the keys system_profiler SPPowerDataType -json prints (no public capture).
    report = {
        "SPPowerDataType": [
            {
                "_name": "spbattery_information",
                "sppower_battery_health_info": {
                    "sppower_battery_cycle_count": 811,
                    "sppower_battery_health": "Service Recommended",
                    "sppower_battery_health_maximum_capacity": "71%",
                },
                "sppower_battery_charge_info": {"sppower_battery_state_of_charge": 64},
            }
        ]
    }
    path = tmp_path / "power.json"
    path.write_text(json.dumps(report))
    doc = _inspect(str(path))
    battery = _component(doc, "battery")
    assert (battery["status"], battery["level"]) == ("warn", 71.0)
    assert any(r["key"] == "battery.os_condition.service_recommended" for r in battery["reasons"])


def test_unknown_file_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    result = CliRunner().invoke(cli, ["inspect", str(path)])
    assert result.exit_code == 2
    assert "not a capture kitlife inspect reads" in result.output
    assert "Traceback" not in result.output


def test_history_with_an_unknown_metric_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("time,metric,value\n2026-01-01,battery.nonsense,3\n")
    result = CliRunner().invoke(cli, ["inspect", str(path)])
    assert result.exit_code == 2
    assert "line 2: unknown metric 'battery.nonsense'" in result.output


def test_truncated_smartctl_json_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('{"smartctl": {"version": [7, 3]}, "device": {"name": "/dev/sda"')
    result = CliRunner().invoke(cli, ["inspect", str(path)])
    assert result.exit_code == 2
    assert "invalid JSON" in result.output
