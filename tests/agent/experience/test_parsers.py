"""Parsers on real captured output (see tests/fixtures/PROVENANCE.md) and on junk."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kitlife.agent.experience import parsers as p

F = Path(__file__).resolve().parents[2] / "fixtures"


def fixture(name: str) -> str:
    return (F / name).read_text(encoding="utf-8")


def test_systemd_analyze_real_output_with_minutes_and_target() -> None:
    times = p.parse_systemd_analyze(fixture("systemd_analyze/arch_vm_2022.txt"))
    assert times is not None
    assert times.duration_s == pytest.approx(67.439)
    assert times.os_ready_s == pytest.approx(1.491 + 65.569)
    assert times.login_to_usable_s is None


def test_systemd_analyze_real_output_without_target_line() -> None:
    times = p.parse_systemd_analyze(fixture("systemd_analyze/mandriva_2015.txt"))
    assert times is not None and times.duration_s == pytest.approx(26.748)
    assert times.os_ready_s is None


def test_systemd_analyze_firmware_and_not_finished() -> None:
    line = (
        "Startup finished in 4.160s (firmware) + 2.796s (loader) + 5.831s (kernel) "
        "+ 18.885s (userspace) = 31.673s\n"
    )
    assert p.parse_systemd_analyze(line).duration_s == pytest.approx(31.673)  # type: ignore[union-attr]
    assert p.parse_systemd_analyze("Bootup is not yet finished. Please try again later.") is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1min 5.947s", 65.947), ("850ms", 0.85), ("1h 2min 3s", 3723.0), ("120us", 0.00012)],
)
def test_systemd_durations(text: str, seconds: float) -> None:
    assert p.parse_systemd_duration(text) == pytest.approx(seconds)


def test_windows_boot_event_100() -> None:
    times = p.windows_boot_times(p.parse_win_events(fixture("winevent/boot_100.xml")))
    assert times == p.BootTimes(165.331, 151.68, 13.651)


def test_windows_reliability_merges_41_and_6008_and_counts_apps() -> None:
    events = p.parse_win_events(
        fixture("winevent/system_reliability.xml") + fixture("winevent/application_crashes.xml")
    )
    assert len(events) == 7
    r = p.windows_reliability(events, 0, 2e9)
    # 41 + 6008 on 24 Nov are one shutdown; the 20 Nov bugcheck's 41 is another.
    assert (r.unexpected_shutdowns, r.os_crashes, r.app_crashes, r.app_hangs) == (2, 1, 2, 1)
    assert r.crash_exes == {"OUTLOOK.EXE": 1, "Teams.exe": 1}  # base names: no user folder
    day = p.parse_iso_utc("2026-11-24T00:00:00Z")
    assert day is not None
    recent = p.windows_reliability(events, day, day + 86400)
    assert (recent.unexpected_shutdowns, recent.os_crashes, recent.app_crashes) == (1, 0, 1)


def test_bugcheck_in_kernel_power_41_alone_counts_as_an_os_crash() -> None:
    only_41 = [
        e
        for e in p.parse_win_events(fixture("winevent/system_reliability.xml"))
        if e.event_id == 41
    ]
    r = p.windows_reliability(only_41, 0, 2e9)
    assert (r.unexpected_shutdowns, r.os_crashes) == (2, 1)  # BugcheckCode 159 on 20 Nov


def test_list_boots_real_systemd_output() -> None:
    boots = p.parse_list_boots(fixture("journal/list_boots_systemd_testsuite04.json"))
    assert [b.index for b in boots] == [-3, -2, -1, 0]
    assert boots[0].boot_id == "5ea5fc4f82a14186b5332a788ef9435e"
    assert boots[-1].last_s == pytest.approx(1666584438.086856)


def test_boot_end_clean_or_not() -> None:
    assert p.boot_ended_cleanly(fixture("journal/prev_boot_tail_clean.json")) is True
    assert p.boot_ended_cleanly(fixture("journal/prev_boot_tail_unclean.json")) is False
    assert p.boot_ended_cleanly("") is None
    # A German journal: the words differ, the catalog id does not.
    german = '{"MESSAGE_ID":"d93fb3c9c24d451a97cea615ce59c00b","MESSAGE":"Journal angehalten"}'
    assert p.boot_ended_cleanly(german) is True


def test_coredumpctl_base_names_only() -> None:
    crashes = p.parse_coredumpctl(fixture("coredump/coredumpctl_list.json"))
    assert [c.exe for c in crashes] == ["bash", "firefox", "firefox"]
    assert p.parse_coredumpctl("No coredumps found.\n") == []


def test_psi_real_capture() -> None:
    cpu = p.parse_psi(fixture("psi/cpu"))
    assert set(cpu) == {"some", "full"} and cpu["some"].total_us == 88530724
    io = p.parse_psi(fixture("psi/io"))
    assert io["full"].avg60 == pytest.approx(0.08)


def test_idle_parsers() -> None:
    seat = fixture("logind/show_seat.txt")
    assert p.logind_idle_s(seat, 4811.977373 + 30) == pytest.approx(30.0)
    assert p.logind_idle_s(seat, 1.0) == 0.0  # clamped, never negative
    assert p.logind_idle_s("IdleHint=no\n", 5.0) == 0.0
    assert p.parse_ioreg_idle(fixture("macos/ioreg_iohidsystem.txt")) == pytest.approx(4.5)


def test_quser_real_output_keeps_only_the_idle_time() -> None:
    text = fixture("windows/query_user_skowronski_2019.txt")
    assert p.parse_quser_idle(text) == 16 * 60  # the Active console session
    assert (
        p.parse_quser_idle(" x  console  1  Active  1+06:20  2021-05-13 0:15") == 30 * 3600 + 1200
    )
    assert p.parse_quser_idle(">a  console  1  Active  none  4/7/2025 6:34 AM") == 0
    assert p.parse_quser_idle("No User exists for *") is None


def test_macos_boot_and_shutdown_cause() -> None:
    boot = p.parse_kern_boottime(fixture("macos/kern_boottime.txt"))
    assert boot == pytest.approx(1764057600.237429)
    log = fixture("macos/log_show_boot.txt")
    assert p.macos_shutdown_causes(log) == [(pytest.approx(1764057611.529644), -128)]
    times = p.macos_boot_times(boot, log)
    assert times is not None and times.duration_s == pytest.approx(40.86, abs=0.01)
    assert p.macos_boot_times(boot + 10_000, log) is None  # clock stepped: no negative time


def test_diskstats_real_capture() -> None:
    stats = p.parse_diskstats(fixture("diskstats/vm_diskstats.txt"))
    assert stats["vda"] == 17364


PARSERS_OF_TEXT = [
    p.parse_systemd_analyze,
    p.parse_win_events,
    p.parse_list_boots,
    p.boot_ended_cleanly,
    p.parse_coredumpctl,
    p.parse_psi,
    p.parse_ioreg_idle,
    p.parse_kern_boottime,
    p.macos_shutdown_causes,
    p.parse_diskstats,
    p.parse_systemd_duration,
    p.parse_quser_idle,
]


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet="<>/=\"'{}[],:0123456789 EventDatasomefullavg.\n\x1e-"),
        st.binary().map(lambda b: b.decode("latin-1")),
    )
)
def test_parsers_never_raise_on_junk(text: str) -> None:
    for parse in PARSERS_OF_TEXT:
        parse(text)  # type: ignore[operator]
    assert (p.logind_idle_s(text, 100.0) or 0.0) >= 0.0
    times = p.macos_boot_times(0.0, text)
    assert times is None or (times.duration_s or 0.0) >= 0.0


def test_event_xml_with_entities_is_refused() -> None:
    bomb = '<Event><!DOCTYPE x [<!ENTITY a "aaaa">]><System><EventID>41</EventID></System></Event>'
    assert p.parse_win_events(bomb) == []
