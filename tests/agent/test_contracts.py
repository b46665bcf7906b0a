"""Contract: what the hardware sources emit on THIS machine fits the protocol registry.

Runs every collect_* against the real platform (in CI a Linux container: usually
no battery, no DMI, smartctl maybe missing or without permission). Whatever comes
back must be registered, typed as the registry says, and in a sane range; whatever
does not come back must say why.
"""

from __future__ import annotations

import pytest

from kitlife.agent.platforms import current_platform
from kitlife.agent.readings import SourceResult
from kitlife.agent.sources.table import SOURCES as DECLARED
from kitlife.agent.sources.table import Options, Where
from kitlife.protocol.registry import metric_by_name

SOURCES = {s.name: s for s in DECLARED if s.where is Where.CHILD}

PERCENT_UNITS = {"%"}
BOOL_UNITS = {"bool"}


@pytest.fixture(scope="module")
def results() -> dict[str, SourceResult]:
    platform = current_platform()
    return {name: s.start(platform, Options())() for name, s in SOURCES.items()}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_source_name_and_shape(results: dict[str, SourceResult], source: str) -> None:
    r = results[source]
    assert r.source == source
    assert r.readings or r.unavailable, "a source must say something: readings or reasons"
    for u in r.unavailable:
        assert u.source == source
        assert u.reason and len(u.reason) < 200


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_readings_fit_the_registry(results: dict[str, SourceResult], source: str) -> None:
    for reading in results[source].readings:
        metric = metric_by_name(reading.metric)  # KeyError names an unregistered metric
        if metric.kind == "text":
            assert isinstance(reading.value, str) and reading.value, reading
            continue
        assert isinstance(reading.value, int | float) and not isinstance(reading.value, bool), (
            reading
        )
        if metric.unit in PERCENT_UNITS:
            assert 0 <= reading.value <= 150, reading  # NVMe "percentage used" may pass 100
        if metric.unit in BOOL_UNITS:
            assert reading.value in (0, 1), reading
        if metric.kind == "counter":
            assert reading.value >= 0, reading
        if metric.unit == "degC":
            assert -40 <= reading.value <= 150, reading


def test_every_hardware_metric_name_is_registered() -> None:
    """Names used anywhere in emit code are registry rows (catches typos that never fire here)."""
    import re
    from pathlib import Path

    import kitlife.agent as agent_pkg

    root = Path(next(iter(agent_pkg.__path__)))
    names: set[str] = set()
    emitters = [*(root / "sources").glob("*.py"), *(root / "platforms").glob("*.py")]
    for py in [*emitters, root / "parsers" / "emit.py"]:
        text = py.read_text()
        names |= set(re.findall(r'\.add\(\s*"([a-z]+\.[a-z_0-9]+)"', text))
        names |= set(re.findall(r'\d+:\s*"([a-z]+\.[a-z_0-9]+)"', text))
    assert names
    for name in sorted(names):
        metric_by_name(name)


def test_end_of_support_is_not_reported_by_the_agent(results: dict[str, SourceResult]) -> None:
    """The agent states the OS's identity; when support ends is the collector's judgement."""
    sent = {r.metric for result in results.values() for r in result.readings}
    assert not sent & {"inv.os_end_of_support", "inv.os_days_to_end_of_support"}
    if "inv.os_release_name" in sent:
        assert "inv.os_build" in sent
