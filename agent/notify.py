"""A desktop notification asking for a rating: notify-send, osascript, or a PowerShell toast.

The command builders are pure (tested without a desktop); :func:`notify` runs
the one for this OS and reports whether it worked. The text is fixed by the
agent, but it is still escaped for each target so that no quote can break out.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from kitlife.agent.commands import Output, run

TITLE = "How is your laptop?"
BODY = (
    "Rate it from 1 to 5: run `kitlife-agent feedback SCORE --reason slow|battery|crashes|"
    "heat-noise|screen-keyboard|storage|other`."
)


def linux_command(title: str, body: str) -> list[str]:
    # notify-send takes the text as plain arguments: no shell, nothing to escape.
    return ["notify-send", "--app-name=kitlife", title, body]


def _applescript_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def macos_command(title: str, body: str) -> list[str]:
    script = (
        f"display notification {_applescript_string(body)} with title {_applescript_string(title)}"
    )
    return ["osascript", "-e", script]


def _xml(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def windows_command(title: str, body: str) -> list[str]:
    """A toast via the WinRT ToastNotificationManager, as one PowerShell -Command."""
    toast = (
        "<toast><visual><binding template='ToastGeneric'>"
        f"<text>{_xml(title)}</text><text>{_xml(body)}</text>"
        "</binding></visual></toast>"
    )
    ps_literal = "'" + toast.replace("'", "''") + "'"
    script = (
        "[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, "
        "ContentType=WindowsRuntime] > $null; "
        "[Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, "
        "ContentType=WindowsRuntime] > $null; "
        "$x = New-Object Windows.Data.Xml.Dom.XmlDocument; "
        f"$x.LoadXml({ps_literal}); "
        "$t = [Windows.UI.Notifications.ToastNotification]::new($x); "
        "[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier('kitlife').Show($t)"
    )
    return ["powershell", "-NoProfile", "-NonInteractive", "-Command", script]


def command_for(platform: str, title: str = TITLE, body: str = BODY) -> list[str] | None:
    if platform.startswith("linux"):
        return linux_command(title, body)
    if platform == "darwin":
        return macos_command(title, body)
    if platform == "win32":
        return windows_command(title, body)
    return None


def notify(platform: str = sys.platform, runner: Callable[[list[str]], Output] = run) -> bool:
    """Show the rating prompt; False when there is no way to (no desktop, tool missing)."""
    argv = command_for(platform)
    return argv is not None and runner(argv).ok
