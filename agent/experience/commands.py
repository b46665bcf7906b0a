"""Run an OS tool with a timeout; every way it can fail becomes a short reason.

Sources call :func:`run` and get either the tool's stdout or a reason string
(``journalctl not installed``, ``timeout``, ``permission denied``, ``exit 1: ...``),
so a missing journal or an unreadable event log is an unavailable reading, never
an exception out of the cycle.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

# A tool's error line may name a file (a journal under /var/log, a user's home):
# reasons are uploaded, so any path in them is replaced before they leave.
_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:\\|\\\\|~/|/)[^\s:'\"]*")


def scrub(text: str) -> str:
    """``text`` with every path-like token replaced by ``<path>``."""
    return _PATH.sub("<path>", text)


@dataclass(frozen=True, slots=True)
class Output:
    """What the tool printed (stdout), or why there is nothing (reason)."""

    text: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


def run(argv: list[str], timeout_s: float = 10.0) -> Output:
    """Run ``argv`` without a shell, in the C locale, and never raise."""
    import shutil  # not at import time: the resident loop never runs commands

    if shutil.which(argv[0]) is None:
        return Output(reason=f"{argv[0]} not installed")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "SYSTEMD_COLORS": "0", "SYSTEMD_PAGER": ""}
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            timeout=timeout_s,
            check=False,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Output(reason=f"{argv[0]} timed out after {timeout_s:g} s")
    except PermissionError:
        return Output(reason=f"{argv[0]}: permission denied")
    except OSError as err:
        return Output(reason=f"{argv[0]}: {err.strerror or err}")
    text = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0:
        first = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        detail = scrub(first[0])[:160] if first else "no message"
        # Some tools print a usable answer and still exit non-zero (e.g. "No coredumps found.").
        return Output(text=text, reason=f"{argv[0]} exit {done.returncode}: {detail}")
    return Output(text=text)
