"""Rewrite the generated tables in docs/scoring.md from the packaged scoring data.

    .venv/bin/python scripts/scoring_tables.py

Replaces the text between ``<!-- thresholds:begin -->`` / ``<!-- thresholds:end -->``
and ``<!-- catalogue:begin -->`` / ``<!-- catalogue:end -->``; a test checks the
docs hold every threshold key and value.
"""

from __future__ import annotations

import re
from pathlib import Path

from kitlife.collector.policy.scoring import load_catalogue, load_thresholds

DOCS = Path(__file__).resolve().parents[1] / "docs" / "scoring.md"


def _replace(text: str, name: str, table: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"docs/scoring.md has no {name} markers")
    return pattern.sub(lambda m: m.group(1) + table + m.group(2), text)


def main() -> None:
    text = DOCS.read_text(encoding="utf-8")
    text = _replace(text, "thresholds", load_thresholds().markdown_table())
    text = _replace(text, "catalogue", load_catalogue().markdown_table())
    DOCS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
