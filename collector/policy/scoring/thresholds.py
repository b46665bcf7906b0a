"""The thresholds table: every number the scoring judges by, as cited data.

Each row of ``data/thresholds.csv`` is ``key, value, unit, source, note``. Values
are numbers, except dates (ISO ``YYYY-MM-DD``). Rows named
``ata.afr.<metric>.<low>-<high>`` are Scrutiny's Backblaze-derived annual failure
rate buckets for one SATA attribute; they are gathered into :class:`AfrBuckets`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from kitlife.collector.policy.errors import ThresholdsError
from kitlife.collector.policy.tables import csv_rows, markdown_table, read_packaged

_COLUMNS = ("key", "value", "unit", "source", "note")
_AFR_PREFIX = "ata.afr."


@dataclass(frozen=True, slots=True)
class Threshold:
    """One cited row of the thresholds table."""

    key: str
    value: str
    unit: str
    source: str
    note: str


@dataclass(frozen=True, slots=True)
class AfrBucket:
    """Scrutiny bucket: raw values in (low, high] (or == low when low == high)."""

    low: float
    high: float
    afr_pct: float
    key: str


@dataclass(frozen=True, slots=True)
class AfrLookup:
    """The bucket a raw value fell in (``key``) and the row whose AFR applies (``afr_key``)."""

    afr_pct: float
    key: str
    afr_key: str


@dataclass(frozen=True, slots=True)
class AfrBuckets:
    """The buckets of one attribute, in table order."""

    metric: str
    buckets: tuple[AfrBucket, ...]

    def lookup(self, raw: float) -> AfrLookup:
        """The AFR for ``raw``, never lower than that of any lower bucket.

        The bucket is the first, in table order, whose ``high`` is at least ``raw``.
        Wherever Scrutiny finds a bucket (``low < raw <= high``, or ``raw == low`` when
        ``low == high``) this is the same one; it also closes Scrutiny's gaps (raw 1 on
        attribute 5, raw 0 on 188, which Scrutiny leaves unmatched and only warns on).
        A value past the last bucket takes the last bucket. The AFR is the running
        maximum over the buckets up to the matching one, because Backblaze's sparse
        high buckets are not monotone and more damage must never read as less risk.
        """
        running = self.buckets[0]
        for bucket in self.buckets:
            if bucket.afr_pct > running.afr_pct:
                running = bucket
            if raw <= bucket.high:
                return AfrLookup(running.afr_pct, bucket.key, running.key)
        return AfrLookup(running.afr_pct, self.buckets[-1].key, running.key)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The validated table; look values up by key."""

    rows: tuple[Threshold, ...]
    _by_key: dict[str, Threshold] = field(repr=False, compare=False)
    afr: dict[str, AfrBuckets] = field(repr=False, compare=False)
    _numbers: dict[str, float] = field(repr=False, compare=False)

    def row(self, key: str) -> Threshold:
        """The row for ``key``; KeyError names a missing key."""
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError(f"threshold {key!r} is not in the thresholds table") from None

    def number(self, key: str) -> float:
        """The numeric value of ``key``."""
        try:
            return self._numbers[key]
        except KeyError:
            return float(self.row(key).value)

    def markdown_table(self) -> str:
        """Every row as a Markdown table, for docs/scoring.md."""
        return markdown_table(
            _COLUMNS, [(r.key, r.value, r.unit, r.source, r.note) for r in self.rows]
        )


def _check_value(row_number: int, key: str, value: str) -> None:
    try:
        number = float(value)
    except ValueError:
        raise ThresholdsError(row_number, f"{key}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ThresholdsError(row_number, f"{key}: {value!r} is not finite")


def _afr_bucket(row_number: int, row: Threshold) -> tuple[str, AfrBucket]:
    rest = row.key[len(_AFR_PREFIX) :]
    metric, _, bounds = rest.rpartition(".")
    low_text, _, high_text = bounds.partition("-")
    try:
        low, high = float(low_text), float(high_text)
    except ValueError:
        raise ThresholdsError(row_number, f"{row.key}: bounds must be <low>-<high>") from None
    if not metric or low > high or low < 0:
        raise ThresholdsError(row_number, f"{row.key}: needs a metric and 0 <= low <= high")
    afr = float(row.value)
    if afr < 0:
        raise ThresholdsError(row_number, f"{row.key}: a failure rate cannot be negative")
    return f"ata.{metric}", AfrBucket(low, high, afr, row.key)


def parse_thresholds_csv(text: str) -> Thresholds:
    """Parse and validate a thresholds table; ThresholdsError names the bad row."""
    rows: list[Threshold] = []
    by_key: dict[str, Threshold] = {}
    buckets: dict[str, list[AfrBucket]] = {}
    for row_number, cells in csv_rows(text, _COLUMNS, ThresholdsError):
        row = Threshold(*cells)
        if not row.key or not row.source:
            raise ThresholdsError(row_number, "every row needs a key and a source")
        if row.key in by_key:
            raise ThresholdsError(row_number, f"duplicate key {row.key}")
        _check_value(row_number, row.key, row.value)
        if row.key.startswith(_AFR_PREFIX):
            metric, bucket = _afr_bucket(row_number, row)
            buckets.setdefault(metric, []).append(bucket)
        rows.append(row)
        by_key[row.key] = row
    afr = {metric: AfrBuckets(metric, tuple(b)) for metric, b in buckets.items()}
    numbers = {r.key: float(r.value) for r in rows}
    return Thresholds(tuple(rows), by_key, afr, numbers)


def load_thresholds(path: Path | None = None) -> Thresholds:
    """The packaged thresholds table, or the one at ``path``."""
    if path is not None:
        return parse_thresholds_csv(path.read_text(encoding="utf-8"))
    return parse_thresholds_csv(read_packaged("thresholds.csv"))
