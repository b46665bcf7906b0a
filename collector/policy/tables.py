"""What the packaged CSV tables share: reading them, walking their rows, rendering them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import resources

from kitlife.collector.policy.errors import TableError


def read_packaged(name: str) -> str:
    """The text of ``collector/policy/data/<name>``: the one home of every cited table."""
    data = resources.files("kitlife.collector.policy").joinpath(f"data/{name}")
    return data.read_text(encoding="utf-8")


def csv_rows(
    text: str, columns: Sequence[str], error: Callable[[int, str], TableError]
) -> Iterator[tuple[int, list[str]]]:
    """Data rows as (row number, stripped cells); the header must be ``columns``.

    Row numbers are 1-based and count the header, as a spreadsheet shows them; blank
    lines are skipped; a row with the wrong number of fields raises ``error(row, reason)``.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != tuple(columns):
        raise error(1, f"header must be {','.join(columns)}")
    for row, cells in enumerate(reader, start=2):
        if not cells:
            continue
        if len(cells) != len(columns):
            raise error(row, f"expected {len(columns)} fields, got {len(cells)}")
        yield row, [c.strip() for c in cells]


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table; pipes inside cells are escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
