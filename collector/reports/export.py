"""CSV output shared by the CLI and the API, with every cell neutralised.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a line break is
read as a formula by spreadsheet programs (OWASP, "CSV Injection"), and
hostnames, reasons, enrolment facts, register cells and token names are written
by people and agents we do not control. Such cells get a leading apostrophe, as
OWASP recommends; numbers are written as numbers (a negative number is data,
not a formula). The set of formula starts lives once, in
:data:`kitlife.collector.policy.register.FORMULA_START`, because the register
import takes the apostrophe off again so that an export imports unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kitlife.collector.policy.register import FORMULA_START


def csv_safe(cell: Any) -> Any:
    """The cell as a spreadsheet will read it as data: numbers as they are, text neutralised."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return str(cell).lower()
    if isinstance(cell, int | float):
        return cell
    if isinstance(cell, list | tuple):
        text = " | ".join(str(c) for c in cell)
    elif isinstance(cell, dict):
        text = json.dumps(cell, sort_keys=True)
    else:
        text = str(cell)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_safe_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each row with every cell through :func:`csv_safe` (for a ``csv.DictWriter``)."""
    return [{k: csv_safe(v) for k, v in row.items()} for row in rows]


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV with a header line, only ``columns``, every cell through :func:`csv_safe`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_safe(c) for c in columns])
    for row in rows:
        writer.writerow([csv_safe(row.get(c)) for c in columns])
    return out.getvalue()
