"""Notification command builders: right tool per OS, text escaped for each."""

from __future__ import annotations

from kitlife.agent.commands import Output
from kitlife.agent.notify import BODY, TITLE, notify
from kitlife.agent.platforms.linux import Linux
from kitlife.agent.platforms.macos import MacOS
from kitlife.agent.platforms.windows import Windows


def test_linux_plain_arguments() -> None:
    argv = Linux().notification_command("T", 'a "b"')
    assert argv == ["notify-send", "--app-name=kitlife", "T", 'a "b"']


def test_macos_quotes_escaped() -> None:
    argv = MacOS().notification_command('say "hi"', "back\\slash")
    assert argv[:2] == ["osascript", "-e"]
    assert argv[2] == 'display notification "back\\\\slash" with title "say \\"hi\\""'


def test_windows_toast_escapes_xml_and_quotes() -> None:
    argv = Windows().notification_command("It's <fine>", "a & b")
    script = argv[-1]
    assert argv[0] == "powershell" and "-NonInteractive" in argv
    assert "It&apos;s &lt;fine&gt;" in script  # XML-escaped: no bare quote reaches PowerShell
    assert "a &amp; b" in script


def test_notify_runs_the_platforms_command_and_reports_failure() -> None:
    ran: list[list[str]] = []

    def runner(argv: list[str]) -> Output:
        ran.append(argv)
        return Output(reason="notify-send not installed")

    assert notify(Linux(), runner) is False
    assert ran == [["notify-send", "--app-name=kitlife", TITLE, BODY]]
