"""The privacy manifest (docs/privacy.md) lists every field the agent can send.

Two ways to fail: a registry metric (anyone's, whatever block) without a row,
purpose and default; or a source that, run on this machine, emits a field the
registry or the manifest does not know, or a text value or component that
looks like a path, a URL, an e-mail address or the login name.
"""

from __future__ import annotations

import getpass
import re
from pathlib import Path

import pytest

from kitlife.agent.cycle import collect_into, default_sources, run_source
from kitlife.agent.spool import Spool
from kitlife.protocol import REGISTRY, Metric, metric_by_id

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|\s*$")


def parse_manifest(text: str) -> dict[str, tuple[str, str, str]]:
    """Field -> (unit, purpose, default) from the table rows."""
    rows = {}
    for line in text.splitlines():
        m = ROW.match(line.strip())
        if m:
            rows[m.group(1)] = (m.group(2).strip(), m.group(3).strip(), m.group(4).strip().lower())
    return rows


def manifest_problems(text: str, registry: tuple[Metric, ...]) -> list[str]:
    rows = parse_manifest(text)
    problems = []
    for metric in registry:
        row = rows.get(metric.name)
        if row is None:
            problems.append(f"{metric.name} (id {metric.id}) is not in docs/privacy.md")
            continue
        unit, purpose, default = row
        if unit != (metric.unit or "text"):
            problems.append(f"{metric.name}: unit {unit!r}, registry says {metric.unit!r}")
        if len(purpose) < 10:
            problems.append(f"{metric.name}: no purpose given")
        if default not in {"on", "off"}:
            problems.append(f"{metric.name}: default must be on or off, not {default!r}")
    known = {m.name for m in registry}
    problems.extend(f"{name}: listed but not in the registry" for name in rows if name not in known)
    return problems


def test_every_registry_metric_is_in_the_manifest() -> None:
    problems = manifest_problems(MANIFEST.read_text(encoding="utf-8"), REGISTRY)
    assert not problems, "\n".join(problems)


def test_the_manifest_check_can_fail() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    without = "\n".join(line for line in text.splitlines() if "`feedback.score`" not in line)
    assert manifest_problems(without, REGISTRY) == [
        "feedback.score (id 700) is not in docs/privacy.md"
    ]
    vague = text.replace("| on |", "| maybe |", 1)
    assert any("default must be" in p for p in manifest_problems(vague, REGISTRY))


def test_crash_names_are_off_by_default() -> None:
    rows = parse_manifest(MANIFEST.read_text(encoding="utf-8"))
    assert rows["rel.app_crashes_by_exe_24h"][2] == "off"
    from kitlife.agent.config import AgentConfig

    assert AgentConfig().report_crash_names is False


# Paths (POSIX with two or more parts, home, drive letters, UNC), URLs, e-mail
# addresses. "CPU @ 2.60GHz" (an '@' between spaces) is a CPU model, not an address.
_PATHLIKE = re.compile(r"(^|\s)(/[^\s]*/|~/|[A-Za-z]:\\)|\\\\|://|[^\s@]+@[^\s@]+\.[^\s@]+")


def looks_personal(value: str, login: str) -> str | None:
    if _PATHLIKE.search(value):
        return "looks like a path, URL or address"
    if login and value.strip().lower() == login.lower():
        return "is the login name"
    return None


def test_looks_personal_catches_the_obvious() -> None:
    for bad in ("/home/alice/x", "C:\\Users\\bob", "https://x.example", "bob@example.org"):
        assert looks_personal(bad, "zed"), bad
    assert looks_personal("alice", "alice")
    for ok in (
        "6.18.44-fc-v657",
        "Linux",
        "x86_64",
        "OUTLOOK.EXE",
        "cpu",
        "BAT0",
        "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz",
    ):
        assert looks_personal(ok, "alice") is None, ok


@pytest.mark.parametrize("crash_names", [False, True])
def test_every_emitted_field_is_registered_listed_and_impersonal(
    tmp_path: Path, crash_names: bool
) -> None:
    rows = parse_manifest(MANIFEST.read_text(encoding="utf-8"))
    login = getpass.getuser()
    sources = default_sources(0.1, report_crash_names=crash_names)
    emitted = [r for name, fn in sources.items() for r in run_source(name, fn).readings]
    assert emitted, "no source produced anything on this machine"
    for reading in emitted:
        assert reading.metric in rows, f"{reading.metric} emitted but not in docs/privacy.md"
        if not crash_names:
            assert rows[reading.metric][2] == "on", f"{reading.metric} is off by default"
    # And what an upload would really carry, decoded from the spool.
    with Spool(tmp_path / "spool.db") as spool:
        collect_into(spool, sources)
        batch = spool.preview("device", "test", 100_000)
    assert batch is not None
    for s in batch.series:
        m = metric_by_id(s.metric_id)
        assert m is not None and m.name in rows
        assert looks_personal(s.component, login) is None, (m.name, s.component)
    for u in batch.unavailable:  # reasons are uploaded too
        assert looks_personal(f"{u.component} {u.reason}", login) is None, (u.source, u.reason)
    for t in batch.texts:
        m = metric_by_id(t.metric_id)
        assert m is not None and m.name in rows
        for value in (t.value, t.component):
            assert looks_personal(value, login) is None, (m.name, value)
