"""The scoring package's exceptions, all in one place.

ScoringError                 base; never raised for bad readings (those become
                             data-quality notes on the device)
├── ThresholdsError          the thresholds table is malformed (row number and reason)
└── CatalogueError           the repair catalogue is malformed (row number and reason)
"""

from __future__ import annotations


class ScoringError(ValueError):
    """Base of every error the scoring package raises."""


class TableError(ScoringError):
    """A packaged or imported CSV table is malformed; ``row`` is 1-based, counting the header."""

    def __init__(self, table: str, row: int, reason: str) -> None:
        super().__init__(f"{table} row {row}: {reason}")
        self.table = table
        self.row = row
        self.reason = reason


class ThresholdsError(TableError):
    """The thresholds table is malformed."""

    def __init__(self, row: int, reason: str) -> None:
        super().__init__("thresholds", row, reason)


class CatalogueError(TableError):
    """The repair catalogue is malformed."""

    def __init__(self, row: int, reason: str) -> None:
        super().__init__("repair catalogue", row, reason)
