"""The store is the one door to the database: no collector code above it imports SQLAlchemy."""

from __future__ import annotations

import ast
from pathlib import Path

COLLECTOR = Path(__file__).resolve().parents[2] / "collector"
# tools/simulate.py still tunes SQLite's durability through an engine event; it is
# being reworked apart from this change and leaves this list when it moves into the store.
NOT_YET = {"tools/simulate.py"}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_only_the_store_imports_sqlalchemy() -> None:
    offenders = sorted(
        rel
        for path in COLLECTOR.rglob("*.py")
        if (rel := path.relative_to(COLLECTOR).as_posix()).split("/")[0] != "store"
        and rel not in NOT_YET
        and any(name.split(".")[0] == "sqlalchemy" for name in _imports(path))
    )
    assert offenders == []
