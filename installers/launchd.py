"""launchd property lists: the LaunchDaemon for the agent, a LaunchAgent for the helper."""

from __future__ import annotations

import plistlib
from typing import Any

from kitlife.installers.service import MACOS, Layout, Service


def plist_dict(service: Service, layout: Layout = MACOS) -> dict[str, Any]:
    """The plist's content: a daemon (system domain) or an agent (every user's session)."""
    entry: dict[str, Any] = {
        "Label": service.label,
        "ProgramArguments": service.argv(layout),
        "RunAtLoad": True,
        # Restarted when it exits for any reason, at most every restart_delay_s.
        "KeepAlive": True,
        "ThrottleInterval": service.restart_delay_s,
        "ExitTimeOut": service.stop_timeout_s,
        "ProcessType": "Background",
        "LowPriorityIO": True,
    }
    if not service.per_user:
        entry["UserName"] = layout.service_user
        entry["StandardErrorPath"] = str(layout.state_dir / "agent.stderr.log")
        entry["WorkingDirectory"] = str(layout.state_dir)
    else:
        # Only in a graphical session: there is nobody to ask at a login window or over ssh.
        entry["LimitLoadToSessionType"] = "Aqua"
    return entry


def plist_bytes(service: Service, layout: Layout = MACOS) -> bytes:
    return plistlib.dumps(plist_dict(service, layout), fmt=plistlib.FMT_XML, sort_keys=True)


def plist_path(service: Service) -> str:
    """Where the plist goes: /Library/LaunchDaemons or /Library/LaunchAgents."""
    folder = "LaunchAgents" if service.per_user else "LaunchDaemons"
    return f"/Library/{folder}/{service.label}.plist"
