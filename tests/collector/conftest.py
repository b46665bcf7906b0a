"""Fixtures shared by the collector's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kitlife.collector.store import Store


def open_store(url: str) -> Iterator[Store]:
    """A migrated store on ``url``, closed afterwards (for fixtures on other URLs)."""
    s = Store.from_url(url)
    s.upgrade()
    yield s
    s.close()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store, once on an SQLite file and once on a fresh PostgreSQL schema."""
    yield from open_store(db_url)
