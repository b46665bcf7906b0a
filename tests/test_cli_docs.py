"""The command reference in docs/ is the commands' own help, word for word."""

from __future__ import annotations

from pathlib import Path

from tests.cli_reference import render

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def test_docs_cli_md_matches_the_commands() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run scripts/cli-docs"
