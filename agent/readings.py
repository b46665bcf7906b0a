"""What a source hands the agent: readings with units from the registry, or reasons.

A source never raises out of a cycle: anything missing, not permitted or broken
becomes an :class:`Unavailable` with a short reason (``no battery``,
``smartctl not installed``, ``permission denied``, ``timeout``,
``unparseable (...)``), and the rest of the cycle goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kitlife.protocol import Unavailable

Value = float | int | str


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of a registry metric (``metric`` is its name) on one component."""

    metric: str
    value: Value
    component: str = ""


@dataclass(slots=True)
class SourceResult:
    """Everything one source produced in one cycle."""

    source: str
    readings: list[Reading] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)

    def add(self, metric: str, value: Value | None, component: str = "") -> None:
        """Add a reading; ``None`` (the OS did not say) is skipped, not sent."""
        if value is not None:
            self.readings.append(Reading(metric, value, component))

    def missing(self, reason: str, component: str = "") -> None:
        self.unavailable.append(Unavailable(self.source, component, reason))
