"""The agent's state folder: who may read it, and the per-user fallback.

Which folder an OS uses is the platform's (:meth:`Platform.default_state_dir`,
:meth:`Platform.config_path`); an override comes from the configuration
(``KITLIFE_AGENT_STATE_DIR``, ``--state-dir``), resolved in
:func:`kitlife.agent.config.load_config`.
"""

from __future__ import annotations

import os
from pathlib import Path


def is_admin() -> bool:
    """Running as root (the system service); always False on Windows, which has no euid."""
    geteuid = getattr(os, "geteuid", None)  # absent on Windows
    return geteuid is not None and geteuid() == 0


def user_state_dir() -> Path:
    """The per-user folder, for an agent run by hand rather than as the service."""
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
