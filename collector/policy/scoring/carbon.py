"""Embodied carbon of a new laptop (Boavizta) and what reuse avoids.

The one index of "Boavizta environmental-footprint-data" (ODbL; see
collector/policy/data/BOAVIZTA.md, shipped once as collector/policy/data/boavizta-data-us.csv):
its laptop rows are read here, once per process, and both users look them up
in the same :class:`BoaviztaIndex`:

* scoring, :meth:`BoaviztaIndex.embodied`: the row whose normalised name best
  matches the device's vendor and model;
* the fleet report, the redeploy planner and the simulator,
  :meth:`BoaviztaIndex.embodied_kg` and :attr:`BoaviztaIndex.rows`: an exact
  vendor + name match (case and punctuation aside).

A model neither finds takes one fallback, the same for both: the median embodied
figure of the laptop rows whose manufacturing ratio is published
(:attr:`BoaviztaIndex.median_kgco2e`; docs/footprint.md says why these rows).

Embodied = gwp_total x gwp_manufacturing_ratio; rows without a ratio use the
median ratio of the rows that have one. (Water and raw materials avoided are
derived from the Defra figures in the thresholds table by ``policy/footprint.py``.)
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from dataclasses import dataclass, field
from functools import cache

from kitlife.collector.policy.tables import read_packaged

SOURCE = "Boavizta environmental-footprint-data (ODbL 1.0), commit 61323eb"

_TOKEN = re.compile(r"[a-z0-9]+")
_NOISE = {
    "inc",
    "corp",
    "corporation",
    "co",
    "ltd",
    "computer",
    "technologies",
    "the",
    "notebook",
    "inch",
    "cpu",
    "gb",
    "with",
    "and",
}
_VENDOR_ALIASES = {
    "hewlett": "hp",
    "hewlett-packard": "hp",
    "lenovo": "lenovo",
    "dell": "dell",
    "apple": "apple",
    "microsoft": "microsoft",
    "asus": "asus",
    "asustek": "asus",
    "google": "google",
    "acer": "acer",
    "hp": "hp",
}
MIN_SIMILARITY = 0.5


def _tokens(text: str) -> frozenset[str]:
    return frozenset(t for t in _TOKEN.findall(text.lower()) if t not in _NOISE)


def _vendor(text: str | None) -> str | None:
    if not text:
        return None
    first = text.lower().split()[0] if text.split() else ""
    return _VENDOR_ALIASES.get(first, first or None)


@dataclass(frozen=True, slots=True)
class LaptopFootprint:
    """One laptop row of the table, as published."""

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


@dataclass(frozen=True, slots=True)
class Product:
    manufacturer: str
    name: str
    embodied_kgco2e: float
    ratio_estimated: bool
    tokens: frozenset[str]


@dataclass(frozen=True, slots=True)
class EmbodiedEstimate:
    """kg CO2e to make a new device like this one, and the basis in words."""

    kgco2e: float
    basis: str
    matched: str | None


@dataclass(slots=True)
class BoaviztaIndex:
    """Laptop rows with embodied carbon; fuzzy matches are memoised per (vendor, model)."""

    rows: tuple[LaptopFootprint, ...]
    products: tuple[Product, ...]
    # Median ratio of the rows that have one: stands in for the rows that do not.
    median_ratio: float
    # The one fallback for a model not found: median embodied of the rows with a
    # published manufacturing ratio (none of them leans on the imputed median ratio).
    median_kgco2e: float
    # How many rows that median is taken over (every explanation says so).
    measured_rows: int = 0
    by_name: dict[tuple[str, str], LaptopFootprint] = field(default_factory=dict)
    _memo: dict[tuple[str | None, str | None], EmbodiedEstimate] = field(default_factory=dict)

    def find(self, vendor: str, model: str) -> LaptopFootprint | None:
        """The row whose vendor and name match exactly (case and punctuation aside)."""
        return self.by_name.get((_norm(vendor), _norm(model)))

    def embodied_kg(self, vendor: str, model: str) -> tuple[float, str]:
        """Embodied kg CO2e of a new device of this exact model, and how it was found."""
        row = self.find(vendor, model)
        if row is None:
            return self.median_kgco2e, self.fallback_basis + ": model not in the table"
        if row.manufacturing_ratio is None:
            return (
                row.embodied_kg(self.median_ratio),
                f"Boavizta gwp_total x median manufacturing ratio {self.median_ratio:.2f}",
            )
        return row.embodied_kg(self.median_ratio), "Boavizta gwp_total x manufacturing ratio"

    @property
    def source(self) -> str:
        """The table's name, licence and commit, for every figure made from it."""
        return SOURCE

    @property
    def fallback_basis(self) -> str:
        """How the fallback figure is made, in words (every explanation that uses it says so)."""
        return (
            f"median of the {self.measured_rows} Boavizta laptop rows with a measured "
            f"manufacturing share ({self.median_kgco2e:.0f} kg CO2e)"
        )

    def embodied(self, vendor: str | None, model: str | None) -> EmbodiedEstimate:
        key = (vendor, model)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._match(vendor, model)
            self._memo[key] = hit
        return hit

    def _match(self, vendor: str | None, model: str | None) -> EmbodiedEstimate:
        fallback = EmbodiedEstimate(
            self.median_kgco2e, self.fallback_basis + ": model not matched", None
        )
        if not model:
            return fallback
        maker = _vendor(vendor)
        wanted = _tokens(model) - ({maker} if maker else set())
        numbers = {t for t in wanted if any(c.isdigit() for c in t)}
        if not wanted:
            return fallback
        # Score: share of the device's name tokens found in the row, then Jaccard to prefer the
        # row with the fewest extra words. Every token with a digit (model number) must match.
        scored: list[tuple[tuple[float, float], Product]] = []
        for product in self.products:
            if maker and _vendor(product.manufacturer) != maker:
                continue
            if not numbers <= product.tokens:
                continue
            shared = len(wanted & product.tokens)
            scored.append(((shared / len(wanted), shared / len(wanted | product.tokens)), product))
        if not scored:
            return fallback
        best_score = max(s for s, _ in scored)
        best = best_score[0]
        if best < MIN_SIMILARITY:
            return fallback
        ties = [p for s, p in scored if s == best_score]
        kg = statistics.median(p.embodied_kgco2e for p in ties)
        estimated = any(p.ratio_estimated for p in ties)
        note = (
            f"; manufacture ratio estimated as the laptop median {self.median_ratio:.2f}"
            if estimated
            else ""
        )
        return EmbodiedEstimate(
            kg,
            f"Boavizta row '{ties[0].manufacturer} {ties[0].name}' (name similarity {best:.2f}"
            f"{f', median of {len(ties)} configurations' if len(ties) > 1 else ''}){note}",
            f"{ties[0].manufacturer} {ties[0].name}",
        )


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


def parse_boavizta_csv(text: str) -> BoaviztaIndex:
    """Index the laptop rows with a positive gwp_total; other products are left out."""
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
    median_ratio = statistics.median(ratios) if ratios else 0.8
    products = tuple(
        Product(
            r.vendor,
            r.name,
            r.embodied_kg(median_ratio),
            r.manufacturing_ratio is None,
            _tokens(r.name),
        )
        for r in rows
    )
    measured = [p.embodied_kgco2e for p in products if not p.ratio_estimated]
    return BoaviztaIndex(
        rows=tuple(rows),
        products=products,
        median_ratio=median_ratio,
        median_kgco2e=statistics.median(measured or [p.embodied_kgco2e for p in products]),
        measured_rows=len(measured) or len(products),
        by_name={(_norm(r.vendor), _norm(r.name)): r for r in rows},
    )


@cache
def default_boavizta() -> BoaviztaIndex:
    """The packaged Boavizta table's laptop rows, loaded once (one copy: collector/policy/data/)."""
    return parse_boavizta_csv(read_packaged("boavizta-data-us.csv"))
