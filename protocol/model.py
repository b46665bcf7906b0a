"""The decoded form of a batch: plain dataclasses, no wire details."""

from __future__ import annotations

from dataclasses import dataclass, field


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
