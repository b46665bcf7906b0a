"""The one way the agent runs an OS tool: no shell, a timeout, the C locale, never a hang.

A hung command (a USB bridge that never answers smartctl, a stuck WMI
provider, a slow journal) must cost one source one cycle, never the agent
loop. Two shapes of the same runner, because the two kinds of caller want
different things:

* :func:`run` never raises: it returns the tool's stdout or a short reason
  (``journalctl not installed``, ``... timed out after 10 s``,
  ``... exit 1: <first error line>``) that becomes an unavailable reading.
  The experience sources and the notifier use it.
* :func:`output` / :func:`output_bytes` return stdout or raise
  :class:`CommandError` with the reason; the hardware platforms use it, and
  ``ok_codes`` lets smartctl's data-carrying exit bits through.

Every reason may be uploaded, so any path in a tool's error line is replaced
by ``<path>`` first (:func:`scrub`).

A missing tool is found by the OS refusing to start it (``FileNotFoundError``),
not by ``shutil.which``: importing :mod:`shutil` pulls bz2, lzma and their
libraries into the resident loop (about 0.3 MB) for a PATH lookup the
``exec`` does anyway.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

DEFAULT_TIMEOUT_S = 20.0

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


class CommandError(Exception):
    """The command could not give output; ``reason`` is the short unavailable reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Refused:
    """The tool did not run to the end: ``kind`` is missing, timeout, permission or oserror."""

    kind: str
    detail: str = ""


def _execute(argv: list[str], timeout_s: float) -> subprocess.CompletedProcess[bytes] | _Refused:
    """Run ``argv`` once (no shell, no stdin, C locale); the OS's refusals are returned."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "SYSTEMD_COLORS": "0", "SYSTEMD_PAGER": ""}
    try:
        return subprocess.run(
            argv,
            capture_output=True,
            timeout=timeout_s,
            check=False,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return _Refused("timeout")
    except FileNotFoundError:
        return _Refused("missing")
    except PermissionError:
        return _Refused("permission")
    except OSError as err:
        return _Refused("oserror", str(err.strerror or err))


def run(argv: list[str], timeout_s: float = 10.0) -> Output:
    """Run ``argv`` and never raise: stdout, or a reason without paths."""
    done = _execute(argv, timeout_s)
    if isinstance(done, _Refused):
        reason = {
            "missing": f"{argv[0]} not installed",
            "timeout": f"{argv[0]} timed out after {timeout_s:g} s",
            "permission": f"{argv[0]}: permission denied",
        }.get(done.kind, f"{argv[0]}: {scrub(done.detail)}")
        return Output(reason=reason)
    text = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0:
        first = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        detail = scrub(first[0])[:160] if first else "no message"
        # Some tools print a usable answer and still exit non-zero (e.g. "No coredumps found.").
        return Output(text=text, reason=f"{argv[0]} exit {done.returncode}: {detail}")
    return Output(text=text)


def _checked(argv: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    done = _execute(argv, timeout)
    if isinstance(done, _Refused):
        raise CommandError(
            {
                "missing": f"{argv[0]} not installed",
                "timeout": f"timeout after {timeout:g}s ({argv[0]})",
                "permission": f"permission denied ({argv[0]})",
            }.get(done.kind, f"cannot run {argv[0]}: {scrub(done.detail)}")
        )
    return done


def output(
    argv: list[str], timeout: float = DEFAULT_TIMEOUT_S, ok_codes: tuple[int, ...] = (0,)
) -> str:
    """Run ``argv`` and return its stdout as text, or raise :class:`CommandError`.

    ``ok_codes`` lists exit codes whose output is still data (smartctl sets bits
    in its exit code for drive problems, which is exactly what we want to read);
    ``()`` accepts any exit code as long as there is output.
    """
    proc = _checked(argv, timeout)
    out = proc.stdout.decode("utf-8", errors="replace")
    if proc.returncode not in ok_codes and not (ok_codes == () and out):
        err = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        detail = scrub(err[-1])[:120] if err else f"exit {proc.returncode}"
        low = (detail + out).lower()
        if any(h in low for h in ("permission denied", "access is denied", "not permitted")):
            raise CommandError(f"permission denied ({argv[0]})")
        raise CommandError(f"{argv[0]} failed: {detail}")
    return out


def output_bytes(argv: list[str], timeout: float = DEFAULT_TIMEOUT_S) -> bytes:
    """Like :func:`output` for binary-safe output (plists); the exit code must be 0."""
    proc = _checked(argv, timeout)
    if proc.returncode != 0:
        raise CommandError(f"{argv[0]} failed: exit {proc.returncode}")
    return proc.stdout
