"""The repair catalogue: parts, what they reset, cost, labour and embodied carbon.

``data/repair_catalogue.csv`` holds indicative defaults; an administrator
imports their own with :func:`parse_catalogue_csv` (wired to the CLI elsewhere).
Columns: ``part, resets, cost_gbp, labour_min, embodied_kgco2e, indicative, source,
note``. An empty ``embodied_kgco2e`` means "not measured" and is reported so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kitlife.collector.policy.errors import CatalogueError
from kitlife.collector.policy.tables import csv_rows, markdown_table, read_packaged

_COLUMNS = (
    "part",
    "resets",
    "cost_gbp",
    "labour_min",
    "embodied_kgco2e",
    "indicative",
    "source",
    "note",
)
_YES = {"yes", "true", "1"}
_NO = {"no", "false", "0"}


@dataclass(frozen=True, slots=True)
class Part:
    """One repair: ``resets`` is the component it restores to as-new."""

    part: str
    resets: str
    cost_gbp: float
    labour_min: float
    embodied_kgco2e: float | None
    indicative: bool
    source: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Parts by name; :meth:`cheapest_for` picks the repair for a component."""

    parts: tuple[Part, ...]

    def by_name(self, part: str) -> Part | None:
        return next((p for p in self.parts if p.part == part), None)

    def markdown_table(self) -> str:
        """Every part as a Markdown table, for docs/scoring.md."""
        return markdown_table(
            _COLUMNS,
            [
                (
                    p.part,
                    p.resets,
                    f"{p.cost_gbp:g}",
                    f"{p.labour_min:g}",
                    "" if p.embodied_kgco2e is None else f"{p.embodied_kgco2e:g}",
                    "yes" if p.indicative else "no",
                    p.source,
                    p.note,
                )
                for p in self.parts
            ],
        )

    def cheapest_for(self, component: str) -> Part | None:
        """The cheapest part that resets ``component`` (cost, then labour), or None."""
        candidates = [p for p in self.parts if p.resets == component]
        return min(candidates, key=lambda p: (p.cost_gbp, p.labour_min), default=None)


def _number(row: int, column: str, text: str, *, optional: bool = False) -> float | None:
    if not text and optional:
        return None
    try:
        value = float(text)
    except ValueError:
        raise CatalogueError(row, f"{column} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise CatalogueError(row, f"{column} {text!r} must be a finite number >= 0")
    return value


def _parse_row(row: int, cells: list[str]) -> Part:
    part, resets, cost, labour, carbon, indicative, source, note = cells
    if not part or not resets:
        raise CatalogueError(row, "part and resets must not be empty")
    if indicative.lower() not in _YES | _NO:
        raise CatalogueError(row, f"indicative {indicative!r} must be yes or no")
    cost_gbp = _number(row, "cost_gbp", cost)
    labour_min = _number(row, "labour_min", labour)
    assert cost_gbp is not None and labour_min is not None  # not optional
    return Part(
        part=part,
        resets=resets,
        cost_gbp=cost_gbp,
        labour_min=labour_min,
        embodied_kgco2e=_number(row, "embodied_kgco2e", carbon, optional=True),
        indicative=indicative.lower() in _YES,
        source=source,
        note=note,
    )


def parse_catalogue_csv(text: str) -> Catalogue:
    """Parse a catalogue; CatalogueError names the first bad row (1-based, header is 1)."""
    parts: list[Part] = []
    seen: set[str] = set()
    for row, cells in csv_rows(text, _COLUMNS, CatalogueError):
        part = _parse_row(row, cells)
        if part.part in seen:
            raise CatalogueError(row, f"duplicate part {part.part}")
        seen.add(part.part)
        parts.append(part)
    if not parts:
        raise CatalogueError(1, "the catalogue has no parts")
    return Catalogue(tuple(parts))


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The packaged default catalogue, or the one at ``path``."""
    if path is not None:
        return parse_catalogue_csv(path.read_text(encoding="utf-8"))
    return parse_catalogue_csv(read_packaged("repair_catalogue.csv"))
