"""Embodied carbon of laptops from the Boavizta product-footprint table.

The fleet report and the redeploy planner need one number per device model:
the manufacture (embodied) carbon a new one would cost. Manufacturers publish
it; Boavizta collects those reports ("Boavizta environmental-footprint-data",
ODbL 1.0, see collector/data/BOAVIZTA.md). embodied = gwp_total x
gwp_manufacturing_ratio; rows without a ratio use the median ratio of the
laptop rows that have one, and a model not in the table uses the median
laptop embodied figure. Both fallbacks are stated in docs/footprint.md.

The scoring engine (collector/scoring/carbon.py, another branch) carries its
own index over the same data; when both are merged this module should defer
to it. Until then it is kept deliberately small.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

SOURCE = "Boavizta environmental-footprint-data (ODbL 1.0), commit 61323eb"


@dataclass(frozen=True, slots=True)
class LaptopFootprint:
    vendor: str
    name: str
    year: int | None
    gwp_total_kg: float
    manufacturing_ratio: float | None
    screen_in: float | None
    storage_gb: int | None

    def embodied_kg(self, fallback_ratio: float) -> float:
        ratio = self.manufacturing_ratio if self.manufacturing_ratio is not None else fallback_ratio
        return self.gwp_total_kg * ratio


def _float(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return None


_YEAR = re.compile(r"(19|20)\d\d")
_GB = re.compile(r"(\d+)\s*(GB|TB)", re.IGNORECASE)


def _year(text: str) -> int | None:
    found = _YEAR.search(text)
    return int(found.group(0)) if found else None


def _storage_gb(text: str) -> int | None:
    found = _GB.search(text)
    if not found:
        return None
    n = int(found.group(1))
    return n * 1024 if found.group(2).upper() == "TB" else n


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@dataclass(frozen=True, slots=True)
class BoaviztaLaptops:
    rows: tuple[LaptopFootprint, ...]
    fallback_ratio: float
    median_embodied_kg: float
    by_name: dict[tuple[str, str], LaptopFootprint] = field(default_factory=dict, compare=False)

    def find(self, vendor: str, model: str) -> LaptopFootprint | None:
        """The row whose vendor and name match exactly (case and punctuation aside)."""
        return self.by_name.get((_norm(vendor), _norm(model)))

    def embodied_kg(self, vendor: str, model: str) -> tuple[float, str]:
        """Embodied kg CO2e of a new device of this model, and how it was found."""
        row = self.find(vendor, model)
        if row is None:
            return self.median_embodied_kg, "median Boavizta laptop (model not in the table)"
        if row.manufacturing_ratio is None:
            return (
                row.embodied_kg(self.fallback_ratio),
                f"Boavizta gwp_total x median manufacturing ratio {self.fallback_ratio:.2f}",
            )
        return row.embodied_kg(self.fallback_ratio), "Boavizta gwp_total x manufacturing ratio"


def parse_laptops(text: str) -> BoaviztaLaptops:
    """The laptop rows of a Boavizta CSV; other products are left out."""
    rows: list[LaptopFootprint] = []
    for rec in csv.DictReader(io.StringIO(text)):
        if rec.get("subcategory") != "Laptop":
            continue
        total = _float(rec.get("gwp_total", ""))
        if total is None or total <= 0:
            continue
        rows.append(
            LaptopFootprint(
                vendor=rec["manufacturer"].strip(),
                name=rec["name"].strip(),
                year=_year(rec.get("report_date", "")),
                gwp_total_kg=total,
                manufacturing_ratio=_float(rec.get("gwp_manufacturing_ratio", "")),
                screen_in=_float(rec.get("screen_size", "")),
                storage_gb=_storage_gb(rec.get("hard_drive", "")),
            )
        )
    if not rows:
        raise ValueError("no laptop rows with a gwp_total in the Boavizta table")
    ratios = [r.manufacturing_ratio for r in rows if r.manufacturing_ratio is not None]
    fallback = statistics.median(ratios) if ratios else 0.8
    median_embodied = statistics.median(r.embodied_kg(fallback) for r in rows)
    by_name = {(_norm(r.vendor), _norm(r.name)): r for r in rows}
    return BoaviztaLaptops(tuple(rows), fallback, median_embodied, by_name)


@lru_cache(maxsize=1)
def default_laptops() -> BoaviztaLaptops:
    """The copy shipped in collector/data (read once per process)."""
    text = (
        resources.files("kitlife.collector")
        .joinpath("data/boavizta-data-us.csv")
        .read_text(encoding="utf-8")
    )
    return parse_laptops(text)
