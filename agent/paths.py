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


def make_private_dir(path: Path) -> Path:
    """Create the agent's state folder (and missing parents) and make it owner-only: 0700.

    ``mkdir(mode=...)`` is masked by the umask, so the mode is set afterwards too,
    which also tightens a folder an older agent created 0755. Parents are left as
    they are (``/var/lib`` is not ours). Windows ignores POSIX modes; the
    ProgramData folder's ACLs and the installer set access there.
    """
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def create_private_file(path: Path) -> None:
    """Make sure ``path`` exists with mode 0600 whatever the umask (a new file is empty).

    SQLite gives its -wal and -shm files the main file's mode, so creating the
    spool this way before SQLite opens it keeps all three owner-only.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


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
