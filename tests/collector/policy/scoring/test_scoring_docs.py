"""docs/scoring.md lists every threshold with its value, so the docs cannot drift."""

from __future__ import annotations

from pathlib import Path

from kitlife.collector.policy.scoring import load_thresholds

DOCS = Path(__file__).resolve().parents[4] / "docs" / "scoring.md"


def test_docs_contain_the_generated_thresholds_table() -> None:
    assert load_thresholds().markdown_table() in DOCS.read_text(encoding="utf-8")


def test_docs_name_every_key_with_its_value() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for row in load_thresholds().rows:
        assert f"| {row.key} | {row.value} |" in text, row.key
