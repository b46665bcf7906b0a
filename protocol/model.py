"""The decoded form of a batch: plain dataclasses, no wire details."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Series:
    """Numeric samples of one metric on one component, oldest first.

    ``values`` are the dequantised numbers; ``exponent`` is the power of ten the
    values were quantised to on the wire (e.g. -1 keeps one decimal).
    """

    metric_id: int
    component: str
    timestamps_s: tuple[int, ...]
    values: tuple[float, ...]
    exponent: int = 0


@dataclass(frozen=True, slots=True)
class Text:
    """A textual reading (inventory, self-assessment) at one instant."""

    metric_id: int
    component: str
    t_s: int
    value: str


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A source that could not be read this cycle, and why (never a crash)."""

    source: str
    component: str
    reason: str


@dataclass(frozen=True, slots=True)
class Batch:
    """One upload: every reading a device spooled since its previous batch.

    ``batch_id`` (spool id + sequence) is stable across retries, so the
    collector can store each batch exactly once.
    """

    device_id: str
    spool_id: str
    seq: int
    sent_at_s: int
    agent_version: str
    series: tuple[Series, ...] = field(default_factory=tuple)
    texts: tuple[Text, ...] = field(default_factory=tuple)
    unavailable: tuple[Unavailable, ...] = field(default_factory=tuple)

    @property
    def batch_id(self) -> str:
        return f"{self.spool_id}:{self.seq}"

    @property
    def n_points(self) -> int:
        return sum(len(s.values) for s in self.series) + len(self.texts)


class DayAggregate(NamedTuple):
    """One series' readings on one UTC day, as the collector rolls them up.

    A tuple rather than a dataclass: a typical batch makes 25 of these per
    request on the collector's hot path, and a tuple is the cheapest to build
    and to hand to the database driver.
    """

    metric_id: int
    component: str
    day: int  # days since 1970-01-01 UTC
    n: int
    total: float
    lo: float
    hi: float
    last: float  # the value at last_s (the later one among equal times)
    last_s: int


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What the collector derives from a batch: per-day aggregates instead of every value.

    Produced by :func:`kitlife.protocol.decode_summary` with the same validation
    as a full decode; the raw bytes themselves are what the collector keeps.
    """

    device_id: str
    spool_id: str
    seq: int
    sent_at_s: int
    agent_version: str
    days: tuple[DayAggregate, ...]
    texts: tuple[Text, ...]
    unavailable: tuple[Unavailable, ...]
    n_points: int
    first_s: int  # oldest reading's time (sent_at_s when the batch is empty)
    last_s: int  # newest reading's time

    @property
    def batch_id(self) -> str:
        return f"{self.spool_id}:{self.seq}"
