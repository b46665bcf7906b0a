"""CSV exports: cells a spreadsheet will not run as formulas.

Hostnames, enrolment facts, register cells and token names come from
laptops and people; a cell starting with ``=``, ``+``, ``-``, ``@``, a tab
or a line break is run as a formula by Excel and LibreOffice (OWASP, "CSV
Injection"). Every CSV the collector writes passes its cells through
:func:`csv_safe`, which prefixes such a text cell with ``'``: spreadsheets
show it as text, and the register import takes the quote off again
(:func:`kitlife.collector.policy.register.parse_register`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kitlife.collector.policy.register import FORMULA_START


def csv_safe(value: Any) -> Any:
    """``value`` as a CSV cell no spreadsheet runs; numbers and non-text pass unchanged."""
    if isinstance(value, str) and value[:1] in FORMULA_START and value:
        return "'" + value
    return value


def csv_safe_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each row with every cell through :func:`csv_safe`."""
    return [{k: csv_safe(v) for k, v in row.items()} for row in rows]
