"""Embodied carbon of a new laptop (Boavizta) and what reuse avoids.

The new device's embodied carbon comes from "Boavizta environmental-footprint-data"
(ODbL; see data/BOAVIZTA.md): the product row whose normalised name best matches
the device's vendor and model, else the median of all laptop rows, and the
result says which. (Water and raw materials avoided are derived from the Defra
figures in the thresholds table by ``decide.footprint``.)
"""

from __future__ import annotations

import csv
import re
import statistics
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

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
    """Laptop rows with embodied carbon; matches are memoised per (vendor, model)."""

    products: tuple[Product, ...]
    median_kgco2e: float
    median_ratio: float
    _memo: dict[tuple[str | None, str | None], EmbodiedEstimate] = field(default_factory=dict)

    def embodied(self, vendor: str | None, model: str | None) -> EmbodiedEstimate:
        key = (vendor, model)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._match(vendor, model)
            self._memo[key] = hit
        return hit

    def _match(self, vendor: str | None, model: str | None) -> EmbodiedEstimate:
        fallback = EmbodiedEstimate(
            self.median_kgco2e,
            f"median of {len(self.products)} Boavizta laptop rows "
            f"({self.median_kgco2e:.0f} kg CO2e): model not matched",
            None,
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


def parse_boavizta_csv(text: str) -> BoaviztaIndex:
    """Index laptop rows: embodied = gwp_total x gwp_manufacturing_ratio (median ratio if empty)."""
    rows = [
        r
        for r in csv.DictReader(text.splitlines())
        if r.get("gwp_total") and r.get("subcategory", "Laptop") == "Laptop"
    ]
    ratios = [float(r["gwp_manufacturing_ratio"]) for r in rows if r["gwp_manufacturing_ratio"]]
    median_ratio = statistics.median(ratios)
    products = tuple(
        Product(
            r["manufacturer"],
            r["name"],
            float(r["gwp_total"]) * (float(r["gwp_manufacturing_ratio"] or median_ratio)),
            not r["gwp_manufacturing_ratio"],
            _tokens(r["name"]),
        )
        for r in rows
    )
    measured = [p.embodied_kgco2e for p in products if not p.ratio_estimated]
    return BoaviztaIndex(products, statistics.median(measured), median_ratio)


@cache
def default_boavizta() -> BoaviztaIndex:
    """The packaged Boavizta table's laptop rows, loaded once (one copy: collector/data/)."""
    text = (
        resources.files("kitlife.collector")
        .joinpath("data/boavizta-data-us.csv")
        .read_text(encoding="utf-8")
    )
    return parse_boavizta_csv(text)
