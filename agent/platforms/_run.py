"""The one way the agent runs an OS command: no shell, a timeout, text or a small error.

A hung command (a USB bridge that never answers smartctl, a stuck WMI provider)
must cost one source one cycle, never the agent loop.
"""

from __future__ import annotations

import shutil
import subprocess

DEFAULT_TIMEOUT_S = 20.0


class CommandError(Exception):
    """The command could not give output; ``reason`` is the short unavailable reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _execute(argv: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run with a timeout and no stdin; the OS's refusals become CommandError."""
    exe = shutil.which(argv[0])
    if exe is None:
        raise CommandError(f"{argv[0]} not installed")
    try:
        return subprocess.run(
            [exe, *argv[1:]],
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise CommandError(f"timeout after {timeout:g}s ({argv[0]})") from exc
    except PermissionError as exc:
        raise CommandError(f"permission denied ({argv[0]})") from exc
    except OSError as exc:
        raise CommandError(f"cannot run {argv[0]}: {exc.strerror}") from exc


def run(
    argv: list[str],
    timeout: float = DEFAULT_TIMEOUT_S,
    ok_codes: tuple[int, ...] = (0,),
    binary: bool = False,
) -> str:
    """Run ``argv`` and return its stdout as text.

    ``ok_codes`` lists exit codes whose output is still data (smartctl sets bits
    in its exit code for drive problems, which is exactly what we want to read).
    Raises CommandError for not installed, permission, timeout or a failing exit.
    """
    proc = _execute(argv, timeout)
    out = proc.stdout.decode("utf-8", errors="replace")
    if proc.returncode not in ok_codes and not (ok_codes == () and out):
        err = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        detail = err[-1][:120] if err else f"exit {proc.returncode}"
        low = (detail + out).lower()
        if any(h in low for h in ("permission denied", "access is denied", "not permitted")):
            raise CommandError(f"permission denied ({argv[0]})")
        raise CommandError(f"{argv[0]} failed: {detail}")
    return out


def run_bytes(argv: list[str], timeout: float = DEFAULT_TIMEOUT_S) -> bytes:
    """Like :func:`run` for binary-safe output (plists); exit code must be 0."""
    proc = _execute(argv, timeout)
    if proc.returncode != 0:
        raise CommandError(f"{argv[0]} failed: exit {proc.returncode}")
    return proc.stdout
