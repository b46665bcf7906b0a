"""The storage rules on values read by hand from real smartctl outputs (see PROVENANCE.md)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.validation import SAMPLE_METRICS as METRICS
from kitlife.collector.policy.scoring import DeviceHistory, Status, score_device
from tests.collector.policy.scoring.conftest import NOW

SAMPLES = Path(__file__).resolve().parents[3] / "fixtures" / "scoring" / "smart_samples.csv"


def _rows() -> list[dict[str, str]]:
    with SAMPLES.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _storage_status(row: dict[str, str]) -> Status:
    disk = "nvme0" if row["kind"] == "nvme" else "sda"
    latest: dict[tuple[str, str], float | str] = {
        (metric, disk): float(row[column]) for column, metric in METRICS.items() if row[column]
    }
    result = score_device(DeviceHistory(row["sample"], latest), now=NOW)
    return next(c for c in result.components if c.component == "storage").status


@pytest.mark.parametrize(
    "row", [r for r in _rows() if r["truth"] == "failing"], ids=lambda r: r["sample"]
)
def test_drive_with_uncorrectable_errors_is_flagged(row: dict[str, str]) -> None:
    assert _storage_status(row) is Status.FAIL


@pytest.mark.parametrize(
    "row", [r for r in _rows() if r["truth"] == "healthy"], ids=lambda r: r["sample"]
)
def test_healthy_drive_is_not_flagged(row: dict[str, str]) -> None:
    assert _storage_status(row) is Status.OK


def test_packed_seagate_command_timeout_is_decoded_not_flagged() -> None:
    # 188 raw 4295032853 is three packed 16-bit counters (1/1/21): 21 timeouts, in the
    # 0-100 bucket (2.5% AFR). Read as one number it was 4.3 billion and failed the drive.
    row = next(r for r in _rows() if r["sample"] == "seagate-attr-example")
    assert _storage_status(row) is Status.OK
