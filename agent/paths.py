"""Where the agent keeps its state and looks for its configuration, per OS."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _is_admin() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def default_state_dir() -> Path:
    """KITLIFE_STATE_DIR, else the service's system folder, else the user's."""
    override = os.environ.get("KITLIFE_STATE_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "kitlife"
    if sys.platform == "darwin" and _is_admin():
        return Path("/Library/Application Support/kitlife")
    if _is_admin():
        return Path("/var/lib/kitlife")
    import platformdirs  # only for a per-user run; ~1 MB the system service never needs

    return Path(platformdirs.user_state_dir("kitlife", appauthor=False))


def system_config_path() -> Path:
    """The TOML file the installers write; KITLIFE_CONFIG overrides it."""
    override = os.environ.get("KITLIFE_CONFIG")
    if override:
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "kitlife" / "agent.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/kitlife/agent.toml")
    return Path("/etc/kitlife/agent.toml")
