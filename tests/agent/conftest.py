"""Shared test helpers: where the real captured fixtures live."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_bytes(kind: str, name: str) -> bytes:
    """The captured file exactly as stored (see tests/fixtures/PROVENANCE.md)."""
    return (FIXTURES / kind / name).read_bytes()
