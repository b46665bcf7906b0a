"""Notification command builders: right tool per OS, text escaped for each."""

from __future__ import annotations

from kitlife.agent.notify import command_for, linux_command, macos_command, windows_command


def test_linux_plain_arguments() -> None:
    assert linux_command("T", 'a "b"') == ["notify-send", "--app-name=kitlife", "T", 'a "b"']


def test_macos_quotes_escaped() -> None:
    argv = macos_command('say "hi"', "back\\slash")
    assert argv[:2] == ["osascript", "-e"]
    assert argv[2] == 'display notification "back\\\\slash" with title "say \\"hi\\""'


def test_windows_toast_escapes_xml_and_quotes() -> None:
    argv = windows_command("It's <fine>", "a & b")
    script = argv[-1]
    assert argv[0] == "powershell" and "-NonInteractive" in argv
    assert "It&apos;s &lt;fine&gt;" in script  # XML-escaped: no bare quote reaches PowerShell
    assert "a &amp; b" in script


def test_unknown_platform_has_no_command() -> None:
    assert command_for("sunos5") is None
    assert command_for("linux")[0] == "notify-send"  # type: ignore[index]
