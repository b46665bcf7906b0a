"""The experience sources end to end over injected roots and captured tool output.

The tools are replaced by a runner that replays captured output (the thing
under test is the source's logic, not journalctl), and /proc by a temp root.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from kitlife.agent.commands import Output
from kitlife.agent.platforms.linux import Linux
from kitlife.agent.platforms.windows import Windows
from kitlife.agent.readings import SourceResult
from kitlife.agent.sources.boot import BootSource
from kitlife.agent.sources.reliability import ReliabilitySource
from kitlife.agent.sources.responsiveness import ResponsivenessSampler, percentile
from kitlife.agent.sources.use import UseSampler

F = Path(__file__).resolve().parents[2] / "fixtures"


def values(result: SourceResult) -> dict[tuple[str, str], float | int | str]:
    return {(r.metric, r.component): r.value for r in result.readings}


def reasons(result: SourceResult) -> dict[str, str]:
    return {u.component: u.reason for u in result.unavailable}


def replay(answers: dict[str, Output]) -> Callable[[list[str]], Output]:
    def runner(argv: list[str]) -> Output:
        key = " ".join(argv[:2])
        return answers.get(key, Output(reason=f"{argv[0]} not installed"))

    return runner


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _proc_root(tmp_path: Path) -> Path:
    (tmp_path / "proc" / "pressure").mkdir(parents=True)
    for res in ("cpu", "memory", "io"):
        shutil.copy(F / "psi" / res, tmp_path / "proc" / "pressure" / res)
    shutil.copy(F / "diskstats" / "vm_diskstats.txt", tmp_path / "proc" / "diskstats")
    (tmp_path / "sys" / "block" / "vda").mkdir(parents=True)
    (tmp_path / "sys" / "block" / "zram0").mkdir(parents=True)
    return tmp_path


def test_responsiveness_deltas_over_an_injected_root(tmp_path: Path) -> None:
    root = _proc_root(tmp_path)
    clock = FakeClock()
    sampler = ResponsivenessSampler(Linux(root=root), clock=clock, warmup_s=0)
    sampler.collect()
    clock.t += 60
    text = (root / "proc" / "diskstats").read_text().replace(" 17364 ", " 23364 ")
    (root / "proc" / "diskstats").write_text(text)
    result = sampler.collect()
    got = values(result)
    assert got[("resp.disk_busy_pct", "vda")] == 10.0  # 6 s of I/O in 60 s
    assert ("resp.disk_busy_pct", "zram0") not in got
    assert got[("resp.psi_some_avg10_pct", "cpu")] == 13.61
    assert got[("resp.psi_some_stall_s", "cpu")] == 0
    # CPU times are the real ones: between two quick reads they may not advance at all.
    busy = got.get(("resp.cpu_busy_pct", ""))
    assert (busy is not None and 0 <= float(busy) <= 100) or "cpu" in reasons(result)
    assert "throttle" in reasons(result)


def test_responsiveness_clock_that_does_not_advance(tmp_path: Path) -> None:
    clock = FakeClock()
    sampler = ResponsivenessSampler(Linux(root=_proc_root(tmp_path)), clock=clock, warmup_s=0)
    result = sampler.collect()  # warm-up snapshot at the same instant
    assert "interval" in reasons(result)
    assert not any(m.startswith("resp.cpu") for m, _ in values(result))
    clock.t += 10 * 3600  # a long suspend: not summarised, never negative
    assert "interval" in reasons(sampler.collect())


def test_percentile_is_a_seen_value() -> None:
    assert percentile([float(x) for x in range(1, 101)], 95) == 95.0
    assert percentile([7.0], 95) == 7.0


def test_boot_source_linux_and_missing_tool() -> None:
    text = (F / "systemd_analyze" / "arch_vm_2022.txt").read_text()
    ok = BootSource(Linux(runner=replay({"systemd-analyze time": Output(text)}))).collect()
    assert values(ok)[("boot.duration_s", "")] == 67.4
    assert "boot.login_to_usable_s" in reasons(ok)
    missing = BootSource(Linux(runner=replay({}))).collect()
    assert missing.readings == []
    assert "systemd-analyze not installed" in missing.unavailable[0].reason


def test_boot_source_windows_event() -> None:
    xml = (F / "winevent" / "boot_100.xml").read_text()
    result = BootSource(Windows(runner=replay({"wevtutil qe": Output(xml)}))).collect()
    assert values(result)[("boot.login_to_usable_s", "")] == 13.7


def test_reliability_windows_counts_and_names_only_when_allowed() -> None:
    system = (F / "winevent" / "system_reliability.xml").read_text()
    apps = (F / "winevent" / "application_crashes.xml").read_text()

    def logs(argv: list[str]) -> Output:
        return Output(system if argv[2] == "System" else apps)

    now = 1795521600.0  # 2026-11-24 12:00 UTC, just after the fixture's newest events
    off = ReliabilitySource(Windows(runner=logs), clock=lambda: now)
    got = values(off.collect())
    assert got[("rel.unexpected_shutdowns_30d", "")] == 2
    assert got[("rel.os_crashes_30d", "")] == 1
    assert got[("rel.unexpected_shutdowns_24h", "")] == 1
    assert (got[("rel.app_crashes_24h", "")], got[("rel.app_hangs_24h", "")]) == (1, 1)
    assert not any(m == "rel.app_crashes_by_exe_24h" for m, _ in got)
    on = ReliabilitySource(Windows(runner=logs), report_crash_names=True, clock=lambda: now)
    names = {c for m, c in values(on.collect()) if m == "rel.app_crashes_by_exe_24h"}
    assert names == {"OUTLOOK.EXE"}  # Teams crashed two days earlier; base name, no path


def test_reliability_linux_unclean_boot_and_unreadable_journal(tmp_path: Path) -> None:
    boots = (F / "journal" / "list_boots_systemd_testsuite04.json").read_text()
    clean = (F / "journal" / "prev_boot_tail_clean.json").read_text()
    unclean = (F / "journal" / "prev_boot_tail_unclean.json").read_text()

    def runner(argv: list[str]) -> Output:
        if argv[:2] == ["journalctl", "--list-boots"]:
            return Output(boots)
        if argv[:2] == ["journalctl", "-b"]:
            return Output(unclean if argv[2].startswith("bea6") else clean)
        if argv[0] == "coredumpctl":
            return Output((F / "coredump" / "coredumpctl_list.json").read_text())
        return Output(reason="no")

    now = 1666584438.0 + 3600
    linux = Linux(root=tmp_path, runner=runner)
    got = values(ReliabilitySource(linux, clock=lambda: now).collect())
    assert got[("rel.unexpected_shutdowns_24h", "")] == 1  # boot -1 followed the unclean -2
    broken = ReliabilitySource(Linux(root=tmp_path, runner=replay({})), clock=lambda: now).collect()
    assert "journalctl not installed" in reasons(broken)["shutdowns"]
    assert "os-crashes" in reasons(broken)


def test_use_active_time_and_unknown_idle() -> None:
    seat = "IdleHint=no\nIdleSinceHintMonotonic=0\n"
    clock = FakeClock()
    sampler = UseSampler(Linux(runner=replay({"loginctl show-seat": Output(seat)})), clock)
    first = sampler.collect()
    assert values(first)[("use.input_idle_s", "")] == 0
    assert "interval" in reasons(first)
    clock.t += 60
    assert values(sampler.collect())[("use.active_s", "")] == 60
    clock.t -= 30  # a clock that went backwards: no negative active time
    assert ("use.active_s", "") not in values(sampler.collect())
    none = UseSampler(Linux(runner=replay({})), clock).collect()
    assert "idle" in reasons(none)


def test_use_does_not_rerun_a_failing_idle_tool_every_cycle() -> None:
    calls: list[str] = []

    def runner(argv: list[str]) -> Output:
        calls.append(argv[0])
        return Output(reason=f"{argv[0]} not installed")

    clock = FakeClock()
    sampler = UseSampler(Linux(runner=runner), clock)
    sampler.collect()
    first = len(calls)  # loginctl, and xprintidle where DISPLAY is set
    assert calls[0] == "loginctl"
    for _ in range(4):
        clock.t += 60
        assert "idle" in reasons(sampler.collect())
    assert len(calls) == first
    clock.t += 600
    sampler.collect()
    assert len(calls) == 2 * first
