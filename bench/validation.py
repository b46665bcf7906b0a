"""Validation on every real sample the suite holds; writes docs/validation.md.

Each capture under tests/fixtures/ that ``kitlife inspect`` reads goes through exactly that
path (the agent's parser, its readings, the collector's judgement); its truth, read by
hand and recorded with its source, is in tests/fixtures/TRUTH.csv (provenance of every file
in PROVENANCE.md). The hand-read SMART values of tests/fixtures/scoring/smart_samples.csv go
through the scorer. The forecast figures come from bench/backtest.py on the held-out log.

    .venv/bin/python -m bench.validation            # print the figures
    .venv/bin/python -m bench.validation --write    # rewrite the tables in docs/validation.md

tests/bench/test_validation.py fails when a figure falls below its target or when the doc
no longer matches what this module computes.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.backtest import FadeParams, fade_forecaster, held_out, linear_forecaster, run
from kitlife.collector.cli.inspect import CaptureError, inspect_files
from kitlife.collector.policy.scoring import (
    DeviceHistory,
    Status,
    load_thresholds,
    score_device,
)
from kitlife.collector.policy.scoring.history import day_number

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
TRUTH = FIXTURES / "TRUTH.csv"
SAMPLES = FIXTURES / "scoring" / "smart_samples.csv"
DOC = ROOT / "docs" / "validation.md"
NOW = "2026-11-25"

# Targets from issue 15.
MIN_FAILING_FLAGGED = 0.95
MAX_HEALTHY_FLAGGED = 0.02
MIN_BATTERY_MATCHED = 1.0
MIN_PARSED = 1.0

SAMPLE_METRICS = {
    "smart_passed": "storage.smart_passed",
    "power_on_hours": "storage.power_on_hours",
    "percentage_used_pct": "nvme.percentage_used_pct",
    "available_spare_pct": "nvme.available_spare_pct",
    "available_spare_threshold_pct": "nvme.available_spare_threshold_pct",
    "critical_warning": "nvme.critical_warning",
    "media_errors": "nvme.media_errors",
    "reallocated_sectors": "ata.reallocated_sectors",
    "reported_uncorrect": "ata.reported_uncorrect",
    "command_timeout": "ata.command_timeout",
    "pending_sectors": "ata.pending_sectors",
    "offline_uncorrectable": "ata.offline_uncorrectable",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One sample: what it is, its truth, kitlife's verdict, and whether they agree."""

    sample: str
    kind: str
    truth: str
    verdict: str
    values_ok: bool
    matched: bool


@dataclass(frozen=True, slots=True)
class Figures:
    parsed: float
    failing: int
    failing_flagged: int
    healthy: int
    healthy_flagged: int
    battery_samples: int
    battery_matched: int
    forecast_checks: int
    forecast_coverage: float
    forecast_cutoffs_all_inside: float
    forecast_mae: float
    linear_coverage: float
    linear_mae: float
    interval: float

    @property
    def failing_rate(self) -> float:
        return self.failing_flagged / self.failing if self.failing else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.healthy_flagged / self.healthy if self.healthy else 0.0

    @property
    def battery_rate(self) -> float:
        return self.battery_matched / self.battery_samples if self.battery_samples else 1.0

    def problems(self) -> list[str]:
        out = []
        if self.parsed < MIN_PARSED:
            out.append(f"parsed {self.parsed:.0%} < {MIN_PARSED:.0%}")
        if self.failing_rate < MIN_FAILING_FLAGGED:
            out.append(f"failing drives flagged {self.failing_rate:.0%}")
        if self.false_alarm_rate > MAX_HEALTHY_FLAGGED:
            out.append(f"false alarms {self.false_alarm_rate:.1%}")
        if self.battery_rate < MIN_BATTERY_MATCHED:
            out.append(f"battery values matched {self.battery_rate:.0%}")
        if self.forecast_coverage < self.interval:
            out.append(f"forecast coverage {self.forecast_coverage:.0%} < {self.interval:.0%}")
        return out


def _expected(text: str) -> dict[str, float]:
    pairs = (item.split("=", 1) for item in text.split("|") if item)
    return {metric: float(value) for metric, value in pairs}


def _capture_row(record: dict[str, str]) -> Row:
    path = FIXTURES / record["sample"]
    kind, truth = record["kind"], record["truth"]
    try:
        result = inspect_files([path], now=_now())
    except CaptureError as err:
        refused = truth == "not-a-battery" and "not a system battery" in str(err)
        return Row(record["sample"], kind, truth, "refused", refused, refused)
    readings = {r.metric: r.value for c in result.captures for r in c.readings}
    values_ok = all(
        isinstance(readings.get(m), int | float) and abs(float(readings[m]) - v) < 0.5
        for m, v in _expected(record["expected"]).items()
    )
    component = "storage" if kind == "disk" else "battery"
    statuses = [c.status for c in result.assessment.components if c.component == component]
    verdict = "/".join(sorted({s.value for s in statuses})) or "none"
    if kind == "disk":
        flagged = any(s in (Status.WARN, Status.FAIL) for s in statuses)
        matched = values_ok and flagged == (truth == "failing")
    else:
        matched = values_ok and truth == "pack" and bool(statuses)
    return Row(record["sample"], kind, truth, verdict, values_ok, matched)


def _sample_row(record: dict[str, str]) -> Row | None:
    if record["truth"] not in ("failing", "healthy"):
        return None
    disk = "nvme0" if record["kind"] == "nvme" else "sda"
    latest: dict[tuple[str, str], float | str] = {
        (metric, disk): float(record[column])
        for column, metric in SAMPLE_METRICS.items()
        if record[column]
    }
    result = score_device(DeviceHistory(record["sample"], latest), now=_now())
    (storage,) = [c for c in result.components if c.component == "storage"]
    flagged = storage.status in (Status.WARN, Status.FAIL)
    return Row(
        f"scoring/smart_samples.csv: {record['sample']}",
        "disk (hand-read)",
        record["truth"],
        storage.status.value,
        True,
        flagged == (record["truth"] == "failing"),
    )


def _now() -> dt.date:
    return dt.date.fromisoformat(NOW)


def rows() -> list[Row]:
    with TRUTH.open(newline="", encoding="utf-8") as f:
        out = [_capture_row(r) for r in csv.DictReader(f)]
    with SAMPLES.open(newline="", encoding="utf-8") as f:
        out.extend(r for r in (_sample_row(rec) for rec in csv.DictReader(f)) if r is not None)
    return out


def figures(all_rows: Sequence[Row]) -> Figures:
    captures = [r for r in all_rows if not r.kind.endswith("(hand-read)")]
    disks = [r for r in all_rows if r.kind.startswith("disk")]
    failing = [r for r in disks if r.truth == "failing"]
    healthy = [r for r in disks if r.truth == "healthy"]
    packs = [r for r in all_rows if r.kind == "battery"]
    parsed = sum(r.verdict != "refused" or r.matched for r in captures) / len(captures)
    t = load_thresholds()
    params = FadeParams.from_table(t)
    real = held_out()
    new = run(real, fade_forecaster(params))
    old = run(real, linear_forecaster(params, t.number("trend.confidence")))
    return Figures(
        parsed=parsed,
        failing=len(failing),
        failing_flagged=sum(r.matched for r in failing),
        healthy=len(healthy),
        healthy_flagged=sum(not r.matched for r in healthy),
        battery_samples=len(packs),
        battery_matched=sum(r.matched for r in packs),
        forecast_checks=new.checks,
        forecast_coverage=new.coverage,
        forecast_cutoffs_all_inside=new.cutoffs_all_inside,
        forecast_mae=new.mae_points,
        linear_coverage=old.coverage,
        linear_mae=old.mae_points,
        interval=params.interval,
    )


def render_figures(f: Figures) -> str:
    return "\n".join(
        [
            "| figure | measured | target |",
            "|---|---|---|",
            f"| captures parsed | {f.parsed:.0%} | 100% |",
            f"| failing drives flagged (warn or fail) | {f.failing_flagged} of {f.failing} "
            f"({f.failing_rate:.0%}) | >= 95% |",
            f"| healthy drives flagged (false alarms) | {f.healthy_flagged} of {f.healthy} "
            f"({f.false_alarm_rate:.1%}) | <= 2% |",
            f"| battery captures whose values match the source | {f.battery_matched} of "
            f"{f.battery_samples} ({f.battery_rate:.0%}) | 100% |",
            f"| {f.interval:.0%} forecast interval holds the later level (held-out log) | "
            f"{f.forecast_coverage:.1%} of {f.forecast_checks} checks | >= {f.interval:.0%} |",
            f"| cut-offs whose every later level was inside (held-out log) | "
            f"{f.forecast_cutoffs_all_inside:.0%} | reported |",
            f"| forecast mean absolute error (held-out log) | {f.forecast_mae:.2f} points "
            f"(straight line: {f.linear_mae:.2f}) | reported |",
            f"| straight-line model's coverage, for comparison | {f.linear_coverage:.1%} | - |",
        ]
    )


def render_rows(all_rows: Sequence[Row]) -> str:
    lines = [
        "| sample | kind | truth | verdict | values match | matched |",
        "|---|---|---|---|---|---|",
    ]
    for r in all_rows:
        lines.append(
            f"| `{r.sample}` | {r.kind} | {r.truth} | {r.verdict} | "
            f"{'yes' if r.values_ok else 'no'} | {'yes' if r.matched else 'NO'} |"
        )
    return "\n".join(lines)


def generated() -> dict[str, str]:
    all_rows = rows()
    return {"figures": render_figures(figures(all_rows)), "samples": render_rows(all_rows)}


def _replace(text: str, name: str, table: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(\n<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"docs/validation.md has no {name} markers")
    return pattern.sub(lambda m: m.group(1) + table + m.group(2), text)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Validation on the suite's real samples.")
    parser.add_argument("--write", action="store_true", help="rewrite docs/validation.md")
    args = parser.parse_args(argv)
    tables = generated()
    if args.write:
        text = DOC.read_text(encoding="utf-8")
        for name, table in tables.items():
            text = _replace(text, name, table)
        DOC.write_text(text, encoding="utf-8")
    print(tables["figures"])
    print(f"judged as of {NOW} (day {day_number(_now())})")


if __name__ == "__main__":
    main()
